//! The `provision` binary: parse arguments, run the command, report the error
//! once (with its causes) and exit with a code that means something.

use std::process::ExitCode;

use clap::Parser;
use provision::cli::Cli;
use provision::context::Context;
use provision::error::exit_code_of;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let context = Context::new(cli.global);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(provision::commands::run(&context, cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = provision::connection::redact(&format!("{error:#}"));
            eprintln!("{} {message}", console::style("error:").for_stderr().red().bold());
            ExitCode::from(exit_code_of(&error) as u8)
        }
    }
}

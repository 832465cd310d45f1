//! The `provision` binary: parse arguments, run the command, report the error
//! once (with its causes) and exit with a code that means something.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use provision::cli::args::Cli;
use provision::cli::context::Context;
use provision::error::{exit_code_of, lost_connection};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut context = Context::new(cli.global);
    context.may_create_sandbox = provision::cli::may_create_sandbox(&cli.command);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    // A reader that went away (`provision status | head -1`) is not an error:
    // the rest of the output is dropped and the command's own result counts.
    let result = runtime
        .block_on(provision::cli::run(&context, cli.command))
        .and_then(|()| provision::cli::printer::stdout_result());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = provision::pg::connection::redact(&format!("{error:#}"));
            if let Some(hint) = lost_connection(&error, context.server().as_deref()) {
                message = format!("{message}; {hint}");
            }
            let label = console::style("error:").for_stderr().red().bold();
            // stderr may be closed too; there is nobody left to tell.
            let _ = writeln!(std::io::stderr(), "{label} {message}");
            ExitCode::from(exit_code_of(&error) as u8)
        }
    }
}

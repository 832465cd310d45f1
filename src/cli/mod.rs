//! The command line: the clap tree (`args`), what every command gets
//! (`context`), the one printer that decides what reaches the terminal, and
//! one file per command. This is the only layer that may print or use clap,
//! console and indicatif; it turns the typed reports of `ops` into text.
//! This module only dispatches.

pub mod args;
pub(crate) mod blueprint;
mod completions;
pub mod context;
mod db;
mod fanout;
mod health;
pub mod json;
mod keys;
mod man;
mod migrate;
pub mod options;
mod partitions;
pub mod printer;
mod reporters;
mod reset;
mod retention;
mod routing;
mod sandbox;
mod seed;
pub(crate) mod servers;
mod status;
mod tenant;
mod up;
pub(crate) mod verify;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::cli::args::{
    BlueprintCommand, Command, DbCommand, KeysCommand, PartitionsCommand, RetentionCommand, RoutingCommand,
    SandboxCommand, TenantCommand,
};
use crate::cli::context::Context;
use crate::error::{exit_code_of, lost_connection};

/// The only commands that may initialise the embedded sandbox in
/// `./.provision`; the others use it only when it already exists.
pub fn may_create_sandbox(command: &Command) -> bool {
    matches!(command, Command::Up(_) | Command::Db(DbCommand::Create(_)) | Command::Sandbox(SandboxCommand::Start))
}

/// The commands whose result lines are the data they exist to print:
/// `--quiet` keeps those lines (it hides only progress and chatter).
pub fn prints_data(command: &Command) -> bool {
    matches!(
        command,
        Command::Status(_)
            | Command::Tenant(TenantCommand::List)
            | Command::Partitions(PartitionsCommand::List(_))
            | Command::Blueprint(BlueprintCommand::List | BlueprintCommand::Show(_))
            | Command::Db(DbCommand::List)
            | Command::Sandbox(SandboxCommand::Status)
    )
}

pub async fn run(ctx: &Context, command: Command) -> Result<()> {
    let Some(command) = fanout::run(ctx, command).await? else { return Ok(()) };
    match command {
        Command::Up(args) => up::run(ctx, &args).await,
        Command::Migrate(args) => migrate::run(ctx, args.enabled).await,
        Command::Status(args) => status::run(ctx, &args).await,
        Command::Seed(args) => seed::run(ctx, &args).await,
        Command::Verify(args) => verify::run(ctx, &args).await,
        Command::Health(args) => health::run(ctx, &args).await,
        Command::Retention(RetentionCommand::Run(args)) => retention::run(ctx, &args).await,
        Command::Partitions(PartitionsCommand::Rollover(args)) => partitions::rollover::run(ctx, &args).await,
        Command::Partitions(PartitionsCommand::List(args)) => partitions::list::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Add(args)) => tenant::add::run(ctx, &args).await,
        Command::Tenant(TenantCommand::List) => tenant::list::run(ctx).await,
        Command::Tenant(TenantCommand::Upgrade(args)) => tenant::upgrade::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Repair(args)) => tenant::repair::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Backup(args)) => tenant::backup::run(ctx, &args).await,
        Command::Db(DbCommand::Create(args)) => db::create(ctx, &args).await,
        Command::Db(DbCommand::Drop(args)) => db::drop(ctx, &args).await,
        Command::Db(DbCommand::List) => db::list(ctx).await,
        Command::Db(DbCommand::Refill(args)) => db::refill(ctx, &args).await,
        Command::Reset(args) => reset::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Grant(args)) => tenant::grant::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Render(args)) => tenant::render::run(ctx, &args),
        Command::Tenant(TenantCommand::Remove(args)) => tenant::remove::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Activate(args)) => tenant::activate::run(ctx, &args).await,
        Command::Tenant(TenantCommand::Move(args)) => tenant::move_tenant::run(ctx, &args).await,
        Command::Sandbox(command) => sandbox::run(ctx, command).await,
        Command::Blueprint(BlueprintCommand::List) => blueprint::list::run(ctx),
        Command::Blueprint(BlueprintCommand::Show(args)) => blueprint::show::run(ctx, &args),
        Command::Blueprint(BlueprintCommand::Init(args)) => blueprint::init::run(ctx, &args),
        Command::Keys(KeysCommand::Rotate(args)) => keys::rotate::run(ctx, &args).await,
        Command::Routing(RoutingCommand::Pgbouncer(args)) => routing::pgbouncer(ctx, &args).await,
        Command::Completions(args) => completions::run(ctx, &args),
        Command::Man(args) => man::run(ctx, &args),
    }
}

/// The whole program: parse arguments, run the command, report the error
/// once (with its causes) and exit with a code that means something.
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => usage_error(error),
    };
    let mut context = Context::new(cli.global);
    context.may_create_sandbox = may_create_sandbox(&cli.command);
    context.printer = context.printer.with_data_lines(prints_data(&cli.command));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    // A reader that went away (`provision status | head -1`) is not an error:
    // the rest of the output is dropped and the command's own result counts.
    let result = runtime.block_on(run(&context, cli.command)).and_then(|()| printer::stdout_result());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = crate::pg::connection::redact(&format!("{error:#}"));
            if let Some(hint) = lost_connection(&error, context.server().as_deref()) {
                message = format!("{message}; {hint}");
            }
            let code = exit_code_of(&error);
            context.printer.json_error(&message, code);
            context.printer.error_line(&message);
            ExitCode::from(code as u8)
        }
    }
}

/// A command line clap refuses (exit 2) or help and version (exit 0). With
/// `--json` anywhere before `--`, a refusal is also the JSON error document
/// on stdout, like every other error; clap's own text stays on stderr.
fn usage_error(error: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let shown = matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    let json = std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json");
    if json && !shown {
        let rendered = error.render().to_string();
        let first = rendered.lines().next().unwrap_or_default();
        let message = match first.strip_prefix("error: ") {
            Some(message) => message.to_owned(),
            None => "a subcommand is required: see `provision --help`".to_owned(),
        };
        let printer = printer::Printer::new(true, printer::Verbosity::Quiet);
        printer.json_error(&crate::pg::connection::redact(&message), crate::error::ExitCode::BadInput);
    }
    if !shown && wants_json_logs() {
        let rendered = error.render().to_string();
        let first = rendered.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        let printer = printer::Printer::new(false, printer::Verbosity::Quiet).with_log_format(printer::LogFormat::Json);
        printer.error_line(&crate::pg::connection::redact(message));
        std::process::exit(error.exit_code());
    }
    error.exit()
}

/// `--log-format json` (or `=json`) before `--`, or `PROVISION_LOG=json`:
/// a command line clap refuses is a JSON log line too.
fn wants_json_logs() -> bool {
    let args: Vec<String> =
        std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).take_while(|a| a != "--").collect();
    let flag = args.windows(2).any(|pair| pair[0] == "--log-format" && pair[1] == "json")
        || args.iter().any(|a| a == "--log-format=json");
    flag || std::env::var("PROVISION_LOG").is_ok_and(|v| v == "json")
}

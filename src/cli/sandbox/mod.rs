//! `provision sandbox start|stop|status|url`: the embedded PostgreSQL. `url`
//! exits 3 when it is not running (there is nothing to connect to).

use anyhow::Result;
use serde_json::json;

use crate::cli::args::SandboxCommand;
use crate::cli::context::Context;
use crate::error::unavailable;
use crate::pg::sandbox::SandboxStatus;

pub async fn run(ctx: &Context, command: SandboxCommand) -> Result<()> {
    let sandbox = ctx.sandbox()?;
    let root = sandbox.root().display().to_string();
    match command {
        SandboxCommand::Start => {
            let started = sandbox.start().await?;
            ctx.printer.json(&json!({ "root": root, "result": started.to_string(), "url": sandbox.url() }));
            ctx.printer.line(format!("embedded PostgreSQL in {root}: {started}"));
            ctx.printer.line(format!("url: {}", sandbox.url()));
        }
        SandboxCommand::Stop => {
            let stopped = sandbox.stop()?;
            ctx.printer.json(&json!({ "root": root, "stopped": stopped }));
            ctx.printer.line(match stopped {
                true => format!("stopped the embedded PostgreSQL in {root}"),
                false => format!("the embedded PostgreSQL in {root} was not running"),
            });
        }
        SandboxCommand::Status => {
            let status = sandbox.status()?;
            let (state, pid) = match status {
                SandboxStatus::NotCreated => ("not created", None),
                SandboxStatus::Stopped => ("stopped", None),
                SandboxStatus::Running { pid, .. } => ("running", Some(pid)),
            };
            ctx.printer.json(&json!({ "root": root, "state": state, "pid": pid, "url": sandbox.url() }));
            ctx.printer.line(match pid {
                Some(pid) => format!("embedded PostgreSQL in {root}: running (pid {pid})"),
                None => format!("embedded PostgreSQL in {root}: {state}"),
            });
        }
        SandboxCommand::Url => {
            // A URL nothing answers on would only fail later, in psql.
            if !matches!(sandbox.status()?, SandboxStatus::Running { .. }) {
                return Err(unavailable(format!(
                    "the embedded sandbox in {root} is not running; start it with `provision sandbox start`"
                )));
            }
            ctx.printer.json(&json!({ "url": sandbox.url() }));
            if !ctx.printer.is_json() {
                ctx.printer.data(format!("{}\n", sandbox.url()));
            }
        }
    }
    Ok(())
}

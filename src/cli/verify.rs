//! `provision verify`: exit 0 when every tenant matches its blueprint and the
//! invariants hold, 1 on any drift. Text, JSON or JUnit output, on stdout or
//! in the `--output` file. A tenant
//! another provision process is changing is skipped (or, with `--wait`, and
//! at the end of `up`, waited for), and stderr says so.

use std::path::Path;

use anyhow::Result;

use crate::cli::args::{VerifyArgs, VerifyFormat};
use crate::cli::context::Context;
use crate::cli::printer::Printer;
use crate::error::{bad_input, failed};
use crate::model::tenant::TenantCode;
use crate::ops::verify::{self, report, Busy, Scope};

pub async fn run(ctx: &Context, args: &VerifyArgs) -> Result<()> {
    let format = format_of(ctx, args)?;
    if let Some(path) = &args.output {
        check_output(path)?;
    }
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let wanted: Vec<TenantCode> = args.tenants.codes.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    let codes = verify::active_codes(&client, &wanted).await?;
    let busy = if args.wait { Busy::Wait(ctx.lock_timeout()) } else { Busy::Skip };
    let outcome = verify::run_codes(&mut client, &target, &config, &codes, Scope::Everything, busy).await?;
    say_who_was_busy(&ctx.printer, &outcome);
    match (&args.output, format) {
        (None, VerifyFormat::Json) => ctx.printer.document(&outcome),
        (None, VerifyFormat::Junit) => ctx.printer.data(report::junit(&outcome)?),
        (None, VerifyFormat::Text) => ctx.printer.data(report::text(&outcome)),
        (Some(path), format) => write_output(path, &render(&outcome, format)?)?,
    }
    match outcome.is_clean() {
        true => Ok(()),
        false => Err(failed(report::summary(&outcome))),
    }
}

/// The format asked for: `--json` means the JSON document on stdout, so
/// another `--format`, or `--output`, contradicts it (exit 2).
fn format_of(ctx: &Context, args: &VerifyArgs) -> Result<VerifyFormat> {
    if !ctx.printer.is_json() {
        return Ok(args.format.unwrap_or(VerifyFormat::Text));
    }
    if let Some(format @ (VerifyFormat::Junit | VerifyFormat::Text)) = args.format {
        let name = if format == VerifyFormat::Junit { "junit" } else { "text" };
        return Err(bad_input(format!(
            "--json prints the JSON document and cannot be combined with --format {name}: drop one of them"
        )));
    }
    if args.output.is_some() {
        return Err(bad_input(
            "--json prints the JSON document on stdout and cannot be combined with --output: use --format json \
             --output FILE, or redirect stdout",
        ));
    }
    Ok(VerifyFormat::Json)
}

fn render(outcome: &verify::Outcome, format: VerifyFormat) -> Result<String> {
    Ok(match format {
        VerifyFormat::Json => format!("{}\n", serde_json::to_string_pretty(outcome)?),
        VerifyFormat::Junit => report::junit(outcome)?,
        VerifyFormat::Text => report::text(outcome),
    })
}

/// Refuses an `--output` that cannot be written before verifying anything:
/// a directory, or a file in a directory that does not exist.
fn check_output(path: &Path) -> Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if path.is_dir() {
        return Err(bad_input(format!("--output {}: is a directory; name a file", path.display())));
    }
    if !parent.is_dir() {
        return Err(bad_input(format!(
            "--output {}: the directory {} does not exist",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

fn write_output(path: &Path, report: &str) -> Result<()> {
    std::fs::write(path, report).map_err(|e| bad_input(format!("cannot write the report to {}: {e}", path.display())))
}

/// One stderr line per tenant another provision process was changing, even
/// with `--quiet` or `--json` (whose outcome lists them too): a tenant left
/// out must never pass for a verified one.
pub(crate) fn say_who_was_busy(printer: &Printer, outcome: &verify::Outcome) {
    for code in &outcome.waited {
        let text = format!("verify: waited for {code} (another provision process was changing it)");
        printer.always("info", Some(code), &text);
    }
    for code in &outcome.skipped {
        let text = format!("verify: skipped {code} (being changed by another provision process)");
        printer.always("warn", Some(code), &text);
    }
}

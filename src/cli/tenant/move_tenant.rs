//! `provision tenant move <code> --to <server>`: moves a schema tenant and
//! its audit log to another `[servers.<name>]` server (the work is
//! [`crate::ops::tenant_move`]), showing the copy's rows and lag on a
//! progress bar, and prints what happened, where the source's backup went
//! and which logins the target still lacks.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::ProgressBar;
use serde_json::json;

use crate::cli::args::TenantMoveArgs;
use crate::cli::context::{display_path, Context};
use crate::cli::printer::{good, strong, Printer};
use crate::error::bad_input;
use crate::model::tenant::TenantCode;
use crate::ops::admin::AdminPassword;
use crate::ops::backup::{self, human_size, PgDump};
use crate::ops::provisioner::Settings;
use crate::ops::tenant::add::AddReporter;
use crate::ops::tenant_move::{self, Cutover, MoveReporter, Moved, Outcome, Request, Side};
use crate::ops::verify::VerifyReporter;
use crate::report::Reporter;

pub async fn run(ctx: &Context, args: &TenantMoveArgs) -> Result<()> {
    let started = Instant::now();
    let code = TenantCode::parse(&args.code)?;
    let config = ctx.config()?;
    if config.servers.is_empty() {
        return Err(bad_input(
            "tenant move needs the servers in tenants.toml: declare [servers.<name>] with url_env = \"VARIABLE\" for \
             each",
        ));
    }
    let to = config.server(&args.to)?.name.to_string();
    if !(args.max_freeze.is_finite() && args.max_freeze > 0.0) {
        return Err(bad_input(format!("--max-freeze {}: give a number of seconds above 0", args.max_freeze)));
    }
    let servers: Vec<Side> = crate::cli::servers::targets(&config)?
        .into_iter()
        .map(|(spec, target)| Side { name: spec.name.to_string(), target })
        .collect();
    let cutover = cutover(args)?;
    if args.abort {
        let done = tenant_move::abort(&code, &to, &servers).await?;
        if let Some(cutover) = &cutover {
            if cutover.release(&code).await? {
                ctx.printer.note(format!("resumed alias {code} on PgBouncer (an interrupted move had paused it)"));
            }
        }
        return report(ctx, &code, &done, started.elapsed().as_secs_f64());
    }
    let pg_dump = match args.offline || !args.keep_source {
        true => Some(PgDump::find(Some("(a move backs up the source copy; or pass --keep-source)"))?),
        false => None,
    };
    let backup_out = match args.keep_source {
        true => std::path::PathBuf::new(),
        false => backup::output_path(&code, args.backup_out.as_deref())?,
    };
    let settings = Settings {
        lock_timeout: ctx.lock_timeout(),
        upgrade: Default::default(),
        // The target copy's administrator is emptied away: the source's rows replace it.
        admin_password: AdminPassword::choose(None, false),
        partitions: config.partition_settings(),
        structure_only: false,
    };
    let request = Request {
        code: &code,
        to: &to,
        offline: args.offline,
        keep_source: args.keep_source,
        max_freeze: Duration::from_secs_f64(args.max_freeze),
        config: &config,
        settings: &settings,
        pg_dump: pg_dump.as_ref(),
        backup_out,
        cutover,
    };
    let progress = MoveProgress { printer: &ctx.printer, bar: Mutex::new(None) };
    let done = tenant_move::run(&progress, &request, &servers).await;
    progress.copy_finished();
    report(ctx, &code, &done?, started.elapsed().as_secs_f64())
}

/// `--pgbouncer URL --routing-out FILE`, checked: both or neither.
fn cutover(args: &TenantMoveArgs) -> Result<Option<Cutover>> {
    let Some(url) = &args.pgbouncer else { return Ok(None) };
    let Some(routing_file) = args.routing_out.clone() else {
        return Err(bad_input(
            "--pgbouncer needs --routing-out FILE: the routing file PgBouncer %includes, rewritten at the switch",
        ));
    };
    let origin = crate::pg::connection::Origin::Option("--pgbouncer");
    let console = crate::pg::connection::resolve_with_origin(Some(url), origin, &|key| std::env::var(key).ok())?
        .ok_or_else(|| bad_input("--pgbouncer: give PgBouncer's admin console URL"))?;
    Ok(Some(Cutover { console, routing_file }))
}

/// The result line and the JSON document (docs/json.md, "tenant move").
fn report(ctx: &Context, code: &TenantCode, done: &Moved, seconds: f64) -> Result<()> {
    let steps: Vec<&str> = done.steps.iter().map(|s| s.as_str()).collect();
    let backup = done.backup.as_ref().map(|w| json!({ "file": display_path(&w.path), "size_bytes": w.size_bytes }));
    let slowest = done.slowest.as_ref().map(|(step, ms)| json!({ "step": step, "ms": ms }));
    ctx.printer.json(&json!({
        "tenant": code.as_str(), "outcome": done.outcome, "from": (!done.from.is_empty()).then_some(&done.from),
        "to": done.to, "rows": done.rows,
        "freeze_ms": done.freeze_ms, "freeze_slowest": slowest, "paused_ms": done.paused_ms, "seconds": seconds, "steps": steps,
        "resumed_from": done.resumed_from.map(|s| s.as_str()), "backup": backup, "source_kept": done.kept_source,
        "logins_missing": done.missing_logins,
    }));
    let (from, to) = (&done.from, &done.to);
    match done.outcome {
        Outcome::AlreadyMoved => {
            ctx.printer.line(format!("tenant {} is already on server {to}; nothing to move", strong(code)));
        }
        Outcome::Aborted => ctx.printer.line(format!(
            "{} the move of tenant {} to server {to}: its copy, subscription, publication and slot are gone; it stays \
             on server {from}",
            good("aborted"),
            strong(code)
        )),
        Outcome::Moved => {
            let source = match (&done.backup, done.kept_source) {
                (_, true) => format!("the copy on server {from} is kept, read-only for {}", code.app_role()),
                (Some(w), false) => format!(
                    "the copy on server {from} was backed up to {} ({}) and dropped",
                    display_path(&w.path).display(),
                    human_size(w.size_bytes)
                ),
                (None, false) => format!("the copy on server {from} was dropped"),
            };
            let mut frozen = match (done.freeze_ms, &done.slowest) {
                (Some(ms), Some((step, longest))) => format!(", writes frozen {ms} ms ({longest} ms {step})"),
                (Some(ms), None) => format!(", writes frozen {ms} ms"),
                (None, _) => String::new(),
            };
            if let Some(ms) = done.paused_ms {
                frozen.push_str(&format!(", clients held by PgBouncer {ms} ms"));
            }
            ctx.printer.line(format!(
                "{} tenant {} from server {from} to server {to}: {}{frozen}, in {seconds:.1} s; {source}",
                good("moved"),
                strong(code),
                crate::report::count(done.rows, "row")
            ));
        }
    }
    if !done.missing_logins.is_empty() {
        ctx.printer.warn(format!(
            "logins granted tenant {code} on server {from} are not granted it on server {to} (roles belong to a \
             server): {}; create them there and run `provision tenant grant {code} <login>`",
            done.missing_logins.join(", ")
        ));
    }
    Ok(())
}

/// Steps as notes; the live copy as a bar of rows with the lag in its message.
struct MoveProgress<'a> {
    printer: &'a Printer,
    bar: Mutex<Option<ProgressBar>>,
}

impl Reporter for MoveProgress<'_> {
    fn note(&self, text: &str) {
        self.printer.note(text);
    }
    fn detail(&self, text: &str) {
        self.printer.detail(text);
    }
    fn warn(&self, text: &str) {
        self.printer.warn(text);
    }
}

impl VerifyReporter for MoveProgress<'_> {}
impl AddReporter for MoveProgress<'_> {}

impl MoveReporter for MoveProgress<'_> {
    fn step(&self, text: &str) {
        self.printer.note(text);
    }

    fn copy_started(&self, rows: u64) {
        if let Ok(mut bar) = self.bar.lock() {
            *bar = Some(self.printer.progress(rows.max(1), "copying rows"));
        }
    }

    fn copy_progress(&self, rows: u64, lag_bytes: i64) {
        let Ok(bar) = self.bar.lock() else { return };
        let Some(bar) = bar.as_ref() else { return };
        if bar.length().is_some_and(|len| rows > len) {
            bar.set_length(rows);
        }
        bar.set_position(rows);
        let lag = match lag_bytes {
            ..0 => "unknown".to_owned(),
            bytes => human_size(bytes as u64),
        };
        bar.set_message(format!("copying rows, lag {lag}"));
    }

    fn copy_finished(&self) {
        if let Ok(mut bar) = self.bar.lock() {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
        }
    }
}

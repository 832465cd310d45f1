//! `provision db create <name> [--sample N] [--pool N]`: a fully provisioned
//! database for CI, cloned from a template built first when needed, or a
//! spare of that template renamed (the work is [`crate::ops::db_create`]);
//! with a pool, a detached `db refill` makes the spares again.

use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::DbCreateArgs;
use crate::cli::context::Context;
use crate::cli::printer::strong;
use crate::model::config::check_pool;
use crate::ops::db_create::{self, Wanted};
use crate::ops::seed::Seeded;
use crate::ops::template_db::{self, Created};
use crate::pg::connection::Target;

use super::refill::{self, config_file};

pub async fn run(ctx: &Context, args: &DbCreateArgs) -> Result<()> {
    let started = Instant::now();
    template_db::check_name(&args.name)?;
    if let Some(pool) = args.pool {
        check_pool(pool).map_err(|m| crate::error::bad_input(format!("--{m}")))?;
    }
    let config_file = config_file(ctx);
    // With a pool, first a spare labelled with these very inputs: it needs
    // no blueprint loaded, most of what a pooled call would spend itself.
    let pooled = args.pool.or_else(|| crate::model::config::db_pool(&config_file)).filter(|p| *p > 0);
    let mut connected = None;
    if let (Some(pool), None) = (pooled, args.sample) {
        let target = ctx.server_target().await?;
        let admin = ctx.connect_maintenance(&target).await?;
        let explicit = ctx.global.config.is_some();
        if let Ok(templates_dir) = crate::model::config::templates_dir(&config_file, explicit) {
            let inputs = (config_file.as_path(), templates_dir.as_path());
            if let Some(taken) = db_create::take_labelled(&admin, inputs, None, &args.name).await? {
                ctx.printer.detail(format!("took the spare {} by its label (no blueprint loaded)", taken.spare));
                let created = Created {
                    database: args.name.clone(),
                    template: taken.template,
                    build_seconds: None,
                    clone_seconds: started.elapsed().as_secs_f64(),
                    spare: Some(taken.spare),
                    spares_left: taken.left,
                    dropped_templates: Vec::new(),
                    dropped_spares: Vec::new(),
                };
                return finish(ctx, args, (&target, pool), created, None, started);
            }
        }
        connected = Some((target, admin));
    }
    let config = ctx.config()?;
    let pool = args.pool.or(config.db_pool).unwrap_or(0);
    db_create::check_sample(&config, args.sample)?;
    let (target, admin) = match connected {
        Some(both) => both,
        None => {
            let target = ctx.server_target().await?;
            let admin = ctx.connect_maintenance(&target).await?;
            (target, admin)
        }
    };
    let wanted = Wanted { config: &config, config_file: &config_file, name: &args.name, sample: args.sample };
    let made = db_create::create(&ctx.printer, ctx.lock_timeout(), (&admin, &target), &wanted).await?;
    finish(ctx, args, (&target, pool), made.created, made.seeded, started)
}

/// Starts the refill when the pool is short, then says what was made.
fn finish(
    ctx: &Context,
    args: &DbCreateArgs,
    (target, pool): (&Target, u32),
    created: Created,
    seeded: Option<Seeded>,
    started: Instant,
) -> Result<()> {
    let refilling = pool as usize > created.spares_left;
    if refilling {
        // The new database exists whatever happens to the refill; the next call starts another.
        if let Err(error) = refill::spawn(ctx, pool, args.sample) {
            ctx.printer.warn(format!("{error:#}; the next `db create --pool` refills the pool"));
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    let (url, without_password) = url_of(target, &created.database);
    ctx.printer.json(&json!({
        "database": created.database, "template": created.template, "url": url,
        "built_template": created.build_seconds.is_some(), "build_seconds": created.build_seconds,
        "clone_seconds": created.clone_seconds, "seconds": seconds, "sample": args.sample,
        "admin_password": "unusable", "dropped_templates": created.dropped_templates,
        "seeded": seeded.as_ref().map(|s| &s.tenants),
        "spare": created.spare, "pool": pool, "refilling": refilling, "dropped_spares": created.dropped_spares,
    }));
    print_created(ctx, &created, seconds);
    if let Some(seeded) = &seeded {
        ctx.printer.note(format!(
            "the sample of {} holds secrets (a sample key, passwords), so it is loaded into each database, \
             not the template:",
            seeded.tenants.iter().map(|t| t.tenant.as_str()).collect::<Vec<_>>().join(", ")
        ));
        for tenant in &seeded.tenants {
            crate::cli::seed::print_report(&ctx.printer, tenant);
        }
    }
    for dropped in &created.dropped_templates {
        ctx.printer.note(format!("dropped the older template {dropped}"));
    }
    if !created.dropped_spares.is_empty() {
        let n = created.dropped_spares.len();
        ctx.printer.note(format!("dropped {n} stale spare{}", if n == 1 { "" } else { "s" }));
    }
    // Last on stdout, and kept by --quiet: the data a script needs next.
    if !ctx.printer.is_json() {
        ctx.printer.data(format!("{url}\n"));
    }
    if without_password {
        ctx.printer.note("the URL carries no password: psql and libpq take it from PGPASSWORD or ~/.pgpass");
    }
    Ok(())
}

/// The line saying what was made, and how.
fn print_created(ctx: &Context, created: &Created, seconds: f64) {
    let name = strong(&created.database);
    match created.build_seconds {
        Some(build) => {
            ctx.printer.line(format!(
                "built template {} in {build:.1} s, created {name} in {:.2} s",
                created.template, created.clone_seconds
            ));
            ctx.printer.note(
                "the tenants' admin@<code>.example have no usable password: the template is shared by every \
                 database cloned from it (set users.password_hash in a clone if a test needs one)",
            );
        }
        None => match &created.spare {
            Some(spare) => {
                ctx.printer.line(format!("created {name} from {} (spare {spare}) in {seconds:.2} s", created.template))
            }
            None => ctx.printer.line(format!("created {name} from {} in {seconds:.2} s", created.template)),
        },
    }
}

/// A URL for `database` with no password in it: libpq finds the password
/// where it found this run's (PGPASSWORD, ~/.pgpass) or needs none (the
/// sandbox's socket). True when this run had one from the URL or environment.
fn url_of(target: &Target, database: &str) -> (String, bool) {
    let redacted = target.with_dbname(database).redacted_url();
    // The user part is percent-encoded, so `:***@` can only be the hidden password.
    match redacted.replacen(":***@", "@", 1) {
        url if url != redacted => (url, true),
        url => (url, false),
    }
}

//! `provision tenant upgrade <code>... | --all [--jobs N] [--dry-run]`: apply
//! pending blueprint versions to tenants in parallel, completing any tenant
//! an interrupted run left incomplete (see [`crate::ops::tenant::upgrade`]).

use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use crate::cli::args::{AdminArgs, TenantUpgradeArgs};
use crate::cli::context::Context;
use crate::cli::printer;
use crate::cli::reporters::UpgradeProgress;
use crate::error::bad_input;
use crate::model::tenant::TenantCode;
use crate::ops::provisioner::UpgradeTimeouts;
use crate::ops::tenant::upgrade::{self, Survey, Upgraded};

pub async fn run(ctx: &Context, args: &TenantUpgradeArgs) -> Result<()> {
    let config = ctx.config()?;
    let timeouts = timeouts(args)?;
    let wanted: Vec<TenantCode> = args.codes.iter().map(|c| TenantCode::parse(c)).collect::<Result<_>>()?;
    let (mut client, target) = ctx.connect().await?;
    let survey = upgrade::survey(&ctx.env(), &mut client, &config, &wanted, args.dry_run.enabled).await?;
    if args.dry_run.enabled {
        return dry_run(ctx, &client, &survey).await;
    }
    let mut settings = ctx.settings(&AdminArgs { admin_password: None }, &target, &config);
    settings.upgrade = timeouts;
    let progress = UpgradeProgress::new(&ctx.printer);
    let open = async || Ok(ctx.connect().await?.0);
    let gate = ctx.scope.as_ref().is_none_or(|s| !s.gate_passed).then_some(args.strict);
    let jobs = (gate, args.jobs.get());
    let upgraded = upgrade::execute(&progress, (client, &target), open, survey, &settings, jobs).await?;
    summarize(ctx, &upgraded);
    upgraded.verdict()
}

fn timeouts(args: &TenantUpgradeArgs) -> Result<UpgradeTimeouts> {
    if !(args.ddl_timeout > 0.0 && args.ddl_timeout <= 3600.0 && (0.0..=86_400.0).contains(&args.statement_timeout)) {
        return Err(bad_input("--ddl-timeout must be in (0, 3600] and --statement-timeout in [0, 86400] seconds"));
    }
    Ok(UpgradeTimeouts {
        ddl: Duration::from_secs_f64(args.ddl_timeout),
        statement: (args.statement_timeout > 0.0).then(|| Duration::from_secs_f64(args.statement_timeout)),
    })
}

async fn dry_run(ctx: &Context, client: &tokio_postgres::Client, survey: &Survey) -> Result<()> {
    let mut plans = Vec::new();
    for would in survey.dry_run(client).await {
        let would = would?;
        ctx.printer.line(format!("-- tenant {} (at version {})", would.tenant, would.version));
        for gap in &would.incomplete {
            ctx.printer.line(format!("-- would complete: {gap}"));
        }
        for name in &would.edited {
            ctx.printer.line(format!("-- REFUSED: applied version {name} was edited since it ran"));
        }
        for diff in &would.diffs {
            match &diff.diff {
                Some(text) => ctx.printer.line(text.lines().map(|l| format!("-- {l}")).collect::<Vec<_>>().join("\n")),
                None => ctx.printer.line(format!("-- ({}: what it ran was not recorded)", diff.name)),
            }
        }
        for (name, sql) in would.pending.iter().zip(&would.pending_sql) {
            ctx.printer.line(format!("-- {name}\n{sql}\n"));
        }
        let mut plan = serde_json::to_value(&would)?;
        let sql = would.pending.iter().zip(&would.pending_sql).map(|(name, sql)| json!({ "name": name, "sql": sql }));
        plan["pending_sql"] = sql.collect();
        plan["outcome"] = json!(if would.edited.is_empty() { "would_change" } else { "refused" });
        plans.push(plan);
    }
    ctx.printer.json(&json!({ "dry_run": true, "tenants": plans }));
    let tenants = printer::count(survey.work.len(), "tenant");
    ctx.printer.line(format!("upgrade (dry run): {tenants} would change; nothing was changed"));
    Ok(())
}

fn summarize(ctx: &Context, upgraded: &Upgraded) {
    let (total, seconds) = (upgraded.total, upgraded.seconds);
    let failed = upgraded.failed();
    ctx.printer.json(&json!({
        "tenants": upgraded.results.iter().map(|(code, r)| tenant_result(code, r)).collect::<Vec<_>>(),
        "summary": { "tenants": total, "upgraded": upgraded.upgraded(), "completed": upgraded.completed(),
                     "failed": failed, "seconds": seconds },
    }));
    let completed_note = match upgraded.completed() {
        0 => String::new(),
        n => format!(", {n} completed"),
    };
    ctx.printer.summary(format!(
        "upgrade: {}, {} upgraded{completed_note}, {} up to date, {} failed ({seconds:.2} s)",
        printer::count(total, "tenant"),
        upgraded.upgraded(),
        upgraded.up_to_date(),
        failed.len()
    ));
}

/// One tenant's entry: `tenant`, `outcome` (`upgraded`, `completed`,
/// `current`, … or `failed`) and the outcome's details or the `error`.
fn tenant_result(code: &str, result: &Result<crate::ops::provisioner::Outcome>) -> serde_json::Value {
    let mut entry = match result {
        Ok(outcome) => serde_json::to_value(outcome).unwrap_or_else(|_| json!({})),
        Err(e) => json!({ "outcome": "failed", "error": crate::pg::connection::redact(&format!("{e:#}")) }),
    };
    entry["tenant"] = json!(code);
    entry
}

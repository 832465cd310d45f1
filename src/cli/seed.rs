//! `provision seed`: deterministic sample data for CI and benchmarks, from
//! each tenant's blueprint (`[sample]` and `sample/*.sql.tera`). This file
//! turns the arguments into a [`crate::ops::seed::Seed`] and prints what
//! the use case reports: a line per tenant as it is committed, the
//! sample's secrets once (embedded sandbox only), the `--json` document.

use anyhow::Result;

use crate::cli::args::SeedArgs;
use crate::cli::context::Context;
use crate::cli::printer::{strong, Printer};
use crate::model::tenant::TenantCode;
use crate::ops::seed::{self, Seed, SeedReporter, TenantSeeded};
use crate::report::Reporter;

pub async fn run(ctx: &Context, args: &SeedArgs) -> Result<()> {
    let codes = args.tenants.codes.iter().map(|c| TenantCode::parse(c)).collect::<Result<Vec<_>>>()?;
    let config = ctx.config()?;
    let (mut client, target) = ctx.connect().await?;
    let request = Seed {
        codes: &codes,
        size: args.sample.map(u64::from),
        rng_seed: args.rng_seed,
        templates_dir: &config.templates_dir,
        reveal_secrets: target.is_sandbox(),
    };
    let reporter = SeedPrinter(&ctx.printer);
    let seeded = seed::seed(&ctx.env(), &reporter, &mut client, &request).await?;
    ctx.printer.json(&seeded);
    Ok(())
}

/// Prints each tenant's result as soon as it is committed.
struct SeedPrinter<'a>(&'a Printer);

impl Reporter for SeedPrinter<'_> {
    fn note(&self, text: &str) {
        self.0.note(text);
    }
    fn detail(&self, text: &str) {
        self.0.detail(text);
    }
    fn warn(&self, text: &str) {
        self.0.warn(text);
    }
}

impl SeedReporter for SeedPrinter<'_> {
    fn tenant_seeded(&self, report: &TenantSeeded) {
        print_report(self.0, report);
    }
}

pub(crate) fn print_report(printer: &Printer, report: &TenantSeeded) {
    let total: u64 = report.inserted.0.iter().map(|(_, rows)| rows).sum();
    let tenant = strong(&report.tenant);
    if total == 0 {
        printer.line(format!("{tenant}: nothing new, the sample is already there ({:.2} s)", report.seconds));
    } else {
        // Table names are not nouns to put in the singular ("1 <table>s" reads wrong): rows per table.
        let counts: Vec<String> = report.inserted.0.iter().map(|(table, rows)| format!("{table} {rows}")).collect();
        let rows = crate::report::count(total, "row");
        printer.line(format!("{tenant}: inserted {rows} ({}) in {:.2} s", counts.join(", "), report.seconds));
    }
    for secret in &report.secrets {
        printer.once(format!("  {}: {}  (shown only now)", secret.label, secret.secret));
    }
    if report.secrets_withheld > 0 {
        printer.note(format!(
            "  {}: {} sample secret(s), such as the sample encryption key, not shown: the target is not the \
             embedded sandbox",
            report.tenant, report.secrets_withheld
        ));
    }
}

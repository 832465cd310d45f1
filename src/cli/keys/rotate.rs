//! `provision keys rotate`: re-encrypts a tenant's `[[encrypted]]` columns
//! from one key file's key to another's (see [`crate::ops::keys`]). A bar
//! on a terminal, one summary line otherwise, or the `--json` report.

use anyhow::Result;

use crate::cli::args::KeysRotateArgs;
use crate::cli::context::Context;
use crate::cli::printer::{count, strong};
use crate::cli::reporters::RotateProgress;
use crate::model::tenant::TenantCode;
use crate::ops::keys::{self, Key, Rotated, Rotation};

pub async fn run(ctx: &Context, args: &KeysRotateArgs) -> Result<()> {
    let code = TenantCode::parse(&args.tenant)?;
    let config = ctx.config()?;
    // Both files are checked before any connection: a bad one changes nothing.
    let from = Key::read(&args.from_key_file, "--from-key-file", &ctx.printer)?;
    let to = Key::read(&args.to_key_file, "--to-key-file", &ctx.printer)?;
    let (mut client, _) = ctx.connect().await?;
    let rotation =
        Rotation { tenant: &code, from: &from, to: &to, batch: args.batch, lock_timeout: ctx.lock_timeout() };
    let progress = RotateProgress::new(&ctx.printer);
    let rotated = keys::rotate(&progress, &mut client, &config, &rotation).await;
    progress.finish();
    summarize(ctx, &rotated?);
    Ok(())
}

fn summarize(ctx: &Context, r: &Rotated) {
    ctx.printer.json_report(r);
    if r.already_done {
        ctx.printer.line(format!(
            "keys rotate {}: already done (no value carries key id {}; key id {} is current)",
            strong(&r.tenant),
            r.from_key_id,
            r.to_key_id
        ));
        return;
    }
    let retired = match r.retired {
        true => format!("key id {} retired, {} current", r.from_key_id, r.to_key_id),
        false => format!("key id {} current", r.to_key_id),
    };
    ctx.printer.line(format!(
        "keys rotate {}: {} in {} of {} re-encrypted from key id {} to {} in {} of up to {} \
         ({:.2} s, {:.0} values/s); {retired}",
        strong(&r.tenant),
        count(r.values, "value"),
        count(r.rows, "row"),
        count(r.tables.len(), "table"),
        r.from_key_id,
        r.to_key_id,
        if r.batches == 1 { "1 batch".to_owned() } else { format!("{} batches", r.batches) },
        count(r.batch_size, "row"),
        r.seconds,
        r.values_per_second
    ));
}

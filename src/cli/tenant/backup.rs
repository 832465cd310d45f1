//! `provision tenant backup <code> [--out FILE]`: one tenant as a plain SQL
//! file, recorded in `shared.backup_history` (see [`crate::ops::tenant::backup`]).

use anyhow::Result;
use serde_json::json;

use crate::cli::args::TenantBackupArgs;
use crate::cli::context::{display_path, Context};
use crate::cli::printer::strong;
use crate::model::tenant::TenantCode;
use crate::ops::backup;

pub async fn run(ctx: &Context, args: &TenantBackupArgs) -> Result<()> {
    let code = TenantCode::parse(&args.code)?;
    let out = backup::output_path(&code, args.out.as_deref())?;
    let templates_dir = ctx.config()?.templates_dir;
    let (mut client, target) = ctx.connect().await?;
    let env = ctx.env();
    let done = crate::ops::tenant::backup::backup(&env, &mut client, &target, (&code, &templates_dir), &out).await?;
    let shown = display_path(&done.written.path);
    ctx.printer.json(&json!({
        "tenant": code.as_str(), "file": shown, "size_bytes": done.written.size_bytes, "backup_id": done.backup_id,
    }));
    ctx.printer.line(format!(
        "backed up tenant {} to {} ({})",
        strong(&code),
        shown.display(),
        backup::human_size(done.written.size_bytes)
    ));
    ctx.printer.line(format!("restore with: psql -X -1 -v ON_ERROR_STOP=1 -d <database> -f {}", shown.display()));
    Ok(())
}

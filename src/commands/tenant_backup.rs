//! STUB, being written.

use anyhow::Result;

use crate::cli::TenantBackupArgs;
use crate::context::Context;
use crate::error::failed;

pub async fn run(_ctx: &Context, _args: &TenantBackupArgs) -> Result<()> {
    Err(failed("not implemented yet"))
}

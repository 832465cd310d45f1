//! STUB, being written.

use anyhow::Result;

use crate::cli::TenantUpgradeArgs;
use crate::context::Context;
use crate::error::failed;

pub async fn run(_ctx: &Context, _args: &TenantUpgradeArgs) -> Result<()> {
    Err(failed("not implemented yet"))
}

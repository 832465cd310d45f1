//! STUB, being written.

use anyhow::Result;

use crate::cli::TenantRepairArgs;
use crate::context::Context;
use crate::error::failed;

pub async fn run(_ctx: &Context, _args: &TenantRepairArgs) -> Result<()> {
    Err(failed("not implemented yet"))
}

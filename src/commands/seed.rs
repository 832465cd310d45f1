//! `provision seed`: STUB, being written.

use anyhow::Result;

use crate::cli::SeedArgs;
use crate::context::Context;

pub async fn run(_ctx: &Context, _args: &SeedArgs) -> Result<()> {
    Err(crate::error::failed("provision seed is not implemented yet"))
}

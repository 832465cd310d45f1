//! STUB, being written.

use anyhow::Result;

use crate::cli::ResetArgs;
use crate::context::Context;
use crate::error::failed;

pub async fn run(_ctx: &Context, _args: &ResetArgs) -> Result<()> {
    Err(failed("not implemented yet"))
}

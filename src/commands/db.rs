//! `provision db create|drop|list`: STUB, being written.

use anyhow::Result;

use crate::cli::{DbCreateArgs, DbNameArgs};
use crate::context::Context;
use crate::error::failed;

pub async fn create(_ctx: &Context, _args: &DbCreateArgs) -> Result<()> {
    Err(failed("provision db create is not implemented yet"))
}

pub async fn drop(_ctx: &Context, _args: &DbNameArgs) -> Result<()> {
    Err(failed("provision db drop is not implemented yet"))
}

pub async fn list(_ctx: &Context) -> Result<()> {
    Err(failed("provision db list is not implemented yet"))
}

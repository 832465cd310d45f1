//! The template safety gate: no version reaches a tenant if it would break
//! isolation (issue 11, item 5).
//!
//! Two checks, one owner:
//! - [`check_pending`] runs once, before any tenant is touched: the pending
//!   versions are applied to a reference tenant inside a rolled-back
//!   transaction and the isolation invariants run on it.
//! - [`check_tenant`] runs inside each tenant's transaction, just before
//!   COMMIT, with the same invariants on that tenant.
//!
//! STUB: both currently accept everything; the gate helper fills them in.

use anyhow::Result;
use tokio_postgres::Transaction;

use crate::blueprint::Blueprint;
use crate::tenant::TenantCode;

/// Runs the isolation invariants on one tenant inside its open transaction;
/// an error names the object and the invariant, and the caller rolls back.
pub async fn check_tenant(_tx: &Transaction<'_>, _code: &TenantCode, _blueprint: &Blueprint) -> Result<()> {
    Ok(())
}

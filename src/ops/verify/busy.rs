//! Tenants another provision process is changing. Verify reads a tenant in
//! several queries; one that is being built or upgraded meanwhile would show
//! differences that are not there (a half-built tenant, or a definition read
//! before and after a change). So verify holds each tenant's lock in shared
//! mode for the whole run, and a tenant whose lock another process holds is
//! skipped at once, or waited for first, and the outcome says which.
//! Builders hold the lock across all their transactions (`lock::while_held`).

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use tokio_postgres::Client;

use crate::model::tenant::TenantCode;
use crate::store::lock;
use crate::store::registry::{self, Registered};

/// What to do about a tenant another process is changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Leave it out of this run (a standalone `verify`).
    Skip,
    /// Wait up to this long in all, then leave out what is still busy
    /// (`up`'s final verify, which ran alongside other provision runs).
    Wait(Duration),
}

/// The tenants to verify, read again once their locks are held (a tenant
/// waited for may have moved on, or been taken away), and those left out.
pub struct Held {
    pub tenants: Vec<Registered>,
    /// Busy when looked at, then free within the wait.
    pub waited: Vec<String>,
    /// Still busy: not verified.
    pub skipped: Vec<String>,
}

/// Takes the shared lock of every tenant of `codes` on `locks` (a
/// connection kept for the whole run; its locks go when it closes), then
/// reads those held from the registry: the state verify compares is the one
/// no provision process is changing. A fixed number of queries, whatever
/// the tenant count.
pub async fn hold(locks: &mut Client, codes: &[TenantCode], busy: Busy) -> Result<Held> {
    if codes.is_empty() {
        return Ok(Held { tenants: Vec::new(), waited: Vec::new(), skipped: Vec::new() });
    }
    let keys: Vec<String> = codes.iter().map(lock::tenant_key).collect();
    let free: HashSet<String> = lock::try_shared(locks, &keys).await?.into_iter().collect();
    let mut held = free.clone();
    if let Busy::Wait(patience) = busy {
        if free.len() < keys.len() {
            held = lock::wait_shared(locks, &keys, patience).await?.into_iter().collect();
        }
    }
    let code_of = |key: &String| codes[keys.iter().position(|k| k == key).expect("a key of ours")].to_string();
    let waited = keys.iter().filter(|k| held.contains(*k) && !free.contains(*k)).map(code_of).collect();
    let skipped = keys.iter().filter(|k| !held.contains(*k)).map(code_of).collect();
    let now = registry::snapshot(&*locks, None).await?;
    let tenants = now.into_iter().filter(|t| t.is_active() && held.contains(&lock::tenant_key(&t.code))).collect();
    Ok(Held { tenants, waited, skipped })
}

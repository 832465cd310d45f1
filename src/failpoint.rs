//! Named crash points for deterministic crash tests.
//!
//! Crash safety is a property the test suite proves: a test sets
//! `PROVISION_FAILPOINT=<name>` (or `<name>@<n>` for the n-th time the point
//! is reached, counting from 1), runs the real binary, and the process aborts
//! exactly there, between two transactions, as `kill -9` would: no
//! destructors, no rollback messages, the server sees the connection drop.
//! The next run must repair whatever that left.
//!
//! Points are compiled only into debug builds (what `cargo test` runs) or
//! with the `failpoints` feature; in a release build [`hit`] is an empty
//! inline function, so production binaries carry no crash switch. Even where
//! compiled in, a point is inert unless the variable names it.
//!
//! Naming: `<operation>.<where>`, for example `tenant_add.after_versions`.
//! Every name in use is listed in [`ALL`], so the crash suite can iterate them
//! and a point cannot silently disappear.

/// The environment variable that arms a point.
pub const VARIABLE: &str = "PROVISION_FAILPOINT";

/// Every failpoint, in the order an uninterrupted run reaches them within
/// its operation. Tests iterate this list; adding a point means adding it here.
pub const ALL: &[&str] = &[
    // tenant add
    "tenant_add.after_shared",
    "tenant_add.after_completion",
    "create.after_first_transaction",
    "tenant_add.before_verify",
    // the versions of one tenant (tenant add, tenant upgrade, up)
    "upgrade.after_enum_value",
    "upgrade.after_segment",
    "upgrade.after_outside_statement",
    // up
    "up.after_shared",
    "up.after_tenant",
    "up.before_verify",
    // tenant upgrade
    "tenant_upgrade.after_shared",
    "tenant_upgrade.after_tenant",
    // partitions rollover
    "rollover.after_transaction",
    "rollover.after_tenant",
    // tenant remove (with a backup)
    "tenant_remove.after_backup",
    // tenant backup
    "tenant_backup.before_record",
    // keys rotate
    "keys.after_batch",
    // retention run
    "retention.after_batch",
    // tenant move (tests/tenant_move_crash.rs: two servers, so not in tests/crash.rs)
    "tenant_move.after_provision",
    "tenant_move.after_publication",
    "tenant_move.after_subscription",
    "tenant_move.after_catch_up",
    "tenant_move.after_switch",
    "tenant_move.after_cleanup",
    // tenant move --pgbouncer: switched, the alias still paused (tests/routing_pgbouncer.rs)
    "cutover.while_paused",
];

/// Aborts the process if `name` is the armed failpoint (and this is the
/// armed occurrence). Call it between two transactions, never inside one.
#[cfg(any(debug_assertions, feature = "failpoints"))]
pub fn hit(name: &str) {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;

    static ARMED: OnceLock<Option<(String, u32)>> = OnceLock::new();
    static SEEN: AtomicU32 = AtomicU32::new(0);
    let armed = ARMED.get_or_init(|| {
        let value = std::env::var(VARIABLE).ok().filter(|v| !v.is_empty())?;
        Some(match value.split_once('@') {
            Some((point, nth)) => (point.to_owned(), nth.parse().unwrap_or(1)),
            None => (value, 1),
        })
    });
    let Some((point, nth)) = armed else { return };
    if point == name && SEEN.fetch_add(1, Ordering::SeqCst) + 1 == *nth {
        eprintln!("failpoint {name}: aborting");
        std::process::abort();
    }
}

#[cfg(not(any(debug_assertions, feature = "failpoints")))]
#[inline(always)]
pub fn hit(_name: &str) {}

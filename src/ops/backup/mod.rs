//! Tenant backups: one tenant as a plain SQL file that
//! `psql -X -1 -v ON_ERROR_STOP=1 -f FILE`, run as a superuser, restores into
//! a database where the tenant does not exist (after `tenant remove`, or
//! another database with the shared migrations).
//!
//! The file holds, in restore order:
//!
//! 1. checks (superuser, shared migrations present, tenant absent) and
//!    `session_replication_role = replica`, so restored rows fire no audit
//!    or foreign-key triggers;
//! 2. the tenant's roles, created if missing by the same SQL as `tenant add`
//!    (`sql/tenant_roles.sql`), and its registry rows (`shared.tenants`,
//!    `shared.tenant_config`);
//! 3. `pg_dump --schema=<code>_schema --schema=<code>_archive`: every object
//!    with its owner, grants, schema-scoped default privileges, row-level
//!    security, policies, triggers and data;
//! 4. the audit log: `audit.ensure_audit_log` and the partitions it had when
//!    the database lacks it (`tenant remove` keeps it for retention), then
//!    its rows from `pg_dump --data-only --on-conflict-do-nothing`, so rows
//!    a kept log still holds are not duplicated;
//! 5. what pg_dump leaves out: ACLs set explicitly to their default (pg_dump
//!    would restore them as "no ACL"), the roles' database-wide default
//!    privileges and their role memberships (dropping the roles forgets
//!    both).
//!
//! Every `pg_dump` run and every query here read one snapshot, exported from
//! the caller's transaction, which holds the tenant's lock. pg_dump gets the
//! connection through libpq environment variables ([`Target::libpq_env`]),
//! never a password on its command line.

mod file;
mod history;
mod inventory;
mod pg_dump;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio_postgres::Transaction;

use crate::error::{bad_input, failed};
use crate::model::tenant::TenantCode;
use crate::pg::connection::Target;
pub use crate::pg::tools::PgDump;
use crate::store::registry::Registered;
use file::Plan;
pub use history::{keep_history, record};
use inventory::Inventory;

/// Where a backup goes: `out`, else `./<code>-<UTC timestamp>.sql`. A
/// backup never overwrites a file (exit 2).
pub fn output_path(code: &TenantCode, out: Option<&Path>) -> Result<PathBuf> {
    let path = match out {
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(default_file_name(code, time::OffsetDateTime::now_utc())),
    };
    if fs::symlink_metadata(&path).is_ok() {
        return Err(bad_input(format!(
            "{} already exists; a backup never overwrites a file, choose another one",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(bad_input(format!("cannot write the backup: directory {} does not exist", dir.display())));
        }
    }
    Ok(path)
}

fn default_file_name(code: &TenantCode, now: time::OffsetDateTime) -> String {
    format!(
        "{code}-{:04}{:02}{:02}T{:02}{:02}{:02}Z.sql",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// A backup file that was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub size_bytes: u64,
    /// pg_dump's warnings, one line each.
    pub warnings: Vec<String>,
}

/// Locks the tenant's tables against writes (SHARE mode: reads and pg_dump
/// go on) for the rest of `tx`, so that a final backup taken before dropping
/// the schema holds every row that is dropped. Waits at most the
/// transaction's lock_timeout (then exit 3).
pub async fn freeze(tx: &Transaction<'_>, code: &TenantCode) -> Result<()> {
    let tables: Vec<String> = tx
        .query(include_str!("../sql/backup_freeze.sql"), &[&code.schema_name()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if tables.is_empty() {
        return Ok(());
    }
    tx.batch_execute(&format!("LOCK TABLE {} IN SHARE MODE", tables.join(", ")))
        .await
        .with_context(|| format!("cannot lock the tables of tenant {code} against writes for its final backup"))
}

/// Writes the backup of `tenant` to `out` (which must not exist) from the
/// state `tx` sees; `tx` holds the tenant's lock and stays open until
/// pg_dump is done. The file is written as `<out>.partial` (mode 0600: it
/// holds every row of the tenant) and renamed when complete.
pub async fn write(
    tx: &Transaction<'_>,
    target: &Target,
    pg_dump: &PgDump,
    tenant: &Registered,
    out: &Path,
    lock_timeout: Duration,
) -> Result<Written> {
    let code = &tenant.code;
    let inventory = Inventory::read(tx, code).await.with_context(|| format!("cannot read tenant {code}'s catalog"))?;
    if !inventory.bypass_rls {
        // pg_dump runs with row_security = on (see `write_file`): a role held
        // to the policies would dump no rows, silently.
        return Err(failed(format!(
            "cannot back up tenant {code} as role {:?}: it is neither superuser nor BYPASSRLS, so row-level security would hide rows",
            target.user()
        )));
    }
    let tool = pg_dump.for_server(inventory.server_major)?.clone();
    let plan = Plan::read(tx, target, &tool, tenant, inventory, lock_timeout).await?;
    let partial = partial_path(out);
    remove_stale_partials(code, out);
    let result = plan.write_file(&partial).await;
    let (warnings, _locked_until_renamed) = match result {
        Ok(written) => written,
        Err(e) => {
            let _ = fs::remove_file(&partial);
            return Err(e);
        }
    };
    if fs::symlink_metadata(out).is_ok() {
        let _ = fs::remove_file(&partial);
        return Err(bad_input(format!("{} appeared while the backup was written; it was left alone", out.display())));
    }
    fs::rename(&partial, out).with_context(|| format!("cannot move the backup into place at {}", out.display()))?;
    let size_bytes = fs::metadata(out)?.len();
    Ok(Written { path: out.to_path_buf(), size_bytes, warnings })
}

impl<'a> Plan<'a> {
    /// Reads what the file needs besides pg_dump's output, and exports the
    /// snapshot every pg_dump run reads.
    async fn read(
        tx: &Transaction<'_>,
        target: &'a Target,
        tool: &'a crate::pg::tools::Found,
        tenant: &'a Registered,
        inventory: Inventory,
        lock_timeout: Duration,
    ) -> Result<Plan<'a>> {
        let code = &tenant.code;
        let roles = vec![code.owner_role(), code.app_role(), code.ro_role()];
        let lines = |rows: Vec<tokio_postgres::Row>| rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>();
        let registry = lines(tx.query(include_str!("../sql/backup_registry.sql"), &[&code.as_str()]).await?);
        let default_privileges =
            lines(tx.query(include_str!("../sql/backup_default_privileges.sql"), &[&roles]).await?);
        let memberships = lines(tx.query(include_str!("../sql/backup_memberships.sql"), &[&roles]).await?);
        let mut schemas = vec![code.schema_name()];
        schemas.extend(inventory.archive.clone());
        let explicit_acls = lines(tx.query(include_str!("../sql/backup_explicit_acls.sql"), &[&schemas]).await?);
        let snapshot: String = tx
            .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
            .await
            .context("cannot export a snapshot for pg_dump")?
            .get(0);

        Ok(Plan {
            tenant,
            target,
            tool,
            snapshot,
            lock_timeout,
            inventory,
            schemas,
            registry,
            explicit_acls,
            default_privileges,
            memberships,
        })
    }
}

/// A backup killed mid-way (`kill -9`, a crash) leaves `<out>.partial`,
/// holding tenant data. The next backup of the tenant removes such leftovers
/// next to its own file: `<out>.partial` and `<code>-*.sql.partial` (the
/// default names). A backup still being written holds a lock on its file
/// ([`Plan::write_file`]), so it is never mistaken for a leftover.
fn remove_stale_partials(code: &TenantCode, out: &Path) {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let own = partial_path(out);
    let prefix = format!("{code}-");
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let default_named = name.starts_with(&prefix) && name.ends_with(".sql.partial");
        if !default_named && entry.path().file_name() != own.file_name() {
            continue;
        }
        let Ok(file) = File::open(entry.path()) else { continue };
        if file.try_lock().is_ok() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates `<out>.partial` afresh, mode 0600 (it holds tenant data), and
/// locks it until it is closed (or the process dies): the lock tells a
/// concurrent backup's cleanup that this file is not a leftover.
pub(crate) fn open_partial(partial: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = fs::remove_file(partial);
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    file.lock().with_context(|| format!("cannot lock {}", partial.display()))?;
    Ok(file)
}

pub(crate) fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

/// `1.2 MB`, `830 kB`, `512 bytes`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_carry_the_utc_time() {
        let code = TenantCode::parse("lic").unwrap();
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(default_file_name(&code, at), "lic-20231114T221320Z.sql");
    }

    #[test]
    fn libpq_gets_the_connection_and_the_password_in_its_environment() {
        let url = "postgresql://bob:s3cret@db.example:6543/app?sslmode=require&application_name=nightly";
        let target = crate::pg::connection::resolve(Some(url), &|_| None).unwrap().unwrap();
        let env: std::collections::HashMap<String, String> = target.libpq_env().into_iter().collect();
        for (key, value) in [
            ("PGHOST", "db.example"),
            ("PGPORT", "6543"),
            ("PGUSER", "bob"),
            ("PGDATABASE", "app"),
            ("PGPASSWORD", "s3cret"),
            ("PGSSLMODE", "require"),
            ("PGAPPNAME", "nightly"),
        ] {
            assert_eq!(env.get(key).map(String::as_str), Some(value), "{key}");
        }
        let socket = Target::socket(Path::new("/run/pg"), 5433, "postgres", "provision");
        let env: std::collections::HashMap<String, String> = socket.libpq_env().into_iter().collect();
        assert_eq!(env["PGHOST"], "/run/pg");
        assert_eq!(env["PGPORT"], "5433");
        assert!(!env.contains_key("PGPASSWORD"));
    }

    #[test]
    fn partial_files_sit_next_to_the_backup() {
        assert_eq!(partial_path(Path::new("/tmp/lic.sql")), PathBuf::from("/tmp/lic.sql.partial"));
        assert_eq!(partial_path(Path::new("lic.sql")), PathBuf::from("lic.sql.partial"));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(1_234_567), "1.2 MB");
    }
}

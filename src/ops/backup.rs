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

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Transaction};
use uuid::Uuid;

use crate::error::{bad_input, failed, unavailable};
use crate::model::tenant::TenantCode;
use crate::pg::connection::{redact, Target};
use crate::pg::quote::{quote_ident, quote_literal};
use crate::pg::sandbox;
use crate::store::registry::Registered;

const MISSING_PG_DUMP: &str =
    "pg_dump not found on PATH, in pg_config --bindir or /usr/lib/postgresql/*/bin; install the PostgreSQL client (pg_dump)";

/// Rows per INSERT statement for the audit log's data.
const ROWS_PER_INSERT: &str = "1000";

/// The `pg_dump` programs this machine has, with their major versions.
#[derive(Debug)]
pub struct PgDump {
    found: Vec<Found>,
}

#[derive(Debug, Clone)]
struct Found {
    path: PathBuf,
    major: u32,
    version: String,
}

impl PgDump {
    /// Looks where the sandbox looks for initdb: `PATH`, `pg_config
    /// --bindir`, then `/usr/lib/postgresql/*/bin`. Exit 3 when there is
    /// none; `alternative` ends that message (e.g. "or pass --no-backup").
    pub fn find(alternative: Option<&str>) -> Result<PgDump> {
        let mut found: Vec<Found> = Vec::new();
        let mut seen: Vec<PathBuf> = Vec::new();
        for dir in sandbox::candidate_dirs() {
            let path = dir.join("pg_dump");
            if !is_executable(&path) {
                continue;
            }
            let real = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if seen.contains(&real) {
                continue;
            }
            seen.push(real);
            if let Some((major, version)) = version_of(&path) {
                found.push(Found { path, major, version });
            }
        }
        if found.is_empty() {
            return Err(unavailable(match alternative {
                Some(alternative) => format!("{MISSING_PG_DUMP} {alternative}"),
                None => MISSING_PG_DUMP.to_owned(),
            }));
        }
        Ok(PgDump { found })
    }

    /// The first pg_dump (in search order) able to dump a server of major
    /// version `server`: pg_dump refuses servers newer than itself.
    fn for_server(&self, server: u32) -> Result<&Found> {
        self.found.iter().find(|f| f.major >= server).ok_or_else(|| {
            let versions: Vec<String> =
                self.found.iter().map(|f| format!("{} ({})", f.path.display(), f.version)).collect();
            unavailable(format!(
                "the server runs PostgreSQL {server} but the only pg_dump found is older: {}; install the PostgreSQL {server} client",
                versions.join(", ")
            ))
        })
    }
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` -> (15, "15.18").
fn version_of(path: &Path) -> Option<(u32, String)> {
    let output = std::process::Command::new(path).arg("--version").stdin(Stdio::null()).output().ok()?;
    if !output.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&output.stdout))
}

fn parse_version(text: &str) -> Option<(u32, String)> {
    let version = text.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let major = version.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    Some((major, version.to_owned()))
}

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
        .query(include_str!("sql/backup_freeze.sql"), &[&code.schema_name()])
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

/// What a backup needs from the catalog besides pg_dump's output.
struct Inventory {
    server_major: u32,
    /// The connected role reads past row-level security.
    bypass_rls: bool,
    archive: Option<String>,
    audit_log: bool,
    /// (name, bound) of each partition of the audit log.
    partitions: Vec<(String, String)>,
}

impl Inventory {
    async fn read(client: &impl GenericClient, code: &TenantCode) -> Result<Inventory> {
        let rows = client.query(include_str!("sql/backup_inventory.sql"), &[&code.as_str()]).await?;
        let mut inventory =
            Inventory { server_major: 0, bypass_rls: false, archive: None, audit_log: false, partitions: Vec::new() };
        for row in rows {
            let kind: &str = row.get(0);
            let name: String = row.get(1);
            match kind {
                "server" => inventory.server_major = name.parse().unwrap_or(0),
                "bypass" => inventory.bypass_rls = name == "true",
                "archive" => inventory.archive = Some(name),
                "log" => inventory.audit_log = true,
                _ => inventory.partitions.push((name, row.get::<_, Option<String>>(2).unwrap_or_default())),
            }
        }
        inventory.partitions.sort();
        Ok(inventory)
    }
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
    let roles = vec![code.owner_role(), code.app_role(), code.ro_role()];
    let lines = |rows: Vec<tokio_postgres::Row>| rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>();
    let registry = lines(tx.query(include_str!("sql/backup_registry.sql"), &[&code.as_str()]).await?);
    let default_privileges = lines(tx.query(include_str!("sql/backup_default_privileges.sql"), &[&roles]).await?);
    let memberships = lines(tx.query(include_str!("sql/backup_memberships.sql"), &[&roles]).await?);
    let mut schemas = vec![code.schema_name()];
    schemas.extend(inventory.archive.clone());
    let explicit_acls = lines(tx.query(include_str!("sql/backup_explicit_acls.sql"), &[&schemas]).await?);
    let snapshot: String = tx
        .query_one("SELECT pg_catalog.pg_export_snapshot()", &[])
        .await
        .context("cannot export a snapshot for pg_dump")?
        .get(0);

    let plan = Plan {
        tenant,
        target,
        tool: &tool,
        snapshot,
        lock_timeout,
        inventory,
        schemas,
        registry,
        explicit_acls,
        default_privileges,
        memberships,
    };
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

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

struct Plan<'a> {
    tenant: &'a Registered,
    target: &'a Target,
    tool: &'a Found,
    snapshot: String,
    lock_timeout: Duration,
    inventory: Inventory,
    /// `<code>_schema`, and `<code>_archive` if it exists.
    schemas: Vec<String>,
    registry: Vec<String>,
    explicit_acls: Vec<String>,
    default_privileges: Vec<String>,
    memberships: Vec<String>,
}

impl Plan<'_> {
    /// Returns pg_dump's warnings and the still-locked file, which the
    /// caller keeps open until the file is renamed into place.
    async fn write_file(&self, partial: &Path) -> Result<(Vec<String>, File)> {
        let code = &self.tenant.code;
        let _ = fs::remove_file(partial);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        // Held until the file is closed (or the process dies): it tells a
        // concurrent backup's cleanup that this file is not a leftover.
        file.lock().with_context(|| format!("cannot lock {}", partial.display()))?;
        let mut warnings = Vec::new();

        file.write_all(self.header().as_bytes())?;
        file.write_all(self.roles_and_registry().as_bytes())?;

        let schemas = &self.schemas;
        let mut args = self.common_args();
        // row_security = on in the output: with off, restoring fails at
        // REFRESH MATERIALIZED VIEW, which runs as the owner, held to the
        // policies by FORCE ROW LEVEL SECURITY. Dumping as superuser or
        // BYPASSRLS (checked above) still reads every row.
        args.extend(["--no-publications", "--no-subscriptions", "--enable-row-security"].map(str::to_owned));
        args.extend(schemas.iter().map(|s| format!("--schema={}", quote_ident(s))));
        section(&mut file, &format!("3. pg_dump of schema {}", schemas.join(" and schema ")))?;
        warnings.extend(self.run_pg_dump(&args, &file).await?);

        section(&mut file, &format!("4. the audit log audit.{}", code.audit_log_name()))?;
        file.write_all(self.audit_log_sql().as_bytes())?;
        if self.inventory.audit_log && !self.inventory.partitions.is_empty() {
            let mut args = self.common_args();
            args.extend(
                ["--data-only", "--column-inserts", "--on-conflict-do-nothing", "--load-via-partition-root"]
                    .map(str::to_owned),
            );
            args.push(format!("--rows-per-insert={ROWS_PER_INSERT}"));
            args.extend(
                self.inventory.partitions.iter().map(|(name, _)| format!("--table=\"audit\".{}", quote_ident(name))),
            );
            warnings.extend(self.run_pg_dump(&args, &file).await?);
        }

        section(&mut file, "5. privileges pg_dump leaves out, and the role memberships of the tenant's roles")?;
        let mut tail = String::new();
        for statement in self.explicit_acls.iter().chain(&self.default_privileges).chain(&self.memberships) {
            tail.push_str(statement);
            tail.push('\n');
        }
        tail.push_str("\nRESET app.tenant_id;\nRESET session_replication_role;\n\n-- End of the backup of tenant ");
        tail.push_str(code.as_str());
        tail.push_str(".\n");
        file.write_all(tail.as_bytes())?;
        file.sync_all()?;
        Ok((warnings, file))
    }

    fn header(&self) -> String {
        let tenant = self.tenant;
        let code = &tenant.code;
        let now = time::OffsetDateTime::now_utc();
        let taken = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let preamble = include_str!("sql/backup_preamble.sql")
            .replace("{code}", &quote_literal(code.as_str()))
            .replace("{schema}", &quote_literal(&code.schema_name()))
            .replace("{tenant_id}", &quote_literal(&tenant.id.to_string()));
        format!(
            "-- Backup of tenant {code} ({id}, blueprint {blueprint}, {status}), taken {taken}\n\
             -- from {source}\n\
             -- by provision {version} with pg_dump {pg_dump}.\n\
             --\n\
             -- Restore it as a superuser into a database that has the shared migrations\n\
             -- (`provision migrate`) and no tenant {code}, in one transaction:\n\
             --   psql -X -1 -v ON_ERROR_STOP=1 -d <database> -f <this file>\n\
             -- The audit log audit.{log} is kept by `tenant remove`: its rows are\n\
             -- restored only where they are missing.\n\
             --\n\
             -- It holds every row of the tenant: keep it as safe as the database.\n\
             \n\
             \\set ON_ERROR_STOP on\n\
             SET standard_conforming_strings = on;\n\
             {banner}\
             {preamble}",
            banner = banner("1. checks, and the settings of the restore"),
            id = tenant.id,
            blueprint = tenant.blueprint,
            status = if tenant.status.is_empty() { "no status" } else { &tenant.status },
            source = self.target.describe(),
            version = env!("CARGO_PKG_VERSION"),
            pg_dump = self.tool.version,
            log = code.audit_log_name(),
        )
    }

    /// Section 2: the roles (as `tenant add` creates them) and the registry rows.
    fn roles_and_registry(&self) -> String {
        let code = &self.tenant.code;
        let literal = |sql: &str| {
            sql.replace("{owner}", &quote_literal(&code.owner_role()))
                .replace("{app}", &quote_literal(&code.app_role()))
                .replace("{ro}", &quote_literal(&code.ro_role()))
        };
        let mut sql = String::new();
        sql.push_str(&banner("2. the tenant's roles and its registry rows"));
        // tenant_roles.sql ends with a query listing powerful roles for
        // `tenant add` to refuse; in a script the guard below raises instead.
        let roles = include_str!("../store/sql/tenant_roles.sql");
        let roles = match roles.find("\n$roles$;") {
            Some(end) => &roles[..end + "\n$roles$;".len()],
            None => roles,
        };
        sql.push_str(&literal(roles));
        sql.push_str("\n\n");
        sql.push_str(&literal(include_str!("sql/backup_role_guard.sql")));
        sql.push('\n');
        for statement in &self.registry {
            sql.push_str(statement);
            sql.push('\n');
        }
        sql
    }

    /// Section 4: the audit log and its partitions where this database lacks them.
    fn audit_log_sql(&self) -> String {
        let array = |values: Vec<&str>| {
            if values.is_empty() {
                "ARRAY[]::text[]".to_owned()
            } else {
                format!("ARRAY[{}]", values.into_iter().map(quote_literal).collect::<Vec<_>>().join(", "))
            }
        };
        let names = array(self.inventory.partitions.iter().map(|(n, _)| n.as_str()).collect());
        let bounds = array(self.inventory.partitions.iter().map(|(_, b)| b.as_str()).collect());
        format!(
            "{}\n",
            include_str!("sql/backup_audit_log.sql")
                .replace("{code}", &quote_literal(self.tenant.code.as_str()))
                .replace("{names}", &names)
                .replace("{bounds}", &bounds)
        )
    }

    /// Arguments every pg_dump run gets: plain SQL, no prompt, our snapshot.
    fn common_args(&self) -> Vec<String> {
        vec![
            "--format=plain".to_owned(),
            "--no-password".to_owned(),
            format!("--snapshot={}", self.snapshot),
            format!("--lock-wait-timeout={}", self.lock_timeout.as_millis().max(1)),
        ]
    }

    /// Runs pg_dump with its output appended to `file`. The connection comes
    /// from the environment, never the command line; the inherited `PG*`
    /// variables are removed so only this target counts. Returns pg_dump's
    /// warnings.
    async fn run_pg_dump(&self, args: &[String], file: &File) -> Result<Vec<String>> {
        let mut command = tokio::process::Command::new(&self.tool.path);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PG") {
                command.env_remove(&key);
            }
        }
        command
            .envs(self.target.libpq_env())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().with_context(|| format!("cannot run {}", self.tool.path.display()))?;
        let output = child.wait_with_output().await?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(failed(format!("pg_dump failed: {}", pg_dump_error(&stderr))));
        }
        Ok(stderr.lines().filter(|l| l.contains("warning:")).map(|l| redact(l.trim())).collect())
    }
}

/// The error lines of pg_dump's stderr (with their details, shortened), on one line.
fn pg_dump_error(stderr: &str) -> String {
    const DETAIL_CHARS: usize = 200;
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let errors: Vec<String> = lines
        .iter()
        .filter_map(|l| {
            if let Some(error) = l.strip_prefix("pg_dump: error: ") {
                Some(error.to_owned())
            } else {
                let detail = l.strip_prefix("pg_dump: detail: ")?;
                Some(match detail.char_indices().nth(DETAIL_CHARS) {
                    Some((end, _)) => format!("{}…", &detail[..end]),
                    None => detail.to_owned(),
                })
            }
        })
        .collect();
    let text = if errors.is_empty() {
        lines.last().map(|l| l.trim_start_matches("pg_dump: ").to_owned()).unwrap_or_else(|| "no message".to_owned())
    } else {
        errors.join("; ")
    };
    redact(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn banner(title: &str) -> String {
    format!("\n--\n-- {title}\n--\n\n")
}

fn section(file: &mut File, title: &str) -> Result<()> {
    file.write_all(banner(title).as_bytes())?;
    Ok(())
}

/// Records a backup attempt in `shared.backup_history` (seed 001 §5.2):
/// type 'full', status 'completed' with the size, or 'failed' with the
/// error and the file it was meant for; verification 'pending'. Where the
/// table has `tenant_code` / `storage_location` columns they are filled too.
pub async fn record(
    client: &impl GenericClient,
    tenant: &Registered,
    path: &Path,
    elapsed: Duration,
    outcome: std::result::Result<&Written, &anyhow::Error>,
) -> Result<Uuid> {
    let optional: Vec<String> = client
        .query(
            "SELECT attname::text FROM pg_catalog.pg_attribute \
             WHERE attrelid = 'shared.backup_history'::regclass AND attnum > 0 AND NOT attisdropped \
               AND attname IN ('tenant_code', 'storage_location')",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let has = |column: &str| optional.iter().any(|c| c == column);
    let location = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
    let (size, status, error): (Option<i64>, &str, Option<String>) = match outcome {
        Ok(written) => (Some(i64::try_from(written.size_bytes).unwrap_or(i64::MAX)), "completed", None),
        Err(e) => {
            let mut message = redact(&format!("{e:#}"));
            if !has("storage_location") {
                message.push_str(&format!(" (file {location})"));
            }
            (None, "failed", Some(message))
        }
    };
    let seconds = elapsed.as_secs_f64();
    let code = tenant.code.as_str().to_owned();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&tenant.id, &seconds, &size, &status, &error];
    let (mut columns, mut values) = (String::new(), String::new());
    if has("tenant_code") {
        params.push(&code);
        columns.push_str(", tenant_code");
        values.push_str(&format!(", ${}", params.len()));
    }
    if has("storage_location") {
        params.push(&location);
        columns.push_str(", storage_location");
        values.push_str(&format!(", ${}", params.len()));
    }
    let sql = include_str!("sql/backup_history_insert.sql")
        .replace("{extra_columns}", &columns)
        .replace("{extra_values}", &values);
    let row = client.query_one(&sql, &params).await.context("cannot record the backup in shared.backup_history")?;
    Ok(row.get(0))
}

/// Before a tenant's registry row is deleted: keeps its backup history (see
/// `sql/backup_history_detach.sql`). Returns the rows detached.
pub async fn keep_history(client: &impl GenericClient, tenant_id: Uuid) -> Result<u64> {
    client
        .execute(include_str!("sql/backup_history_detach.sql"), &[&tenant_id])
        .await
        .context("cannot keep the backup history of the tenant")
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
    fn versions_parse() {
        assert_eq!(parse_version("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"), Some((15, "15.18".into())));
        assert_eq!(parse_version("pg_dump (PostgreSQL) 17beta1"), Some((17, "17beta1".into())));
        assert_eq!(parse_version("pg_dump (PostgreSQL) 9.6.24"), Some((9, "9.6.24".into())));
        assert_eq!(parse_version("nothing"), None);
    }

    #[test]
    fn default_names_carry_the_utc_time() {
        let code = TenantCode::parse("lic").unwrap();
        let at = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(default_file_name(&code, at), "lic-20231114T221320Z.sql");
    }

    #[test]
    fn pg_dump_errors_become_one_line() {
        let stderr = "pg_dump: error: connection to server at \"db\" failed: FATAL:  password authentication failed\n";
        assert_eq!(
            pg_dump_error(stderr),
            "connection to server at \"db\" failed: FATAL: password authentication failed"
        );
        assert_eq!(pg_dump_error("something odd\n"), "something odd");
        let stderr = "pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout\n\
                      pg_dump: detail: Query was: LOCK TABLE lic_schema.users IN ACCESS SHARE MODE\n";
        assert_eq!(
            pg_dump_error(stderr),
            "query failed: ERROR: canceling statement due to statement timeout; \
             Query was: LOCK TABLE lic_schema.users IN ACCESS SHARE MODE"
        );
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

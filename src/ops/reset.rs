//! `reset`: drop the target database and provision it again from scratch
//! (development). Refused outside the embedded sandbox unless the caller
//! confirms by naming the database.
//!
//! Two things outlive the dropped database. The audit rows: every
//! `audit.<code>_audit_log` is saved first (to memory and to a 0600 file
//! next to the command, so a crash mid-reset loses nothing) and put back
//! after `up`. And nothing else: the roles of tenants that `up` will not
//! create again (registered but no longer in tenants.toml) are dropped, as
//! `tenant remove` would, instead of being left behind in the cluster.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use bytes::Bytes;
use futures_util::{pin_mut, SinkExt, TryStreamExt};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::error::bad_input;
use crate::model::config::Config;
use crate::model::tenant::TenantCode;
use crate::ops::template_db::TEMPLATE_PREFIX;
use crate::ops::Env;
use crate::pg::connection::Target;
use crate::pg::quote::{quote_ident, quote_literal};
use crate::{store::registry, store::roles};

/// The sandbox may be reset freely; anything else only with `yes` and
/// `confirm` spelling out its database. System databases and templates never.
pub fn check_allowed(target: &Target, confirm: Option<&str>, yes: bool) -> Result<()> {
    let name = target.dbname();
    if matches!(name, "postgres" | "template0" | "template1") || name.starts_with(TEMPLATE_PREFIX) {
        return Err(bad_input(format!("refusing to reset {name}: it is a system database or a provision template")));
    }
    match confirm {
        Some(confirm) if confirm != name => Err(bad_input(format!(
            "--confirm {confirm:?} does not name the target database {name:?}; nothing was changed"
        ))),
        _ if target.is_sandbox() => Ok(()),
        Some(_) if yes => Ok(()),
        _ => Err(bad_input(format!(
            "refusing to reset {}: it is not the embedded sandbox; to drop and re-provision it pass --yes --confirm {name}",
            target.describe()
        ))),
    }
}

/// Before the drop: saves the audit rows of `target`'s database (if it
/// exists), then drops the roles of tenants that `config` will not bring back.
pub async fn prepare(env: &Env<'_>, target: &Target, config: &Config) -> Result<KeptAudit> {
    let Some(mut client) = connect_if_exists(target).await? else { return Ok(KeptAudit::default()) };
    let kept = KeptAudit::save(&client, target.dbname()).await?;
    if let Some(file) = &kept.file {
        env.reporter.note(&format!(
            "saved {} audit rows to {} until they are back in the new database",
            kept.rows(),
            file.display()
        ));
    }
    let registered = registry::snapshot(&client, None).await?;
    let tx = client.transaction().await?;
    for tenant in registered.iter().filter(|t| config.tenant(&t.code).is_none()) {
        let dropped = roles::drop(&tx, &tenant.code).await?;
        if !dropped.kept.is_empty() {
            env.reporter.warn(&format!(
                "roles {} are still used by another database of this cluster and were kept",
                dropped.kept.join(", ")
            ));
        }
    }
    tx.commit().await?;
    Ok(kept)
}

/// The tenants registered in `target`'s database (none when it does not
/// exist yet): a sandbox that holds some is not reset without asking.
pub async fn registered_tenants(target: &Target) -> Result<Vec<String>> {
    let Some(client) = connect_if_exists(target).await? else { return Ok(Vec::new()) };
    Ok(registry::snapshot(&client, None).await?.into_iter().map(|t| t.code.to_string()).collect())
}

/// The database to reset, or `None` when it does not exist (yet).
async fn connect_if_exists(target: &Target) -> Result<Option<Client>> {
    match target.connect().await {
        Ok(client) => Ok(Some(client)),
        Err(e) if e.chain().any(is_missing_database) => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_missing_database(cause: &(dyn std::error::Error + 'static)) -> bool {
    cause.downcast_ref::<tokio_postgres::Error>().and_then(|e| e.code()) == Some(&SqlState::INVALID_CATALOG_NAME)
}

/// One tenant's audit rows, in COPY text format.
struct KeptLog {
    code: TenantCode,
    log: String,
    rows: u64,
    data: Vec<u8>,
}

/// Every audit row of the database being reset, and the file that holds
/// them while the database does not.
#[derive(Default)]
pub struct KeptAudit {
    logs: Vec<KeptLog>,
    file: Option<PathBuf>,
}

/// The audit rows put back into the new database.
#[derive(Debug, Clone, Copy)]
pub struct Restored {
    pub rows: u64,
    pub tenants: usize,
}

impl KeptAudit {
    async fn save(client: &Client, database: &str) -> Result<KeptAudit> {
        let exists: bool = client.query_one("SELECT to_regnamespace('audit') IS NOT NULL", &[]).await?.get(0);
        if !exists {
            return Ok(KeptAudit::default());
        }
        let mut logs = Vec::new();
        for row in client.query(include_str!("sql/reset_audit_logs.sql"), &[]).await? {
            let log: String = row.get("log");
            let Ok(code) = TenantCode::parse(row.get::<_, &str>("code")) else { continue };
            let copy = format!("COPY (SELECT * FROM audit.{}) TO STDOUT", quote_ident(&log));
            let stream = client.copy_out(&copy).await.with_context(|| format!("cannot read audit.{log}"))?;
            pin_mut!(stream);
            let mut data = Vec::new();
            while let Some(chunk) = stream.try_next().await? {
                data.extend_from_slice(&chunk);
            }
            let rows = data.iter().filter(|b| **b == b'\n').count() as u64;
            if rows > 0 {
                logs.push(KeptLog { code, log, rows, data });
            }
        }
        let mut kept = KeptAudit { logs, file: None };
        if !kept.logs.is_empty() {
            kept.file = Some(kept.write_file(database)?);
        }
        Ok(kept)
    }

    fn rows(&self) -> u64 {
        self.logs.iter().map(|l| l.rows).sum()
    }

    /// A psql script that puts the rows back (after `provision up`), in case
    /// this process dies between the drop and the restore.
    fn write_file(&self, database: &str) -> Result<PathBuf> {
        let path = PathBuf::from(format!("reset-{database}-audit-{}.sql", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}; nothing was reset", path.display()))?;
        writeln!(file, "-- Audit rows of database {database}, saved by `provision reset`.")?;
        writeln!(file, "-- Restore after `provision up`: psql -X -1 -v ON_ERROR_STOP=1 -f {}", path.display())?;
        for log in &self.logs {
            writeln!(file, "COPY audit.{} FROM stdin;", quote_ident(&log.log))?;
            file.write_all(&log.data)?;
            writeln!(file, "\\.")?;
        }
        file.sync_all()?;
        Ok(path)
    }

    /// Puts every saved row back into the new database, recreating the logs
    /// of tenants `up` did not create; then the file is no longer needed.
    /// `None`: there was nothing to put back.
    pub async fn restore(&self, target: &Target) -> Result<Option<Restored>> {
        if self.logs.is_empty() {
            return Ok(None);
        }
        let kept_in = |e: anyhow::Error| {
            let file = self.file.as_deref().map_or_else(String::new, |f| f.display().to_string());
            e.context(format!("the audit rows are not back in the new database; they are kept in {file}"))
        };
        let mut client = target.connect().await.map_err(kept_in)?;
        self.copy_back(&mut client).await.map_err(kept_in)?;
        if let Some(file) = &self.file {
            let _ = std::fs::remove_file(file);
        }
        Ok(Some(Restored { rows: self.rows(), tenants: self.logs.len() }))
    }

    async fn copy_back(&self, client: &mut Client) -> Result<()> {
        let tx = client.transaction().await?;
        for log in &self.logs {
            let (code, default, name) =
                (quote_literal(log.code.as_str()), quote_ident(&format!("{}_default", log.log)), quote_ident(&log.log));
            let values = [("code", code.as_str()), ("default", default.as_str()), ("log", name.as_str())];
            let ensure = crate::pg::script::render(include_str!("sql/reset_audit_log_ensure.sql"), &values)?;
            tx.batch_execute(&ensure).await.with_context(|| format!("cannot recreate audit.{}", log.log))?;
            let copy = format!("COPY audit.{} FROM STDIN", quote_ident(&log.log));
            let sink = tx.copy_in::<_, Bytes>(&copy).await?;
            pin_mut!(sink);
            sink.send(Bytes::copy_from_slice(&log.data)).await?;
            sink.finish().await.with_context(|| format!("cannot put the rows back into audit.{}", log.log))?;
        }
        tx.commit().await?;
        Ok(())
    }
}

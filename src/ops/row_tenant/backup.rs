//! A row tenant's backup: a plain SQL file that `psql -X -1 -v
//! ON_ERROR_STOP=1 -f FILE`, run as a superuser, restores into a database
//! whose pack tables exist and where the tenant does not.
//!
//! pg_dump cannot filter rows, so the file is written here: checks, the
//! tenant's roles and registry rows (the same SQL as a schema tenant's
//! backup), then per table, parents first, `COPY … FROM stdin` with the rows
//! `COPY (SELECT … WHERE <tenant column> = <key>) TO STDOUT` read, and the
//! sequences moved past the restored keys. Kept tables (the audit trail,
//! which `tenant remove` leaves in place) are merged with ON CONFLICT DO
//! NOTHING, so restoring after a removal duplicates nothing. Every read runs
//! in the caller's transaction, so the file is one consistent state.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use futures_util::{pin_mut, TryStreamExt};
use tokio_postgres::Transaction;

use super::{qualified, tables, RowTable};
use crate::model::blueprint::RowSpec;
use crate::ops::backup::{partial_path, Written};
use crate::pg::quote::{quote_ident, quote_literal};
use crate::pg::script::render;
use crate::store::registry::Registered;

/// Writes `tenant`'s rows to `out` (mode 0600, as `<out>.partial` first).
pub async fn write(tx: &Transaction<'_>, tenant: &Registered, row: &RowSpec, out: &Path) -> Result<Written> {
    let partial = partial_path(out);
    let result = write_file(tx, tenant, row, &partial).await;
    if let Err(e) = result {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    if fs::symlink_metadata(out).is_ok() {
        let _ = fs::remove_file(&partial);
        return Err(crate::error::bad_input(format!(
            "{} appeared while the backup was written; it was left alone",
            out.display()
        )));
    }
    fs::rename(&partial, out).with_context(|| format!("cannot move the backup into place at {}", out.display()))?;
    Ok(Written { path: out.to_path_buf(), size_bytes: fs::metadata(out)?.len(), warnings: Vec::new() })
}

async fn write_file(tx: &Transaction<'_>, tenant: &Registered, row: &RowSpec, partial: &Path) -> Result<()> {
    let mut file = crate::ops::backup::open_partial(partial)?;
    file.write_all(header(tx, tenant, row).await?.as_bytes())?;
    let tables = tables(tx, row).await?;
    let mut sequences = Vec::new();
    for table in &tables {
        copy_table(tx, tenant, row, table, &mut file).await?;
        sequences.extend(table.sequences.clone());
    }
    let footer = format!("\n-- Sequences: past the restored keys, never back.\n{}\nRESET session_replication_role;\nRESET row_security;\n", sequences.join("\n"));
    file.write_all(footer.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// The comment, the checks, the roles and the registry rows.
async fn header(tx: &Transaction<'_>, tenant: &Registered, row: &RowSpec) -> Result<String> {
    let code = &tenant.code;
    let table = qualified(row, &row.table);
    let preamble = render(
        include_str!("../sql/row_backup_preamble.sql"),
        &[
            ("table", &table),
            ("table_literal", &quote_literal(&table)),
            ("code_column", &quote_ident(&row.code)),
            ("code", &quote_literal(code.as_str())),
            ("blueprint", &quote_literal(&tenant.blueprint)),
        ],
    )?;
    let registry: Vec<String> = tx
        .query(include_str!("../sql/backup_registry.sql"), &[&code.as_str()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(format!(
        "-- provision backup of row tenant {code} (blueprint {}, its rows of schema {})\n\
         -- Restore: psql -X -1 -v ON_ERROR_STOP=1 -f <this file>, as a superuser.\n\n{preamble}\n\
         -- The tenant's roles and registry rows.\n{}\n{};\n{}\n",
        tenant.blueprint,
        row.schema,
        crate::store::roles::roles_sql(code)?,
        super::anchor_sql(code)?.trim_end(),
        registry.join("\n")
    ))
}

/// One table's rows of the tenant, as a COPY block (kept tables merged).
async fn copy_table(
    tx: &Transaction<'_>,
    tenant: &Registered,
    row: &RowSpec,
    table: &RowTable,
    file: &mut fs::File,
) -> Result<()> {
    let name = qualified(row, &table.name);
    let target = match table.kept {
        true => {
            let scratch = quote_ident(&format!("provision_restore_{}", table.name));
            let create =
                render(include_str!("../sql/row_backup_kept.sql"), &[("table", &name), ("scratch", &scratch)])?;
            file.write_all(format!("\n{create}").as_bytes())?;
            scratch
        }
        false => name.clone(),
    };
    file.write_all(format!("\nCOPY {target} ({}) FROM stdin;\n", table.columns).as_bytes())?;
    let mut values = super::statement_names(row, table);
    values.push(("columns", table.columns.clone()));
    values.push(("code", quote_literal(tenant.code.as_str())));
    let pairs: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let copy = render(include_str!("../sql/row_tenant_copy_out.sql"), &pairs)?;
    let stream =
        tx.copy_out(&copy).await.with_context(|| format!("cannot read tenant {}'s rows of {name}", tenant.code))?;
    pin_mut!(stream);
    while let Some(chunk) = stream.try_next().await? {
        file.write_all(&chunk)?;
    }
    file.write_all(b"\\.\n")?;
    if table.kept {
        let scratch = quote_ident(&format!("provision_restore_{}", table.name));
        let merge = render(
            include_str!("../sql/row_backup_kept_merge.sql"),
            &[("table", &name), ("columns", &table.columns), ("scratch", &scratch)],
        )?;
        file.write_all(merge.as_bytes())?;
    }
    Ok(())
}

//! The roles of a tenant: `<code>_owner` owns the schema's objects,
//! `<code>_app` is what application logins are granted into, `<code>_ro`
//! reads. None can log in, none is superuser or BYPASSRLS, and only the
//! owner owns anything.

use anyhow::{Context as _, Result};
use tokio_postgres::{GenericClient, SimpleQueryMessage, Transaction};

use crate::error::{bad_input, failed};
use crate::tenant::{quote_ident, quote_literal, TenantCode};

/// Creates the tenant's roles if missing and joins them to their groups.
/// Refuses a pre-existing role of the same name that carries power.
pub async fn ensure(tx: &Transaction<'_>, code: &TenantCode) -> Result<()> {
    let sql = include_str!("sql/tenant_roles.sql")
        .replace("{owner}", &quote_literal(&code.owner_role()))
        .replace("{app}", &quote_literal(&code.app_role()))
        .replace("{ro}", &quote_literal(&code.ro_role()));
    let messages = tx.simple_query(&sql).await.with_context(|| format!("cannot create the roles of tenant {code}"))?;
    let powerful: Vec<String> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect();
    if !powerful.is_empty() {
        return Err(failed(format!(
            "role {} already exists with superuser, BYPASSRLS, CREATEROLE or CREATEDB; a tenant role must have none — \
             drop or alter it first",
            powerful.join(", ")
        )));
    }
    Ok(())
}

/// Grants `<code>_app` (or `<code>_ro`) to an existing login role.
pub async fn grant(client: &impl GenericClient, code: &TenantCode, login: &str, read_only: bool) -> Result<String> {
    let row =
        client.query_opt("SELECT rolcanlogin, rolsuper FROM pg_catalog.pg_roles WHERE rolname = $1", &[&login]).await?;
    let Some(row) = row else {
        return Err(bad_input(format!(
            "role {login:?} does not exist; create the login role first (CREATE ROLE … LOGIN)"
        )));
    };
    if !row.get::<_, bool>(0) {
        return Err(bad_input(format!("role {login:?} cannot log in; grant tenant roles to LOGIN roles only")));
    }
    let tenant_role = if read_only { code.ro_role() } else { code.app_role() };
    client
        .batch_execute(&format!("GRANT {} TO {}", quote_ident(&tenant_role), quote_ident(login)))
        .await
        .with_context(|| format!("cannot grant {tenant_role} to {login}"))?;
    Ok(tenant_role)
}

/// Drops the tenant's roles after dropping what they own or are granted in
/// this database. Roles are cluster-wide: when another database still uses
/// them, they are kept and the names are returned.
pub async fn drop(tx: &Transaction<'_>, code: &TenantCode) -> Result<Vec<String>> {
    let roles = [code.owner_role(), code.app_role(), code.ro_role()];
    let existing: Vec<String> = tx
        .query("SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY ($1)", &[&roles.to_vec()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if existing.is_empty() {
        return Ok(Vec::new());
    }
    let idents: Vec<String> = existing.iter().map(|r| quote_ident(r)).collect();
    tx.batch_execute(&format!("DROP OWNED BY {}", idents.join(", "))).await?;
    tx.batch_execute("SAVEPOINT drop_roles").await?;
    match tx.batch_execute(&format!("DROP ROLE {}", idents.join(", "))).await {
        Ok(()) => Ok(Vec::new()),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DEPENDENT_OBJECTS_STILL_EXIST) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT drop_roles").await?;
            Ok(existing)
        }
        Err(e) => Err(e.into()),
    }
}

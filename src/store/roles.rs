//! The roles of a tenant: `<code>_owner` owns the schema's objects,
//! `<code>_app` is what application logins are granted into, `<code>_ro`
//! reads. None can log in, none is superuser or BYPASSRLS, and only the
//! owner owns anything.
//!
//! An inactive tenant (`tenant remove --keep-data`) keeps its roles and
//! their members, but the app and read-only roles lose USAGE on its schemas,
//! so no login granted them reads anything until `tenant activate`.

use anyhow::{Context as _, Result};
use serde_json::json;
use tokio_postgres::{GenericClient, SimpleQueryMessage, Transaction};
use uuid::Uuid;

use crate::error::{bad_input, failed};
use crate::model::blueprint::Identity;
use crate::model::tenant::TenantCode;
use crate::pg::owned_ddl::{self, Lasting};
use crate::pg::quote::{quote_ident, quote_literal};

/// Acting as the tenant's owner: `<code>_owner`, so it owns what it creates
/// and its default privileges apply, with `app.tenant_id` naming the tenant,
/// because FORCE ROW LEVEL SECURITY binds the owner too and work that moves
/// data must see the tenant's rows. The one place this is spelled.
pub fn act_as_owner_sql(identity: &Identity, lasting: Lasting) -> String {
    format!(
        "{}; SELECT set_config('app.tenant_id', {}, {})",
        owned_ddl::set_role(&identity.code.owner_role(), lasting),
        quote_literal(&identity.tenant_id.to_string()),
        lasting.is_local()
    )
}

/// Ends [`act_as_owner_sql`]: back to the session's role, no tenant named.
pub fn stop_acting_sql(lasting: Lasting) -> String {
    format!("RESET ROLE; SELECT set_config('app.tenant_id', '', {})", lasting.is_local())
}

pub async fn act_as_owner(client: &impl GenericClient, identity: &Identity, lasting: Lasting) -> Result<()> {
    client.batch_execute(&act_as_owner_sql(identity, lasting)).await?;
    Ok(())
}

pub async fn stop_acting(client: &impl GenericClient, lasting: Lasting) -> Result<()> {
    client.batch_execute(&stop_acting_sql(lasting)).await?;
    Ok(())
}

/// `tenant_roles.sql` for one tenant: creates its roles if missing, joins
/// them to their groups, and ends with a query naming any that carry power.
/// `tenant render` and backups write the same SQL into their scripts.
pub fn roles_sql(code: &TenantCode) -> Result<String> {
    let (owner, app, ro) =
        (quote_literal(&code.owner_role()), quote_literal(&code.app_role()), quote_literal(&code.ro_role()));
    crate::pg::script::render(include_str!("sql/tenant_roles.sql"), &[("owner", &owner), ("app", &app), ("ro", &ro)])
}

/// Creates the tenant's roles if missing and joins them to their groups.
/// Refuses a pre-existing role of the same name that carries power.
pub async fn ensure(tx: &Transaction<'_>, code: &TenantCode) -> Result<()> {
    let sql = roles_sql(code)?;
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

/// What [`drop`] did with a tenant's roles.
#[derive(Debug, Default)]
pub struct DroppedRoles {
    pub dropped: Vec<String>,
    /// Still used by another database of this cluster.
    pub kept: Vec<String>,
}

/// Drops the tenant's roles after dropping what they own or are granted in
/// this database. Roles are cluster-wide: when another database still uses
/// them, they are kept (and named in `kept`).
pub async fn drop(tx: &Transaction<'_>, code: &TenantCode) -> Result<DroppedRoles> {
    let roles = [code.owner_role(), code.app_role(), code.ro_role()];
    let existing: Vec<String> = tx
        .query("SELECT rolname::text FROM pg_catalog.pg_roles WHERE rolname = ANY ($1)", &[&roles.to_vec()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if existing.is_empty() {
        return Ok(DroppedRoles::default());
    }
    let idents: Vec<String> = existing.iter().map(|r| quote_ident(r)).collect();
    // One role at a time: with the schema still there, `DROP OWNED BY owner,
    // app, ro` meets the owner's default ACL for app twice and fails ("could
    // not find tuple for default ACL").
    for ident in &idents {
        tx.batch_execute(&format!("DROP OWNED BY {ident}")).await?;
    }
    tx.batch_execute("SAVEPOINT drop_roles").await?;
    match tx.batch_execute(&format!("DROP ROLE {}", idents.join(", "))).await {
        Ok(()) => Ok(DroppedRoles { dropped: existing, kept: Vec::new() }),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DEPENDENT_OBJECTS_STILL_EXIST) => {
            tx.batch_execute("ROLLBACK TO SAVEPOINT drop_roles").await?;
            Ok(DroppedRoles { dropped: Vec::new(), kept: existing })
        }
        Err(e) => Err(e.into()),
    }
}

/// The schemas whose USAGE gates a tenant's data: its own and its archive.
fn tenant_schemas(code: &TenantCode) -> Vec<String> {
    vec![code.schema_name(), format!("{code}_archive")]
}

/// Revokes the app and read-only roles' USAGE on the tenant's schemas and
/// records what was revoked in `shared.tenant_config`. Returns `schema: role`.
pub async fn suspend_access(tx: &Transaction<'_>, code: &TenantCode, tenant_id: Uuid) -> Result<Vec<String>> {
    let roles = vec![code.app_role(), code.ro_role()];
    let rows = tx.query(include_str!("sql/tenant_access_held.sql"), &[&tenant_schemas(code), &roles]).await?;
    let held: Vec<(String, String)> = rows.iter().map(|r| (r.get("schema"), r.get("role"))).collect();
    let record: Vec<serde_json::Value> = held.iter().map(|(s, r)| json!({ "schema": s, "role": r })).collect();
    if !record.is_empty() {
        tx.execute(include_str!("sql/tenant_access_record.sql"), &[&tenant_id, &serde_json::Value::from(record)])
            .await
            .with_context(|| format!("cannot record the access of tenant {code} in shared.tenant_config"))?;
    }
    for (schema, role) in &held {
        tx.batch_execute(&format!("REVOKE USAGE ON SCHEMA {} FROM {}", quote_ident(schema), quote_ident(role)))
            .await
            .with_context(|| format!("cannot revoke USAGE on {schema} from {role}"))?;
    }
    Ok(held.iter().map(|(s, r)| format!("{s}: {r}")).collect())
}

/// Gives back what [`suspend_access`] revoked. A tenant deactivated before
/// anything was recorded gets what every blueprint grants: USAGE on its
/// schema to its app and read-only roles. Returns `schema: role`.
pub async fn restore_access(tx: &Transaction<'_>, code: &TenantCode, tenant_id: Uuid) -> Result<Vec<String>> {
    let recorded = tx.query_opt(include_str!("sql/tenant_access_recorded.sql"), &[&tenant_id]).await?;
    let grants: Vec<(String, String)> = match recorded {
        Some(row) => {
            let value: serde_json::Value = row.get(0);
            let pairs = value.as_array().cloned().unwrap_or_default();
            pairs
                .iter()
                .filter_map(|p| Some((p["schema"].as_str()?.to_owned(), p["role"].as_str()?.to_owned())))
                .collect()
        }
        None => [code.app_role(), code.ro_role()].into_iter().map(|r| (code.schema_name(), r)).collect(),
    };
    let mut restored = Vec::new();
    for (schema, role) in grants {
        let exists: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1) \
                 AND EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $2)",
                &[&schema, &role],
            )
            .await?
            .get(0);
        if exists && !restored.contains(&format!("{schema}: {role}")) {
            tx.batch_execute(&format!("GRANT USAGE ON SCHEMA {} TO {}", quote_ident(&schema), quote_ident(&role)))
                .await
                .with_context(|| format!("cannot grant USAGE on {schema} to {role}"))?;
            restored.push(format!("{schema}: {role}"));
        }
    }
    Ok(restored)
}

//! `db list`, `db drop` and `reset`: the databases provision made, told
//! apart by their comments (spares and templates by their names), and
//! dropping or recreating one.

use anyhow::{Context as _, Result};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use super::{drop_database, CLONE_COMMENT, HASH_HEX, TEMPLATE_COMMENT, TEMPLATE_PREFIX};
use crate::error::bad_input;
use crate::pg::quote::quote_ident;

/// Between a template's name and a spare's number (the listing tells spares
/// by it; the pool names them with it).
pub(super) const SPARE_INFIX: &str = "_spare_";

/// One database of `db list`.
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub is_template: bool,
    pub bytes: i64,
    pub size: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Made by `db create` from `template`.
    Clone { template: String },
    /// A template (or, unless `is_template`, an unfinished build).
    Template {
        hash: String,
        /// `none` or the number of policies per tenant.
        sample: String,
        /// The tenants.toml it was made for.
        config: String,
    },
    /// A spare clone of `template` (the template with `hash`), kept for the
    /// next `db create` to rename (see [`super::pool`]).
    Spare { hash: String, template: String },
}

/// The databases `db create` made, the templates and their spares, by name, with their sizes.
pub async fn list(admin: &Client) -> Result<Vec<Listed>> {
    entries(admin, true).await
}

/// Like [`list`]; without sizes (0, ""), which cost a walk of every database's files.
pub(super) async fn entries(admin: &Client, sizes: bool) -> Result<Vec<Listed>> {
    let rows = admin.query_typed(include_str!("../sql/template_db_list.sql"), &[(&sizes, Type::BOOL)]).await?;
    let mut listed = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.get("name");
        let Some(kind) = kind_of(&name, &row.get::<_, String>("comment")) else { continue };
        listed.push(Listed {
            name,
            is_template: row.get("is_template"),
            bytes: row.get::<_, Option<i64>>("bytes").unwrap_or_default(),
            size: row.get("size"),
            kind,
        });
    }
    Ok(listed)
}

/// What a listed database is, from its name and comment.
fn kind_of(name: &str, comment: &str) -> Option<Kind> {
    if let Some(template) = comment.strip_prefix(CLONE_COMMENT) {
        return Some(Kind::Clone { template: template.to_owned() });
    }
    // The query matched the whole name: the hash is there.
    let rest = name.strip_prefix(TEMPLATE_PREFIX)?;
    let hash = rest.get(..HASH_HEX)?.to_owned();
    if rest[HASH_HEX..].starts_with(SPARE_INFIX) {
        return Some(Kind::Spare { template: format!("{TEMPLATE_PREFIX}{hash}"), hash });
    }
    let (sample, config) = comment
        .strip_prefix(TEMPLATE_COMMENT)
        .and_then(|rest| rest.strip_prefix("sample "))
        .and_then(|rest| rest.split_once("; config "))
        .map_or((String::new(), String::new()), |(s, c)| (s.to_owned(), c.to_owned()));
    Some(Kind::Template { hash, sample, config })
}

/// Drops a database `db create` made; returns the template it came from.
/// Refuses (exit 2) unknown databases and any without provision's comment.
pub async fn drop_clone(admin: &Client, name: &str) -> Result<String> {
    let row = admin
        .query_opt(
            "SELECT coalesce(pg_catalog.shobj_description(oid, 'pg_database'), '') FROM pg_catalog.pg_database WHERE datname = $1",
            &[&name],
        )
        .await?;
    let Some(row) = row else {
        return Err(bad_input(format!("database {name} does not exist; see `provision db list`")));
    };
    let comment: String = row.get(0);
    let Some(template) = comment.strip_prefix(CLONE_COMMENT) else {
        return Err(bad_input(format!(
            "database {name} was not made by `provision db create`; refusing to drop it (see `provision db list`)"
        )));
    };
    drop_database(admin, name, false).await?;
    Ok(template.to_owned())
}

/// `reset`: drops `name` (terminating its sessions) and creates it empty
/// again with the same owner.
pub async fn recreate(admin: &Client, name: &str) -> Result<()> {
    let owner: Option<String> = admin
        .query_opt(
            "SELECT pg_catalog.pg_get_userbyid(datdba)::text FROM pg_catalog.pg_database WHERE datname = $1",
            &[&name],
        )
        .await?
        .map(|r| r.get(0));
    drop_database(admin, name, false).await?;
    let owner = owner.map(|o| format!(" OWNER {}", quote_ident(&o))).unwrap_or_default();
    admin
        .batch_execute(&format!("CREATE DATABASE {}{owner}", quote_ident(name)))
        .await
        .with_context(|| format!("dropped database {name} but cannot create it again"))?;
    Ok(())
}

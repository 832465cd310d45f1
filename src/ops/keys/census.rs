//! What `keys rotate` reads before it writes anything: whether the declared
//! columns are there and hold ciphertext, which key ids the values carry,
//! which key versions the tenant has recorded, and whether the old key
//! really decrypts a sample of its values.

use std::collections::BTreeMap;

use anyhow::Result;
use tokio_postgres::Client;

use super::{KeyIds, Rotation};
use crate::error::bad_input;
use crate::model::blueprint::EncryptedSpec;
use crate::model::tenant::TenantCode;
use crate::pg::quote::{quote_ident, quote_literal};

/// One declared table, checked against the tenant's schema.
#[derive(Debug, Clone)]
pub(super) struct Table {
    /// `schema.table`, quoted.
    pub quoted: String,
    pub spec: EncryptedSpec,
    /// The key column's type as SQL spells it.
    pub key_type: String,
}

/// Values per (table, column, key id).
#[derive(Debug, Default)]
pub(super) struct Counts(pub BTreeMap<(String, String, String), u64>);

impl Counts {
    /// Values of every column that carry `key_id`.
    pub fn carrying(&self, key_id: &str) -> u64 {
        self.0.iter().filter(|((_, _, id), _)| id == key_id).map(|(_, n)| n).sum()
    }
}

/// Checks every declared table and column in `schema`; a missing one, a
/// column that is not `shared.ciphertext`, or a key column without a unique
/// index is bad input naming the blueprint.
pub(super) async fn check_columns(
    client: &Client,
    schema: &str,
    specs: &[EncryptedSpec],
    blueprint: &str,
) -> Result<Vec<Table>> {
    let mut tables = Vec::new();
    for spec in specs {
        let names: Vec<&str> =
            std::iter::once(spec.key.as_str()).chain(spec.columns.iter().map(String::as_str)).collect();
        let table_names = vec![spec.table.as_str(); names.len()];
        let rows = client.query(include_str!("../sql/keys_columns.sql"), &[&schema, &table_names, &names]).await?;
        let what = |column: &str| format!("blueprint {blueprint} declares {}.{column} [[encrypted]], but", spec.table);
        let mut key_type = String::new();
        for (i, row) in rows.iter().enumerate() {
            let column: String = row.get("column_name");
            if !row.get::<_, bool>("table_found") {
                return Err(bad_input(format!(
                    "{} {schema} has no table {}; run `provision up`",
                    what(&column),
                    spec.table
                )));
            }
            if !row.get::<_, bool>("column_found") {
                return Err(bad_input(format!("{} {schema}.{} has no column {column}", what(&column), spec.table)));
            }
            if i == 0 {
                if !row.get::<_, bool>("is_unique") {
                    return Err(bad_input(format!(
                        "{} its key column {column} has no unique index of its own; declare the primary key as `key`",
                        what(&column)
                    )));
                }
                key_type = row.get("type_name");
            } else if !row.get::<_, bool>("is_ciphertext") {
                return Err(bad_input(format!(
                    "{} the column is {}, not shared.ciphertext; make it shared.ciphertext in the blueprint",
                    what(&column),
                    row.get::<_, String>("type_name")
                )));
            }
        }
        tables.push(Table {
            quoted: format!("{}.{}", quote_ident(schema), quote_ident(&spec.table)),
            spec: spec.clone(),
            key_type,
        });
    }
    Ok(tables)
}

/// Counts the values of every table per column and key id (one scan each).
pub(super) async fn count(client: &Client, tables: &[Table]) -> Result<Counts> {
    let mut counts = Counts::default();
    for table in tables {
        for row in client.query(&census_sql(table), &[]).await? {
            let key = (table.spec.table.clone(), row.get("column_name"), row.get("key_id"));
            counts.0.insert(key, row.get::<_, i64>("value_count") as u64);
        }
    }
    Ok(counts)
}

/// `keys_census.sql` for one table.
pub(super) fn census_sql(table: &Table) -> String {
    let columns: Vec<String> = table.spec.columns.iter().map(|c| quote_literal(c)).collect();
    let key_ids: Vec<String> =
        table.spec.columns.iter().map(|c| format!("substr(t.{}, 6, 12)", quote_ident(c))).collect();
    without_comments(include_str!("../sql/keys_census.sql"))
        .replace("{table}", &table.quoted)
        .replace("{columns}", &columns.join(", "))
        .replace("{key_ids}", &key_ids.join(", "))
}

/// A statement template without its comment lines, whose placeholder names
/// must not be filled in (a multi-line fragment would end the comment).
pub(super) fn without_comments(template: &str) -> String {
    template.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n")
}

/// The tenant's recorded key versions: id → retired.
pub(super) async fn recorded_keys(client: &Client, code: &TenantCode) -> Result<BTreeMap<String, bool>> {
    let rows = client.query(include_str!("../sql/keys_tenant_keys.sql"), &[&code.as_str()]).await?;
    Ok(rows.iter().map(|r| (r.get("key_id"), r.get("retired"))).collect())
}

/// Decrypts (on the server, returning only a count) up to three values of
/// every column that name the old key; any failure is bad input.
pub(super) async fn sample(
    client: &Client,
    tables: &[Table],
    counts: &Counts,
    ids: &KeyIds,
    rotation: &Rotation<'_>,
) -> Result<()> {
    for table in tables {
        for column in &table.spec.columns {
            if !counts.0.contains_key(&(table.spec.table.clone(), column.clone(), ids.from.clone())) {
                continue;
            }
            let sql = without_comments(include_str!("../sql/keys_sample.sql"))
                .replace("{table}", &table.quoted)
                .replace("{column}", &quote_ident(column));
            let refused = |why: String| {
                bad_input(format!(
                    "--from-key-file {} (key id {}) does not decrypt the values of {}.{column} ({why}); \
                     nothing was changed, pass the file of the key they were encrypted with",
                    rotation.from.path().display(),
                    ids.from,
                    table.spec.table
                ))
            };
            let row = client
                .query_one(&sql, &[&ids.from, &rotation.from.expose()])
                .await
                .map_err(|e| refused(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned())))?;
            if row.get::<_, i64>("decrypted") == 0 {
                return Err(refused("they decrypt to nothing".to_owned()));
            }
        }
    }
    Ok(())
}

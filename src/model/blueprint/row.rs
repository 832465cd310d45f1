//! `[row]` of `blueprint.toml`: where a row-tenancy pack (issue 14) keeps
//! its tenants, and the load-time checks of it. Apart from the manifest so
//! that what one tenancy model declares reads as one piece.

use serde::Deserialize;

use super::manifest::{Manifest, Tenancy};

/// `[row]`: the tables of a row-tenancy pack live in `schema` (one of
/// `[shared] schemas`, made by `shared/`). A tenant is one row of `table`,
/// found by its `code` column (the tenant code) and keyed by `key`; every
/// other table holding tenant data carries `column` (referencing `key`),
/// RLS ENABLEd and FORCEd, and a restrictive policy on `column` that reads
/// the per-transaction `setting`. `tenant add` inserts the row: `code`, the
/// tenant's name into `name`, and each declared attribute into the column of
/// the same name.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RowSpec {
    pub schema: String,
    pub table: String,
    #[serde(default = "RowSpec::default_key")]
    pub key: String,
    #[serde(default = "RowSpec::default_code")]
    pub code: String,
    #[serde(default = "RowSpec::default_name")]
    pub name: String,
    pub column: String,
    /// The setting (`app.centre_id`) the restrictive policies compare `column` with.
    pub setting: String,
    /// Tables of shared reference data: no tenant column, no tenant policy.
    #[serde(default)]
    pub reference: Vec<String>,
    /// Tables whose rows outlive a removed tenant (its audit trail): they
    /// carry `column` but no foreign key to `table`, and `tenant remove`
    /// leaves their rows (a backup still holds them).
    #[serde(default)]
    pub keep: Vec<String>,
    /// The column of `table` that `tenant activate` / `remove --keep-data`
    /// set to `active` / `inactive`, when the pack has one.
    pub status: Option<String>,
}

impl RowSpec {
    fn default_key() -> String {
        "id".to_owned()
    }

    fn default_code() -> String {
        "code".to_owned()
    }

    fn default_name() -> String {
        "name".to_owned()
    }

    /// Every identifier `[row]` names, for the plain-identifier check.
    fn identifiers(&self) -> impl Iterator<Item = &str> {
        [&self.schema, &self.table, &self.key, &self.code, &self.name, &self.column]
            .into_iter()
            .chain(&self.reference)
            .chain(&self.keep)
            .chain(&self.status)
            .map(String::as_str)
    }
}

/// `[row]` exactly with `tenancy = "row"`; its names plain; its schema one of
/// `[shared] schemas`; a row pack has no `tenant/` templates of its own to
/// audit or partition per tenant, nor an administrator template.
pub(super) fn check_row(manifest: &Manifest, plain: &dyn Fn(&str) -> bool) -> Result<(), String> {
    let row = match (manifest.tenancy, &manifest.row) {
        (Tenancy::Schema, None) => return Ok(()),
        (Tenancy::Schema, Some(_)) => return Err("[row] is only for tenancy = \"row\"".to_owned()),
        (Tenancy::Row, None) => {
            return Err("tenancy = \"row\" needs [row]: schema, table, column and setting".to_owned())
        }
        (Tenancy::Row, Some(row)) => row,
    };
    if let Some(bad) = row.identifiers().find(|n| !plain(n)) {
        return Err(format!("[row] {bad:?} is not a plain lower-case identifier"));
    }
    let setting_ok = row.setting.split_once('.').is_some_and(|(a, b)| plain(a) && plain(b));
    if !setting_ok {
        return Err(format!("[row] setting {:?}: use a two-part name such as \"app.centre_id\"", row.setting));
    }
    if !manifest.shared.schemas.contains(&row.schema) {
        return Err(format!("[row] schema {:?} must be one of [shared] schemas", row.schema));
    }
    let per_tenant = [
        (manifest.audit.is_some(), "[audit]"),
        (!manifest.partitioned.is_empty(), "[[partitioned]]"),
        (manifest.admin_template.is_some(), "admin_template"),
    ];
    if let Some((_, what)) = per_tenant.iter().find(|(present, _)| *present) {
        return Err(format!(
            "{what} is for schema tenancy; a row pack keeps its audit trail and partitions in shared/"
        ));
    }
    if let Some(bad) = manifest.attributes.keys().find(|n| !plain(n)) {
        return Err(format!(
            "[attributes] {bad:?}: a row pack's attributes are columns of [row] table; use plain names"
        ));
    }
    Ok(())
}

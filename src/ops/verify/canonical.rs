//! Tenant-independent forms of catalog facts, computed without deparsing.
//!
//! Deparsing (`pg_get_indexdef`, `pg_get_expr`, `pg_get_viewdef`, …) every
//! object of every tenant is what made verify slow: those functions cost
//! tens of microseconds per call. Instead the digest query returns the raw
//! catalog fields and stored node trees (`pg_node_tree`), and this module
//! turns them into a form in which two tenants of one blueprint are equal:
//!
//! - object ids of user objects (≥ 16384: types, relations, functions, enum
//!   labels, roles, …) become the object's qualified name, because each
//!   tenant's copy has its own ids;
//! - source positions (`:location`) are dropped, because the rendered SQL of
//!   two tenants differs in length (their names do);
//! - constants are decoded where they can hold a tenant's name or id (text,
//!   uuid, enum labels, `regclass`), and then the tenant's names are replaced
//!   by placeholders, as for every other detail.
//!
//! Only objects whose canonical forms differ are deparsed, for the report;
//! deparsed definitions that a dump and restore only writes differently are
//! equal (`restored.rs`).

mod restored;
mod tree;

use std::collections::HashMap;

use uuid::Uuid;

use crate::model::tenant::TenantCode;

pub use restored::same_definition;
pub use tree::tree;

/// Ids below this are the server's own objects: the same in every database.
const FIRST_USER_OID: u32 = 16384;

/// Names of the user objects of one database, by object id. A name is
/// stored twice: as it is, and with its owner's names replaced by
/// placeholders, which is the form used in that owner's own facts (a
/// reference to another tenant's object must keep that tenant's name).
#[derive(Default, Clone)]
pub struct OidNames(HashMap<u32, Named>);

#[derive(Clone)]
struct Named {
    /// The tenant (or reference) the object belongs to, if any.
    owner: Option<u32>,
    raw: String,
    normalized: Option<String>,
}

/// Whose facts are being made canonical: an owner id and its normalizer.
#[derive(Clone, Copy)]
pub struct Owner<'a> {
    pub id: u32,
    pub normalizer: &'a Normalizer,
}

impl OidNames {
    /// From the rows of `verify_oid_names.sql`: (oid, schema, name). `owner_of`
    /// tells, from a schema (none for roles) and a name, whose object it is.
    pub fn from_rows<'a>(
        rows: &[tokio_postgres::Row],
        owner_of: impl Fn(Option<&str>, &str) -> Option<Owner<'a>>,
    ) -> Self {
        let mut names = OidNames::default();
        names.extend(rows, owner_of);
        names
    }

    /// Adds the names of another query (objects made since, say).
    pub fn extend<'a>(
        &mut self,
        rows: &[tokio_postgres::Row],
        owner_of: impl Fn(Option<&str>, &str) -> Option<Owner<'a>>,
    ) {
        for row in rows {
            let (oid, schema, local, raw): (u32, Option<&str>, &str, String) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            let owner = owner_of(schema, local);
            let normalized = owner.and_then(|o| match o.normalizer.apply_cow(&raw) {
                std::borrow::Cow::Owned(normalized) => Some(normalized),
                std::borrow::Cow::Borrowed(_) => None,
            });
            self.0.insert(oid, Named { owner: owner.map(|o| o.id), raw, normalized });
        }
    }

    /// The name of an object as it appears in the facts of `owner`.
    fn get(&self, oid: u32, owner: u32) -> Option<&str> {
        if oid < FIRST_USER_OID {
            return None;
        }
        let named = self.0.get(&oid)?;
        match (&named.normalized, named.owner == Some(owner)) {
            (Some(normalized), true) => Some(normalized),
            _ => Some(&named.raw),
        }
    }
}

/// Replaces what differs between two tenants of one blueprint by design:
/// their schema, audit log, roles, id and code.
pub struct Normalizer {
    code: String,
    tenant_id: String,
    replacements: Vec<(String, &'static str)>,
    quoted_code: String,
}

impl Normalizer {
    pub fn new(code: &TenantCode, tenant_id: Uuid) -> Self {
        Normalizer {
            code: code.as_str().to_owned(),
            tenant_id: tenant_id.to_string(),
            replacements: vec![
                (code.schema_name(), "{schema}"),
                (code.audit_log_name(), "{audit_log}"),
                (code.owner_role(), "{owner}"),
                (code.app_role(), "{app}"),
                (code.ro_role(), "{ro}"),
                (tenant_id.to_string(), "{tenant_id}"),
            ],
            quoted_code: format!("'{code}'"),
        }
    }

    pub fn apply(&self, text: &str) -> String {
        self.apply_cow(text).into_owned()
    }

    /// Puts the tenant's own names back in place of the placeholders, for
    /// the report.
    pub fn restore(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, placeholder) in &self.replacements {
            out = out.replace(placeholder, name);
        }
        out.replace("'{code}'", &self.quoted_code)
    }

    /// As `apply`, borrowing the text when there is nothing to replace.
    pub fn apply_cow<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        // Every name but the id contains the code: one search settles most texts.
        let has_id = text.len() >= 36 && text.contains(self.tenant_id.as_str());
        if !has_id && !text.contains(self.code.as_str()) {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = text.to_owned();
        for (from, to) in &self.replacements {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        if out.contains(&self.quoted_code) {
            out = out.replace(&self.quoted_code, "'{code}'");
        }
        std::borrow::Cow::Owned(out)
    }
}

/// A plain detail in which object ids are written `#<oid>`.
pub fn plain(detail: &str, names: &OidNames, owner: Owner, out: &mut String) {
    let start = out.len();
    let mut rest = detail;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let token = &rest[at + 1..at + 1 + digits];
        match token.parse::<u32>().ok().and_then(|oid| names.get(oid, owner.id)) {
            Some(name) => out.push_str(name),
            None => {
                out.push('#');
                out.push_str(token);
            }
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    // Role names, acl items and bodies carry tenant names as text.
    if let std::borrow::Cow::Owned(normalized) = owner.normalizer.apply_cow(&out[start..]) {
        out.truncate(start);
        out.push_str(&normalized);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalizer() -> Normalizer {
        let code = TenantCode::parse("lic").unwrap();
        Normalizer::new(&code, Uuid::from_u128(0xd35f21e8_a9d0_59d3_9b0b_73c0a4609d19))
    }

    fn names() -> OidNames {
        let lic = normalizer();
        let named = |raw: &str| Named { owner: Some(0), raw: raw.to_owned(), normalized: Some(lic.apply(raw)) };
        OidNames(HashMap::from([
            (17424, named("type lic_schema.widget_state")),
            (17428, named("enum lic_schema.widget_state.pending_approval")),
            (17500, Named { owner: Some(1), raw: "relation hdfc_schema.widgets".to_owned(), normalized: None }),
        ]))
    }

    fn canonical(text: &str) -> String {
        let mut out = String::new();
        tree(text, &names(), Owner { id: 0, normalizer: &normalizer() }, &mut out);
        out
    }

    #[test]
    fn enum_constants_become_labels_and_locations_go() {
        let text = "{CONST :consttype 17424 :consttypmod -1 :constcollid 0 :constlen 4 :constbyval true \
                    :constisnull false :location 6189 :constvalue 4 [ 20 68 0 0 0 0 0 0 ]}";
        assert_eq!(
            canonical(text),
            "{CONST :consttype type {schema}.widget_state :consttypmod -1 :constcollid 0 :constlen 4 \
             :constbyval true :constisnull false :constvalue enum {schema}.widget_state.pending_approval}"
        );
    }

    #[test]
    fn text_and_uuid_constants_are_decoded_and_normalized() {
        let text = "({CONST :consttype 25 :location 3 :constvalue 17 [ 68 0 0 0 97 112 112 46 116 101 110 97 110 116 \
                    95 105 100 ]} {CONST :consttype 2950 :constvalue 16 [ -45 95 33 -24 -87 -48 89 -45 -101 11 115 \
                    -64 -92 96 -99 25 ]})";
        assert_eq!(
            canonical(text),
            "({CONST :consttype 25 :constvalue 'app.tenant_id'} {CONST :consttype 2950 :constvalue {tenant_id}})"
        );
    }

    #[test]
    fn typmods_and_unknown_ids_stay_as_they_are() {
        assert_eq!(
            canonical("{VAR :vartype 17424 :vartypmod 17424 :varattno 3}"),
            "{VAR :vartype type {schema}.widget_state :vartypmod 17424 :varattno 3}"
        );
        assert_eq!(canonical("(o 25 17424 99999)"), "(o 25 type {schema}.widget_state 99999)");
        assert_eq!(canonical(":colnames (\"location\" \":location 5\")"), ":colnames (\"location\" \":location 5\")");
    }

    #[test]
    fn restore_undoes_apply() {
        let lic = normalizer();
        let text =
            "lic_schema.items lic_app=r/lic_owner 'lic' d35f21e8-a9d0-59d3-9b0b-73c0a4609d19 audit.lic_audit_log";
        assert_eq!(lic.apply(text), "{schema}.items {app}=r/{owner} '{code}' {tenant_id} audit.{audit_log}");
        assert_eq!(lic.restore(&lic.apply(text)), text);
    }

    #[test]
    fn another_tenants_objects_keep_their_names() {
        assert_eq!(canonical("{RANGETBLENTRY :relid 17500}"), "{RANGETBLENTRY :relid relation hdfc_schema.widgets}");
    }

    #[test]
    fn plain_details_map_marked_ids() {
        let mut out = String::new();
        let lic = normalizer();
        plain("#17424 -1 NOT NULL acl lic_app=r/lic_owner #5", &names(), Owner { id: 0, normalizer: &lic }, &mut out);
        assert_eq!(out, "type {schema}.widget_state -1 NOT NULL acl {app}=r/{owner} #5");
    }
}

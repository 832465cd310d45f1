//! The isolation invariants of one tenant schema (src/sql/gate_invariants.sql):
//! one catalog query scoped to the schema, cheap enough to run on every
//! tenant of a large fleet just before its commit, and on a reference tenant
//! after every pending version.

use anyhow::{Context as _, Result};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::GenericClient;

use crate::model::blueprint::Blueprint;
use crate::model::tenant::TenantCode;

/// One broken invariant on one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Violation {
    /// `row level security`, `tenant policy`, `audit trigger`, `grants`,
    /// `owner`, `pinned search_path` or `no PUBLIC grants`.
    pub invariant: String,
    /// table, relation, function or schema.
    pub kind: String,
    /// Qualified name.
    pub object: String,
    pub problem: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}: {}", self.kind, self.object, self.invariant, self.problem)
    }
}

impl Violation {
    /// The violation with a reference tenant's schema shown as the template
    /// writes it.
    pub fn describe(&self, schema: &str) -> String {
        self.to_string().replace(schema, "{{ schema }}")
    }
}

/// Every violation in `code`'s schema, as the catalog stands in `client`'s
/// transaction (which may hold uncommitted changes).
pub async fn of_tenant(
    client: &impl GenericClient,
    code: &TenantCode,
    blueprint: &Blueprint,
) -> Result<Vec<Violation>> {
    let audited = blueprint.manifest.audit.is_some();
    let excluded: Vec<String> = blueprint.manifest.audit.iter().flat_map(|a| a.exclude.iter().cloned()).collect();
    let schema = code.schema_name();
    // Typed parameters: parse, bind and execute in one round trip.
    let params: [(&(dyn ToSql + Sync), Type); 4] =
        [(&schema, Type::TEXT), (&code.as_str(), Type::TEXT), (&audited, Type::BOOL), (&excluded, Type::TEXT_ARRAY)];
    let rows = client
        .query_typed(include_str!("../sql/gate_invariants.sql"), &params)
        .await
        .with_context(|| format!("cannot check the isolation invariants of tenant {code}"))?;
    Ok(rows
        .iter()
        .map(|r| Violation { invariant: r.get(0), kind: r.get(1), object: r.get(2), problem: r.get(3) })
        .collect())
}

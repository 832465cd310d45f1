//! Partitions of a tenant's time-partitioned tables, and their isolation.
//!
//! Templates cannot create partitions: their bounds depend on today's date,
//! while a versioned template must render the same SQL forever. So the
//! blueprint declares the tables (`[[partitioned]]`, plus the audit log) and
//! provisioning creates, in the tenant's own transaction, a DEFAULT
//! partition plus the current period through `premake` periods ahead, so
//! inserts work from the first second.
//!
//! Partitions inherit neither the row-level-security flags nor the policies
//! of their parent, so [`secure_only`] gives every partition its root's policies,
//! ENABLE and FORCE: a query that names a partition directly is isolated
//! exactly like one through the parent.

use anyhow::{Context as _, Result};
use tokio_postgres::types::ToSql;
use tokio_postgres::Transaction;

use crate::model::blueprint::PartitionSpec;
use crate::pg::owned_ddl::{self, Arg};
use crate::pg::quote::quote_literal;

/// The planning query's parameters for `specs` of `tenant_schema`.
struct Plan {
    tenant_schema: String,
    schemas: Vec<String>,
    tables: Vec<String>,
    units: Vec<String>,
    premake: Vec<i32>,
}

impl Plan {
    fn new(tenant_schema: &str, specs: &[PartitionSpec]) -> Plan {
        Plan {
            tenant_schema: tenant_schema.to_owned(),
            schemas: specs.iter().map(|s| s.schema.clone().unwrap_or_default()).collect(),
            tables: specs.iter().map(|s| s.table.clone()).collect(),
            units: specs.iter().map(|s| s.interval.unit().to_owned()).collect(),
            premake: specs.iter().map(|s| s.premake as i32).collect(),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [&self.tenant_schema, &self.schemas, &self.tables, &self.units, &self.premake]
    }
}

/// Creates whatever is missing of the window for `specs`, each partition by
/// its parent's owner: two round trips whatever the table count. Returns the
/// partitions created (qualified); callers then [`secure_only`] them.
pub async fn ensure_window(tx: &Transaction<'_>, tenant_schema: &str, specs: &[PartitionSpec]) -> Result<Vec<String>> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let plan = Plan::new(tenant_schema, specs);
    let rows = tx
        .query(include_str!("sql/partition_window.sql"), &plan.params())
        .await
        .with_context(|| format!("cannot plan the partitions of {tenant_schema}"))?;
    owned_ddl::run(tx, &rows, &format!("the partitions of {tenant_schema}")).await?;
    Ok(rows.iter().map(|r| r.get(2)).collect())
}

/// Gives partitions in `schemas` their root's RLS flags and policies: just
/// `partitions` (qualified names) when given, else every one.
pub async fn secure_only(tx: &Transaction<'_>, schemas: &[String], partitions: Option<&[String]>) -> Result<usize> {
    let partitions: Option<Vec<String>> = partitions.map(<[String]>::to_vec);
    let rows = tx.query(include_str!("sql/partition_security.sql"), &[&schemas, &partitions]).await?;
    owned_ddl::run(tx, &rows, "row-level security on partitions").await
}

/// The schemas holding `specs`' tables: the tenant's, plus e.g. `audit`.
pub fn schemas_of(tenant_schema: &str, specs: &[PartitionSpec]) -> Vec<String> {
    let mut schemas = vec![tenant_schema.to_owned()];
    for spec in specs {
        if let Some(schema) = &spec.schema {
            if !schemas.contains(schema) {
                schemas.push(schema.clone());
            }
        }
    }
    schemas
}

/// The same decisions as [`ensure_window`] as psql script for `tenant
/// render`: the planning queries with their parameters inlined, run through
/// `\gexec` so the partitions follow the database clock there too.
pub fn window_script(tenant_schema: &str, specs: &[PartitionSpec]) -> Option<String> {
    if specs.is_empty() {
        return None;
    }
    let plan = Plan::new(tenant_schema, specs);
    let premake: Vec<String> = plan.premake.iter().map(i32::to_string).collect();
    let args = [
        Arg { literal: quote_literal(tenant_schema), type_name: "text" },
        text_array(&plan.schemas),
        text_array(&plan.tables),
        text_array(&plan.units),
        Arg { literal: format!("ARRAY[{}]::int[]", premake.join(", ")), type_name: "int[]" },
    ];
    Some(owned_ddl::gexec("provision_window", include_str!("sql/partition_window.sql"), &args))
}

/// A text[] parameter of a psql script.
fn text_array(items: &[String]) -> Arg {
    let literals: Vec<String> = items.iter().map(|i| quote_literal(i)).collect();
    Arg { literal: format!("ARRAY[{}]::text[]", literals.join(", ")), type_name: "text[]" }
}

/// [`secure_only`] (every partition) as psql script for `tenant render`.
pub fn security_script(schemas: &[String]) -> String {
    let args = [text_array(schemas), Arg { literal: "NULL".to_owned(), type_name: "text[]" }];
    owned_ddl::gexec("provision_partition_security", include_str!("sql/partition_security.sql"), &args)
}

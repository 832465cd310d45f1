//! Running generated DDL as the role that owns the object it touches.
//!
//! Partitions, policies on partitions and audit triggers are decided by
//! catalog queries that return `(owner, ddl)` rows. Running each statement
//! as that owner keeps ownership where the isolation model puts it (tenant
//! objects owned by `<code>_owner`, audit logs by `provision_audit`) and lets
//! the owner's default privileges apply to what it creates.

use anyhow::{Context as _, Result};
use tokio_postgres::{Row, Transaction};

use crate::pg::quote::quote_ident;

/// How long acting as another role lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lasting {
    /// Until the transaction ends (`SET LOCAL`): a failure cannot leave the
    /// session acting as someone else.
    Transaction,
    /// For the session (`SET`), for work outside any transaction; whoever
    /// starts it resets it.
    Session,
}

impl Lasting {
    /// `set_config`'s `is_local` argument.
    pub fn is_local(self) -> bool {
        self == Lasting::Transaction
    }
}

/// The one spelling of "act as `role`" (every caller goes through it, or
/// through `store::roles::act_as_owner` built on it). `RESET ROLE` ends it.
pub fn set_role(role: &str, lasting: Lasting) -> String {
    match lasting {
        Lasting::Transaction => format!("SET LOCAL ROLE {}", quote_ident(role)),
        Lasting::Session => format!("SET ROLE {}", quote_ident(role)),
    }
}

/// Runs the `(owner, ddl)` rows as one batch, switching role where the owner
/// changes, and returns to the session role at the end. Returns the number
/// of statements run.
pub async fn run(tx: &Transaction<'_>, rows: &[Row], what: &str) -> Result<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    tx.batch_execute(&script(rows)).await.with_context(|| format!("cannot create {what}"))?;
    Ok(rows.len())
}

fn script(rows: &[Row]) -> String {
    let mut script = String::new();
    let mut current: Option<String> = None;
    for row in rows {
        let owner: String = row.get(0);
        let ddl: String = row.get(1);
        if current.as_ref() != Some(&owner) {
            script.push_str(&set_role(&owner, Lasting::Transaction));
            script.push_str(";\n");
            current = Some(owner);
        }
        script.push_str(&ddl);
        script.push_str(";\n");
    }
    script.push_str("RESET ROLE;\n");
    script
}

/// A parameter of a planning query in a psql script: an SQL literal (made
/// with [`crate::pg::quote::quote_literal`], or `NULL`) and its type.
pub struct Arg {
    pub literal: String,
    pub type_name: &'static str,
}

/// The psql form of the same thing for `tenant render`: the planning query
/// wrapped so `\gexec` runs, per row, `SET LOCAL ROLE owner`, the DDL and
/// `RESET ROLE`. The query text is the one the tool runs with bind
/// parameters, unchanged: the server binds `args` through PREPARE and
/// EXECUTE (no text substitution into the SQL), and `name` is deallocated
/// after.
pub fn gexec(name: &str, query: &str, args: &[Arg]) -> String {
    let types: Vec<&str> = args.iter().map(|a| a.type_name).collect();
    let literals: Vec<&str> = args.iter().map(|a| a.literal.as_str()).collect();
    format!(
        "PREPARE {name}({}) AS\nSELECT format('SET LOCAL ROLE %I', owner), ddl, 'RESET ROLE' FROM (\n{}\n) AS planned;\n\
         EXECUTE {name}({})\n\\gexec\nDEALLOCATE {name};\n",
        types.join(", "),
        query.trim_end(),
        literals.join(", ")
    )
}

//! Planning a tenant's retention: each `[[retention]]` rule of its blueprint
//! becomes a job, the SQL of one batch and of a dry-run count, checked
//! against the tenant's catalog and prepared by the server before anything
//! runs — so a bad condition or column is refused (exit 2) naming the pack,
//! the table and the rule, and no tenant has been touched.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;
use tokio_postgres::{Client, Row};

use crate::error::bad_input;
use crate::model::blueprint::{Blueprint, RetentionAction, RetentionRule, Scrub};
use crate::model::tenant::TenantCode;
use crate::pg::quote::quote_ident;

use super::statements::{self, Parts};

/// One rule, ready to run in one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub rule: String,
    pub table: String,
    pub action: RetentionAction,
    /// The age in force: the operator's period, else blueprint.toml's.
    pub age: String,
    /// Rows whose column is older than this have expired.
    pub cutoff: String,
    /// Batches run with row triggers off (one audit summary row instead of
    /// one per row); false where the server's own foreign-key actions or
    /// the table's own triggers must run.
    pub bulk: bool,
    #[serde(skip)]
    pub(super) count_sql: String,
    #[serde(skip)]
    pub(super) batch_sql: String,
}

/// A tenant's jobs in the order they run (children before parents).
#[derive(Debug, Clone)]
pub struct TenantPlan {
    pub code: TenantCode,
    pub blueprint: String,
    pub now: String,
    pub jobs: Vec<Job>,
}

impl TenantPlan {
    /// Whether a job hashes, so the tenant needs its salt.
    pub fn hashes(&self) -> bool {
        self.jobs.iter().any(|j| j.batch_sql.contains("shared.retention_salts"))
    }
}

/// Where a tenant's rows are. Schema tenancy: every row of its schema's
/// table. Row tenancy: the rows of the pack's schema whose tenant column
/// holds the tenant's key (`filter`, alias `t`).
struct Scope {
    schema: String,
    filter: Option<String>,
}

impl Scope {
    fn of(code: &TenantCode, blueprint: &Blueprint) -> Scope {
        match &blueprint.manifest.row {
            None => Scope { schema: code.schema_name(), filter: None },
            Some(row) => Scope {
                schema: row.schema.clone(),
                filter: Some(format!(
                    "t.{} = (SELECT {} FROM {}.{} WHERE {} = {})",
                    quote_ident(&row.column),
                    quote_ident(&row.key),
                    quote_ident(&row.schema),
                    quote_ident(&row.table),
                    quote_ident(&row.code),
                    crate::pg::quote::quote_literal(code.as_str())
                )),
            },
        }
    }
}

/// Plans `code`'s rules at `now` (the server's clock when `None`), with the
/// operator's `periods` (rule -> days) over blueprint.toml's ages.
pub async fn plan_tenant(
    client: &Client,
    code: &TenantCode,
    blueprint: &Blueprint,
    periods: &HashMap<String, i32>,
    now: Option<&str>,
    batch: i64,
) -> Result<TenantPlan> {
    let rules = &blueprint.manifest.retention;
    let ages: Vec<String> = rules
        .iter()
        .map(|r| periods.get(r.rule_name()).map_or_else(|| r.age.clone(), |days| format!("{days} days")))
        .collect();
    let clock = client.query_one(include_str!("sql/clock.sql"), &[&now, &ages]).await?;
    let cutoffs: Vec<String> = clock.get("cutoffs");
    let scope = Scope::of(code, blueprint);
    if scope.filter.is_some() {
        // Held to a row pack's policies, a role would find no expired row and say so: refuse instead.
        client.batch_execute("SET row_security = off").await?;
    }
    let names: Vec<String> = rules.iter().map(|r| r.table.clone()).collect();
    let tables = client.query(include_str!("sql/tables.sql"), &[&scope.schema, &names]).await?;
    let log = audit_log(client, code, blueprint).await?;
    let mut jobs = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let fail = |m: &str| {
            bad_input(format!(
                "blueprint {}, [[retention]] {} on table {} (tenant {code}): {m}",
                blueprint.name,
                rule.rule_name(),
                rule.table
            ))
        };
        let facts = TableFacts::of(&tables[i]).map_err(|m| fail(&m))?;
        check_columns(client, &scope, rule).await.map_err(|m| fail(&m))?;
        let rel = format!("{}.{}", quote_ident(&scope.schema), quote_ident(&rule.table));
        let parts = Parts {
            rule,
            rel,
            key: &facts.key,
            key_type: facts.key_type.as_deref(),
            age: &ages[i],
            code: code.as_str(),
            log: log.as_deref(),
            limit: batch,
            guards: &facts.guards,
            tenant: scope.filter.as_deref(),
        };
        // Deletes with foreign keys pointing at the table keep row triggers on:
        // the server's own ON DELETE actions and checks must run.
        let bulk = facts.bulk_allowed && (rule.action == RetentionAction::Anonymise || facts.children.is_empty());
        let job = build(&parts, &cutoffs[i], bulk);
        for sql in [&job.count_sql, &job.batch_sql] {
            client.prepare(sql).await.map_err(|e| fail(&server_words(&e)))?;
        }
        jobs.push((job, facts.children));
    }
    Ok(TenantPlan { code: code.clone(), blueprint: blueprint.name.clone(), now: clock.get("now"), jobs: order(jobs) })
}

/// The tenant's audit log, when its blueprint audits and the log exists.
async fn audit_log(client: &Client, code: &TenantCode, blueprint: &Blueprint) -> Result<Option<String>> {
    if blueprint.manifest.audit.is_none() {
        return Ok(None);
    }
    let log = format!("audit.{}", quote_ident(&code.audit_log_name()));
    let found: bool = client.query_one("SELECT pg_catalog.to_regclass($1) IS NOT NULL", &[&log]).await?.get(0);
    Ok(found.then_some(log))
}

/// The catalog's word on a rule's table (`sql/tables.sql`).
struct TableFacts {
    key: Vec<String>,
    /// The type of a one-column key, by which batches keep a cursor.
    key_type: Option<String>,
    children: Vec<String>,
    guards: Vec<String>,
    bulk_allowed: bool,
}

impl TableFacts {
    fn of(row: &Row) -> Result<TableFacts, String> {
        if !row.get::<_, bool>("present") {
            return Err("the table does not exist in the tenant's schema".to_owned());
        }
        if row.get::<_, bool>("partitioned") {
            return Err("the table is partitioned; give it [[partitioned]] retention (whole partitions)".to_owned());
        }
        let key: Vec<String> = row.get("key");
        if key.is_empty() {
            return Err("the table has no primary key, by which batches walk it".to_owned());
        }
        let bulk_allowed = row.get::<_, bool>("superuser") && !row.get::<_, bool>("own_triggers");
        let key_type = row.get("key_type");
        Ok(TableFacts { key, key_type, children: row.get("children"), guards: row.get("guards"), bulk_allowed })
    }
}

/// Anonymised columns must be able to hold what they become.
async fn check_columns(client: &Client, scope: &Scope, rule: &RetentionRule) -> Result<(), String> {
    if rule.columns.is_empty() {
        return Ok(());
    }
    let tables: Vec<&str> = rule.columns.keys().map(|_| rule.table.as_str()).collect();
    let columns: Vec<&str> = rule.columns.keys().map(String::as_str).collect();
    let rows = client
        .query(include_str!("sql/columns.sql"), &[&scope.schema, &tables, &columns])
        .await
        .map_err(|e| server_words(&e))?;
    for (row, (column, scrub)) in rows.iter().zip(&rule.columns) {
        let problem = match scrub {
            _ if !row.get::<_, bool>("present") => "does not exist",
            _ if row.get::<_, bool>("keyed") => {
                "is part of a primary, unique or foreign key; keys are never anonymised"
            }
            Scrub::Null if row.get::<_, bool>("not_null") => "is NOT NULL, so it cannot become NULL; hash it",
            Scrub::Hash if !row.get::<_, bool>("textual") => "is not text or varchar, so it cannot hold a hash",
            Scrub::Hash if row.get::<_, Option<i32>>("max_length").is_some_and(|n| n < 37) => {
                "is narrower than a hash (37 characters)"
            }
            _ => continue,
        };
        return Err(format!("column {column} {problem}"));
    }
    Ok(())
}

/// The job, with its statements.
fn build(parts: &Parts, cutoff: &str, bulk: bool) -> Job {
    let rule = parts.rule;
    Job {
        rule: rule.rule_name().to_owned(),
        table: rule.table.clone(),
        action: rule.action,
        age: parts.age.to_owned(),
        cutoff: cutoff.to_owned(),
        bulk,
        count_sql: statements::count(parts),
        batch_sql: statements::batch(parts),
    }
}

/// The server's message of a refused statement, in one line.
fn server_words(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("the server refuses it: {}", db.message()),
        None => format!("{error}"),
    }
}

/// Jobs on tables that reference another job's table run first, so a
/// parent's rows go after the children that pointed at them. A cycle keeps
/// declaration order (the server's foreign keys then say what blocks).
fn order(mut pending: Vec<(Job, Vec<String>)>) -> Vec<Job> {
    let mut ordered = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let waits = |i: usize| {
            let (job, children) = &pending[i];
            pending.iter().any(|(other, _)| other.table != job.table && children.contains(&other.table))
        };
        let next = (0..pending.len()).find(|&i| !waits(i)).unwrap_or(0);
        ordered.push(pending.remove(next).0);
    }
    ordered
}

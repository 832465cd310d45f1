//! The rollover plan: one catalog query (`sql/rollover_plan.sql`) over
//! every tenant's partitioned tables, returning each statement to run with
//! its transaction, owner and kind.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tokio_postgres::GenericClient;

use super::Input;

/// The planning query's parallel arrays.
#[derive(Default)]
struct Arrays {
    codes: Vec<String>,
    schemas: Vec<String>,
    tables: Vec<String>,
    columns: Vec<String>,
    units: Vec<String>,
    premake: Vec<i32>,
    retention: Vec<String>,
    policy_keys: Vec<String>,
    archive: Vec<Option<bool>>,
}

impl Arrays {
    fn of<'a>(inputs: impl Iterator<Item = &'a Input>) -> Arrays {
        let mut a = Arrays::default();
        for input in inputs {
            let audit_log = input.spec.schema.as_deref() == Some("audit");
            a.codes.push(input.code.as_str().to_owned());
            a.schemas.push(schema_of(input));
            a.tables.push(input.spec.table.clone());
            a.columns.push(input.spec.column.clone());
            a.units.push(input.spec.interval.unit().to_owned());
            a.premake.push(input.spec.premake as i32);
            a.retention.push(input.spec.retention.clone().unwrap_or_default());
            // shared.data_retention_policies names the audit log generically.
            a.policy_keys.push(if audit_log { "audit_log".to_owned() } else { input.spec.table.clone() });
            a.archive.push(input.archive);
        }
        a
    }
}

pub(super) fn schema_of(input: &Input) -> String {
    input.spec.schema.clone().unwrap_or_else(|| input.code.schema_name())
}

/// One statement of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Action {
    /// The statements sharing `tx` commit together (one partition's work).
    #[serde(skip)]
    pub tx: String,
    /// The role to run it as; empty: the connecting role.
    #[serde(skip)]
    pub owner: String,
    pub kind: ActionKind,
    pub target: String,
    /// The partitioned table the statement works on (qualified).
    pub parent: String,
    #[serde(skip)]
    pub ddl: String,
    /// The parent's owner, RLS flags and policies as planned (a fingerprint).
    #[serde(skip)]
    pub security: String,
}

/// What a statement of the plan does (`kind` in `sql/rollover_plan.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Lock a parent first, as queries do.
    Lock,
    /// Create a partition (a new period's, detached until `Attach`, or a DEFAULT).
    Create,
    /// Move rows out of the DEFAULT partition into a new one.
    Move,
    /// Attach a new period's partition.
    Attach,
    /// Give a new partition the parent's RLS flags and policies.
    Secure,
    /// Not a statement: copy the parent's column-naming policies in the tool.
    CopyPolicies,
    /// Put back the append-only guard an archived audit partition lost.
    Guard,
    /// Detach an expired partition.
    Detach,
    /// Create the archive schema an archived partition moves to.
    Prepare,
    /// Drop an expired partition.
    Drop,
    /// Move an expired partition to the archive schema.
    Archive,
    /// Delete the DEFAULT's rows of a period retention is past.
    Release,
    /// Move the DEFAULT's rows of a period retention is past into the archive schema.
    ArchiveRows,
}

impl std::str::FromStr for ActionKind {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> Result<ActionKind> {
        Ok(match text {
            "lock" => ActionKind::Lock,
            "create" => ActionKind::Create,
            "move" => ActionKind::Move,
            "attach" => ActionKind::Attach,
            "secure" => ActionKind::Secure,
            "copy_policies" => ActionKind::CopyPolicies,
            "guard" => ActionKind::Guard,
            "detach" => ActionKind::Detach,
            "prepare" => ActionKind::Prepare,
            "drop" => ActionKind::Drop,
            "archive" => ActionKind::Archive,
            "release" => ActionKind::Release,
            "archive_rows" => ActionKind::ArchiveRows,
            other => anyhow::bail!("the rollover plan named an unknown action kind {other:?}"),
        })
    }
}

impl Action {
    /// A new partition: a new period's (attached) or a missing DEFAULT.
    pub fn creates(&self) -> bool {
        self.kind == ActionKind::Attach || (self.kind == ActionKind::Create && self.target.ends_with("_default"))
    }
}

/// Whether the plan places the rows DEFAULT partitions hold for periods
/// before the window (a partition for each, or their release when retention
/// is past them). Only a run does: it reads every DEFAULT that has rows,
/// while verify and health ask only whether the window is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultRows {
    Place,
    Leave,
}

/// Plans the whole database (or the tenants of `inputs`) in one query.
/// Tenants with nothing to do do not appear.
pub async fn plan(
    client: &impl GenericClient,
    inputs: &[Input],
    now: Option<&str>,
    default_rows: DefaultRows,
) -> Result<BTreeMap<String, Vec<Action>>> {
    let a = Arrays::of(inputs.iter());
    let stat = may_stat_files(client).await?;
    let (held_ords, held_periods) = match default_rows {
        DefaultRows::Place => held_periods(client, &a, stat).await?,
        DefaultRows::Leave => (Vec::new(), Vec::new()),
    };
    let rows = client
        .query(
            &with_file_test(include_str!("../sql/rollover_plan.sql"), stat),
            &[
                &a.codes,
                &a.schemas,
                &a.tables,
                &a.columns,
                &a.units,
                &a.premake,
                &a.retention,
                &a.policy_keys,
                &a.archive,
                &now,
                &held_ords,
                &held_periods,
            ],
        )
        .await
        .context("cannot plan the rollover")?;
    let mut plan: BTreeMap<String, Vec<Action>> = BTreeMap::new();
    // The query spells each kind as text; it is parsed into ActionKind here, once.
    for row in rows {
        plan.entry(row.get("code")).or_default().push(Action {
            tx: row.get("tx"),
            owner: row.get("owner"),
            kind: row.get::<_, &str>("kind").parse()?,
            target: row.get("target"),
            parent: row.get("parent"),
            ddl: row.get("ddl"),
            security: row.get("security"),
        });
    }
    Ok(plan)
}

/// The size test of `sql/rollover_plan.sql` that reads a DEFAULT
/// partition's file.
const DEFAULT_FILE_EMPTY: &str =
    "(pg_catalog.pg_stat_file(pg_catalog.pg_relation_filepath(pt.partdefid), true)).size = 0";

/// Whether this session may call pg_stat_file.
async fn may_stat_files(client: &impl GenericClient) -> Result<bool> {
    Ok(client.query_one(include_str!("../sql/rollover_can_stat.sql"), &[]).await?.get("allowed"))
}

/// A query reading DEFAULT partitions' files, for this session: without the
/// right to call pg_stat_file, every DEFAULT partition counts as holding rows.
fn with_file_test(query: &str, stat: bool) -> String {
    if stat {
        query.to_owned()
    } else {
        query.replace(DEFAULT_FILE_EMPTY, "false")
    }
}

/// The periods (ordinality, period start) that DEFAULT partitions with rows
/// hold rows for: one query per such DEFAULT, which waits for no lock held
/// by DDL (ACCESS SHARE only conflicts with ACCESS EXCLUSIVE, which rollover
/// holds for a moment); one that cannot read its DEFAULT now (a lock or
/// statement timeout) is left for the next run.
async fn held_periods(client: &impl GenericClient, a: &Arrays, stat: bool) -> Result<(Vec<i64>, Vec<String>)> {
    let probes = client
        .query(
            &with_file_test(include_str!("../sql/rollover_default_periods.sql"), stat),
            &[&a.schemas, &a.tables, &a.columns, &a.units],
        )
        .await
        .context("cannot find the DEFAULT partitions that hold rows")?;
    let (mut ords, mut periods) = (Vec::new(), Vec::new());
    for probe in probes {
        let ord: i64 = probe.get("ord");
        let text: &str = probe.get("probe");
        let rows = match client.query(text, &[]).await {
            Ok(rows) => rows,
            Err(e) if is_transient(&e) => continue,
            Err(e) => return Err(anyhow::Error::new(e).context("cannot read the periods of a DEFAULT partition")),
        };
        for row in rows {
            ords.push(ord);
            periods.push(row.get::<_, String>(0));
        }
    }
    Ok((ords, periods))
}

fn is_transient(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    matches!(error.code(), Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE || *c == SqlState::QUERY_CANCELED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queries_hold_the_file_size_test_a_role_without_pg_stat_file_replaces() {
        for query in [include_str!("../sql/rollover_plan.sql"), include_str!("../sql/rollover_default_periods.sql")] {
            assert_eq!(query.matches(DEFAULT_FILE_EMPTY).count(), 1);
            assert!(!with_file_test(query, false).contains("pg_stat_file("));
        }
    }

    #[test]
    fn kinds_parse_from_the_plan_text_and_serialize_back_to_it() {
        let texts = [
            "lock",
            "create",
            "move",
            "attach",
            "secure",
            "copy_policies",
            "guard",
            "detach",
            "prepare",
            "drop",
            "archive",
            "release",
            "archive_rows",
        ];
        for text in texts {
            let kind: ActionKind = text.parse().unwrap();
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(text));
            // Every kind the tool knows is one the plan query can return.
            assert!(include_str!("../sql/rollover_plan.sql").contains(&format!("'{text}'")), "{text}");
        }
        assert!("vacuum".parse::<ActionKind>().is_err());
    }
}

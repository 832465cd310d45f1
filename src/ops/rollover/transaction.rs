//! Running a tenant's plan: one short transaction per partition, each sent
//! in one round trip with every statement as its owner; a transaction whose
//! lock does not come is rolled back and its table left for a retry.

use std::time::Duration;

use anyhow::Result;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::plan::{Action, ActionKind};
use super::{is_lock_timeout, raced, Options, TenantResult};

/// A transaction that could not run: its table, what it was to do, and
/// whether a lock timeout (rather than a concurrent change) stopped it.
pub(super) struct Blocked {
    pub(super) parent: String,
    pub(super) work: String,
    pub(super) by_lock: bool,
}

/// Runs the plan's transactions in order. A lock timeout (or a partition
/// someone else made or removed meanwhile) rolls back only that transaction
/// and skips the rest of that table's work, which is returned for a retry;
/// any other error stops the tenant.
pub(super) async fn run_transactions(
    client: &mut Client,
    actions: &[Action],
    schemas: &[String],
    options: &Options,
    result: &mut TenantResult,
) -> Result<Vec<Blocked>> {
    let mut blocked: Vec<Blocked> = Vec::new();
    for group in actions.chunk_by(|a, b| a.tx == b.tx) {
        let (parent, work) = (&group[0].parent, &group[0].tx);
        if blocked.iter().any(|b| &b.parent == parent) {
            continue;
        }
        match run_one(client, group, schemas, options).await {
            Ok(moved) => record(result, group, moved),
            Err(e) if is_lock_timeout(&e) || raced(&e) => {
                blocked.push(Blocked { parent: parent.clone(), work: work.clone(), by_lock: is_lock_timeout(&e) })
            }
            Err(e) => return Err(e.context(format!("while working on {work} of {parent}"))),
        }
    }
    Ok(blocked)
}

/// One transaction: the statements of one partition, BEGIN to COMMIT in one
/// round trip (the plan holds a new partition's RLS flags and policies, so
/// they commit with it). Returns the rows moved.
async fn run_one(client: &mut Client, group: &[Action], schemas: &[String], options: &Options) -> Result<u64> {
    if group.iter().any(|a| a.kind == ActionKind::CopyPolicies) {
        return run_one_copying(client, group, schemas, options).await;
    }
    let (script, moves) = script(group, options.ddl_timeout);
    let messages = match client.simple_query(&format!("BEGIN;\n{script}\nCOMMIT;")).await {
        Ok(messages) => messages,
        Err(e) => {
            // The failed statement left the transaction aborted; best effort
            // (a broken connection rolled it back already).
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e.into());
        }
    };
    crate::failpoint::hit("rollover.after_transaction");
    // Statement 0 is the BEGIN.
    Ok(moved(&messages, moves.iter().map(|i| i + 1)))
}

/// [`run_one`] for a parent with a policy the plan could not spell without
/// locking it (one naming a column): the batch, then the policies copied
/// from the locked parent, then COMMIT.
async fn run_one_copying(client: &mut Client, group: &[Action], schemas: &[String], options: &Options) -> Result<u64> {
    let tx = client.transaction().await?;
    let (script, moves) = script(group, options.ddl_timeout);
    let messages = tx.simple_query(&script).await?;
    let made: Vec<String> = group.iter().filter(|a| a.creates()).map(|a| a.target.clone()).collect();
    crate::store::partitions::secure_only(&tx, schemas, Some(&made)).await?;
    tx.commit().await?;
    crate::failpoint::hit("rollover.after_transaction");
    Ok(moved(&messages, moves.into_iter()))
}

/// The rows moved: the counts of the statements at `moves`.
fn moved(messages: &[SimpleQueryMessage], moves: impl Iterator<Item = usize>) -> u64 {
    let counts: Vec<u64> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    moves.filter_map(|i| counts.get(i)).sum()
}

/// The transaction's batch: each statement as its owner; row moves as the
/// connecting superuser with triggers off (rows only change partition, and
/// the audit log's append-only guard must not stop that). Also returns the
/// position of each move among the statements, whose count is rows moved.
fn script(group: &[Action], ddl_timeout: Duration) -> (String, Vec<usize>) {
    let mut statements = vec![format!("SET LOCAL lock_timeout = '{}ms'", ddl_timeout.as_millis().max(1))];
    let mut moves = Vec::new();
    // The role now in effect ("": the connecting role); a switch is written
    // only where it changes (a new partition is ~10 statements by one owner).
    let mut role: Option<&str> = None;
    for action in group {
        if action.kind == ActionKind::CopyPolicies {
            continue; // not a statement: run_one_copying's cue
        }
        if action.kind == ActionKind::Move {
            switch_role(&mut statements, &mut role, "");
            statements.push("SET LOCAL session_replication_role = replica".to_owned());
            moves.push(statements.len());
            statements.push(action.ddl.clone());
            statements.push("SET LOCAL session_replication_role = origin".to_owned());
            continue;
        }
        switch_role(&mut statements, &mut role, &action.owner);
        statements.push(action.ddl.clone());
    }
    statements.push("RESET ROLE".to_owned());
    (statements.join(";\n") + ";", moves)
}

/// Becomes `owner` ("": the connecting role) unless `role` already is it.
fn switch_role<'a>(statements: &mut Vec<String>, role: &mut Option<&'a str>, owner: &'a str) {
    if *role != Some(owner) {
        statements.push(match owner {
            "" => "RESET ROLE".to_owned(),
            owner => crate::pg::owned_ddl::set_role(owner, crate::pg::owned_ddl::Lasting::Transaction),
        });
        *role = Some(owner);
    }
}

/// Adds a committed transaction's work to the tenant's result.
fn record(result: &mut TenantResult, group: &[Action], moved: u64) {
    result.rows_moved += moved;
    for action in group {
        let list = match action.kind {
            _ if action.creates() => &mut result.created,
            ActionKind::Detach => &mut result.detached,
            ActionKind::Drop => &mut result.dropped,
            ActionKind::Archive => &mut result.archived,
            _ => continue,
        };
        list.push(action.target.clone());
    }
}

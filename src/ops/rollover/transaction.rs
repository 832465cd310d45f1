//! Running a tenant's plan: one short transaction per partition, each sent
//! in one round trip with every statement as its owner; a transaction whose
//! lock does not come is rolled back and its table left for a retry.

use std::time::Duration;

use anyhow::Result;
use futures_util::TryStreamExt;
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
///
/// Up to [`BATCH`] consecutive transactions travel in one round trip, each
/// still `BEGIN` … `COMMIT` on its own: the server runs them one after the
/// other and stops at the first error, so the transactions before it are
/// committed, the failing one is rolled back, and the ones after it were
/// never run and are sent again in the next batch.
pub(super) async fn run_transactions(
    client: &mut Client,
    actions: &[Action],
    schemas: &[String],
    options: &Options,
    result: &mut TenantResult,
) -> Result<Vec<Blocked>> {
    let groups: Vec<&[Action]> = actions.chunk_by(|a, b| a.tx == b.tx).collect();
    let mut blocked: Vec<Blocked> = Vec::new();
    let mut next = 0;
    while next < groups.len() {
        let open = |i: &usize| !blocked.iter().any(|b| b.parent == groups[*i][0].parent);
        // A parent whose policies the tool copies runs alone; others in batches.
        let end = match copies_policies(groups[next]) {
            true => next + 1,
            false => groups[next..].iter().position(|g| copies_policies(g)).map_or(groups.len(), |at| next + at),
        };
        let batch: Vec<usize> = (next..end.min(next + BATCH)).filter(open).collect();
        next = end.min(next + BATCH);
        let (committed, failure) = match batch.first() {
            None => continue,
            Some(&only) if copies_policies(groups[only]) => {
                match run_one_copying(client, groups[only], schemas, options).await {
                    Ok(counted) => {
                        record(result, groups[only], counted);
                        (1, None)
                    }
                    Err(e) => (0, Some(e)),
                }
            }
            Some(_) => run_batch(client, &batch.iter().map(|&i| groups[i]).collect::<Vec<_>>(), options, result).await,
        };
        let Some(e) = failure else { continue };
        let group = groups[batch[committed]];
        let (parent, work) = (&group[0].parent, &group[0].tx);
        if !(is_lock_timeout(&e) || raced(&e)) {
            return Err(e.context(format!("while working on {work} of {parent}")));
        }
        blocked.push(Blocked { parent: parent.clone(), work: work.clone(), by_lock: is_lock_timeout(&e) });
        // Resume just after the failed transaction: what followed it in the
        // batch did not run.
        next = batch[committed] + 1;
    }
    Ok(blocked)
}

/// How many transactions share one round trip: a tenant's usual run (4
/// tables, a few months each) in one or two messages, while one message
/// never grows without bound.
const BATCH: usize = 16;

fn copies_policies(group: &[Action]) -> bool {
    group.iter().any(|a| a.kind == ActionKind::CopyPolicies)
}

/// Sends `batch`'s transactions in one simple-query message and records
/// each committed one. Returns how many committed and, when one failed
/// (it is then rolled back), its error: the transaction at that index.
async fn run_batch(
    client: &mut Client,
    batch: &[&[Action]],
    options: &Options,
    result: &mut TenantResult,
) -> (usize, Option<anyhow::Error>) {
    let scripts: Vec<(Vec<String>, Counted<Vec<usize>>)> =
        batch.iter().map(|g| script(g, options.ddl_timeout)).collect();
    let text: Vec<String> =
        scripts.iter().map(|(statements, _)| format!("BEGIN;\n{};\nCOMMIT;", statements.join(";\n"))).collect();
    let (counts, error) = command_counts(client, &text.join("\n")).await;
    // Each transaction completes BEGIN, its statements and COMMIT.
    let mut offset = 0;
    for (index, (statements, at)) in scripts.iter().enumerate() {
        let size = statements.len() + 2;
        if counts.len() < offset + size {
            // The failed statement left the transaction aborted; best effort
            // (a broken connection rolled it back already).
            let _ = client.batch_execute("ROLLBACK").await;
            let error = error.map_or_else(|| anyhow::anyhow!("the server ended the batch early"), Into::into);
            return (index, Some(error));
        }
        crate::failpoint::hit("rollover.after_transaction");
        let sum = |positions: &[usize]| positions.iter().filter_map(|i| counts.get(offset + 1 + i)).sum();
        record(result, batch[index], Counted { moved: sum(&at.moved), released: sum(&at.released) });
        offset += size;
    }
    (batch.len(), None)
}

/// The row counts of every statement that completed, in order, and the
/// error that stopped the rest, if any.
async fn command_counts(client: &Client, text: &str) -> (Vec<u64>, Option<tokio_postgres::Error>) {
    let mut counts = Vec::new();
    let stream = match client.simple_query_raw(text).await {
        Ok(stream) => stream,
        Err(e) => return (counts, Some(e)),
    };
    futures_util::pin_mut!(stream);
    loop {
        match stream.try_next().await {
            Ok(Some(SimpleQueryMessage::CommandComplete(n))) => counts.push(n),
            Ok(Some(_)) => {}
            Ok(None) => return (counts, None),
            Err(e) => return (counts, Some(e)),
        }
    }
}

/// One transaction for a parent with a policy the plan could not spell without
/// locking it (one naming a column): the batch, then the policies copied
/// from the locked parent, then COMMIT.
async fn run_one_copying(
    client: &mut Client,
    group: &[Action],
    schemas: &[String],
    options: &Options,
) -> Result<Counted<u64>> {
    let tx = client.transaction().await?;
    let (statements, at) = script(group, options.ddl_timeout);
    let messages = tx.simple_query(&(statements.join(";\n") + ";")).await?;
    let made: Vec<String> = group.iter().filter(|a| a.creates()).map(|a| a.target.clone()).collect();
    crate::store::partitions::secure_only(&tx, schemas, Some(&made)).await?;
    tx.commit().await?;
    crate::failpoint::hit("rollover.after_transaction");
    let counts: Vec<u64> = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .collect();
    let sum = |positions: &[usize]| positions.iter().filter_map(|i| counts.get(*i)).sum();
    Ok(Counted { moved: sum(&at.moved), released: sum(&at.released) })
}

/// Rows a transaction moved out of a DEFAULT partition into a new one, and
/// rows it released from one (deleted or archived); in a script, the
/// positions of the statements whose counts those are.
#[derive(Default)]
struct Counted<T> {
    moved: T,
    released: T,
}

/// The transaction's statements: each as its owner; row moves and releases
/// as the connecting superuser with triggers off (rows only change
/// partition, or leave as their partition would have, and the audit log's
/// append-only guard must not stop that). Also returns the position of each
/// move and release among the statements, whose counts are rows.
fn script(group: &[Action], ddl_timeout: Duration) -> (Vec<String>, Counted<Vec<usize>>) {
    let mut statements = vec![format!("SET LOCAL lock_timeout = '{}ms'", ddl_timeout.as_millis().max(1))];
    let mut at = Counted::<Vec<usize>>::default();
    // The role now in effect ("": the connecting role); a switch is written
    // only where it changes (a new partition is ~10 statements by one owner).
    let mut role: Option<&str> = None;
    for action in group {
        if action.kind == ActionKind::CopyPolicies {
            continue; // not a statement: run_one_copying's cue
        }
        if matches!(action.kind, ActionKind::Move | ActionKind::Release | ActionKind::ArchiveRows) {
            switch_role(&mut statements, &mut role, "");
            statements.push("SET LOCAL session_replication_role = replica".to_owned());
            match action.kind {
                ActionKind::Move => at.moved.push(statements.len()),
                _ => at.released.push(statements.len()),
            }
            statements.push(action.ddl.clone());
            statements.push("SET LOCAL session_replication_role = origin".to_owned());
            continue;
        }
        switch_role(&mut statements, &mut role, &action.owner);
        statements.push(action.ddl.clone());
    }
    // COMMIT ends a SET LOCAL ROLE; the tool's own policy copy, still in
    // the transaction, starts as the connecting role.
    if copies_policies(group) {
        switch_role(&mut statements, &mut role, "");
    }
    (statements, at)
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
fn record(result: &mut TenantResult, group: &[Action], counted: Counted<u64>) {
    result.rows_moved += counted.moved;
    result.rows_released += counted.released;
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

//! Work over many tenants on a bounded pool of connections.
//!
//! Each worker owns one connection and takes the next tenant off a shared
//! queue, so N connections serve any number of tenants and a slow tenant
//! never holds up the others. Everything runs on the current thread: the
//! work is waiting on PostgreSQL, not computing.
//!
//! A server session that builds tenant after tenant gets slower with each
//! one: its caches hold every relation it touched (measured: 147 ms for the
//! first tenth of 100 tenants, 664 ms for the last, on one connection). So
//! heavy work renews each worker's connection between tenants; the next one
//! is opened while the current tenant is being built, which costs the server
//! a session start per tenant, as a `psql` loop pays too.

use std::cell::RefCell;
use std::collections::VecDeque;

use tokio_postgres::Client;

/// Runs `work(worker, client, item)` for every item over `clients` (which
/// the caller keeps); results come back in completion order.
pub async fn for_each<T, R>(
    clients: &mut [Client],
    items: Vec<T>,
    work: impl AsyncFn(usize, &mut Client, T) -> R,
) -> Vec<R> {
    run(clients, items, async || None, work).await
}

/// As [`for_each`], with a new connection from `connect` for each item after
/// a worker's first (when it cannot connect, the worker keeps its old one).
pub async fn for_each_fresh<T, R>(
    clients: &mut [Client],
    items: Vec<T>,
    connect: impl AsyncFn() -> anyhow::Result<Client>,
    work: impl AsyncFn(usize, &mut Client, T) -> R,
) -> Vec<R> {
    run(clients, items, async || connect().await.ok(), work).await
}

async fn run<T, R>(
    clients: &mut [Client],
    items: Vec<T>,
    renew: impl AsyncFn() -> Option<Client>,
    work: impl AsyncFn(usize, &mut Client, T) -> R,
) -> Vec<R> {
    let queue = RefCell::new(items.into_iter().collect::<VecDeque<_>>());
    let results = RefCell::new(Vec::new());
    let workers = clients.iter_mut().enumerate().map(|(worker, client)| {
        let (queue, results, work, renew) = (&queue, &results, &work, &renew);
        async move {
            loop {
                let next = queue.borrow_mut().pop_front();
                let Some(item) = next else { break };
                let more = !queue.borrow().is_empty();
                let fresh = async {
                    match more {
                        true => renew().await,
                        false => None,
                    }
                };
                let (result, fresh) = tokio::join!(work(worker, client, item), fresh);
                results.borrow_mut().push(result);
                if let Some(fresh) = fresh {
                    *client = fresh;
                }
            }
        }
    });
    futures_util::future::join_all(workers).await;
    results.into_inner()
}

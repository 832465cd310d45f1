//! Work over many tenants on a bounded pool of connections.
//!
//! Each worker owns one connection and takes the next tenant off a shared
//! queue, so N connections serve any number of tenants and a slow tenant
//! never holds up the others. Everything runs on the current thread: the
//! work is waiting on PostgreSQL, not computing.

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
    let queue = RefCell::new(items.into_iter().collect::<VecDeque<_>>());
    let results = RefCell::new(Vec::new());
    let workers = clients.iter_mut().enumerate().map(|(worker, client)| {
        let (queue, results, work) = (&queue, &results, &work);
        async move {
            loop {
                let next = queue.borrow_mut().pop_front();
                let Some(item) = next else { break };
                let result = work(worker, client, item).await;
                results.borrow_mut().push(result);
            }
        }
    });
    futures_util::future::join_all(workers).await;
    results.into_inner()
}

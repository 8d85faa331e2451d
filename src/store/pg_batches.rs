//! Lookups on Postgres, gathered into batches.
//!
//! A single-row query costs Postgres a round trip, a wake-up of its backend and an executor
//! start, and costs this process a pool checkout and several task wake-ups: around 100 µs of CPU
//! on the shared cores, ten times the index probes it asks for. Lookups arriving while others are
//! in flight therefore queue here, and batch tasks each take everything queued (up to
//! `MAX_BATCH`) and ask for all of it in one `= ANY($1)` query. Alone, a lookup goes straight
//! through as a batch of one, so nothing waits for a batch to fill.
//!
//! `--db-batches-per-worker` tasks gather in turn (one by default). With one Postgres sharing
//! the service's cores, one batch in flight per worker gives the tightest latency tail, at a
//! few percent fewer lookups per second: batches are larger, so Postgres wakes less often. With Postgres across a network, a second batch can
//! leave while the first is out, instead of waiting for it.
//!
//! Each thread that looks up (each HTTP worker) gets its own queue and group of batch tasks,
//! started on its own runtime at its first lookup: a batch's answers then wake no other thread,
//! which answers markedly more random lookups per second than one group on the main runtime.
//! Groups keep their connections between batches, so only as many run as leave one of the
//! pool's connections free; further threads share the running groups' queues.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use super::{CustomerRow, StoreError};
use crate::domain::{Customer, E164, NumberOwners};

/// Every owner of each number: a shared number gives a row per owner.
const FIND_BY_NUMBERS: &str = "\
    SELECT p.e164, c.customer_id, c.name, c.loyalty_points, c.is_vip \
    FROM phone_numbers p JOIN customers c ON c.customer_id = p.customer_id \
    WHERE p.e164 = ANY($1)";

/// Numbers asked for in one query at most.
const MAX_BATCH: usize = 128;

/// Lookups waiting for a batch task; beyond this, callers wait to queue (within their deadline).
const QUEUE_LENGTH: usize = 4096;

/// Every owner of the number, in no particular order.
type Reply = Result<Vec<CustomerRow>, Arc<StoreError>>;

struct Pending {
    number: E164,
    reply: oneshot::Sender<Reply>,
}

thread_local! {
    /// This thread's queue into each store's batch tasks, by `Batching::id`.
    static QUEUES: RefCell<Vec<(u64, mpsc::Sender<Pending>)>> = const { RefCell::new(Vec::new()) };
}

#[derive(Clone, Debug)]
pub struct PgBatches {
    batching: Arc<Batching>,
    /// Tells the batch tasks to give their connections back and end, so the pool can close.
    /// Dropped with the last handle, which ends them too.
    stop: Arc<watch::Sender<bool>>,
}

#[derive(Debug)]
struct Batching {
    /// Tells this store's queues apart in a thread's `QUEUES`.
    id: u64,
    pool: PgPool,
    /// Batch tasks per group.
    tasks: usize,
    /// Groups of batch tasks that may run at once, each keeping its `tasks` connections between
    /// batches, so that at least one of the pool's stays free for probes and admin writes. Zero
    /// when the pool is too small for that: then one group runs, and keeps none.
    groups_keeping: usize,
    /// The queues of the groups running; a thread beyond the limit joins one of them.
    groups: std::sync::Mutex<Vec<mpsc::Sender<Pending>>>,
    next_shared: AtomicUsize,
    deadline: Duration,
    stopped: watch::Receiver<bool>,
}

impl PgBatches {
    /// Batch tasks, `tasks` per group, a group per thread that looks up (as far as the pool
    /// allows), each task using at most one pooled connection and giving up a query after
    /// `deadline` so a hung database frees it again. They end when the last handle is dropped,
    /// on `stop`, or with their thread's runtime.
    pub fn new(pool: PgPool, tasks: usize, pool_size: usize, deadline: Duration) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let tasks = tasks.clamp(1, pool_size.max(1));
        let (stop, stopped) = watch::channel(false);
        Self {
            batching: Arc::new(Batching {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                pool,
                tasks,
                groups_keeping: pool_size.saturating_sub(1) / tasks,
                groups: std::sync::Mutex::new(Vec::new()),
                next_shared: AtomicUsize::new(0),
                deadline,
                stopped,
            }),
            stop: Arc::new(stop),
        }
    }

    /// Ends the batch tasks once their current query is done; lookups then fail.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    pub(super) async fn find_by_number(&self, number: &E164) -> Result<NumberOwners, StoreError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            number: number.clone(),
            reply,
        };
        self.queue()?
            .send(pending)
            .await
            .map_err(|_| StoreError::BatchesStopped)?;
        match answer.await {
            Ok(Ok(rows)) => {
                let customers = rows
                    .into_iter()
                    .map(Customer::try_from)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(NumberOwners::from_customers(customers))
            }
            Ok(Err(shared)) => Err(StoreError::Shared(shared)),
            Err(_) => Err(StoreError::BatchesStopped),
        }
    }

    /// This thread's queue: its own group's, started on the current runtime the first time
    /// (or again when the runtime it ran on has ended), or a shared one when the pool allows no
    /// more groups.
    fn queue(&self) -> Result<mpsc::Sender<Pending>, StoreError> {
        if *self.stop.borrow() {
            return Err(StoreError::BatchesStopped);
        }
        let batching = &self.batching;
        QUEUES.with_borrow_mut(|queues| {
            // Queues whose tasks are gone: a stopped store's, or an ended runtime's.
            queues.retain(|(_, queue)| !queue.is_closed());
            if let Some((_, queue)) = queues.iter().find(|(id, _)| *id == batching.id) {
                return Ok(queue.clone());
            }
            let queue = batching.join_or_start_group();
            queues.push((batching.id, queue.clone()));
            Ok(queue)
        })
    }
}

impl Batching {
    fn join_or_start_group(self: &Arc<Self>) -> mpsc::Sender<Pending> {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        groups.retain(|queue| !queue.is_closed());
        if groups.len() >= self.groups_keeping.max(1) {
            let shared = self.next_shared.fetch_add(1, Ordering::Relaxed) % groups.len();
            return groups[shared].clone();
        }
        let (queue, waiting) = mpsc::channel(QUEUE_LENGTH);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..self.tasks {
            tokio::spawn(run_batches(
                Arc::clone(self),
                Arc::clone(&waiting),
                self.groups_keeping > 0,
            ));
        }
        groups.push(queue.clone());
        queue
    }
}

async fn run_batches(
    batching: Arc<Batching>,
    waiting: Arc<Mutex<mpsc::Receiver<Pending>>>,
    keep_connection: bool,
) {
    let mut stopped = batching.stopped.clone();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Kept between batches: a checkout from the pool costs a ping round trip each time. A
    // connection that failed or timed out is closed and a fresh one checked out next time.
    let mut connection: Option<PoolConnection<Postgres>> = None;
    loop {
        // One task gathers at a time; the others are querying meanwhile. `stopped` fires on
        // `stop` and when every handle is gone.
        let gathered = tokio::select! {
            gathered = async {
                waiting.lock().await.recv_many(&mut batch, MAX_BATCH).await
            } => gathered,
            _ = stopped.wait_for(|stop| *stop) => 0,
        };
        if gathered == 0 {
            return;
        }
        // Callers that gave up (deadline) need no answer.
        batch.retain(|pending| !pending.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        tracing::trace!(size = batch.len(), "lookup batch");
        let answers = query(&batching, &mut connection, &batch).await;
        if answers.is_err()
            && let Some(mut failed) = connection.take()
        {
            failed.close_on_drop();
        }
        if !keep_connection {
            connection = None; // back to the pool
        }
        for pending in batch.drain(..) {
            let reply = match &answers {
                Ok(found) => Ok(found
                    .get(pending.number.as_str())
                    .cloned()
                    .unwrap_or_default()),
                Err(e) => Err(Arc::clone(e)),
            };
            let _ = pending.reply.send(reply);
        }
    }
}

/// Whether the error says the connection is gone rather than that the query failed: a broken
/// socket, or the server ending the session (SQLSTATE class 08, connection exception, or 57P01–03,
/// admin shutdown, crash shutdown, cannot connect now).
fn connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

async fn query(
    batching: &Batching,
    connection: &mut Option<PoolConnection<Postgres>>,
    batch: &[Pending],
) -> Result<HashMap<String, Vec<CustomerRow>>, Arc<StoreError>> {
    let numbers: Vec<&str> = batch.iter().map(|p| p.number.as_str()).collect();
    let rows = async {
        // A lookup is a read: when the database ended the connection (a restart, a failover,
        // pg_terminate_backend), it is asked once more on a fresh one, within the deadline.
        let mut retried = false;
        loop {
            let held = match connection {
                Some(held) => held,
                None => connection.insert(batching.pool.acquire().await?),
            };
            let answer = sqlx::query_as::<_, (String, String, String, i64, bool)>(FIND_BY_NUMBERS)
                .bind(&numbers)
                .fetch_all(&mut **held)
                .await;
            match answer {
                Err(error) if !retried && connection_lost(&error) => {
                    retried = true;
                    tracing::debug!(%error, "lookup connection lost; asking again on a fresh one");
                    if let Some(mut dead) = connection.take() {
                        dead.close_on_drop();
                    }
                }
                answer => return answer,
            }
        }
    };
    let deadline = batching.deadline;
    let rows = tokio::time::timeout(deadline, rows)
        .await
        .map_err(|_| StoreError::DeadlineExceeded(deadline))?
        .map_err(StoreError::Query)?;
    let mut owners: HashMap<String, Vec<CustomerRow>> = HashMap::with_capacity(rows.len());
    for (e164, customer_id, name, loyalty_points, is_vip) in rows {
        owners.entry(e164).or_default().push(CustomerRow {
            customer_id,
            name,
            loyalty_points,
            is_vip,
        });
    }
    Ok(owners)
}

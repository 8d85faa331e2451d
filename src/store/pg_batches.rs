//! Lookups on Postgres, gathered into batches.
//!
//! A single-row query costs Postgres a round trip, a wake-up of its backend and an executor
//! start, and costs this process a pool checkout and several task wake-ups: around 100 µs of CPU
//! on the shared cores, ten times the index probes it asks for. Lookups arriving while others are
//! in flight therefore queue here, and a few batch tasks each take everything queued (up to
//! `MAX_BATCH`) and ask for all of it in one `= ANY($1)` query. Alone, a lookup goes straight
//! through as a batch of one, so nothing waits for a batch to fill.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use super::{CustomerRow, StoreError};
use crate::domain::E164;

const FIND_BY_NUMBERS: &str = "\
    SELECT p.e164, c.customer_id, c.name, c.loyalty_points, c.is_vip \
    FROM phone_numbers p JOIN customers c ON c.customer_id = p.customer_id \
    WHERE p.e164 = ANY($1)";

/// Numbers asked for in one query at most.
const MAX_BATCH: usize = 128;

/// Lookups waiting for a batch task; beyond this, callers wait to queue (within their deadline).
const QUEUE_LENGTH: usize = 4096;

type Reply = Result<Option<CustomerRow>, Arc<StoreError>>;

struct Pending {
    number: E164,
    reply: oneshot::Sender<Reply>,
}

#[derive(Clone, Debug)]
pub struct PgBatches {
    queue: mpsc::Sender<Pending>,
    /// Tells the batch tasks to give their connections back and end, so the pool can close.
    stop: Arc<watch::Sender<bool>>,
}

impl PgBatches {
    /// Starts up to `tasks` batch tasks on the current runtime; each uses at most one pooled
    /// connection, and gives up a query after `deadline` so a hung database frees it again.
    /// They keep their connections only while at least one of the pool's `pool_size` stays
    /// free for everything else (probes, admin writes). They end when the last handle is
    /// dropped, or on `stop`.
    pub fn start(pool: PgPool, tasks: usize, pool_size: usize, deadline: Duration) -> Self {
        let tasks = tasks.clamp(1, pool_size.max(1));
        let keep_connections = pool_size > tasks;
        let (queue, waiting) = mpsc::channel(QUEUE_LENGTH);
        let waiting = Arc::new(Mutex::new(waiting));
        let (stop, stopped) = watch::channel(false);
        for _ in 0..tasks.max(1) {
            let (pool, waiting, stopped) = (pool.clone(), Arc::clone(&waiting), stopped.clone());
            tokio::spawn(run_batches(
                pool,
                waiting,
                stopped,
                deadline,
                keep_connections,
            ));
        }
        Self {
            queue,
            stop: Arc::new(stop),
        }
    }

    /// Ends the batch tasks once their current query is done; lookups then fail.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    pub(super) async fn find_by_number(
        &self,
        number: &E164,
    ) -> Result<Option<CustomerRow>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            number: number.clone(),
            reply,
        };
        self.queue
            .send(pending)
            .await
            .map_err(|_| StoreError::BatchesStopped)?;
        match answer.await {
            Ok(Ok(row)) => Ok(row),
            Ok(Err(shared)) => Err(StoreError::Shared(shared)),
            Err(_) => Err(StoreError::BatchesStopped),
        }
    }
}

async fn run_batches(
    pool: PgPool,
    waiting: Arc<Mutex<mpsc::Receiver<Pending>>>,
    mut stopped: watch::Receiver<bool>,
    deadline: Duration,
    keep_connection: bool,
) {
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
        let answers = query(&pool, &mut connection, &batch, deadline).await;
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
                Ok(found) => Ok(found.get(pending.number.as_str()).cloned()),
                Err(e) => Err(Arc::clone(e)),
            };
            let _ = pending.reply.send(reply);
        }
    }
}

async fn query(
    pool: &PgPool,
    connection: &mut Option<PoolConnection<Postgres>>,
    batch: &[Pending],
    deadline: Duration,
) -> Result<HashMap<String, CustomerRow>, Arc<StoreError>> {
    let numbers: Vec<&str> = batch.iter().map(|p| p.number.as_str()).collect();
    let rows = async {
        let connection = match connection {
            Some(connection) => connection,
            None => connection.insert(pool.acquire().await?),
        };
        sqlx::query_as::<_, (String, String, String, i64, bool)>(FIND_BY_NUMBERS)
            .bind(&numbers)
            .fetch_all(&mut **connection)
            .await
    };
    let rows = tokio::time::timeout(deadline, rows)
        .await
        .map_err(|_| StoreError::DeadlineExceeded(deadline))?
        .map_err(StoreError::Query)?;
    Ok(rows
        .into_iter()
        .map(|(e164, customer_id, name, loyalty_points, is_vip)| {
            let row = CustomerRow {
                customer_id,
                name,
                loyalty_points,
                is_vip,
            };
            (e164, row)
        })
        .collect())
}

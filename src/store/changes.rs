//! Changes committed to the store by anyone, as they happen: what every serving instance must
//! drop from its answer cache.
//!
//! Postgres announces them itself: triggers (migration 0005) NOTIFY `customer_lookup_changes` at
//! commit with the affected numbers, or `*` for a bulk change, whoever made it. Each instance
//! listens on one connection of its own, outside the lookup pool (a pooler in transaction mode
//! cannot carry LISTEN, so that connection must reach Postgres directly). SQLite cannot tell
//! another process, so an instance reads the file's `PRAGMA data_version` every
//! `SQLITE_POLL`: a commit by any other connection changes it.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::mpsc;

use super::sqlite_reads::SqliteReads;
use super::{CustomerStore, DatabaseUrl, StoreError};
use crate::domain::E164;

/// The channel the triggers notify.
pub const CHANNEL: &str = "customer_lookup_changes";

/// How often an instance on SQLite looks for commits by other processes.
pub const SQLITE_POLL: Duration = Duration::from_millis(100);

/// How often the listening connection is asked whether it is still there, and how long it may
/// take to say so.
const HEARTBEAT: Duration = Duration::from_secs(5);
const HEARTBEAT_DEADLINE: Duration = Duration::from_secs(2);

/// The longest wait between attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One event of the change feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// These numbers may answer differently now.
    Numbers(Vec<E164>),
    /// Anything may have changed: a bulk change, or another process's commit to the SQLite file.
    Everything,
    /// Changes can no longer be heard; some may be missed until `Listening`.
    Lost,
    /// Changes are heard (at start, and again after `Lost`); what was cached before may be stale.
    Listening,
}

/// How this store's changes are heard, for status pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeFeed {
    Notifications,
    DataVersion,
}

impl ChangeFeed {
    pub fn name(self) -> &'static str {
        match self {
            Self::Notifications => "postgres_notifications",
            Self::DataVersion => "sqlite_data_version",
        }
    }
}

impl CustomerStore {
    /// The feed of committed changes, followed by a task of its own until the receiver is
    /// dropped or the store closes; `None` for an in-memory SQLite database, which no other
    /// process can change.
    ///
    /// `direct` is where Postgres listens without a pooler in between, when `DATABASE_URL` goes
    /// through one that cannot carry LISTEN (PgBouncer in transaction mode).
    pub fn watch_changes(
        &self,
        direct: Option<&DatabaseUrl>,
    ) -> Result<Option<(ChangeFeed, mpsc::Receiver<Change>)>, StoreError> {
        let (sender, receiver) = mpsc::channel(1024);
        match self {
            Self::Postgres { pool, .. } => {
                // Without a URL of its own the listener takes the pool's options at each
                // (re)connection, so a password re-read on SIGHUP reaches it too.
                let options = direct
                    .map(|url| {
                        PgConnectOptions::from_str(url.expose()).map_err(|source| {
                            StoreError::Connect {
                                url: url.to_string(),
                                source,
                            }
                        })
                    })
                    .transpose()?;
                tokio::spawn(listen_postgres(pool.clone(), options, sender));
                Ok(Some((ChangeFeed::Notifications, receiver)))
            }
            Self::Sqlite { pool, reads } => {
                let Some(reads) = reads.clone() else {
                    return Ok(None);
                };
                let file = pool.connect_options().get_filename().to_owned();
                let closed = pool.clone();
                tokio::spawn(async move {
                    poll_sqlite(file, reads, sender, move || closed.is_closed()).await;
                });
                Ok(Some((ChangeFeed::DataVersion, receiver)))
            }
        }
    }
}

/// Reads a notification's payload: the numbers, or everything.
fn parse_payload(payload: &str) -> Change {
    if payload == "*" {
        return Change::Everything;
    }
    let numbers: Result<Vec<E164>, _> = payload.split(',').map(E164::parse).collect();
    // A payload this code did not write (another version, a person) clears everything.
    numbers.map_or(Change::Everything, Change::Numbers)
}

async fn listen_postgres(
    pool: PgPool,
    options: Option<PgConnectOptions>,
    changes: mpsc::Sender<Change>,
) {
    let mut wait = Duration::from_millis(100);
    let mut heard = false;
    loop {
        if pool.is_closed() || changes.is_closed() {
            return;
        }
        let options = options
            .clone()
            .unwrap_or_else(|| pool.connect_options().as_ref().clone());
        match listener(options).await {
            Ok(mut listener) => {
                wait = Duration::from_millis(100);
                heard = true;
                if changes.send(Change::Listening).await.is_err() {
                    return;
                }
                tracing::info!(channel = CHANNEL, "listening for customer changes");
                let mut heartbeat = tokio::time::interval(HEARTBEAT);
                heartbeat.tick().await;
                loop {
                    let next = tokio::select! {
                        next = listener.try_recv() => next,
                        _ = heartbeat.tick() => {
                            // A connection a firewall dropped silently delivers nothing and
                            // says nothing: ask it something now and then.
                            let alive = tokio::time::timeout(
                                HEARTBEAT_DEADLINE,
                                sqlx::query("SELECT 1").execute(&mut listener),
                            )
                            .await;
                            match alive {
                                Ok(Ok(_)) => continue,
                                _ => Ok(None),
                            }
                        }
                        _ = pool.close_event() => return,
                        _ = changes.closed() => return,
                    };
                    let change = match next {
                        Ok(Some(notification)) => parse_payload(notification.payload()),
                        Ok(None) | Err(_) => {
                            if pool.is_closed() {
                                return;
                            }
                            tracing::warn!(
                                "lost the connection that listens for customer changes; answering from the store until it is back"
                            );
                            let _ = changes.send(Change::Lost).await;
                            break;
                        }
                    };
                    if changes.send(change).await.is_err() {
                        return;
                    }
                }
            }
            Err(error) => {
                if heard {
                    tracing::warn!(%error, retry_in = ?wait, "cannot listen for customer changes yet");
                } else {
                    tracing::warn!(%error, retry_in = ?wait, "cannot listen for customer changes; answers are not cached until it can");
                }
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_BACKOFF);
    }
}

/// A listening connection of its own: a pool of one.
async fn listener(options: PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let options = options.application_name("customer-lookup-changes");
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&own).await?;
    listener.ignore_pool_close_event(true);
    // A lost connection is ours to handle: the cache is suspended before listening again.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn poll_sqlite(
    file: PathBuf,
    reads: Arc<SqliteReads>,
    changes: mpsc::Sender<Change>,
    store_closed: impl Fn() -> bool,
) {
    let open = || {
        rusqlite::Connection::open_with_flags(
            &file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
    };
    let version = |connection: &rusqlite::Connection| {
        connection.query_row("PRAGMA data_version", [], |row| row.get::<_, i64>(0))
    };
    let mut connection = None;
    let mut last = None;
    let mut ticks = tokio::time::interval(SQLITE_POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = changes.closed() => return,
        }
        if store_closed() {
            return;
        }
        if connection.is_none() {
            connection = open().ok();
        }
        // A PRAGMA on an open connection: microseconds, so it runs here.
        let read = connection.as_ref().map(version);
        let change = match (read, last) {
            (Some(Ok(now)), None) => {
                last = Some(now);
                Some(Change::Listening)
            }
            (Some(Ok(now)), Some(before)) if now != before => {
                last = Some(now);
                // Lookups share a read snapshot for a few milliseconds: one begun before this
                // commit must not be used to refill the cache.
                reads.note_write();
                Some(Change::Everything)
            }
            (Some(Ok(_)), Some(_)) => None,
            (Some(Err(_)) | None, _) => {
                // Open again next time; whatever changed meanwhile counts as a change.
                connection = None;
                last.take().map(|_| Change::Lost)
            }
        };
        if let Some(change) = change
            && changes.send(change).await.is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_numbers_or_everything() {
        assert_eq!(
            parse_payload("+15551234567,+442079460958"),
            Change::Numbers(vec![
                E164::parse("+15551234567").unwrap(),
                E164::parse("+442079460958").unwrap()
            ])
        );
        assert_eq!(parse_payload("*"), Change::Everything);
        assert_eq!(parse_payload("+1555,not a number"), Change::Everything);
    }
}

//! Lookups on SQLite answered on the calling thread.
//!
//! sqlx runs every SQLite statement on a connection thread of its own; the hop there and back
//! costs ~50 µs, ten times the indexed read itself. A lookup is one read of a local file, so the
//! HTTP worker runs it itself, on a read-only connection it borrows from here. It never waits:
//! with WAL, readers are not blocked by writers, and a lock or any other error makes the caller
//! ask the pool instead, which has the deadline.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{CustomerRow, FIND_BY_NUMBER};
use crate::domain::E164;

/// SQLite's page cache per read connection. The interior pages of both indexes of a million
/// customers fit; leaf pages come from the OS page cache, which is not this process's memory.
const PAGE_CACHE_KIB: i64 = 8 * 1024;

/// Idle connections kept; more than the workers that read at once is never needed.
const MAX_IDLE: usize = 64;

pub struct SqliteReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReads")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteReads {
    /// Opens one read connection now, so a file that cannot be read is known at start.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let reads = Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        let first = reads.connect()?;
        reads.give_back(first);
        Ok(reads)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        // NO_MUTEX: a connection is used by one thread at a time, taken from `idle`.
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(Duration::ZERO)?;
        connection.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        Ok(connection)
    }

    fn give_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    /// The customer with this number, or `None` when this path cannot answer right now (the
    /// database is locked or failing): the caller then asks the pool.
    pub(super) fn find_by_number(&self, number: &E164) -> Option<Option<CustomerRow>> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match taken {
            Some(connection) => connection,
            None => self
                .connect()
                .inspect_err(
                    |e| tracing::debug!(error = %e, "cannot open a SQLite read connection"),
                )
                .ok()?,
        };
        let found = connection
            .prepare_cached(FIND_BY_NUMBER)
            .and_then(|mut statement| {
                statement
                    .query_row([number.as_str()], |row| {
                        Ok(CustomerRow {
                            customer_id: row.get(0)?,
                            name: row.get(1)?,
                            loyalty_points: row.get(2)?,
                            is_vip: row.get(3)?,
                        })
                    })
                    .optional()
            });
        self.give_back(connection);
        found
            .inspect_err(
                |e| tracing::debug!(error = %e, "in-thread SQLite read failed; using the pool"),
            )
            .ok()
    }
}

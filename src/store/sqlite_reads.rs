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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// A WAL database with the lookup's two tables and one customer.
    fn database(folder: &Path) -> PathBuf {
        let path = folder.join("customers.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE customers (customer_id TEXT PRIMARY KEY, name TEXT, loyalty_points INTEGER, is_vip BOOLEAN) WITHOUT ROWID;
                 CREATE TABLE phone_numbers (e164 TEXT PRIMARY KEY, customer_id TEXT) WITHOUT ROWID;
                 INSERT INTO customers VALUES ('C-1', 'Ann', 10, 1);
                 INSERT INTO phone_numbers VALUES ('+15550000001', 'C-1');",
            )
            .unwrap();
        path
    }

    fn number(text: &str) -> E164 {
        E164::parse(text).unwrap()
    }

    #[test]
    fn finds_known_numbers_and_says_none_for_unknown_ones() {
        let folder = tempfile::tempdir().unwrap();
        let reads = SqliteReads::open(&database(folder.path())).unwrap();
        let found = reads.find_by_number(&number("+15550000001"));
        let row = found.expect("answered").expect("found");
        assert_eq!(
            (
                row.customer_id.as_str(),
                row.name.as_str(),
                row.loyalty_points,
                row.is_vip
            ),
            ("C-1", "Ann", 10, true)
        );
        assert!(matches!(
            reads.find_by_number(&number("+15550000002")),
            Some(None)
        ));
    }

    #[test]
    fn a_locked_database_sends_the_caller_to_the_pool_at_once() {
        let folder = tempfile::tempdir().unwrap();
        let path = database(folder.path());
        let reads = SqliteReads::open(&path).unwrap();
        // Exclusive locking mode in WAL holds the file against every other connection, and
        // needs to be the only one to take it: the idle read connection goes first.
        reads.idle.lock().unwrap().clear();
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch(
                "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; SELECT 1 FROM customers;",
            )
            .unwrap();
        let started = Instant::now();
        assert!(reads.find_by_number(&number("+15550000001")).is_none());
        assert!(started.elapsed() < Duration::from_millis(500), "it waited");
        holder
            .execute_batch("COMMIT; PRAGMA locking_mode = NORMAL; SELECT 1 FROM customers;")
            .unwrap();
        drop(holder);
        assert!(matches!(
            reads.find_by_number(&number("+15550000001")),
            Some(Some(_))
        ));
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_refused_at_start() {
        let folder = tempfile::tempdir().unwrap();
        assert!(SqliteReads::open(&folder.path().join("missing").join("customers.db")).is_err());
    }
}

//! Lookups on SQLite answered on the calling thread.
//!
//! sqlx runs every SQLite statement on a connection thread of its own; the hop there and back
//! costs ~50 µs, ten times the indexed read itself. A lookup is one read of a local file, so the
//! HTTP worker runs it itself, on a read-only connection it borrows from here. It never waits:
//! with WAL, readers are not blocked by writers, and a lock or any other error makes the caller
//! ask the pool instead, which has the deadline.
//!
//! Beginning and ending a read transaction takes four file-lock system calls, about a third of
//! a lookup's read. So a connection keeps its transaction (its snapshot of the database) across
//! lookups for up to `SNAPSHOT_LIFETIME`: other processes' writes show within that, this
//! process's own writes at once (the store calls `note_write`). Snapshots left open on idle
//! connections are ended by `end_stale_snapshots`, so they never hold back WAL checkpoints for
//! long.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{CustomerRow, FIND_BY_NUMBER, NUMBER_OWNERS_SUMMARY, StoreError, owners_from_rows};
use crate::domain::{E164, NumberOwners};

/// SQLite's page cache per read connection. The interior pages of both indexes of a million
/// customers fit; leaf pages come from the OS page cache, which is not this process's memory.
const PAGE_CACHE_KIB: i64 = 8 * 1024;

/// Idle connections kept; more than the workers that read at once is never needed.
const MAX_IDLE: usize = 64;

/// How long lookups share one read transaction: what another process writes may take this long
/// to show (on top of the answer cache's TTL).
pub const SNAPSHOT_LIFETIME: Duration = Duration::from_millis(5);

struct ReadConnection {
    connection: Connection,
    /// When its read transaction began, and `writes` then; `None` outside a transaction.
    snapshot: Option<(Instant, u64)>,
}

impl ReadConnection {
    fn is_stale(&self, writes: u64, lifetime: Duration) -> bool {
        self.snapshot
            .is_some_and(|(began, seen)| seen != writes || began.elapsed() >= lifetime)
    }

    /// Ends the read transaction; false when the connection is no longer usable.
    fn end_snapshot(&mut self) -> bool {
        self.snapshot = None;
        self.connection.is_autocommit() || self.connection.execute_batch("COMMIT").is_ok()
    }
}

pub struct SqliteReads {
    path: PathBuf,
    idle: Mutex<Vec<ReadConnection>>,
    /// Bumped after each write of this process, so no lookup reads a snapshot older than it.
    writes: AtomicU64,
    snapshot_lifetime: Duration,
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
        Self::with_snapshot_lifetime(path, SNAPSHOT_LIFETIME)
    }

    fn with_snapshot_lifetime(path: &Path, snapshot_lifetime: Duration) -> rusqlite::Result<Self> {
        let reads = Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            writes: AtomicU64::new(0),
            snapshot_lifetime,
        };
        let first = reads.connect()?;
        reads.give_back(first);
        Ok(reads)
    }

    fn connect(&self) -> rusqlite::Result<ReadConnection> {
        // NO_MUTEX: a connection is used by one thread at a time, taken from `idle`.
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(Duration::ZERO)?;
        connection.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
        Ok(ReadConnection {
            connection,
            snapshot: None,
        })
    }

    fn give_back(&self, reader: ReadConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(reader);
        }
    }

    /// Closes the idle read connections (the store is closing).
    pub fn close(&self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// This process wrote to the database: later lookups must see it.
    pub fn note_write(&self) {
        self.writes.fetch_add(1, Ordering::AcqRel);
    }

    /// Ends the snapshots that idle connections have held past their lifetime, so a quiet
    /// service does not keep WAL checkpoints from finishing. Call it every so often.
    pub fn end_stale_snapshots(&self) {
        let writes = self.writes.load(Ordering::Acquire);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain_mut(|reader| {
            !reader.is_stale(writes, self.snapshot_lifetime) || reader.end_snapshot()
        });
    }

    /// The customers with this number, or `None` when this path cannot answer right now (the
    /// database is locked or failing): the caller then asks the pool.
    pub(super) fn find_by_number(&self, number: &E164) -> Option<Result<NumberOwners, StoreError>> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut reader = match taken {
            Some(reader) => reader,
            None => self
                .connect()
                .inspect_err(
                    |e| tracing::debug!(error = %e, "cannot open a SQLite read connection"),
                )
                .ok()?,
        };
        // Read before the transaction begins: a write that lands meanwhile renews it next time.
        let writes = self.writes.load(Ordering::Acquire);
        if reader.is_stale(writes, self.snapshot_lifetime) && !reader.end_snapshot() {
            return None;
        }
        let found = read_owners(&mut reader, writes, number);
        // A failed read (a lock, say) leaves no transaction behind.
        if found.is_ok() || reader.end_snapshot() {
            self.give_back(reader);
        }
        found
            .inspect_err(
                |e| tracing::debug!(error = %e, "in-thread SQLite read failed; using the pool"),
            )
            .ok()
            .map(|(rows, summary)| owners_from_rows(rows, summary))
    }
}

/// A shared number's count of owners and whether any is a VIP, when `rows` holds two.
type OwnersSummary = Option<(i64, bool)>;

fn read_owners(
    reader: &mut ReadConnection,
    writes: u64,
    number: &E164,
) -> rusqlite::Result<(Vec<CustomerRow>, OwnersSummary)> {
    if reader.snapshot.is_none() {
        reader.connection.execute_batch("BEGIN")?;
        reader.snapshot = Some((Instant::now(), writes));
    }
    let mut statement = reader.connection.prepare_cached(FIND_BY_NUMBER)?;
    let mut found = statement.query([number.as_str()])?;
    let mut rows = Vec::new();
    while let Some(row) = found.next()? {
        rows.push(CustomerRow {
            customer_id: row.get(0)?,
            name: row.get(1)?,
            loyalty_points: row.get(2)?,
            is_vip: row.get(3)?,
        });
    }
    drop(found);
    drop(statement);
    if rows.len() < 2 {
        return Ok((rows, None));
    }
    let mut statement = reader.connection.prepare_cached(NUMBER_OWNERS_SUMMARY)?;
    let (count, any_vip) = statement.query_row([number.as_str()], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? != 0))
    })?;
    Ok((rows, Some((count, any_vip))))
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
                 CREATE TABLE phone_numbers (e164 TEXT, customer_id TEXT, PRIMARY KEY (e164, customer_id)) WITHOUT ROWID;
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
        let NumberOwners::One(customer) = found.expect("answered").expect("valid") else {
            panic!("one owner expected");
        };
        assert_eq!(
            (
                customer.id.as_str(),
                customer.name.as_str(),
                customer.loyalty_points.value(),
                customer.is_vip
            ),
            ("C-1", "Ann", 10, true)
        );
        assert!(matches!(
            reads.find_by_number(&number("+15550000002")),
            Some(Ok(NumberOwners::Nobody))
        ));
    }

    #[test]
    fn a_shared_number_is_counted_and_its_first_owner_by_id_read() {
        let folder = tempfile::tempdir().unwrap();
        let path = database(folder.path());
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "INSERT INTO customers VALUES ('C-0', 'Zed', 5, 0), ('C-2', 'Bo', 7, 0);
                 INSERT INTO phone_numbers VALUES ('+15550000001', 'C-2'), ('+15550000001', 'C-0');",
            )
            .unwrap();
        let reads = SqliteReads::open(&path).unwrap();
        let found = reads.find_by_number(&number("+15550000001"));
        let NumberOwners::Shared {
            count,
            first,
            any_vip,
        } = found.expect("answered").expect("valid")
        else {
            panic!("a shared number expected");
        };
        assert_eq!((count, first.id.as_str(), any_vip), (3, "C-0", true));
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
            Some(Ok(NumberOwners::One(_)))
        ));
    }

    /// Another connection sets the customer's points, as an import or the admin API would.
    fn write_points(path: &Path, points: i64) {
        Connection::open(path)
            .unwrap()
            .execute("UPDATE customers SET loyalty_points = ?1", [points])
            .unwrap();
    }

    fn points(reads: &SqliteReads) -> i64 {
        match reads.find_by_number(&number("+15550000001")) {
            Some(Ok(NumberOwners::One(customer))) => customer.loyalty_points.value(),
            other => panic!("one owner expected, got {other:?}"),
        }
    }

    #[test]
    fn this_processs_own_writes_show_in_the_next_lookup() {
        let folder = tempfile::tempdir().unwrap();
        let path = database(folder.path());
        // A snapshot that would otherwise last the whole test.
        let reads = SqliteReads::with_snapshot_lifetime(&path, Duration::from_secs(3600)).unwrap();
        assert_eq!(points(&reads), 10);
        write_points(&path, 20);
        reads.note_write();
        assert_eq!(points(&reads), 20);
    }

    #[test]
    fn other_processes_writes_show_once_the_snapshot_is_past_its_lifetime() {
        let folder = tempfile::tempdir().unwrap();
        let path = database(folder.path());
        let reads = SqliteReads::with_snapshot_lifetime(&path, Duration::from_millis(20)).unwrap();
        assert_eq!(points(&reads), 10);
        write_points(&path, 30);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(points(&reads), 30);
    }

    #[test]
    fn idle_snapshots_end_so_checkpoints_can_finish() {
        let folder = tempfile::tempdir().unwrap();
        let path = database(folder.path());
        let reads = SqliteReads::with_snapshot_lifetime(&path, Duration::from_millis(20)).unwrap();
        assert_eq!(points(&reads), 10); // the idle connection now holds a snapshot
        let writer = Connection::open(&path).unwrap();
        writer.busy_timeout(Duration::ZERO).unwrap();
        writer
            .execute("UPDATE customers SET loyalty_points = 40", [])
            .unwrap();
        let checkpoint_busy = || -> i64 {
            writer
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
                .unwrap()
        };
        assert_eq!(
            checkpoint_busy(),
            1,
            "the snapshot holds the checkpoint back"
        );
        std::thread::sleep(Duration::from_millis(30));
        reads.end_stale_snapshots();
        assert_eq!(checkpoint_busy(), 0, "nothing holds the checkpoint back");
        assert_eq!(points(&reads), 40);
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_refused_at_start() {
        let folder = tempfile::tempdir().unwrap();
        assert!(SqliteReads::open(&folder.path().join("missing").join("customers.db")).is_err());
    }
}

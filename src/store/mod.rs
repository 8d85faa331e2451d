//! The customer store: one API over SQLite (embedded default) and Postgres. All SQL lives here.
//!
//! Both backends accept `$1`-style parameters and the same statements, so each query is written
//! once and `on_pool!` runs it against whichever pool is configured (each arm is type-checked
//! against its own driver).

mod bulk;
mod changes;
mod pg_batches;
mod sqlite_reads;
mod url;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, SqlitePool};

pub use self::bulk::{
    BulkImport, Conflict, ConflictRule, ImportCounts, ImportMode, ImportedFields, StagedRow,
};
pub use self::changes::{CHANNEL as CHANGES_CHANNEL, Change, ChangeFeed, SQLITE_POLL};
use self::pg_batches::PgBatches;
use self::sqlite_reads::SqliteReads;
pub use self::url::{Backend, DatabaseUrl};
use crate::domain::{
    Customer, CustomerId, CustomerName, CustomerRecord, E164, LoyaltyPoints, NumberOwners,
};

/// Bulk imports run statements of several seconds by design; anything slower than this is
/// worth a warning.
const SLOW_STATEMENT: Duration = Duration::from_secs(30);

/// How long a SQLite write waits for another writer's lock (imports; lookups only read).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "unsupported database URL {0}: use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
    )]
    UnsupportedUrl(String),
    #[error(
        "a database password file needs a postgres:// URL that names the user (postgres://USER@HOST/DATABASE); got {0}"
    )]
    PasswordWithoutUser(String),
    #[error(
        "the database URL's parameter {0} is not one the Postgres driver reads (it would log its value); remove it"
    )]
    SecretParameter(String),
    #[error("cannot create the folder {path} for the SQLite database: {source}")]
    CreateFolder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("a stored customer is invalid ({0}); fix the row in the database")]
    CorruptField(#[from] crate::domain::FieldError),
    #[error("a stored phone number is invalid ({0}); fix the row in the database")]
    CorruptNumber(#[from] crate::domain::InvalidE164),
    #[error("cannot encode rows for COPY: {0}")]
    Encode(#[from] csv::Error),
    #[error("cannot open {path} for reading: {source}")]
    ReadConnection {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the lookup batches have stopped")]
    BatchesStopped,
    /// One failure answered to every lookup of a batch.
    #[error(transparent)]
    Shared(Arc<StoreError>),
    #[error("the store did not answer within {0:?}")]
    DeadlineExceeded(Duration),
    #[error("cannot write the exported customers: {0}")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Pool settings that are the operator's to choose.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a caller waits for a pooled connection (and a new connection to open).
    pub acquire_timeout: Duration,
    /// Postgres lookup batches each HTTP worker may have in flight at once.
    pub batches_per_worker: usize,
}

/// What a write did, customer by customer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub phone_numbers: u64,
}

#[derive(Clone, Debug)]
pub enum CustomerStore {
    Sqlite {
        pool: SqlitePool,
        /// Lookups on the caller's thread; `None` for an in-memory database, which only the
        /// pool's connections can see.
        reads: Option<Arc<SqliteReads>>,
    },
    Postgres {
        pool: PgPool,
        /// Lookups, gathered into one query per batch.
        lookups: PgBatches,
    },
}

macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            CustomerStore::Sqlite { pool: $pool, .. } => $body,
            CustomerStore::Postgres { pool: $pool, .. } => $body,
        }
    };
}

/// Binds a customer's four fields as $1..$4, in the order every customer statement uses.
macro_rules! bind_customer {
    ($query:expr, $customer:expr) => {
        $query
            .bind($customer.id.as_str())
            .bind($customer.name.as_str())
            .bind($customer.loyalty_points.value())
            .bind($customer.is_vip)
    };
}

/// A number's first two owners by customer id: one row is a unique match, two a shared number
/// (then `NUMBER_OWNERS_SUMMARY` counts them). Led by the number's key, so no sort.
const FIND_BY_NUMBER: &str = "\
    SELECT c.customer_id, c.name, c.loyalty_points, c.is_vip \
    FROM phone_numbers p JOIN customers c ON c.customer_id = p.customer_id \
    WHERE p.e164 = $1 ORDER BY p.customer_id LIMIT 2";

/// How many customers share a number, and whether any of them is a VIP.
const NUMBER_OWNERS_SUMMARY: &str = "\
    SELECT count(*), coalesce(max(CASE WHEN c.is_vip THEN 1 ELSE 0 END), 0) \
    FROM phone_numbers p JOIN customers c ON c.customer_id = p.customer_id \
    WHERE p.e164 = $1";

const UPDATE_IF_CHANGED: &str = "\
    UPDATE customers SET name = $2, loyalty_points = $3, is_vip = $4, updated_at = CURRENT_TIMESTAMP \
    WHERE customer_id = $1 AND (name <> $2 OR loyalty_points <> $3 OR is_vip <> $4)";

const INSERT_IF_ABSENT: &str = "\
    INSERT INTO customers (customer_id, name, loyalty_points, is_vip) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (customer_id) DO NOTHING";

const DELETE_NUMBERS: &str = "DELETE FROM phone_numbers WHERE customer_id = $1";

/// A number may belong to several customers; giving a customer a number twice is no change.
const INSERT_NUMBER: &str = "\
    INSERT INTO phone_numbers (e164, customer_id) VALUES ($1, $2) \
    ON CONFLICT (e164, customer_id) DO NOTHING";

const OWNERS_OF: &str =
    "SELECT customer_id FROM phone_numbers WHERE e164 = $1 ORDER BY customer_id LIMIT $2";

const FIND_CUSTOMER: &str =
    "SELECT customer_id, name, loyalty_points, is_vip FROM customers WHERE customer_id = $1";
const NUMBERS_OF: &str = "SELECT e164 FROM phone_numbers WHERE customer_id = $1 ORDER BY e164";
const DELETE_CUSTOMER: &str = "DELETE FROM customers WHERE customer_id = $1";

/// Every customer with each of their numbers, grouped by customer in a stable order.
const EXPORT: &str = "\
    SELECT c.customer_id, c.name, c.loyalty_points, c.is_vip, p.e164 \
    FROM customers c LEFT JOIN phone_numbers p ON p.customer_id = c.customer_id \
    ORDER BY c.customer_id, p.e164";

#[derive(Clone, sqlx::FromRow)]
struct CustomerRow {
    customer_id: String,
    name: String,
    loyalty_points: i64,
    is_vip: bool,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(row: CustomerRow) -> Result<Self, Self::Error> {
        Ok(Customer {
            id: CustomerId::parse(&row.customer_id)?,
            name: CustomerName::parse(&row.name)?,
            loyalty_points: LoyaltyPoints::new(row.loyalty_points)?,
            is_vip: row.is_vip,
        })
    }
}

/// The pool's options (application name, statement logging, …) with another password.
fn set_pool_password(pool: &PgPool, password: &str) {
    let options = pool.connect_options().as_ref().clone().password(password);
    pool.set_connect_options(options);
}

impl CustomerStore {
    /// Opens a pool. A SQLite file and its folder are created when missing.
    pub async fn connect(url: &DatabaseUrl, settings: PoolSettings) -> Result<Self, StoreError> {
        let connect_error = |source| StoreError::Connect {
            url: url.to_string(),
            source,
        };
        match url.backend() {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url.expose())
                    .map_err(connect_error)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
                let file = options.get_filename().to_owned();
                create_parent_folder(&file)?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(settings.max_connections.max(1))
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                let reads = open_in_thread_reads(&file)?;
                if let Some(reads) = &reads {
                    end_stale_snapshots_periodically(reads);
                }
                Ok(Self::Sqlite { pool, reads })
            }
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url.expose())
                    .map_err(connect_error)?
                    .application_name("customer-lookup")
                    .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
                let pool = PgPoolOptions::new()
                    .max_connections(settings.max_connections.max(1))
                    .acquire_timeout(settings.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                let lookups = PgBatches::new(
                    pool.clone(),
                    settings.batches_per_worker,
                    settings.max_connections as usize,
                    settings.acquire_timeout,
                );
                Ok(Self::Postgres { pool, lookups })
            }
        }
    }

    /// Connections opened from now on use this password (read again from the password file on
    /// SIGHUP); open ones keep working with the one they were opened with. Postgres only.
    pub fn set_password(&self, password: &str) -> Result<(), StoreError> {
        match self {
            Self::Postgres { pool, .. } => {
                set_pool_password(pool, password);
                Ok(())
            }
            Self::Sqlite { .. } => Err(StoreError::PasswordWithoutUser("sqlite:…".into())),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite { .. } => Backend::Sqlite,
            Self::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Applies the migrations under `migrations/<backend>` that have not run yet (on Postgres
    /// under an advisory lock, so instances starting together do not race).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite { pool, .. } => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Self::Postgres { pool, .. } => {
                sqlx::migrate!("./migrations/postgres").run(pool).await?
            }
        }
        self.note_write();
        Ok(())
    }

    /// Whether the store answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))?;
        Ok(())
    }

    /// The customers who have this number.
    pub async fn find_by_number(&self, number: &E164) -> Result<NumberOwners, StoreError> {
        match self {
            Self::Postgres { lookups, .. } => lookups.find_by_number(number).await,
            Self::Sqlite { pool, reads } => {
                if let Some(owners) = reads
                    .as_ref()
                    .and_then(|reads| reads.find_by_number(number))
                {
                    return owners;
                }
                // In-memory, locked or failing: the pool, which waits within the deadline.
                let rows: Vec<CustomerRow> = sqlx::query_as(FIND_BY_NUMBER)
                    .bind(number.as_str())
                    .fetch_all(pool)
                    .await?;
                let summary = if rows.len() > 1 {
                    let (count, any_vip): (i64, i64) = sqlx::query_as(NUMBER_OWNERS_SUMMARY)
                        .bind(number.as_str())
                        .fetch_one(pool)
                        .await?;
                    Some((count, any_vip != 0))
                } else {
                    None
                };
                owners_from_rows(rows, summary)
            }
        }
    }

    /// Adds or updates each customer by `customer_id` and replaces their numbers, all in one
    /// transaction: on any error nothing is written. A number other customers have too is
    /// shared with them.
    pub async fn upsert(&self, records: &[CustomerRecord]) -> Result<WriteSummary, StoreError> {
        let mut summary = WriteSummary::default();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for record in records {
                let c = &record.customer;
                let updated = bind_customer!(sqlx::query(UPDATE_IF_CHANGED), c)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let inserted = if updated == 0 {
                    bind_customer!(sqlx::query(INSERT_IF_ABSENT), c)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                } else {
                    0
                };
                match (updated, inserted) {
                    (0, 0) => summary.unchanged += 1,
                    (0, _) => summary.inserted += 1,
                    _ => summary.updated += 1,
                }
                sqlx::query(DELETE_NUMBERS).bind(c.id.as_str()).execute(&mut *tx).await?;
            }
            // Numbers go in after every listed customer has let go of theirs, so numbers may
            // move between customers of the same batch.
            for record in records {
                for number in &record.phone_numbers {
                    summary.phone_numbers += sqlx::query(INSERT_NUMBER)
                        .bind(number.as_str())
                        .bind(record.customer.id.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
            }
            tx.commit().await?;
        });
        self.note_write();
        Ok(summary)
    }

    /// Inserts the customers that are not there yet, with their numbers; leaves existing rows
    /// alone, so running it again changes nothing.
    pub async fn insert_missing(
        &self,
        records: &[CustomerRecord],
    ) -> Result<WriteSummary, StoreError> {
        let mut summary = WriteSummary::default();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for record in records {
                let c = &record.customer;
                let inserted = bind_customer!(sqlx::query(INSERT_IF_ABSENT), c)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if inserted == 0 {
                    summary.unchanged += 1;
                    continue;
                }
                summary.inserted += 1;
                for number in &record.phone_numbers {
                    summary.phone_numbers += sqlx::query(INSERT_NUMBER)
                        .bind(number.as_str())
                        .bind(c.id.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
            }
            tx.commit().await?;
        });
        self.note_write();
        Ok(summary)
    }

    /// One customer with their numbers.
    pub async fn find_customer(
        &self,
        id: &CustomerId,
    ) -> Result<Option<CustomerRecord>, StoreError> {
        let (row, numbers): (Option<CustomerRow>, Vec<String>) = on_pool!(self, pool => {
            let row = sqlx::query_as(FIND_CUSTOMER).bind(id.as_str()).fetch_optional(pool).await?;
            let numbers = sqlx::query_scalar(NUMBERS_OF).bind(id.as_str()).fetch_all(pool).await?;
            (row, numbers)
        });
        let Some(row) = row else { return Ok(None) };
        let phone_numbers = numbers
            .iter()
            .map(|n| E164::parse(n).map_err(StoreError::from))
            .collect::<Result<_, _>>()?;
        Ok(Some(CustomerRecord {
            customer: Customer::try_from(row)?,
            phone_numbers,
        }))
    }

    /// The ids of a number's customers, the first `limit` by id.
    pub async fn owners_of(
        &self,
        number: &E164,
        limit: u32,
    ) -> Result<Vec<CustomerId>, StoreError> {
        let ids: Vec<String> = on_pool!(self, pool => {
            sqlx::query_scalar(OWNERS_OF)
                .bind(number.as_str())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        ids.iter()
            .map(|id| CustomerId::parse(id).map_err(StoreError::from))
            .collect()
    }

    /// Deletes a customer and their numbers; whether there was one.
    pub async fn delete_customer(&self, id: &CustomerId) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, pool => {
            sqlx::query(DELETE_CUSTOMER).bind(id.as_str()).execute(pool).await?.rows_affected()
        });
        self.note_write();
        Ok(deleted > 0)
    }

    /// Streams every customer, with their numbers, to `visit`; returns how many there were.
    pub async fn for_each_customer<E: std::error::Error + Send + Sync + 'static>(
        &self,
        mut visit: impl FnMut(&CustomerRecord) -> Result<(), E>,
    ) -> Result<u64, StoreError> {
        use futures_util::TryStreamExt;
        let mut current: Option<CustomerRecord> = None;
        let mut count = 0u64;
        let mut emit = |record: &CustomerRecord| {
            count += 1;
            visit(record).map_err(|e| StoreError::Sink(Box::new(e)))
        };
        on_pool!(self, pool => {
            let mut rows = sqlx::query_as::<_, (String, String, i64, bool, Option<String>)>(EXPORT).fetch(pool);
            while let Some((customer_id, name, loyalty_points, is_vip, e164)) = rows.try_next().await? {
                if current.as_ref().is_none_or(|c| c.customer.id.as_str() != customer_id) {
                    if let Some(done) = current.take() {
                        emit(&done)?;
                    }
                    let customer = Customer::try_from(CustomerRow { customer_id, name, loyalty_points, is_vip })?;
                    current = Some(CustomerRecord { customer, phone_numbers: Vec::new() });
                }
                if let (Some(record), Some(e164)) = (current.as_mut(), e164) {
                    record.phone_numbers.push(E164::parse(&e164)?);
                }
            }
        });
        if let Some(done) = current.take() {
            emit(&done)?;
        }
        Ok(count)
    }

    /// Lookups after a write of this process must see it: SQLite's in-thread reads renew
    /// their snapshot. (Postgres reads see every commit.)
    fn note_write(&self) {
        if let Self::Sqlite {
            reads: Some(reads), ..
        } = self
        {
            reads.note_write();
        }
    }

    /// Connections open, and of those idle, for the pool gauges.
    pub fn pool_usage(&self) -> (u32, usize) {
        on_pool!(self, pool => (pool.size(), pool.num_idle()))
    }

    pub async fn close(&self) {
        match self {
            Self::Postgres { lookups, .. } => lookups.stop(),
            // Read connections first: SQLite folds the WAL into the database file when its last
            // connection closes. Left open, they kept an import's every page in the WAL, and
            // each later read went through the WAL's index to find its page.
            Self::Sqlite {
                reads: Some(reads), ..
            } => reads.close(),
            Self::Sqlite { reads: None, .. } => {}
        }
        on_pool!(self, pool => pool.close().await)
    }
}

/// A number's owners from its first rows by customer id (at most two) and, when there were
/// two, the count and VIP summary of all of them.
fn owners_from_rows(
    rows: Vec<CustomerRow>,
    summary: Option<(i64, bool)>,
) -> Result<NumberOwners, StoreError> {
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else {
        return Ok(NumberOwners::Nobody);
    };
    let first = Customer::try_from(first)?;
    match summary {
        Some((count, any_vip)) if count > 1 => Ok(NumberOwners::Shared {
            count: count.unsigned_abs(),
            first,
            any_vip,
        }),
        _ => Ok(NumberOwners::One(first)),
    }
}

/// The in-thread read path for a SQLite file; none for an in-memory database.
fn open_in_thread_reads(file: &Path) -> Result<Option<Arc<SqliteReads>>, StoreError> {
    let name = file.to_string_lossy();
    // sqlx names an in-memory database `file:sqlx-in-memory-N`; other URIs are left to it too.
    if name.is_empty() || name == ":memory:" || name.starts_with("file:") {
        return Ok(None);
    }
    SqliteReads::open(file)
        .map(|reads| Some(Arc::new(reads)))
        .map_err(|source| StoreError::ReadConnection {
            path: file.display().to_string(),
            source,
        })
}

/// Ends the snapshots of idle read connections now and then; stops with the store.
fn end_stale_snapshots_periodically(reads: &Arc<SqliteReads>) {
    let reads = Arc::downgrade(reads);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(sqlite_reads::SNAPSHOT_LIFETIME * 20);
        loop {
            every.tick().await;
            let Some(reads) = reads.upgrade() else { break };
            reads.end_stale_snapshots();
        }
    });
}

fn create_parent_folder(file: &Path) -> Result<(), StoreError> {
    let Some(folder) = file.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    std::fs::create_dir_all(folder).map_err(|source| StoreError::CreateFolder {
        path: folder.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[tokio::test]
    async fn a_new_password_reaches_the_options_of_new_connections_and_keeps_the_rest() {
        // A lazy pool opens nothing: its options are what the next connection would use.
        let options = PgConnectOptions::from_str("postgres://lookup@db.invalid/customers")
            .unwrap()
            .application_name("customer-lookup");
        let pool = PgPoolOptions::new().connect_lazy_with(options);
        set_pool_password(&pool, "second-Passw0rd");
        let now = pool.connect_options();
        assert!(format!("{now:?}").contains("second-Passw0rd"));
        assert_eq!(now.get_application_name(), Some("customer-lookup"));
        assert_eq!(now.get_username(), "lookup");
        assert_eq!(now.get_host(), "db.invalid");
    }
}

//! Bulk import: rows are staged into temporary tables inside one transaction (COPY on
//! Postgres, multi-row INSERTs on SQLite), checked with set-based SQL that names line numbers,
//! and applied in a few statements. Until `apply` commits, nothing is visible; a reader sees the
//! old customers or the new ones, never a mix.

use sqlx::{Postgres, Sqlite, Transaction};

use super::{CustomerStore, StoreError};
use crate::domain::CustomerRecord;

crate::named_values! {
    /// `upsert` adds or updates the file's customers; `replace` also deletes every other customer.
    pub enum ImportMode {
        Upsert => "upsert",
        Replace => "replace",
    }
}

/// A validated row with the line it came from.
#[derive(Clone, Debug)]
pub struct StagedRow {
    pub line: u64,
    pub record: CustomerRecord,
}

/// A problem only the whole file (or the store) shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conflict {
    DuplicateCustomer {
        line: u64,
        first_line: u64,
        customer_id: String,
    },
}

impl Conflict {
    pub fn line(&self) -> u64 {
        match self {
            Self::DuplicateCustomer { line, .. } => *line,
        }
    }

    /// The rule broken, without the row's values, for counts by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DuplicateCustomer { .. } => "customer_id repeated",
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Self::DuplicateCustomer {
                first_line,
                customer_id,
                ..
            } => {
                format!(
                    "customer_id {customer_id} already appears on line {first_line} (one row per customer: put all its numbers in that row)"
                )
            }
        }
    }
}

/// The rules the whole file must keep, in the order they are checked: each is checked on the
/// rows the ones before left in, so a row is never refused because of a row refused already.
/// A number on several rows, or on a row and a customer already stored, is no conflict: it is
/// shared by those customers (docs/shared-numbers.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictRule {
    /// A customer is one row: later rows with its id break it.
    RepeatedCustomer,
}

impl ConflictRule {
    pub const ALL: [Self; 1] = [Self::RepeatedCustomer];
}

/// What an import did (or, for a dry run, would do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub phone_numbers: u64,
}

/// Rows per multi-row INSERT on SQLite (5 parameters each, well under SQLite's 32766).
const SQLITE_ROWS_PER_INSERT: usize = 1000;

const CREATE_STAGING: [&str; 2] = [
    "CREATE TEMP TABLE import_customers (line BIGINT NOT NULL, customer_id TEXT NOT NULL, name TEXT NOT NULL, loyalty_points BIGINT NOT NULL, is_vip BOOLEAN NOT NULL)",
    "CREATE TEMP TABLE import_numbers (line BIGINT NOT NULL, e164 TEXT NOT NULL, customer_id TEXT NOT NULL)",
];
const INDEX_STAGING: [&str; 5] = [
    "CREATE INDEX import_customers_id ON import_customers (customer_id)",
    "CREATE INDEX import_numbers_e164 ON import_numbers (e164, customer_id)",
    "CREATE INDEX import_numbers_customer ON import_numbers (customer_id)",
    // Temporary tables get no automatic statistics; without them the planner guesses.
    "ANALYZE import_customers",
    "ANALYZE import_numbers",
];
const DROP_STAGING: [&str; 3] = [
    "DROP TABLE import_customers",
    "DROP TABLE import_numbers",
    "DROP TABLE IF EXISTS import_set_aside",
];

const DUPLICATE_CUSTOMERS: &str = "\
    SELECT s.line, d.first_line, s.customer_id FROM import_customers s \
    JOIN (SELECT customer_id, MIN(line) AS first_line FROM import_customers GROUP BY customer_id HAVING COUNT(*) > 1) d \
      ON d.customer_id = s.customer_id \
    WHERE s.line > d.first_line ORDER BY s.line LIMIT $1";
/// `{changed}` is the fields the file gives, compared (`c` the store, `s` the file).
const COUNTS: &str = "SELECT \
    (SELECT COUNT(*) FROM import_customers s WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = s.customer_id)), \
    (SELECT COUNT(*) FROM import_customers s JOIN customers c ON c.customer_id = s.customer_id \
       WHERE {changed} \
         OR EXISTS (SELECT 1 FROM import_numbers n WHERE n.customer_id = s.customer_id \
           AND NOT EXISTS (SELECT 1 FROM phone_numbers p WHERE p.e164 = n.e164 AND p.customer_id = n.customer_id)) \
         OR EXISTS (SELECT 1 FROM phone_numbers p WHERE p.customer_id = s.customer_id \
           AND NOT EXISTS (SELECT 1 FROM import_numbers n WHERE n.e164 = p.e164 AND n.customer_id = p.customer_id))), \
    (SELECT COUNT(*) FROM import_customers), \
    (SELECT COUNT(*) FROM import_numbers), \
    (SELECT COUNT(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM import_customers s WHERE s.customer_id = c.customer_id))";
/// Replace mode: customers not in the file go, their numbers first (see the Postgres migration
/// 0002: numbers are kept consistent here, not by a foreign key).
const DELETE_OTHERS: [&str; 2] = [
    "DELETE FROM phone_numbers WHERE NOT EXISTS (SELECT 1 FROM import_customers s WHERE s.customer_id = phone_numbers.customer_id)",
    "DELETE FROM customers WHERE NOT EXISTS (SELECT 1 FROM import_customers s WHERE s.customer_id = customers.customer_id)",
];
/// `{set}` assigns and `{changed}` compares the fields the file gives (`customers` the store,
/// `excluded` the file).
const UPSERT_CUSTOMERS: &str = "\
    INSERT INTO customers (customer_id, name, loyalty_points, is_vip) \
    SELECT customer_id, name, loyalty_points, is_vip FROM import_customers WHERE true \
    ON CONFLICT (customer_id) DO UPDATE SET {set}, updated_at = CURRENT_TIMESTAMP \
    WHERE {changed}";

/// Which fields the file gives. A CRM export without a loyalty or VIP column leaves those of
/// existing customers as they are (new customers get 0 and false), rather than zeroing them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportedFields {
    pub loyalty_points: bool,
    pub is_vip: bool,
}

impl ImportedFields {
    pub const ALL: Self = Self {
        loyalty_points: true,
        is_vip: true,
    };

    fn columns(self) -> Vec<&'static str> {
        let mut columns = vec!["name"];
        if self.loyalty_points {
            columns.push("loyalty_points");
        }
        if self.is_vip {
            columns.push("is_vip");
        }
        columns
    }

    /// `stored.f <> given.f OR …` over the fields given.
    fn changed(self, stored: &str, given: &str) -> String {
        self.columns()
            .iter()
            .map(|f| format!("{stored}.{f} <> {given}.{f}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    fn upsert_sql(self) -> String {
        let set = self
            .columns()
            .iter()
            .map(|f| format!("{f} = excluded.{f}"))
            .collect::<Vec<_>>()
            .join(", ");
        UPSERT_CUSTOMERS
            .replace("{set}", &set)
            .replace("{changed}", &self.changed("customers", "excluded"))
    }

    fn counts_sql(self) -> String {
        COUNTS.replace("{changed}", &self.changed("c", "s"))
    }
}
/// Numbers are synced by difference, so re-importing an unchanged list writes nothing: first the
/// file's customers let go of numbers the file no longer gives them (which also frees numbers
/// moving to another customer of the file), then the missing ones are added.
const RELEASE_NUMBERS: &str = "\
    DELETE FROM phone_numbers WHERE customer_id IN (SELECT customer_id FROM import_customers) \
    AND NOT EXISTS (SELECT 1 FROM import_numbers n WHERE n.e164 = phone_numbers.e164 AND n.customer_id = phone_numbers.customer_id)";
const INSERT_NUMBERS: &str = "\
    INSERT INTO phone_numbers (e164, customer_id) SELECT n.e164, n.customer_id FROM import_numbers n \
    WHERE NOT EXISTS (SELECT 1 FROM phone_numbers p WHERE p.e164 = n.e164 AND p.customer_id = n.customer_id)";

/// After a Postgres import commits: marks the written pages all-visible, so lookups of the new
/// rows are index-only scans (migration 0003), and refreshes the planner's statistics. Autovacuum
/// does both eventually, when it is on; the bulk write should not have to wait for it. It runs
/// outside the transaction (VACUUM cannot run inside one), and reads and writes go on meanwhile.
const VACUUM_IMPORTED: &str = "VACUUM (ANALYZE) customers, phone_numbers";

enum BulkTx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            BulkTx::Sqlite($conn) => $body,
            BulkTx::Postgres($conn) => $body,
        }
    };
}

/// An import under way: one open transaction with the staged rows.
pub struct BulkImport {
    tx: BulkTx,
    /// The staged rows are indexed (once, after the last is staged).
    indexed: bool,
    /// Told of the commit, so this process's lookups see the import at once.
    store: CustomerStore,
}

impl CustomerStore {
    pub async fn begin_import(&self) -> Result<BulkImport, StoreError> {
        let mut tx = match self {
            Self::Sqlite { pool, .. } => BulkTx::Sqlite(pool.begin().await?),
            Self::Postgres { pool, .. } => BulkTx::Postgres(pool.begin().await?),
        };
        on_tx!(&mut tx, conn => {
            for sql in CREATE_STAGING {
                sqlx::query(sql).execute(&mut **conn).await?;
            }
        });
        Ok(BulkImport {
            tx,
            indexed: false,
            store: self.clone(),
        })
    }
}

impl BulkImport {
    /// Adds validated rows to the staging tables.
    pub async fn stage(&mut self, rows: &[StagedRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        match &mut self.tx {
            BulkTx::Postgres(tx) => {
                let (customers, numbers) = copy_csv(rows)?;
                let mut copy = tx
                    .copy_in_raw("COPY import_customers FROM STDIN (FORMAT csv)")
                    .await?;
                copy.send(customers).await?;
                copy.finish().await?;
                let mut copy = tx
                    .copy_in_raw("COPY import_numbers FROM STDIN (FORMAT csv)")
                    .await?;
                copy.send(numbers).await?;
                copy.finish().await?;
            }
            BulkTx::Sqlite(tx) => {
                for chunk in rows.chunks(SQLITE_ROWS_PER_INSERT) {
                    let placeholders = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                    let sql = format!(
                        "INSERT INTO import_customers (line, customer_id, name, loyalty_points, is_vip) VALUES {placeholders}"
                    );
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for row in chunk {
                        let c = &row.record.customer;
                        query = query
                            .bind(row.line as i64)
                            .bind(c.id.as_str().to_owned())
                            .bind(c.name.as_str().to_owned())
                            .bind(c.loyalty_points.value())
                            .bind(c.is_vip);
                    }
                    query.execute(&mut **tx).await?;
                }
                let numbers: Vec<(i64, &str, &str)> = rows
                    .iter()
                    .flat_map(|row| {
                        row.record.phone_numbers.iter().map(move |n| {
                            (row.line as i64, n.as_str(), row.record.customer.id.as_str())
                        })
                    })
                    .collect();
                for chunk in numbers.chunks(SQLITE_ROWS_PER_INSERT) {
                    let placeholders = vec!["(?, ?, ?)"; chunk.len()].join(", ");
                    let sql = format!(
                        "INSERT INTO import_numbers (line, e164, customer_id) VALUES {placeholders}"
                    );
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (line, e164, id) in chunk {
                        query = query
                            .bind(*line)
                            .bind(e164.to_string())
                            .bind(id.to_string());
                    }
                    query.execute(&mut **tx).await?;
                }
            }
        }
        Ok(())
    }

    /// Rows of the file that break `rule`, ordered by line, at most `limit` of them (a row
    /// breaking it twice counts twice). Call it after the last row is staged.
    pub async fn conflicts(
        &mut self,
        rule: ConflictRule,
        limit: usize,
    ) -> Result<Vec<Conflict>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let index = !std::mem::replace(&mut self.indexed, true);
        let found = on_tx!(&mut self.tx, conn => {
            if index {
                for sql in INDEX_STAGING {
                    sqlx::query(sql).execute(&mut **conn).await?;
                }
            }
            match rule {
                ConflictRule::RepeatedCustomer => {
                    let rows: Vec<(i64, i64, String)> = sqlx::query_as(DUPLICATE_CUSTOMERS).bind(limit).fetch_all(&mut **conn).await?;
                    rows.into_iter().map(|(line, first, customer_id)| Conflict::DuplicateCustomer { line: line as u64, first_line: first as u64, customer_id }).collect::<Vec<_>>()
                }
            }
        });
        Ok(found)
    }

    /// Takes the rows of these lines out of the import (rows set aside for a reject file).
    pub async fn set_aside(&mut self, lines: &[u64]) -> Result<(), StoreError> {
        let lines: Vec<i64> = lines.iter().map(|&l| l as i64).collect();
        match &mut self.tx {
            BulkTx::Postgres(tx) => {
                for table in ["import_customers", "import_numbers"] {
                    let sql = format!("DELETE FROM {table} WHERE line = ANY($1)");
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(&lines)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            // One scan of each staging table, whatever the number of lines.
            BulkTx::Sqlite(tx) => {
                sqlx::query(
                    "CREATE TEMP TABLE IF NOT EXISTS import_set_aside (line INTEGER PRIMARY KEY)",
                )
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM import_set_aside")
                    .execute(&mut **tx)
                    .await?;
                for chunk in lines.chunks(SQLITE_ROWS_PER_INSERT) {
                    let placeholders = vec!["(?)"; chunk.len()].join(", ");
                    let sql = format!(
                        "INSERT OR IGNORE INTO import_set_aside (line) VALUES {placeholders}"
                    );
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for line in chunk {
                        query = query.bind(*line);
                    }
                    query.execute(&mut **tx).await?;
                }
                for table in ["import_customers", "import_numbers"] {
                    let sql = format!(
                        "DELETE FROM {table} WHERE line IN (SELECT line FROM import_set_aside)"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Counts what the import changes; unless `dry_run`, applies it and commits.
    pub async fn apply(
        mut self,
        mode: ImportMode,
        fields: ImportedFields,
        dry_run: bool,
    ) -> Result<ImportCounts, StoreError> {
        let (counts_sql, upsert_sql) = (fields.counts_sql(), fields.upsert_sql());
        let counts = on_tx!(&mut self.tx, conn => {
            let (inserted, updated, total, numbers, others): (i64, i64, i64, i64, i64) =
                sqlx::query_as(sqlx::AssertSqlSafe(counts_sql.as_str())).fetch_one(&mut **conn).await?;
            if !dry_run {
                if mode == ImportMode::Replace {
                    for sql in DELETE_OTHERS {
                        sqlx::query(sql).execute(&mut **conn).await?;
                    }
                }
                sqlx::query(sqlx::AssertSqlSafe(upsert_sql.as_str())).execute(&mut **conn).await?;
                sqlx::query(RELEASE_NUMBERS).execute(&mut **conn).await?;
                sqlx::query(INSERT_NUMBERS).execute(&mut **conn).await?;
            }
            for sql in DROP_STAGING {
                sqlx::query(sql).execute(&mut **conn).await?;
            }
            let as_u64 = |n: i64| u64::try_from(n).unwrap_or_default();
            ImportCounts {
                inserted: as_u64(inserted),
                updated: as_u64(updated),
                unchanged: as_u64(total - inserted - updated),
                deleted: if mode == ImportMode::Replace { as_u64(others) } else { 0 },
                phone_numbers: as_u64(numbers),
            }
        });
        if dry_run {
            self.abort().await?;
        } else {
            on_tx!(self.tx, tx => tx.commit().await)?;
            self.store.note_write();
            if let CustomerStore::Postgres { pool, .. } = &self.store
                && let Err(e) = sqlx::query(VACUUM_IMPORTED).execute(pool).await
            {
                // The customers are in; only the speed of their first lookups is at stake.
                tracing::warn!(
                    error = %e,
                    "VACUUM after the import failed: lookups of the imported customers read table \
                     rows, not only indexes, until autovacuum gets to them"
                );
            }
        }
        Ok(counts)
    }

    /// Discards everything staged; the store is as it was.
    pub async fn abort(self) -> Result<(), StoreError> {
        on_tx!(self.tx, tx => tx.rollback().await)?;
        Ok(())
    }
}

/// The rows as CSV for `COPY … (FORMAT csv)`: customers, then numbers.
fn copy_csv(rows: &[StagedRow]) -> Result<(Vec<u8>, Vec<u8>), StoreError> {
    let mut customers = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 48));
    let mut numbers = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 40));
    for row in rows {
        let c = &row.record.customer;
        let line = row.line.to_string();
        let points = c.loyalty_points.value().to_string();
        let vip = if c.is_vip { "true" } else { "false" };
        customers.write_record([
            line.as_str(),
            c.id.as_str(),
            c.name.as_str(),
            points.as_str(),
            vip,
        ])?;
        for number in &row.record.phone_numbers {
            numbers.write_record([line.as_str(), number.as_str(), c.id.as_str()])?;
        }
    }
    let into_bytes = |w: csv::Writer<Vec<u8>>| {
        w.into_inner()
            .map_err(|e| StoreError::Encode(csv::Error::from(e.into_error())))
    };
    Ok((into_bytes(customers)?, into_bytes(numbers)?))
}

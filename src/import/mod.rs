//! Import: customers from a CSV or JSON Lines file into the store, in one transaction. `run`
//! drives it; `reader` reads the file row by row, validating each row on its own and reporting
//! every bad row with its line and reason; the other modules are the reader's and the run's parts.

mod conflicts;
mod csv_rows;
mod headers;
mod jsonl_rows;
mod lines;
mod mapping;
mod peek;
mod plan;
mod progress;
mod reader;
pub mod rejects;
mod row_error;
mod run;
mod settings;
#[cfg(test)]
mod test_support;
mod values;

pub use mapping::{ColumnMapping, FieldMap, MappedField};
pub use reader::{CsvDialect, RowReader};
pub use row_error::{RowError, RowResult};
pub use run::{Import, ImportOutcome};
pub use settings::{ImportFormat, ImportSettings, OnInvalid};

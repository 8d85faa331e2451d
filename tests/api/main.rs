//! The service over real sockets against real databases. Every test in an `on_both_backends!`
//! list runs on SQLite and on Postgres (when TEST_POSTGRES_URL is set).

mod helpers;

mod admin;
mod cli;
mod compose;
mod edge;
mod errors;
mod freshness;
mod genesys;
mod genesys_golden;
mod health;
mod import;
mod lookup;
mod operations;
mod shared_imports;
mod shared_numbers;
mod zero_trust;

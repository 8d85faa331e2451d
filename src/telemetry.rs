//! Log set-up: tracing to stderr (stdout is for command output such as `lookup`'s JSON).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `filter` takes `RUST_LOG`-style directives (`info`, `customer_lookup=debug,sqlx=warn`).
pub fn init(filter: &str) -> Result<(), String> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| format!("invalid --log-level {filter:?}: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| format!("cannot install the log subscriber: {e}"))
}

//! Log set-up: tracing to stderr (stdout is for command output such as `lookup`'s JSON), as
//! readable lines or as one JSON object per line. Lines are written by a background thread, so
//! a request never waits on the terminal or the log collector.

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Lines gathered before a write: a burst of requests' lines goes out in one call.
const LOG_BUFFER_BYTES: usize = 64 * 1024;

/// `filter` takes `RUST_LOG`-style directives (`info`, `customer_lookup=debug,sqlx=warn`).
/// Keep the returned guard for the life of the process: dropping it flushes the last lines.
pub fn init(filter: &str, format: LogFormat) -> Result<WorkerGuard, String> {
    init_with_writer(filter, format, std::io::stderr())
}

/// As `init`, with lines going to `out` instead of stderr (the handler benchmark discards them).
pub fn init_with_writer(
    filter: &str,
    format: LogFormat,
    out: impl std::io::Write + Send + 'static,
) -> Result<WorkerGuard, String> {
    let filter =
        EnvFilter::try_new(filter).map_err(|e| format!("invalid --log-level {filter:?}: {e}"))?;
    // Not lossy: when the queue is full, the request waits rather than a line being lost.
    // Buffered: the writer thread flushes once per batch of lines it finds queued (a write
    // call per line cost ~6% of a lookup's time under load), and at exit.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::BufWriter::with_capacity(LOG_BUFFER_BYTES, out));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = match format {
        LogFormat::Pretty => builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        // The request's span (with its request_id) rides along on every line as "span".
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    installed.map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    Ok(guard)
}

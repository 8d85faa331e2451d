//! Log set-up: tracing to stderr (stdout is for command output such as `lookup`'s JSON), as
//! readable lines or as one JSON object per line. Lines are written by a background thread, so
//! a request never waits on the terminal or the log collector.

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FormatFields, format};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

crate::named_values! {
    /// How log lines are written.
    pub enum LogFormat {
        /// Human-readable lines.
        Pretty => "pretty",
        /// One JSON object per line, for log pipelines.
        Json => "json",
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid --log-level {filter:?}: {source}")]
    InvalidFilter {
        filter: String,
        source: tracing_subscriber::filter::ParseError,
    },
    #[error("cannot install the log subscriber: {0}")]
    Install(#[from] tracing_subscriber::util::TryInitError),
}

/// Lines gathered before a write: a burst of requests' lines goes out in one call.
const LOG_BUFFER_BYTES: usize = 64 * 1024;

/// `filter` takes a level or `target=level` directives (`info`, `customer_lookup=debug,sqlx=warn`).
/// Keep the returned guard for the life of the process: dropping it flushes the last lines.
pub fn init(filter: &str, format: LogFormat) -> Result<WorkerGuard, TelemetryError> {
    init_with_writer(filter, format, std::io::stderr())
}

/// As `init`, with lines going to `out` instead of stderr (the handler benchmark discards them).
pub fn init_with_writer(
    filter: &str,
    format: LogFormat,
    out: impl std::io::Write + Send + 'static,
) -> Result<WorkerGuard, TelemetryError> {
    // `Targets` rather than `EnvFilter`: the same `target=level` directives, without the span
    // bookkeeping (a lock on every span entry and exit) that only span-based directives need.
    let filter_text = filter;
    let filter: Targets = filter
        .parse()
        .map_err(|source| TelemetryError::InvalidFilter {
            filter: filter.to_owned(),
            source,
        })?;
    // Postgres notices are mostly "… already exists, skipping" from the migrations' and the
    // import's own idempotent statements: noise at info. Shown when asked for by name.
    let filter = if filter_text.contains("sqlx::postgres::notice") {
        filter
    } else {
        filter.with_target(
            "sqlx::postgres::notice",
            tracing::level_filters::LevelFilter::WARN,
        )
    };
    // Not lossy: when the queue is full, the request waits rather than a line being lost.
    // Buffered: the writer thread flushes once per batch of lines it finds queued (a write
    // call per line cost ~6% of a lookup's time under load), and at exit.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::BufWriter::with_capacity(LOG_BUFFER_BYTES, out));
    let lines = tracing_subscriber::fmt::layer().with_writer(writer);
    let installed = match format {
        LogFormat::Pretty => tracing_subscriber::registry()
            .with(filter)
            .with(
                lines
                    .with_target(false)
                    .with_ansi(std::io::stderr().is_terminal())
                    .fmt_fields(plain_fields())
                    .with_timer(Rfc3339Micros),
            )
            .try_init(),
        // Fields (a request line's request_id, status, …) sit at the top level; the fields of a
        // span open at the time, where there is one, ride along as "span".
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(
                lines
                    .json()
                    .with_timer(Rfc3339Micros)
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    installed?;
    Ok(guard)
}

/// `name=value` pairs and the bare message, as the default field format writes them, without
/// its styling: that paints every field name through ANSI styles even with colours off, and
/// cost ~10% of a cached lookup's instructions. As there, fields of the `log` bridge (`log.*`,
/// already shown as the line's metadata) are left out, and control characters in a message
/// are escaped, so no message can drive the terminal that shows the log.
fn plain_fields() -> impl for<'writer> FormatFields<'writer> {
    format::debug_fn(|out, field, value| match field.name() {
        name if name.starts_with("log.") => Ok(()),
        "message" => {
            std::fmt::Write::write_fmt(&mut EscapeControls(out), format_args!("{value:?}"))
        }
        name => write!(out, "{name}={value:?}"),
    })
    .delimited(" ")
}

/// UTC timestamps as the default timer writes them (`2026-11-22T05:08:47.920217Z`), formatted by
/// humantime: the default's formatting machinery cost ~4% of a cached lookup's instructions.
struct Rfc3339Micros;

impl FormatTime for Rfc3339Micros {
    fn format_time(&self, out: &mut format::Writer<'_>) -> std::fmt::Result {
        let now = std::time::SystemTime::now();
        if now < std::time::UNIX_EPOCH {
            // humantime refuses times before 1970; the default timer writes them.
            return tracing_subscriber::fmt::time::SystemTime.format_time(out);
        }
        write!(out, "{}", humantime::format_rfc3339_micros(now))
    }
}

/// Writes control characters (ESC above all) as escapes such as `\u{1b}`.
struct EscapeControls<'a>(&'a mut dyn std::fmt::Write);

impl std::fmt::Write for EscapeControls<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(char::is_control) {
            self.0.write_str(&rest[..at])?;
            let control = rest[at..].chars().next().unwrap_or_default();
            write!(self.0, "{}", control.escape_unicode())?;
            rest = &rest[at + control.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What a subscriber with these field settings writes for one event.
    fn format_one(event: impl FnOnce()) -> String {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&written);
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .fmt_fields(plain_fields())
            .with_writer(move || SharedBuffer(Arc::clone(&sink)))
            .finish();
        tracing::subscriber::with_default(subscriber, event);
        String::from_utf8(written.lock().unwrap().clone()).unwrap()
    }

    struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for SharedBuffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn fields_are_name_value_pairs_after_the_bare_message() {
        let line = format_one(|| tracing::info!(status = 200, path = %"/api/v1/lookup", "request"));
        assert!(
            line.ends_with("request status=200 path=/api/v1/lookup\n"),
            "{line:?}"
        );
    }

    #[test]
    fn control_characters_in_a_message_cannot_reach_the_terminal() {
        let line = format_one(|| tracing::warn!("evil \x1b[2J{}", "\x07bell"));
        assert!(!line.contains('\x1b') && !line.contains('\x07'), "{line:?}");
        assert!(line.contains(r"evil \u{1b}[2J\u{7}bell"), "{line:?}");
    }

    #[test]
    fn an_invalid_level_is_refused_before_anything_is_installed() {
        let refused = init_with_writer("info,sqlx=loud", LogFormat::Pretty, std::io::sink())
            .expect_err("refused");
        assert!(refused.to_string().contains("--log-level"), "{refused}");
    }
}

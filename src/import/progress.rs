//! How far an import has read: a bar on a terminal, a plain line now and then elsewhere.

use std::io::Read;

/// A progress bar on a terminal; on anything else, a plain line every so many rows.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    const PLAIN_EVERY: u64 = 250_000;

    /// `size`: the input's length in bytes, when known.
    pub(super) fn new(size: Option<u64>) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = match size {
            Some(bytes) => indicatif::ProgressBar::new(bytes).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        // Only files that take more than a moment show it.
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        Self { bar: Some(bar) }
    }

    /// The input, its bytes counted by the bar.
    pub(super) fn wrap(&self, input: Box<dyn Read>) -> Box<dyn Read> {
        match &self.bar {
            Some(bar) => Box::new(bar.wrap_read(input)),
            None => input,
        }
    }

    pub(super) fn row(&self, rows: u64) {
        match &self.bar {
            Some(bar) if rows.is_multiple_of(1000) => bar.set_message(format!("{rows} rows")),
            None if rows.is_multiple_of(Self::PLAIN_EVERY) => eprintln!("… {rows} rows read"),
            _ => {}
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

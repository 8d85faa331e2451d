//! Client certificates refused, counted by reason for /metrics, and the task that logs the
//! handshakes refused for want of one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustls::CertificateError;

/// Why a client certificate was refused, as counted in /metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    NoCertificate,
    Untrusted,
    NameMismatch,
    Expired,
    Invalid,
}

impl Refusal {
    pub const ALL: [Self; 5] = [
        Self::NoCertificate,
        Self::Untrusted,
        Self::NameMismatch,
        Self::Expired,
        Self::Invalid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::NoCertificate => "no_certificate",
            Self::Untrusted => "untrusted",
            Self::NameMismatch => "name_mismatch",
            Self::Expired => "expired",
            Self::Invalid => "invalid",
        }
    }

    pub(super) fn of(error: &rustls::Error) -> Self {
        match error {
            rustls::Error::InvalidCertificate(e) => match e {
                CertificateError::UnknownIssuer => Self::Untrusted,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    Self::Expired
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => Self::NameMismatch,
                _ => Self::Invalid,
            },
            rustls::Error::NoCertificatesPresented => Self::NoCertificate,
            _ => Self::Invalid,
        }
    }
}

/// Client certificates refused, by reason. A Certificate message without a certificate has no
/// hook of its own: rustls asks `client_auth_mandatory` for every message and then, on the same
/// thread and a few microseconds later, calls `verify_client_cert` only if a certificate is in
/// it. So each message opens a *pending* entry for its thread that `verify_client_cert` closes;
/// an entry still open when the same thread takes its next message, or older than
/// [`PENDING_GRACE`] when counted, was a message without a certificate. All of it happens under
/// one lock, so a scrape never counts a handshake that is between the two calls (a Prometheus
/// counter cannot go back down); it is off only if a thread stalls longer than the grace between
/// those two calls.
#[derive(Debug, Default)]
pub struct ClientCertificateCounts {
    /// Mutual TLS is configured: /metrics shows the refusal series, at 0 before any.
    pub(super) configured: std::sync::atomic::AtomicBool,
    refused: [AtomicU64; 4],
    missing: std::sync::Mutex<Missing>,
}

/// Messages awaiting `verify_client_cert`, by thread, and those settled as without certificate.
#[derive(Debug, Default)]
struct Missing {
    pending: std::collections::HashMap<std::thread::ThreadId, std::time::Instant>,
    settled: u64,
}

/// Far longer than rustls takes between `client_auth_mandatory` and `verify_client_cert`.
const PENDING_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

impl ClientCertificateCounts {
    /// Whether mutual TLS is configured (in either mode); without it /metrics shows no refusals.
    pub fn is_configured(&self) -> bool {
        self.configured.load(Ordering::Relaxed)
    }

    /// Refusals so far, by reason.
    pub fn refusals(&self) -> Vec<(Refusal, u64)> {
        Refusal::ALL
            .iter()
            .map(|&reason| (reason, self.refused(reason)))
            .collect()
    }

    pub(super) fn refused(&self, reason: Refusal) -> u64 {
        match Self::slot(reason) {
            Some(slot) => self.refused[slot].load(Ordering::Relaxed),
            None => {
                let mut missing = self.missing();
                let now = std::time::Instant::now();
                let before = missing.pending.len();
                missing
                    .pending
                    .retain(|_, since| now.duration_since(*since) < PENDING_GRACE);
                missing.settled += (before - missing.pending.len()) as u64;
                missing.settled
            }
        }
    }

    fn missing(&self) -> std::sync::MutexGuard<'_, Missing> {
        self.missing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A Certificate message arrived on this thread (certificates required).
    pub(super) fn message(&self) {
        let mut missing = self.missing();
        let now = std::time::Instant::now();
        if missing
            .pending
            .insert(std::thread::current().id(), now)
            .is_some()
        {
            // The previous message on this thread never reached `verify_client_cert`.
            missing.settled += 1;
        }
    }

    /// The message this thread took held a certificate.
    pub(super) fn presented(&self) {
        self.missing().pending.remove(&std::thread::current().id());
    }

    pub(super) fn count(&self, reason: Refusal) {
        if let Some(slot) = Self::slot(reason) {
            self.refused[slot].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Where a reason is counted; a missing certificate is the difference described above.
    fn slot(reason: Refusal) -> Option<usize> {
        match reason {
            Refusal::NoCertificate => None,
            Refusal::Untrusted => Some(0),
            Refusal::NameMismatch => Some(1),
            Refusal::Expired => Some(2),
            Refusal::Invalid => Some(3),
        }
    }
}

/// How often handshakes refused for want of a certificate are summed up in the log: rustls ends
/// them before any of this code sees the connection, so they are logged as a count, which also
/// keeps a scanner from flooding the log.
const MISSING_CERTIFICATE_REPORT: std::time::Duration = std::time::Duration::from_secs(5);

/// Logs, every few seconds, how many handshakes were refused without a client certificate.
pub fn log_missing_certificates(counts: Arc<ClientCertificateCounts>) {
    tokio::spawn(async move {
        let mut reported = 0;
        let mut every = tokio::time::interval(MISSING_CERTIFICATE_REPORT);
        loop {
            every.tick().await;
            let refused = counts.refused(Refusal::NoCertificate);
            if refused > reported {
                tracing::warn!(
                    reason = Refusal::NoCertificate.name(),
                    refused = refused - reported,
                    "client certificate refused: handshakes without one since the last report"
                );
                reported = refused;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_without_a_certificate_is_counted_once_and_one_mid_handshake_never() {
        let counts = ClientCertificateCounts::default();
        let missing = |counts: &ClientCertificateCounts| counts.refused(Refusal::NoCertificate);
        // Between client_auth_mandatory and verify_client_cert at a scrape: not counted.
        counts.message();
        assert_eq!(missing(&counts), 0);
        counts.presented();
        std::thread::sleep(PENDING_GRACE * 2);
        assert_eq!(missing(&counts), 0);
        // No certificate: counted once rustls would have verified one, and only once.
        counts.message();
        assert_eq!(missing(&counts), 0);
        std::thread::sleep(PENDING_GRACE * 2);
        assert_eq!(missing(&counts), 1);
        assert_eq!(missing(&counts), 1);
        // Or as soon as the same thread takes its next message.
        counts.message();
        counts.message();
        assert_eq!(missing(&counts), 2);
        counts.presented();
        std::thread::sleep(PENDING_GRACE * 2);
        assert_eq!(missing(&counts), 2);
    }
}

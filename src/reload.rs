//! One reload path: on SIGHUP every file the service reads is read again — the TLS certificate,
//! the client CA bundle, the key, password, allowlist and database password files — each all or
//! nothing, so a file
//! that fails keeps its previous content in force. Each result is logged and counted in /metrics
//! (`config_reloads_total`, `config_reload_failing`).

use std::sync::Arc;

use crate::http::{LiveEdge, ReloadMetrics, ReloadedFile};
use crate::tls::{ClientCertificates, ReloadableCertificate};

/// Everything SIGHUP re-reads.
pub struct Reloadables {
    pub certificate: Option<Arc<ReloadableCertificate>>,
    pub client_ca: Option<Arc<ClientCertificates>>,
    pub edge: Arc<LiveEdge>,
    /// `--database-password-file` and the store whose new connections use it.
    pub database_password: Option<(std::path::PathBuf, crate::store::CustomerStore)>,
    pub metrics: ReloadMetrics,
}

const TLS_CERTIFICATE: &str = "tls_certificate";
const CLIENT_CA: &str = "client_ca";
const DATABASE_PASSWORD: &str = "database_password_file";

impl Reloadables {
    /// Re-reads every configured source once.
    pub fn reload_all(&self) {
        if let Some(certificate) = &self.certificate {
            let result = certificate.reload();
            self.metrics.record(TLS_CERTIFICATE, result.is_ok());
            match result {
                Ok(fingerprint) => tracing::info!(
                    source = TLS_CERTIFICATE,
                    %fingerprint,
                    "TLS certificate reloaded; new connections use it"
                ),
                Err(e) => tracing::error!(
                    source = TLS_CERTIFICATE,
                    error = %e,
                    fingerprint = %certificate.fingerprint(),
                    "TLS certificate NOT reloaded; keeping the one in use"
                ),
            }
        }
        if let Some(client_ca) = &self.client_ca {
            let result = client_ca.reload();
            self.metrics.record(CLIENT_CA, result.is_ok());
            match result {
                Ok(summary) => tracing::info!(
                    source = CLIENT_CA,
                    %summary,
                    "client CA bundle reloaded; new connections are checked against it"
                ),
                Err(e) => tracing::error!(
                    source = CLIENT_CA,
                    error = %e,
                    "client CA bundle NOT reloaded; keeping the one in use"
                ),
            }
        }
        if let Some((path, store)) = &self.database_password {
            let result = crate::reloaded_files::single_secret(path)
                .map_err(|e| e.to_string())
                .and_then(|password| store.set_password(&password).map_err(|e| e.to_string()));
            self.metrics.record(DATABASE_PASSWORD, result.is_ok());
            match result {
                Ok(()) => tracing::info!(
                    source = DATABASE_PASSWORD,
                    "database password reloaded; new connections use it, open ones stay"
                ),
                Err(error) => tracing::error!(
                    source = DATABASE_PASSWORD,
                    %error,
                    "database password NOT reloaded; keeping the one in use"
                ),
            }
        }
        for source in ReloadedFile::ALL {
            let Some(result) = self.edge.reload(source) else {
                continue;
            };
            self.metrics.record(source.name(), result.is_ok());
            match result {
                Ok(summary) => {
                    tracing::info!(source = source.name(), %summary, "{} reloaded", source.name())
                }
                Err(e) => tracing::error!(
                    source = source.name(),
                    error = %e,
                    "{} NOT reloaded; keeping the previous content",
                    source.name()
                ),
            }
        }
    }

    /// Shows every source in use in /metrics as not failing, before any reload.
    fn track(&self) {
        if self.certificate.is_some() {
            self.metrics.track(TLS_CERTIFICATE);
        }
        if self.client_ca.is_some() {
            self.metrics.track(CLIENT_CA);
        }
        if self.database_password.is_some() {
            self.metrics.track(DATABASE_PASSWORD);
        }
        for source in ReloadedFile::ALL {
            if self.edge.is_configured(source) {
                self.metrics.track(source.name());
            }
        }
    }

    /// SIGHUP caught from now on: until `reload_on` runs, one that arrives is kept for it, and
    /// the process is never ended by one (the default action), even while it still connects
    /// to the database at start.
    pub fn catch_sighup() -> std::io::Result<tokio::signal::unix::Signal> {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::hangup())
    }

    /// Re-reads everything on every SIGHUP, for the life of the process. SIGHUP is caught even
    /// with nothing to re-read, so it never ends the process.
    pub fn reload_on(self, mut hangups: tokio::signal::unix::Signal) {
        self.track();
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                self.reload_all();
            }
        });
    }
}

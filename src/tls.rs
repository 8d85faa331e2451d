//! Native HTTPS with rustls (TLS 1.2 and 1.3 only), a certificate that can be replaced without
//! downtime (SIGHUP re-reads the files; new connections get the new certificate, a bad file keeps
//! the old one), and self-signed certificates for local testing.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate {path}: {reason}")]
    Certificate { path: String, reason: String },
    #[error("cannot read the private key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the private key {key} does not belong to the certificate {cert}: {reason}")]
    Mismatch {
        cert: String,
        key: String,
        reason: String,
    },
    #[error("cannot set up TLS: {0}")]
    Config(#[from] rustls::Error),
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The PEM certificate chain and key the service serves, re-readable on demand.
pub struct ReloadableCertificate {
    cert_path: PathBuf,
    key_path: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for ReloadableCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadableCertificate")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

impl ReloadableCertificate {
    pub fn load(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let key = load_certified_key(cert_path, key_path)?;
        Ok(Self {
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            current: RwLock::new(Arc::new(key)),
        })
    }

    /// Re-reads both files; on any error the certificate in use stays.
    pub fn reload(&self) -> Result<String, TlsError> {
        let key = Arc::new(load_certified_key(&self.cert_path, &self.key_path)?);
        let fingerprint = fingerprint_of(&key);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = key;
        Ok(fingerprint)
    }

    /// SHA-256 of the leaf certificate in use, as `AB:CD:…`.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.current())
    }

    fn current(&self) -> Arc<CertifiedKey> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

impl ResolvesServerCert for ReloadableCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn load_certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_error = |reason: String| TlsError::Certificate {
        path: cert_path.display().to_string(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error("no PEM certificate in it".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| TlsError::Key {
        path: key_path.display().to_string(),
        reason: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| TlsError::Mismatch {
        cert: cert_path.display().to_string(),
        key: key_path.display().to_string(),
        reason: e.to_string(),
    })
}

fn fingerprint_of(key: &CertifiedKey) -> String {
    let leaf = key.cert.first().map(|c| c.as_ref()).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, leaf);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// TLS 1.2 and 1.3 only, HTTP/1.1, the certificate from `certificate`.
pub fn server_config(
    certificate: Arc<ReloadableCertificate>,
) -> Result<rustls::ServerConfig, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Re-reads the certificate on every SIGHUP, for the life of the process.
pub fn reload_on_sighup(certificate: Arc<ReloadableCertificate>) -> std::io::Result<()> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match certificate.reload() {
                Ok(fingerprint) => {
                    tracing::info!(%fingerprint, "TLS certificate reloaded; new connections use it")
                }
                Err(e) => {
                    tracing::error!(error = %e, fingerprint = %certificate.fingerprint(), "TLS certificate NOT reloaded; keeping the one in use")
                }
            }
        }
    });
    Ok(())
}

/// A self-signed certificate and its private key (PEM) for the given DNS names and IPs.
pub fn self_signed(hosts: &[String]) -> Result<(String, String), TlsError> {
    let generated = rcgen::generate_simple_self_signed(hosts.to_vec())?;
    Ok((generated.cert.pem(), generated.signing_key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificates_load_and_reload_with_a_new_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let write = |hosts: &[&str]| {
            let (c, k) =
                self_signed(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()).unwrap();
            std::fs::write(&cert, c).unwrap();
            std::fs::write(&key, k).unwrap();
        };
        write(&["localhost"]);
        let loaded = ReloadableCertificate::load(&cert, &key).unwrap();
        let first = loaded.fingerprint();
        assert_eq!(first.len(), 32 * 3 - 1);

        write(&["localhost", "127.0.0.1"]);
        assert_ne!(loaded.reload().unwrap(), first);

        // A broken file is refused and the certificate in use stays.
        let in_use = loaded.fingerprint();
        std::fs::write(&cert, "not a certificate").unwrap();
        assert!(matches!(loaded.reload(), Err(TlsError::Certificate { .. })));
        assert_eq!(loaded.fingerprint(), in_use);
    }

    #[test]
    fn a_key_from_another_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_a, _) = self_signed(&["a.test".into()]).unwrap();
        let (_, key_b) = self_signed(&["b.test".into()]).unwrap();
        std::fs::write(dir.path().join("c.pem"), cert_a).unwrap();
        std::fs::write(dir.path().join("k.pem"), key_b).unwrap();
        let err = ReloadableCertificate::load(&dir.path().join("c.pem"), &dir.path().join("k.pem"))
            .unwrap_err();
        assert!(matches!(err, TlsError::Mismatch { .. }), "{err}");
    }
}

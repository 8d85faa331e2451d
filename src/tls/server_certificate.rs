//! The certificate the service serves: read from PEM files, replaced on SIGHUP without
//! downtime, handed to rustls by a TLS 1.2/1.3 server configuration; and self-signed ones for
//! local testing.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::{ClientCertificates, TlsError, provider};

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

/// Every certificate of a PEM file, or why there is none.
pub(super) fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certificates.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(certificates)
}

fn load_certified_key(cert_path: &Path, key_path: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_error = |reason: String| TlsError::Certificate {
        path: cert_path.display().to_string(),
        reason,
    };
    let chain = pem_certificates(cert_path).map_err(cert_error)?;
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

/// TLS 1.2 and 1.3 only, HTTP/1.1, the certificate from `certificate`; client certificates
/// checked by `clients` when given, and not even asked for otherwise.
pub fn server_config(
    certificate: Arc<ReloadableCertificate>,
    clients: Option<Arc<ClientCertificates>>,
) -> Result<rustls::ServerConfig, TlsError> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match clients {
        Some(clients) => builder.with_client_cert_verifier(clients),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(certificate);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
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

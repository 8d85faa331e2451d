//! Native HTTPS with rustls (TLS 1.2 and 1.3 only), a certificate that can be replaced without
//! downtime (SIGHUP re-reads the files; new connections get the new certificate, a bad file keeps
//! the old one), mutual TLS against a CA bundle that reloads the same way, and self-signed
//! certificates for local testing.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

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
    #[error("cannot read the client CA bundle {path}: {reason}")]
    ClientCa { path: String, reason: String },
    #[error("--client-cert-name {0:?} is not a DNS name or a *. wildcard of one")]
    ClientCertName(String),
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

/// Every certificate of a PEM file, or why there is none.
fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
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

    fn of(error: &rustls::Error) -> Self {
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
    configured: std::sync::atomic::AtomicBool,
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

    fn refused(&self, reason: Refusal) -> u64 {
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
    fn message(&self) {
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
    fn presented(&self) {
        self.missing().pending.remove(&std::thread::current().id());
    }

    fn count(&self, reason: Refusal) {
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

/// A name a client certificate must carry (`--client-cert-name`): exact, or `*.domain` for
/// exactly one label more than `domain`. Compared without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateName(String);

impl CertificateName {
    pub fn parse(raw: &str) -> Result<Self, TlsError> {
        let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        let exact = name.strip_prefix("*.").unwrap_or(&name);
        let valid = !exact.is_empty()
            && exact.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if valid {
            Ok(Self(name))
        } else {
            Err(TlsError::ClientCertName(raw.to_owned()))
        }
    }

    fn admits(&self, dns_name: &str) -> bool {
        let dns_name = dns_name.trim_end_matches('.').to_ascii_lowercase();
        match self.0.strip_prefix("*.") {
            Some(domain) => dns_name
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && label != "*" && rest == domain),
            None => dns_name == self.0,
        }
    }
}

/// Mutual TLS: client certificates must chain to the CA bundle (`--client-ca`, re-read on
/// SIGHUP) and, when names are configured, carry one of them as a DNS subject alternative name.
/// Refusals are logged (subject and issuer only) and counted by reason.
pub struct ClientCertificates {
    ca_path: PathBuf,
    names: Vec<CertificateName>,
    mandatory: bool,
    chain: RwLock<Arc<dyn ClientCertVerifier>>,
    counts: Arc<ClientCertificateCounts>,
}

impl fmt::Debug for ClientCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificates")
            .field("ca_path", &self.ca_path)
            .field("names", &self.names)
            .field("mandatory", &self.mandatory)
            .finish_non_exhaustive()
    }
}

impl ClientCertificates {
    pub fn load(
        ca_path: &Path,
        names: Vec<CertificateName>,
        mandatory: bool,
        counts: Arc<ClientCertificateCounts>,
    ) -> Result<Self, TlsError> {
        let (chain, _) = chain_verifier(ca_path, mandatory)?;
        counts.configured.store(true, Ordering::Relaxed);
        Ok(Self {
            ca_path: ca_path.to_owned(),
            names,
            mandatory,
            chain: RwLock::new(chain),
            counts,
        })
    }

    /// Re-reads the CA bundle; on any error the one in use stays. Says how many CAs it holds.
    pub fn reload(&self) -> Result<String, TlsError> {
        let (chain, authorities) = chain_verifier(&self.ca_path, self.mandatory)?;
        *self
            .chain
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = chain;
        Ok(format!("{authorities} CA certificates"))
    }

    fn chain(&self) -> Arc<dyn ClientCertVerifier> {
        Arc::clone(
            &self
                .chain
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// The certificate's DNS names include a configured name (any, when none is configured).
    fn has_configured_name(&self, end_entity: &CertificateDer<'_>) -> bool {
        if self.names.is_empty() {
            return true;
        }
        dns_names(end_entity)
            .iter()
            .any(|dns_name| self.names.iter().any(|name| name.admits(dns_name)))
    }

    fn refuse(
        &self,
        reason: Refusal,
        end_entity: &CertificateDer<'_>,
        error: rustls::Error,
    ) -> rustls::Error {
        self.counts.count(reason);
        let (subject, issuer) = subject_and_issuer(end_entity);
        tracing::warn!(reason = reason.name(), %subject, %issuer, error = %error, "client certificate refused");
        error
    }
}

/// A verifier for the CA bundle at `path`, and how many CA certificates it holds.
fn chain_verifier(
    path: &Path,
    mandatory: bool,
) -> Result<(Arc<dyn ClientCertVerifier>, usize), TlsError> {
    let ca_error = |reason: String| TlsError::ClientCa {
        path: path.display().to_string(),
        reason,
    };
    let certificates = pem_certificates(path).map_err(ca_error)?;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates {
        if let Some(subject) = not_a_ca(&certificate) {
            tracing::warn!(
                path = %path.display(),
                %subject,
                "a certificate in the client CA bundle is not a CA certificate: client certificates are checked against the CAs that issued them (for Genesys Cloud, the region's CA)"
            );
        }
        roots
            .add(certificate)
            .map_err(|e| ca_error(format!("a certificate in it is not a usable CA: {e}")))?;
    }
    let authorities = roots.len();
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
    let builder = if mandatory {
        builder
    } else {
        builder.allow_unauthenticated()
    };
    let verifier = builder.build().map_err(|e| ca_error(e.to_string()))?;
    Ok((verifier, authorities))
}

/// The DNS subject alternative names of a certificate (none if it cannot be read).
fn dns_names(certificate: &CertificateDer<'_>) -> Vec<String> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let Ok((_, parsed)) = X509Certificate::from_der(certificate.as_ref()) else {
        return Vec::new();
    };
    let Ok(Some(names)) = parsed.subject_alternative_name() else {
        return Vec::new();
    };
    names
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns_name) => Some((*dns_name).to_owned()),
            _ => None,
        })
        .collect()
}

/// For the log: who the certificate names and who signed it, nothing else of it.
fn subject_and_issuer(certificate: &CertificateDer<'_>) -> (String, String) {
    use x509_parser::prelude::{FromDer, X509Certificate};
    match X509Certificate::from_der(certificate.as_ref()) {
        Ok((_, parsed)) => (
            loggable(&parsed.subject().to_string()),
            loggable(&parsed.issuer().to_string()),
        ),
        Err(_) => ("(unreadable)".into(), "(unreadable)".into()),
    }
}

/// The subject of a certificate that does not say it is a CA (basic constraints absent or
/// CA:FALSE); `None` for a CA or an unreadable certificate (rustls judges those).
fn not_a_ca(certificate: &CertificateDer<'_>) -> Option<String> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, parsed) = X509Certificate::from_der(certificate.as_ref()).ok()?;
    let is_ca = matches!(parsed.basic_constraints(), Ok(Some(constraints)) if constraints.value.ca);
    (!is_ca).then(|| loggable(&parsed.subject().to_string()))
}

/// Text from a certificate any client can write, made safe for a log line: control characters
/// escaped (no forged lines, no terminal escapes) and the length bounded.
fn loggable(text: &str) -> String {
    const MAX_CHARS: usize = 256;
    let mut out: String = text
        .chars()
        .take(MAX_CHARS)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > MAX_CHARS {
        out.push('…');
    }
    out
}

impl ClientCertVerifier for ClientCertificates {
    fn offer_client_auth(&self) -> bool {
        true
    }

    /// rustls asks this once for every Certificate message a client sends, with or without a
    /// certificate in it (see `ClientCertificateCounts` for how a missing one is counted).
    fn client_auth_mandatory(&self) -> bool {
        if self.mandatory {
            self.counts.message();
        }
        self.mandatory
    }

    /// No hints: the bundle can change under a handshake, and an empty list lets the client
    /// offer whichever certificate it has (Genesys has one per region).
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self.mandatory {
            self.counts.presented();
        }
        if let Err(error) = self
            .chain()
            .verify_client_cert(end_entity, intermediates, now)
        {
            return Err(self.refuse(Refusal::of(&error), end_entity, error));
        }
        if !self.has_configured_name(end_entity) {
            let error = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
            return Err(self.refuse(Refusal::NameMismatch, end_entity, error));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain()
            .verify_tls12_signature(message, cert, dss)
            .map_err(|error| self.refuse(Refusal::Invalid, cert, error))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // A certificate the client cannot sign for (not its key): refused like a bad one.
        self.chain()
            .verify_tls13_signature(message, cert, dss)
            .map_err(|error| self.refuse(Refusal::Invalid, cert, error))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain().supported_verify_schemes()
    }
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
    fn certificate_text_is_logged_on_one_line() {
        assert_eq!(loggable("CN=a, O=b"), "CN=a, O=b");
        let forged = "O=x\n2026-12-01 INFO request path=/api\u{1b}[31m";
        let logged = loggable(forged);
        assert!(!logged.chars().any(char::is_control), "{logged:?}");
        assert!(
            logged.contains("\\n2026") && logged.contains("\\u{1b}"),
            "{logged:?}"
        );
        assert_eq!(loggable(&"A".repeat(1000)).chars().count(), 257);
    }

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
    fn certificate_names_are_exact_or_one_label_wildcards() {
        let exact = CertificateName::parse("DataActions.prod.us-east-1.mypurecloud.com").unwrap();
        assert!(exact.admits("dataactions.prod.us-east-1.mypurecloud.com"));
        assert!(!exact.admits("x.dataactions.prod.us-east-1.mypurecloud.com"));
        let wildcard = CertificateName::parse("*.mypurecloud.com").unwrap();
        assert!(wildcard.admits("dataactions.mypurecloud.com"));
        assert!(!wildcard.admits("mypurecloud.com"));
        assert!(!wildcard.admits("a.b.mypurecloud.com"));
        assert!(!wildcard.admits("*.mypurecloud.com"));
        assert!(!wildcard.admits("evilmypurecloud.com"));
        for bad in ["", "*.", "a..b", "*.*.x", "a b"] {
            assert!(CertificateName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_bad_ca_bundle_is_refused_and_the_one_in_use_stays() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let (cert, _) = self_signed(&["ca.test".into()]).unwrap();
        std::fs::write(&ca, &cert).unwrap();
        let counts = Arc::new(ClientCertificateCounts::default());
        let clients = ClientCertificates::load(&ca, Vec::new(), true, counts).unwrap();
        assert_eq!(clients.reload().unwrap(), "1 CA certificates");
        let in_use = Arc::as_ptr(&clients.chain());
        std::fs::write(&ca, "no certificate here").unwrap();
        assert!(matches!(clients.reload(), Err(TlsError::ClientCa { .. })));
        assert!(std::ptr::addr_eq(Arc::as_ptr(&clients.chain()), in_use));
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

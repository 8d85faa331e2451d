//! Mutual TLS: the client-certificate verifier, which checks the chain against a reloadable CA
//! bundle and the certificate's DNS names against `--client-cert-name`, and logs and counts
//! each refusal.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::{CertificateDer, UnixTime};

use super::server_certificate::pem_certificates;
use super::{ClientCertificateCounts, Refusal, TlsError, provider};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::self_signed;

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
}

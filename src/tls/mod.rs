//! Native HTTPS with rustls (TLS 1.2 and 1.3 only), a certificate that can be replaced without
//! downtime (SIGHUP re-reads the files; new connections get the new certificate, a bad file keeps
//! the old one), mutual TLS against a CA bundle that reloads the same way, and self-signed
//! certificates for local testing.

mod client_verifier;
mod refusals;
mod server_certificate;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

pub use client_verifier::{CertificateName, ClientCertificates};
pub use refusals::{ClientCertificateCounts, Refusal, log_missing_certificates};
pub use server_certificate::{ReloadableCertificate, self_signed, server_config};

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

//! A bounded HTTPS load generator for benches/tls.sh: lookups over kept-alive TLS connections, or
//! full handshakes (no session resumption), each with one lookup, optionally presenting a client
//! certificate. Prints `<mode> <per second>`; stops by itself after `--seconds`.
//!
//! cargo run --release --example tls_load -- ADDRESS CA_PEM keepalive|handshake CONNECTIONS SECONDS [CLIENT_CERT CLIENT_KEY]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: &str = r#"{"phoneNumber":"tel:+15551234567"}"#;

fn request(close: bool) -> String {
    let connection = if close { "close" } else { "keep-alive" };
    format!(
        "POST /api/v1/lookup HTTP/1.1\r\nHost: localhost\r\nConnection: {connection}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
}

/// Reads one response (headers and a Content-Length body) and says whether it was a 200.
async fn read_response<S: AsyncReadExt + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
) -> std::io::Result<bool> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let total = end + 4 + length;
            while buffer.len() < total {
                let mut chunk = [0; 4096];
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            let ok = head.starts_with("http/1.1 200");
            buffer.drain(..total);
            return Ok(ok);
        }
        let mut chunk = [0; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn config(ca: &str, client: Option<(&str, &str)>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).map_err(|e| e.to_string())? {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots);
    let mut config = match client {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| e.to_string())?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| e.to_string())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| e.to_string())?
        }
        None => builder.with_no_client_auth(),
    };
    // Every handshake a full one, as a new caller's would be.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [address, ca, mode, connections, seconds, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: ADDRESS CA_PEM keepalive|handshake CONNECTIONS SECONDS [CERT KEY]".into(),
        );
    };
    let client = match rest {
        [cert, key] => Some((cert.as_str(), key.as_str())),
        _ => None,
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config(ca, client)?));
    let connections: usize = connections.parse().map_err(|_| "CONNECTIONS")?;
    let deadline = Instant::now() + Duration::from_secs(seconds.parse().map_err(|_| "SECONDS")?);
    let handshakes = mode == "handshake";
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (connector, address) = (connector.clone(), address.clone());
        let (done, failed) = (done.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let name = ServerName::try_from("localhost").expect("a DNS name");
            let mut tls = None;
            let mut buffer = Vec::new();
            while Instant::now() < deadline {
                if tls.is_none() {
                    let Ok(tcp) = tokio::net::TcpStream::connect(address.as_str()).await else {
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    let _ = tcp.set_nodelay(true);
                    match connector.connect(name.clone(), tcp).await {
                        Ok(stream) => tls = Some(stream),
                        Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                    buffer.clear();
                }
                let Some(stream) = tls.as_mut() else { continue };
                let answered = match stream.write_all(request(handshakes).as_bytes()).await {
                    Ok(()) => read_response(stream, &mut buffer).await,
                    Err(e) => Err(e),
                };
                match answered {
                    Ok(true) => done.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                if handshakes || !matches!(answered, Ok(true)) {
                    tls = None;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let done = done.load(Ordering::Relaxed);
    println!(
        "{mode} {:.0} {}",
        done as f64 / elapsed,
        failed.load(Ordering::Relaxed)
    );
    Ok(())
}

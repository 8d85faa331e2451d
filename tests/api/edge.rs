//! The edge: HTTPS, credentials, the refusal to serve publicly unguarded, rate limits, network
//! allowlists and slow clients. The edge does not depend on the store, so these run on SQLite.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::helpers::{
    ALICE, Backend, HttpsResponse, ServeProcess, TestApp, binary, gen_cert, https_request, json,
};

const KEY_ONE: &str = "k1-0123456789abcdef0123456789abcdef";
const KEY_TWO: &str = "k2-fedcba9876543210fedcba9876543210";

fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A lookup of Alice over HTTPS with the right key.
async fn https_lookup(
    address: &str,
    ca: &Path,
    version: &'static rustls::SupportedProtocolVersion,
) -> HttpsResponse {
    let headers = [
        ("X-API-Key".to_owned(), KEY_ONE.to_owned()),
        ("Content-Type".to_owned(), "application/json".to_owned()),
    ];
    let body = r#"{"phoneNumber":"tel:+15551234567"}"#;
    https_request(
        address,
        ca,
        version,
        "POST",
        "/api/v1/lookup",
        &headers,
        body,
    )
    .await
}

#[tokio::test]
async fn https_with_a_gen_cert_certificate_speaks_tls_1_2_and_1_3() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = gen_cert(dir.path(), false);
    let (cert_arg, key_arg) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            "--tls-cert",
            cert_arg,
            "--tls-key",
            key_arg,
            "--api-key",
            KEY_ONE,
        ],
    )
    .await;
    let address = app.base.trim_start_matches("http://").to_owned();
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let exchange = https_lookup(&address, &cert, version).await;
        assert_eq!(exchange.version, version.version);
        assert_eq!(exchange.status, 200, "{}", exchange.head);
        let head = exchange.head.to_ascii_lowercase();
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
        assert_eq!(json(&exchange.body), json(ALICE));
    }
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("{}/healthz", app.base))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    // gen-cert does not overwrite without --force.
    let again = binary()
        .args(["gen-cert", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[tokio::test]
async fn sighup_reloads_the_certificate_and_a_bad_file_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = gen_cert(dir.path(), false);
    let data = tempfile::tempdir().unwrap();
    let mut command = binary();
    command.current_dir(data.path()).args([
        "serve",
        "--demo-data",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--api-key",
        KEY_ONE,
    ]);
    command
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key);
    let mut server = ServeProcess::start(command);
    let address = server.base.trim_start_matches("https://").to_owned();
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let first = https_lookup(&address, &cert, &rustls::version::TLS13).await;

    gen_cert(dir.path(), true);
    let hup = |pid: u32| {
        std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    assert!(hup(server.pid()).success());
    server.wait_for_log("TLS certificate reloaded");
    let second = https_lookup(&address, &cert, &rustls::version::TLS13).await;
    assert_ne!(
        first.certificate, second.certificate,
        "a new connection must get the new certificate"
    );
    assert_eq!(second.status, 200);

    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    assert!(hup(server.pid()).success());
    server.wait_for_log("NOT reloaded");
    let ca = dir.path().join("previous.pem");
    // The client still trusts the second certificate, which must still be served.
    std::fs::write(&ca, pem_of(&second.certificate)).unwrap();
    let third = https_lookup(&address, &ca, &rustls::version::TLS13).await;
    assert_eq!(third.certificate, second.certificate);
    assert!(server.is_running());
}

fn pem_of(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn every_accepted_credential_form_opens_the_api_and_nothing_else_does() {
    let hashed = format!("sha256:{}", sha256_hex(KEY_TWO));
    let flags = [
        "--api-key",
        KEY_ONE,
        "--api-key",
        hashed.as_str(),
        "--basic-auth",
        "genesys:correct-horse-battery",
    ];
    let app = TestApp::spawn(Backend::Sqlite, &flags).await;
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let url = format!("{}/api/v1/lookup?phoneNumber=%2B15551234567", app.base);
    let send = |headers: Vec<(&'static str, String)>| {
        let mut request = app.client.get(&url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };

    let accepted = [
        vec![("Authorization", format!("Bearer {KEY_ONE}"))],
        vec![("Authorization", format!("bearer {KEY_TWO}"))],
        vec![("X-API-Key", KEY_ONE.to_owned())],
        vec![("X-API-Key", KEY_TWO.to_owned())],
        vec![("Authorization", basic("genesys", "correct-horse-battery"))],
    ];
    for headers in accepted {
        let shown = format!("{headers:?}");
        let response = send(headers).await.unwrap();
        assert_eq!(response.status(), 200, "{shown}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json(ALICE),
            "{shown}"
        );
    }

    let refused = [
        vec![],
        vec![(
            "Authorization",
            format!("Bearer {}", &KEY_ONE[..KEY_ONE.len() - 1]),
        )],
        vec![("Authorization", format!("Bearer {KEY_ONE}x"))],
        vec![("Authorization", format!("Bearer {hashed}"))],
        vec![("Authorization", format!("Bearer {}", sha256_hex(KEY_TWO)))],
        vec![("Authorization", "Bearer ".to_owned())],
        vec![("Authorization", KEY_ONE.to_owned())],
        vec![("Authorization", format!("Token {KEY_ONE}"))],
        vec![("X-API-Key", format!("{KEY_ONE} extra"))],
        vec![("X-Api-Key", hashed.clone())],
        vec![("Authorization", basic("genesys", "wrong-password"))],
        vec![("Authorization", basic("other", "correct-horse-battery"))],
        vec![("Authorization", basic("genesys", ""))],
        vec![("Authorization", "Basic not-base64!".to_owned())],
        vec![(
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("no-colon")
            ),
        )],
        vec![(
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(KEY_ONE)
            ),
        )],
    ];
    let mut messages = std::collections::BTreeSet::new();
    for headers in refused {
        let shown = format!("{headers:?}");
        let response = send(headers).await.unwrap();
        assert_eq!(response.status(), 401, "{shown}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.contains("Bearer") && challenge.contains("Basic"),
            "{challenge}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized", "{shown}");
        messages.insert(body["message"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        messages.len(),
        1,
        "the refusal must not hint at which part was wrong: {messages:?}"
    );

    for probe in ["/healthz", "/readyz"] {
        assert_eq!(app.get(probe).await.status(), 200, "{probe} stays open");
    }
}

#[test]
fn serve_refuses_a_public_address_without_credentials_and_names_the_fix() {
    let folder = tempfile::tempdir().unwrap();
    let output = binary()
        .current_dir(folder.path())
        .args(["serve", "--bind", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    for fix in ["--api-key", "--basic-auth", "--allow-unauthenticated"] {
        assert!(text.contains(fix), "the error must name {fix}: {text}");
    }
    let mut explicit = binary();
    explicit.current_dir(folder.path()).args([
        "serve",
        "--bind",
        "0.0.0.0:0",
        "--allow-unauthenticated",
    ]);
    let mut server = ServeProcess::start(explicit);
    assert!(server.is_running());
    drop(server);

    let mut keyed = binary();
    keyed
        .current_dir(folder.path())
        .env("LOOKUP_API_KEYS", format!("{KEY_ONE},{KEY_TWO}"))
        .args(["serve", "--bind", "0.0.0.0:0"]);
    let mut server = ServeProcess::start(keyed);
    assert!(
        server.drain_log().iter().any(|l| l.contains("api_keys=2")),
        "{:?}",
        server.log
    );
    assert!(
        !server.log.iter().any(|l| l.contains(KEY_ONE)),
        "a key reached the log"
    );

    let mut local = binary();
    local
        .current_dir(folder.path())
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let mut server = ServeProcess::start(local);
    assert!(
        server
            .drain_log()
            .iter()
            .any(|l| l.contains("WARN") && l.contains("tunnel")),
        "{:?}",
        server.log
    );
}

#[tokio::test]
async fn over_the_rate_a_client_gets_429_with_retry_after_and_others_do_not() {
    let app = TestApp::spawn(
        Backend::Sqlite,
        &["--rate-limit", "3", "--trusted-proxy", "127.0.0.1"],
    )
    .await;
    let lookup = |client: &'static str| {
        app.client
            .get(format!(
                "{}/api/v1/lookup?phoneNumber=%2B15551234567",
                app.base
            ))
            .header("X-Forwarded-For", client)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(lookup("198.51.100.1").await.unwrap().status(), 200);
    }
    let limited = lookup("198.51.100.1").await.unwrap();
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(
        limited.json::<serde_json::Value>().await.unwrap()["error"],
        "rate_limited"
    );
    assert_eq!(
        lookup("198.51.100.2").await.unwrap().status(),
        200,
        "another client has its own budget"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        lookup("198.51.100.1").await.unwrap().status(),
        200,
        "the budget refills"
    );
}

#[tokio::test]
async fn the_allowlist_admits_only_its_networks_and_trusts_forwarding_only_from_trusted_proxies() {
    let direct = TestApp::spawn(Backend::Sqlite, &["--allow-cidr", "10.0.0.0/8"]).await;
    let get = |app: &TestApp, forwarded: Option<(&'static str, &'static str)>| {
        let mut request = app.client.get(format!(
            "{}/api/v1/lookup?phoneNumber=%2B15551234567",
            app.base
        ));
        if let Some((name, value)) = forwarded {
            request = request.header(name, value);
        }
        request.send()
    };
    let refused = get(&direct, None).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<serde_json::Value>().await.unwrap()["error"],
        "forbidden"
    );
    // Without a trusted proxy, a forwarding header is just something the client wrote.
    assert_eq!(
        get(&direct, Some(("X-Forwarded-For", "10.1.2.3")))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        direct.get("/healthz").await.status(),
        200,
        "probes are not subject to the allowlist"
    );

    let proxied = TestApp::spawn(
        Backend::Sqlite,
        &[
            "--allow-cidr",
            "10.0.0.0/8",
            "--trusted-proxy",
            "127.0.0.1/32",
        ],
    )
    .await;
    assert_eq!(
        get(&proxied, Some(("X-Forwarded-For", "10.1.2.3")))
            .await
            .unwrap()
            .status(),
        200
    );
    // The proxies write X-Forwarded-For (the default): a Forwarded header is what a client
    // wrote and the proxy passed on.
    assert_eq!(
        get(&proxied, Some(("Forwarded", "for=10.9.8.7;proto=https")))
            .await
            .unwrap()
            .status(),
        403
    );
    let rfc7239 = TestApp::spawn(
        Backend::Sqlite,
        &[
            "--allow-cidr",
            "10.0.0.0/8",
            "--trusted-proxy",
            "127.0.0.1/32",
            "--forwarded-header",
            "forwarded",
        ],
    )
    .await;
    assert_eq!(
        get(&rfc7239, Some(("Forwarded", "for=10.9.8.7;proto=https")))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get(&rfc7239, Some(("X-Forwarded-For", "10.1.2.3")))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        get(&proxied, Some(("X-Forwarded-For", "192.0.2.1")))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        get(&proxied, Some(("X-Forwarded-For", "10.1.2.3, 192.0.2.1")))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        get(&proxied, None).await.unwrap().status(),
        403,
        "the proxy itself is not in the allowlist"
    );
}

/// Seconds until the server closes a connection that sent `partial` and then stalled, and what
/// it said before closing.
fn stall(address: SocketAddr, partial: &str) -> (Duration, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(partial.as_bytes()).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (
        started.elapsed(),
        String::from_utf8_lossy(&answer).into_owned(),
    )
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_is_dropped() {
    let app = TestApp::spawn(Backend::Sqlite, &["--request-timeout", "1s"]).await;
    let address: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let (headers_wait, _) = tokio::task::spawn_blocking(move || {
        stall(
            address,
            "GET /api/v1/lookup?phoneNumber=1 HTTP/1.1\r\nHost: x\r\n",
        )
    })
    .await
    .unwrap();
    assert!(
        headers_wait < Duration::from_secs(4),
        "half-sent headers kept the connection {headers_wait:?}"
    );

    let body_start = "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"phone";
    let (body_wait, answer) = tokio::task::spawn_blocking(move || stall(address, body_start))
        .await
        .unwrap();
    assert!(
        body_wait < Duration::from_secs(4),
        "a half-sent body kept the connection {body_wait:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

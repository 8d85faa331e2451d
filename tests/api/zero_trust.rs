//! The zero-trust edge over real sockets: mutual TLS with certificates made here (a CA standing
//! in for Genesys Cloud's regional data actions CA, another CA, wrong names, expired ones), the
//! credential modes, secret and allowlist files swapped by SIGHUP under load, and secrets kept
//! out of help and error output. The edge does not depend on the store, so these run on SQLite.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::helpers::{ALICE, Backend, ServeProcess, TestApp, binary, gen_cert, json};

const KEY_ONE: &str = "k1-0123456789abcdef0123456789abcdef";
const KEY_TWO: &str = "k2-fedcba9876543210fedcba9876543210";
/// The client certificate domain of Genesys Cloud's US East region.
const GENESYS_NAME: &str = "dataactions.prod.us-east-1.mypurecloud.com";

type Authority = CertifiedIssuer<'static, KeyPair>;

fn authority(name: &str) -> Authority {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A client certificate and its key.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn client_certificate(issuer: &Authority, name: &str, expired: bool) -> Identity {
    let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let certificate = params.signed_by(&key, issuer).unwrap();
    Identity {
        chain: vec![certificate.der().clone()],
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

/// What one exchange over TLS showed, or why it failed (a refused handshake).
async fn exchange(
    address: &str,
    server_ca: &Path,
    identity: Option<&Identity>,
    headers: &[(&str, &str)],
    path: &str,
) -> Result<(u16, String), String> {
    use rustls_pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(server_ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(identity) => builder
            .with_client_auth_cert(
                identity.chain.clone(),
                PrivateKeyDer::Pkcs8(identity.key.clone_key()),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    // TLS 1.3 finishes the handshake on the client's side first: a refusal shows up here.
    tls.read_to_end(&mut raw)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no answer: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status: {head:?}"))?;
    Ok((status, body.to_owned()))
}

const LOOKUP: &str = "/api/v1/lookup?phoneNumber=%2B15551234567";

/// A metric's value in a Prometheus text page (0 when absent).
fn metric(page: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    page.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .filter(|line| {
            labels
                .iter()
                .all(|(label, value)| line.contains(&format!("{label}=\"{value}\"")))
        })
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

/// A server certificate (gen-cert, for localhost) and the PEM files of mutual TLS.
struct Files {
    dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl Files {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = gen_cert(dir.path(), false);
        Self { dir, cert, key }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn tls_args(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            self.cert.display().to_string(),
            "--tls-key".into(),
            self.key.display().to_string(),
        ]
    }
}

/// The app (kept for its database folder) and where it listens.
async fn spawn(extra: &[String]) -> (TestApp, String) {
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let app = TestApp::spawn(Backend::Sqlite, &extra).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    (app, address)
}

#[tokio::test]
async fn mutual_tls_admits_the_configured_name_from_the_ca_and_refuses_none_wrong_ca_wrong_name_expired()
 {
    let files = Files::new();
    let genesys = authority("Genesys Cloud data actions test CA");
    let ca = files.write("client-ca.pem", &genesys.pem());
    let mut args = files.tls_args();
    args.extend([
        "--client-ca".into(),
        ca.display().to_string(),
        "--client-cert-name".into(),
        GENESYS_NAME.into(),
    ]);
    let (_app, address) = spawn(&args).await;

    let good = client_certificate(&genesys, GENESYS_NAME, false);
    let (status, body) = exchange(&address, &files.cert, Some(&good), &[], LOOKUP)
        .await
        .expect("the right certificate is admitted");
    assert_eq!((status, json(&body)), (200, json(ALICE)));

    let stranger = authority("Someone else's CA");
    let refused = [
        ("no certificate", None),
        (
            "another CA",
            Some(client_certificate(&stranger, GENESYS_NAME, false)),
        ),
        (
            "another name",
            Some(client_certificate(
                &genesys,
                "dataactions.prod.eu-west-1.mypurecloud.com",
                false,
            )),
        ),
        (
            "expired",
            Some(client_certificate(&genesys, GENESYS_NAME, true)),
        ),
    ];
    for (what, identity) in &refused {
        let outcome = exchange(&address, &files.cert, identity.as_ref(), &[], LOOKUP).await;
        assert!(outcome.is_err(), "{what}: {outcome:?}");
    }

    // A handshake without a certificate counts once rustls would have verified one by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, page) = exchange(&address, &files.cert, Some(&good), &[], "/metrics")
        .await
        .unwrap();
    assert_eq!(status, 200);
    for reason in ["no_certificate", "untrusted", "name_mismatch", "expired"] {
        let name = "customer_lookup_tls_client_certificate_refusals_total";
        let count = metric(&page, name, &[("reason", reason)]);
        assert_eq!(count, 1.0, "{reason}\n{page}");
    }
}

#[tokio::test]
async fn optional_mode_opens_lookups_with_a_certificate_or_a_key_and_required_mode_with_keys_needs_both()
 {
    let files = Files::new();
    let genesys = authority("Genesys Cloud data actions test CA");
    let ca = files.write("client-ca.pem", &genesys.pem());
    let good = client_certificate(&genesys, GENESYS_NAME, false);
    let key = [("X-API-Key", KEY_ONE)];

    let mut optional = files.tls_args();
    optional.extend([
        "--client-ca".into(),
        ca.display().to_string(),
        "--client-cert-mode".into(),
        "optional".into(),
        "--client-cert-name".into(),
        GENESYS_NAME.into(),
        "--api-key".into(),
        KEY_ONE.into(),
    ]);
    let (_optional, address) = spawn(&optional).await;
    let status = |outcome: Result<(u16, String), String>| outcome.map(|(status, _)| status);
    let cert_only = exchange(&address, &files.cert, Some(&good), &[], LOOKUP).await;
    assert_eq!(status(cert_only), Ok(200));
    let neither = exchange(&address, &files.cert, None, &[], LOOKUP).await;
    assert_eq!(status(neither), Ok(401));
    let key_only = exchange(&address, &files.cert, None, &key, LOOKUP).await;
    assert_eq!(status(key_only), Ok(200));
    let stranger = client_certificate(&authority("Another CA"), GENESYS_NAME, false);
    let bad_cert = exchange(&address, &files.cert, Some(&stranger), &key, LOOKUP).await;
    assert!(
        bad_cert.is_err(),
        "a presented certificate must verify: {bad_cert:?}"
    );
    let wrong_name = client_certificate(&genesys, "dataactions.example.com", false);
    let expired = client_certificate(&genesys, GENESYS_NAME, true);
    for identity in [&wrong_name, &expired] {
        let outcome = exchange(&address, &files.cert, Some(identity), &key, LOOKUP).await;
        assert!(outcome.is_err(), "{outcome:?}");
    }
    // Refused certificates are counted in optional mode too; no certificate is no refusal here.
    let (_, page) = exchange(&address, &files.cert, None, &key, "/metrics")
        .await
        .unwrap();
    let name = "customer_lookup_tls_client_certificate_refusals_total";
    for (reason, count) in [
        ("untrusted", 1.0),
        ("name_mismatch", 1.0),
        ("expired", 1.0),
        ("no_certificate", 0.0),
    ] {
        assert_eq!(
            metric(&page, name, &[("reason", reason)]),
            count,
            "{reason}\n{page}"
        );
    }
    assert!(
        page.contains(&format!("{name}{{reason=\"no_certificate\"}} 0")),
        "{page}"
    );

    let mut required = files.tls_args();
    required.extend([
        "--client-ca".into(),
        ca.display().to_string(),
        "--api-key".into(),
        KEY_ONE.into(),
    ]);
    let (_required, address) = spawn(&required).await;
    let cert_only = exchange(&address, &files.cert, Some(&good), &[], LOOKUP).await;
    assert_eq!(status(cert_only), Ok(401));
    let both = exchange(&address, &files.cert, Some(&good), &key, LOOKUP).await;
    assert_eq!(status(both), Ok(200));
    let key_only = exchange(&address, &files.cert, None, &key, LOOKUP).await;
    assert!(key_only.is_err(), "required: {key_only:?}");
}

#[test]
fn optional_mode_without_any_key_refuses_to_start_and_names_the_fix() {
    let files = Files::new();
    let ca = files.write("client-ca.pem", &authority("CA").pem());
    let output = binary()
        .current_dir(files.dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(files.tls_args())
        .arg("--client-ca")
        .arg(&ca)
        .args(["--client-cert-mode", "optional"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--api-key-file"), "{stderr}");
}

fn hang_up(server: &ServeProcess) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until /metrics counts `count` reloads of `source` with `result`.
async fn wait_for_reloads(
    address: &str,
    files: &Files,
    identity: &Identity,
    source: &str,
    result: &str,
    count: f64,
) -> String {
    let labels = [("source", source), ("result", result)];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let key = [("X-API-Key", KEY_TWO)];
        if let Ok((200, page)) =
            exchange(address, &files.cert, Some(identity), &key, "/metrics").await
            && metric(&page, "customer_lookup_config_reloads_total", &labels) >= count
        {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "not {count} reloads {labels:?} within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_swaps_ca_bundles_and_key_files_under_load_and_a_bad_file_keeps_the_previous_ones() {
    use std::os::unix::fs::PermissionsExt;
    let files = Files::new();
    let (a, b) = (authority("Region CA 2026"), authority("Region CA 2027"));
    let ca = files.write("client-ca.pem", &a.pem());
    let keys = files.write("keys", &format!("# lookup keys\n{KEY_ONE}\n"));
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut command = binary();
    command
        .current_dir(data.path())
        .args([
            "serve",
            "--demo-data",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--rate-limit",
            "0",
        ])
        .args(files.tls_args())
        .arg("--client-ca")
        .arg(&ca)
        .arg("--api-key-file")
        .arg(&keys);
    let mut server = ServeProcess::start(command);
    server.wait_for_log("readable by every user");
    let address = server.base.trim_start_matches("https://").to_owned();
    let (cert_a, cert_b) = (
        client_certificate(&a, "client.test", false),
        client_certificate(&b, "client.test", false),
    );

    // A few hundred lookups with the credentials valid before and after, while both files
    // gain a second entry and SIGHUP arrives again and again.
    let cert_a = Arc::new(cert_a);
    let mut load = Vec::new();
    for _ in 0..8 {
        let (address, server_ca, cert_a) = (address.clone(), files.cert.clone(), cert_a.clone());
        load.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for _ in 0..40 {
                let outcome = exchange(
                    &address,
                    &server_ca,
                    Some(&cert_a),
                    &[("X-API-Key", KEY_ONE)],
                    LOOKUP,
                )
                .await;
                if !matches!(outcome, Ok((200, _))) {
                    failures.push(outcome);
                }
            }
            failures
        }));
    }
    files.write("client-ca.pem", &format!("{}{}", a.pem(), b.pem()));
    files.write("keys", &format!("{KEY_ONE}\n{KEY_TWO}\n"));
    // SIGHUP again and again for as long as the load runs.
    let mut hangups = 0;
    while !load.iter().all(|task| task.is_finished()) {
        hang_up(&server);
        hangups += 1;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        hangups >= 3,
        "the load ended before the reloads ({hangups})"
    );
    let mut failures = Vec::new();
    for task in load {
        failures.extend(task.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} of 320 requests failed across {hangups} reloads: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    let hangups = f64::from(hangups);
    wait_for_reloads(&address, &files, &cert_b, "api_key_file", "ok", hangups).await;

    // The new entries work at once; then the old ones are removed and stop at once.
    let with_two = [("X-API-Key", KEY_TWO)];
    let new_pair = exchange(&address, &files.cert, Some(&cert_b), &with_two, LOOKUP).await;
    assert!(matches!(new_pair, Ok((200, _))), "{new_pair:?}");
    files.write("client-ca.pem", &b.pem());
    files.write("keys", &format!("{KEY_TWO}\n"));
    hang_up(&server);
    wait_for_reloads(&address, &files, &cert_b, "client_ca", "ok", hangups + 1.0).await;
    wait_for_reloads(
        &address,
        &files,
        &cert_b,
        "api_key_file",
        "ok",
        hangups + 1.0,
    )
    .await;
    let old_key = exchange(
        &address,
        &files.cert,
        Some(&cert_b),
        &[("X-API-Key", KEY_ONE)],
        LOOKUP,
    )
    .await;
    assert!(matches!(old_key, Ok((401, _))), "{old_key:?}");
    let old_ca = exchange(&address, &files.cert, Some(&cert_a), &with_two, LOOKUP).await;
    assert!(old_ca.is_err(), "{old_ca:?}");

    // Broken files: both refused, with the reason logged and flagged; what was in force stays.
    let leaked = "tooshort-SECRET";
    files.write("keys", &format!("{KEY_TWO}\n{leaked}\n"));
    files.write(
        "client-ca.pem",
        "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
    );
    hang_up(&server);
    let page = wait_for_reloads(&address, &files, &cert_b, "api_key_file", "error", 1.0).await;
    assert_eq!(
        metric(
            &page,
            "customer_lookup_config_reload_failing",
            &[("source", "api_key_file")]
        ),
        1.0
    );
    wait_for_reloads(&address, &files, &cert_b, "client_ca", "error", 1.0).await;
    let still = exchange(&address, &files.cert, Some(&cert_b), &with_two, LOOKUP).await;
    assert!(matches!(still, Ok((200, _))), "{still:?}");
    // A handshake without a certificate is refused, counted, and summed up in the log.
    let none = exchange(&address, &files.cert, None, &with_two, LOOKUP).await;
    assert!(none.is_err(), "{none:?}");
    let summary = server.wait_for_log("handshakes without one");
    assert!(summary.contains("refused=1"), "{summary}");
    let line = server.wait_for_log("api_key_file NOT reloaded");
    assert!(line.contains("line 2"), "{line}");
    server.wait_for_log("client CA bundle NOT reloaded");
    assert!(
        !server.drain_log().iter().any(|l| l.contains(leaked)),
        "a secret reached the log"
    );
    assert!(server.is_running());
}

#[tokio::test]
async fn the_allowlist_file_takes_genesys_ipranges_and_sighup_replaces_it_all_or_nothing() {
    let files = tempfile::tempdir().unwrap();
    let ranges = files.path().join("ipranges.json");
    // As GET /api/v2/ipranges answers; loopback stands for a data actions range later on.
    let document = |data_actions: &[&str]| {
        let mut entities = vec![
            r#"{"cidr": "3.3.3.0/24", "service": "api", "region": "us-east-1", "direction": "inbound"}"#.to_owned(),
            r#"{"cidr": "127.0.0.0/8", "service": "smtp", "region": "us-east-1", "direction": "outbound"}"#.to_owned(),
        ];
        for cidr in data_actions {
            entities.push(format!(
                r#"{{"cidr": "{cidr}", "service": "data-actions", "region": "us-east-1", "direction": "outbound"}}"#
            ));
        }
        format!("{{\"entities\": [{}]}}", entities.join(",\n"))
    };
    std::fs::write(&ranges, document(&["52.1.2.0/24", "2600:1f18:aaaa::/48"])).unwrap();
    let (_folder, mut server) =
        crate::helpers::serve_demo(&[], &["--allow-cidr-file", ranges.to_str().unwrap()]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let lookup = || client.get(format!("{base}{LOOKUP}")).send();
    let refused = lookup().await.unwrap();
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.unwrap();
    assert_eq!(json(&body)["error"], "forbidden");
    assert!(!body.contains("Alice") && !body.contains("CUST-"), "{body}");

    std::fs::write(&ranges, document(&["52.1.2.0/24", "127.0.0.1/32"])).unwrap();
    hang_up(&server);
    server.wait_for_log("allow_cidr_file reloaded");
    let admitted = lookup().await.unwrap();
    assert_eq!(admitted.status(), 200);
    assert_eq!(json(&admitted.text().await.unwrap()), json(ALICE));

    // A document without data-actions ranges is refused; the allowlist in force stays.
    std::fs::write(&ranges, document(&[])).unwrap();
    hang_up(&server);
    server.wait_for_log("allow_cidr_file NOT reloaded");
    assert_eq!(lookup().await.unwrap().status(), 200);
    let page = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        metric(
            &page,
            "customer_lookup_config_reload_failing",
            &[("source", "allow_cidr_file")]
        ),
        1.0
    );
}

#[test]
fn secrets_stay_out_of_help_and_error_messages() {
    let password = "Db-S3cret-Passw0rd";
    let help = binary()
        .args(["serve", "--help"])
        .env(
            "DATABASE_URL",
            format!("postgres://lookup:{password}@db.internal/customers"),
        )
        .env("LOOKUP_API_KEYS", KEY_ONE)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--database-url") && text.contains("--api-key-file"));
    assert!(
        !text.contains(password) && !text.contains(KEY_ONE),
        "{text}"
    );

    let short = "tooshort-SECRET";
    /// Flags, environment, what the error must say, and the secret it must not.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 5] = [
        (&["--api-key", short], &[], "--api-key", short),
        (&[], &[("LOOKUP_API_KEYS", short)], "--api-key", short),
        (&["--admin-key", short], &[], "--admin-key", short),
        (
            &["--basic-auth", "user:S3cr7"],
            &[],
            "--basic-auth",
            "S3cr7",
        ),
        (
            &[],
            &[(
                "DATABASE_URL",
                "mysql://lookup:Db-S3cret-Passw0rd@db/customers",
            )],
            "unsupported database URL",
            password,
        ),
    ];
    for (args, env, expected, secret) in cases {
        let output = binary()
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
        assert!(
            !stderr.contains(secret),
            "{args:?} {env:?} echoed: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_database_password_file_needs_a_postgres_url_with_a_user_and_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("db-password");
    std::fs::write(&password, "Pg-S3cret-Passw0rd\n").unwrap();
    let sqlite = binary()
        .current_dir(dir.path())
        .arg("migrate")
        .arg("--database-password-file")
        .arg(&password)
        .output()
        .unwrap();
    assert!(!sqlite.status.success());
    let stderr = String::from_utf8_lossy(&sqlite.stderr);
    assert!(stderr.contains("postgres://"), "{stderr}");
    assert!(!stderr.contains("Pg-S3cret"), "{stderr}");
    // A refused file is named once, with its reason once.
    let empty = dir.path().join("pwempty.txt");
    std::fs::write(&empty, "\n").unwrap();
    let output = binary()
        .args([
            "migrate",
            "--database-url",
            "postgres://lookup@127.0.0.1:9/x",
        ])
        .arg("--database-password-file")
        .arg(&empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(
        stderr.matches("the first line is empty").count(),
        1,
        "{stderr}"
    );
    // Trust authentication ignores the password, so a local Postgres shows it is accepted.
    if crate::helpers::postgres_url().is_some() {
        let db = crate::helpers::TestDatabase::new(Backend::Postgres).await;
        let output = binary()
            .args([
                "migrate",
                "--database-url",
                &db.url,
                "--database-password-file",
            ])
            .arg(&password)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(!stderr.contains("Pg-S3cret"), "{stderr}");
    }
}

#[test]
fn the_terraform_export_carries_the_client_certificate_authority_when_asked() {
    let export = |client_certificate: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut command = binary();
        command
            .args(["export-action", "--url", "https://lookup.example.com"])
            .args(["--auth", "none", "--format", "terraform", "--out"])
            .arg(dir.path());
        if let Some(authority) = client_certificate {
            command.args(["--client-certificate", authority]);
        }
        let output = command.output().unwrap();
        assert!(output.status.success());
        let read = |name: &str| {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            let _: hcl::Body =
                hcl::from_str(&text).unwrap_or_else(|e| panic!("invalid HCL: {e}\n{text}"));
            text
        };
        let files = [read("variables.tf"), read("main.tf"), read("outputs.tf")];
        (files, String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let ([variables, main, outputs], stderr) = export(Some("digicert"));
    assert!(
        variables.contains("variable \"client_certificate_authority\"")
            && variables.contains("default     = \"DigiCert\""),
        "{variables}"
    );
    assert!(
        outputs.contains("output \"client_certificate_authority\""),
        "{outputs}"
    );
    // The integration's own setting, in its properties (the provider has no attribute for it).
    let body: hcl::Body = hcl::from_str(&main).unwrap();
    let integration = body
        .blocks()
        .find(|b| {
            b.identifier() == "resource" && b.labels()[0].as_str() == "genesyscloud_integration"
        })
        .unwrap();
    let config = integration
        .body()
        .blocks()
        .find(|b| b.identifier() == "config")
        .unwrap();
    let properties = config
        .body()
        .attributes()
        .find(|a| a.key() == "properties")
        .unwrap();
    let properties = hcl::format::to_string(properties.expr()).unwrap();
    assert!(
        properties.contains("jsonencode")
            && properties.contains("clientCertificateAuthority = var.client_certificate_authority"),
        "{properties}"
    );
    assert!(
        stderr.contains("--client-ca") && !stderr.contains("warning"),
        "{stderr}"
    );

    let ([variables, _, _], _) = export(Some("genesys"));
    assert!(
        variables.contains("default     = \"Genesys Cloud\""),
        "{variables}"
    );

    let ([variables, main, outputs], stderr) = export(None);
    for text in [&variables, &main, &outputs] {
        assert!(!text.contains("client_certificate"), "{text}");
    }
    assert!(!stderr.contains("--client-ca"), "{stderr}");
}

#[tokio::test]
async fn sighup_never_stops_the_service_even_with_nothing_to_reload() {
    let (_folder, mut server) = crate::helpers::serve_demo(&[], &[]);
    server.wait_for_log("listening on");
    hang_up(&server);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.is_running(), "SIGHUP ended the process");
    let health = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// A certificate-renewal or secret-agent hook may send SIGHUP while the service still waits for
/// its database at start: that must not end it (SIGHUP's default action).
#[tokio::test]
async fn sighup_while_the_database_is_still_unreachable_at_start_does_not_stop_the_service() {
    use std::io::BufRead;
    let folder = tempfile::tempdir().unwrap();
    let mut child = crate::helpers::binary()
        .current_dir(folder.path())
        .args(["serve", "--bind", "127.0.0.1:0", "--api-key", KEY_ONE])
        .args(["--database-url", "postgres://lookup@127.0.0.1:1/customers"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let waiting = lines
        .iter()
        .find(|line| line.contains("database unreachable at start; retrying"));
    assert!(
        waiting.is_some(),
        "the service never said it waits for the database"
    );
    let status = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let running = child.try_wait().unwrap().is_none();
    child.kill().ok();
    child.wait().ok();
    assert!(running, "SIGHUP at start ended the process");
}

#[tokio::test]
async fn basic_auth_and_admin_key_files_are_swapped_by_sighup_and_an_emptied_file_changes_nothing()
{
    let files = tempfile::tempdir().unwrap();
    let (basic, admin) = (files.path().join("basic"), files.path().join("admin"));
    std::fs::write(
        &basic,
        "# Genesys Basic Auth credential\ngenesys:first-password\n",
    )
    .unwrap();
    std::fs::write(&admin, format!("{KEY_ONE}\n")).unwrap();
    let (_folder, mut server) = crate::helpers::serve_demo(
        &[],
        &[
            "--basic-auth-file",
            basic.to_str().unwrap(),
            "--admin-key-file",
            admin.to_str().unwrap(),
        ],
    );
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let lookup = |password: &'static str| {
        client
            .get(format!("{base}{LOOKUP}"))
            .basic_auth("genesys", Some(password))
            .send()
    };
    let customer = |key: &'static str| {
        client
            .get(format!("{base}/api/v1/customers/CUST-001"))
            .header("X-API-Key", key)
            .send()
    };
    assert_eq!(lookup("first-password").await.unwrap().status(), 200);
    assert_eq!(customer(KEY_ONE).await.unwrap().status(), 200);
    assert_eq!(customer(KEY_TWO).await.unwrap().status(), 401);

    std::fs::write(&basic, "genesys:second-password\n").unwrap();
    std::fs::write(&admin, format!("{KEY_TWO}\n")).unwrap();
    hang_up(&server);
    server.wait_for_log("basic_auth_file reloaded");
    server.wait_for_log("admin_key_file reloaded");
    assert_eq!(lookup("first-password").await.unwrap().status(), 401);
    assert_eq!(lookup("second-password").await.unwrap().status(), 200);
    assert_eq!(customer(KEY_ONE).await.unwrap().status(), 401);
    assert_eq!(customer(KEY_TWO).await.unwrap().status(), 200);

    // Emptied files (truncated, half-written): refused, and the entries in force stay.
    std::fs::write(&basic, "# all revoked\n").unwrap();
    std::fs::write(&admin, "").unwrap();
    hang_up(&server);
    let refused = server.wait_for_log("basic_auth_file NOT reloaded");
    assert!(refused.contains("no entry"), "{refused}");
    server.wait_for_log("admin_key_file NOT reloaded");
    assert_eq!(lookup("second-password").await.unwrap().status(), 200);
    assert_eq!(customer(KEY_TWO).await.unwrap().status(), 200);
    let anonymous = client.get(format!("{base}{LOOKUP}")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// SIGHUP re-reads `--database-password-file` like the other files: counted in /metrics, all or
/// nothing, and the pool keeps serving — from connections opened after the reload too. The local
/// Postgres uses trust authentication, so this cannot show that the server checked the new
/// password; what it shows is that the reload ran and that connections opened after it (every
/// one was terminated) still carry the pool's own options (the application name).
#[tokio::test]
async fn sighup_rereads_the_database_password_file_for_new_connections() {
    if crate::helpers::postgres_url().is_none() {
        return;
    }
    let db = crate::helpers::TestDatabase::new(Backend::Postgres).await;
    let name = db.postgres_name().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("db-password");
    std::fs::write(&password, "first-Passw0rd\n").unwrap();
    let mut command = binary();
    command
        .args([
            "serve",
            "--demo-data",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
        ])
        .args(["--database-url", &db.url, "--database-password-file"])
        .arg(&password);
    let mut server = ServeProcess::start(command);
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let metrics = || async {
        let page = client.get(format!("{base}/metrics")).send().await;
        page.unwrap().text().await.unwrap()
    };
    let reloads = |page: &str, result: &str| {
        let labels = [("source", "database_password_file"), ("result", result)];
        metric(page, "customer_lookup_config_reloads_total", &labels)
    };
    let failing = |page: &str| {
        let labels = [("source", "database_password_file")];
        metric(page, "customer_lookup_config_reload_failing", &labels)
    };
    assert!(
        metrics()
            .await
            .contains("customer_lookup_config_reload_failing{source=\"database_password_file\"} 0")
    );

    std::fs::write(&password, "second-Passw0rd\n").unwrap();
    hang_up(&server);
    server.wait_for_log("database password reloaded");
    let page = metrics().await;
    assert_eq!((reloads(&page, "ok"), failing(&page)), (1.0, 0.0), "{page}");

    // Every connection of the service gone: the next lookup needs a new one.
    db.admin_sql(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = client.get(format!("{base}{LOOKUP}")).send().await.unwrap();
        if answer.status() == 200 {
            assert_eq!(json(&answer.text().await.unwrap()), json(ALICE));
            break;
        }
        assert!(Instant::now() < deadline, "no lookup after the reload");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin = crate::helpers::postgres_url().unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    let (ours,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'customer-lookup'",
    )
    .bind(&name)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(ours >= 1, "no new connection with the pool's options");

    // A file that fails keeps the password in force, and says so in the metrics.
    std::fs::write(&password, "\n").unwrap();
    hang_up(&server);
    let line = server.wait_for_log("database password NOT reloaded");
    assert!(!line.contains("second-Passw0rd"), "{line}");
    let page = metrics().await;
    assert_eq!(
        (reloads(&page, "error"), failing(&page)),
        (1.0, 1.0),
        "{page}"
    );
    let answer = client.get(format!("{base}{LOOKUP}")).send().await;
    assert_eq!(answer.unwrap().status(), 200);
}

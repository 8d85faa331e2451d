//! Starting the real service on port 0 against a fresh database, on SQLite or Postgres.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use customer_lookup::cache::CacheSettings;
use customer_lookup::config::{Cli, Command as CliCommand};
use customer_lookup::domain::AnswerBody;
use customer_lookup::lookup::{
    AnswerFields, LookupPolicy, OnSharedNumber, OnStoreError, UnknownStatus,
};
use customer_lookup::normalise::Region;
use customer_lookup::settings::{EdgeSettings, RequestLimits, ServeSettings};
use customer_lookup::startup::Application;
use customer_lookup::store::{DatabaseUrl, PoolSettings};
use sqlx::Connection;
use tempfile::TempDir;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed `async fn(Backend)` once on SQLite and once on Postgres.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if $crate::helpers::postgres_url().is_some() {
                        super::$test($crate::helpers::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

/// Where the local Postgres of a development machine listens (trust auth, user postgres).
const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The Postgres the suite runs its Postgres half against: `TEST_POSTGRES_URL`, or the local
/// server when one answers on 127.0.0.1:5432; `TEST_POSTGRES_URL=off` turns that half off.
/// Which backends run is said once, past the test harness's output capture.
pub fn postgres_url() -> Option<String> {
    static CHOSEN: OnceLock<Option<String>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| {
            let configured = std::env::var("TEST_POSTGRES_URL")
                .ok()
                .map(|u| u.trim().to_owned());
            let (url, why) = match configured.as_deref() {
                Some("off") => (None, "TEST_POSTGRES_URL=off".to_owned()),
                Some(url) if !url.is_empty() => {
                    (Some(url.to_owned()), format!("TEST_POSTGRES_URL={url}"))
                }
                _ if local_postgres_answers() => (
                    Some(LOCAL_POSTGRES.to_owned()),
                    format!("the local server ({LOCAL_POSTGRES}); TEST_POSTGRES_URL=off skips it"),
                ),
                _ => (
                    None,
                    "nothing answers on 127.0.0.1:5432 and TEST_POSTGRES_URL is not set".to_owned(),
                ),
            };
            let banner = match &url {
                Some(_) => format!("\nbackends tested: SQLite and Postgres, on {why}\n"),
                None => format!(
                    "\n\
                     ************************************************************************\n\
                     * POSTGRES TESTS SKIPPED: {why}\n\
                     * Only the SQLite backend was tested. To cover both (as CI does), run a\n\
                     * Postgres on 127.0.0.1:5432 or set TEST_POSTGRES_URL.\n\
                     ************************************************************************\n"
                ),
            };
            let _ = std::io::stderr().write_all(banner.as_bytes());
            url
        })
        .clone()
}

/// Whether a Postgres accepts a connection and a query as `LOCAL_POSTGRES`, within two seconds.
fn local_postgres_answers() -> bool {
    let probe = async {
        let mut connection = sqlx::PgConnection::connect(LOCAL_POSTGRES).await.ok()?;
        sqlx::query("SELECT 1")
            .execute(&mut connection)
            .await
            .ok()?;
        connection.close().await.ok()
    };
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(2), probe)
                    .await
                    .ok()?
            })
    })
    .join()
    .ok()
    .flatten()
    .is_some()
}

/// A database that exists for one test: a SQLite file in a temporary folder, or a Postgres
/// database created for the test and dropped when it ends.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>, // (admin URL, database name)
    _folder: TempDir,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        let folder = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", folder.path().join("customers.db").display());
                Self {
                    url,
                    postgres: None,
                    _folder: folder,
                }
            }
            Backend::Postgres => {
                let admin = postgres_url().expect("TEST_POSTGRES_URL is set");
                let name = unique_database_name();
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("connect to TEST_POSTGRES_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).expect("TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    postgres: Some((admin, name)),
                    _folder: folder,
                }
            }
        }
    }

    /// Runs SQL as the Postgres superuser against the server holding this database.
    pub async fn admin_sql(&self, sql: String) {
        let (admin, _) = self.postgres.as_ref().expect("a Postgres test database");
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .expect("admin connection");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("admin SQL");
        conn.close().await.ok();
    }

    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, name)| name.as_str())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop may run inside the test's runtime, which cannot be blocked on: use a thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        });
        let _ = dropped.join();
    }
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "cl_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The real application, started in this process on 127.0.0.1 and a free port.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
}

impl TestApp {
    /// Starts the service on a fresh database with `--demo-data` and any extra `serve` flags.
    pub async fn spawn(backend: Backend, extra: &[&str]) -> Self {
        let db = TestDatabase::new(backend).await;
        Self::spawn_on(db, extra).await
    }

    pub async fn spawn_on(db: TestDatabase, extra: &[&str]) -> Self {
        let address = start_server(&db.url, extra).await;
        Self {
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            db,
        }
    }

    pub async fn post_json(&self, body: &serde_json::Value) -> reqwest::Response {
        self.post_raw(body.to_string()).await
    }

    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/lookup", self.base))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .expect("request sent")
    }
}

/// What `customer-lookup serve --demo-data --bind 127.0.0.1:0 --workers 1` is told, built as
/// typed settings: the start of every test that is not about a flag.
pub fn serve_settings(database_url: &str) -> ServeSettings {
    let store_timeout = Duration::from_secs(1);
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    ServeSettings {
        database_url: DatabaseUrl::parse(database_url).expect("a database URL"),
        database_password_file: None,
        listen_database_url: None,
        pool: PoolSettings {
            max_connections: 10,
            acquire_timeout: store_timeout,
            batches_per_worker: 1,
        },
        default_region: "US".parse::<Region>().expect("a region"),
        policy: LookupPolicy {
            unknown_answer: AnswerBody {
                customer_id: "UNKNOWN".to_owned(),
                name: "Unknown Customer".to_owned(),
                loyalty_points: 0,
                is_vip: false,
            },
            unknown_status: UnknownStatus::Ok,
            on_store_error: OnStoreError::Fail,
            on_shared_number: OnSharedNumber::Unknown,
            answer_fields: AnswerFields::default(),
            deadline: store_timeout,
        },
        cache: CacheSettings {
            ttl: Duration::from_secs(30),
            max_entries: 10_000,
        },
        bind,
        workers: Some(1),
        migrate: true,
        demo_data: true,
        fail_fast: false,
        shutdown_timeout: Duration::from_secs(10),
        limits: RequestLimits {
            max_body: 16 * 1024,
            request_timeout: Duration::from_secs(5),
        },
        edge: EdgeSettings {
            rate_limit: 100,
            // --docs auto on a loopback bind.
            docs: true,
            ..EdgeSettings::default()
        },
        allow_unauthenticated: false,
        max_connections: 1024,
        tls: None,
        client_ca: None,
    }
}

/// What `customer-lookup serve` makes of these arguments (the test's database, a loopback
/// port, one worker unless told, `--demo-data`, then `extra`), through the real parser.
pub fn parsed_serve_settings(database_url: &str, extra: &[&str]) -> ServeSettings {
    let mut args = vec![
        "customer-lookup",
        "serve",
        "--database-url",
        database_url,
        "--bind",
        "127.0.0.1:0",
        "--demo-data",
    ];
    if !extra.contains(&"--workers") {
        args.extend(["--workers", "1"]);
    }
    args.extend_from_slice(extra);
    let cli = Cli::try_parse_from(&args).expect("valid arguments");
    let CliCommand::Serve(serve) = &cli.command else {
        unreachable!("serve")
    };
    serve.settings()
}

/// The typed start is the command line's start: a default changed in one shows here.
#[test]
fn typed_settings_are_what_serve_parses_from_the_same_start() {
    let url = "sqlite::memory:";
    assert_eq!(
        format!("{:?}", serve_settings(url)),
        format!("{:?}", parsed_serve_settings(url, &[])),
    );
}

/// Starts the app on the test's database, runs it in the background, and returns where it
/// listens: from typed settings, or, when the test passes `serve` flags, from those flags as
/// the command line would parse them.
pub async fn start_server(database_url: &str, extra: &[&str]) -> SocketAddr {
    let settings = if extra.is_empty() {
        serve_settings(database_url)
    } else {
        parsed_serve_settings(database_url, extra)
    };
    start_with(&settings).await
}

/// Starts the app from `settings`, runs it in the background, and returns where it listens.
pub async fn start_with(settings: &ServeSettings) -> SocketAddr {
    let app = Application::build(settings)
        .await
        .expect("application starts");
    let address = app.address();
    tokio::spawn(app.run_until_stopped());
    address
}

pub const ALICE: &str =
    r#"{"customer_id":"CUST-001","name":"Alice Smith","loyalty_points":1500,"is_vip":true}"#;
pub const BOB: &str =
    r#"{"customer_id":"CUST-002","name":"Bob Jones","loyalty_points":200,"is_vip":false}"#;
pub const UNKNOWN: &str =
    r#"{"customer_id":"UNKNOWN","name":"Unknown Customer","loyalty_points":0,"is_vip":false}"#;

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("valid JSON")
}

/// The binary under test, with no configuration inherited from the developer's environment.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-lookup"));
    for (key, _) in std::env::vars() {
        if key.starts_with("LOOKUP_") || key == "DATABASE_URL" || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    command
}

/// A `customer-lookup serve` child process; killed when dropped.
pub struct ServeProcess {
    child: Child,
    pub base: String,
    lines: mpsc::Receiver<String>,
    pub log: Vec<String>,
}

/// `customer-lookup [global] serve --demo-data [serve]` on a free loopback port, one worker, in a
/// fresh folder (so the embedded SQLite file is new). Keep the folder as long as the process.
pub fn serve_demo(options: &[&str], serve: &[&str]) -> (TempDir, ServeProcess) {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut command = binary();
    command
        .current_dir(folder.path())
        .args([
            "serve",
            "--demo-data",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
        ])
        .args(options)
        .args(serve);
    let process = ServeProcess::start(command);
    (folder, process)
}

impl ServeProcess {
    /// Starts `command` (already holding `serve` and its configuration) and waits for the
    /// "listening on" log line.
    pub fn start(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut process = Self {
            child,
            base: String::new(),
            lines,
            log: Vec::new(),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while process.base.is_empty() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = process.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "no 'listening on' line within 30 s; log so far:\n{}",
                    process.log.join("\n")
                )
            });
            if let Some(url) = line.split("listening on ").nth(1) {
                process.base = url
                    .split(|c: char| c.is_whitespace() || c == '"')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            process.log.push(line);
        }
        process
    }

    /// Waits for the process to exit by itself.
    pub fn wait_for_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to 10 s for a log line containing `needle`.
    pub fn wait_for_log(&mut self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        if let Some(line) = self.log.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "no log line with {needle:?} within 10 s:\n{}",
                    self.log.join("\n")
                )
            });
            self.log.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// Log lines written so far (waits briefly for the ones in flight).
    pub fn drain_log(&mut self) -> &[String] {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(300)) {
            self.log.push(line);
        }
        &self.log
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one HTTPS exchange showed.
pub struct HttpsResponse {
    pub status: u16,
    /// Status line and headers, as received.
    pub head: String,
    pub body: String,
    pub version: rustls::ProtocolVersion,
    /// The server's leaf certificate (DER).
    pub certificate: Vec<u8>,
}

/// One HTTP/1.1 request over TLS to `address`, trusting only the certificates in `ca_pem`, and
/// offering only `version`.
pub async fn https_request(
    address: &str,
    ca_pem: &std::path::Path,
    version: &'static rustls::SupportedProtocolVersion,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &str,
) -> HttpsResponse {
    use rustls_pki_types::pem::PemObject;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca_pem).expect("CA file");
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots
            .add(cert.expect("PEM certificate"))
            .expect("usable root");
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .expect("protocol version")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address)
        .await
        .expect("TCP connect");
    let server_name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector
        .connect(server_name, tcp)
        .await
        .expect("TLS handshake");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    tls.write_all(request.as_bytes())
        .await
        .expect("request written");
    let mut raw = Vec::new();
    tls.read_to_end(&mut raw).await.expect("response read");
    let (_, session) = tls.get_ref();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    HttpsResponse {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
        version: session.protocol_version().expect("negotiated"),
        certificate: session.peer_certificates().expect("server certificate")[0]
            .as_ref()
            .to_vec(),
    }
}

/// Writes a self-signed certificate with `customer-lookup gen-cert` and returns (cert, key).
pub fn gen_cert(dir: &std::path::Path, force: bool) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut command = binary();
    command.args(["gen-cert", "--out-dir"]).arg(dir);
    if force {
        command.arg("--force");
    }
    let output = command.output().expect("gen-cert runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("publicly trusted certificate"),
        "gen-cert must warn about Genesys: {text}"
    );
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// A PostgreSQL server of the test's own (initdb + pg_ctl on a temporary folder and a free
/// port), so the test can stop, freeze and restart it. Stopped and removed when dropped.
pub struct OwnPostgres {
    bin: std::path::PathBuf,
    data: TempDir,
    pub port: u16,
}

impl OwnPostgres {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries under /usr/lib/postgresql")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").is_file())
            .max()
            .expect("an initdb under /usr/lib/postgresql/*/bin");
        let data = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Self { bin, data, port };
        // PostgreSQL refuses to run as root: when we are root, run it as the postgres user.
        if Self::is_root() {
            let status = Command::new("chown")
                .arg("postgres:postgres")
                .arg(server.data.path())
                .status()
                .unwrap();
            assert!(status.success(), "chown the data folder");
        }
        let initdb = server.bin.join("initdb");
        let data_dir = server.data.path().display().to_string();
        server.run(
            &initdb,
            &[
                "-D",
                &data_dir,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        server.resume_or_start();
        server
    }

    fn is_root() -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false)
    }

    fn run(&self, program: &std::path::Path, args: &[&str]) -> std::process::Output {
        let output = if Self::is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(program)
                .args(args)
                .output()
        } else {
            Command::new(program).args(args).output()
        }
        .expect("PostgreSQL tool runs");
        assert!(
            output.status.success(),
            "{program:?} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data_dir = self.data.path().display().to_string();
        let mut all = vec!["-D", data_dir.as_str()];
        all.extend_from_slice(args);
        self.run(&self.bin.join("pg_ctl"), &all);
    }

    /// Starts (or restarts) the server and waits until it accepts connections.
    pub fn resume_or_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.path().display()
        );
        let log = self.data.path().join("server.log").display().to_string();
        self.pg_ctl(&["-o", &options, "-l", &log, "-w", "start"]);
    }

    /// An abrupt stop: connections are cut and new ones refused.
    pub fn stop(&self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"]);
    }

    /// Every server process, postmaster first.
    fn pids(&self) -> Vec<String> {
        let pid_file =
            std::fs::read_to_string(self.data.path().join("postmaster.pid")).unwrap_or_default();
        let Some(postmaster) = pid_file.lines().next().map(str::to_owned) else {
            return vec![];
        };
        let children = Command::new("pgrep")
            .args(["-P", &postmaster])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        std::iter::once(postmaster)
            .chain(children.split_whitespace().map(str::to_owned))
            .collect()
    }

    /// Freezes every server process: connections stay open but nothing answers (a hung
    /// database, the case a deadline is for).
    pub fn freeze(&self) {
        for pid in self.pids() {
            let _ = Command::new("kill").args(["-STOP", &pid]).status();
        }
    }

    pub fn thaw(&self) {
        for pid in self.pids() {
            let _ = Command::new("kill").args(["-CONT", &pid]).status();
        }
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        self.thaw();
        let data_dir = self.data.path().display().to_string();
        let stop = ["-D", data_dir.as_str(), "-m", "immediate", "stop"];
        let _ = if Self::is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(stop)
                .output()
        } else {
            Command::new(self.bin.join("pg_ctl")).args(stop).output()
        };
    }
}

//! What operators rely on: metrics, JSON logs, clean stops, the OpenAPI document, and riding
//! out a database outage.

use std::time::{Duration, Instant};

use crate::helpers::{
    ALICE, Backend, OwnPostgres, ServeProcess, TestApp, TestDatabase, UNKNOWN, binary, json,
};
use crate::on_both_backends;

on_both_backends!(
    metrics_parse_and_move_with_the_traffic,
    sigterm_finishes_in_flight_requests_and_exits_zero
);

fn scrape(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("Prometheus text format")
}

fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => {
                buckets.last().map_or(0.0, |b| b.count)
            }
            _ => f64::NAN,
        })
        .unwrap_or_else(|| panic!("no sample {name} {labels:?}"))
}

async fn metrics_parse_and_move_with_the_traffic(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let read = || async { scrape(&app.get("/metrics").await.text().await.unwrap()) };
    let before = read().await;
    assert_eq!(
        value(
            &before,
            "customer_lookup_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    let found_before = value(
        &before,
        "customer_lookup_lookups_total",
        &[("outcome", "found")],
    );
    assert_eq!(
        value(
            &before,
            "customer_lookup_lookups_total",
            &[("outcome", "error")]
        ),
        0.0
    );

    for number in ["+15551234567", "+15559876543", "+15550000000", "anonymous"] {
        app.post_json(&serde_json::json!({ "phoneNumber": number }))
            .await;
    }
    app.post_raw("{").await;
    let after = read().await;
    assert_eq!(
        value(
            &after,
            "customer_lookup_lookups_total",
            &[("outcome", "found")]
        ) - found_before,
        2.0
    );
    assert_eq!(
        value(
            &after,
            "customer_lookup_lookups_total",
            &[("outcome", "unknown")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "customer_lookup_lookups_total",
            &[("outcome", "invalid")]
        ),
        1.0
    );
    let ok = [
        ("route", "/api/v1/lookup"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert_eq!(
        value(&after, "customer_lookup_http_requests_total", &ok),
        4.0
    );
    let bad = [
        ("route", "/api/v1/lookup"),
        ("method", "POST"),
        ("status", "400"),
    ];
    assert_eq!(
        value(&after, "customer_lookup_http_requests_total", &bad),
        1.0
    );
    assert!(
        value(
            &after,
            "customer_lookup_http_request_duration_seconds_count",
            &[("route", "/api/v1/lookup")]
        ) >= 5.0
    );
    let open = value(
        &after,
        "customer_lookup_db_pool_connections",
        &[("state", "idle")],
    ) + value(
        &after,
        "customer_lookup_db_pool_connections",
        &[("state", "in_use")],
    );
    assert!(open >= 1.0, "the pool has connections");
    assert_eq!(
        value(&after, "customer_lookup_store_errors_total", &[]),
        0.0
    );
}

/// On Postgres, a worker's batch task keeps its connection between batches: with the default of
/// one batch in flight per worker, a burst of lookups leaves exactly one connection in use.
#[tokio::test]
async fn a_worker_keeps_one_postgres_connection_per_batch_in_flight() {
    use futures_util::StreamExt;
    if crate::helpers::postgres_url().is_none() {
        return;
    }
    let app = TestApp::spawn(
        Backend::Postgres,
        &["--workers", "1", "--cache-ttl", "0", "--rate-limit", "0"],
    )
    .await;
    let statuses: Vec<u16> = futures_util::stream::iter(0..200)
        .map(|i| {
            let app = &app;
            async move {
                let number = format!("+1555123{:04}", 4567 + i % 3);
                let body = serde_json::json!({ "phoneNumber": number });
                app.post_json(&body).await.status().as_u16()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.get("/readyz").await.status(), 200);
    // The pool takes a connection back in a task of its own, so the probe's may still count as
    // in use for a moment; the batch task's never goes back.
    let in_use = [("state", "in_use")];
    let mut kept = f64::NAN;
    let give_up = Instant::now() + Duration::from_secs(5);
    while Instant::now() < give_up {
        let metrics = scrape(&app.get("/metrics").await.text().await.unwrap());
        kept = value(&metrics, "customer_lookup_db_pool_connections", &in_use);
        if kept <= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kept, 1.0);
}

#[tokio::test]
async fn metrics_auth_puts_metrics_behind_the_api_credentials() {
    let key = "metrics-0123456789abcdef0123456789";
    let app = TestApp::spawn(Backend::Sqlite, &["--api-key", key, "--metrics-auth"]).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let allowed = app
        .client
        .get(format!("{}/metrics", app.base))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let open = TestApp::spawn(Backend::Sqlite, &["--api-key", key]).await;
    assert_eq!(
        open.get("/metrics").await.status(),
        200,
        "without --metrics-auth the scrape is open"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_request_id_and_no_personal_data() {
    let (_folder, mut server) = crate::helpers::serve_demo(&["--log-format", "json"], &[]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/lookup", server.base);
    let found = client
        .post(&url)
        .header("ININ-Correlation-Id", "corr-json-1")
        .json(&serde_json::json!({"phoneNumber": "tel:+15551234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        found.json::<serde_json::Value>().await.unwrap(),
        json(ALICE)
    );
    client.post(&url).body("{}").send().await.unwrap();
    server.wait_for_log("missing_phone_number");

    let log = server.drain_log().to_vec();
    let mut request_lines = Vec::new();
    for line in &log {
        let object: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            object["timestamp"].is_string() && object["level"].is_string(),
            "{line}"
        );
        if object["message"] == "request" {
            request_lines.push(object);
        }
    }
    let found = request_lines
        .iter()
        .find(|l| l["request_id"] == "corr-json-1")
        .expect("the request line carries the request id");
    assert_eq!(found["status"], 200);
    assert_eq!(found["outcome"], "found");
    assert_eq!(found["number"], "+1555•••4567");
    assert_eq!(found["client"], "127.0.0.1");
    assert!(found["latency_ms"].is_string() || found["latency_ms"].is_number());
    let bad = request_lines
        .iter()
        .find(|l| l["error"] == "missing_phone_number")
        .expect("the 400 is logged");
    assert!(
        bad["request_id"].as_str().is_some_and(|id| id.len() >= 8),
        "{bad}"
    );
    let all = log.join("\n");
    assert!(
        !all.contains("5551234567") && !all.contains("Alice Smith"),
        "personal data reached the log:\n{all}"
    );
}

/// A store failure is told on the request's own line, with the request id and the cause: at
/// error level with the 503, at warn level when `--on-store-error default` answered instead.
#[tokio::test]
async fn a_store_failure_is_logged_on_the_requests_line_with_its_cause() {
    for (mode, status, level) in [("fail", 503, "ERROR"), ("default", 200, "WARN")] {
        let (folder, mut server) = crate::helpers::serve_demo(
            &["--log-format", "json", "--store-timeout", "500ms"],
            &["--on-store-error", mode, "--cache-ttl", "0"],
        );
        // The store breaks under the running service: its table of numbers is gone.
        rusqlite::Connection::open(folder.path().join("data/customers.db"))
            .unwrap()
            .execute_batch("ALTER TABLE phone_numbers RENAME TO gone")
            .unwrap();
        let id = format!("store-failure-{mode}");
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/lookup", server.base))
            .header("X-Request-Id", &id)
            .json(&serde_json::json!({"phoneNumber": "tel:+15551234567"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{mode}");
        let line: serde_json::Value = serde_json::from_str(&server.wait_for_log(&id)).unwrap();
        assert_eq!(line["level"], level, "{mode}: {line}");
        assert_eq!(line["status"], status, "{mode}: {line}");
        assert_eq!(line["outcome"], "error", "{mode}: {line}");
        assert!(
            line["cause"]
                .as_str()
                .is_some_and(|cause| cause.contains("phone_numbers")),
            "{mode}: the line names what failed: {line}"
        );
    }
}

/// SIGTERM lets a request that is under way finish, closes the store (on Postgres that means
/// the lookup batches hand their connections back) and exits 0.
async fn sigterm_finishes_in_flight_requests_and_exits_zero(backend: Backend) {
    use std::io::{Read, Write};
    let database = TestDatabase::new(backend).await;
    let (_folder, mut server) = crate::helpers::serve_demo(
        &["--database-url", &database.url],
        &["--request-timeout", "10s"],
    );
    let address = server.base.trim_start_matches("http://").to_owned();
    let body = r#"{"phoneNumber": "+15551234567"}"#;
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    std::thread::sleep(Duration::from_millis(300));
    // A new connection is no longer accepted...
    assert!(
        std::net::TcpStream::connect(&address).is_err(),
        "the listener must close on SIGTERM"
    );
    // ...but the request under way completes.
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("CUST-001"), "{answer}");
    let status = server.wait_for_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert!(server.drain_log().iter().any(|l| l.contains("stopped")));
}

#[tokio::test]
async fn the_openapi_document_is_valid_and_describes_what_the_service_answers() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await;
    let text = app.get("/openapi.json").await.text().await.unwrap();
    let document =
        oas3::from_json(&text).unwrap_or_else(|e| panic!("not a valid OpenAPI 3.1 document: {e}"));
    assert!(document.openapi.starts_with("3."), "{}", document.openapi);
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    let post = &raw["paths"]["/api/v1/lookup"]["post"];
    let get = &raw["paths"]["/api/v1/lookup"]["get"];
    for status in [
        "200", "400", "401", "403", "404", "408", "413", "429", "503",
    ] {
        assert!(
            post["responses"][status].is_object() && get["responses"][status].is_object(),
            "status {status} undocumented"
        );
    }
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(raw["paths"][path]["get"].is_object(), "{path}");
    }
    // Real answers validate against the documented schemas.
    let schema = |name: &str| {
        jsonschema::draft202012::new(&raw["components"]["schemas"][name])
            .expect("valid JSON Schema")
    };
    let answer = schema("LookupAnswer");
    let error = schema("ErrorBody");
    let found: serde_json::Value = app
        .post_json(&serde_json::json!({"phoneNumber": "+15551234567"}))
        .await
        .json()
        .await
        .unwrap();
    assert!(answer.is_valid(&found), "{found}");
    assert!(answer.is_valid(&json(UNKNOWN)));
    assert!(!answer.is_valid(&serde_json::json!({"customer_id": "x", "name": "y", "loyalty_points": 1, "is_vip": true, "extra": 1})), "the schema must forbid extra fields");
    assert!(!answer.is_valid(
        &serde_json::json!({"customer_id": "x", "name": null, "loyalty_points": 1, "is_vip": true})
    ));
    for body in ["{", "[]", "{}"] {
        let refused: serde_json::Value = app.post_raw(body).await.json().await.unwrap();
        assert!(error.is_valid(&refused), "{refused}");
    }
}

/// A real Postgres, stopped and frozen under a running service: every lookup is answered within
/// the deadline in both --on-store-error modes, /readyz follows the database, and the service
/// recovers by itself within seconds of the database coming back.
#[tokio::test]
async fn a_postgres_outage_is_answered_within_the_deadline_and_recovered_from() {
    let postgres = OwnPostgres::start();
    let url = postgres.url();
    let deadline = Duration::from_millis(500);
    // Both instances share the database, as several instances behind a load balancer do. The
    // failing one caches answers (Alice's stays served while the database is frozen, but not
    // once the connection that hears changes has ended); the degrading one caches nothing.
    let failing = crate::helpers::start_server(&url, &["--store-timeout", "500ms"]).await;
    let degrading = crate::helpers::start_server(
        &url,
        &[
            "--store-timeout",
            "500ms",
            "--on-store-error",
            "default",
            "--cache-ttl",
            "0",
        ],
    )
    .await;
    const ALICE_NUMBER: &str = "tel:+15551234567";
    const BOB_NUMBER: &str = "tel:+15559876543";
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let lookup = |address: std::net::SocketAddr, number: &'static str| {
        let client = client.clone();
        async move {
            let started = Instant::now();
            let response = client
                .post(format!("http://{address}/api/v1/lookup"))
                .json(&serde_json::json!({ "phoneNumber": number }))
                .send()
                .await
                .unwrap();
            let elapsed = started.elapsed();
            let degraded = response.headers().get("x-lookup-degraded").is_some();
            let retry_after = response.headers().get("retry-after").is_some();
            (
                response.status().as_u16(),
                degraded,
                retry_after,
                response.json::<serde_json::Value>().await.unwrap(),
                elapsed,
            )
        }
    };
    let ready = |address: std::net::SocketAddr| {
        let client = client.clone();
        async move {
            client
                .get(format!("http://{address}/readyz"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(lookup(degrading, ALICE_NUMBER).await.3, json(ALICE));
    // Whether the failing instance hears changes now, from its metrics.
    let listening = |address: std::net::SocketAddr| {
        let client = client.clone();
        async move {
            let metrics = client
                .get(format!("http://{address}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            metrics
                .contains("customer_lookup_change_listener_up{source=\"postgres_notifications\"} 1")
        }
    };
    let until = |wanted: bool| async move {
        let started = Instant::now();
        while listening(failing).await != wanted {
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "the change listener is not {} after 8 s",
                if wanted { "up" } else { "down" }
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };

    // Within the deadline, plus scheduling slack on a shared 2-core machine.
    let bound = deadline + Duration::from_millis(700);
    let mut answered = 0;
    let mut within = 0;
    // Each outage asks for a number nobody asked for before, so no cache can answer it.
    for (outage, begin, uncached) in [
        ("stopped", OutageKind::Stop, BOB_NUMBER),
        ("frozen", OutageKind::Freeze, "tel:+15550000077"),
    ] {
        // Alice's answer is cached while changes are heard.
        until(true).await;
        assert_eq!(lookup(failing, ALICE_NUMBER).await.3, json(ALICE));
        match begin {
            OutageKind::Stop => postgres.stop(),
            OutageKind::Freeze => postgres.freeze(),
        }
        let (status, _, _, body, elapsed) = match begin {
            OutageKind::Stop => {
                // The server ended the listening connection: a change could now go unheard,
                // so the cache is not trusted and Alice is asked of the store like anyone.
                until(false).await;
                let answer = lookup(failing, ALICE_NUMBER).await;
                answered += 1;
                within += usize::from(answer.4 <= bound);
                answer
            }
            // A frozen server ends no connection and commits nothing: the cached answer is
            // still the right one.
            OutageKind::Freeze => lookup(failing, ALICE_NUMBER).await,
        };
        let expected = match begin {
            OutageKind::Stop => 503,
            OutageKind::Freeze => 200,
        };
        assert_eq!(
            status, expected,
            "{outage}: Alice's cached answer ({elapsed:?}): {body}"
        );
        for _ in 0..3 {
            let (status, _, retry_after, body, elapsed) = lookup(failing, uncached).await;
            assert_eq!(status, 503, "{outage}: {body}");
            assert_eq!(body["error"], "store_unavailable", "{outage}");
            assert!(retry_after, "{outage}: 503 needs Retry-After");
            let (status, degraded, _, body, elapsed_default) =
                lookup(degrading, ALICE_NUMBER).await;
            assert_eq!((status, degraded), (200, true), "{outage}: {body}");
            assert_eq!(body, json(UNKNOWN), "{outage}");
            for took in [elapsed, elapsed_default] {
                answered += 1;
                within += usize::from(took <= bound);
            }
        }
        assert_eq!(
            ready(failing).await,
            503,
            "{outage}: /readyz must say the store is gone"
        );
        match begin {
            OutageKind::Stop => postgres.resume_or_start(),
            OutageKind::Freeze => postgres.thaw(),
        }
        let back = Instant::now();
        while ready(failing).await != 200 || ready(degrading).await != 200 {
            assert!(
                back.elapsed() < Duration::from_secs(5),
                "{outage}: not ready 5 s after the database came back"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let recovered_in = back.elapsed();
        let (status, _, _, _, _) = lookup(failing, uncached).await;
        assert_eq!(status, 200, "{outage}: the store answers again");
        assert_eq!(
            lookup(degrading, ALICE_NUMBER).await.3,
            json(ALICE),
            "{outage}"
        );
        eprintln!("outage ({outage}): ready again {recovered_in:?} after the database came back");
    }
    eprintln!("outage: {within}/{answered} lookups answered within {bound:?}");
    assert_eq!(
        within, answered,
        "every lookup during the outage must meet the deadline"
    );
}

enum OutageKind {
    Stop,
    Freeze,
}

#[tokio::test]
async fn start_up_waits_for_an_unreachable_database_unless_told_to_fail_fast() {
    let postgres = OwnPostgres::start();
    postgres.stop();
    let folder = tempfile::tempdir().unwrap();
    let fast = binary()
        .current_dir(folder.path())
        .args([
            "serve",
            "--database-url",
            &postgres.url(),
            "--bind",
            "127.0.0.1:0",
            "--fail-fast",
        ])
        .output()
        .unwrap();
    assert!(!fast.status.success());
    assert!(
        String::from_utf8_lossy(&fast.stderr).contains("cannot connect"),
        "{}",
        String::from_utf8_lossy(&fast.stderr)
    );

    let mut command = binary();
    command.current_dir(folder.path()).args([
        "serve",
        "--database-url",
        &postgres.url(),
        "--bind",
        "127.0.0.1:0",
        "--demo-data",
    ]);
    let child = std::thread::spawn(move || ServeProcess::start(command));
    std::thread::sleep(Duration::from_secs(2));
    postgres.resume_or_start();
    let mut server = tokio::task::spawn_blocking(move || child.join().unwrap())
        .await
        .unwrap();
    assert!(
        server.drain_log().iter().any(|l| l.contains("retrying")),
        "{:?}",
        server.log
    );
    let body: serde_json::Value = reqwest::get(format!(
        "{}/api/v1/lookup?phoneNumber=%2B15551234567",
        server.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(body, json(ALICE));
}

//! What one lookup request costs inside the service, without the network: the real routes,
//! edge guard, request log (formatted, then discarded) and metrics, called in-process on the
//! embedded SQLite store with the demo customers. `cargo bench --bench handler`; compare the
//! rows of one run (the machine is shared). `benches/http.sh` measures the same over TCP.

use std::time::{Duration, Instant};

use actix_web::test::{TestRequest, call_and_read_body_json, call_service, init_service};
use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use customer_lookup::config::{Cli, Command};
use customer_lookup::http::HttpServices;
use customer_lookup::telemetry::LogFormat;

/// The app as `serve` would build it with these flags after `serve`.
fn services(database: &std::path::Path, serve_flags: &[&str]) -> HttpServices {
    let url = format!("sqlite://{}", database.display());
    // No rate limit: every request comes from the same (absent) client address.
    let args = [
        "customer-lookup",
        "serve",
        "--database-url",
        &url,
        "--demo-data",
        "--rate-limit",
        "0",
    ];
    let cli = Cli::parse_from(args.iter().chain(serve_flags));
    let Command::Serve(serve) = &cli.command else {
        unreachable!("the arguments name serve")
    };
    actix_web::rt::System::new()
        .block_on(customer_lookup::startup::prepare(&serve.settings()))
        .expect("the services start on a fresh SQLite file")
}

fn handler(c: &mut Criterion) {
    // The production log line, written to nowhere: its formatting is part of a request's cost.
    let _log_writer =
        customer_lookup::telemetry::init_with_writer("info", LogFormat::Pretty, std::io::sink())
            .expect("a log subscriber");
    let folder = tempfile::tempdir().expect("a temporary folder");
    let mut group = c.benchmark_group("handler");
    group.measurement_time(Duration::from_secs(5));
    // Flags after `serve`, and the request: each case gets its own database and app.
    let cases = [
        Case {
            name: "post_known_cached",
            serve_flags: &[],
            request: || post(r#"{"phoneNumber":"tel:+15551234567"}"#),
            customer_id: "CUST-001",
        },
        Case {
            name: "post_known_store",
            serve_flags: &["--cache-ttl", "0"],
            request: || post(r#"{"phoneNumber":"tel:+15551234567"}"#),
            customer_id: "CUST-001",
        },
        Case {
            name: "post_unknown_store",
            serve_flags: &["--cache-ttl", "0"],
            request: || post(r#"{"phoneNumber":"+15550000000"}"#),
            customer_id: "UNKNOWN",
        },
        Case {
            name: "get_national_cached",
            serve_flags: &[],
            request: || TestRequest::get().uri("/api/v1/lookup?phoneNumber=(555)%20123-4567"),
            customer_id: "CUST-001",
        },
    ];
    for (index, case) in cases.into_iter().enumerate() {
        let Case {
            name,
            serve_flags,
            request,
            customer_id,
        } = case;
        let services = services(&folder.path().join(format!("{index}.db")), serve_flags);
        let system = actix_web::rt::System::new();
        let app = system.block_on(init_service(services.clone().app()));
        let answer: serde_json::Value =
            system.block_on(call_and_read_body_json(&app, request().to_request()));
        assert_eq!(answer["customer_id"], customer_id, "{name}: {answer}");
        // Each sample runs its requests inside one `block_on`, so the runtime's entry is not
        // counted per request.
        group.bench_function(name, |b| {
            b.iter_custom(|requests| {
                system.block_on(async {
                    let started = Instant::now();
                    for _ in 0..requests {
                        let response = call_service(&app, request().to_request()).await;
                        let status = response.status();
                        assert!(status.is_success(), "{name}: {status}");
                    }
                    started.elapsed()
                })
            })
        });
        system.block_on(services.store().close());
    }
    group.finish();
}

/// One benchmark: the flags after `serve` (each case gets its own database and app), the
/// request, and the customer_id it must answer (a demo customer's, or the unknown default).
struct Case {
    name: &'static str,
    serve_flags: &'static [&'static str],
    request: fn() -> TestRequest,
    customer_id: &'static str,
}

fn post(body: &'static str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/lookup")
        .insert_header(("content-type", "application/json"))
        .set_payload(body)
}

criterion_group!(benches, handler);
criterion_main!(benches);

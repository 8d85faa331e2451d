//! `/healthz` says the process is alive; `/readyz` says the store answers.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    health_and_readiness_are_200_json_when_all_is_well,
    no_migrate_leaves_the_schema_to_the_migrate_command,
);

async fn health_and_readiness_are_200_json_when_all_is_well(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let expected = if backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(body["store"], expected);
}

/// When Postgres refuses connections, readiness and lookups turn into 503 JSON errors (not a
/// crash, not a hang); when it accepts them again, both recover without a restart.
#[tokio::test]
async fn postgres_outage_is_503_then_recovers() {
    if crate::helpers::postgres_url().is_none() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres, &[]).await;
    let name = app.db.postgres_name().expect("postgres").to_owned();
    app.db
        .admin_sql(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"))
        .await;
    app.db
        .admin_sql(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await;

    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["error"],
        "store_unavailable"
    );
    let lookup = app
        .post_json(&serde_json::json!({"phoneNumber": "+15551234567"}))
        .await;
    assert_eq!(lookup.status(), 503);
    let body: serde_json::Value = lookup.json().await.unwrap();
    assert_eq!(body["error"], "store_unavailable");
    assert!(
        !body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1"),
        "no internals: {body}"
    );

    app.db
        .admin_sql(format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"))
        .await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let lookup = app
        .post_json(&serde_json::json!({"phoneNumber": "+15551234567"}))
        .await;
    assert_eq!(
        lookup.json::<serde_json::Value>().await.unwrap()["customer_id"],
        "CUST-001"
    );
}

/// `--no-migrate` on an empty database: lookups fail cleanly (503, not a crash) until
/// `customer-lookup migrate` has run, then work without a restart.
async fn no_migrate_leaves_the_schema_to_the_migrate_command(backend: Backend) {
    let db = crate::helpers::TestDatabase::new(backend).await;
    let settings = customer_lookup::settings::ServeSettings {
        migrate: false,
        demo_data: false,
        ..crate::helpers::serve_settings(&db.url)
    };
    let base = format!("http://{}", crate::helpers::start_with(&settings).await);
    let client = reqwest::Client::new();
    let lookup = || {
        client
            .get(format!("{base}/api/v1/lookup?phoneNumber=%2B15551234567"))
            .send()
    };

    let response = lookup().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "store_unavailable"
    );

    let output = crate::helpers::binary()
        .args(["migrate", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response = lookup().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["customer_id"],
        "UNKNOWN"
    );
}

/// Swagger UI comes from the binary (no CDN: its page names only its own files), points at the
/// service's own document, is on by default for a loopback bind and off when told.
#[tokio::test]
async fn the_interactive_docs_are_served_from_the_binary_on_loopback_unless_turned_off() {
    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite, &[]).await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("swagger-ui-bundle.js"), "{page}");
    for attribute in ["src=\"", "href=\""] {
        for link in page.split(attribute).skip(1) {
            assert!(
                !link.starts_with("http") && !link.starts_with("//"),
                "the page loads {link:.60} from elsewhere"
            );
        }
    }
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status(), 200);
    assert!(
        script.bytes().await.unwrap().len() > 100_000,
        "the bundle is served whole"
    );
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("\"url\": \"/openapi.json\""),
        "{initializer}"
    );
    let redirect = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.url().path(), "/docs/", "/docs leads to the page");

    let off =
        crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite, &["--docs", "off"]).await;
    assert_eq!(off.get("/docs/").await.status(), 404);
    let document: serde_json::Value = off.get("/openapi.json").await.json().await.unwrap();
    assert!(
        document["paths"].get("/docs").is_none(),
        "what is not served is not described"
    );
}

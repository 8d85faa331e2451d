//! `/healthz` says the process is alive; `/readyz` says the store answers.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(health_and_readiness_are_200_json_when_all_is_well);

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

//! The admin API: off by default, admin keys only, and every change visible to the next lookup.

use crate::helpers::{ALICE, Backend, TestApp, UNKNOWN, json};
use crate::on_both_backends;

const ADMIN: &str = "admin-0123456789abcdef0123456789ab";
const LOOKUP: &str = "lookup-0123456789abcdef0123456789a";

on_both_backends!(
    the_admin_api_is_off_without_an_admin_key,
    only_admin_keys_open_the_admin_api,
    put_get_delete_and_find_by_phone_change_what_lookups_answer,
    conflicts_and_invalid_fields_are_refused_with_specific_errors,
);

fn admin(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, format!("{}{path}", app.base))
        .header("X-API-Key", ADMIN)
}

async fn lookup(app: &TestApp, number: &str) -> serde_json::Value {
    app.client
        .post(format!("{}/api/v1/lookup", app.base))
        .header("X-API-Key", LOOKUP)
        .json(&serde_json::json!({ "phoneNumber": number }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn the_admin_api_is_off_without_an_admin_key(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let response = app.get("/api/v1/customers/CUST-001").await;
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["error"],
        "not_found"
    );
}

async fn only_admin_keys_open_the_admin_api(backend: Backend) {
    let app = TestApp::spawn(backend, &["--api-key", LOOKUP, "--admin-key", ADMIN]).await;
    let url = format!("{}/api/v1/customers/CUST-001", app.base);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        app.client
            .get(&url)
            .header("X-API-Key", LOOKUP)
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "lookup keys must not open it"
    );
    let response = app
        .client
        .get(&url)
        .header("Authorization", format!("Bearer {ADMIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["phone_numbers"], serde_json::json!(["+15551234567"]));
    assert_eq!(body["name"], "Alice Smith");
    // ...and the admin key is no lookup credential.
    let lookup = app
        .client
        .get(format!(
            "{}/api/v1/lookup?phoneNumber=%2B15551234567",
            app.base
        ))
        .header("X-API-Key", ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), 401);
}

async fn put_get_delete_and_find_by_phone_change_what_lookups_answer(backend: Backend) {
    let app = TestApp::spawn(backend, &["--api-key", LOOKUP, "--admin-key", ADMIN]).await;
    let carol = serde_json::json!({"name": "Carol Diaz", "loyalty_points": 42, "is_vip": true, "phone_numbers": ["(555) 000-1111", "tel:+1-555-000-2222"]});
    let created = admin(&app, reqwest::Method::PUT, "/api/v1/customers/C-9")
        .json(&carol)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let body: serde_json::Value = created.json().await.unwrap();
    assert_eq!(
        body["phone_numbers"],
        serde_json::json!(["+15550001111", "+15550002222"])
    );
    assert_eq!(
        lookup(&app, "+15550002222").await["customer_id"],
        "C-9",
        "visible to the next lookup at once"
    );

    let replaced = serde_json::json!({"name": "Carol D.", "loyalty_points": 43, "is_vip": false, "phone_numbers": ["+15550003333"]});
    let response = admin(&app, reqwest::Method::PUT, "/api/v1/customers/C-9")
        .json(&replaced)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        lookup(&app, "+15550002222").await,
        json(UNKNOWN),
        "the old number is released"
    );
    assert_eq!(lookup(&app, "+15550003333").await["name"], "Carol D.");

    let found = admin(
        &app,
        reqwest::Method::GET,
        "/api/v1/customers?phone=555.000.3333",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(found.status(), 200);
    assert_eq!(
        found.json::<serde_json::Value>().await.unwrap()["customer_id"],
        "C-9"
    );
    let missing = admin(
        &app,
        reqwest::Method::GET,
        "/api/v1/customers?phone=%2B15559990000",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
    let invalid = admin(
        &app,
        reqwest::Method::GET,
        "/api/v1/customers?phone=anonymous",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(invalid.status(), 422);

    assert_eq!(
        admin(&app, reqwest::Method::DELETE, "/api/v1/customers/C-9")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        lookup(&app, "+15550003333").await,
        json(UNKNOWN),
        "deletion is visible at once"
    );
    let again = admin(&app, reqwest::Method::DELETE, "/api/v1/customers/C-9")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["error"],
        "customer_not_found"
    );
    assert_eq!(
        admin(&app, reqwest::Method::GET, "/api/v1/customers/C-9")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(lookup(&app, "+15551234567").await, json(ALICE));
}

async fn conflicts_and_invalid_fields_are_refused_with_specific_errors(backend: Backend) {
    let app = TestApp::spawn(backend, &["--api-key", LOOKUP, "--admin-key", ADMIN]).await;
    let taken = serde_json::json!({"name": "Mallory", "loyalty_points": 1, "is_vip": false, "phone_numbers": ["+1 555 123 4567"]});
    let response = admin(&app, reqwest::Method::PUT, "/api/v1/customers/C-X")
        .json(&taken)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "number_taken");
    assert!(
        body["message"].as_str().unwrap().contains("CUST-001"),
        "{body}"
    );
    assert_eq!(
        admin(&app, reqwest::Method::GET, "/api/v1/customers/C-X")
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "nothing written"
    );

    let bad = serde_json::json!({"name": "", "loyalty_points": -1, "is_vip": "perhaps", "phone_numbers": ["123"], "vip": true});
    let response = admin(&app, reqwest::Method::PUT, "/api/v1/customers/C-Y")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_customer");
    let message = body["message"].as_str().unwrap();
    for problem in [
        "5 problem(s)",
        "unknown field \"vip\"",
        "name is empty",
        "loyalty_points must be",
        "is_vip must be",
        "phone number \"123\"",
    ] {
        assert!(
            message.contains(problem),
            "{problem:?} missing from {message}"
        );
    }
    let response = admin(&app, reqwest::Method::PUT, "/api/v1/customers/C-Y")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = admin(&app, reqwest::Method::PATCH, "/api/v1/customers/C-Y")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

//! The admin API: off by default, admin keys only, and every change visible to the next lookup.

use crate::helpers::{ALICE, Backend, TestApp, UNKNOWN, json};
use crate::on_both_backends;

const ADMIN: &str = "admin-0123456789abcdef0123456789ab";
const LOOKUP: &str = "lookup-0123456789abcdef0123456789a";

on_both_backends!(
    the_admin_api_is_off_without_an_admin_key,
    only_admin_keys_open_the_admin_api,
    put_get_delete_and_find_by_phone_change_what_lookups_answer,
    shared_numbers_are_accepted_and_invalid_fields_refused_with_specific_errors,
    the_admin_api_takes_json_types_and_text_exactly_as_its_schema_says,
    explain_shows_every_step_of_the_lookup_route,
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
    // The guard sees the path as the router does: percent-encoding opens nothing.
    for path in [
        "/api/v1/%63ustomers/CUST-001",
        "/api/v1/%65xplain?phoneNumber=%2B15551234567",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .header("X-API-Key", LOOKUP)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path} with a lookup key");
    }
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

async fn shared_numbers_are_accepted_and_invalid_fields_refused_with_specific_errors(
    backend: Backend,
) {
    let app = TestApp::spawn(backend, &["--api-key", LOOKUP, "--admin-key", ADMIN]).await;
    // A number another customer has is shared with them, not refused (docs/shared-numbers.md).
    let shared = serde_json::json!({"name": "Mallory", "loyalty_points": 1, "is_vip": false, "phone_numbers": ["+1 555 123 4567"]});
    let response = admin(&app, reqwest::Method::PUT, "/api/v1/customers/C-X")
        .json(&shared)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        lookup(&app, "+15551234567").await,
        json(UNKNOWN),
        "nobody is named on a shared number"
    );
    assert_eq!(
        admin(&app, reqwest::Method::DELETE, "/api/v1/customers/C-X")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(lookup(&app, "+15551234567").await, json(ALICE));

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

/// The admin API's schema promises JSON types and exact text: spreadsheet spellings that the
/// import file reader accepts ("yes", "12") are refused here, as is text with white space
/// around it or over its length, so that what the schema forbids the service refuses.
async fn the_admin_api_takes_json_types_and_text_exactly_as_its_schema_says(backend: Backend) {
    let app = TestApp::spawn(backend, &["--admin-key", ADMIN]).await;
    let put = |path: &str, body: serde_json::Value| {
        admin(&app, reqwest::Method::PUT, path).json(&body).send()
    };
    for (body, problem) in [
        (
            serde_json::json!({"name": "Dana", "loyalty_points": 1, "is_vip": "yes", "phone_numbers": ["+15550004444"]}),
            "is_vip must be true or false",
        ),
        (
            serde_json::json!({"name": "Dana", "loyalty_points": "12", "is_vip": true, "phone_numbers": ["+15550004444"]}),
            "loyalty_points must be a whole number",
        ),
        (
            serde_json::json!({"name": " Dana", "loyalty_points": 1, "is_vip": true, "phone_numbers": ["+15550004444"]}),
            "name must not start or end with white space",
        ),
        (
            serde_json::json!({"name": format!("{}  ", "x".repeat(199)), "loyalty_points": 1, "is_vip": true, "phone_numbers": ["+15550004444"]}),
            "name is longer than 200 characters",
        ),
    ] {
        let response = put("/api/v1/customers/C-D", body).await.unwrap();
        assert_eq!(response.status(), 422, "{problem}");
        let message = response.json::<serde_json::Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(problem), "{problem:?} not in {message}");
    }
    let response = put(
        "/api/v1/customers/%20C-D",
        serde_json::json!({"name": "Dana", "loyalty_points": 1, "is_vip": true, "phone_numbers": ["+15550004444"]}),
    )
    .await
    .unwrap();
    assert_eq!(
        response.status(),
        422,
        "a customer_id with white space around it"
    );
    let response = put(
        "/api/v1/customers/C-D",
        serde_json::json!({"name": "Dana", "loyalty_points": 1, "is_vip": true, "phone_numbers": ["+15550004444"]}),
    )
    .await
    .unwrap();
    assert_eq!(
        response.status(),
        201,
        "the same customer, typed as the schema says"
    );
    // 42.0 is the integer 42 to the schema; a null customer_id is an absent one.
    let response = put(
        "/api/v1/customers/C-D",
        serde_json::json!({"customer_id": null, "name": "Dana", "loyalty_points": 42.0, "is_vip": true, "phone_numbers": ["+15550004444"]}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["loyalty_points"],
        42
    );
    // A literal leading `+` in ?phone= is a plus, as in a lookup.
    let found = admin(
        &app,
        reqwest::Method::GET,
        "/api/v1/customers?phone=+15550004444",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(found.status(), 200);
    let twice = admin(
        &app,
        reqwest::Method::GET,
        "/api/v1/customers?phone=1&phone=2",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(twice.status(), 400);
    assert_eq!(
        twice.json::<serde_json::Value>().await.unwrap()["error"],
        "malformed_query"
    );
    // A query value that is only white space (U+001C counts, as in the schema's `\S`) is blank.
    let response = admin(&app, reqwest::Method::GET, "/api/v1/customers?phone=%1C%20")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

/// `/api/v1/explain` shows the lookup route step by step, with the answer a lookup gets; it
/// takes admin keys only.
async fn explain_shows_every_step_of_the_lookup_route(backend: Backend) {
    let app = TestApp::spawn(backend, &["--api-key", LOOKUP, "--admin-key", ADMIN]).await;
    let explain = |caller_id: &str| {
        let query: String = form_urlencoded_component(caller_id);
        admin(
            &app,
            reqwest::Method::GET,
            &format!("/api/v1/explain?phoneNumber={query}"),
        )
        .send()
    };
    let found: serde_json::Value =
        explain("\"Alice\" <sip:(555)%20123-4567;ext=9@pbx.example;user=phone>;tag=1")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let steps = &found["normalisation"];
    assert_eq!(steps["uri_scheme"], "sip");
    assert_eq!(steps["route"], "full_parse");
    assert_eq!(steps["digits"], "55512345679");
    assert_eq!(steps["extension"], "9");
    assert_eq!(steps["country_code"], 1);
    assert_eq!(steps["country_code_source"], "default_region");
    assert_eq!(steps["number_region"], "US");
    assert_eq!(steps["e164"], "+15551234567");
    assert!(
        steps["dropped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "@pbx.example;user=phone")
    );
    assert_eq!(found["outcome"], "found");
    assert_eq!(found["answer_source"], "store");
    assert_eq!(found["customer"], json(ALICE));
    assert_eq!(found["response"], json(ALICE));
    assert_eq!(found["status"], 200);

    // The lookup went through the cache like any other: the second time it answers from there.
    let again: serde_json::Value = explain("+15551234567").await.unwrap().json().await.unwrap();
    assert_eq!(again["normalisation"]["route"], "e164_fast_path");
    assert_eq!(again["answer_source"], "cache");

    let withheld: serde_json::Value = explain("anonymous").await.unwrap().json().await.unwrap();
    assert_eq!(withheld["outcome"], "invalid");
    assert_eq!(withheld["normalisation"]["e164"], serde_json::Value::Null);
    assert_eq!(
        withheld["normalisation"]["not_a_phone_number"]["code"],
        "withheld"
    );
    assert_eq!(withheld["response"], json(UNKNOWN));

    let short: serde_json::Value = explain("555-1234").await.unwrap().json().await.unwrap();
    assert_eq!(
        short["normalisation"]["not_a_phone_number"]["code"],
        "too_short"
    );

    let unknown: serde_json::Value = explain("+1 555 000 9999")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unknown["outcome"], "unknown");
    assert_eq!(unknown["customer"], serde_json::Value::Null);

    let with_lookup_key = app
        .client
        .get(format!(
            "{}/api/v1/explain?phoneNumber=%2B15551234567",
            app.base
        ))
        .header("X-API-Key", LOOKUP)
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_lookup_key.status(),
        401,
        "lookup keys do not open explain"
    );
}

/// The caller ID as one query value: every byte but unreserved characters percent-encoded.
fn form_urlencoded_component(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

//! Bad requests get a specific 4xx with a JSON body; nothing a client sends yields a 5xx.

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    bad_bodies_are_400_with_a_specific_code,
    get_without_a_phone_number_is_400,
    bodies_over_the_limit_are_413,
    unknown_routes_are_404_and_wrong_methods_405,
    hostile_input_never_yields_a_server_error,
);

async fn expect_error(response: reqwest::Response, status: u16, code: &str, context: &str) {
    assert_eq!(response.status(), status, "{context}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{context}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{context}: {body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.len() > 10,
        "{context}: message {message:?} should say what to fix"
    );
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(2),
        "{context}: only error and message"
    );
}

async fn bad_bodies_are_400_with_a_specific_code(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let cases = [
        ("{}", "missing_phone_number"),
        (r#"{"phone": "+15551234567"}"#, "missing_phone_number"),
        (r#"{"phoneNumber": null}"#, "missing_phone_number"),
        (r#"{"phoneNumber": ""}"#, "blank_phone_number"),
        (r#"{"phoneNumber": "   "}"#, "blank_phone_number"),
        (r#"{"phoneNumber": true}"#, "invalid_phone_number_type"),
        (
            r#"{"phoneNumber": ["+15551234567"]}"#,
            "invalid_phone_number_type",
        ),
        (r#"{"phoneNumber": 1.5}"#, "invalid_phone_number_type"),
        (r#"{"phoneNumber": "+15551234567""#, "malformed_json"),
        ("", "malformed_json"),
        ("phoneNumber=+15551234567", "malformed_json"),
        (r#"["+15551234567"]"#, "body_not_an_object"),
        (r#""+15551234567""#, "body_not_an_object"),
        ("null", "body_not_an_object"),
    ];
    for (body, code) in cases {
        expect_error(app.post_raw(body).await, 400, code, body).await;
    }
}

async fn get_without_a_phone_number_is_400(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    expect_error(
        app.get("/api/v1/lookup").await,
        400,
        "missing_phone_number",
        "no query",
    )
    .await;
    expect_error(
        app.get("/api/v1/lookup?phoneNumber=").await,
        400,
        "blank_phone_number",
        "empty",
    )
    .await;
    expect_error(
        app.get("/api/v1/lookup?phoneNumber=1&phoneNumber=2").await,
        400,
        "malformed_query",
        "twice",
    )
    .await;
}

async fn bodies_over_the_limit_are_413(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let padding = "x".repeat(17 * 1024);
    let body = format!(r#"{{"phoneNumber": "+15551234567", "padding": "{padding}"}}"#);
    expect_error(
        app.post_raw(body).await,
        413,
        "payload_too_large",
        "17 KiB body",
    )
    .await;
    // Just under the default limit is fine.
    let padding = "x".repeat(15 * 1024);
    let body = format!(r#"{{"phoneNumber": "+15551234567", "padding": "{padding}"}}"#);
    assert_eq!(app.post_raw(body).await.status(), 200);
    // Chunked bodies carry no Content-Length and are cut off at the limit as they stream in.
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..40).map(|_| Ok("x".repeat(1024))).collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    expect_error(
        app.post_raw(stream).await,
        413,
        "payload_too_large",
        "chunked",
    )
    .await;

    let small = TestApp::spawn_on(
        crate::helpers::TestDatabase::new(backend).await,
        &["--max-body", "1KiB"],
    )
    .await;
    let body = format!(
        r#"{{"phoneNumber": "+15551234567", "padding": "{}"}}"#,
        "x".repeat(2000)
    );
    expect_error(
        small.post_raw(body).await,
        413,
        "payload_too_large",
        "--max-body 1KiB",
    )
    .await;
}

async fn unknown_routes_are_404_and_wrong_methods_405(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    expect_error(
        app.get("/api/v1/lookups").await,
        404,
        "not_found",
        "typo route",
    )
    .await;
    expect_error(app.get("/").await, 404, "not_found", "root").await;
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let response = app
            .client
            .request(method.clone(), format!("{}/api/v1/lookup", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], "GET, POST", "{method}");
        expect_error(response, 405, "method_not_allowed", method.as_str()).await;
    }
    let response = app
        .client
        .post(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    expect_error(response, 405, "method_not_allowed", "POST /healthz").await;
}

async fn hostile_input_never_yields_a_server_error(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let nul = "{\"phoneNumber\": \"+1555\\u0000123\"}".to_owned();
    let bodies = [
        nested,
        nul,
        r#"{"phoneNumber": "\ud800"}"#.to_owned(),
        r#"{"phoneNumber": "' OR 1=1; DROP TABLE customers; --"}"#.to_owned(),
        format!(r#"{{"phoneNumber": "{}"}}"#, "+1".repeat(5000)),
        format!(r#"{{"phoneNumber": "{}"}}"#, "٣".repeat(300)),
        r#"{"phoneNumber": 99999999999999999999999}"#.to_owned(),
    ];
    for body in &bodies {
        let response = app.post_raw(body.clone()).await;
        assert!(
            response.status().is_client_error() || response.status() == 200,
            "{}: {}",
            &body[..40.min(body.len())],
            response.status()
        );
    }
    let response = app.post_raw(vec![0xff_u8, 0xfe, 0x00]).await;
    assert_eq!(response.status(), 400);
    // The store is intact after all that.
    let response = app
        .post_json(&serde_json::json!({"phoneNumber": "+15551234567"}))
        .await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["customer_id"],
        "CUST-001"
    );
}

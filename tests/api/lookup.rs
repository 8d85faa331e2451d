//! The lookup contract: known callers, unknown callers, and the caller-ID formats in between.

use crate::helpers::{ALICE, BOB, Backend, TestApp, TestDatabase, UNKNOWN, json};
use crate::on_both_backends;

on_both_backends!(
    post_with_a_known_number_answers_exactly_the_four_fields,
    get_means_the_same_as_post,
    every_format_of_a_number_finds_the_same_customer,
    unknown_callers_get_the_default_answer,
    caller_ids_that_are_no_number_are_unknown_callers,
    unknown_answer_values_are_configurable,
    unknown_status_404_turns_unknown_callers_into_a_json_404,
    demo_data_is_inserted_once_and_keeps_later_changes,
    concurrent_lookups_each_get_their_own_callers_answer,
    one_database_connection_serves_lookups_and_probes,
);

async fn post_with_a_known_number_answers_exactly_the_four_fields(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let response = app
        .post_json(&serde_json::json!({"phoneNumber": "tel:+15551234567"}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await.unwrap();
    // Exactly these keys, these types, no nulls: a Genesys output contract depends on it.
    assert_eq!(body, json(ALICE));
    assert!(body["loyalty_points"].is_i64() && body["is_vip"].is_boolean());
}

async fn get_means_the_same_as_post(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    for query in [
        "phoneNumber=+15559876543",
        "phoneNumber=%2B15559876543",
        "phoneNumber=(555)%20987-6543",
    ] {
        let response = app.get(&format!("/api/v1/lookup?{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json(BOB),
            "{query}"
        );
    }
}

async fn every_format_of_a_number_finds_the_same_customer(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let formats = [
        "+15551234567",
        "15551234567",
        "tel:+1-555-123-4567;ext=9",
        "sip:+15551234567@sip.example.com;user=phone",
        "\"Alice\" <sips:+15551234567@example.com>;tag=9",
        "(555) 123-4567",
        "555.123.4567 x 12",
        "011 1 555 123 4567",
        "+1555-123-4567",
        "+15551234567;ext=1",
        "+1 555 123 4567,,12",
        " +1\u{00A0}555\u{2011}123\u{2011}4567\t",
        "＋１（５５５）１２３－４５６７",
        "١٥٥٥١٢٣٤٥٦٧",
    ];
    for format in formats {
        let response = app
            .post_json(&serde_json::json!({ "phoneNumber": format }))
            .await;
        assert_eq!(response.status(), 200, "{format:?}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json(ALICE),
            "{format:?}"
        );
    }
    // libphonenumber reads another region's international prefix (00 from the US) as national
    // digits, which makes no possible number: an unknown caller, never a guess.
    let response = app
        .post_json(&serde_json::json!({ "phoneNumber": "001 555 123 4567" }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["customer_id"],
        "UNKNOWN"
    );
    // A JSON number (a template that forgot its quotes) is read as the digits it holds.
    let response = app.post_raw(r#"{"phoneNumber": 15551234567}"#).await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json(ALICE)
    );
}

async fn unknown_callers_get_the_default_answer(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    for number in ["+15550000000", "+44 20 7946 0958", "tel:+33123456789"] {
        let response = app
            .post_json(&serde_json::json!({ "phoneNumber": number }))
            .await;
        assert_eq!(response.status(), 200, "{number}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json(UNKNOWN),
            "{number}"
        );
    }
}

async fn caller_ids_that_are_no_number_are_unknown_callers(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let long = "9".repeat(40);
    let inputs = [
        "anonymous",
        "tel:anonymous",
        "sip:anonymous@anonymous.invalid",
        "Restricted",
        "123",
        long.as_str(),
        "hello",
        "+999 123 456",
    ];
    for input in inputs {
        let response = app
            .post_json(&serde_json::json!({ "phoneNumber": input }))
            .await;
        assert_eq!(response.status(), 200, "{input:?}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json(UNKNOWN),
            "{input:?}"
        );
    }
}

async fn unknown_answer_values_are_configurable(backend: Backend) {
    let flags = [
        "--unknown-customer-id",
        "GUEST",
        "--unknown-name",
        "Valued Caller",
        "--unknown-loyalty-points",
        "5",
        "--unknown-is-vip",
        "yes",
    ];
    let app = TestApp::spawn(backend, &flags).await;
    let response = app
        .post_json(&serde_json::json!({"phoneNumber": "anonymous"}))
        .await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"customer_id": "GUEST", "name": "Valued Caller", "loyalty_points": 5, "is_vip": true})
    );
    let response = app
        .post_json(&serde_json::json!({"phoneNumber": "+15551234567"}))
        .await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json(ALICE)
    );
}

async fn unknown_status_404_turns_unknown_callers_into_a_json_404(backend: Backend) {
    let app = TestApp::spawn(backend, &["--unknown-status", "404"]).await;
    for number in ["+15550000000", "anonymous"] {
        let response = app
            .post_json(&serde_json::json!({ "phoneNumber": number }))
            .await;
        assert_eq!(response.status(), 404, "{number}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "customer_not_found", "{number}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let response = app
        .post_json(&serde_json::json!({"phoneNumber": "+15551234567"}))
        .await;
    assert_eq!(response.status(), 200);
}

async fn demo_data_is_inserted_once_and_keeps_later_changes(backend: Backend) {
    let app = TestApp::spawn(backend, &[]).await;
    let url = app.db.url.clone();
    // An operator changes Alice's points; a restart with --demo-data must not undo it.
    let store = customer_lookup::store::CustomerStore::connect(
        &customer_lookup::store::DatabaseUrl::parse(&url).unwrap(),
        customer_lookup::store::PoolSettings {
            max_connections: 1,
            acquire_timeout: std::time::Duration::from_secs(5),
            batches_per_worker: 1,
        },
    )
    .await
    .unwrap();
    let mut alice = customer_lookup::demo::customers().remove(0);
    alice.customer.loyalty_points = customer_lookup::domain::LoyaltyPoints::new(1600).unwrap();
    store.upsert(&[alice]).await.unwrap();
    store.close().await;

    let restarted = crate::helpers::start_server(&url, &[]).await;
    let body: serde_json::Value = app
        .client
        .get(format!(
            "http://{restarted}/api/v1/lookup?phoneNumber=%2B15551234567"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["loyalty_points"], 1600);
    assert_eq!(body["customer_id"], "CUST-001");
}

/// Many lookups at once, the cache off: each gets its own caller's answer. On Postgres they
/// share batched queries, on SQLite the worker reads on its own thread; a mix-up between
/// callers, or a lost reply, fails here.
async fn concurrent_lookups_each_get_their_own_callers_answer(backend: Backend) {
    use futures_util::StreamExt;
    const CUSTOMERS: usize = 300;
    let db = TestDatabase::new(backend).await;
    let rows: String = (0..CUSTOMERS)
        .map(|i| format!("C-{i},Caller {i},{i},{},+1555700{i:04}\n", i % 2 == 0))
        .collect();
    crate::cli::import_ok(&db, &crate::cli::csv_file(&rows));
    // Three workers, each with two Postgres batch tasks of its own (six in all), share a pool
    // of three: they may keep only two connections between batches, or probes would find none.
    let app = TestApp::spawn_on(
        db,
        &[
            "--cache-ttl",
            "0",
            "--rate-limit",
            "0",
            "--workers",
            "3",
            "--db-max-connections",
            "3",
            "--db-batches-per-worker",
            "2",
        ],
    )
    .await;
    // Every known number twice (so one batch may hold the same number twice), and unknowns.
    let callers: Vec<usize> = (0..CUSTOMERS)
        .chain(0..CUSTOMERS)
        .chain(5000..5100)
        .collect();
    let answers: Vec<(usize, serde_json::Value)> = futures_util::stream::iter(callers)
        .map(|i| {
            let app = &app;
            async move {
                let response = app
                    .post_json(&serde_json::json!({"phoneNumber": format!("+1555700{i:04}")}))
                    .await;
                assert_eq!(response.status(), 200);
                (i, response.json().await.unwrap())
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(answers.len(), 2 * CUSTOMERS + 100);
    assert_eq!(app.get("/readyz").await.status(), 200);
    for (i, answer) in answers {
        if i < CUSTOMERS {
            let expected = serde_json::json!({
                "customer_id": format!("C-{i}"),
                "name": format!("Caller {i}"),
                "loyalty_points": i,
                "is_vip": i % 2 == 0,
            });
            assert_eq!(answer, expected, "caller {i}");
        } else {
            assert_eq!(answer, json(UNKNOWN), "caller {i}");
        }
    }
}

/// With a pool of one connection, the lookup path (on Postgres, the batch tasks) must not keep
/// it: probes and lookups both still answer.
async fn one_database_connection_serves_lookups_and_probes(backend: Backend) {
    // A global flag: clap takes it after `serve` too.
    let app = TestApp::spawn(backend, &["--db-max-connections", "1"]).await;
    for _ in 0..3 {
        let response = app
            .post_json(&serde_json::json!({"phoneNumber": "+15551234567"}))
            .await;
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json(ALICE)
        );
        assert_eq!(app.get("/readyz").await.status(), 200);
    }
}

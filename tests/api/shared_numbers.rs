//! Shared numbers: a number several customers have is never answered with one of their names
//! unless the operator's policy says so; the match outcome and count are answered when asked
//! for; the default answer stays the contract's four fields, byte for byte.

use std::time::{Duration, Instant};

use crate::helpers::{ALICE, BOB, Backend, TestApp, TestDatabase, UNKNOWN, json, start_server};
use crate::on_both_backends;

const ADMIN: &str = "admin-0123456789abcdef0123456789ab";

on_both_backends!(
    a_shared_number_answers_nobody_by_default_and_unique_numbers_answer_as_before,
    any_vip_routes_a_vip_household_as_vip_without_naming_anyone,
    first_names_the_smallest_customer_id_only_when_chosen,
    answer_fields_carry_the_match_outcome_and_count_for_every_kind_of_caller,
    the_admin_api_and_explain_show_who_shares_a_number,
    a_second_customer_on_a_number_reaches_every_instance_within_a_second,
    a_store_from_before_shared_numbers_is_migrated_with_nothing_lost,
);

async fn put(app: &TestApp, id: &str, name: &str, is_vip: bool, numbers: &[&str]) {
    let body = serde_json::json!({"name": name, "loyalty_points": 7, "is_vip": is_vip, "phone_numbers": numbers});
    let response = app
        .client
        .put(format!("{}/api/v1/customers/{id}", app.base))
        .header("X-API-Key", ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "PUT {id}: {} {}",
        response.status(),
        response.text().await.unwrap()
    );
}

/// The raw body and status of a lookup.
async fn lookup_raw(app: &TestApp, number: &str) -> (u16, String) {
    let response = app
        .post_json(&serde_json::json!({ "phoneNumber": number }))
        .await;
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A household of three on one landline (one a VIP), a company switchboard shared by twelve
/// contacts (none a VIP), and the demo customers; Alice's mobile is now a household number too.
async fn households(app: &TestApp) {
    put(
        app,
        "H-2",
        "Hana Berg",
        false,
        &["+44 20 7946 0001", "+44 7700 900002"],
    )
    .await;
    put(app, "H-1", "Henrik Berg", true, &["+44 20 7946 0001"]).await;
    put(app, "H-3", "Hugo Berg", false, &["+442079460001"]).await;
    for contact in 0..12 {
        let id = format!("ACME-{contact:02}");
        put(
            app,
            &id,
            &format!("Contact {contact}"),
            false,
            &["+1 555 010 0100"],
        )
        .await;
    }
    // Alice's number, shared with a partner now.
    put(app, "CUST-900", "Pat Smith", false, &["+15551234567"]).await;
}

fn spawn_flags(extra: &[&'static str]) -> Vec<&'static str> {
    let mut flags = vec!["--admin-key", ADMIN];
    flags.extend_from_slice(extra);
    flags
}

async fn a_shared_number_answers_nobody_by_default_and_unique_numbers_answer_as_before(
    backend: Backend,
) {
    let app = TestApp::spawn(backend, &spawn_flags(&[])).await;
    households(&app).await;
    for shared in [
        "+44 20 7946 0001",
        "tel:+15550100100",
        "+15551234567",
        "(555) 123-4567",
    ] {
        assert_eq!(
            lookup_raw(&app, shared).await,
            (200, UNKNOWN.to_owned()),
            "{shared} is shared: nobody is named"
        );
    }
    // Numbers one customer has answer exactly as before.
    assert_eq!(
        lookup_raw(&app, "+1 555 987 6543").await,
        (200, BOB.to_owned())
    );
    let hana = lookup_raw(&app, "+44 7700 900002").await;
    assert_eq!(
        hana,
        (
            200,
            r#"{"customer_id":"H-2","name":"Hana Berg","loyalty_points":7,"is_vip":false}"#
                .to_owned()
        )
    );

    // --unknown-status 404: a shared number is an unknown caller there too.
    let strict = TestApp::spawn(backend, &spawn_flags(&["--unknown-status", "404"])).await;
    put(&strict, "CUST-900", "Pat Smith", false, &["+15551234567"]).await;
    let (status, body) = lookup_raw(&strict, "+15551234567").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(json(&body)["error"], "customer_not_found");
}

async fn any_vip_routes_a_vip_household_as_vip_without_naming_anyone(backend: Backend) {
    let app = TestApp::spawn(backend, &spawn_flags(&["--on-shared-number", "any-vip"])).await;
    households(&app).await;
    let vip_unknown =
        r#"{"customer_id":"UNKNOWN","name":"Unknown Customer","loyalty_points":0,"is_vip":true}"#;
    assert_eq!(
        lookup_raw(&app, "+44 20 7946 0001").await,
        (200, vip_unknown.to_owned())
    );
    assert_eq!(
        lookup_raw(&app, "+15551234567").await,
        (200, vip_unknown.to_owned()),
        "Alice is a VIP"
    );
    assert_eq!(
        lookup_raw(&app, "+15550100100").await,
        (200, UNKNOWN.to_owned()),
        "no VIP among the switchboard's contacts"
    );
    assert_eq!(
        lookup_raw(&app, "+15559876543").await,
        (200, BOB.to_owned())
    );
}

async fn first_names_the_smallest_customer_id_only_when_chosen(backend: Backend) {
    let app = TestApp::spawn(backend, &spawn_flags(&["--on-shared-number", "first"])).await;
    households(&app).await;
    let henrik = r#"{"customer_id":"H-1","name":"Henrik Berg","loyalty_points":7,"is_vip":true}"#;
    assert_eq!(
        lookup_raw(&app, "+44 20 7946 0001").await,
        (200, henrik.to_owned())
    );
    assert_eq!(
        json(&lookup_raw(&app, "+15550100100").await.1)["customer_id"],
        "ACME-00"
    );
    assert_eq!(
        lookup_raw(&app, "+15551234567").await,
        (200, ALICE.to_owned())
    );
}

async fn answer_fields_carry_the_match_outcome_and_count_for_every_kind_of_caller(
    backend: Backend,
) {
    let app = TestApp::spawn(
        backend,
        &spawn_flags(&["--answer-fields", "match,match_count"]),
    )
    .await;
    households(&app).await;
    let cases = [
        ("+15559876543", "CUST-002", "unique", 1),
        ("+44 20 7946 0001", "UNKNOWN", "shared", 3),
        ("+1 555 010 0100", "UNKNOWN", "shared", 12),
        ("+1 555 010 0199", "UNKNOWN", "none", 0),
        ("anonymous", "UNKNOWN", "withheld", 0),
        ("tel:anonymous", "UNKNOWN", "withheld", 0),
        ("12", "UNKNOWN", "not_a_number", 0),
        ("call me maybe", "UNKNOWN", "not_a_number", 0),
    ];
    for (number, id, outcome, count) in cases {
        let (status, body) = lookup_raw(&app, number).await;
        assert_eq!(status, 200, "{number}: {body}");
        let answer = json(&body);
        let keys: Vec<&str> = answer
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "customer_id",
                "name",
                "loyalty_points",
                "is_vip",
                "match",
                "match_count"
            ],
            "{number}: flat, in order"
        );
        assert_eq!(
            (
                answer["customer_id"].as_str(),
                answer["match"].as_str(),
                answer["match_count"].as_u64()
            ),
            (Some(id), Some(outcome), Some(count)),
            "{number}: {body}"
        );
    }
    // GET answers the same; the OpenAPI document promises the two fields.
    let get: serde_json::Value = app
        .get("/api/v1/lookup?phoneNumber=%2B442079460001")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (get["match"].as_str(), get["match_count"].as_u64()),
        (Some("shared"), Some(3))
    );
    let document: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let schema = &document["components"]["schemas"]["LookupAnswer"];
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        required.contains(&"match") && required.contains(&"match_count"),
        "{schema}"
    );
    assert_eq!(
        schema["properties"]["match"]["enum"],
        serde_json::json!(["unique", "shared", "none", "withheld", "not_a_number"])
    );

    // Without the flag, the document and the answers have the four fields only.
    let plain = TestApp::spawn(backend, &[]).await;
    let document: serde_json::Value = plain.get("/openapi.json").await.json().await.unwrap();
    let schema = &document["components"]["schemas"]["LookupAnswer"];
    assert!(schema["properties"].get("match").is_none(), "{schema}");
    assert_eq!(
        lookup_raw(&plain, "anonymous").await,
        (200, UNKNOWN.to_owned())
    );
}

async fn the_admin_api_and_explain_show_who_shares_a_number(backend: Backend) {
    let app = TestApp::spawn(backend, &spawn_flags(&[])).await;
    households(&app).await;
    let admin_get = |path: &str| {
        app.client
            .get(format!("{}{path}", app.base))
            .header("X-API-Key", ADMIN)
            .send()
    };
    // Each customer keeps the shared number; the number-to-customer search names them all.
    let hugo: serde_json::Value = admin_get("/api/v1/customers/H-3")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hugo["phone_numbers"], serde_json::json!(["+442079460001"]));
    let response = admin_get("/api/v1/customers?phone=%2B442079460001")
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "shared_number");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("3 customers share") && message.contains("H-1, H-2, H-3"),
        "{message}"
    );
    let hana: serde_json::Value = admin_get("/api/v1/customers?phone=%2B447700900002")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hana["customer_id"], "H-2");

    let explained: serde_json::Value = admin_get("/api/v1/explain?phoneNumber=%2B15550100100")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(explained["outcome"], "shared", "{explained}");
    assert_eq!(explained["match"], "shared");
    assert_eq!(explained["match_count"], 12);
    assert_eq!(explained["shared_number"]["customers"], 12);
    assert_eq!(explained["shared_number"]["first_customer_id"], "ACME-00");
    assert_eq!(explained["shared_number"]["any_vip"], false);
    assert_eq!(explained["response"], json(UNKNOWN));

    // Taking the number off all but one customer makes it unique again.
    for contact in 1..12 {
        put(
            &app,
            &format!("ACME-{contact:02}"),
            "Moved",
            false,
            &["+1 555 010 0101"],
        )
        .await;
    }
    let (status, body) = lookup_raw(&app, "+15550100100").await;
    assert_eq!(
        (status, json(&body)["customer_id"].as_str()),
        (200, Some("ACME-00"))
    );
}

async fn a_second_customer_on_a_number_reaches_every_instance_within_a_second(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let flags = ["--cache-ttl", "1h", "--admin-key", ADMIN];
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(start_server(&db.url, &flags).await);
    }
    let client = reqwest::Client::new();
    let lookup = |instance: std::net::SocketAddr| {
        client
            .post(format!("http://{instance}/api/v1/lookup"))
            .json(&serde_json::json!({"phoneNumber": "+15551234567"}))
            .send()
    };
    for &instance in &instances {
        let answer: serde_json::Value = lookup(instance).await.unwrap().json().await.unwrap();
        assert_eq!(answer, json(ALICE), "cached as Alice on {instance}");
    }
    let started = Instant::now();
    let body = serde_json::json!({"name": "Pat Smith", "loyalty_points": 1, "is_vip": false, "phone_numbers": ["+15551234567"]});
    let response = client
        .put(format!("http://{}/api/v1/customers/CUST-900", instances[0]))
        .header("X-API-Key", ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    for &instance in &instances {
        loop {
            let answer: serde_json::Value = lookup(instance).await.unwrap().json().await.unwrap();
            if answer == json(UNKNOWN) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{instance} still names {answer} after {:?}",
                started.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A store written before numbers could be shared is carried over row for row: every customer
/// and number is still there and answers as before.
async fn a_store_from_before_shared_numbers_is_migrated_with_nothing_lost(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let (folder, new_migration) = match backend {
        Backend::Sqlite => ("sqlite", "0004_shared_numbers.sql"),
        Backend::Postgres => ("postgres", "0006_shared_numbers.sql"),
    };
    let earlier = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(folder);
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.as_str() < new_migration {
            std::fs::copy(&path, earlier.path().join(&name)).unwrap();
        }
    }
    let migrator = sqlx::migrate::Migrator::new(earlier.path()).await.unwrap();
    let rows = "INSERT INTO customers (customer_id, name, loyalty_points, is_vip) VALUES \
                ('OLD-1', 'Olga Old', 42, true), ('OLD-2', 'Oren Old', 0, false); \
                INSERT INTO phone_numbers (e164, customer_id) VALUES \
                ('+15557770001', 'OLD-1'), ('+15557770002', 'OLD-1'), ('+15557770003', 'OLD-2')";
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&format!("{}?mode=rwc", db.url))
                .await
                .unwrap();
            migrator.run(&pool).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(rows))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            migrator.run(&pool).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(rows))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
    let app = TestApp::spawn_on(db, &["--admin-key", ADMIN]).await;
    let olga = r#"{"customer_id":"OLD-1","name":"Olga Old","loyalty_points":42,"is_vip":true}"#;
    assert_eq!(
        lookup_raw(&app, "+15557770001").await,
        (200, olga.to_owned())
    );
    assert_eq!(
        lookup_raw(&app, "+15557770002").await,
        (200, olga.to_owned())
    );
    assert_eq!(
        json(&lookup_raw(&app, "+15557770003").await.1)["customer_id"],
        "OLD-2"
    );
    // And the migrated store takes a shared number.
    put(&app, "NEW-1", "Nia New", false, &["+15557770003"]).await;
    assert_eq!(
        lookup_raw(&app, "+15557770003").await,
        (200, UNKNOWN.to_owned())
    );
}

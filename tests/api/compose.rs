//! No Docker engine runs here, so the compose file is checked by running the binary with the
//! environment it gives the service, against the local Postgres.

use std::collections::BTreeMap;

use yaml_rust2::{Yaml, YamlLoader};

use crate::helpers::{ALICE, Backend, ServeProcess, TestDatabase, binary, json};

fn compose_file() -> Yaml {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
        .unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn service_environment(compose: &Yaml) -> BTreeMap<String, String> {
    let env = &compose["services"]["customer-lookup"]["environment"];
    let hash = env.as_hash().expect("environment is a map");
    hash.iter()
        .map(|(k, v)| {
            let value = match v {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                Yaml::Boolean(b) => b.to_string(),
                other => panic!("unexpected value {other:?}"),
            };
            (k.as_str().unwrap().to_owned(), value)
        })
        .collect()
}

#[test]
fn compose_waits_for_a_healthy_postgres() {
    let compose = compose_file();
    let postgres = &compose["services"]["postgres"];
    assert!(
        !postgres["healthcheck"]["test"].is_badvalue(),
        "postgres needs a healthcheck"
    );
    let app = &compose["services"]["customer-lookup"];
    assert_eq!(
        app["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    let url = service_environment(&compose)["DATABASE_URL"].clone();
    assert!(
        url.starts_with("postgres://") && url.contains("@postgres:5432/"),
        "{url}"
    );
}

#[test]
fn dockerfile_is_multi_stage_and_runs_as_a_non_root_user() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let stages = text
        .lines()
        .filter(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM "))
        .count();
    assert!(stages >= 2, "multi-stage build expected");
    let user = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !["root", "0", "0:0"].contains(&user.trim()),
        "runs as {user}"
    );
    // Everything the manifest names must reach the build stage: the sources, the migrations
    // embedded in the binary, the number parser (a workspace member) and the declared benches.
    let copied: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("COPY "))
        .filter(|l| !l.starts_with("--from"))
        .flat_map(|l| l.split_whitespace())
        .collect();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "migrations",
        "crates",
        "benches",
    ] {
        assert!(
            copied.contains(&needed),
            "the Dockerfile does not copy {needed}"
        );
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(needed)
                .exists(),
            "{needed} is copied but missing"
        );
    }
}

#[tokio::test]
async fn the_service_started_with_the_compose_environment_answers_alice() {
    if crate::helpers::postgres_url().is_none() {
        return;
    }
    let db = TestDatabase::new(Backend::Postgres).await;
    let mut env = service_environment(&compose_file());
    let compose_url = url::Url::parse(&env["DATABASE_URL"]).unwrap();
    let password = compose_url.password().unwrap_or_default().to_owned();
    // The compose user, created here as the postgres image would (trust auth ignores the password).
    let user = compose_url.username().to_owned();
    db.admin_sql(format!(
        "DO $$ BEGIN CREATE ROLE \"{user}\" LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    ))
    .await;
    let name = db.postgres_name().unwrap().to_owned();
    db.admin_sql(format!("ALTER DATABASE \"{name}\" OWNER TO \"{user}\""))
        .await;

    // Swap the compose network's host for this machine's, the database for this test's, and
    // the port for a free one.
    let mut url = compose_url.clone();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_path(&name);
    env.insert("DATABASE_URL".into(), url.to_string());
    env.insert("LOOKUP_BIND".into(), "127.0.0.1:0".into());

    let api_key = env
        .get("LOOKUP_API_KEYS")
        .expect("compose configures an API key")
        .clone();

    let mut command = binary();
    command.envs(&env).arg("serve");
    let mut server = ServeProcess::start(command);
    let lookup = || {
        reqwest::Client::new()
            .post(format!("{}/api/v1/lookup", server.base))
            .json(&serde_json::json!({"phoneNumber": "tel:+15551234567"}))
    };
    let refused = lookup().send().await.unwrap();
    assert_eq!(
        refused.status(),
        401,
        "the compose service requires its key"
    );
    let response = lookup().header("X-API-Key", &api_key).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json(ALICE)
    );

    let log = server.drain_log().join("\n");
    assert!(
        log.contains("configuration") && log.contains("REDACTED"),
        "{log}"
    );
    assert!(
        password.is_empty() || !log.contains(&password),
        "the database password reached the log:\n{log}"
    );
    assert!(
        !log.contains(&api_key),
        "the API key reached the log:\n{log}"
    );
}

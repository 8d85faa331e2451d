//! Fleet coherence: a change committed by any route (an import, the admin API on one instance,
//! plain SQL by another tool) reaches the answers of every instance on the same store within a
//! second, however long `--cache-ttl` is; losing the change listener never leaves a stale
//! answer beyond its reconnect; and a database that ends the service's connections costs no
//! lookup.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestDatabase, binary, start_server};
use crate::on_both_backends;

const ADMIN: &str = "admin-0123456789abcdef0123456789ab";
/// The promise: visible everywhere within this.
const WITHIN: Duration = Duration::from_secs(1);

on_both_backends!(a_change_by_any_route_reaches_every_instance_within_a_second);

struct Fleet {
    db: TestDatabase,
    instances: Vec<SocketAddr>,
    client: reqwest::Client,
}

impl Fleet {
    /// Three instances on one store, caching answers for an hour.
    async fn start(backend: Backend) -> Self {
        let db = TestDatabase::new(backend).await;
        let mut instances = Vec::new();
        for _ in 0..3 {
            let flags = ["--cache-ttl", "1h", "--admin-key", ADMIN];
            instances.push(start_server(&db.url, &flags).await);
        }
        Self {
            db,
            instances,
            client: reqwest::Client::new(),
        }
    }

    async fn lookup(&self, instance: SocketAddr, number: &str) -> serde_json::Value {
        self.client
            .post(format!("http://{instance}/api/v1/lookup"))
            .json(&serde_json::json!({ "phoneNumber": number }))
            .send()
            .await
            .expect("lookup sent")
            .json()
            .await
            .expect("lookup answered")
    }

    /// Every instance answers `field` = `value` for `number`; how long it took the slowest.
    async fn until_every_instance_answers(
        &self,
        number: &str,
        field: &str,
        value: serde_json::Value,
        started: Instant,
    ) -> Duration {
        for &instance in &self.instances {
            loop {
                let answer = self.lookup(instance, number).await;
                if answer[field] == value {
                    break;
                }
                assert!(
                    started.elapsed() < WITHIN * 3,
                    "{instance} still answers {answer} for {number} after {:?}",
                    started.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        started.elapsed()
    }

    /// Looks `number` up everywhere, so that every instance has it cached.
    async fn cache_everywhere(&self, number: &str) {
        for &instance in &self.instances {
            self.lookup(instance, number).await;
        }
    }

    /// Runs `statement` as another tool would, on a connection of its own; returns when it
    /// was sent (after connecting), so that the time measured is the change's, not the tool's.
    async fn sql(&self, statement: &str) -> Instant {
        use sqlx::Connection;
        let statement = sqlx::AssertSqlSafe(statement.to_owned());
        if self.db.url.starts_with("postgres") {
            let mut connection = sqlx::PgConnection::connect(&self.db.url).await.unwrap();
            let sent = Instant::now();
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap();
            sent
        } else {
            let mut connection = sqlx::SqliteConnection::connect(&self.db.url).await.unwrap();
            let sent = Instant::now();
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap();
            sent
        }
    }
}

async fn a_change_by_any_route_reaches_every_instance_within_a_second(backend: Backend) {
    let fleet = Fleet::start(backend).await;
    let mut seen: Vec<(&str, Duration)> = Vec::new();
    for trial in 0..3 {
        let number = format!("+1555000{trial}777");
        let id = format!("F-{trial}");

        // A new customer, by CLI import, for a number every instance has cached as unknown.
        fleet.cache_everywhere(&number).await;
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            file.path(),
            format!(
                "customer_id,name,loyalty_points,is_vip,phone_numbers\n{id},Fern Ode,10,false,{number}\n"
            ),
        )
        .unwrap();
        let started = Instant::now();
        let import = binary()
            .env("DATABASE_URL", &fleet.db.url)
            .args(["import", &file.path().display().to_string()])
            .output()
            .unwrap();
        assert!(
            import.status.success(),
            "{}",
            String::from_utf8_lossy(&import.stderr)
        );
        let took = fleet
            .until_every_instance_answers(&number, "customer_id", id.clone().into(), started)
            .await;
        seen.push(("import", took));

        // A VIP flag, through the admin API of one instance.
        fleet.cache_everywhere(&number).await;
        let started = Instant::now();
        let put = fleet
            .client
            .put(format!("http://{}/api/v1/customers/{id}", fleet.instances[0]))
            .header("X-API-Key", ADMIN)
            .json(&serde_json::json!({"name": "Fern Ode", "loyalty_points": 10, "is_vip": true, "phone_numbers": [number]}))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200);
        let took = fleet
            .until_every_instance_answers(&number, "is_vip", true.into(), started)
            .await;
        seen.push(("admin api", took));

        // A name, in plain SQL by another tool.
        fleet.cache_everywhere(&number).await;
        let started = fleet
            .sql(&format!(
                "UPDATE customers SET name = 'Fern Renamed' WHERE customer_id = '{id}'"
            ))
            .await;
        let took = fleet
            .until_every_instance_answers(&number, "name", "Fern Renamed".into(), started)
            .await;
        seen.push(("sql update", took));

        // A deletion, in plain SQL: the number's answer goes back to the unknown caller.
        fleet.cache_everywhere(&number).await;
        let started = fleet
            .sql(&format!(
                "DELETE FROM phone_numbers WHERE customer_id = '{id}'"
            ))
            .await;
        let took = fleet
            .until_every_instance_answers(&number, "customer_id", "UNKNOWN".into(), started)
            .await;
        seen.push(("sql delete", took));
    }
    let slowest = seen.iter().map(|(_, took)| *took).max().unwrap();
    eprintln!("changes seen by all three instances: {seen:?}");
    assert!(
        slowest < WITHIN,
        "slowest change took {slowest:?}: {seen:?}"
    );
}

/// A Postgres database for the Postgres-only tests, or `None` when that half is off.
async fn postgres() -> Option<TestDatabase> {
    crate::helpers::postgres_url()?;
    Some(TestDatabase::new(Backend::Postgres).await)
}

async fn terminate(db: &TestDatabase, application: &str) -> u64 {
    use sqlx::Connection;
    let admin = crate::helpers::postgres_url().expect("postgres");
    let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
    let database = db.url.rsplit('/').next().unwrap().to_owned();
    let ended: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name LIKE $2 AND pid <> pg_backend_pid()",
    )
    .bind(&database)
    .bind(application)
    .fetch_all(&mut connection)
    .await
    .unwrap();
    ended.len() as u64
}

/// The listening connection is killed between a lookup and a change: the change is still seen
/// within a few seconds of the listener's return, never left stale for the cache TTL.
#[tokio::test]
async fn losing_the_listener_never_leaves_a_stale_answer_beyond_the_reconnect() {
    let Some(db) = postgres().await else { return };
    let instance = start_server(&db.url, &["--cache-ttl", "1h"]).await;
    let client = reqwest::Client::new();
    let lookup = || async {
        client
            .post(format!("http://{instance}/api/v1/lookup"))
            .json(&serde_json::json!({"phoneNumber": "+15551234567"}))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    assert_eq!(lookup().await["name"], "Alice Smith");
    assert!(
        terminate(&db, "customer-lookup-changes").await >= 1,
        "a listener to end"
    );
    let fleet_sql = {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::query("UPDATE customers SET name = 'Alice Changed' WHERE customer_id = 'CUST-001'")
            .execute(&mut connection)
            .await
            .unwrap()
    };
    assert_eq!(fleet_sql.rows_affected(), 1);
    let started = Instant::now();
    loop {
        if lookup().await["name"] == "Alice Changed" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stale after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let readyz = || async {
        let response = client.get(format!("http://{instance}/readyz")).send();
        response
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let started = Instant::now();
    let mut ready = readyz().await;
    while ready["changes"]["listening"] != true && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        ready = readyz().await;
    }
    assert_eq!(ready["changes"]["listening"], true, "{ready}");
    assert!(
        ready["changes"]["listener_losses"].as_u64().unwrap() >= 1,
        "{ready}"
    );
    let metrics = client
        .get(format!("http://{instance}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("customer_lookup_change_listener_up{source=\"postgres_notifications\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("customer_lookup_change_listener_losses_total 1"),
        "{metrics}"
    );
}

/// The database ends every connection of the service, twice, while lookups run: no lookup
/// fails, because a read on a lost connection is asked again on a fresh one.
#[tokio::test]
async fn ending_every_connection_while_lookups_run_fails_no_lookup() {
    let Some(db) = postgres().await else { return };
    let flags = ["--cache-ttl", "0s", "--workers", "2", "--rate-limit", "0"];
    let instance = start_server(&db.url, &flags).await;
    let client = reqwest::Client::new();
    let lookups = (0..4).map(|worker| {
        let client = client.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for i in 0..150 {
                let number = if (worker + i) % 2 == 0 {
                    "+15551234567"
                } else {
                    "+15559876543"
                };
                let status = client
                    .post(format!("http://{instance}/api/v1/lookup"))
                    .json(&serde_json::json!({ "phoneNumber": number }))
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
                    .unwrap_or(0);
                statuses.push(status);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            statuses
        })
    });
    let lookups: Vec<_> = lookups.collect();
    let mut ended = 0;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        ended += terminate(&db, "customer-lookup%").await;
    }
    assert!(ended >= 2, "only {ended} connections ended");
    let mut failed = 0;
    let mut total = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for lookup in lookups {
        for status in lookup.await.unwrap() {
            total += 1;
            failed += usize::from(status != 200);
            *statuses.entry(status).or_insert(0) += 1;
        }
    }
    assert_eq!(
        failed, 0,
        "{failed} of {total} lookups failed after {ended} connections ended: {statuses:?}"
    );
}

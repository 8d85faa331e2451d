//! The subcommands as an operator runs them: `migrate`, `import`, `lookup`, and `serve`'s logs.

use std::io::Write;
use std::process::Output;

use crate::helpers::{ALICE, Backend, TestDatabase, UNKNOWN, binary, json};
use crate::on_both_backends;

on_both_backends!(
    import_then_lookup_finds_customers_by_any_of_their_numbers,
    reimport_updates_by_customer_id_and_replaces_numbers,
    a_bad_row_fails_the_whole_import_and_writes_nothing,
    a_number_a_stored_customer_has_is_shared_with_the_files_customer,
    a_repeated_customer_id_is_refused_and_a_number_on_two_rows_is_shared,
    replace_mode_leaves_exactly_the_files_customers,
    dry_run_reports_what_would_change_and_writes_nothing,
    json_lines_import_like_csv,
    export_then_import_is_an_exact_round_trip,
    a_salesforce_style_export_imports_with_a_column_mapping,
    a_semicolon_export_with_a_bom_imports_with_its_own_header,
    a_gzipped_crlf_export_imports_and_bad_bytes_cost_only_their_row,
);

async fn a_repeated_customer_id_is_refused_and_a_number_on_two_rows_is_shared(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let rows = "C-1,Ann,10,true,+15550000001\n\
                C-2,Bo,20,false,(555) 000-0001\n\
                C-1,Ann again,1,false,+15550000009\n\
                C-3,Cy,30,false,+15550000003\n";
    let output = run(&db, &["import", csv_file(rows).path().to_str().unwrap()]);
    assert!(!output.status.success());
    let errors = stderr(&output);
    assert!(
        errors.contains("line 4: customer_id C-1 already appears on line 2"),
        "{errors}"
    );
    assert!(
        !errors.contains("line 3"),
        "C-2 shares C-1's number: {errors}"
    );
    assert!(
        errors.contains("import refused: 1 bad row(s)") && errors.contains("nothing was written"),
        "{errors}"
    );
    assert_eq!(lookup_json(&db, "+15550000003"), json(UNKNOWN));

    // Without the repeated id the file imports, and C-1 and C-2 share the number.
    let output = import_ok(
        &db,
        &csv_file(&rows.replace("C-1,Ann again,1,false,+15550000009\n", "")),
    );
    assert!(
        stdout(&output).contains("3 new, 0 updated, 0 unchanged, 0 deleted; 3 phone numbers"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        lookup_json(&db, "+15550000001"),
        json(UNKNOWN),
        "nobody is named"
    );
    assert_eq!(lookup_json(&db, "+15550000003")["customer_id"], "C-3");
    assert_eq!(
        stdout(&run(&db, &["export", "-"])),
        format!(
            "{HEADER}C-1,Ann,10,true,+15550000001\nC-2,Bo,20,false,+15550000001\nC-3,Cy,30,false,+15550000003\n"
        )
    );
}

async fn replace_mode_leaves_exactly_the_files_customers(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let first = csv_file(
        "C-1,Ann,10,true,+15550000001\nC-2,Bo,20,false,+15550000002\nC-3,Cy,30,false,+15550000003\n",
    );
    import_ok(&db, &first);
    // C-3 gives up its number to the new C-4; C-1 and C-3 are not in the new list.
    let second = csv_file("C-2,Bo,21,false,+15550000002\nC-4,Di,40,true,+15550000003\n");
    let output = run(
        &db,
        &[
            "import",
            second.path().to_str().unwrap(),
            "--mode",
            "replace",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 new, 1 updated, 0 unchanged, 2 deleted; 2 phone numbers"),
        "{}",
        stdout(&output)
    );
    assert_eq!(lookup_json(&db, "+15550000001"), json(UNKNOWN));
    assert_eq!(lookup_json(&db, "+15550000002")["loyalty_points"], 21);
    assert_eq!(lookup_json(&db, "+15550000003")["customer_id"], "C-4");
    let export = run(&db, &["export", "-"]);
    assert_eq!(
        stdout(&export),
        format!("{HEADER}C-2,Bo,21,false,+15550000002\nC-4,Di,40,true,+15550000003\n")
    );
}

async fn dry_run_reports_what_would_change_and_writes_nothing(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let first = csv_file("C-1,Ann,10,true,+15550000001\n");
    import_ok(&db, &first);
    let second = csv_file("C-1,Ann,11,true,+15550000001\nC-2,Bo,20,false,+15550000002\n");
    let output = run(
        &db,
        &["import", second.path().to_str().unwrap(), "--dry-run"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("dry run, nothing written: would import 2 customer(s)"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("1 new, 1 updated, 0 unchanged"),
        "{}",
        stdout(&output)
    );
    assert_eq!(lookup_json(&db, "+15550000001")["loyalty_points"], 10);
    assert_eq!(lookup_json(&db, "+15550000002"), json(UNKNOWN));
}

async fn json_lines_import_like_csv(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let mut file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    file.write_all(
        b"{\"customer_id\":\"J-1\",\"name\":\"Jo \\\"JJ\\\" Diaz\",\"loyalty_points\":7,\"is_vip\":true,\"phone_numbers\":[\"tel:+1-555-000-0001\",\"(555) 000-0002\"]}\n\
          {\"customer_id\":\"J-2\",\"name\":\"Ka\",\"loyalty_points\":0,\"is_vip\":\"no\",\"phone_numbers\":[\"+44 20 7946 0958\"]}\n",
    )
    .unwrap();
    import_ok(&db, &file);
    assert_eq!(lookup_json(&db, "+15550000002")["name"], "Jo \"JJ\" Diaz");
    assert_eq!(lookup_json(&db, "+442079460958")["customer_id"], "J-2");
}

async fn export_then_import_is_an_exact_round_trip(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let file = csv_file(
        "C-1,\"O'Neil, \"\"Dan\"\"\",10,yes,(555) 000-0002;+15550000001\n\
         C-2,Zoë Ünal,9007199254740991,0,+44 20 7946 0958\n\
         C-3,Cy,0,false,011 33 1 23 45 67 89\n",
    );
    import_ok(&db, &file);
    let first = stdout(&run(&db, &["export", "-"]));
    assert!(
        first.contains("C-1,\"O'Neil, \"\"Dan\"\"\",10,true,+15550000001;+15550000002\n"),
        "{first}"
    );
    let mut exported = tempfile::NamedTempFile::new().unwrap();
    exported.write_all(first.as_bytes()).unwrap();
    let again = TestDatabase::new(backend).await;
    import_ok(&again, &exported);
    assert_eq!(
        stdout(&run(&again, &["export", "-"])),
        first,
        "export → import → export must be identical"
    );
    // Re-importing the export into its own database changes nothing.
    let same = run(&db, &["import", exported.path().to_str().unwrap()]);
    assert!(
        stdout(&same).contains("0 new, 0 updated, 3 unchanged"),
        "{}",
        stdout(&same)
    );
}

const HEADER: &str = "customer_id,name,loyalty_points,is_vip,phone_numbers\n";

pub(crate) fn csv_file(rows: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(format!("{HEADER}{rows}").as_bytes())
        .unwrap();
    file
}

pub(crate) fn run(db: &TestDatabase, args: &[&str]) -> Output {
    binary()
        .env("DATABASE_URL", &db.url)
        .args(args)
        .output()
        .expect("binary runs")
}

/// Imports `file`, which must succeed.
pub(crate) fn import_ok(db: &TestDatabase, file: &tempfile::NamedTempFile) -> Output {
    let output = run(db, &["import", file.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "import failed: {}",
        stderr(&output)
    );
    output
}

/// Imports customers C-0, C-1, … with the numbers +15550000000, +15550000001, ….
fn import_numbered_customers(db: &TestDatabase, count: usize) {
    let rows: String = (0..count)
        .map(|i| format!("C-{i},Customer {i},{i},false,+1555{i:07}\n"))
        .collect();
    import_ok(db, &csv_file(&rows));
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn lookup_json(db: &TestDatabase, caller_id: &str) -> serde_json::Value {
    let output = run(db, &["lookup", caller_id]);
    assert!(
        output.status.success(),
        "lookup {caller_id}: {}",
        stderr(&output)
    );
    serde_json::from_str(stdout(&output).trim()).expect("lookup prints JSON")
}

async fn import_then_lookup_finds_customers_by_any_of_their_numbers(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let file = csv_file(
        "C-100,Carol Diaz,42,yes,(555) 000-1111;tel:+1-555-000-2222\n\
         C-200,\"Dan O'Neil, Jr.\",0,false,+44 20 7946 0958\n",
    );
    let output = import_ok(&db, &file);
    let summary = stdout(&output);
    assert!(summary.contains("imported 2 customer(s)"), "{summary}");
    assert!(
        summary.contains("2 new, 0 updated, 0 unchanged, 0 deleted; 3 phone numbers"),
        "{summary}"
    );

    let carol = serde_json::json!({"customer_id": "C-100", "name": "Carol Diaz", "loyalty_points": 42, "is_vip": true});
    assert_eq!(lookup_json(&db, "+15550001111"), carol);
    assert_eq!(lookup_json(&db, "sip:5550002222@pbx"), carol);
    assert_eq!(
        lookup_json(&db, "011 44 20 7946 0958")["name"],
        "Dan O'Neil, Jr."
    );
    assert_eq!(lookup_json(&db, "+15559999999"), json(UNKNOWN));
    assert_eq!(lookup_json(&db, "anonymous"), json(UNKNOWN));
}

async fn reimport_updates_by_customer_id_and_replaces_numbers(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let first = csv_file("C-1,Ann,10,true,+15550000001\nC-2,Bo,20,false,+15550000002\n");
    import_ok(&db, &first);

    let same = run(&db, &["import", first.path().to_str().unwrap()]);
    assert!(
        stdout(&same).contains("0 new, 0 updated, 2 unchanged, 0 deleted"),
        "{}",
        stdout(&same)
    );

    // Ann gets more points and a new number; Bo takes over Ann's old number.
    let second =
        csv_file("C-1,Ann,11,true,+15550000009\nC-2,Bo,20,false,+15550000002;+15550000001\n");
    let output = import_ok(&db, &second);
    assert!(
        // Both changed: Bo's fields did not, but his numbers did.
        stdout(&output).contains("0 new, 2 updated, 0 unchanged, 0 deleted; 3 phone numbers"),
        "{}",
        stdout(&output)
    );
    assert_eq!(lookup_json(&db, "+15550000009")["loyalty_points"], 11);
    assert_eq!(lookup_json(&db, "+15550000001")["customer_id"], "C-2");
}

async fn a_bad_row_fails_the_whole_import_and_writes_nothing(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let file = csv_file(
        "C-1,Ann,10,true,+15550000001\n\
         C-2,Bo,lots,false,+15550000002\n\
         C-3,Cy,30,false,555-0003\n\
         C-4,Di,40,maybe,+15550000004\n",
    );
    let output = run(&db, &["import", file.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let errors = stderr(&output);
    assert!(
        errors.contains("line 3: loyalty_points must be"),
        "{errors}"
    );
    assert!(
        errors.contains("line 4: phone_numbers: \"555-0003\": too short for US"),
        "{errors}"
    );
    assert!(errors.contains("line 5: is_vip must be"), "{errors}");
    assert!(errors.contains("nothing was written"), "{errors}");
    assert_eq!(
        lookup_json(&db, "+15550000001"),
        json(UNKNOWN),
        "line 2 must not have been written"
    );
}

async fn a_number_a_stored_customer_has_is_shared_with_the_files_customer(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let first = csv_file("C-1,Ann,10,true,+15550000001\n");
    import_ok(&db, &first);
    let second = csv_file("C-2,Bo,20,false,+15550000002\nC-3,Cy,30,false,(555) 000-0001\n");
    let output = import_ok(&db, &second);
    assert!(
        stdout(&output).contains("2 new, 0 updated, 0 unchanged, 0 deleted; 2 phone numbers"),
        "{}",
        stdout(&output)
    );
    assert_eq!(lookup_json(&db, "+15550000002")["customer_id"], "C-2");
    assert_eq!(
        lookup_json(&db, "+15550000001"),
        json(UNKNOWN),
        "C-1 and C-3 share it: nobody is named"
    );
    // C-1, whom the import leaves as is, keeps its number beside C-3.
    let export = format!(
        "{HEADER}C-1,Ann,10,true,+15550000001\nC-2,Bo,20,false,+15550000002\nC-3,Cy,30,false,+15550000001\n"
    );
    assert_eq!(stdout(&run(&db, &["export", "-"])), export);
    // Importing it again changes nothing; replacing with C-1 alone leaves it the number's only
    // customer, named again.
    let again = import_ok(&db, &second);
    assert!(
        stdout(&again).contains("0 new, 0 updated, 2 unchanged"),
        "{}",
        stdout(&again)
    );
    let output = run(
        &db,
        &[
            "import",
            first.path().to_str().unwrap(),
            "--mode",
            "replace",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lookup_json(&db, "+15550000001")["customer_id"], "C-1");
}

#[test]
fn with_no_database_configured_commands_use_the_embedded_sqlite_file() {
    let folder = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let output = binary()
            .current_dir(folder.path())
            .arg("migrate")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stdout(&output).contains("up to date (sqlite)"),
            "{}",
            stdout(&output)
        );
    }
    assert!(folder.path().join("data/customers.db").is_file());
}

#[test]
fn default_region_comes_from_the_environment() {
    let folder = tempfile::tempdir().unwrap();
    let csv = folder.path().join("gb.csv");
    std::fs::write(&csv, format!("{HEADER}G-1,Gwen,1,no,020 7946 0958\n")).unwrap();
    let db = format!("sqlite://{}", folder.path().join("gb.db").display());
    let output = binary()
        .env("LOOKUP_DEFAULT_REGION", "GB")
        .env("DATABASE_URL", &db)
        .arg("import")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    // Under US rules "020 7946 0958" is no number; the env var made it a London one.
    let output = binary()
        .env("DATABASE_URL", &db)
        .args(["lookup", "+44 20 7946 0958"])
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()["customer_id"],
        "G-1"
    );
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() {
    let output = binary()
        .args(["migrate", "--database-url", "mysql://root@localhost/db"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("unsupported database URL"),
        "{}",
        stderr(&output)
    );
    let output = binary()
        .env("LOOKUP_DEFAULT_REGION", "XX")
        .args(["lookup", "5551234567"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("ISO 3166-1"),
        "{}",
        stderr(&output)
    );
    let output = binary()
        .args(["import", "/nonexistent/file.csv"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot open /nonexistent/file.csv"),
        "{}",
        stderr(&output)
    );
    for batches in ["0", "9", "two"] {
        let output = binary()
            .env("LOOKUP_DB_BATCHES_PER_WORKER", batches)
            .arg("serve")
            .output()
            .unwrap();
        assert!(!output.status.success(), "{batches} accepted");
        assert!(
            stderr(&output).contains("--db-batches-per-worker"),
            "{}",
            stderr(&output)
        );
    }
}

/// A database URL that is refused never reaches stderr beyond its scheme, whichever way it came.
#[test]
fn a_refused_database_url_never_shows_its_password() {
    let shapes = [
        "root:HUNTER8@dbhost/db",
        "postgres//user:HUNTER8@host",
        "my password is HUNTER8",
        "postgres://u@h/db?sslpassword=HUNTER8",
    ];
    for shape in shapes {
        let ways: [(&[&str], Option<&str>); 3] = [
            (&["migrate", "--database-url", shape], None),
            (&["migrate"], Some("DATABASE_URL")),
            (&["serve"], Some("LOOKUP_LISTEN_DATABASE_URL")),
        ];
        for (args, variable) in ways {
            let mut command = binary();
            command.args(args);
            if let Some(variable) = variable {
                command.env(variable, shape);
            }
            let output = command.output().unwrap();
            assert!(
                !output.status.success(),
                "{shape} via {args:?} {variable:?}"
            );
            let stderr = stderr(&output);
            assert!(
                stderr.contains("database URL") && !stderr.contains("HUNTER8"),
                "{shape} via {args:?} {variable:?}: {stderr}"
            );
        }
    }
}

/// `explain` prints the same steps the admin API's /api/v1/explain shows.
#[tokio::test]
async fn explain_prints_how_a_caller_id_is_read_and_answered() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let output = run(
        &db,
        &[
            "explain",
            "tel:+1-555-123-4567;tgrp=tg1;trunk-context=example.com",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let explained: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(explained["normalisation"]["uri_scheme"], "tel");
    assert_eq!(
        explained["normalisation"]["dropped"],
        serde_json::json!([";tgrp=tg1", ";trunk-context=example.com"])
    );
    assert_eq!(explained["normalisation"]["country_code_source"], "plus");
    assert_eq!(explained["normalisation"]["e164"], "+15551234567");
    assert_eq!(
        explained["outcome"], "unknown",
        "the CLI's database has no demo data"
    );
    assert_eq!(explained["response"], json(UNKNOWN));
}

/// Each subcommand lists exactly the options it uses: the store's only where a store is opened,
/// the service's only on `serve`.
#[test]
fn each_subcommand_help_lists_only_what_applies_to_it() {
    let help = |command: &str| {
        let output = binary().args([command, "--help"]).output().unwrap();
        assert!(output.status.success(), "{command} --help");
        stdout(&output)
    };
    let store = ["--database-url", "--db-max-connections", "--store-timeout"];
    let serve_only = [
        "--db-batches-per-worker",
        "--bind",
        "--cache-ttl",
        "--api-key",
        "--on-store-error",
    ];
    for command in ["gen-cert", "export-action"] {
        let text = help(command);
        for option in store.iter().chain(&serve_only).chain(&["--default-region"]) {
            // export-action fits the action's timeout to the service's --store-timeout.
            if command == "export-action" && *option == "--store-timeout" {
                continue;
            }
            assert!(!text.contains(option), "{command} --help lists {option}");
        }
    }
    for command in ["migrate", "export", "import", "lookup", "serve"] {
        let text = help(command);
        for option in store {
            assert!(text.contains(option), "{command} --help lacks {option}");
        }
        for option in serve_only {
            assert_eq!(
                text.contains(option),
                command == "serve",
                "{command} --help and {option}"
            );
        }
        let numbers = ["import", "lookup", "serve"].contains(&command);
        assert_eq!(
            text.contains("--default-region"),
            numbers,
            "{command} --help and --default-region"
        );
    }
    for command in ["serve", "migrate", "gen-cert", "export-action"] {
        assert!(
            help(command).contains("--log-level"),
            "{command}: logging applies everywhere"
        );
    }
}

/// Numbers are personal data: the request log shows them masked, never whole, and never the
/// query string that carried them.
#[tokio::test]
async fn serve_logs_one_line_per_request_with_the_number_masked() {
    let (_folder, mut server) = crate::helpers::serve_demo(&[], &[]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/lookup", server.base);
    let found = client
        .post(&url)
        .json(&serde_json::json!({"phoneNumber": "+15551234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        found.json::<serde_json::Value>().await.unwrap(),
        json(ALICE)
    );
    client
        .get(format!("{url}?phoneNumber=%2B15550001234"))
        .send()
        .await
        .unwrap();
    client
        .post(&url)
        .json(&serde_json::json!({"phoneNumber": "Restricted"}))
        .send()
        .await
        .unwrap();
    client.post(&url).body("{}").send().await.unwrap();

    let log = server.drain_log().join("\n");
    let requests: Vec<&str> = log.lines().filter(|l| l.contains(" request ")).collect();
    assert_eq!(requests.len(), 4, "{log}");
    // What each request's line must say, in order.
    let expected: [&[&str]; 4] = [
        &[
            "status=200",
            "outcome=found",
            "number=+1555•••4567",
            "latency_ms=",
        ],
        &[
            "outcome=unknown",
            "number=+1555•••1234",
            "path=/api/v1/lookup ",
        ],
        &["outcome=invalid", "(withheld)"],
        &["status=400", "error=missing_phone_number"],
    ];
    for (line, needles) in requests.iter().zip(expected) {
        for needle in needles {
            assert!(line.contains(needle), "{needle:?} missing from {line}");
        }
    }
    assert!(
        !requests[1].contains('?'),
        "the query string reached the log: {}",
        requests[1]
    );
    for whole in ["5551234567", "5550001234"] {
        assert!(
            !log.contains(whole),
            "a whole number reached the log:\n{log}"
        );
    }
}

#[test]
fn import_reads_standard_input_when_the_file_is_a_dash() {
    let folder = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", folder.path().join("stdin.db").display());
    let mut child = binary()
        .args(["import", "-", "--database-url", &db])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{HEADER}S-1,Sam,3,no,+15550004444\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(
        stdout(&output).contains("imported 1 customer(s) from -"),
        "{}",
        stdout(&output)
    );
    let output = binary()
        .args(["lookup", "5550004444", "--database-url", &db])
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()["customer_id"],
        "S-1"
    );
}

/// A database made by the first release (before the tables became WITHOUT ROWID) keeps every
/// customer, number and link through `migrate`, and deleting a customer still takes its numbers.
#[tokio::test]
async fn upgrading_a_first_release_sqlite_database_keeps_every_customer() {
    use sqlx::Connection;
    let db = TestDatabase::new(Backend::Sqlite).await;
    let first_only = tempfile::tempdir().unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/sqlite/0001_customers.sql"
        ),
        first_only.path().join("0001_customers.sql"),
    )
    .unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("{}?mode=rwc", db.url))
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(first_only.path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(
        "INSERT INTO customers (customer_id, name, loyalty_points, is_vip) VALUES \
           ('C-1', 'Ann', 10, 1), ('C-2', 'Bo', 20, 0); \
         INSERT INTO phone_numbers (e164, customer_id) VALUES \
           ('+15550000001', 'C-1'), ('+15550000002', 'C-1'), ('+15550000003', 'C-2');",
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let migrated = run(&db, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let ann = serde_json::json!({"customer_id": "C-1", "name": "Ann", "loyalty_points": 10, "is_vip": true});
    let bo = serde_json::json!({"customer_id": "C-2", "name": "Bo", "loyalty_points": 20, "is_vip": false});
    assert_eq!(lookup_json(&db, "+15550000001"), ann);
    assert_eq!(lookup_json(&db, "+15550000002"), ann);
    assert_eq!(lookup_json(&db, "+15550000003"), bo);

    let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    let schema: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_schema WHERE name IN ('customers', 'phone_numbers')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(schema.len(), 2);
    assert!(
        schema.iter().all(|sql| sql.ends_with("WITHOUT ROWID")),
        "{schema:?}"
    );
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM customers WHERE customer_id = 'C-1'")
        .execute(&mut conn)
        .await
        .unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT e164 FROM phone_numbers ORDER BY e164")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, ["+15550000003"]);
}

/// After an import the SQLite file alone holds every customer (what a backup or a copy of it
/// takes), and no write-ahead log is left for the next process to read through.
#[tokio::test]
async fn an_import_leaves_everything_in_the_sqlite_file_itself() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    import_numbered_customers(&db, 2_000);
    let file = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
    let wal = file.with_extension("db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the import left {wal:?} behind"
    );
    let copy = tempfile::tempdir().unwrap();
    let copied = copy.path().join("copy.db");
    std::fs::copy(&file, &copied).unwrap();
    let output = binary()
        .args(["lookup", "+15550001999"])
        .args(["--database-url", &format!("sqlite://{}", copied.display())])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(stdout(&output).trim()).unwrap()["customer_id"],
        "C-1999"
    );
}

/// On Postgres a lookup's two reads (number → owner, owner → answer) are index-only scans: the
/// indexes carry the columns a lookup answers with (migration 0003), and the import's VACUUM
/// has marked every page all-visible, which index-only scans need.
#[tokio::test]
async fn after_an_import_postgres_answers_lookups_from_its_indexes_alone() {
    use sqlx::{Connection, Row};
    if crate::helpers::postgres_url().is_none() {
        return;
    }
    let db = TestDatabase::new(Backend::Postgres).await;
    import_numbered_customers(&db, 2_000);
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for table in ["customers", "phone_numbers"] {
        let pages = sqlx::query("SELECT relpages, relallvisible FROM pg_class WHERE relname = $1")
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let (pages, visible): (i32, i32) = (pages.get(0), pages.get(1));
        assert!(
            pages > 0,
            "{table} has no statistics: the import did not analyse it"
        );
        assert_eq!(
            visible, pages,
            "{table}: pages not all-visible after the import"
        );
    }
    // A table this small is cheaper to scan whole; take that choice away to see the indexes'.
    sqlx::raw_sql("SET enable_seqscan = off; SET enable_bitmapscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    for (read, index) in [
        (
            "SELECT customer_id FROM phone_numbers WHERE e164 = '+15550001999'",
            "phone_numbers_e164_key",
        ),
        (
            "SELECT name, loyalty_points, is_vip FROM customers WHERE customer_id = 'C-1999'",
            "customers_pkey",
        ),
    ] {
        let plan: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {read}")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(
            plan.starts_with(&format!("Index Only Scan using {index}")),
            "{read}: {plan}"
        );
    }
    conn.close().await.ok();
}

/// A CRM export imports unchanged with a column mapping: its own column names, a name from two
/// columns, several phone columns merged, a per-row country for national numbers, and a tier
/// that means VIP.
async fn a_salesforce_style_export_imports_with_a_column_mapping(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(
        b"Id,FirstName,LastName,Phone,MobilePhone,MailingCountry,Loyalty_Points__c,Tier\n\
          003A,Ada,Lovelace,(555) 010-2000,+1 555 010 2001,US,120,Gold\n\
          003B,Brian,Kernighan,020 7946 0958,,United Kingdom,5,Silver\n\
          003C,Grace,Hopper,030 123456,0151 2345678,germany,0,platinum\n",
    )
    .unwrap();
    let path = file.path().to_str().unwrap();
    let output = run(
        &db,
        &[
            "import",
            path,
            "--map",
            "customer_id=Id",
            "--map",
            "name=FirstName+LastName",
            "--map",
            "phone_numbers=Phone,MobilePhone",
            "--map",
            "loyalty_points=loyalty points c",
            "--map",
            "is_vip=Tier",
            "--map",
            "region=MailingCountry",
            "--vip-values",
            "Gold,Platinum",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 3 customer(s)"),
        "{}",
        stdout(&output)
    );
    for (number, id, name, points, vip) in [
        ("+15550102000", "003A", "Ada Lovelace", 120, true),
        ("tel:+15550102001", "003A", "Ada Lovelace", 120, true),
        ("+442079460958", "003B", "Brian Kernighan", 5, false),
        ("+4930123456", "003C", "Grace Hopper", 0, true),
        ("+491512345678", "003C", "Grace Hopper", 0, true),
    ] {
        assert_eq!(
            lookup_json(&db, number),
            serde_json::json!({"customer_id": id, "name": name, "loyalty_points": points, "is_vip": vip}),
            "{number}"
        );
    }
}

/// A European export: `;` between fields, a byte-order mark, CRLF line ends, national numbers
/// in the default region, and no loyalty or VIP columns at all.
async fn a_semicolon_export_with_a_bom_imports_with_its_own_header(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all("\u{FEFF}Kundennummer;Name;Telefon\r\nK-1;Jürgen Weiß;030 1234567\r\nK-2;\"Müller; Anna\";0171 1234567\r\n".as_bytes())
        .unwrap();
    let path = file.path().to_str().unwrap();
    let output = run(
        &db,
        &[
            "import",
            path,
            "--default-region",
            "DE",
            "--map",
            "customer_id=Kundennummer",
            "--map",
            "phone_numbers=Telefon",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        lookup_json(&db, "+49301234567"),
        serde_json::json!({"customer_id": "K-1", "name": "Jürgen Weiß", "loyalty_points": 0, "is_vip": false})
    );
    assert_eq!(lookup_json(&db, "+491711234567")["name"], "Müller; Anna");

    // A required field the mapping cannot find names the header it read.
    let output = run(&db, &["import", path, "--map", "customer_id=Kundennummer"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("phone_numbers")
            && stderr(&output).contains("Kundennummer, Name, Telefon"),
        "{}",
        stderr(&output)
    );
    let output = run(&db, &["import", path, "--map", "phone=Telefon"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no field to map"),
        "{}",
        stderr(&output)
    );
}

async fn a_gzipped_crlf_export_imports_and_bad_bytes_cost_only_their_row(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    // CRLF endings and a quoted note spanning lines 2-3 in a column nobody maps; line 4 holds
    // the name given, line 5 is fine.
    let export = |name: &[u8]| {
        let mut file = tempfile::Builder::new()
            .suffix(".csv.gz")
            .tempfile()
            .unwrap();
        let mut csv = b"Id,Full Name,Phone,Notes\r\nA-1,Ann Lee,(555) 010-0131,\"called twice\r\nprefers email\"\r\nA-2,".to_vec();
        csv.extend_from_slice(name);
        csv.extend_from_slice(b",(555) 010-0132,\r\nA-3,Bo Chan,(555) 010-0133,\r\n");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&csv).unwrap();
        file.write_all(&encoder.finish().unwrap()).unwrap();
        file
    };
    let import = |file: &tempfile::NamedTempFile| {
        let path = file.path().to_str().unwrap();
        run(
            &db,
            &[
                "import",
                path,
                "--map",
                "customer_id=Id",
                "--map",
                "name=Full Name",
                "--map",
                "phone_numbers=Phone",
            ],
        )
    };
    // A Latin-1 name in a UTF-8 export is that row's problem, reported at its line.
    let output = import(&export(b"Ren\xe9 Roy"));
    assert!(!output.status.success());
    let errors = stderr(&output);
    assert!(
        errors.contains("line 4: Full Name: not UTF-8 text") && errors.contains("1 bad row(s)"),
        "{errors}"
    );
    assert_eq!(lookup_json(&db, "+15550100133"), json(UNKNOWN));

    let output = import(&export("René Roy".as_bytes()));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lookup_json(&db, "+15550100131")["name"], "Ann Lee");
    assert_eq!(lookup_json(&db, "+15550100132")["name"], "René Roy");
    assert_eq!(lookup_json(&db, "+15550100133")["customer_id"], "A-3");
}

//! `import --on-invalid skip --rejects FILE` on a CRM export with bad rows: what is set aside, what
//! the reject file holds, what arrives in the store, and when the whole file is refused.

use std::io::Write;

use crate::cli::{run, stderr, stdout};
use crate::helpers::{BOB, Backend, TestApp, TestDatabase, UNKNOWN, json};
use crate::on_both_backends;

on_both_backends!(
    one_percent_bad_rows_are_set_aside_and_every_good_row_is_imported,
    too_many_bad_rows_refuse_the_whole_file,
    abort_mode_writes_nothing_and_can_still_list_the_bad_rows,
    a_dry_run_in_skip_mode_counts_by_reason_and_writes_nothing,
    json_lines_bad_rows_are_set_aside_with_their_text,
    a_customer_set_aside_keeps_its_numbers_and_shares_them_with_the_files_rows,
    rows_sharing_numbers_all_import_and_every_repeated_id_is_found,
    a_number_on_a_set_aside_row_is_not_shared_with_it,
    an_export_without_loyalty_or_vip_columns_keeps_what_the_store_has,
    counts_include_customers_whose_numbers_alone_change,
    json_lines_take_spreadsheet_spellings_of_every_field,
    an_empty_replace_and_a_bad_header_change_nothing,
);

const HEADER: &str =
    "Id,FirstName,LastName,Phone,MobilePhone,MailingCountry,Loyalty_Points__c,Tier";
const MAPPING: [&str; 14] = [
    "--map",
    "customer_id=Id",
    "--map",
    "name=FirstName+LastName",
    "--map",
    "phone_numbers=Phone,MobilePhone",
    "--map",
    "region=MailingCountry",
    "--map",
    "loyalty_points=Loyalty_Points__c",
    "--map",
    "is_vip=Tier",
    "--vip-values",
    "Gold,Platinum",
];

/// One contact of the export: its fields as bytes (one is not UTF-8) and what it must become.
struct Contact {
    fields: Vec<Vec<u8>>,
    /// The reason's expected text, for a bad row.
    bad: Option<&'static str>,
}

impl Contact {
    fn good(i: usize) -> Self {
        let uk = i.is_multiple_of(5);
        let text = |s: String| s.into_bytes();
        Self {
            fields: vec![
                text(format!("003{i:05}")),
                text(format!("First{i}")),
                text(format!("Last{i}")),
                text(format!("+1 202 555 {i:04}")),
                text(if uk {
                    format!("07700 9{i:05}")
                } else {
                    String::new()
                }),
                text(if uk { "United Kingdom" } else { "US" }.to_owned()),
                text(i.to_string()),
                text(
                    if i.is_multiple_of(7) {
                        "Gold"
                    } else {
                        "Silver"
                    }
                    .to_owned(),
                ),
            ],
            bad: None,
        }
    }

    fn id(&self) -> String {
        String::from_utf8_lossy(&self.fields[0]).into_owned()
    }

    /// The row as a CRM writes it: fields with a comma or a line break quoted.
    fn raw(&self) -> Vec<u8> {
        let quoted: Vec<Vec<u8>> = self
            .fields
            .iter()
            .map(|f| {
                if f.iter().any(|b| matches!(b, b',' | b'\n' | b'\r' | b'"')) {
                    let mut q = b"\"".to_vec();
                    q.extend(f.iter().flat_map(
                        |&b| {
                            if b == b'"' { vec![b'"', b'"'] } else { vec![b] }
                        },
                    ));
                    q.push(b'"');
                    q
                } else {
                    f.clone()
                }
            })
            .collect();
        quoted.join(&b","[..])
    }
}

/// 1,000 contacts in a Salesforce-style export with a byte-order mark and CRLF line ends: eight
/// of them bad in eight different ways, including a repeated id only the whole file shows, and
/// two good ones whose Phone another customer has too (row 505 has row 500's, row 707 the stored
/// CUST-001's), which those customers then share. Returns the contacts in file order and the
/// file's bytes.
fn salesforce_export() -> (Vec<Contact>, Vec<u8>) {
    let mut contacts: Vec<Contact> = (0..1000).map(Contact::good).collect();
    // Good rows: a number on two rows, or on a row and a stored customer, is shared.
    contacts[505].fields[3] = b"+1 (202) 555-0500".to_vec();
    contacts[707].fields[3] = b"tel:+1-555-123-4567".to_vec();
    let mut spoil = |i: usize, field: usize, value: &[u8], why: &'static str| {
        contacts[i].fields[field] = value.to_vec();
        contacts[i].bad = Some(why);
    };
    spoil(
        17,
        3,
        b"+44 20 79",
        "Phone: \"+44 20 79\": too short for GB",
    );
    spoil(
        101,
        6,
        b"lots",
        "Loyalty_Points__c: loyalty_points must be a whole number",
    );
    spoil(
        230,
        5,
        b"Atlantis",
        "MailingCountry: unknown country \"Atlantis\"",
    );
    spoil(333, 1, b"", "FirstName+LastName: name is empty");
    spoil(333, 2, b"", "FirstName+LastName: name is empty");
    spoil(404, 0, b"", "Id: customer_id is empty");
    spoil(
        606,
        0,
        b"00300600",
        "customer_id 00300600 already appears on line 602",
    );
    spoil(808, 2, b"M\xfcller", "LastName: not UTF-8 text");
    spoil(
        909,
        1,
        b"Ann\r\nMarie",
        "FirstName+LastName: name contains control characters",
    );
    let mut file = format!("\u{FEFF}{HEADER}\r\n").into_bytes();
    for contact in &contacts {
        file.extend_from_slice(&contact.raw());
        file.extend_from_slice(b"\r\n");
    }
    (contacts, file)
}

/// The line each contact starts on (row 909 spans two lines).
fn line_of(i: usize) -> u64 {
    i as u64 + if i > 909 { 3 } else { 2 }
}

fn write_file(bytes: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file
}

fn import_args<'a>(file: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["import", file];
    args.extend(MAPPING);
    args.extend(more);
    args
}

/// A database holding the demo customers, as the app's `--demo-data` makes them.
async fn with_demo_customers(backend: Backend) -> TestDatabase {
    let db = TestDatabase::new(backend).await;
    let seed = write_file(
        b"customer_id,name,loyalty_points,is_vip,phone_numbers\n\
          CUST-001,Alice Smith,1500,true,+15551234567\n\
          CUST-002,Bob Jones,200,false,+15559876543\n",
        ".csv",
    );
    let output = run(&db, &["import", seed.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    db
}

fn customers_in(db: &TestDatabase) -> String {
    let export = run(db, &["export", "-"]);
    assert!(export.status.success(), "{}", stderr(&export));
    stdout(&export)
}

async fn lookup(app: &TestApp, number: &str) -> serde_json::Value {
    app.post_json(&serde_json::json!({ "phoneNumber": number }))
        .await
        .json()
        .await
        .unwrap()
}

async fn one_percent_bad_rows_are_set_aside_and_every_good_row_is_imported(backend: Backend) {
    // The demo customers are there first: the file must not touch them.
    let app = TestApp::spawn_on(TestDatabase::new(backend).await, &["--rate-limit", "0"]).await;
    let (contacts, bytes) = salesforce_export();
    let file = write_file(&bytes, ".csv");
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.csv");
    let output = run(
        &app.db,
        &import_args(
            file.path().to_str().unwrap(),
            &[
                "--on-invalid",
                "skip",
                "--rejects",
                rejects.to_str().unwrap(),
            ],
        ),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stdout(&output);
    assert!(summary.contains("imported 992 customer(s)"), "{summary}");
    // One Phone per good row, and the mobiles of the good rows 0, 5, 10, … (230 is bad).
    assert!(
        summary.contains("992 new, 0 updated, 0 unchanged, 0 deleted; 1191 phone numbers"),
        "{summary}"
    );
    assert!(summary.contains("set aside 8 bad row(s)"), "{summary}");
    assert!(
        !summary.contains("claimed") && !summary.contains("owned"),
        "a shared number is no bad row: {summary}"
    );
    for kind in [
        "phone number too short",
        "customer_id repeated",
        "not UTF-8",
        "unknown country",
    ] {
        assert!(
            summary.lines().any(|l| l.trim() == format!("1  {kind}")),
            "{kind} in {summary}"
        );
    }

    // The reject file: the header as read plus line and reason, then each bad row exactly as
    // read (bytes, quotes, embedded line break and all), in file order.
    let written = std::fs::read(&rejects).unwrap();
    let want_header = format!("\u{FEFF}{HEADER},line,reason\r\n").into_bytes();
    assert!(
        written.starts_with(&want_header),
        "{:?}",
        String::from_utf8_lossy(&written)
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&written[..]);
    let records: Vec<csv::ByteRecord> = reader.byte_records().map(Result::unwrap).collect();
    let bad: Vec<(usize, &Contact)> = contacts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.bad.is_some())
        .collect();
    assert_eq!(records.len(), bad.len(), "one record per bad row");
    let mut rest = &written[want_header.len()..];
    for (record, (i, contact)) in records.iter().zip(&bad) {
        let fields: Vec<&[u8]> = record.iter().collect();
        assert_eq!(fields.len(), 10, "row {i}: {record:?}");
        assert_eq!(
            &fields[..8],
            contact.fields.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            "row {i}"
        );
        assert_eq!(
            fields[8],
            line_of(*i).to_string().as_bytes(),
            "row {i}'s line"
        );
        let reason = String::from_utf8_lossy(fields[9]);
        let want = contact.bad.unwrap();
        assert!(
            reason.contains(want),
            "row {i}: {reason:?} should say {want:?}"
        );
        // The row's bytes are the file's own.
        let mut row = contact.raw();
        row.extend_from_slice(format!(",{},", line_of(*i)).as_bytes());
        assert!(
            rest.starts_with(&row),
            "row {i} as read: {:?}",
            String::from_utf8_lossy(&rest[..row.len().min(rest.len())])
        );
        let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let end = if *i == 909 {
            end + 2
                + rest[end + 2..]
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .unwrap()
        } else {
            end
        };
        rest = &rest[end + 2..];
    }
    assert!(rest.is_empty(), "nothing after the last bad row");

    // Every good row is found by each number it alone has; a shared number names nobody; the
    // bad rows' numbers find nobody.
    for (i, contact) in contacts.iter().enumerate() {
        let phone = String::from_utf8_lossy(&contact.fields[3]).into_owned();
        let answer = lookup(&app, &format!("+1 202 555 {i:04}")).await;
        if contact.bad.is_none() {
            if matches!(i, 500 | 505 | 707) {
                // 500 shares its number with 505; 505 and 707 were given another number.
                assert_eq!(answer, json(UNKNOWN), "row {i}: +1 202 555 {i:04}");
            } else {
                let points = i64::try_from(i).unwrap();
                assert_eq!(
                    answer,
                    serde_json::json!({"customer_id": contact.id(), "name": format!("First{i} Last{i}"), "loyalty_points": points, "is_vip": i % 7 == 0}),
                    "row {i} by {phone}"
                );
            }
            if i % 5 == 0 {
                let mobile = lookup(&app, &format!("+44 7700 9{i:05}")).await;
                assert_eq!(mobile["customer_id"], contact.id(), "row {i} by its mobile");
            }
        } else {
            assert_eq!(answer, json(UNKNOWN), "row {i} was set aside");
        }
    }
    // The shared numbers answer the unknown caller under the default policy, and each customer
    // keeps its number: CUST-001 as it was, 00300707 beside it, 00300500 and 00300505 together.
    assert_eq!(lookup(&app, "+15551234567").await, json(UNKNOWN));
    assert_eq!(lookup(&app, "+1 202 555 0500").await, json(UNKNOWN));
    assert_eq!(lookup(&app, "+15559876543").await, json(BOB));
    let stored = customers_in(&app.db);
    for row in [
        "CUST-001,Alice Smith,1500,true,+15551234567\n",
        "CUST-002,Bob Jones,200,false,+15559876543\n",
        "00300500,First500 Last500,500,false,+12025550500;+447700900500\n",
        "00300505,First505 Last505,505,false,+12025550500;+447700900505\n",
        "00300707,First707 Last707,707,true,+15551234567\n",
    ] {
        assert!(stored.contains(row), "{row} in the export");
    }
    assert_eq!(
        lookup(&app, "+1 202 555 0600").await["name"],
        "First600 Last600",
        "the first row of a repeated id is the customer"
    );
}

async fn too_many_bad_rows_refuse_the_whole_file(backend: Backend) {
    let db = with_demo_customers(backend).await;
    let before = customers_in(&db);
    let (_, bytes) = salesforce_export();
    let file = write_file(&bytes, ".csv");
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.csv");
    let path = file.path().to_str().unwrap();
    let rejects_path = rejects.to_str().unwrap();
    for limit in ["7", "0.7%"] {
        let output = run(
            &db,
            &import_args(
                path,
                &[
                    "--on-invalid",
                    "skip",
                    "--rejects",
                    rejects_path,
                    "--max-invalid",
                    limit,
                ],
            ),
        );
        assert!(!output.status.success(), "limit {limit}");
        let errors = stderr(&output);
        assert!(
            errors.contains(&format!(
                "import refused: 8 of 1000 row(s) are bad, more than --max-invalid {limit}"
            )) && errors.contains("nothing was written"),
            "{errors}"
        );
        // The rows are still listed, so the file can be mended.
        let listed = std::fs::read(&rejects).unwrap();
        let records = csv::Reader::from_reader(&listed[..]).byte_records().count();
        assert_eq!(records, 8, "limit {limit}");
        assert_eq!(customers_in(&db), before, "limit {limit}: nothing imported");
    }
    // At the limit, the file goes in.
    for limit in ["8", "0.8%"] {
        let fresh = with_demo_customers(backend).await;
        let output = run(
            &fresh,
            &import_args(
                path,
                &[
                    "--on-invalid",
                    "skip",
                    "--rejects",
                    rejects_path,
                    "--max-invalid",
                    limit,
                ],
            ),
        );
        assert!(
            output.status.success(),
            "limit {limit}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).contains("imported 992 customer(s)"));
    }
    // Without --max-invalid, a file that is mostly wrong (a wrong mapping, a wrong file) is
    // refused rather than a sliver of it imported.
    let mut wrong = format!("{HEADER}\n").into_bytes();
    for i in 0..100 {
        let mut contact = Contact::good(i);
        if i % 3 != 0 {
            contact.fields[3] = b"n/a".to_vec();
            contact.fields[4].clear();
        }
        wrong.extend_from_slice(&contact.raw());
        wrong.push(b'\n');
    }
    let wrong = write_file(&wrong, ".csv");
    let output = run(
        &db,
        &import_args(
            wrong.path().to_str().unwrap(),
            &["--on-invalid", "skip", "--rejects", rejects_path],
        ),
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("66 of 100 row(s) are bad, more than --max-invalid 10%"),
        "{}",
        stderr(&output)
    );
}

async fn abort_mode_writes_nothing_and_can_still_list_the_bad_rows(backend: Backend) {
    let db = with_demo_customers(backend).await;
    let before = customers_in(&db);
    let (_, bytes) = salesforce_export();
    let file = write_file(&bytes, ".csv");
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.csv");
    let output = run(
        &db,
        &import_args(
            file.path().to_str().unwrap(),
            &["--rejects", rejects.to_str().unwrap()],
        ),
    );
    assert!(!output.status.success());
    let errors = stderr(&output);
    assert!(errors.contains("import refused: 8 bad row(s)"), "{errors}");
    assert!(
        errors.contains("line 19: Phone: \"+44 20 79\": too short for GB"),
        "{errors}"
    );
    assert!(
        errors
            .lines()
            .any(|l| l.trim() == "1  customer_id repeated"),
        "{errors}"
    );
    assert_eq!(customers_in(&db), before, "nothing imported");
    let listed = std::fs::read(&rejects).unwrap();
    assert_eq!(
        csv::Reader::from_reader(&listed[..]).byte_records().count(),
        8
    );
    // Skip mode insists on somewhere to put the rows, and on upsert.
    let path = file.path().to_str().unwrap();
    let output = run(&db, &import_args(path, &["--on-invalid", "skip"]));
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--on-invalid skip needs --rejects FILE"));
    let output = run(
        &db,
        &import_args(
            path,
            &[
                "--on-invalid",
                "skip",
                "--rejects",
                rejects.to_str().unwrap(),
                "--mode",
                "replace",
            ],
        ),
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("upsert mode only"),
        "{}",
        stderr(&output)
    );
}

async fn a_dry_run_in_skip_mode_counts_by_reason_and_writes_nothing(backend: Backend) {
    let db = with_demo_customers(backend).await;
    let before = customers_in(&db);
    let (_, bytes) = salesforce_export();
    let file = write_file(&bytes, ".csv");
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.csv");
    let output = run(
        &db,
        &import_args(
            file.path().to_str().unwrap(),
            &[
                "--on-invalid",
                "skip",
                "--rejects",
                rejects.to_str().unwrap(),
                "--dry-run",
            ],
        ),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = stdout(&output);
    assert!(
        summary.contains("dry run, nothing written: would import 992 customer(s)"),
        "{summary}"
    );
    assert!(
        summary.contains("would set aside 8 bad row(s)"),
        "{summary}"
    );
    assert!(
        summary
            .lines()
            .any(|l| l.trim() == "1  loyalty_points not a whole number in range"),
        "{summary}"
    );
    assert_eq!(customers_in(&db), before, "nothing imported");
}

async fn json_lines_bad_rows_are_set_aside_with_their_text(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let file = write_file(
        b"{\"customer_id\":\"J1\",\"name\":\"Ann\",\"loyalty_points\":1,\"is_vip\":true,\"phone_numbers\":[\"+15550000001\"]}\n\
          {\"customer_id\":\"J2\",\"name\":\"Bo\",\"loyalty_points\":\"many\",\"is_vip\":false,\"phone_numbers\":[\"+15550000002\"]}\n\
          {broken\n\
          {\"customer_id\":\"J1\",\"name\":\"Cy\",\"loyalty_points\":3,\"is_vip\":false,\"phone_numbers\":[\"+15550000003\"]}\n\
          {\"customer_id\":\"J4\",\"name\":\"Di\",\"loyalty_points\":4,\"is_vip\":false,\"phone_numbers\":[\"+15550000004\"]}\n\
          {\"customer_id\":\"J5\",\"name\":\"Ed\",\"loyalty_points\":5,\"is_vip\":false,\"phone_numbers\":[\"+15550000001\"]}\n",
        ".jsonl",
    );
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.jsonl");
    let output = run(
        &db,
        &[
            "import",
            file.path().to_str().unwrap(),
            "--on-invalid",
            "skip",
            "--rejects",
            rejects.to_str().unwrap(),
            "--max-invalid",
            "100%",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 3 customer(s)"),
        "{}",
        stdout(&output)
    );
    // J5 shares J1's number: a good row.
    assert!(
        customers_in(&db).ends_with(
            "J1,Ann,1,true,+15550000001\nJ4,Di,4,false,+15550000004\nJ5,Ed,5,false,+15550000001\n"
        ),
        "{}",
        customers_in(&db)
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(u64, String)> = lines
        .iter()
        .map(|l| {
            (
                l["line"].as_u64().unwrap(),
                l["row"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got[0].0, 2);
    assert!(got[0].1.contains("\"many\""));
    assert_eq!(got[1], (3, "{broken".to_owned()));
    assert_eq!(got.len(), 3, "{lines:?}");
    assert_eq!(got[2].0, 4);
    assert!(
        lines[2]["reason"]
            .as_str()
            .unwrap()
            .contains("customer_id J1 already appears on line 1"),
        "{lines:?}"
    );
}

/// A customer whose new row is set aside keeps what the store has, numbers and other fields; a
/// row of the file with one of its numbers is good and shares the number with it.
async fn a_customer_set_aside_keeps_its_numbers_and_shares_them_with_the_files_rows(
    backend: Backend,
) {
    let app = TestApp::spawn_on(TestDatabase::new(backend).await, &["--rate-limit", "0"]).await;
    let file = write_file(
        b"customer_id,name,loyalty_points,is_vip,phone_numbers\n\
          CUST-001,Alice Smith,not a number,true,+15551234567\n\
          NEW-1,Newcomer,5,false,+15551234567\n\
          NEW-2,Second,6,false,+15550000002\n",
        ".csv",
    );
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.csv");
    let output = run(
        &app.db,
        &[
            "import",
            file.path().to_str().unwrap(),
            "--on-invalid",
            "skip",
            "--rejects",
            rejects.to_str().unwrap(),
            "--max-invalid",
            "100%",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let listed = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[1].starts_with("CUST-001,Alice Smith,not a number,true,+15551234567,2,"));
    assert!(
        stdout(&output).contains("2 new, 0 updated, 0 unchanged, 0 deleted; 2 phone numbers"),
        "{}",
        stdout(&output)
    );
    // Alice and the newcomer share her number: nobody is named on it.
    assert_eq!(lookup(&app, "+15551234567").await, json(UNKNOWN));
    assert_eq!(lookup(&app, "+15550000002").await["customer_id"], "NEW-2");
    assert_eq!(
        customers_in(&app.db),
        "customer_id,name,loyalty_points,is_vip,phone_numbers\n\
         CUST-001,Alice Smith,1500,true,+15551234567\n\
         CUST-002,Bob Jones,200,false,+15559876543\n\
         NEW-1,Newcomer,5,false,+15551234567\n\
         NEW-2,Second,6,false,+15550000002\n"
    );
}

fn import_native_skip(
    db: &TestDatabase,
    csv: &str,
    more: &[&str],
) -> (std::process::Output, String) {
    let file = write_file(csv.as_bytes(), ".csv");
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.csv");
    let mut args = vec![
        "import",
        file.path().to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ];
    args.extend(more);
    let output = run(db, &args);
    let listed = std::fs::read_to_string(&rejects).unwrap_or_default();
    (output, listed)
}

/// Lines of the reject file's rows (its fields before `line` are the native five).
fn rejected_lines(listed: &str) -> Vec<u64> {
    csv::Reader::from_reader(listed.as_bytes())
        .records()
        .map(|r| r.unwrap()[5].parse().unwrap())
        .collect()
}

async fn rows_sharing_numbers_all_import_and_every_repeated_id_is_found(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    // D1..D3 share both numbers of C11..C13: good rows. Lines 35..37 repeat C11..C13 with
    // those numbers: bad for the repeated id alone.
    let mut csv = String::from("customer_id,name,loyalty_points,is_vip,phone_numbers\n");
    for i in 10..40 {
        csv.push_str(&format!(
            "C{i},Person {i},1,no,+1415555{i:04};+1415556{i:04}\n"
        ));
    }
    for (d, i) in [(1, 11), (2, 12), (3, 13)] {
        csv.push_str(&format!(
            "D{d},Dup {d},1,no,+1415555{i:04};+1415556{i:04}\n"
        ));
    }
    for i in [11, 12, 13] {
        csv.push_str(&format!(
            "C{i},Again {i},1,no,+1415555{i:04};+1415556{i:04}\n"
        ));
    }
    let (output, listed) = import_native_skip(&db, &csv, &["--on-invalid", "skip"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 33 customer(s)")
            && stdout(&output)
                .contains("33 new, 0 updated, 0 unchanged, 0 deleted; 66 phone numbers"),
        "{}",
        stdout(&output)
    );
    assert_eq!(rejected_lines(&listed), [35, 36, 37], "{listed}");
    assert!(
        listed.contains("customer_id C11 already appears on line 3"),
        "{listed}"
    );
    assert!(!listed.contains("+14155550011 is given"), "{listed}");
    let stored = customers_in(&db);
    for row in [
        "C11,Person 11,1,false,+14155550011;+14155560011\n",
        "D1,Dup 1,1,false,+14155550011;+14155560011\n",
        "D3,Dup 3,1,false,+14155550013;+14155560013\n",
    ] {
        assert!(stored.contains(row), "{row} in {stored}");
    }
    assert!(
        stdout(&run(&db, &["lookup", "+14155560012"])).contains("\"UNKNOWN\""),
        "a shared number names nobody"
    );

    // Over the limit the count is still every bad row, and so is the list; C2 sharing C1's
    // numbers is not among them.
    let (output, listed) = import_native_skip(
        &db,
        "customer_id,name,loyalty_points,is_vip,phone_numbers\n\
         C1,A,1,no,+14155550001;+14155550002\n\
         C2,B,1,no,+14155550001;+14155550002\n\
         C1,A,1,no,+14155550009\n\
         C3,C,1,no,+14155550003\n\
         C3,D,1,no,+14155550003\n",
        &["--on-invalid", "skip", "--max-invalid", "1"],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("2 of 5 row(s) are bad, more than --max-invalid 1"),
        "{}",
        stderr(&output)
    );
    assert_eq!(rejected_lines(&listed), [4, 6]);

    // Abort mode counts and lists them all too, not just the first screenful.
    let mut csv = String::from("customer_id,name,loyalty_points,is_vip,phone_numbers\n");
    for i in 0..200 {
        csv.push_str(&format!(
            "A{i},x,1,no,+1415557{i:04}\nA{i},y,1,no,+1415558{i:04}\n"
        ));
    }
    let (output, listed) = import_native_skip(&db, &csv, &[]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("import refused: 200 bad row(s)"),
        "{}",
        stderr(&output)
    );
    assert_eq!(rejected_lines(&listed).len(), 200);
}

async fn a_number_on_a_set_aside_row_is_not_shared_with_it(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let (output, listed) = import_native_skip(
        &db,
        "customer_id,name,loyalty_points,is_vip,phone_numbers\n\
         C3,Cy,1,no,+14155550152\n\
         C3,Cy,1,no,+14155550153\n\
         C4,Di,1,no,+14155550153\n\
         B1,Bo,1,no,+14155550160\n\
         B1,Bo,1,no,+14155550160\n",
        &["--on-invalid", "skip", "--max-invalid", "100%"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // Line 3 repeats C3 and is set aside; C4 on line 4 then has +14155550153 to itself, not
    // shared with the row set aside. The identical row 6 is a repeated customer.
    assert_eq!(rejected_lines(&listed), [3, 6], "{listed}");
    assert!(
        !listed.contains("claimed") && !listed.contains("is given to"),
        "{listed}"
    );
    assert!(
        stdout(&output).contains("imported 3 customer(s)"),
        "{}",
        stdout(&output)
    );
    assert!(run(&db, &["lookup", "+14155550153"]).status.success());
    assert!(stdout(&run(&db, &["lookup", "+14155550153"])).contains("\"C4\""));
    assert!(stdout(&run(&db, &["lookup", "+14155550152"])).contains("\"C3\""));
    assert!(stdout(&run(&db, &["lookup", "+14155550160"])).contains("\"B1\""));
}

async fn an_export_without_loyalty_or_vip_columns_keeps_what_the_store_has(backend: Backend) {
    let db = with_demo_customers(backend).await;
    let file = write_file(
        b"Customer ID,Full Name,Loyalty Points,Phone\n\
          CUST-001,Alice Smith-Jones,42,+15551234567\n\
          NEW-1,Newcomer,7,+15550000001\n",
        ".csv",
    );
    let path = file.path().to_str().unwrap();
    let output = run(
        &db,
        &[
            "import",
            path,
            "--map",
            "customer_id=Customer ID",
            "--map",
            "name=Full Name",
            "--map",
            "phone_numbers=Phone",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 new, 1 updated"),
        "{}",
        stdout(&output)
    );
    let notes = stderr(&output);
    assert!(
        notes.contains("column \"Loyalty Points\" looks like loyalty_points but is not read")
            && notes.contains("--map loyalty_points=\"Loyalty Points\""),
        "{notes}"
    );
    assert!(notes.contains("no is_vip column"), "{notes}");
    // Alice keeps her points and VIP status; only what the file gives changed.
    assert_eq!(
        stdout(&run(&db, &["lookup", "+15551234567"])).trim(),
        r#"{"customer_id":"CUST-001","name":"Alice Smith-Jones","loyalty_points":1500,"is_vip":true}"#
    );
    assert_eq!(
        stdout(&run(&db, &["lookup", "+15550000001"])).trim(),
        r#"{"customer_id":"NEW-1","name":"Newcomer","loyalty_points":0,"is_vip":false}"#
    );
    // Mapped, the column is read and written.
    let output = run(
        &db,
        &[
            "import",
            path,
            "--map",
            "customer_id=Customer ID",
            "--map",
            "name=Full Name",
            "--map",
            "loyalty_points=Loyalty Points",
            "--map",
            "phone_numbers=Phone",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("0 new, 2 updated"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        stdout(&run(&db, &["lookup", "+15551234567"])).trim(),
        r#"{"customer_id":"CUST-001","name":"Alice Smith-Jones","loyalty_points":42,"is_vip":true}"#
    );
}

async fn counts_include_customers_whose_numbers_alone_change(backend: Backend) {
    let db = with_demo_customers(backend).await;
    let file = write_file(
        b"customer_id,name,loyalty_points,is_vip,phone_numbers\n\
          CUST-001,Alice Smith,1500,true,+15551234567;+15551234568\n\
          CUST-002,Bob Jones,200,false,+15559876543\n",
        ".csv",
    );
    let output = run(&db, &["import", file.path().to_str().unwrap(), "--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("0 new, 1 updated, 1 unchanged"),
        "Alice gains a number: {}",
        stdout(&output)
    );
}

async fn json_lines_take_spreadsheet_spellings_of_every_field(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let file = write_file(
        b"{\"customer_id\":7,\"name\":\"Ann\",\"loyalty_points\":\"12\",\"is_vip\":\"yes\",\"phone_numbers\":[15550100101]}\n\
          {\"customer_id\":\"J8\",\"name\":\"Bo\",\"loyalty_points\":null,\"is_vip\":false,\"phone_numbers\":\"+1 555 010 0102;+1 555 010 0103\"}\n",
        ".jsonl",
    );
    let output = run(&db, &["import", file.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let errors = stderr(&output);
    assert!(
        errors.contains("line 2: loyalty_points is missing"),
        "{errors}"
    );
    assert!(!errors.contains("line 1"), "{errors}");
    let fixed = write_file(
        b"{\"customer_id\":7,\"name\":\"Ann\",\"loyalty_points\":\"12\",\"is_vip\":\"yes\",\"phone_numbers\":[15550100101]}\n\
          {\"customer_id\":\"J8\",\"name\":\"Bo\",\"loyalty_points\":3,\"is_vip\":false,\"phone_numbers\":\"+1 555 010 0102;+1 555 010 0103\"}\n",
        ".jsonl",
    );
    let output = run(&db, &["import", fixed.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&run(&db, &["lookup", "+15550100101"])).trim(),
        r#"{"customer_id":"7","name":"Ann","loyalty_points":12,"is_vip":true}"#
    );
    assert!(stdout(&run(&db, &["lookup", "+15550100103"])).contains("\"J8\""));
}

async fn an_empty_replace_and_a_bad_header_change_nothing(backend: Backend) {
    let db = with_demo_customers(backend).await;
    let before = customers_in(&db);
    let empty = write_file(
        b"customer_id,name,loyalty_points,is_vip,phone_numbers\n",
        ".csv",
    );
    let output = run(
        &db,
        &[
            "import",
            empty.path().to_str().unwrap(),
            "--mode",
            "replace",
        ],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output)
            .contains("holds no customers, and --mode replace would delete every customer"),
        "{}",
        stderr(&output)
    );
    assert_eq!(customers_in(&db), before);
    // A header that cannot be read leaves the last run's reject file as it was.
    let folder = tempfile::tempdir().unwrap();
    let rejects = folder.path().join("rejects.csv");
    std::fs::write(&rejects, "the previous run's rows\n").unwrap();
    let typo = write_file(
        b"customer_id,nom,loyalty_points,is_vip,phone_numbers\nC1,A,1,no,+15550000001\n",
        ".csv",
    );
    let output = run(
        &db,
        &[
            "import",
            typo.path().to_str().unwrap(),
            "--on-invalid",
            "skip",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        "the previous run's rows\n"
    );
}

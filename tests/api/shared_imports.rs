//! Files where many customers share a number, imported with one command through the real
//! binary: a CRM contact export whose Phone column is each contact's company switchboard, and a
//! household file where a family shares a landline. Lookups follow the shared-number policy,
//! each customer keeps every number, and an export re-imports to the same store.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use crate::cli::{run, stderr, stdout};
use crate::helpers::{Backend, TestApp, TestDatabase, UNKNOWN, json, start_server};
use crate::on_both_backends;

const ADMIN: &str = "admin-0123456789abcdef0123456789ab";

on_both_backends!(
    every_switchboard_names_nobody_and_every_own_mobile_names_its_contact,
    the_match_count_of_a_switchboard_is_its_number_of_contacts_and_first_names_the_smallest_id,
    every_household_landline_names_nobody_and_every_own_mobile_names_its_person,
    any_vip_routes_vip_households_without_naming_anyone_and_first_names_the_smallest_id,
    a_crm_export_with_switchboards_round_trips_through_export_and_replace,
    a_household_export_round_trips_through_export_and_replace,
);

/// The CRM export: `Contact ID,First Name,Last Name,Account Name,Phone,Mobile,Mailing Country,
/// Loyalty Points,VIP`, numbers national or international, CRLF line ends.
const CRM_FILE: &str = "crm_contacts_switchboards.csv";
const CRM_MAPPING: [&str; 12] = [
    "--map",
    "customer_id=Contact ID",
    "--map",
    "name=First Name+Last Name",
    "--map",
    "phone_numbers=Phone,Mobile",
    "--map",
    "region=Mailing Country",
    "--map",
    "loyalty_points=Loyalty Points",
    "--map",
    "is_vip=VIP",
];
/// The native layout: a household's landline first, then the person's own mobile, if any.
const HOUSEHOLD_FILE: &str = "households_landlines.csv";

/// A customer of a fixture as the test reads it, numbers in E.164.
struct Customer {
    id: String,
    name: String,
    loyalty_points: u64,
    is_vip: bool,
    /// The switchboard or the landline.
    shared: String,
    own: Option<String>,
}

impl Customer {
    fn answer(&self) -> serde_json::Value {
        serde_json::json!({"customer_id": self.id, "name": self.name, "loyalty_points": self.loyalty_points, "is_vip": self.is_vip})
    }

    fn numbers(&self) -> BTreeSet<String> {
        std::iter::once(self.shared.clone())
            .chain(self.own.clone())
            .collect()
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// E.164 of a number as the fixtures write it: international, or national in the row's country
/// (the United States when the country is empty).
fn e164(written: &str, country: &str) -> String {
    let digits: String = written.chars().filter(char::is_ascii_digit).collect();
    if written.trim_start().starts_with('+') {
        return format!("+{digits}");
    }
    let national = digits.trim_start_matches('0');
    match country.to_ascii_lowercase().as_str() {
        "united kingdom" | "gb" | "uk" => format!("+44{national}"),
        "germany" | "de" | "deu" => format!("+49{national}"),
        "united states" | "us" | "usa" | "" => format!("+1{digits}"),
        other => panic!("the fixture has a country the test does not know: {other}"),
    }
}

fn crm_contacts() -> Vec<Customer> {
    let mut reader = csv::Reader::from_path(fixture(CRM_FILE)).unwrap();
    reader
        .records()
        .map(|record| {
            let r = record.unwrap();
            Customer {
                id: r[0].to_owned(),
                name: format!("{} {}", &r[1], &r[2]),
                loyalty_points: r[7].parse().unwrap(),
                is_vip: &r[8] == "true",
                shared: e164(&r[4], &r[6]),
                own: (!r[5].is_empty()).then(|| e164(&r[5], &r[6])),
            }
        })
        .collect()
}

fn households() -> Vec<Customer> {
    let mut reader = csv::Reader::from_path(fixture(HOUSEHOLD_FILE)).unwrap();
    reader
        .records()
        .map(|record| {
            let r = record.unwrap();
            let mut numbers = r[4].split(';');
            Customer {
                id: r[0].to_owned(),
                name: r[1].to_owned(),
                loyalty_points: r[2].parse().unwrap(),
                is_vip: &r[3] == "true",
                shared: e164(numbers.next().unwrap(), ""),
                own: numbers.next().map(|n| e164(n, "")),
            }
        })
        .collect()
}

/// The customers on each shared number, in customer id order.
fn by_shared_number(customers: &[Customer]) -> BTreeMap<&str, Vec<&Customer>> {
    let mut groups: BTreeMap<&str, Vec<&Customer>> = BTreeMap::new();
    for customer in customers {
        groups.entry(&customer.shared).or_default().push(customer);
    }
    for group in groups.values_mut() {
        group.sort_by(|a, b| a.id.cmp(&b.id));
    }
    groups
}

/// Imports the fixture with one command; every row is good and every customer new.
fn import_fixture(db: &TestDatabase, name: &str, customers: &[Customer], more: &[&str]) {
    let path = fixture(name);
    let mut args = vec!["import", path.to_str().unwrap()];
    args.extend(more);
    let output = run(db, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let numbers: usize = customers.iter().map(|c| c.numbers().len()).sum();
    let n = customers.len();
    assert!(
        stdout(&output).contains(&format!(
            "imported {n} customer(s) from {}: {n} new, 0 updated, 0 unchanged, 0 deleted; {numbers} phone numbers",
            path.display()
        )),
        "{}",
        stdout(&output)
    );
}

fn import_crm(db: &TestDatabase, contacts: &[Customer]) {
    import_fixture(db, CRM_FILE, contacts, &CRM_MAPPING);
}

/// The status and body of a lookup from the service at `base`.
async fn lookup_at(base: &str, number: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/lookup"))
        .json(&serde_json::json!({ "phoneNumber": number }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Starts another service on `db` with these flags, for another policy.
async fn another_service(db: &TestDatabase, flags: &[&str]) -> String {
    format!("http://{}", start_server(&db.url, flags).await)
}

fn with_match(mut answer: serde_json::Value, outcome: &str, count: usize) -> serde_json::Value {
    answer["match"] = outcome.into();
    answer["match_count"] = count.into();
    answer
}

async fn every_switchboard_names_nobody_and_every_own_mobile_names_its_contact(backend: Backend) {
    let contacts = crm_contacts();
    let switchboards = by_shared_number(&contacts);
    assert_eq!(
        (contacts.len(), switchboards.len()),
        (60, 3),
        "the fixture: 60 contacts of 3 companies"
    );
    let db = TestDatabase::new(backend).await;
    import_crm(&db, &contacts);
    let app = TestApp::spawn_on(db, &["--admin-key", ADMIN]).await;
    for (switchboard, on_it) in &switchboards {
        for written in [switchboard.to_string(), format!("tel:{switchboard}")] {
            assert_eq!(
                lookup_at(&app.base, &written).await,
                (200, UNKNOWN.to_owned()),
                "{written}: {} contacts, nobody named",
                on_it.len()
            );
        }
        // The admin API's search names them all and picks none.
        let response = app
            .client
            .get(format!(
                "{}/api/v1/customers?phone={}",
                app.base,
                switchboard.replace('+', "%2B")
            ))
            .header("X-API-Key", ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "shared_number");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("{} customers share", on_it.len())),
            "{message}"
        );
    }
    let mut mobiles = 0;
    for contact in &contacts {
        if let Some(mobile) = &contact.own {
            mobiles += 1;
            let (status, body) = lookup_at(&app.base, mobile).await;
            assert_eq!((status, json(&body)), (200, contact.answer()), "{mobile}");
        }
        // Each contact keeps the switchboard beside its own mobile.
        let stored: serde_json::Value = app
            .client
            .get(format!("{}/api/v1/customers/{}", app.base, contact.id))
            .header("X-API-Key", ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let numbers: BTreeSet<String> = stored["phone_numbers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(numbers, contact.numbers(), "{}", contact.id);
    }
    assert!(mobiles > 20, "the fixture has own mobiles: {mobiles}");
}

async fn the_match_count_of_a_switchboard_is_its_number_of_contacts_and_first_names_the_smallest_id(
    backend: Backend,
) {
    let contacts = crm_contacts();
    let db = TestDatabase::new(backend).await;
    import_crm(&db, &contacts);
    let app = TestApp::spawn_on(db, &["--answer-fields", "match,match_count"]).await;
    let first = another_service(
        &app.db,
        &[
            "--on-shared-number",
            "first",
            "--answer-fields",
            "match,match_count",
        ],
    )
    .await;
    for (switchboard, on_it) in by_shared_number(&contacts) {
        let (status, body) = lookup_at(&app.base, switchboard).await;
        assert_eq!(status, 200);
        assert_eq!(
            json(&body),
            with_match(json(UNKNOWN), "shared", on_it.len()),
            "{switchboard}"
        );
        let (status, body) = lookup_at(&first, switchboard).await;
        assert_eq!(status, 200);
        assert_eq!(
            json(&body),
            with_match(on_it[0].answer(), "shared", on_it.len()),
            "{switchboard}: the smallest customer_id"
        );
    }
    for contact in &contacts {
        if let Some(mobile) = &contact.own {
            let (_, body) = lookup_at(&app.base, mobile).await;
            assert_eq!(
                json(&body),
                with_match(contact.answer(), "unique", 1),
                "{mobile}"
            );
        }
    }
}

async fn every_household_landline_names_nobody_and_every_own_mobile_names_its_person(
    backend: Backend,
) {
    let people = households();
    let landlines = by_shared_number(&people);
    assert_eq!(landlines.len(), 10, "the fixture: ten households");
    assert!(landlines.values().all(|h| (2..=4).contains(&h.len())));
    let db = TestDatabase::new(backend).await;
    import_fixture(&db, HOUSEHOLD_FILE, &people, &[]);
    let app = TestApp::spawn_on(db, &[]).await;
    for landline in landlines.keys() {
        assert_eq!(
            lookup_at(&app.base, landline).await,
            (200, UNKNOWN.to_owned()),
            "{landline}"
        );
    }
    for person in &people {
        if let Some(mobile) = &person.own {
            let (status, body) = lookup_at(&app.base, mobile).await;
            assert_eq!((status, json(&body)), (200, person.answer()), "{mobile}");
        }
    }
}

async fn any_vip_routes_vip_households_without_naming_anyone_and_first_names_the_smallest_id(
    backend: Backend,
) {
    let people = households();
    let db = TestDatabase::new(backend).await;
    import_fixture(&db, HOUSEHOLD_FILE, &people, &[]);
    let app = TestApp::spawn_on(db, &["--on-shared-number", "any-vip"]).await;
    let first = another_service(&app.db, &["--on-shared-number", "first"]).await;
    let vip_unknown = UNKNOWN.replace("\"is_vip\":false", "\"is_vip\":true");
    let mut vip_households = 0;
    for (landline, household) in by_shared_number(&people) {
        let any_vip = household.iter().any(|p| p.is_vip);
        vip_households += usize::from(any_vip);
        let want = if any_vip { &vip_unknown } else { UNKNOWN };
        assert_eq!(
            lookup_at(&app.base, landline).await,
            (200, want.to_owned()),
            "{landline}"
        );
        let (status, body) = lookup_at(&first, landline).await;
        assert_eq!(
            (status, json(&body)),
            (200, household[0].answer()),
            "{landline}"
        );
    }
    assert!(
        (1..10).contains(&vip_households),
        "the fixture has households with and without a VIP"
    );
    // A VIP's own mobile answers the VIP, named, under any policy.
    for person in people.iter().filter(|p| p.is_vip) {
        if let Some(mobile) = &person.own {
            let (_, body) = lookup_at(&app.base, mobile).await;
            assert_eq!(json(&body), person.answer(), "{mobile}");
        }
    }
}

/// Exports `db`, checks the export holds exactly `customers` with their numbers, and re-imports
/// it with `--mode replace` into a database holding one stale customer on a shared number: the
/// second export is the same bytes.
async fn round_trips(backend: Backend, db: &TestDatabase, customers: &[Customer]) {
    let export = run(db, &["export", "-"]);
    assert!(export.status.success(), "{}", stderr(&export));
    let exported = stdout(&export);
    let mut reader = csv::Reader::from_reader(exported.as_bytes());
    let rows: BTreeMap<String, (String, BTreeSet<String>)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let numbers = r[4].split(';').map(str::to_owned).collect();
            (r[0].to_owned(), (r[1].to_owned(), numbers))
        })
        .collect();
    let want: BTreeMap<String, (String, BTreeSet<String>)> = customers
        .iter()
        .map(|c| (c.id.clone(), (c.name.clone(), c.numbers())))
        .collect();
    assert_eq!(rows, want, "every customer with all its numbers");

    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(exported.as_bytes()).unwrap();
    let path = file.path().to_str().unwrap();
    let fresh = TestDatabase::new(backend).await;
    let stale = customers[0].shared.clone();
    let mut seed = tempfile::NamedTempFile::new().unwrap();
    write!(
        seed,
        "customer_id,name,loyalty_points,is_vip,phone_numbers\nSTALE-1,Left Long Ago,0,false,{stale}\n"
    )
    .unwrap();
    assert!(
        run(&fresh, &["import", seed.path().to_str().unwrap()])
            .status
            .success()
    );
    let output = run(&fresh, &["import", path, "--mode", "replace"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let n = customers.len();
    assert!(
        stdout(&output).contains(&format!("{n} new, 0 updated, 0 unchanged, 1 deleted")),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        stdout(&run(&fresh, &["export", "-"])),
        exported,
        "export → import --mode replace → export must be identical"
    );
    // The export imported again over its own store changes nothing.
    let again = run(db, &["import", path, "--mode", "replace"]);
    assert!(
        stdout(&again).contains(&format!("0 new, 0 updated, {n} unchanged, 0 deleted")),
        "{}",
        stdout(&again)
    );
}

async fn a_crm_export_with_switchboards_round_trips_through_export_and_replace(backend: Backend) {
    let contacts = crm_contacts();
    let db = TestDatabase::new(backend).await;
    import_crm(&db, &contacts);
    round_trips(backend, &db, &contacts).await;
}

async fn a_household_export_round_trips_through_export_and_replace(backend: Backend) {
    let people = households();
    let db = TestDatabase::new(backend).await;
    import_fixture(&db, HOUSEHOLD_FILE, &people, &[]);
    round_trips(backend, &db, &people).await;
}

//! The normaliser against libphonenumber itself: every vector in `tests/vectors/recognition.jsonl`
//! (generated from Google's libphonenumber Python port by `scripts/gen-phone-vectors.py`; see
//! tests/vectors/README.md) must get libphonenumber's answer, or, on the few written departures
//! (`normalise`'s module notes), the answer the vector states for it.
//!
//! An answer is an E.164 number or a refusal. Two refusals agree whatever their reasons: a
//! refused caller ID is an unknown caller either way.

use std::collections::{BTreeMap, HashMap};

use customer_lookup::domain::CustomerRecord;
use customer_lookup::domain::record::JsonTypes;
use customer_lookup::normalise::{PhoneNormaliser, Region};
use serde_json::{Map, Value, json};

const VECTORS: &str = include_str!("vectors/recognition.jsonl");

struct Vector {
    line: usize,
    region: String,
    kind: String,
    input: String,
    libphonenumber: String,
    departure: Option<String>,
    expect: Option<String>,
}

impl Vector {
    /// What the service must answer: an E.164 number, or `None` for a refusal.
    fn wanted(&self) -> Option<&str> {
        let wanted = self.expect.as_deref().unwrap_or(&self.libphonenumber);
        (!wanted.starts_with('!')).then_some(wanted)
    }
}

fn vectors() -> Vec<Vector> {
    let text = |object: &Map<String, Value>, key: &str| -> Option<String> {
        object.get(key).and_then(Value::as_str).map(str::to_owned)
    };
    VECTORS
        .split('\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(index, line)| {
            let object: Map<String, Value> = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("recognition.jsonl:{}: {e}", index + 1));
            let field = |key: &str| {
                text(&object, key)
                    .unwrap_or_else(|| panic!("recognition.jsonl:{}: no {key}", index + 1))
            };
            Vector {
                line: index + 1,
                region: field("region"),
                kind: field("kind"),
                input: field("input"),
                libphonenumber: field("libphonenumber"),
                departure: text(&object, "departure"),
                expect: text(&object, "expect"),
            }
        })
        .collect()
}

fn normalisers(vectors: &[Vector]) -> HashMap<String, PhoneNormaliser> {
    vectors
        .iter()
        .map(|v| {
            let region: Region = v.region.parse().expect("vector region");
            (v.region.clone(), PhoneNormaliser::new(region))
        })
        .collect()
}

#[test]
fn every_vector_gets_libphonenumbers_answer_or_its_written_departure() {
    let vectors = vectors();
    assert!(
        vectors.len() >= 45_000,
        "only {} vectors: regenerate the corpus",
        vectors.len()
    );
    let normalisers = normalisers(&vectors);
    // kind -> (agreed, total)
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for v in &vectors {
        let got = normalisers[&v.region].normalise(&v.input);
        let got_text = got.as_ref().map(|e| e.to_string());
        let agreed = match (v.wanted(), &got_text) {
            (Some(wanted), Ok(got)) => wanted == got,
            (None, Err(_)) => true,
            _ => false,
        };
        let tally = by_kind.entry(&v.kind).or_default();
        tally.1 += 1;
        if agreed {
            tally.0 += 1;
        } else {
            failures.push(format!(
                "line {} [{} {}{}] {:?}: want {}, got {:?}",
                v.line,
                v.region,
                v.kind,
                v.departure
                    .as_deref()
                    .map(|d| format!(", departure {d}"))
                    .unwrap_or_default(),
                v.input,
                v.expect.as_deref().unwrap_or(&v.libphonenumber),
                got.map_err(|why| why.code()),
            ));
        }
    }
    let table: Vec<String> = by_kind
        .iter()
        .map(|(kind, (agreed, total))| format!("  {kind:<26} {agreed:>6} / {total:<6}"))
        .collect();
    println!("agreement by kind:\n{}", table.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree with libphonenumber; the first:\n{}",
        failures.len(),
        vectors.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every number libphonenumber calls possible can be imported: a customer holding it is
/// accepted by the same validation the import and the admin API use, and stored under the number
/// a lookup of it reaches. (That is itself, except where libphonenumber's own parse is not
/// idempotent: `+59800012552` parses to `+5980012552`, a national prefix after the code.)
#[test]
fn every_possible_number_is_accepted_by_import_validation() {
    let vectors = vectors();
    let normalisers = normalisers(&vectors);
    let mut checked = 0;
    let mut failures = Vec::new();
    for v in vectors
        .iter()
        .filter(|v| !v.libphonenumber.starts_with('!'))
    {
        let object = json!({
            "name": "Corpus Customer",
            "loyalty_points": 0,
            "is_vip": false,
            "phone_numbers": [v.libphonenumber],
        });
        let Value::Object(object) = object else {
            unreachable!("json! of an object literal")
        };
        let normaliser = &normalisers[&v.region];
        match CustomerRecord::from_json("C-1", &object, JsonTypes::Strict, |raw| {
            normaliser.normalise(raw)
        }) {
            Ok(record) if record.phone_numbers.len() == 1 => {
                let stored = &record.phone_numbers[0];
                let looked_up = normalisers[&v.region].normalise(&v.libphonenumber);
                if looked_up.as_ref() != Ok(stored) {
                    failures.push(format!(
                        "{}: stored as {stored}, looked up as {looked_up:?}",
                        v.libphonenumber
                    ));
                }
            }
            Ok(record) => {
                failures.push(format!("{}: {:?}", v.libphonenumber, record.phone_numbers))
            }
            Err(reasons) => failures.push(format!("{}: {reasons:?}", v.libphonenumber)),
        }
        checked += 1;
    }
    assert!(checked >= 40_000, "only {checked} possible numbers");
    assert!(
        failures.is_empty(),
        "{} of {checked} possible numbers refused; the first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

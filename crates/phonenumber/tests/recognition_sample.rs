//! The parser against libphonenumber itself, on a sample of the workspace's recognition vectors
//! (`tests/vectors/recognition.jsonl` at the workspace root, generated from libphonenumber's
//! Python port; its README describes the fields).
//!
//! Every vector's `libphonenumber` field is what `parse(input, region)` followed by
//! `isPossibleNumberWithReason` answers for the raw `input`: the E.164 number when possible,
//! else `!` and the reason. This test gives the same raw input to this crate's `parse` and
//! `possible_with` and wants the same answer, reason included. The service's own departures
//! (SIP URIs, withheld words, tel: routing parameters: the vectors' `departure` and `expect`)
//! happen before the parser and are not the crate's; the service's test of them is
//! `tests/recognition.rs`.
//!
//! Sampled: every `SAMPLE_EVERY`th line (lines 1, 1 + SAMPLE_EVERY, …), all regions and kinds.

use std::collections::BTreeMap;

use phonenumber::metadata::DATABASE;
use phonenumber::{country, ParseError, Validation};
use serde_json::{Map, Value};

const VECTORS: &str = include_str!("../../../tests/vectors/recognition.jsonl");

/// 78,799 vectors / 25: about 3,150 checked, in well under a second.
const SAMPLE_EVERY: usize = 25;

/// The crate's answer in the vectors' notation.
fn answer(region: country::Id, input: &str) -> String {
    let number = match phonenumber::parse(Some(region), input) {
        Ok(number) => number,
        Err(error) => {
            return match error {
                ParseError::NoNumber | ParseError::MalformedInteger(_) => "!NOT_A_NUMBER",
                ParseError::InvalidCountryCode => "!INVALID_COUNTRY_CODE",
                ParseError::TooShortAfterIdd => "!TOO_SHORT_AFTER_IDD",
                ParseError::TooShortNsn => "!TOO_SHORT_NSN",
                ParseError::TooLong => "!TOO_LONG",
            }
            .to_owned();
        }
    };
    match phonenumber::possible_with(&DATABASE, &number) {
        Validation::IsPossible => format!("+{}{}", number.code().value(), number.national()),
        Validation::IsPossibleLocalOnly => "!IS_POSSIBLE_LOCAL_ONLY".to_owned(),
        Validation::TooShort => "!TOO_SHORT".to_owned(),
        Validation::InvalidLength => "!INVALID_LENGTH".to_owned(),
        Validation::InvalidCountryCode => "!INVALID_COUNTRY_CODE".to_owned(),
        Validation::TooLong => "!TOO_LONG".to_owned(),
    }
}

#[test]
fn a_sample_of_the_recognition_vectors_gets_libphonenumbers_answer() {
    let mut checked = 0;
    // kind -> (agreed, total)
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let lines = VECTORS.split('\n').enumerate();
    for (index, line) in lines.step_by(SAMPLE_EVERY).filter(|(_, l)| !l.is_empty()) {
        let vector: Map<String, Value> = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("recognition.jsonl:{}: {e}", index + 1));
        let field = |key: &str| {
            vector
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("recognition.jsonl:{}: no {key}", index + 1))
        };
        let region: country::Id = field("region").parse().expect("vector region");
        let (input, want) = (field("input"), field("libphonenumber"));
        let got = answer(region, input);
        let tally = by_kind.entry(field("kind").to_owned()).or_default();
        tally.1 += 1;
        if got == want {
            tally.0 += 1;
        } else {
            failures.push(format!(
                "line {} [{} {}] {input:?}: want {want}, got {got}",
                index + 1,
                field("region"),
                field("kind"),
            ));
        }
        checked += 1;
    }
    let table: Vec<String> = by_kind
        .iter()
        .map(|(kind, (agreed, total))| format!("  {kind:<26} {agreed:>5} / {total:<5}"))
        .collect();
    println!("agreement by kind:\n{}", table.join("\n"));
    assert!(checked >= 3_000, "only {checked} vectors sampled");
    assert!(
        failures.is_empty(),
        "{} of {checked} sampled vectors disagree with libphonenumber; the first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

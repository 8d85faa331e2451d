//! Caller ID → E.164 on arbitrary input.
//!
//! Checks, for the default region US and for a second region picked by the first byte:
//! - no panic (libfuzzer-sys aborts on any panic, including one that the normaliser's own
//!   `catch_unwind` around the number parser would have caught in production);
//! - every accepted caller ID comes out in the canonical form `E164::parse` accepts;
//! - normalising an output is accepted again, and repeating it reaches a fixed point (not
//!   necessarily in one step: libphonenumber itself maps +59800012552 to +5980012552, and
//!   with DE +49001001 -> +4901001 -> +491001, one national prefix 0 per step);
//! - the remembering variant answers as the plain one;
//! - the `+digits` fast path answers as the full parse (reached by writing the same digits with
//!   a space, which the fast path never takes).
#![no_main]

use std::sync::OnceLock;

use customer_lookup::domain::E164;
use customer_lookup::normalise::{ParsedCallerIds, PhoneNormaliser, Region};
use libfuzzer_sys::fuzz_target;

/// Steps allowed to reach a fixed point: each step so far strips a prefix, and an E.164 number
/// has at most 20 digits.
const MAX_STEPS: usize = 24;

const SECOND_REGIONS: [&str; 6] = ["US", "GB", "DE", "IN", "BR", "AU"];

/// One normaliser per region, built once, with its own remembered parses (what a caller ID
/// parses to depends on the default region). Index 0 is US.
struct Normaliser {
    region: &'static str,
    normaliser: PhoneNormaliser,
    remembered: ParsedCallerIds,
}

fn normalisers() -> &'static [Normaliser] {
    static NORMALISERS: OnceLock<Vec<Normaliser>> = OnceLock::new();
    NORMALISERS.get_or_init(|| {
        SECOND_REGIONS
            .iter()
            .map(|region| Normaliser {
                region,
                normaliser: PhoneNormaliser::new(region.parse::<Region>().unwrap()),
                remembered: ParsedCallerIds::new(4096),
            })
            .collect()
    })
}

fn check(n: &Normaliser, input: &str) {
    let (region, normaliser) = (n.region, &n.normaliser);
    let first = normaliser.normalise(input);
    assert_eq!(
        normaliser.normalise_remembering(input, &n.remembered),
        first,
        "{region}: normalise_remembering differs from normalise for {input:?}"
    );
    let Ok(first) = first else { return };
    assert_canonical(region, input, &first);

    // Normalising an output is accepted again and, repeated, settles. Not necessarily after
    // one step: libphonenumber strips one national prefix per parse, even after +CC, so with DE
    // `0001001` -> +49001001 -> +4901001 -> +491001 -> +491001 (libphonenumber agrees).
    let mut chain = vec![first];
    loop {
        let last = chain.last().unwrap();
        let next = normaliser.normalise(last.as_str()).unwrap_or_else(|why| {
            panic!("{region}: {input:?} -> {chain:?}, but {last} is refused: {why:?}")
        });
        assert_canonical(region, last.as_str(), &next);
        if next == *last {
            break;
        }
        chain.push(next);
        assert!(
            chain.len() <= MAX_STEPS,
            "{region}: no fixed point after {MAX_STEPS} steps: {input:?} -> {chain:?}"
        );
    }
}

fn assert_canonical(region: &str, input: &str, output: &E164) {
    if let Err(why) = E164::parse(output.as_str()) {
        panic!("{region}: {input:?} -> {output:?}, which E164::parse refuses: {why}");
    }
}

/// `+digits` may take the fast path; `+d digits` (same digits, one space) never does.
fn check_fast_path(n: &Normaliser, digits: &str) {
    let (region, normaliser) = (n.region, &n.normaliser);
    if digits.len() < 2 {
        return;
    }
    let compact = format!("+{digits}");
    let spaced = format!("+{} {}", &digits[..1], &digits[1..]);
    assert_eq!(
        normaliser.normalise(&compact),
        normaliser.normalise(&spaced),
        "{region}: {compact:?} and {spaced:?} are normalised differently"
    );
}

fuzz_target!(|data: &[u8]| {
    let all = normalisers();
    let us = &all[0];
    let second = &all[data.first().map_or(0, |b| usize::from(*b) % all.len())];
    let input = String::from_utf8_lossy(data);

    check(us, &input);
    if second.region != us.region {
        check(second, &input);
    }

    // The same bytes as a string of digits, so the fast path's lengths and codes are reached
    // without the fuzzer having to find the `+` first.
    let digits: String = data
        .iter()
        .skip(1)
        .take(20)
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    check_fast_path(us, &digits);
    check_fast_path(second, &digits);
});

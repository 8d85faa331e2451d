//! Properties of the normaliser over inputs nobody wrote down: arbitrary Unicode, and strings
//! assembled from the pieces caller IDs are made of.
//!
//! Work is measured as heap bytes allocated by one normalisation (counted by this binary's
//! allocator, per thread), not as time: it is deterministic on a shared machine, and a parse
//! whose cost grew with some input would show in what it allocates.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

use customer_lookup::domain::CustomerRecord;
use customer_lookup::domain::record::JsonTypes;
use customer_lookup::domain::{E164, MAX_DIGITS as E164_DIGITS_MAX};
use customer_lookup::normalise::{PhoneNormaliser, Region};
use proptest::prelude::*;
use serde_json::{Value, json};

struct CountingAllocator;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + layout.size()));
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + new_size));
        // SAFETY: as for alloc and dealloc.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A parse allocates under 2 KB; eight times that leaves room, and a cost that grew with the
/// input (up to its 250 characters) would not fit.
const WORK_BOUND_BYTES: usize = 16 * 1024;

fn normaliser() -> &'static PhoneNormaliser {
    static NORMALISER: OnceLock<PhoneNormaliser> = OnceLock::new();
    NORMALISER.get_or_init(|| {
        let normaliser = PhoneNormaliser::new("US".parse::<Region>().expect("US"));
        normaliser.warm_up();
        normaliser
    })
}

/// Normalises `input` twice (the first call may compile a region's patterns or grow the regex
/// engine's caches, as a start-up warm-up would have) and returns the answer with the bytes the
/// second call allocated.
fn normalise_counting(input: &str) -> (Result<E164, String>, usize) {
    let normaliser = normaliser();
    let _ = normaliser.normalise(input);
    let before = ALLOCATED.with(Cell::get);
    let answer = normaliser.normalise(input).map_err(|why| why.to_string());
    let after = ALLOCATED.with(Cell::get);
    (answer, after - before)
}

fn check(input: &str) -> Result<(), TestCaseError> {
    let (answer, work) = normalise_counting(input);
    prop_assert!(work <= WORK_BOUND_BYTES, "{input:?} allocated {work} bytes");
    let Ok(e164) = answer else {
        return Ok(());
    };
    prop_assert!(E164::parse(e164.as_str()).is_ok(), "{input:?} -> {e164}");

    // Fed back in, an answer gives itself, or, where libphonenumber's own parse is not
    // idempotent (a national prefix after the code: +49001001 -> +4901001 -> +491001), a
    // shorter number that is accepted too; the chain ends, one digit at most per step.
    let mut current = e164.clone();
    for _ in 0..=E164_DIGITS_MAX {
        let next = normaliser().normalise(current.as_str());
        prop_assert!(next.is_ok(), "{input:?} -> … {current} -> {next:?}");
        let Ok(next) = next else { break };
        if next == current {
            break;
        }
        prop_assert!(
            next.as_str().len() < current.as_str().len(),
            "{input:?} -> … {current} -> {next}: not shorter"
        );
        current = next;
    }

    // Whatever a lookup can be answered for, an import can hold.
    let Value::Object(customer) = json!({
        "name": "Property Customer",
        "loyalty_points": 1,
        "is_vip": false,
        "phone_numbers": [e164.as_str()],
    }) else {
        unreachable!("an object literal")
    };
    let record = CustomerRecord::from_json("P-1", &customer, JsonTypes::Strict, |raw| {
        normaliser().normalise(raw)
    });
    prop_assert!(record.is_ok(), "{input:?} -> {e164}: {record:?}");
    Ok(())
}

/// The pieces caller IDs are made of, including the awkward ones.
fn phone_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[0-9]{1,4}",
        2 => Just("+".to_owned()),
        2 => prop::sample::select(vec![
            " ", "-", ".", "/", "(", ")", "\u{00A0}", "\u{2013}", "[", "]", "~", "\t", "*",
        ])
        .prop_map(str::to_owned),
        1 => prop::sample::select(vec![
            "tel:", "sip:", "sips:", "@example.com", ";ext=", " ext. ", " x", "#", ",,", ";",
            ";phone-context=+44", ";phone-context=example.com", ";isub=1", ";user=phone", "<",
            ">", "\"", "%2B", "00", "011", "0", "(0)", "anonymous", "ABC", "доб", "anexo",
        ])
        .prop_map(str::to_owned),
        1 => "[\u{FF10}-\u{FF19}\u{0660}-\u{0669}\u{06F0}-\u{06F9}\u{0966}-\u{096F}]{1,4}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn phone_like_input_gives_a_stable_importable_answer_within_bounded_work(input in phone_like()) {
        check(&input)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode_gives_a_stable_importable_answer_within_bounded_work(input in "\\PC{0,300}") {
        check(&input)?;
    }

    #[test]
    fn long_input_is_refused_without_parsing_it(prefix in "[0-9+ ]{251,2000}") {
        let (answer, work) = normalise_counting(&prefix);
        prop_assert!(answer.is_err(), "{} characters accepted", prefix.len());
        prop_assert!(work <= 1024, "refusing {} characters allocated {work} bytes", prefix.len());
    }
}

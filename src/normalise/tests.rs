//! Caller IDs as phone networks, PBXs, CRMs and people write them, and what libphonenumber's
//! documented rules make of them.

use super::{NotAPhoneNumber as Not, ParsedCallerIds, PhoneNormaliser, Region};

fn normaliser(region: &str) -> PhoneNormaliser {
    PhoneNormaliser::new(region.parse::<Region>().expect("known region"))
}

/// (default region, input, E.164 it must become)
const NUMBERS: &[(&str, &str, &str)] = &[
    // Genesys' Call.Ani and other tel: URIs (RFC 3966)
    ("US", "tel:+15551234567", "+15551234567"),
    ("US", "TEL:+1-555-123-4567;ext=9", "+15551234567"),
    ("US", "tel:+1.555.123.4567;isub=12", "+15551234567"),
    ("US", "tel:555-123-4567;phone-context=+1", "+15551234567"),
    ("US", "tel:123-4567;phone-context=+1-555", "+15551234567"),
    ("US", "tel:03-331-6005;phone-context=+64", "+6433316005"),
    // SIP and SIPS URIs, bare and as name-addr with display name
    (
        "US",
        "sip:+15551234567@sip.example.com;user=phone",
        "+15551234567",
    ),
    ("US", "sips:+15551234567@example.com", "+15551234567"),
    ("US", "sip:5551234567@pbx.local", "+15551234567"),
    ("US", "sip:%2B15551234567@example.com", "+15551234567"),
    (
        "US",
        "\"Alice Smith\" <sip:+15551234567@example.com>;tag=a6c85cf",
        "+15551234567",
    ),
    ("US", "+15551234567@10.0.0.1", "+15551234567"),
    // E.164 and national formats with every kind of punctuation
    ("US", "+15551234567", "+15551234567"),
    ("US", "+1 (555) 123-4567", "+15551234567"),
    ("US", "(555) 123-4567", "+15551234567"),
    ("US", "555-123-4567", "+15551234567"),
    ("US", "555.123.4567", "+15551234567"),
    ("US", "555/123/4567", "+15551234567"),
    ("US", "5551234567", "+15551234567"),
    ("US", "15551234567", "+15551234567"),
    ("US", "1 (555) 123-4567", "+15551234567"),
    ("US", "+(1) 555 123 4567", "+15551234567"),
    ("US", "\"+15551234567\"", "+15551234567"),
    // The default region's international prefix
    ("US", "011 44 20 7946 0958", "+442079460958"),
    ("US", "011 33 1 23 45 67 89", "+33123456789"),
    ("GB", "00 1 555 123 4567", "+15551234567"),
    // Separators anywhere, even straight after the country code
    ("US", "+1555-123-4567", "+15551234567"),
    ("US", "+4420-7946-0958", "+442079460958"),
    ("US", "tel:+4420.7946.0958", "+442079460958"),
    ("US", "+442079-46-0958", "+442079460958"),
    // A national prefix after the country code goes only when the rest is still possible
    ("US", "+7 800 123-45-67", "+78001234567"),
    ("US", "+37080012345", "+37080012345"),
    ("US", "+358 00 1234", "+35801234"),
    // The default region's country code without '+': kept when the digits are already a
    // possible national number
    ("DE", "49(164)12345", "+494916412345"),
    ("DE", "4930123456", "+4930123456"),
    // Extensions are not part of the line that is calling
    ("US", "555-123-4567 ext. 89", "+15551234567"),
    ("US", "555-123-4567 x89", "+15551234567"),
    ("US", "+1 555 123 4567#89", "+15551234567"),
    ("US", "+1-555-123-4567;ext=9", "+15551234567"),
    ("US", "+15551234567;ext=1", "+15551234567"),
    ("US", "+1 555 123 4567,,89", "+15551234567"),
    ("US", "555-123-4567 extension 89", "+15551234567"),
    // White space and digits that are not ASCII
    ("US", "  +1 555\u{00A0}123\u{2013}4567\r\n", "+15551234567"),
    ("US", "\u{FEFF}+1\u{200B}555 123 4567", "+15551234567"),
    ("US", "＋１ （５５５） １２３－４５６７", "+15551234567"),
    ("US", "٥٥٥١٢٣٤٥٦٧", "+15551234567"),
    ("US", "+۱ ۵۵۵ ۱۲۳ ۴۵۶۷", "+15551234567"),
    ("US", "५५५१२३४५६७", "+15551234567"),
    // Other countries, including ones whose numbers trip a naive parser
    ("US", "+44 20 7946 0958", "+442079460958"),
    ("US", "+44 (0)20 7946 0958", "+442079460958"),
    ("US", "+33 1 23 45 67 89", "+33123456789"),
    ("US", "+86 138 0013 8000", "+8613800138000"),
    ("US", "+39 06 1234 5678", "+390612345678"),
    ("US", "+49 30 123456", "+4930123456"),
    ("US", "+64 3 331 6005", "+6433316005"),
    ("US", "+800 1234 5678", "+80012345678"),
    ("US", "+1 201-555-0123", "+12015550123"),
    ("GB", "020 7946 0958", "+442079460958"),
    ("GB", "07911 123456", "+447911123456"),
    ("DE", "030 123456", "+4930123456"),
    ("de", "+1 555 123 4567", "+15551234567"),
    // Vanity numbers: libphonenumber maps letters to keypad digits
    ("US", "1-800-FLOWERS", "+18003569377"),
];

/// (default region, input, why it is not a phone number)
const NOT_NUMBERS: &[(&str, &str, Not)] = &[
    ("US", "anonymous", Not::Withheld),
    ("US", "Anonymous", Not::Withheld),
    ("US", "tel:anonymous", Not::Withheld),
    ("US", "sip:anonymous@anonymous.invalid", Not::Withheld),
    ("US", "Restricted", Not::Withheld),
    ("US", "PRIVATE", Not::Withheld),
    ("US", "Unavailable", Not::Withheld),
    ("US", "", Not::NoDigits),
    ("US", "hello", Not::NoDigits),
    ("US", "+", Not::NoDigits),
    ("US", "123", Not::TooShort),
    ("US", "911", Not::TooShort),
    ("US", "555-1234", Not::TooShort),
    ("US", "+1 555 123 456", Not::TooShort),
    ("US", "+33 1 23 45 67", Not::TooShort),
    ("US", "+1555123456789012", Not::TooLong),
    ("US", "+33 1 23 45 67 89 0", Not::TooLong),
    ("US", "+7 495 123 45 67 89", Not::InvalidLength),
    ("US", "+999 123 456 789", Not::InvalidCountryCode),
    // libphonenumber reads another region's international prefix as national digits, and a
    // tab as no phone-number character: a different customer must never be guessed instead.
    ("US", "0044 20 7946 0958", Not::TooLong),
    ("US", "001 555 123 4567", Not::TooLong),
    ("GB", "011 1 555 123 4567", Not::TooLong),
    ("US", "+1\t555 123 4567", Not::Unparseable),
    // A number libphonenumber refuses is never turned into another one.
    ("US", "tel:+032-78-10-23-45", Not::InvalidCountryCode),
];

#[test]
fn caller_ids_become_e164() {
    let mut failures = Vec::new();
    for &(region, input, expected) in NUMBERS {
        match normaliser(region).normalise(input) {
            Ok(e164) if e164.as_str() == expected => {}
            other => failures.push(format!(
                "{region} {input:?}: want {expected}, got {other:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn caller_ids_that_are_no_phone_number_say_why() {
    let mut failures = Vec::new();
    for &(region, input, expected) in NOT_NUMBERS {
        match normaliser(region).normalise(input) {
            Err(why) if why == expected => {}
            other => failures.push(format!(
                "{region} {input:?}: want {expected:?}, got {other:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn table_is_large_enough_to_mean_something() {
    assert!(NUMBERS.len() + NOT_NUMBERS.len() >= 40);
}

#[test]
fn overlong_input_is_refused_before_parsing() {
    let input = "5".repeat(257);
    assert_eq!(normaliser("US").normalise(&input), Err(Not::InputTooLong));
}

#[test]
fn unknown_regions_are_refused_with_a_hint() {
    let err = "XX".parse::<Region>().unwrap_err();
    assert!(err.contains("ISO 3166-1"), "{err}");
    assert!("".parse::<Region>().is_err());
    assert_eq!("gb".parse::<Region>().unwrap().code(), "GB");
}

#[test]
fn warm_up_parses_a_sample_of_every_region() {
    let parsed = normaliser("US").warm_up();
    assert!(parsed > 200, "only {parsed} sample numbers parsed");
}

/// Arbitrary junk, including every kind of character mix, never panics and never yields
/// something that is not E.164.
#[test]
fn junk_never_panics_and_never_yields_malformed_e164() {
    let pieces = [
        "+",
        "0",
        "1",
        "9",
        "00",
        "011",
        "tel:",
        "sip:",
        "@",
        ";",
        "=",
        "ext",
        "x",
        "#",
        "*",
        " ",
        "(",
        ")",
        "-",
        ".",
        "٣",
        "７",
        "＋",
        "\u{0}",
        "\u{FFFD}",
        "é",
        "phone-context=+",
        "<",
        ">",
        "\"",
        "%",
        "%2B",
        "A",
        "z",
        "44",
        "86",
        "999",
    ];
    let n = normaliser("US");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        let mut input = String::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 24) as usize;
        for i in 0..len {
            input.push_str(pieces[((seed >> (i % 40)) as usize + i * 7) % pieces.len()]);
        }
        if let Ok(e164) = n.normalise(&input) {
            assert!(
                crate::domain::E164::parse(e164.as_str()).is_ok(),
                "{input:?} -> {e164}"
            );
        }
    }
}

/// The fast route for `+digits` must never disagree with the full parse: for the example number
/// of every region, and for variations of it (a digit more or less, a leading 0 or 1, another
/// last digit), whenever the fast route answers, the full parse gives the same E.164.
#[test]
fn the_fast_path_for_canonical_numbers_agrees_with_the_full_parse() {
    use phonenumber::metadata::DATABASE;
    let n = normaliser("US");
    let mut checked = 0;
    let mut fast = 0;
    for meta in DATABASE.iter() {
        for desc in [
            meta.descriptors().fixed_line(),
            meta.descriptors().mobile(),
            meta.descriptors().toll_free(),
        ]
        .into_iter()
        .flatten()
        {
            let Some(example) = desc.example() else {
                continue;
            };
            let code = meta.country_code();
            let variants = [
                example.to_owned(),
                format!("0{example}"),
                format!("1{example}"),
                format!("{example}5"),
                example[..example.len().saturating_sub(1)].to_owned(),
                format!("{}{}", &example[..example.len().saturating_sub(1)], 7),
            ];
            for variant in variants {
                let input = format!("+{code}{variant}");
                let full = n.normalise_fully(&input);
                if let Some(quick) = super::canonical_fast_path(&input) {
                    fast += 1;
                    assert_eq!(
                        Ok(quick.clone()),
                        full,
                        "{input}: fast route {quick} vs full parse {full:?}"
                    );
                }
                assert_eq!(n.normalise(&input), full, "{input}");
                checked += 1;
            }
        }
    }
    assert!(
        checked > 1000 && fast > 500,
        "checked {checked}, fast {fast}"
    );
}

#[test]
fn remembered_results_are_the_full_routes_and_e164_input_is_never_kept() {
    let normaliser = normaliser("US");
    let parsed = ParsedCallerIds::new(100);
    for (region, input, expected) in NUMBERS.iter().filter(|(region, ..)| *region == "US") {
        for _ in 0..2 {
            let got = normaliser.normalise_remembering(input, &parsed);
            assert_eq!(
                got.map(|e| e.to_string()),
                Ok(expected.to_string()),
                "{region} {input}"
            );
        }
    }
    let kept = parsed.results.len();
    assert!(kept > 0, "national and URI forms are kept");
    for input in ["+15551234567", "tel:+15551234567", "(555) 123-4567"] {
        normaliser.normalise_remembering(input, &parsed).unwrap();
    }
    assert_eq!(
        parsed.results.len(),
        kept,
        "E.164 skips the memory; the national form was kept already"
    );
    for _ in 0..2 {
        assert_eq!(
            normaliser.normalise_remembering("anonymous", &parsed),
            Err(Not::Withheld)
        );
    }
    assert_eq!(parsed.results.len(), kept + 1, "refusals are kept too");
    let long = "1".repeat(300);
    assert_eq!(
        normaliser.normalise_remembering(&long, &parsed),
        normaliser.normalise(&long)
    );
    assert_eq!(parsed.results.len(), kept + 1, "overlong input is not kept");
}

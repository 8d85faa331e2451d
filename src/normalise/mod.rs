//! Caller ID → E.164, by libphonenumber's rules: `PhoneNumberUtil.parse(input, defaultRegion)`
//! (through the `phonenumber` crate, patched to follow libphonenumber step by step; see
//! crates/phonenumber/PATCHES.md), accepted when `isPossibleNumberWithReason` is IS_POSSIBLE.
//! A number that is possible only locally (a US number without its area code) is not accepted:
//! it names no single line.
//!
//! The deliberate departures from libphonenumber, each for an input it was not written for:
//! - SIP and SIPS URIs, SIP name-addr headers and `user@host`: the user part is the caller ID
//!   (libphonenumber would read digits out of the host, the tag or the display name).
//! - RFC 3966 parameters that libphonenumber does not know (`;user=phone`, `;tgrp=`, `;npdi`,
//!   `;rn=`, `;cic=` …) are dropped before parsing; it would refuse the whole URI. `;ext=`,
//!   `;isub=` and `;phone-context=` are left to libphonenumber, which handles them.
//! - Withheld words (`anonymous`, `Restricted` …) are reported as withheld rather than as "not
//!   a number": the caller is unknown either way, but the reason is worth telling apart.

mod uri;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::sync::LazyLock;

use phonenumber::metadata::{DATABASE, Metadata};
use phonenumber::{PhoneNumber, Validation, country};

use crate::domain::E164;
pub use crate::domain::NotAPhoneNumber;

/// libphonenumber's `MAX_INPUT_STRING_LENGTH`: longer input is refused before any parsing work.
const MAX_INPUT_CHARS: usize = 250;

/// Words that networks and PBXs put where a withheld caller ID would be.
const WITHHELD_WORDS: [&str; 9] = [
    "anonymous",
    "restricted",
    "private",
    "withheld",
    "unavailable",
    "unknown",
    "blocked",
    "no caller",
    "not available",
];

/// A default region for national formats, checked against libphonenumber's metadata.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    id: country::Id,
    meta: &'static Metadata,
}

impl Region {
    pub fn code(&self) -> &'static str {
        self.meta.id()
    }
}

impl PartialEq for Region {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Region {}

impl FromStr for Region {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let code = raw.trim().to_ascii_uppercase();
        let refuse = || {
            format!("unknown region {raw:?}: use an ISO 3166-1 alpha-2 code such as US, GB or DE")
        };
        let id = country::Id::from_str(&code).map_err(|_| refuse())?;
        let meta = DATABASE.by_id(&code).ok_or_else(refuse)?;
        Ok(Self { id, meta })
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The national-number lengths a country calling code's numbers can have: libphonenumber's
/// general description of the main region for that code.
#[derive(Debug, Default)]
struct PossibleLengths {
    full: Vec<u16>,
}

/// What the fast path needs about one country calling code.
struct CallingCode {
    lengths: PossibleLengths,
    /// Several regions share a code (+1, +44, +7 …): libphonenumber uses the main one's. Its
    /// national prefix for parsing is what the fast path must stay clear of.
    main: &'static Metadata,
}

/// By calling code (an index, so the per-lookup fast path hashes nothing), not by region: the
/// non-geographic codes (+800, +882 …) all share the region id "001", so iterating regions
/// would see only one of them.
static CALLING_CODES: LazyLock<Vec<Option<CallingCode>>> = LazyLock::new(|| {
    (0..=999u16)
        .map(|code| {
            let metas = DATABASE.by_code(&code)?;
            let main = metas
                .iter()
                .find(|meta| meta.is_main_country_for_code())
                .or_else(|| metas.first())?;
            let general = main.descriptors().general();
            // A length that is local-only for the code is never a full one (libphonenumber
            // removes it from the general local-only lengths), so `full` alone decides.
            let lengths = PossibleLengths {
                full: general.possible_length().to_vec(),
            };
            Some(CallingCode { lengths, main })
        })
        .collect()
});

fn calling_code(code: u16) -> Option<&'static CallingCode> {
    CALLING_CODES.get(usize::from(code))?.as_ref()
}

/// Caller IDs that took the whole route (national formats, SIP URIs, withheld words), with
/// what it said. A flow sends the same caller ID again for every lookup of a call, and the full
/// parse costs microseconds. For a given default region the result never changes, so entries
/// need no expiry; the oldest make room when it is full.
pub struct ParsedCallerIds {
    results: quick_cache::sync::Cache<Box<str>, Result<E164, NotAPhoneNumber>>,
}

impl ParsedCallerIds {
    pub fn new(max_entries: usize) -> Self {
        Self {
            results: quick_cache::sync::Cache::new(max_entries.max(1)),
        }
    }
}

/// Turns caller IDs into E.164 numbers.
#[derive(Clone, Copy, Debug)]
pub struct PhoneNormaliser {
    region: Region,
}

impl PhoneNormaliser {
    pub fn new(region: Region) -> Self {
        Self { region }
    }

    /// Loads the metadata (~100 ms) and compiles the parsing patterns of every region, so that
    /// no caller's request pays for it. Returns how many sample numbers were parsed.
    pub fn warm_up(&self) -> usize {
        LazyLock::force(&CALLING_CODES);
        let mut parsed = 0;
        for meta in DATABASE.iter() {
            let example = meta
                .descriptors()
                .fixed_line()
                .or_else(|| meta.descriptors().mobile())
                .and_then(|desc| desc.example());
            if let Some(example) = example {
                // Written with a separator, so that it takes the whole route.
                let international = format!("+{} {}", meta.country_code(), example);
                parsed += usize::from(self.normalise_fully(&international).is_ok());
            }
        }
        parsed += usize::from(self.normalise("(201) 555-0123").is_ok());
        parsed
    }

    /// The region a number that failed was measured against, for messages ("too short for GB"):
    /// that of its country calling code when written with `+`, else the default region. A
    /// sketch for people, not a parse: `None` when the code is not one.
    pub fn region_named_in(&self, raw: &str) -> Option<&'static str> {
        let Some(international) = raw.trim_start().strip_prefix('+') else {
            return Some(self.region.code());
        };
        let digits: String = international
            .chars()
            .filter_map(phonenumber::decimal_digit)
            .take(3)
            .map(|d| char::from(b'0' + d))
            .collect();
        (1..=digits.len()).find_map(|len| {
            let code = digits[..len].parse::<u16>().ok()?;
            Some(calling_code(code)?.main.id())
        })
    }

    /// The E.164 form of a caller ID, or why it is not a phone number.
    pub fn normalise(&self, raw: &str) -> Result<E164, NotAPhoneNumber> {
        match canonical_fast_path(raw) {
            Some(e164) => Ok(e164),
            None => self.normalise_fully(raw),
        }
    }

    /// As `normalise`, keeping what the whole route said in `parsed`, so a caller ID seen
    /// before costs a hash lookup instead of a parse.
    pub fn normalise_remembering(
        &self,
        raw: &str,
        parsed: &ParsedCallerIds,
    ) -> Result<E164, NotAPhoneNumber> {
        if let Some(e164) = canonical_fast_path(raw) {
            return Ok(e164);
        }
        // Too long to be anything: refused at once, and not worth the memory.
        if raw.len() > MAX_INPUT_CHARS {
            return self.normalise_fully(raw);
        }
        if let Some(result) = parsed.results.get(raw) {
            return result;
        }
        let result = self.normalise_fully(raw);
        parsed.results.insert(raw.into(), result.clone());
        result
    }

    /// As `normalise`, with every step written down: the route lookups take, traced.
    pub fn explain(&self, raw: &str) -> NormaliseTrace {
        let mut trace = NormaliseTrace::new(raw, self.region);
        let result = match canonical_fast_path(raw) {
            Some(e164) => {
                trace.route = Route::E164FastPath;
                Ok(e164)
            }
            None => self.normalise_traced(raw, Some(&mut trace)),
        };
        trace.result = Some(result);
        trace
    }

    /// The whole route: the departures above, then libphonenumber's parse and possibility check.
    fn normalise_fully(&self, raw: &str) -> Result<E164, NotAPhoneNumber> {
        self.normalise_traced(raw, None)
    }

    fn normalise_traced(
        &self,
        raw: &str,
        mut trace: Option<&mut NormaliseTrace>,
    ) -> Result<E164, NotAPhoneNumber> {
        if raw.chars().count() > MAX_INPUT_CHARS {
            return Err(NotAPhoneNumber::InputTooLong);
        }
        let caller_id = uri::caller_id(raw);
        if let Some(trace) = trace.as_deref_mut() {
            trace.unwrapped(&caller_id);
        }
        let text = &caller_id.text;
        if !text
            .chars()
            .any(|c| phonenumber::decimal_digit(c).is_some())
        {
            let lower = text.to_lowercase();
            let withheld = WITHHELD_WORDS.iter().any(|word| lower.contains(word));
            return Err(if withheld {
                NotAPhoneNumber::Withheld
            } else {
                NotAPhoneNumber::NoDigits
            });
        }
        let parsed = parse_guarded(Some(self.region.id), text)?;
        if let Some(trace) = trace {
            trace.parsed(&parsed);
        }
        possible(&parsed)
    }
}

/// Which way through the normaliser a caller ID went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `+digits` or `tel:+digits` whose split into code and number is certain: no parse.
    E164FastPath,
    /// libphonenumber's parse (results are remembered for the next call with the same text).
    FullParse,
}

/// What the normaliser did with one caller ID, step by step.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NormaliseTrace {
    pub input: String,
    pub route: Route,
    pub default_region: String,
    /// `tel`, `sip` or `sips` when the caller ID was a URI.
    pub uri_scheme: Option<&'static str>,
    /// URI parts that name no caller: a SIP host and parameters, tel: routing parameters.
    pub dropped: Vec<String>,
    /// What libphonenumber was given.
    pub parsed_text: Option<String>,
    /// Every decimal digit of it, as ASCII.
    pub digits: Option<String>,
    /// The characters between the digits that were read as punctuation.
    pub separators: Option<String>,
    pub extension: Option<String>,
    pub country_code: Option<u16>,
    /// `plus`, `international_prefix`, `number_without_plus` or `default_region`.
    pub country_code_source: Option<&'static str>,
    /// The region whose rules the number was checked against (the main one for its code).
    pub number_region: Option<String>,
    pub national_number: Option<String>,
    #[serde(skip)]
    pub result: Option<Result<E164, NotAPhoneNumber>>,
}

impl NormaliseTrace {
    fn new(raw: &str, region: Region) -> Self {
        Self {
            input: raw.to_owned(),
            route: Route::FullParse,
            default_region: region.code().to_owned(),
            uri_scheme: None,
            dropped: Vec::new(),
            parsed_text: None,
            digits: None,
            separators: None,
            extension: None,
            country_code: None,
            country_code_source: None,
            number_region: None,
            national_number: None,
            result: None,
        }
    }

    fn unwrapped(&mut self, caller_id: &uri::CallerId<'_>) {
        self.uri_scheme = caller_id.scheme;
        self.dropped.clone_from(&caller_id.dropped);
        let text = caller_id.text.as_ref();
        self.parsed_text = Some(text.to_owned());
        self.digits = Some(
            text.chars()
                .filter_map(phonenumber::decimal_digit)
                .map(|d| char::from(b'0' + d))
                .collect(),
        );
        let mut separators = String::new();
        for c in text.chars() {
            if phonenumber::decimal_digit(c).is_none() && !separators.contains(c) {
                separators.push(c);
            }
        }
        self.separators = Some(separators);
    }

    fn parsed(&mut self, number: &PhoneNumber) {
        let code = number.code().value();
        self.country_code = Some(code);
        self.country_code_source = Some(match number.code().source() {
            country::Source::Plus => "plus",
            country::Source::Idd => "international_prefix",
            country::Source::Number => "number_without_plus",
            country::Source::Default => "default_region",
        });
        self.number_region = calling_code(code).map(|facts| facts.main.id().to_owned());
        self.national_number = Some(number.national().to_string());
        self.extension = number.extension().map(|e| e.to_string());
    }
}

/// The crate is pure code, but a panic on some odd input must not take a worker down with it.
fn parse_guarded(
    region: Option<country::Id>,
    number: &str,
) -> Result<PhoneNumber, NotAPhoneNumber> {
    match catch_unwind(AssertUnwindSafe(|| phonenumber::parse(region, number))) {
        Ok(Ok(parsed)) => Ok(parsed),
        Ok(Err(phonenumber::ParseError::InvalidCountryCode)) => {
            Err(NotAPhoneNumber::InvalidCountryCode)
        }
        Ok(Err(
            phonenumber::ParseError::TooShortNsn | phonenumber::ParseError::TooShortAfterIdd,
        )) => Err(NotAPhoneNumber::TooShort),
        Ok(Err(phonenumber::ParseError::TooLong)) => Err(NotAPhoneNumber::TooLong),
        Ok(Err(_)) | Err(_) => Err(NotAPhoneNumber::Unparseable),
    }
}

/// libphonenumber's `isPossibleNumberWithReason`, accepting IS_POSSIBLE only.
fn possible(number: &PhoneNumber) -> Result<E164, NotAPhoneNumber> {
    match phonenumber::possible_with(&DATABASE, number) {
        Validation::IsPossible => {
            let e164 = format!("+{}{}", number.code().value(), number.national());
            // E164::parse re-checks the shape the store relies on.
            E164::parse(&e164).map_err(|_| NotAPhoneNumber::TooLong)
        }
        Validation::IsPossibleLocalOnly | Validation::TooShort => Err(NotAPhoneNumber::TooShort),
        Validation::TooLong => Err(NotAPhoneNumber::TooLong),
        Validation::InvalidLength => Err(NotAPhoneNumber::InvalidLength),
        Validation::InvalidCountryCode => Err(NotAPhoneNumber::InvalidCountryCode),
    }
}

/// Numbers that already arrive as `+digits` (or Genesys' `tel:+digits`) skip the full parse,
/// which costs tens of microseconds: country codes are a prefix code, so the code and the
/// national number split one way only, and the answer is the full parse's whenever the length
/// is possible and nothing could be a national prefix to strip. Anything else (`None`) takes
/// the full route, which also says why a number is refused.
fn canonical_fast_path(raw: &str) -> Option<E164> {
    // Overlong input is refused by the full route, whatever it holds.
    if raw.len() > MAX_INPUT_CHARS {
        return None;
    }
    let raw = raw.trim();
    let number = raw.strip_prefix("tel:").unwrap_or(raw);
    let digits = number.strip_prefix('+')?;
    if !(7..=15).contains(&digits.len())
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || digits.starts_with('0')
    {
        return None;
    }
    let (national, facts) = (1..=3).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        calling_code(code).map(|facts| (&digits[len..], facts))
    })?;
    if !facts
        .lengths
        .full
        .contains(&u16::try_from(national.len()).ok()?)
    {
        return None;
    }
    // libphonenumber may strip a national prefix (or carrier code) after +CC when its pattern
    // matches at the start (the pattern defaults to the national prefix itself).
    if facts.main.national_prefix_for_parsing_looking_at(national) {
        return None;
    }
    E164::parse(number).ok()
}

#[cfg(test)]
mod tests;

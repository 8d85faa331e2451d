//! `PhoneNumberUtil.parse` as libphonenumber (Java 9.x, and its Python port `phonenumbers`) does
//! it, step by step, with the same regular expressions. Each function names the libphonenumber
//! method it follows; where this code departs from a literal port (to avoid allocation or because
//! Rust's regex crate spells a pattern differently) a comment says why the result is the same.
//!
//! The crate's earlier parser (the nom grammars in `natural`/`rfc3966`) disagreed with
//! libphonenumber on whole classes of input: a separator right after the country code
//! (`+4420-7946-0958` was read as country code 4420), extensions after a plain number
//! (`+15551234567;ext=1`), national prefixes after a country code stripped even when what remained
//! was too short (`+7 800 123-45-67`), the default region's country code written without `+`, and
//! every region's national prefix stripped from other countries' numbers.

use std::borrow::Cow;

use once_cell::sync::Lazy;
use regex::{Regex, RegexBuilder};

use crate::country;
use crate::error;
use crate::metadata::{Database, Metadata};

/// libphonenumber's `MAX_INPUT_STRING_LENGTH`.
const MAX_INPUT_STRING_LENGTH: usize = 250;
const MIN_LENGTH_FOR_NSN: usize = 2;
const MAX_LENGTH_FOR_NSN: usize = 17;
const MAX_LENGTH_COUNTRY_CODE: usize = 3;

const RFC3966_PREFIX: &str = "tel:";
const RFC3966_PHONE_CONTEXT: &str = ";phone-context=";
const RFC3966_ISDN_SUBADDRESS: &str = ";isub=";
const RFC3966_EXTN_PREFIX: &str = ";ext=";

const VALID_PUNCTUATION: &str = "-x\u{2010}-\u{2015}\u{2212}\u{30FC}\u{FF0D}-\u{FF0F} \u{00A0}\u{00AD}\u{200B}\u{2060}\u{3000}()\u{FF08}\u{FF09}\u{FF3B}\u{FF3D}.\\[\\]/~\u{2053}\u{223C}\u{FF5E}";
const PLUS_CHARS: &str = "+\u{FF0B}";
const VALID_ALPHA: &str = "A-Za-z";
/// Java's `\p{Nd}`, as the digits of `DIGIT_ZEROS` (the regex crate's `\p{Nd}` follows a
/// newer Unicode than the table, and the two must agree).
static DIGITS: Lazy<String> = Lazy::new(|| {
    let runs: String = DIGIT_ZEROS
        .iter()
        .map(|&zero| format!("\\x{{{zero:X}}}-\\x{{{:X}}}", zero + 9))
        .collect();
    format!("[{runs}]")
});

fn regex(pattern: &str) -> Regex {
    // The patterns are constants of this module: a failure is a bug caught by the first test.
    Regex::new(pattern).expect("libphonenumber pattern")
}

fn regex_ignoring_case(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .expect("libphonenumber pattern")
}

static VALID_START_CHAR: Lazy<Regex> = Lazy::new(|| {
    let digits = DIGITS.trim_start_matches('[').trim_end_matches(']');
    regex(&format!("[{PLUS_CHARS}{digits}]"))
});
static SECOND_NUMBER_START: Lazy<Regex> = Lazy::new(|| regex(r"[\\/] *x"));
/// Java: `[[\P{N}&&\P{L}]&&[^#]]+$`.
static UNWANTED_END_CHARS: Lazy<Regex> = Lazy::new(|| regex(r"[^\p{N}\p{L}#]+$"));
static LEADING_PLUS_CHARS: Lazy<Regex> = Lazy::new(|| regex(&format!("^[{PLUS_CHARS}]+")));
static CAPTURING_DIGIT: Lazy<Regex> = Lazy::new(|| regex(&format!("({})", *DIGITS)));
/// Java's `VALID_ALPHA_PHONE_PATTERN`, used with `matches()`.
static VALID_ALPHA_PHONE: Lazy<Regex> = Lazy::new(|| regex(r"^(?:.*?[A-Za-z]){3}.*$"));

/// `createExtnPattern(true)`: every way of writing an extension libphonenumber parses.
fn extension_patterns_for_parsing() -> String {
    let digits = |max: usize| format!("({}{{1,{max}}})", *DIGITS);
    let separators = "[ \u{00A0}\\t,]*";
    let after_label = "[:\\.\u{FF0E}]?[ \u{00A0}\\t,-]*";
    let suffix = "#?";
    let explicit_labels = "(?:e?xt(?:ensi(?:o\u{0301}?|\u{00F3}))?n?|\u{FF45}?\u{FF58}\u{FF54}\u{FF4E}?|\u{0434}\u{043E}\u{0431}|anexo)";
    let ambiguous_labels = "(?:[x\u{FF58}#\u{FF03}~\u{FF5E}]|int|\u{FF49}\u{FF4E}\u{FF54})";
    let ambiguous_separator = "[- ]+";
    let rfc = format!("{RFC3966_EXTN_PREFIX}{}", digits(20));
    let explicit = format!(
        "{separators}{explicit_labels}{after_label}{}{suffix}",
        digits(20)
    );
    let ambiguous = format!(
        "{separators}{ambiguous_labels}{after_label}{}{suffix}",
        digits(9)
    );
    let american = format!("{ambiguous_separator}{}#", digits(6));
    let no_comma = "[ \u{00A0}\\t]*";
    let auto_dialling = format!("{no_comma}(?:,{{2}}|;){after_label}{}{suffix}", digits(15));
    let only_commas = format!("{no_comma}(?:,)+{after_label}{}{suffix}", digits(9));
    format!("{rfc}|{explicit}|{ambiguous}|{american}|{auto_dialling}|{only_commas}")
}

static EXTN_PATTERN: Lazy<Regex> =
    Lazy::new(|| regex_ignoring_case(&format!("(?:{})$", extension_patterns_for_parsing())));

/// `VALID_PHONE_NUMBER_PATTERN`, used with `matches()` (hence anchored here).
static VALID_PHONE_NUMBER: Lazy<Regex> = Lazy::new(|| {
    // As libphonenumber concatenates it: two bare digits, or a longer number that may carry an
    // extension (the alternation binds loosest, so two digits take none).
    let digit = DIGITS.as_str();
    let digits = digit.trim_start_matches('[').trim_end_matches(']');
    let long = format!(
        "[{PLUS_CHARS}]*(?:[{VALID_PUNCTUATION}*]*{digit}){{3,}}[{VALID_PUNCTUATION}*{VALID_ALPHA}{digits}]*"
    );
    regex_ignoring_case(&format!(
        "^(?:{digit}{{{MIN_LENGTH_FOR_NSN}}}|{long}(?:{})?)$",
        extension_patterns_for_parsing()
    ))
});

static RFC3966_GLOBAL_NUMBER_DIGITS: Lazy<Regex> = Lazy::new(|| {
    let digit = DIGITS.as_str();
    let phone_digit = format!("({digit}|[\\-\\.\\(\\)]?)");
    regex(&format!("^\\+{phone_digit}*{digit}{phone_digit}*$"))
});

static RFC3966_DOMAINNAME: Lazy<Regex> = Lazy::new(|| {
    let digits = DIGITS.trim_start_matches('[').trim_end_matches(']');
    let alphanum = format!("{VALID_ALPHA}{digits}");
    let label = format!("[{alphanum}]+((\\-)*[{alphanum}])*");
    let top = format!("[{VALID_ALPHA}]+((\\-)*[{alphanum}])*");
    regex(&format!("^({label}\\.)*{top}\\.?$"))
});

/// Where the number's country calling code came from (libphonenumber's `CountryCodeSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Plus,
    Idd,
    NumberWithoutPlus,
    Default,
}

impl From<Source> for country::Source {
    fn from(source: Source) -> Self {
        match source {
            Source::Plus => country::Source::Plus,
            Source::Idd => country::Source::Idd,
            Source::NumberWithoutPlus => country::Source::Number,
            Source::Default => country::Source::Default,
        }
    }
}

/// What `parse` found: the pieces of a `PhoneNumber`.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub code: u16,
    pub source: Source,
    /// The national significant number, leading zeros included (Italian style).
    pub national: String,
    pub extension: Option<String>,
    pub carrier: Option<String>,
}

/// `PhoneNumberUtil.parseHelper` (without `keepRawInput`).
pub(crate) fn parse(
    database: &Database,
    region: Option<&str>,
    input: &str,
) -> Result<Parsed, error::Parse> {
    if input.chars().count() > MAX_INPUT_STRING_LENGTH {
        return Err(error::Parse::TooLong);
    }
    let number = build_national_number_for_parsing(input)?;
    if !is_viable_phone_number(&number) {
        return Err(error::Parse::NoNumber);
    }
    let region_meta = region.and_then(|id| database.by_id(id));
    // checkRegionForParsing: without a known region, only a number with '+' can be parsed.
    if region_meta.is_none() && !LEADING_PLUS_CHARS.is_match(&number) {
        return Err(error::Parse::InvalidCountryCode);
    }

    let (extension, number) = maybe_strip_extension(&number);

    let extracted = match maybe_extract_country_code(database, number, region_meta) {
        Err(error::Parse::InvalidCountryCode) if LEADING_PLUS_CHARS.is_match(number) => {
            // Strip the plus-char, and try again.
            let plus_end = LEADING_PLUS_CHARS.find(number).map_or(0, |m| m.end());
            let retried = maybe_extract_country_code(database, &number[plus_end..], region_meta)?;
            if retried.code == 0 {
                return Err(error::Parse::InvalidCountryCode);
            }
            retried
        }
        other => other?,
    };

    let (code, source, mut national, meta) = if extracted.code != 0 {
        // The number's own region's metadata: the main region for its calling code.
        let meta = metadata_for_calling_code(database, extracted.code)
            .ok_or(error::Parse::InvalidCountryCode)?;
        let meta = match region_meta {
            Some(region_meta) if region_meta.id() == meta.id() => region_meta,
            _ => meta,
        };
        (extracted.code, extracted.source, extracted.rest, Some(meta))
    } else {
        let national = normalize(number).into_owned();
        match region_meta {
            Some(meta) => (meta.country_code(), Source::Default, national, Some(meta)),
            None => (0, Source::Default, national, None),
        }
    };

    if national.len() < MIN_LENGTH_FOR_NSN {
        return Err(error::Parse::TooShortNsn);
    }

    let mut carrier = None;
    if let Some(meta) = meta {
        let stripped = maybe_strip_national_prefix_and_carrier_code(&national, meta);
        // The rest must still be long enough to be a possible number for the region; otherwise
        // the original could be a valid short number and is kept.
        if let Some((rest, carrier_code)) = stripped {
            let validation = test_number_length(&rest, meta);
            if !matches!(
                validation,
                Length::TooShort | Length::IsPossibleLocalOnly | Length::InvalidLength
            ) {
                national = rest;
                carrier = carrier_code.filter(|c| !c.is_empty());
            }
        }
    }

    if national.len() < MIN_LENGTH_FOR_NSN {
        return Err(error::Parse::TooShortNsn);
    }
    if national.len() > MAX_LENGTH_FOR_NSN {
        return Err(error::Parse::TooLong);
    }
    Ok(Parsed {
        code,
        source,
        national,
        extension: extension.map(str::to_owned),
        carrier,
    })
}

/// `buildNationalNumberForParsing`: the RFC 3966 parts libphonenumber understands (`tel:`,
/// `;phone-context=`, `;isub=`), otherwise `extractPossibleNumber`.
fn build_national_number_for_parsing(input: &str) -> Result<Cow<'_, str>, error::Parse> {
    let mut number: Cow<'_, str> = match input.find(RFC3966_PHONE_CONTEXT) {
        Some(index) => {
            let start = index + RFC3966_PHONE_CONTEXT.len();
            let context = match input[start..].find(';') {
                Some(end) => &input[start..start + end],
                None => &input[start..],
            };
            let valid = !context.is_empty()
                && (RFC3966_GLOBAL_NUMBER_DIGITS.is_match(context)
                    || RFC3966_DOMAINNAME.is_match(context));
            if !valid {
                return Err(error::Parse::NoNumber);
            }
            // A global prefix in the context comes first; a domain is ignored.
            let mut built = if context.starts_with('+') {
                context.to_owned()
            } else {
                String::new()
            };
            // Everything between "tel:" (or the start) and the phone-context.
            let from = input
                .find(RFC3966_PREFIX)
                .map_or(0, |at| at + RFC3966_PREFIX.len());
            if from <= index {
                built.push_str(&input[from..index]);
            }
            Cow::Owned(built)
        }
        None => Cow::Borrowed(extract_possible_number(input)),
    };
    if let Some(index) = number.find(RFC3966_ISDN_SUBADDRESS) {
        if index > 0 {
            number = match number {
                Cow::Borrowed(text) => Cow::Borrowed(&text[..index]),
                Cow::Owned(mut text) => {
                    text.truncate(index);
                    Cow::Owned(text)
                }
            };
        }
    }
    Ok(number)
}

/// `extractPossibleNumber`: from the first '+' or digit, without trailing punctuation and without
/// a second number (`(530) 583-6985 x302/x2303`).
fn extract_possible_number(input: &str) -> &str {
    let Some(start) = VALID_START_CHAR.find(input) else {
        return "";
    };
    let mut number = &input[start.start()..];
    if let Some(trailing) = UNWANTED_END_CHARS.find(number) {
        number = &number[..trailing.start()];
    }
    if let Some(second) = SECOND_NUMBER_START.find(number) {
        number = &number[..second.start()];
    }
    number
}

/// `isViablePhoneNumber`.
pub(crate) fn is_viable_phone_number(number: &str) -> bool {
    number.chars().count() >= MIN_LENGTH_FOR_NSN && VALID_PHONE_NUMBER.is_match(number)
}

/// `maybeStripExtension`: the extension (if the part before it is a viable number) and the rest.
fn maybe_strip_extension(number: &str) -> (Option<&str>, &str) {
    if let Some(captures) = EXTN_PATTERN.captures(number) {
        if let Some(whole) = captures.get(0) {
            let before = &number[..whole.start()];
            if is_viable_phone_number(before) {
                if let Some(extension) = captures.iter().skip(1).flatten().next() {
                    return (Some(extension.as_str()), before);
                }
            }
        }
    }
    (None, number)
}

struct Extracted {
    code: u16,
    source: Source,
    rest: String,
}

/// `maybeExtractCountryCode`: the calling code written in the number (after '+', after the
/// region's international prefix, or the region's own code written without '+'), or 0.
fn maybe_extract_country_code(
    database: &Database,
    number: &str,
    region_meta: Option<&Metadata>,
) -> Result<Extracted, error::Parse> {
    let none = || Extracted {
        code: 0,
        source: Source::Default,
        rest: String::new(),
    };
    if number.is_empty() {
        return Ok(none());
    }
    let (source, full) = maybe_strip_international_prefix_and_normalize(number, region_meta);
    if source != Source::Default {
        if full.len() <= MIN_LENGTH_FOR_NSN {
            return Err(error::Parse::TooShortAfterIdd);
        }
        return match extract_country_code(database, &full) {
            Some((code, rest)) => Ok(Extracted {
                code,
                source,
                rest: rest.to_owned(),
            }),
            None => Err(error::Parse::InvalidCountryCode),
        };
    }
    if let Some(meta) = region_meta {
        // The region's own calling code written without '+': taken off only when the number is
        // not already a national number of the region, or too long to be one.
        let code = meta.country_code().to_string();
        if let Some(potential) = full.strip_prefix(code.as_str()) {
            let general = &meta.descriptors().general;
            let potential = maybe_strip_national_prefix_and_carrier_code(potential, meta)
                .map_or_else(|| potential.to_owned(), |(rest, _)| rest);
            if (!matches_fully(general.national_number(), &full)
                && matches_fully(general.national_number(), &potential))
                || test_number_length(&full, meta) == Length::TooLong
            {
                return Ok(Extracted {
                    code: meta.country_code(),
                    source: Source::NumberWithoutPlus,
                    rest: potential,
                });
            }
        }
    }
    Ok(none())
}

/// `maybeStripInternationalPrefixAndNormalize`.
fn maybe_strip_international_prefix_and_normalize(
    number: &str,
    region_meta: Option<&Metadata>,
) -> (Source, String) {
    if let Some(plus) = LEADING_PLUS_CHARS.find(number) {
        return (Source::Plus, normalize(&number[plus.end()..]).into_owned());
    }
    let normalized = normalize(number).into_owned();
    let idd = region_meta.and_then(Metadata::international_prefix);
    if let Some(idd) = idd {
        if let Some(found) = idd.find(&normalized).filter(|m| m.start() == 0) {
            // A calling code never starts with 0: "00" followed by 0 is not an IDD.
            let after = &normalized[found.end()..];
            let next_digit = CAPTURING_DIGIT.find(after).map(|m| m.as_str());
            if next_digit.map(digit_value) != Some(Some(0)) {
                return (Source::Idd, after.to_owned());
            }
        }
    }
    (Source::Default, normalized)
}

/// `extractCountryCode`: the first 1–3 digits that are a calling code, and the rest.
fn extract_country_code<'a>(database: &Database, number: &'a str) -> Option<(u16, &'a str)> {
    if number.starts_with('0') {
        return None;
    }
    (1..=MAX_LENGTH_COUNTRY_CODE.min(number.len())).find_map(|len| {
        let code: u16 = number.get(..len)?.parse().ok()?;
        database.by_code(&code).map(|_| (code, &number[len..]))
    })
}

/// `maybeStripNationalPrefixAndCarrierCode`: the number without its national prefix (and the
/// carrier code it carried), or `None` when nothing is to be stripped.
fn maybe_strip_national_prefix_and_carrier_code(
    number: &str,
    meta: &Metadata,
) -> Option<(String, Option<String>)> {
    let parsing = meta.national_prefix_for_parsing.as_ref()?;
    if number.is_empty() || parsing.as_str().is_empty() {
        return None;
    }
    let captures = parsing.captures(number)?;
    let whole = captures.get(0).filter(|m| m.start() == 0)?;
    let general = meta.descriptors().general.national_number();
    let viable_before = matches_fully(general, number);
    let groups = captures.len() - 1;
    let last_group = (groups > 0).then(|| captures.get(groups)).flatten();
    let transform = meta
        .national_prefix_transform_rule
        .as_deref()
        .filter(|rule| !rule.is_empty());
    match (transform, last_group) {
        (Some(rule), Some(_)) => {
            let mut transformed = String::new();
            captures.expand(&java_replacement(rule, groups), &mut transformed);
            transformed.push_str(&number[whole.end()..]);
            if viable_before && !matches_fully(general, &transformed) {
                return None;
            }
            let carrier = (groups > 1)
                .then(|| captures.get(1).map(|m| m.as_str().to_owned()))
                .flatten();
            Some((transformed, carrier))
        }
        _ => {
            let rest = &number[whole.end()..];
            if viable_before && !matches_fully(general, rest) {
                return None;
            }
            let carrier = last_group.map(|_| {
                captures
                    .get(1)
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default()
            });
            Some((rest.to_owned(), carrier))
        }
    }
}

/// A Java replacement (`9$1`) in the regex crate's syntax. Java reads `$` and then as many digits
/// as still name an existing group (`$15` with two groups is group 1 and a literal `5`); the
/// regex crate would read `$15x` as a group named "15x", so each reference is braced.
fn java_replacement(rule: &str, groups: usize) -> String {
    let mut out = String::with_capacity(rule.len() + 4);
    let mut chars = rule.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut group: Option<usize> = None;
        while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
            let longer = group.unwrap_or(0) * 10 + digit as usize;
            if group.is_some() && longer > groups {
                break;
            }
            group = Some(longer);
            chars.next();
        }
        match group {
            Some(group) => out.push_str(&format!("${{{group}}}")),
            None => out.push_str("$$"),
        }
    }
    out
}

/// libphonenumber's `ValidationResult` for `testNumberLength` with type UNKNOWN.
// The variants keep libphonenumber's names (INVALID_LENGTH).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Length {
    IsPossible,
    IsPossibleLocalOnly,
    TooShort,
    InvalidLength,
    TooLong,
}

/// `testNumberLength(number, metadata, UNKNOWN)`: against the general description's lengths.
pub(crate) fn test_number_length(number: &str, meta: &Metadata) -> Length {
    let general = &meta.descriptors().general;
    let possible = general.possible_length();
    let local = general.possible_local_length();
    let Ok(length) = u16::try_from(number.len()) else {
        return Length::TooLong;
    };
    let (Some(&shortest), Some(&longest)) = (possible.first(), possible.last()) else {
        return Length::InvalidLength;
    };
    if local.contains(&length) {
        Length::IsPossibleLocalOnly
    } else if length == shortest {
        Length::IsPossible
    } else if length < shortest {
        Length::TooShort
    } else if length > longest {
        Length::TooLong
    } else if possible.contains(&length) {
        Length::IsPossible
    } else {
        Length::InvalidLength
    }
}

/// `matcherApi.matchNationalNumber(number, desc, false)`: the pattern matches the whole number.
fn matches_fully(pattern: &regex_cache::CachedRegex, number: &str) -> bool {
    anchored(pattern.as_str()).is_some_and(|re| re.is_match(number))
}

/// The anchored form of a metadata pattern, compiled once per pattern.
fn anchored(source: &str) -> Option<std::sync::Arc<Regex>> {
    use std::collections::HashMap;
    use std::sync::{Arc, RwLock};
    static ANCHORED: Lazy<RwLock<HashMap<String, Arc<Regex>>>> = Lazy::new(Default::default);
    if let Some(found) = ANCHORED.read().ok()?.get(source) {
        return Some(found.clone());
    }
    let compiled = Arc::new(
        RegexBuilder::new(&format!("^(?:{source})$"))
            .ignore_whitespace(true)
            .build()
            .ok()?,
    );
    ANCHORED
        .write()
        .ok()?
        .insert(source.to_owned(), compiled.clone());
    Some(compiled)
}

/// The main region's metadata for a calling code (`getRegionCodeForCountryCode`), which is what
/// libphonenumber parses and checks a number of that code against.
pub(crate) fn metadata_for_calling_code(database: &Database, code: u16) -> Option<&Metadata> {
    let regions = database.by_code(&code)?;
    regions
        .iter()
        .copied()
        .find(|meta| meta.is_main_country_for_code())
        .or_else(|| regions.first().copied())
}

/// `normalize`: with three or more letters, a vanity number (letters become their keypad digits);
/// otherwise the digits only, every Unicode decimal digit as its ASCII value.
fn normalize(number: &str) -> Cow<'_, str> {
    if number.bytes().all(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(number);
    }
    let vanity = VALID_ALPHA_PHONE.is_match(number);
    Cow::Owned(
        number
            .chars()
            .filter_map(|c| {
                if vanity {
                    // ALPHA_PHONE_MAPPINGS holds ASCII digits and letters only.
                    if c.is_ascii_digit() {
                        Some(c)
                    } else {
                        keypad_digit(c)
                    }
                } else {
                    decimal_digit(c).map(|d| char::from(b'0' + d))
                }
            })
            .collect(),
    )
}

fn keypad_digit(c: char) -> Option<char> {
    let digit = match c.to_ascii_uppercase() {
        'A'..='C' => '2',
        'D'..='F' => '3',
        'G'..='I' => '4',
        'J'..='L' => '5',
        'M'..='O' => '6',
        'P'..='S' => '7',
        'T'..='V' => '8',
        'W'..='Z' => '9',
        _ => return None,
    };
    Some(digit)
}

/// The zero of every run of ten Unicode decimal digits (general category Nd), as of Unicode 14,
/// the version of the libphonenumber port the tests compare against. Every Nd character is
/// `zero + value` for one of these (Java's `Character.digit(c, 10)`).
const DIGIT_ZEROS: [u32; 66] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a one-character string holding a Unicode decimal digit.
pub(crate) fn digit_value(text: &str) -> Option<u8> {
    let mut chars = text.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    decimal_digit(c)
}

/// The value of a Unicode decimal digit, ASCII or not.
pub fn decimal_digit(c: char) -> Option<u8> {
    let code = u32::from(c);
    let index = DIGIT_ZEROS
        .partition_point(|&zero| zero <= code)
        .checked_sub(1)?;
    let offset = code - DIGIT_ZEROS[index];
    u8::try_from(offset).ok().filter(|&value| value < 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_digit_run_maps_zero_to_nine() {
        for &zero in &DIGIT_ZEROS {
            for value in 0..10u8 {
                let c = char::from_u32(zero + u32::from(value)).unwrap();
                assert_eq!(decimal_digit(c), Some(value), "U+{:04X}", u32::from(c));
                assert!(VALID_START_CHAR.is_match(&c.to_string()), "{c:?} is Nd");
            }
        }
    }

    #[test]
    fn java_replacements_become_braced_groups() {
        assert_eq!(java_replacement("9$1", 1), "9${1}");
        assert_eq!(java_replacement("$15", 2), "${1}5");
        assert_eq!(java_replacement("$15", 15), "${15}");
        assert_eq!(java_replacement("$1$2x", 2), "${1}${2}x");
    }
}

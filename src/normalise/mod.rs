//! Caller ID → E.164, by libphonenumber's rules (through the `phonenumber` crate) with a default
//! region for national formats.
//!
//! Two deliberate departures from calling `phonenumber::parse` directly:
//! - Numbers written internationally (`+`, or an international prefix) are parsed without a
//!   region: with one, the crate strips *that* region's national prefix from any country's
//!   number (`+33 1 23 45 67 89` would lose its `1`).
//! - "Possible" is checked here against the union of each country's possible lengths, as
//!   libphonenumber's `isPossibleNumber` does; the crate leaves the general lengths empty and
//!   its `is_valid` refuses unassigned ranges such as the `+1 555` numbers demo data uses.

mod digits;
mod uri;

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::sync::LazyLock;

use phonenumber::metadata::{DATABASE, Metadata};
use phonenumber::{Mode, PhoneNumber, Type, country};

use crate::domain::E164;

/// Longer than any caller ID or SIP URI a network sends; refused before any parsing work.
const MAX_INPUT_CHARS: usize = 256;

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

/// Why a caller ID is not a phone number. Not an error for a lookup: such a caller is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAPhoneNumber {
    /// `anonymous`, `Restricted`, `sip:anonymous@anonymous.invalid` …
    Withheld,
    /// No digits at all.
    NoDigits,
    /// Over 256 characters: no caller ID looks like this.
    InputTooLong,
    /// The country calling code does not exist.
    InvalidCountryCode,
    /// Fewer digits than any full number of that country (a local number without area code).
    TooShort,
    /// More digits than any number of that country.
    TooLong,
    /// Between the shortest and the longest, but not a length that country uses.
    InvalidLength,
    /// libphonenumber found no number in it.
    Unparseable,
}

impl NotAPhoneNumber {
    /// A stable code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Self::Withheld => "withheld",
            Self::NoDigits => "no_digits",
            Self::InputTooLong => "input_too_long",
            Self::InvalidCountryCode => "invalid_country_code",
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::InvalidLength => "invalid_length",
            Self::Unparseable => "unparseable",
        }
    }
}

impl fmt::Display for NotAPhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Withheld => "the caller ID is withheld",
            Self::NoDigits => "it contains no digits",
            Self::InputTooLong => "it is longer than 256 characters",
            Self::InvalidCountryCode => "its country calling code does not exist",
            Self::TooShort => "it is too short to be a full number for its country",
            Self::TooLong => "it is too long for its country",
            Self::InvalidLength => "its length is not one its country uses",
            Self::Unparseable => "it is not recognisable as a phone number",
        })
    }
}

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

    pub fn calling_code(&self) -> u16 {
        self.meta.country_code()
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

/// The national-number lengths a country calling code's numbers can have, per libphonenumber's
/// metadata for the main region of that code.
#[derive(Debug, Default)]
struct PossibleLengths {
    full: Vec<u16>,
    local_only: Vec<u16>,
}

/// The number types whose lengths libphonenumber folds into a region's general description.
const NUMBER_TYPES: [Type; 10] = [
    Type::FixedLine,
    Type::Mobile,
    Type::TollFree,
    Type::PremiumRate,
    Type::SharedCost,
    Type::PersonalNumber,
    Type::Voip,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
];

/// What the checks need about one country calling code.
struct CallingCode {
    lengths: PossibleLengths,
    /// Several regions share a code (+1, +44, +7 …): libphonenumber uses the main one's.
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
            let mut lengths = PossibleLengths::default();
            for kind in NUMBER_TYPES {
                if let Some(desc) = main.descriptors().get(kind) {
                    lengths.full.extend_from_slice(desc.possible_length());
                    lengths
                        .local_only
                        .extend_from_slice(desc.possible_local_length());
                }
            }
            for list in [&mut lengths.full, &mut lengths.local_only] {
                list.sort_unstable();
                list.dedup();
            }
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

    pub fn region(&self) -> Region {
        self.region
    }

    /// Loads the metadata (~100 ms) and compiles the patterns of every region, so that no
    /// caller's request pays for it. Returns how many sample numbers were parsed.
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
                let international = format!("+{}{}", meta.country_code(), example);
                parsed += usize::from(self.normalise(&international).is_ok());
            }
        }
        parsed += usize::from(self.normalise("(201) 555-0123").is_ok());
        parsed
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

    /// The whole route: URI syntax, Unicode digits, international prefixes, libphonenumber.
    fn normalise_fully(&self, raw: &str) -> Result<E164, NotAPhoneNumber> {
        if raw.chars().count() > MAX_INPUT_CHARS {
            return Err(NotAPhoneNumber::InputTooLong);
        }
        let folded = digits::fold(&uri::subscriber(raw));
        if !folded.bytes().any(|b| b.is_ascii_digit()) {
            let lower = folded.to_ascii_lowercase();
            let withheld = WITHHELD_WORDS.iter().any(|word| lower.contains(word));
            return Err(if withheld {
                NotAPhoneNumber::Withheld
            } else {
                NotAPhoneNumber::NoDigits
            });
        }
        let number = folded.trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '+'));
        if number.starts_with('+') {
            return international(number);
        }
        if let Some(rest) = self.strip_idd(number) {
            return international(&format!("+{rest}"));
        }
        let national = self.national(number);
        if national.is_ok() {
            return national;
        }
        // A default region whose international prefix is another one: `00` is what most of the
        // world dials, `011` what North America dials. A national number never starts with
        // them where they are not the prefix, so this only rescues numbers that failed.
        for idd in ["00", "011"] {
            if let Some(rest) = strip_leading_digits(number, idd)
                && let Ok(e164) = international(&format!("+{rest}"))
            {
                return Ok(e164);
            }
        }
        national
    }

    fn national(&self, number: &str) -> Result<E164, NotAPhoneNumber> {
        let parsed = parse_guarded(Some(self.region.id), number)?;
        possible(&parsed)
    }

    /// The number after the default region's international prefix (`011` for US), if it starts
    /// with one.
    fn strip_idd<'a>(&self, number: &'a str) -> Option<&'a str> {
        let pattern = self.region.meta.international_prefix()?;
        let leading: String = number
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .filter(char::is_ascii_digit)
            .collect();
        let found = pattern.find(&leading).filter(|m| m.start() == 0)?;
        let idd: String = leading[..found.end()].to_owned();
        strip_leading_digits(number, &idd)
    }
}

/// Parses a number written with `+`, without a region (see the module notes).
fn international(number: &str) -> Result<E164, NotAPhoneNumber> {
    let parsed = parse_guarded(None, number)?;
    possible(&parsed)
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

/// libphonenumber's `isPossibleNumber`: the national number's length is one its country uses.
fn possible(number: &PhoneNumber) -> Result<E164, NotAPhoneNumber> {
    let code = number.code().value();
    let lengths = &calling_code(code)
        .ok_or(NotAPhoneNumber::InvalidCountryCode)?
        .lengths;
    let e164 = number.format().mode(Mode::E164).to_string();
    let code_digits = code.to_string().len();
    let national_len = e164.len().saturating_sub(1 + code_digits);
    let national_len = u16::try_from(national_len).map_err(|_| NotAPhoneNumber::TooLong)?;
    let (Some(&shortest), Some(&longest)) = (lengths.full.first(), lengths.full.last()) else {
        return Err(NotAPhoneNumber::InvalidCountryCode);
    };
    if lengths.full.contains(&national_len) {
        // E164::parse re-checks the shape: a possible length still cannot exceed 15 digits.
        return E164::parse(&e164).map_err(|_| NotAPhoneNumber::TooLong);
    }
    Err(
        if lengths.local_only.contains(&national_len) || national_len < shortest {
            NotAPhoneNumber::TooShort
        } else if national_len > longest {
            NotAPhoneNumber::TooLong
        } else {
            NotAPhoneNumber::InvalidLength
        },
    )
}

/// Numbers that already arrive as `+digits` (or Genesys' `tel:+digits`) skip the full parse,
/// which costs tens of microseconds: country codes are a prefix code, so the code and the
/// national number split one way only, and the answer is the full parse's whenever the length
/// is possible and nothing could be a national prefix to strip. Anything else (`None`) takes
/// the full route, which also says why a number is refused.
fn canonical_fast_path(raw: &str) -> Option<E164> {
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
    // libphonenumber strips a national prefix (or carrier code) after +CC when one matches.
    let prefix_may_follow = facts
        .main
        .national_prefix()
        .is_some_and(|p| national.starts_with(p))
        || facts
            .main
            .national_prefix_for_parsing()
            .is_some_and(|re| re.find(national).is_some_and(|m| m.start() == 0));
    if prefix_may_follow {
        return None;
    }
    E164::parse(number).ok()
}

/// `number` without its first digits when they are `prefix` (separators between them allowed).
fn strip_leading_digits<'a>(number: &'a str, prefix: &str) -> Option<&'a str> {
    let mut wanted = prefix.bytes().peekable();
    for (index, byte) in number.bytes().enumerate() {
        if wanted.peek().is_none() {
            return Some(&number[index..]);
        }
        if byte.is_ascii_digit() {
            if Some(byte) != wanted.next() {
                return None;
            }
        } else if !matches!(byte, b' ' | b'-' | b'.' | b'(' | b')') {
            return None;
        }
    }
    wanted.peek().is_none().then_some("")
}

#[cfg(test)]
mod tests;

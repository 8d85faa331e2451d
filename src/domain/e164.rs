use std::fmt;

/// Why a value is not a canonical E.164 number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not in E.164 form: '+' then 3 to {MAX_DIGITS} digits, the first not 0")]
pub struct InvalidE164 {
    pub value: String,
}

/// A phone number in E.164 form: `+`, a country code and a national number.
///
/// E.164 itself caps a number at 15 digits, but libphonenumber calls longer numbers possible
/// (German numbers have up to 15 national digits, so 17 with +49); its own bounds are a country
/// code of 1–3 digits and a national number of 2–17, so this accepts 3 to 20 digits.
///
/// Only the normaliser (which checks the number against libphonenumber's metadata) and
/// [`E164::parse`] (for values that are already canonical, such as those read from the store)
/// build one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// A calling code of up to 3 digits and libphonenumber's longest national number, 17.
pub const MAX_DIGITS: usize = 20;

impl E164 {
    /// Accepts only the canonical form `+[1-9][0-9]{2,19}`; it does not reformat anything.
    pub fn parse(value: &str) -> Result<Self, InvalidE164> {
        let well_formed = value.strip_prefix('+').is_some_and(|digits| {
            (3..=MAX_DIGITS).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidE164 {
                value: value.to_owned(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as it may appear in logs: enough to tell numbers apart while debugging a
    /// flow, never enough to identify the caller (`+1555•••4567`).
    pub fn masked(&self) -> String {
        let digits = &self.0[1..];
        let (head, tail) = if digits.len() >= 10 { (4, 4) } else { (2, 2) };
        format!("+{}•••{}", &digits[..head], &digits[digits.len() - tail..])
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for E164 {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why a caller ID is not a phone number. Not an error for a lookup: such a caller is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotAPhoneNumber {
    /// `anonymous`, `Restricted`, `sip:anonymous@anonymous.invalid` …
    Withheld,
    /// No digits at all.
    NoDigits,
    /// Over 250 characters (libphonenumber's limit): no caller ID looks like this.
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
            Self::InputTooLong => "it is longer than 250 characters",
            Self::InvalidCountryCode => "its country calling code does not exist",
            Self::TooShort => "it is too short to be a full number for its country",
            Self::TooLong => "it is too long for its country",
            Self::InvalidLength => "its length is not one its country uses",
            Self::Unparseable => "it is not recognisable as a phone number",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::E164;

    #[test]
    fn accepts_only_canonical_form() {
        assert!(E164::parse("+15551234567").is_ok());
        assert!(E164::parse("+442079460958").is_ok());
        // libphonenumber calls 15 national digits possible for Germany.
        assert!(E164::parse("+49112670800012345").is_ok());
        for bad in [
            "15551234567",
            "+1 555 123 4567",
            "+05551234567",
            "+1",
            "+123456789012345678901",
            "",
            "+",
            "+1555123456a",
        ] {
            assert!(E164::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn masks_the_middle_of_the_number() {
        let n = E164::parse("+15551234567").unwrap();
        assert_eq!(n.masked(), "+1555•••4567");
        let short = E164::parse("+4930123").unwrap();
        assert_eq!(short.masked(), "+49•••23");
        assert!(!n.masked().contains("123"));
    }
}

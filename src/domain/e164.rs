use std::fmt;

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
    pub fn parse(value: &str) -> Result<Self, String> {
        let digits = value
            .strip_prefix('+')
            .ok_or_else(|| format!("{value:?} is not in E.164 form: it must start with '+'"))?;
        let well_formed = (3..=MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "{value:?} is not in E.164 form: '+' then 3 to {MAX_DIGITS} digits, the first not 0"
            ))
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

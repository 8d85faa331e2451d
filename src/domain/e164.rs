use std::fmt;

/// A phone number in E.164 form: `+`, a country code and a national number, 15 digits at most.
///
/// Only the normaliser (which checks the number against libphonenumber's metadata) and
/// [`E164::parse`] (for values that are already canonical, such as those read from the store)
/// build one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    /// Accepts only the canonical form `+[1-9][0-9]{2,14}`; it does not reformat anything.
    pub fn parse(value: &str) -> Result<Self, String> {
        let digits = value
            .strip_prefix('+')
            .ok_or_else(|| format!("{value:?} is not in E.164 form: it must start with '+'"))?;
        let well_formed = (3..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "{value:?} is not in E.164 form: '+' then 3 to 15 digits, the first not 0"
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
        for bad in [
            "15551234567",
            "+1 555 123 4567",
            "+05551234567",
            "+1",
            "+1234567890123456",
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

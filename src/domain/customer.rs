use super::E164;

/// Why a customer field was refused; the text names the field and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is missing")]
    Missing { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains control characters")]
    ControlCharacters { field: &'static str },
    #[error(
        "loyalty_points must be a whole number from 0 to {}, not {value}",
        LoyaltyPoints::MAX
    )]
    PointsOutOfRange { value: i64 },
    #[error(
        "loyalty_points must be a whole number from 0 to {}, not {raw:?}",
        LoyaltyPoints::MAX
    )]
    PointsNotAWholeNumber { raw: String },
    #[error("is_vip must be true/false, 1/0 or yes/no, not {raw:?}")]
    NotAVipFlag { raw: String },
    #[error("is_vip must be true or false, not {raw}")]
    NotABoolean { raw: String },
    #[error("{field} must not start or end with white space")]
    SurroundingWhiteSpace { field: &'static str },
}

/// White space as the API's schema spells it: Unicode's, the ASCII information separators
/// U+001C–U+001F and the byte-order mark U+FEFF, the union of what the regex dialects reading
/// the schema call space.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c) || c == '\u{feff}'
}

/// Text that is neither empty, longer than `max` characters, nor holds control characters.
fn plain_text(field: &'static str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::Empty { field });
    }
    if value.chars().count() > max {
        return Err(FieldError::TooLong { field, max });
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::ControlCharacters { field });
    }
    Ok(value.to_owned())
}

pub(super) const MAX_ID_CHARS: usize = 64;
pub(super) const MAX_NAME_CHARS: usize = 200;

/// The CRM's identifier for a customer, answered to the flow as `customer_id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        plain_text("customer_id", raw, MAX_ID_CHARS).map(Self)
    }

    /// As an API takes it: as written, without white space around it to trim.
    pub fn parse_exact(raw: &str) -> Result<Self, FieldError> {
        if !raw.is_empty() && raw.trim_matches(is_space) != raw {
            return Err(FieldError::SurroundingWhiteSpace {
                field: "customer_id",
            });
        }
        Self::parse(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The customer's display name, answered as `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerName(String);

impl CustomerName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        plain_text("name", raw, MAX_NAME_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-negative point balance that survives a trip through JSON in any client: Genesys and
/// JavaScript read JSON numbers as doubles, so anything above 2^53 - 1 would change silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoyaltyPoints(i64);

impl LoyaltyPoints {
    pub const MAX: i64 = (1 << 53) - 1;

    pub fn new(value: i64) -> Result<Self, FieldError> {
        if (0..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(FieldError::PointsOutOfRange { value })
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let number: i64 = value
            .parse()
            .map_err(|_| FieldError::PointsNotAWholeNumber {
                raw: value.to_owned(),
            })?;
        Self::new(number)
    }

    pub fn value(self) -> i64 {
        self.0
    }
}

/// `is_vip` as operators write it in spreadsheets: true/false, 1/0, yes/no (any case).
pub fn parse_is_vip(raw: &str) -> Result<bool, FieldError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(FieldError::NotAVipFlag {
            raw: other.to_owned(),
        }),
    }
}

/// What the lookup answers about a known caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: CustomerName,
    pub loyalty_points: LoyaltyPoints,
    pub is_vip: bool,
}

/// A customer with the numbers that identify them, as written to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerRecord {
    pub customer: Customer,
    pub phone_numbers: Vec<E164>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_id_is_trimmed_and_bounded() {
        assert_eq!(CustomerId::parse("  CUST-1 ").unwrap().as_str(), "CUST-1");
        assert!(CustomerId::parse("   ").is_err());
        assert!(CustomerId::parse(&"x".repeat(65)).is_err());
        assert!(CustomerId::parse("a\u{0}b").is_err());
    }

    #[test]
    fn loyalty_points_refuse_negative_fractional_and_unsafe_values() {
        assert_eq!(LoyaltyPoints::parse(" 1500 ").unwrap().value(), 1500);
        assert_eq!(LoyaltyPoints::parse("0").unwrap().value(), 0);
        for bad in ["-1", "1.5", "", "ten", "9007199254740992"] {
            assert!(
                LoyaltyPoints::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert!(LoyaltyPoints::parse("9007199254740991").is_ok());
    }

    #[test]
    fn is_vip_accepts_spreadsheet_spellings() {
        for yes in ["true", "TRUE", "1", "yes", " Yes "] {
            assert!(parse_is_vip(yes).unwrap(), "{yes:?}");
        }
        for no in ["false", "0", "no", "NO"] {
            assert!(!parse_is_vip(no).unwrap(), "{no:?}");
        }
        assert!(parse_is_vip("y").is_err());
        assert!(parse_is_vip("").is_err());
    }
}

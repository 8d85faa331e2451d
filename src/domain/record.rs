//! A customer record from the fields an import row or an admin request gives: every problem is
//! found and named, not just the first. Phone numbers are normalised by the caller's function,
//! so this module stays free of the parser and its metadata.

use super::customer::{MAX_ID_CHARS, MAX_NAME_CHARS};
use super::{
    Customer, CustomerField, CustomerId, CustomerName, CustomerRecord, E164, FieldError,
    LoyaltyPoints, NotAPhoneNumber, parse_is_vip,
};

/// Why a customer record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblem {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("phone number {raw:?} is not usable: {why}")]
    PhoneNumber { raw: String, why: NotAPhoneNumber },
    #[error("phone_numbers is empty: a customer needs at least one number")]
    NoPhoneNumbers,
    #[error("unknown field {0:?}")]
    UnknownField(String),
    #[error("customer_id in the body differs from the one in the path")]
    IdMismatch,
    #[error("the body must be a JSON object with name, loyalty_points, is_vip and phone_numbers")]
    NotAnObject,
}

/// How JSON values are read: leniently in import files (spreadsheet spellings such as
/// `"yes"` or `"12"`), strictly in the admin API, whose schema promises JSON types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonTypes {
    Lenient,
    Strict,
}

/// A field as the source gave it: CSV text, or a JSON value (absent when missing).
pub enum FieldValue<'a> {
    Text(&'a str),
    Json(Option<&'a serde_json::Value>),
    /// A JSON value that must already have the field's JSON type.
    StrictJson(Option<&'a serde_json::Value>),
}

impl FieldValue<'_> {
    fn points(&self) -> Result<LoyaltyPoints, FieldError> {
        match self {
            Self::StrictJson(Some(serde_json::Value::Number(n))) if n.is_i64() => {
                LoyaltyPoints::new(n.as_i64().unwrap_or(-1))
            }
            // `42.0` is the integer 42 to JSON Schema, and so to the API's schema.
            Self::StrictJson(Some(serde_json::Value::Number(n)))
                if n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() <= LoyaltyPoints::MAX as f64) =>
            {
                #[allow(clippy::cast_possible_truncation)]
                LoyaltyPoints::new(n.as_f64().unwrap_or(-1.0) as i64)
            }
            Self::StrictJson(Some(other)) => Err(FieldError::PointsNotAWholeNumber {
                raw: other.to_string(),
            }),
            Self::StrictJson(None) => Err(FieldError::Missing {
                field: "loyalty_points",
            }),
            Self::Text(text) => LoyaltyPoints::parse(text),
            Self::Json(Some(serde_json::Value::Number(n))) if n.is_i64() => {
                LoyaltyPoints::new(n.as_i64().unwrap_or(-1))
            }
            // A spreadsheet's `"12"`: read as the cell's text, as in CSV.
            Self::Json(Some(serde_json::Value::String(text))) => LoyaltyPoints::parse(text),
            Self::Json(None | Some(serde_json::Value::Null)) => Err(FieldError::Missing {
                field: "loyalty_points",
            }),
            Self::Json(Some(other)) => LoyaltyPoints::parse(&other.to_string()),
        }
    }

    fn is_vip(&self) -> Result<bool, FieldError> {
        match self {
            Self::StrictJson(Some(serde_json::Value::Bool(b))) => Ok(*b),
            Self::StrictJson(Some(other)) => Err(FieldError::NotABoolean {
                raw: other.to_string(),
            }),
            Self::StrictJson(None) => Err(FieldError::Missing { field: "is_vip" }),
            Self::Text(text) => parse_is_vip(text),
            Self::Json(Some(serde_json::Value::Bool(b))) => Ok(*b),
            Self::Json(Some(serde_json::Value::String(text))) => parse_is_vip(text),
            Self::Json(None | Some(serde_json::Value::Null)) => {
                Err(FieldError::Missing { field: "is_vip" })
            }
            Self::Json(Some(other)) => parse_is_vip(&other.to_string()),
        }
    }
}

/// Text as the API takes it: what `CustomerId`/`CustomerName` accept, and no white space around.
fn exact_text_problem(field: &'static str, text: &str, max: usize) -> Option<FieldError> {
    if text.chars().count() > max {
        Some(FieldError::TooLong { field, max })
    } else if !text.is_empty() && text.trim_matches(super::is_space) != text {
        Some(FieldError::SurroundingWhiteSpace { field })
    } else {
        None
    }
}

/// The value, or `None` with the problem noted.
fn noted<T>(result: Result<T, FieldError>, problems: &mut Vec<RecordProblem>) -> Option<T> {
    result.map_err(|e| problems.push(e.into())).ok()
}

impl CustomerRecord {
    /// The record the fields describe, or every reason they do not describe one. `normalise`
    /// turns each written number into E.164 as lookups will.
    pub fn validate(
        id: &str,
        name: &str,
        points: FieldValue<'_>,
        vip: FieldValue<'_>,
        numbers: &[&str],
        normalise: impl Fn(&str) -> Result<E164, NotAPhoneNumber>,
    ) -> Result<Self, Vec<RecordProblem>> {
        let mut problems = Vec::new();
        let id = noted(CustomerId::parse(id), &mut problems);
        let name = noted(CustomerName::parse(name), &mut problems);
        let loyalty_points = noted(points.points(), &mut problems);
        let is_vip = noted(vip.is_vip(), &mut problems);

        let mut phone_numbers: Vec<E164> = Vec::new();
        for raw in numbers.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            match normalise(raw) {
                // The same number written twice for one customer is one number.
                Ok(number) if phone_numbers.contains(&number) => {}
                Ok(number) => phone_numbers.push(number),
                Err(why) => problems.push(RecordProblem::PhoneNumber {
                    raw: raw.to_owned(),
                    why,
                }),
            }
        }
        if numbers.iter().all(|s| s.trim().is_empty()) {
            problems.push(RecordProblem::NoPhoneNumbers);
        }
        match (id, name, loyalty_points, is_vip) {
            (Some(id), Some(name), Some(loyalty_points), Some(is_vip)) if problems.is_empty() => {
                Ok(Self {
                    customer: Customer {
                        id,
                        name,
                        loyalty_points,
                        is_vip,
                    },
                    phone_numbers,
                })
            }
            _ => Err(problems),
        }
    }

    /// A record from a JSON object with `name`, `loyalty_points`, `is_vip` and
    /// `phone_numbers` (JSON Lines import, the admin API).
    pub fn from_json(
        id: &str,
        object: &serde_json::Map<String, serde_json::Value>,
        types: JsonTypes,
        normalise: impl Fn(&str) -> Result<E164, NotAPhoneNumber>,
    ) -> Result<Self, Vec<RecordProblem>> {
        let name = object
            .get(CustomerField::Name.name())
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        // The API's schema bounds the text as sent, before any trimming.
        let mut problems: Vec<RecordProblem> = match types {
            JsonTypes::Lenient => Vec::new(),
            JsonTypes::Strict => [
                ("customer_id", id, MAX_ID_CHARS),
                ("name", name, MAX_NAME_CHARS),
            ]
            .into_iter()
            .filter_map(|(field, text, max)| exact_text_problem(field, text, max))
            .map(RecordProblem::from)
            .collect(),
        };
        let numbers: Vec<String> = match (object.get(CustomerField::PhoneNumbers.name()), types) {
            (Some(serde_json::Value::Array(items)), _) => items
                .iter()
                .map(|v| match (v, types) {
                    (serde_json::Value::String(text), _) => text.clone(),
                    // An export's digits written as a JSON number.
                    (serde_json::Value::Number(n), JsonTypes::Lenient) => n.to_string(),
                    // A value no normaliser accepts, so it is reported.
                    _ => "\u{0}".to_owned(),
                })
                .collect(),
            // One number, or several separated by `;` as in CSV, given as a string.
            (Some(serde_json::Value::String(text)), JsonTypes::Lenient) => {
                text.split(';').map(str::to_owned).collect()
            }
            _ => Vec::new(),
        };
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        let value = |field: &str| match types {
            JsonTypes::Lenient => FieldValue::Json(object.get(field)),
            JsonTypes::Strict => FieldValue::StrictJson(object.get(field)),
        };
        match Self::validate(
            id,
            name,
            value(CustomerField::LoyaltyPoints.name()),
            value(CustomerField::IsVip.name()),
            &numbers,
            normalise,
        ) {
            Ok(record) if problems.is_empty() => Ok(record),
            Ok(_) => Err(problems),
            Err(more) => {
                for problem in more {
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                }
                Err(problems)
            }
        }
    }
}

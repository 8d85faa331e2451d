//! Answer fields beyond the contract's four, which the operator turns on (`--answer-fields`):
//! flat, never null, in the order the operator listed them, after the four.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{LookupOutcome, MatchOutcome};
use crate::domain::AnswerBody;

crate::named_values! {
    /// A field a lookup answer may carry besides the four of the contract.
    pub enum AnswerField {
        /// How the caller ID matched: unique, shared, none, withheld or not_a_number.
        Match => "match",
        /// How many customers have the number: 0, 1, or more for a shared number.
        MatchCount => "match_count",
    }
}

impl AnswerField {
    /// The field's JSON Schema type, for the exported data action's contract.
    pub fn json_type(self) -> &'static str {
        match self {
            Self::Match => "string",
            Self::MatchCount => "integer",
        }
    }

    /// The field's value for the outcome answered; `None` for an answer without one (a
    /// degraded answer after a store failure), which reads as no match.
    pub fn value(self, outcome: Option<&LookupOutcome>) -> FieldValue {
        match self {
            Self::Match => FieldValue::Text(
                outcome
                    .map_or(MatchOutcome::None, LookupOutcome::match_outcome)
                    .name(),
            ),
            Self::MatchCount => FieldValue::Count(outcome.map_or(0, LookupOutcome::match_count)),
        }
    }

    /// What the field reads when nobody answers it: the data action's default for it.
    pub fn absent_value(self) -> serde_json::Value {
        match self.value(None) {
            FieldValue::Text(text) => text.into(),
            FieldValue::Count(count) => count.into(),
        }
    }
}

/// An answer field's value, as JSON writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Text(&'static str),
    Count(u64),
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Count(count) => serializer.serialize_u64(*count),
        }
    }
}

/// The extra fields an answer carries; none by default, so the answer is the contract's four.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerFields(Vec<AnswerField>);

impl AnswerFields {
    /// A comma-separated list of field names, each at most once (`match,match_count`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut fields = Vec::new();
        for name in list
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            let field: AnswerField = name.parse()?;
            if fields.contains(&field) {
                return Err(format!("{name:?} is listed twice"));
            }
            fields.push(field);
        }
        Ok(Self(fields))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> &[AnswerField] {
        &self.0
    }

    /// The answer as sent: the contract's four fields, then these (none by default, which
    /// writes exactly the four). `outcome` is `None` for a degraded answer.
    pub fn render<'a>(
        &'a self,
        answer: &'a AnswerBody,
        outcome: Option<&'a LookupOutcome>,
    ) -> AnswerWithFields<'a> {
        AnswerWithFields {
            answer,
            outcome,
            fields: self,
        }
    }
}

/// An answer serialised with its extra fields.
pub struct AnswerWithFields<'a> {
    answer: &'a AnswerBody,
    outcome: Option<&'a LookupOutcome>,
    fields: &'a AnswerFields,
}

impl Serialize for AnswerWithFields<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let answer = self.answer;
        let mut map = serializer.serialize_map(Some(4 + self.fields.0.len()))?;
        map.serialize_entry("customer_id", &answer.customer_id)?;
        map.serialize_entry("name", &answer.name)?;
        map.serialize_entry("loyalty_points", &answer.loyalty_points)?;
        map.serialize_entry("is_vip", &answer.is_vip)?;
        for field in &self.fields.0 {
            map.serialize_entry(field.name(), &field.value(self.outcome))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Customer, CustomerId, CustomerName, E164, LoyaltyPoints};

    fn unknown() -> AnswerBody {
        AnswerBody {
            customer_id: "UNKNOWN".into(),
            name: "Unknown Customer".into(),
            loyalty_points: 0,
            is_vip: false,
        }
    }

    #[test]
    fn fields_follow_the_four_in_the_order_listed() {
        let fields = AnswerFields::parse("match_count, match").unwrap();
        let number = E164::parse("+15550000001").unwrap();
        let first = Customer {
            id: CustomerId::parse("C-1").unwrap(),
            name: CustomerName::parse("Ann").unwrap(),
            loyalty_points: LoyaltyPoints::new(3).unwrap(),
            is_vip: false,
        };
        let outcome = LookupOutcome::Shared {
            number,
            count: 12,
            first,
            any_vip: false,
        };
        let answer = unknown();
        let text = serde_json::to_string(&fields.render(&answer, Some(&outcome))).unwrap();
        assert_eq!(
            text,
            r#"{"customer_id":"UNKNOWN","name":"Unknown Customer","loyalty_points":0,"is_vip":false,"match_count":12,"match":"shared"}"#
        );
        let degraded = serde_json::to_string(&fields.render(&answer, None)).unwrap();
        assert!(
            degraded.ends_with(r#""match_count":0,"match":"none"}"#),
            "{degraded}"
        );
    }

    #[test]
    fn without_fields_the_answer_is_the_contracts_four_byte_for_byte() {
        let answer = unknown();
        let none = AnswerFields::default();
        assert_eq!(
            serde_json::to_string(&none.render(&answer, None)).unwrap(),
            serde_json::to_string(&answer).unwrap()
        );
        assert_eq!(AnswerField::Match.absent_value(), serde_json::json!("none"));
        assert_eq!(AnswerField::MatchCount.absent_value(), serde_json::json!(0));
    }

    #[test]
    fn unknown_and_repeated_names_are_refused() {
        assert!(AnswerFields::parse("").unwrap().is_empty());
        assert!(
            AnswerFields::parse("match,colour")
                .unwrap_err()
                .contains("colour")
        );
        assert!(
            AnswerFields::parse("match,match")
                .unwrap_err()
                .contains("twice")
        );
    }
}

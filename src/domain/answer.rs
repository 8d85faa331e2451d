use serde::Serialize;

use super::Customer;

/// The body of a 200 lookup answer: exactly these four fields, never null, because a Genesys
/// data action's output contract fails on a missing or mistyped field.
/// (The OpenAPI document names its schema `LookupAnswer`, as clients generated from it know it.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = LookupAnswer)]
#[schema(example = json!({"customer_id": "CUST-001", "name": "Alice Smith", "loyalty_points": 1500, "is_vip": true}))]
#[serde(deny_unknown_fields)] // documents `additionalProperties: false`; serialising is unaffected
pub struct AnswerBody {
    /// The CRM's customer id, or the unknown-caller default (`UNKNOWN`).
    pub customer_id: String,
    pub name: String,
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub loyalty_points: i64,
    pub is_vip: bool,
}

impl From<&Customer> for AnswerBody {
    fn from(customer: &Customer) -> Self {
        Self {
            customer_id: customer.id.as_str().to_owned(),
            name: customer.name.as_str().to_owned(),
            loyalty_points: customer.loyalty_points.value(),
            is_vip: customer.is_vip,
        }
    }
}

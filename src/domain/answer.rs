use serde::Serialize;

use super::Customer;

/// The body of a 200 lookup answer: exactly these four fields, never null, because a Genesys
/// data action's output contract fails on a missing or mistyped field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LookupAnswer {
    pub customer_id: String,
    pub name: String,
    pub loyalty_points: i64,
    pub is_vip: bool,
}

impl From<&Customer> for LookupAnswer {
    fn from(customer: &Customer) -> Self {
        Self {
            customer_id: customer.id.as_str().to_owned(),
            name: customer.name.as_str().to_owned(),
            loyalty_points: customer.loyalty_points.value(),
            is_vip: customer.is_vip,
        }
    }
}

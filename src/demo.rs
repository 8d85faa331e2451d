//! The two customers of the seed documents, for trying a flow against a fresh install.

use crate::domain::{Customer, CustomerId, CustomerName, CustomerRecord, E164, LoyaltyPoints};

pub fn customers() -> Vec<CustomerRecord> {
    let demo =
        |id: &str, name: &str, points: i64, is_vip: bool, number: &str| -> Option<CustomerRecord> {
            Some(CustomerRecord {
                customer: Customer {
                    id: CustomerId::parse(id).ok()?,
                    name: CustomerName::parse(name).ok()?,
                    loyalty_points: LoyaltyPoints::new(points).ok()?,
                    is_vip,
                },
                phone_numbers: vec![E164::parse(number).ok()?],
            })
        };
    [
        demo("CUST-001", "Alice Smith", 1500, true, "+15551234567"),
        demo("CUST-002", "Bob Jones", 200, false, "+15559876543"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_demo_customers_are_valid() {
        let ids: Vec<String> = super::customers()
            .iter()
            .map(|r| r.customer.id.as_str().to_owned())
            .collect();
        assert_eq!(ids, ["CUST-001", "CUST-002"]);
    }
}

use super::Customer;

/// The customers a phone number belongs to, as a lookup needs them: a number may be shared (a
/// household landline, a company switchboard), and a lookup must know that it is before it
/// names anybody.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberOwners {
    /// No customer has the number.
    Nobody,
    /// Exactly one customer has it.
    One(Customer),
    /// Several customers have it.
    Shared {
        /// How many customers have the number (two or more).
        count: u64,
        /// The owner with the smallest customer id: the one the `first` policy names.
        first: Customer,
        /// Whether any of the owners is a VIP.
        any_vip: bool,
    },
}

impl NumberOwners {
    /// How many customers have the number.
    pub fn count(&self) -> u64 {
        match self {
            Self::Nobody => 0,
            Self::One(_) => 1,
            Self::Shared { count, .. } => *count,
        }
    }

    /// The owners from a list of them in any order (the store's rows for one number).
    pub fn from_customers(customers: impl IntoIterator<Item = Customer>) -> Self {
        let mut count = 0u64;
        let mut any_vip = false;
        let mut first: Option<Customer> = None;
        for customer in customers {
            count += 1;
            any_vip |= customer.is_vip;
            if first.as_ref().is_none_or(|f| customer.id < f.id) {
                first = Some(customer);
            }
        }
        match (count, first) {
            (_, None) => Self::Nobody,
            (1, Some(only)) => Self::One(only),
            (count, Some(first)) => Self::Shared {
                count,
                first,
                any_vip,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CustomerId, CustomerName, LoyaltyPoints};

    fn customer(id: &str, is_vip: bool) -> Customer {
        Customer {
            id: CustomerId::parse(id).unwrap(),
            name: CustomerName::parse("Someone").unwrap(),
            loyalty_points: LoyaltyPoints::new(1).unwrap(),
            is_vip,
        }
    }

    #[test]
    fn owners_are_counted_and_the_smallest_id_comes_first_whatever_the_order() {
        assert_eq!(NumberOwners::from_customers([]), NumberOwners::Nobody);
        assert_eq!(
            NumberOwners::from_customers([customer("B", false)]),
            NumberOwners::One(customer("B", false))
        );
        let shared = NumberOwners::from_customers([
            customer("C", false),
            customer("A", false),
            customer("B", true),
        ]);
        assert_eq!(
            shared,
            NumberOwners::Shared {
                count: 3,
                first: customer("A", false),
                any_vip: true
            }
        );
        assert_eq!(shared.count(), 3);
        let plain = NumberOwners::from_customers([customer("A", false), customer("B", false)]);
        assert!(matches!(
            plain,
            NumberOwners::Shared {
                any_vip: false,
                count: 2,
                ..
            }
        ));
    }
}

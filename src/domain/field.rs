//! The fields a customer is written with, in the order files and documents list them: the one
//! list import headers, exports, the admin API and the OpenAPI document share.

/// One field of a customer as files and JSON bodies name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CustomerField {
    CustomerId,
    Name,
    LoyaltyPoints,
    IsVip,
    PhoneNumbers,
}

impl CustomerField {
    /// Every field, in the native CSV header's order.
    pub const ALL: [Self; 5] = [
        Self::CustomerId,
        Self::Name,
        Self::LoyaltyPoints,
        Self::IsVip,
        Self::PhoneNumbers,
    ];

    /// Every field's name, in the order of `ALL`.
    pub const NAMES: [&'static str; 5] = [
        Self::CustomerId.name(),
        Self::Name.name(),
        Self::LoyaltyPoints.name(),
        Self::IsVip.name(),
        Self::PhoneNumbers.name(),
    ];

    /// The name in a CSV header, a JSON Lines row and an admin request body.
    pub const fn name(self) -> &'static str {
        match self {
            Self::CustomerId => "customer_id",
            Self::Name => "name",
            Self::LoyaltyPoints => "loyalty_points",
            Self::IsVip => "is_vip",
            Self::PhoneNumbers => "phone_numbers",
        }
    }

    /// The field of this exact name.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|field| field.name() == name)
    }

    /// Whether every record must give it (the others have defaults).
    pub const fn is_required(self) -> bool {
        !matches!(self, Self::LoyaltyPoints | Self::IsVip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_found_by_its_name() {
        for field in CustomerField::ALL {
            assert_eq!(CustomerField::named(field.name()), Some(field));
        }
        assert_eq!(
            CustomerField::NAMES.join(","),
            "customer_id,name,loyalty_points,is_vip,phone_numbers"
        );
        assert_eq!(CustomerField::named("region"), None);
    }
}

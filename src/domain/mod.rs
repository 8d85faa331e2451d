//! Types that can only hold valid values. Each is built by a `parse` that says why it refused.
//! No I/O here.

mod answer;
mod customer;
mod e164;
mod field;
mod network;
mod owners;
pub mod record;
pub mod secret;

pub use answer::AnswerBody;
pub use customer::{
    Customer, CustomerId, CustomerName, CustomerRecord, FieldError, LoyaltyPoints, is_space,
    parse_is_vip,
};
pub use e164::{E164, InvalidE164, MAX_DIGITS, NotAPhoneNumber};
pub use field::CustomerField;
pub use network::parse_network;
pub use owners::NumberOwners;
pub use record::{FieldValue, RecordProblem};
pub use secret::{ApiKey, BasicCredential};

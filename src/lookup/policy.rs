//! The operator's choices for callers the store cannot name, or names more than once.

use std::time::Duration;

use super::AnswerFields;
use crate::domain::AnswerBody;

crate::named_values! {
    /// The status an unknown caller gets: 200 with the default answer, or 404 for flows that branch
    /// on failure.
    pub enum UnknownStatus {
        Ok => "200",
        NotFound => "404",
    }
}

crate::named_values! {
    /// What a lookup answers when the store fails or misses its deadline.
    pub enum OnStoreError {
        /// 503 store_unavailable with Retry-After: the flow takes its Failure path.
        Fail => "fail",
        /// The unknown-caller answer, marked degraded: the flow goes on as for a stranger.
        Default => "default",
    }
}

crate::named_values! {
    /// What a caller whose number several customers share is answered (docs/shared-numbers.md).
    pub enum OnSharedNumber {
        /// The unknown-caller answer: nobody is greeted by another person's name.
        Unknown => "unknown",
        /// The unknown-caller answer, but VIP when any of the number's customers is one: a VIP
        /// household is routed as VIP without naming anyone. A number with no VIP on it is
        /// answered as an unknown caller.
        AnyVip => "any-vip",
        /// The customer with the smallest customer id, named: for stores where the customers
        /// sharing a number are one account (the admin's choice, never the default).
        First => "first",
    }
}

/// The operator's choices for callers the store cannot name.
#[derive(Clone, Debug)]
pub struct LookupPolicy {
    pub unknown_answer: AnswerBody,
    pub unknown_status: UnknownStatus,
    pub on_store_error: OnStoreError,
    pub on_shared_number: OnSharedNumber,
    /// The fields answered beyond the four of the contract (none by default).
    pub answer_fields: AnswerFields,
    /// Every store call gives up after this, so a hung database costs a caller this much at most.
    pub deadline: Duration,
}

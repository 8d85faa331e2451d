//! One lookup: normalise the caller ID, then ask the store. Shared by the HTTP handler and the
//! `lookup` command so both answer the same way.

use crate::domain::{Customer, E164, LookupAnswer};
use crate::normalise::{NotAPhoneNumber, PhoneNormaliser};
use crate::store::{CustomerStore, StoreError};

/// How long a data action should wait for this service: even with the database unreachable it
/// answers (503) once a pooled connection has not come within the store's acquire timeout (5 s);
/// one more second covers the network.
pub const WORST_CASE_ANSWER_SECONDS: u8 = 6;

/// What a lookup found out about a caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupOutcome {
    Found {
        number: E164,
        customer: Customer,
    },
    /// A real number that no customer has.
    Unknown {
        number: E164,
    },
    /// A caller ID that is no phone number (withheld, junk): also an unknown caller.
    Invalid(NotAPhoneNumber),
}

impl LookupOutcome {
    /// `found`, `unknown` or `invalid`, for logs.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Found { .. } => "found",
            Self::Unknown { .. } => "unknown",
            Self::Invalid(_) => "invalid",
        }
    }

    /// The number as logs may show it, or why there is none.
    pub fn masked_number(&self) -> String {
        match self {
            Self::Found { number, .. } | Self::Unknown { number } => number.masked(),
            Self::Invalid(why) => format!("({})", why.code()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Lookup {
    normaliser: PhoneNormaliser,
    store: CustomerStore,
    unknown_answer: LookupAnswer,
}

impl Lookup {
    pub fn new(
        normaliser: PhoneNormaliser,
        store: CustomerStore,
        unknown_answer: LookupAnswer,
    ) -> Self {
        Self {
            normaliser,
            store,
            unknown_answer,
        }
    }

    pub async fn lookup(&self, caller_id: &str) -> Result<LookupOutcome, StoreError> {
        let number = match self.normaliser.normalise(caller_id) {
            Ok(number) => number,
            Err(why) => return Ok(LookupOutcome::Invalid(why)),
        };
        Ok(match self.store.find_by_number(&number).await? {
            Some(customer) => LookupOutcome::Found { number, customer },
            None => LookupOutcome::Unknown { number },
        })
    }

    /// The answer for a caller: the customer, or the configured default for unknown callers.
    pub fn answer(&self, outcome: &LookupOutcome) -> LookupAnswer {
        match outcome {
            LookupOutcome::Found { customer, .. } => LookupAnswer::from(customer),
            LookupOutcome::Unknown { .. } | LookupOutcome::Invalid(_) => {
                self.unknown_answer.clone()
            }
        }
    }

    pub fn store(&self) -> &CustomerStore {
        &self.store
    }
}

//! What a lookup recognised, and what the policy decided from it.

use crate::domain::{AnswerBody, Customer, E164, NumberOwners};
use crate::normalise::{NormaliseTrace, NotAPhoneNumber};
use crate::store::StoreError;

/// What a lookup found out about a caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupOutcome {
    /// Exactly one customer has the number.
    Unique { number: E164, customer: Customer },
    /// Several customers have the number.
    Shared {
        number: E164,
        /// How many (two or more).
        count: u64,
        /// The one with the smallest customer id.
        first: Customer,
        any_vip: bool,
    },
    /// A real number that no customer has.
    Unknown { number: E164 },
    /// A caller ID that is no phone number (withheld, junk): also an unknown caller.
    Invalid(NotAPhoneNumber),
}

impl LookupOutcome {
    /// The outcome for a number and what the store said about it.
    pub fn of_owners(number: E164, owners: NumberOwners) -> Self {
        match owners {
            NumberOwners::Nobody => Self::Unknown { number },
            NumberOwners::One(customer) => Self::Unique { number, customer },
            NumberOwners::Shared {
                count,
                first,
                any_vip,
            } => Self::Shared {
                number,
                count,
                first,
                any_vip,
            },
        }
    }

    /// `found`, `shared`, `unknown` or `invalid`, for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Unique { .. } => "found",
            Self::Shared { .. } => "shared",
            Self::Unknown { .. } => "unknown",
            Self::Invalid(_) => "invalid",
        }
    }

    /// The number as logs may show it, or why there is none.
    pub fn masked_number(&self) -> String {
        match self {
            Self::Unique { number, .. }
            | Self::Shared { number, .. }
            | Self::Unknown { number } => number.masked(),
            Self::Invalid(why) => format!("({})", why.code()),
        }
    }

    /// The match outcome a flow may branch on (answer field `match`).
    pub fn match_outcome(&self) -> MatchOutcome {
        match self {
            Self::Unique { .. } => MatchOutcome::Unique,
            Self::Shared { .. } => MatchOutcome::Shared,
            Self::Unknown { .. } => MatchOutcome::None,
            Self::Invalid(NotAPhoneNumber::Withheld) => MatchOutcome::Withheld,
            Self::Invalid(_) => MatchOutcome::NotANumber,
        }
    }

    /// How many customers have the number (answer field `match_count`): 0 without a number.
    pub fn match_count(&self) -> u64 {
        match self {
            Self::Unique { .. } => 1,
            Self::Shared { count, .. } => *count,
            Self::Unknown { .. } | Self::Invalid(_) => 0,
        }
    }
}

crate::named_values! {
    /// How the caller ID matched the store, as the `match` answer field names it.
    pub enum MatchOutcome {
        /// Exactly one customer has the number.
        Unique => "unique",
        /// Several customers have it (`match_count` says how many).
        Shared => "shared",
        /// A real number that no customer has.
        None => "none",
        /// The caller withheld their number (`anonymous`, `Restricted` …).
        Withheld => "withheld",
        /// A caller ID that is no phone number (too short, junk …).
        NotANumber => "not_a_number",
    }
}

/// Where an outcome came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredFrom {
    /// The answer cache held the number.
    Cache,
    /// The store was asked.
    Store,
    /// There was no number to look up.
    NoNumber,
}

/// What a lookup recognised before the policy: the outcome and where it came from.
#[derive(Clone, Debug)]
pub struct Recognition {
    pub outcome: LookupOutcome,
    pub source: AnsweredFrom,
}

/// What the policy decided the caller is answered.
#[derive(Debug)]
pub enum Decision {
    /// The customer, or the unknown-caller answer for a stranger (or a shared number, by the
    /// shared-number policy).
    Answer {
        recognition: Recognition,
        answer: AnswerBody,
    },
    /// The store failed and `--on-store-error default` answers as for a stranger.
    Degraded {
        answer: AnswerBody,
        failure: StoreError,
    },
}

/// A lookup shown step by step (`explain`).
#[derive(Debug)]
pub struct Explanation {
    pub normalisation: NormaliseTrace,
    pub decision: Result<Decision, LookupError>,
}

/// Why a caller gets no answer.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// An unknown caller, with `--unknown-status 404`.
    #[error("no customer has this phone number")]
    CustomerNotFound { recognition: Recognition },
    /// The store failed or missed the deadline, with `--on-store-error fail`.
    #[error("the customer store is not answering: {0}")]
    StoreUnavailable(#[source] StoreError),
}

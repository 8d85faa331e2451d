//! One lookup: normalise the caller ID, then ask the store. Shared by the HTTP handler and the
//! `lookup` command so both answer the same way.

use crate::cache::{AnswerCache, CacheSettings};
use crate::domain::{Customer, E164, LookupAnswer};
use crate::normalise::{NotAPhoneNumber, ParsedCallerIds, PhoneNormaliser};
use crate::store::{CustomerStore, StoreError};

use std::time::Duration;

/// How long a data action should wait for this service: it answers within the store deadline
/// even when the database hangs or is gone; two more seconds cover the network and the tunnel.
pub fn action_timeout_seconds(store_deadline: Duration) -> u8 {
    let seconds = store_deadline.as_secs_f64().ceil() as u64 + 2;
    seconds.clamp(1, 60) as u8
}

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

#[derive(Clone)]
pub struct Lookup {
    normaliser: PhoneNormaliser,
    store: CustomerStore,
    unknown_answer: LookupAnswer,
    /// Every store call gives up after this, so a hung database costs a caller this much at most.
    deadline: Duration,
    /// Answers by number, found or not; store errors are never cached.
    cache: Option<std::sync::Arc<AnswerCache>>,
    /// Caller IDs that needed the full parse, and what it said (sized like the cache).
    parsed: Option<std::sync::Arc<ParsedCallerIds>>,
    cache_hits: prometheus::IntCounter,
    cache_misses: prometheus::IntCounter,
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookup")
            .field("store", &self.store.backend())
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Lookup {
    pub fn new(
        normaliser: PhoneNormaliser,
        store: CustomerStore,
        unknown_answer: LookupAnswer,
        deadline: Duration,
    ) -> Self {
        let counter = |name: &str, help: &str| {
            prometheus::IntCounter::new(name, help).unwrap_or_else(|_| {
                prometheus::IntCounter::new("unnamed", "unnamed").expect("a valid name")
            })
        };
        Self {
            normaliser,
            store,
            unknown_answer,
            deadline,
            cache: None,
            parsed: None,
            cache_hits: counter("cache_hits_total", "Lookups answered from the cache"),
            cache_misses: counter("cache_misses_total", "Lookups that went to the store"),
        }
    }

    /// Keeps answers in memory (`ttl` zero leaves that off), and parse results of caller IDs
    /// that are not already E.164 (`max_entries` zero leaves that off too).
    pub fn with_cache(mut self, settings: CacheSettings) -> Self {
        self.cache = AnswerCache::new(settings).map(std::sync::Arc::new);
        // Parse results never go stale, so they are kept even when answers are not.
        self.parsed = usize::try_from(settings.max_entries)
            .ok()
            .filter(|&size| size > 0)
            .map(|size| std::sync::Arc::new(ParsedCallerIds::new(size)));
        self
    }

    pub async fn lookup(&self, caller_id: &str) -> Result<LookupOutcome, StoreError> {
        let normalised = match &self.parsed {
            Some(parsed) => self.normaliser.normalise_remembering(caller_id, parsed),
            None => self.normaliser.normalise(caller_id),
        };
        let number = match normalised {
            Ok(number) => number,
            Err(why) => return Ok(LookupOutcome::Invalid(why)),
        };
        let cached = self.cache.as_ref().and_then(|cache| cache.get(&number));
        let found = match cached {
            Some(found) => {
                self.cache_hits.inc();
                found
            }
            None => {
                self.cache_misses.inc();
                let found = tokio::time::timeout(self.deadline, self.store.find_by_number(&number))
                    .await
                    .map_err(|_| StoreError::DeadlineExceeded(self.deadline))??;
                if let Some(cache) = &self.cache {
                    cache.insert(number.clone(), found.clone());
                }
                found
            }
        };
        Ok(match found {
            Some(customer) => LookupOutcome::Found { number, customer },
            None => LookupOutcome::Unknown { number },
        })
    }

    /// Forgets every cached answer: this instance changed the store.
    pub fn invalidate_cache(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// The cache's hit and miss counters, for the metrics registry.
    pub fn cache_counters(&self) -> [prometheus::IntCounter; 2] {
        [self.cache_hits.clone(), self.cache_misses.clone()]
    }

    /// Whether the store answers within the deadline.
    pub async fn ready(&self) -> Result<(), StoreError> {
        tokio::time::timeout(self.deadline, self.store.ping())
            .await
            .map_err(|_| StoreError::DeadlineExceeded(self.deadline))?
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

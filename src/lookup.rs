//! The one place that decides what a caller gets: normalise the caller ID, answer from the cache
//! or the store within the deadline, and apply the policy for unknown callers and store failures.
//! The HTTP handler and the `lookup` command both ask here, so both answer the same way; what
//! was counted and logged is the caller's business.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::cache::{AnswerCache, CacheSettings};
use crate::domain::{Customer, E164, LookupAnswer};
use crate::normalise::{NormaliseTrace, NotAPhoneNumber, ParsedCallerIds, PhoneNormaliser};
use crate::store::{Change, ChangeSource, CustomerStore, StoreError};

/// How long a data action should wait for this service: it answers within the store deadline
/// even when the database hangs or is gone; two more seconds cover the network and the tunnel.
pub fn action_timeout_seconds(store_deadline: Duration) -> u8 {
    let seconds = store_deadline.as_secs_f64().ceil() as u64 + 2;
    seconds.clamp(1, 60) as u8
}

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

/// The operator's choices for callers the store cannot name.
#[derive(Clone, Debug)]
pub struct LookupPolicy {
    pub unknown_answer: LookupAnswer,
    pub unknown_status: UnknownStatus,
    pub on_store_error: OnStoreError,
    /// Every store call gives up after this, so a hung database costs a caller this much at most.
    pub deadline: Duration,
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
    /// `found`, `unknown` or `invalid`, for logs and metrics.
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

/// Where an outcome came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerSource {
    /// The answer cache held the number.
    Cache,
    /// The store was asked.
    Store,
    /// There was no number to look up.
    NoNumber,
}

/// A lookup's result before the policy: the outcome and where it came from.
#[derive(Clone, Debug)]
pub struct Found {
    pub outcome: LookupOutcome,
    pub source: AnswerSource,
}

/// What the caller is answered.
#[derive(Debug)]
pub enum Answered {
    /// The customer, or the unknown-caller answer for a stranger.
    Answer { found: Found, answer: LookupAnswer },
    /// The store failed and `--on-store-error default` answers as for a stranger.
    Degraded {
        answer: LookupAnswer,
        failure: StoreError,
    },
}

/// A lookup shown step by step (`explain`).
#[derive(Debug)]
pub struct Explanation {
    pub normalisation: NormaliseTrace,
    pub decision: Result<Answered, LookupError>,
}

/// Why a caller gets no answer.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// An unknown caller, with `--unknown-status 404`.
    #[error("no customer has this phone number")]
    CustomerNotFound { found: Found },
    /// The store failed or missed the deadline, with `--on-store-error fail`.
    #[error("the customer store is not answering: {0}")]
    StoreUnavailable(#[source] StoreError),
}

/// How current the cached answers are: whether changes are heard, and how many invalidations
/// they caused. Read by the status pages; changed by `Lookup::apply`.
#[derive(Debug, Default)]
pub struct Freshness {
    /// How changes are heard; `None` when they cannot be (an in-memory SQLite database).
    source: std::sync::OnceLock<ChangeSource>,
    listening: AtomicBool,
    numbers_invalidated: AtomicU64,
    caches_cleared: AtomicU64,
    listener_losses: AtomicU64,
}

impl Freshness {
    pub fn source(&self) -> Option<ChangeSource> {
        self.source.get().copied()
    }

    /// Whether committed changes reach this instance now.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }

    /// Cached answers dropped one by one, because their numbers changed.
    pub fn numbers_invalidated(&self) -> u64 {
        self.numbers_invalidated.load(Ordering::Relaxed)
    }

    /// Times the whole cache was dropped (bulk changes, listening lost or regained).
    pub fn caches_cleared(&self) -> u64 {
        self.caches_cleared.load(Ordering::Relaxed)
    }

    pub fn listener_losses(&self) -> u64 {
        self.listener_losses.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
pub struct Lookup {
    normaliser: PhoneNormaliser,
    store: CustomerStore,
    policy: LookupPolicy,
    /// Answers by number, found or not; store errors are never cached.
    cache: Option<Arc<AnswerCache>>,
    /// Caller IDs that needed the full parse, and what it said (sized like the cache).
    parsed: Option<Arc<ParsedCallerIds>>,
    freshness: Arc<Freshness>,
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookup")
            .field("store", &self.store.backend())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Lookup {
    pub fn new(normaliser: PhoneNormaliser, store: CustomerStore, policy: LookupPolicy) -> Self {
        Self {
            normaliser,
            store,
            policy,
            cache: None,
            parsed: None,
            freshness: Arc::default(),
        }
    }

    /// Keeps answers in memory (`ttl` zero leaves that off), and parse results of caller IDs
    /// that are not already E.164 (`max_entries` zero leaves that off too).
    pub fn with_cache(mut self, settings: CacheSettings) -> Self {
        self.cache = AnswerCache::new(settings).map(Arc::new);
        // Parse results never go stale, so they are kept even when answers are not.
        self.parsed = usize::try_from(settings.max_entries)
            .ok()
            .filter(|&size| size > 0)
            .map(|size| Arc::new(ParsedCallerIds::new(size)));
        self
    }

    /// What the caller is answered, by the policy: the customer, the unknown-caller answer (or
    /// `CustomerNotFound`), and on a store failure either `StoreUnavailable` or a degraded answer.
    pub async fn answer(&self, caller_id: &str) -> Result<Answered, LookupError> {
        self.decide(self.find(caller_id).await)
    }

    /// The lookup of `caller_id` with every step shown: the normaliser's trace, where the
    /// answer came from, and what the caller is answered. The same route `answer` takes.
    pub async fn explain(&self, caller_id: &str) -> Explanation {
        let normalisation = self.normaliser.explain(caller_id);
        let found = match &normalisation.result {
            Some(Ok(number)) => self.find_number(number.clone()).await,
            Some(Err(why)) => Ok(Found {
                outcome: LookupOutcome::Invalid(*why),
                source: AnswerSource::NoNumber,
            }),
            None => Ok(Found {
                outcome: LookupOutcome::Invalid(NotAPhoneNumber::Unparseable),
                source: AnswerSource::NoNumber,
            }),
        };
        Explanation {
            normalisation,
            decision: self.decide(found),
        }
    }

    /// The policy applied to what the store said.
    fn decide(&self, found: Result<Found, StoreError>) -> Result<Answered, LookupError> {
        let found = match found {
            Ok(found) => found,
            Err(failure) => {
                return match self.policy.on_store_error {
                    OnStoreError::Fail => Err(LookupError::StoreUnavailable(failure)),
                    OnStoreError::Default => Ok(Answered::Degraded {
                        answer: self.policy.unknown_answer.clone(),
                        failure,
                    }),
                };
            }
        };
        match &found.outcome {
            LookupOutcome::Found { customer, .. } => {
                let answer = LookupAnswer::from(customer);
                Ok(Answered::Answer { found, answer })
            }
            LookupOutcome::Unknown { .. } | LookupOutcome::Invalid(_) => {
                match self.policy.unknown_status {
                    UnknownStatus::NotFound => Err(LookupError::CustomerNotFound { found }),
                    UnknownStatus::Ok => Ok(Answered::Answer {
                        found,
                        answer: self.policy.unknown_answer.clone(),
                    }),
                }
            }
        }
    }

    /// Normalise, then the cache, then the store within the deadline.
    pub async fn find(&self, caller_id: &str) -> Result<Found, StoreError> {
        let normalised = match &self.parsed {
            Some(parsed) => self.normaliser.normalise_remembering(caller_id, parsed),
            None => self.normaliser.normalise(caller_id),
        };
        match normalised {
            Ok(number) => self.find_number(number).await,
            Err(why) => Ok(Found {
                outcome: LookupOutcome::Invalid(why),
                source: AnswerSource::NoNumber,
            }),
        }
    }

    /// The cache, then the store within the deadline.
    async fn find_number(&self, number: E164) -> Result<Found, StoreError> {
        let (customer, source) = match self.cache.as_ref().and_then(|cache| cache.get(&number)) {
            Some(cached) => (cached, AnswerSource::Cache),
            None => {
                let read_began = self.cache.as_ref().map(|cache| cache.epoch());
                let customer = self
                    .within_deadline(self.store.find_by_number(&number))
                    .await?;
                if let (Some(cache), Some(read_began)) = (&self.cache, read_began) {
                    cache.insert(number.clone(), customer.clone(), read_began);
                }
                (customer, AnswerSource::Store)
            }
        };
        let outcome = match customer {
            Some(customer) => LookupOutcome::Found { number, customer },
            None => LookupOutcome::Unknown { number },
        };
        Ok(Found { outcome, source })
    }

    /// A store call that gives up at the deadline.
    pub async fn within_deadline<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.policy.deadline, call)
            .await
            .map_err(|_| StoreError::DeadlineExceeded(self.policy.deadline))?
    }

    /// Forgets every cached answer: this instance changed the store.
    pub fn invalidate_cache(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
    }

    /// Follows the store's change feed from now on: answers are cached only while changes are
    /// heard, and a change drops what was cached for it at once.
    pub fn follow(&self, source: ChangeSource, mut changes: tokio::sync::mpsc::Receiver<Change>) {
        let _ = self.freshness.source.set(source);
        // Until the feed says it listens, nothing cached could be trusted.
        if let Some(cache) = &self.cache {
            cache.suspend();
        }
        let lookup = self.clone();
        tokio::spawn(async move {
            while let Some(change) = changes.recv().await {
                lookup.apply(&change);
            }
        });
    }

    /// What one change of the feed does to the cache.
    pub fn apply(&self, change: &Change) {
        let freshness = &self.freshness;
        let cache = self.cache.as_deref();
        match change {
            Change::Numbers(numbers) => {
                if let Some(cache) = cache {
                    cache.invalidate(numbers);
                }
                freshness
                    .numbers_invalidated
                    .fetch_add(numbers.len() as u64, Ordering::Relaxed);
            }
            Change::Everything => {
                if let Some(cache) = cache {
                    cache.clear();
                }
                freshness.caches_cleared.fetch_add(1, Ordering::Relaxed);
            }
            Change::Lost => {
                freshness.listening.store(false, Ordering::Relaxed);
                freshness.listener_losses.fetch_add(1, Ordering::Relaxed);
                if let Some(cache) = cache {
                    cache.suspend();
                }
                freshness.caches_cleared.fetch_add(1, Ordering::Relaxed);
            }
            Change::Listening => {
                if let Some(cache) = cache {
                    cache.resume();
                }
                freshness.listening.store(true, Ordering::Relaxed);
                freshness.caches_cleared.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn freshness(&self) -> &Freshness {
        &self.freshness
    }

    /// Whether the store answers within the deadline.
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.within_deadline(self.store.ping()).await
    }

    /// The normaliser lookups use, for validating numbers written to the store the same way.
    pub fn normaliser(&self) -> &PhoneNormaliser {
        &self.normaliser
    }

    pub fn store(&self) -> &CustomerStore {
        &self.store
    }
}

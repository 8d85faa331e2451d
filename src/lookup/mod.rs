//! The one place that decides what a caller gets: normalise the caller ID, answer from the cache
//! or the store within the deadline, and apply the policy for unknown callers and store failures.
//! The HTTP handler and the `lookup` command both ask here, so both answer the same way; what
//! was counted and logged is the caller's business.

mod answer_fields;
mod freshness;
mod outcome;
mod policy;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub use self::answer_fields::{AnswerField, AnswerFields, AnswerWithFields, FieldValue};
pub use self::freshness::Freshness;
pub use self::outcome::{
    AnsweredFrom, Decision, Explanation, LookupError, LookupOutcome, MatchOutcome, Recognition,
};
pub use self::policy::{LookupPolicy, OnSharedNumber, OnStoreError, UnknownStatus};
use crate::cache::{AnswerCache, CacheSettings};
use crate::domain::{AnswerBody, E164};
use crate::normalise::{NotAPhoneNumber, ParsedCallerIds, PhoneNormaliser};
use crate::store::{Change, ChangeFeed, CustomerStore, StoreError};

/// How long a data action should wait for this service: it answers within the store deadline
/// even when the database hangs or is gone; two more seconds cover the network and the tunnel.
pub fn action_timeout_seconds(store_deadline: Duration) -> u8 {
    let seconds = store_deadline.as_secs_f64().ceil() as u64 + 2;
    seconds.clamp(1, 60) as u8
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
    pub async fn decide(&self, caller_id: &str) -> Result<Decision, LookupError> {
        self.apply_policy(self.recognise(caller_id).await)
    }

    /// The lookup of `caller_id` with every step shown: the normaliser's trace, where the
    /// answer came from, and what the caller is answered. The same route `answer` takes.
    pub async fn explain(&self, caller_id: &str) -> Explanation {
        let normalisation = self.normaliser.explain(caller_id);
        let recognition = match &normalisation.result {
            Some(Ok(number)) => self.recognise_number(number.clone()).await,
            Some(Err(why)) => Ok(Recognition {
                outcome: LookupOutcome::Invalid(*why),
                source: AnsweredFrom::NoNumber,
            }),
            None => Ok(Recognition {
                outcome: LookupOutcome::Invalid(NotAPhoneNumber::Unparseable),
                source: AnsweredFrom::NoNumber,
            }),
        };
        Explanation {
            normalisation,
            decision: self.apply_policy(recognition),
        }
    }

    /// The policy applied to what the store said.
    fn apply_policy(
        &self,
        recognition: Result<Recognition, StoreError>,
    ) -> Result<Decision, LookupError> {
        let policy = &self.policy;
        let recognition = match recognition {
            Ok(recognition) => recognition,
            Err(failure) => {
                return match policy.on_store_error {
                    OnStoreError::Fail => Err(LookupError::StoreUnavailable(failure)),
                    OnStoreError::Default => Ok(Decision::Degraded {
                        answer: policy.unknown_answer.clone(),
                        failure,
                    }),
                };
            }
        };
        let answer = match &recognition.outcome {
            LookupOutcome::Unique { customer, .. } => Some(AnswerBody::from(customer)),
            LookupOutcome::Shared { first, any_vip, .. } => match policy.on_shared_number {
                OnSharedNumber::Unknown => None,
                OnSharedNumber::AnyVip => any_vip.then(|| AnswerBody {
                    is_vip: true,
                    ..policy.unknown_answer.clone()
                }),
                OnSharedNumber::First => Some(AnswerBody::from(first)),
            },
            LookupOutcome::Unknown { .. } | LookupOutcome::Invalid(_) => None,
        };
        match (answer, policy.unknown_status) {
            (Some(answer), _) => Ok(Decision::Answer {
                recognition,
                answer,
            }),
            (None, UnknownStatus::NotFound) => Err(LookupError::CustomerNotFound { recognition }),
            (None, UnknownStatus::Ok) => Ok(Decision::Answer {
                recognition,
                answer: policy.unknown_answer.clone(),
            }),
        }
    }

    /// Normalise, then the cache, then the store within the deadline.
    pub async fn recognise(&self, caller_id: &str) -> Result<Recognition, StoreError> {
        let normalised = match &self.parsed {
            Some(parsed) => self.normaliser.normalise_remembering(caller_id, parsed),
            None => self.normaliser.normalise(caller_id),
        };
        match normalised {
            Ok(number) => self.recognise_number(number).await,
            Err(why) => Ok(Recognition {
                outcome: LookupOutcome::Invalid(why),
                source: AnsweredFrom::NoNumber,
            }),
        }
    }

    /// The cache, then the store within the deadline.
    async fn recognise_number(&self, number: E164) -> Result<Recognition, StoreError> {
        let (owners, source) = match self.cache.as_ref().and_then(|cache| cache.get(&number)) {
            Some(cached) => (cached, AnsweredFrom::Cache),
            None => {
                let read_began = self.cache.as_ref().map(|cache| cache.epoch());
                let owners = self
                    .within_deadline(self.store.find_by_number(&number))
                    .await?;
                if let (Some(cache), Some(read_began)) = (&self.cache, read_began) {
                    cache.insert(number.clone(), owners.clone(), read_began);
                }
                (owners, AnsweredFrom::Store)
            }
        };
        Ok(Recognition {
            outcome: LookupOutcome::of_owners(number, owners),
            source,
        })
    }

    /// The fields answers carry beyond the four (none by default).
    pub fn answer_fields(&self) -> &AnswerFields {
        &self.policy.answer_fields
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
    pub fn follow(&self, source: ChangeFeed, mut changes: tokio::sync::mpsc::Receiver<Change>) {
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

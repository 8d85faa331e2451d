//! The answer cache in front of the store: what the store said about a number, found or not,
//! for a while.
//!
//! quick_cache (S3-FIFO, sharded) rather than moka: under uniformly random callers nearly every
//! lookup is a miss and an insert, and moka's inserts (rehashing its table, housekeeping on
//! the calling thread) cost ~13% of a lookup's time there against well under 1% here. quick_cache
//! has no expiry of its own, so each entry carries its deadline and an expired entry reads as a
//! miss (and is then overwritten by the fresh answer).

use std::time::{Duration, Instant};

use crate::domain::{Customer, E164};

/// Bounds of the answer cache.
#[derive(Clone, Copy, Debug)]
pub struct CacheSettings {
    /// How long an answer (found or not) may be served from memory; zero turns the cache off.
    pub ttl: Duration,
    /// Most numbers kept.
    pub max_entries: u64,
}

#[derive(Clone)]
struct Entry {
    expires: Instant,
    customer: Option<Customer>,
}

pub struct AnswerCache {
    entries: quick_cache::sync::Cache<E164, Entry>,
    ttl: Duration,
}

impl AnswerCache {
    /// `None` when the settings turn the cache off.
    pub fn new(settings: CacheSettings) -> Option<Self> {
        if settings.ttl.is_zero() || settings.max_entries == 0 {
            return None;
        }
        let capacity = usize::try_from(settings.max_entries).unwrap_or(usize::MAX);
        Some(Self {
            entries: quick_cache::sync::Cache::new(capacity),
            ttl: settings.ttl,
        })
    }

    /// The cached answer: `Some(None)` is a cached "nobody has this number".
    pub fn get(&self, number: &E164) -> Option<Option<Customer>> {
        let entry = self.entries.get(number)?;
        (entry.expires > Instant::now()).then_some(entry.customer)
    }

    pub fn insert(&self, number: E164, customer: Option<Customer>) {
        let expires = Instant::now() + self.ttl;
        self.entries.insert(number, Entry { expires, customer });
    }

    pub fn clear(&self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(digits: &str) -> E164 {
        E164::parse(digits).unwrap()
    }

    #[test]
    fn answers_expire_after_the_ttl() {
        let cache = AnswerCache::new(CacheSettings {
            ttl: Duration::from_millis(50),
            max_entries: 10,
        })
        .unwrap();
        cache.insert(number("+15551234567"), None);
        assert_eq!(cache.get(&number("+15551234567")), Some(None));
        assert_eq!(cache.get(&number("+15551234568")), None);
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(cache.get(&number("+15551234567")), None, "expired");
    }

    #[test]
    fn size_is_bounded_and_clear_forgets_everything() {
        let cache = AnswerCache::new(CacheSettings {
            ttl: Duration::from_secs(60),
            max_entries: 100,
        })
        .unwrap();
        for i in 0..10_000 {
            cache.insert(number(&format!("+1555{i:07}")), None);
        }
        assert!(cache.entries.len() <= 110, "{} kept", cache.entries.len());
        cache.insert(number("+15550000001"), None);
        cache.clear();
        assert_eq!(cache.get(&number("+15550000001")), None);
        assert_eq!(cache.entries.len(), 0);
    }

    #[test]
    fn zero_ttl_or_size_turns_it_off() {
        for (ttl, max_entries) in [(Duration::ZERO, 10), (Duration::from_secs(1), 0)] {
            assert!(AnswerCache::new(CacheSettings { ttl, max_entries }).is_none());
        }
    }
}

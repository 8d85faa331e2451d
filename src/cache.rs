//! The answer cache in front of the store: what the store said about a number, found or not,
//! for a while.
//!
//! quick_cache (S3-FIFO, sharded) rather than moka: under uniformly random callers nearly every
//! lookup is a miss and an insert, and moka's inserts (rehashing its table, housekeeping on
//! the calling thread) cost ~13% of a lookup's time there against well under 1% here. quick_cache
//! has no expiry of its own, so each entry carries its deadline and an expired entry reads as a
//! miss (and is then overwritten by the fresh answer).
//!
//! Changes committed to the store invalidate entries as they are announced (`lookup`). A read
//! that was under way when an invalidation came must not put back what it read before the change:
//! every invalidation moves the cache to a new epoch, and an answer read in an older one is not
//! kept. While changes cannot be heard (`suspend`), the cache is bypassed altogether.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::domain::{E164, NumberOwners};

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
    owners: NumberOwners,
}

pub struct AnswerCache {
    entries: quick_cache::sync::Cache<E164, Entry>,
    ttl: Duration,
    epoch: AtomicU64,
    suspended: AtomicBool,
}

/// When a read from the store began, in cache epochs.
#[derive(Clone, Copy, Debug)]
pub struct Epoch(u64);

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
            epoch: AtomicU64::new(0),
            suspended: AtomicBool::new(false),
        })
    }

    /// What the store said about the number (`NumberOwners::Nobody` included), if cached.
    pub fn get(&self, number: &E164) -> Option<NumberOwners> {
        if self.suspended.load(Ordering::Acquire) {
            return None;
        }
        let entry = self.entries.get(number)?;
        (entry.expires > Instant::now()).then_some(entry.owners)
    }

    /// Taken before asking the store, and given back to `insert`.
    pub fn epoch(&self) -> Epoch {
        Epoch(self.epoch.load(Ordering::Acquire))
    }

    /// Keeps what the store said, unless something was invalidated since the read began.
    pub fn insert(&self, number: E164, owners: NumberOwners, read_began: Epoch) {
        if self.suspended.load(Ordering::Acquire)
            || self.epoch.load(Ordering::Acquire) != read_began.0
        {
            return;
        }
        let expires = Instant::now() + self.ttl;
        self.entries
            .insert(number.clone(), Entry { expires, owners });
        // An invalidation between the check above and the insert would have found nothing to
        // remove: take the answer back out.
        if self.epoch.load(Ordering::Acquire) != read_began.0 {
            self.entries.remove(&number);
        }
    }

    /// Forgets these numbers' answers.
    pub fn invalidate(&self, numbers: &[E164]) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        for number in numbers {
            self.entries.remove(number);
        }
    }

    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    /// Changes cannot be heard: forget everything and answer from the store until `resume`.
    pub fn suspend(&self) {
        self.suspended.store(true, Ordering::Release);
        self.clear();
    }

    /// Changes are heard again: whatever was cached meanwhile may be stale, so start afresh.
    pub fn resume(&self) {
        self.clear();
        self.suspended.store(false, Ordering::Release);
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
        cache.insert(number("+15551234567"), NumberOwners::Nobody, cache.epoch());
        assert_eq!(
            cache.get(&number("+15551234567")),
            Some(NumberOwners::Nobody)
        );
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
            cache.insert(
                number(&format!("+1555{i:07}")),
                NumberOwners::Nobody,
                cache.epoch(),
            );
        }
        assert!(cache.entries.len() <= 110, "{} kept", cache.entries.len());
        cache.insert(number("+15550000001"), NumberOwners::Nobody, cache.epoch());
        cache.clear();
        assert_eq!(cache.get(&number("+15550000001")), None);
        assert_eq!(cache.entries.len(), 0);
    }

    /// A read that began before an invalidation must not put back what it read; while
    /// suspended nothing is served or kept.
    #[test]
    fn invalidations_win_over_reads_under_way_and_suspension_bypasses_everything() {
        let cache = AnswerCache::new(CacheSettings {
            ttl: Duration::from_secs(60),
            max_entries: 100,
        })
        .unwrap();
        let (a, b) = (number("+15550000001"), number("+15550000002"));
        cache.insert(a.clone(), NumberOwners::Nobody, cache.epoch());
        cache.insert(b.clone(), NumberOwners::Nobody, cache.epoch());
        let read_began = cache.epoch();
        cache.invalidate(std::slice::from_ref(&a));
        assert_eq!(cache.get(&a), None, "invalidated");
        assert_eq!(cache.get(&b), Some(NumberOwners::Nobody), "others stay");
        cache.insert(a.clone(), NumberOwners::Nobody, read_began);
        assert_eq!(
            cache.get(&a),
            None,
            "a read from before the change is not kept"
        );
        cache.insert(a.clone(), NumberOwners::Nobody, cache.epoch());
        assert_eq!(
            cache.get(&a),
            Some(NumberOwners::Nobody),
            "a read after it is"
        );

        cache.suspend();
        assert_eq!(cache.get(&b), None);
        cache.insert(b.clone(), NumberOwners::Nobody, cache.epoch());
        assert_eq!(cache.get(&b), None, "nothing kept while suspended");
        cache.resume();
        cache.insert(b.clone(), NumberOwners::Nobody, cache.epoch());
        assert_eq!(cache.get(&b), Some(NumberOwners::Nobody));
    }

    #[test]
    fn zero_ttl_or_size_turns_it_off() {
        for (ttl, max_entries) in [(Duration::ZERO, 10), (Duration::from_secs(1), 0)] {
            assert!(AnswerCache::new(CacheSettings { ttl, max_entries }).is_none());
        }
    }
}

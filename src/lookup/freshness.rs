//! How current the cached answers are, for the status pages.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::store::ChangeFeed;

/// How current the cached answers are: whether changes are heard, and how many invalidations
/// they caused. Read by the status pages; changed by `Lookup::apply`.
#[derive(Debug, Default)]
pub struct Freshness {
    /// How changes are heard; `None` when they cannot be (an in-memory SQLite database).
    pub(super) source: std::sync::OnceLock<ChangeFeed>,
    pub(super) listening: AtomicBool,
    pub(super) numbers_invalidated: AtomicU64,
    pub(super) caches_cleared: AtomicU64,
    pub(super) listener_losses: AtomicU64,
}

impl Freshness {
    pub fn source(&self) -> Option<ChangeFeed> {
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

//! Per-client request rate: a token bucket per client address (GCRA, through `governor`),
//! refilling at N requests a second with bursts of N. IPv6 clients are counted per /64, since
//! one host can hold a whole /64.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct ClientRateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl ClientRateLimit {
    /// `None` for 0: no limit.
    pub fn per_second(requests: u32) -> Option<Self> {
        let rate = NonZeroU32::new(requests)?;
        Some(Self {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(rate)),
            clock: DefaultClock::default(),
        })
    }

    /// `Err` with how long the client should wait before its next request counts.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&bucket(client))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets clients whose buckets are full again, so memory follows the active clients.
    pub fn forget_idle_clients(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

fn bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_up_to_the_rate_then_says_how_long_to_wait() {
        let limit = ClientRateLimit::per_second(3).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limit.check(a).is_ok());
        }
        let wait = limit.check(a).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            limit.check("192.0.2.2".parse().unwrap()).is_ok(),
            "another client has its own bucket"
        );
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client_and_zero_means_no_limit() {
        let limit = ClientRateLimit::per_second(1).unwrap();
        assert!(limit.check("2001:db8:1:2::1".parse().unwrap()).is_ok());
        assert!(limit.check("2001:db8:1:2::ffff".parse().unwrap()).is_err());
        assert!(ClientRateLimit::per_second(0).is_none());
    }
}

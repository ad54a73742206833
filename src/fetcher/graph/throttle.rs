//! The client-side rate limiter: at most N requests in any sliding window, shared by every request
//! of a run.
//!
//! Graph's reports API allows 5 requests per 10 seconds per app and tenant. The limiter keeps the
//! send times of the last requests and delays the next one until the window has room, with a small
//! margin for clock and network skew. A throttling answer (429) pauses every request until its
//! `Retry-After` has passed and halves the rate; successes win the rate back one request at a
//! time (additive increase, multiplicative decrease), never above the configured limit.
//! Time is passed in, so the limiter is tested without sleeping.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::timespec::parse_duration;

/// `N/DURATION`, e.g. `5/10s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

impl RateLimit {
    /// Graph's documented limit for the identity and access reports.
    pub const GRAPH_REPORTS: RateLimit = RateLimit {
        requests: 5,
        window: Duration::from_secs(10),
    };
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}ms", self.requests, self.window.as_millis())
    }
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("`{text}` is not a rate: use N/DURATION such as 5/10s, 20/1m, 5/500ms");
        let (requests, window) = text.trim().split_once('/').ok_or_else(bad)?;
        let requests: u32 = requests.trim().parse().map_err(|_| bad())?;
        let window = parse_duration(window.trim()).ok_or_else(bad)?;
        if requests == 0 || window.is_zero() {
            return Err(bad());
        }
        Ok(RateLimit { requests, window })
    }
}

#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    /// The rate in force: requests per window, between 1 and `limit.requests`.
    allowed: u32,
    /// Successes since the rate last changed.
    successes: u32,
    sent: VecDeque<Instant>,
    paused_until: Option<Instant>,
}

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        Limiter {
            limit,
            allowed: limit.requests,
            successes: 0,
            sent: VecDeque::new(),
            paused_until: None,
        }
    }

    /// The window with its safety margin (3 % and 10 ms) against skew between our clock and the server's.
    fn window(&self) -> Duration {
        self.limit.window + self.limit.window * 3 / 100 + Duration::from_millis(10)
    }

    /// How long to wait, from `now`, before the next request may go.
    pub fn delay(&mut self, now: Instant) -> Duration {
        let window = self.window();
        while self
            .sent
            .front()
            .is_some_and(|&sent| now.saturating_duration_since(sent) >= window)
        {
            self.sent.pop_front();
        }
        let mut ready = self.paused_until.unwrap_or(now).max(now);
        let allowed = self.allowed as usize;
        if self.sent.len() >= allowed {
            ready = ready.max(self.sent[self.sent.len() - allowed] + window);
        }
        ready - now
    }

    /// A request went out at `now`.
    pub fn sent(&mut self, now: Instant) {
        self.sent.push_back(now);
        while self.sent.len() > self.limit.requests as usize {
            self.sent.pop_front();
        }
    }

    /// The server throttled us at `now`: everyone waits `retry_after` (or a whole window) and the
    /// rate halves.
    pub fn throttled(&mut self, now: Instant, retry_after: Option<Duration>) {
        let until = now + retry_after.unwrap_or(self.limit.window);
        self.paused_until = Some(self.paused_until.map_or(until, |paused| paused.max(until)));
        self.allowed = (self.allowed / 2).max(1);
        self.successes = 0;
    }

    /// A request succeeded: after a window's worth of successes the rate grows by one.
    pub fn succeeded(&mut self) {
        if self.allowed >= self.limit.requests {
            return;
        }
        self.successes += 1;
        if self.successes >= self.allowed {
            self.allowed += 1;
            self.successes = 0;
        }
    }

    /// Requests per window in force now.
    pub fn allowed(&self) -> u32 {
        self.allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn parses_rates() {
        assert_eq!(
            "5/10s".parse(),
            Ok(RateLimit {
                requests: 5,
                window: Duration::from_secs(10)
            })
        );
        assert_eq!(
            "20/1m".parse(),
            Ok(RateLimit {
                requests: 20,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!(
            "5/500ms".parse(),
            Ok(RateLimit {
                requests: 5,
                window: ms(500)
            })
        );
        for bad in ["5", "0/1s", "5/0s", "x/1s", "5/1y", "-1/1s"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    /// Sends as fast as the limiter allows and returns the send times (ms after start).
    fn schedule(limiter: &mut Limiter, requests: usize) -> Vec<u128> {
        let start = Instant::now();
        let mut now = start;
        let mut times = Vec::new();
        for _ in 0..requests {
            now += limiter.delay(now);
            limiter.sent(now);
            limiter.succeeded();
            times.push((now - start).as_millis());
        }
        times
    }

    #[test]
    fn never_more_than_n_in_any_window_and_close_to_the_limit() {
        let limit = RateLimit {
            requests: 5,
            window: Duration::from_secs(10),
        };
        let times = schedule(&mut Limiter::new(limit), 50);
        for (i, t) in times.iter().enumerate().skip(5) {
            assert!(
                t - times[i - 5] >= 10_000,
                "requests {} and {i} within one window",
                i - 5
            );
        }
        // 50 requests at 5 per 10 s take 90 s at best; the margin costs a few percent.
        let last = *times.last().unwrap();
        assert!((90_000..=93_000).contains(&last), "{last}");
    }

    #[test]
    fn a_throttle_pauses_everyone_and_halves_the_rate() {
        let limit = RateLimit {
            requests: 8,
            window: Duration::from_secs(1),
        };
        let mut limiter = Limiter::new(limit);
        let start = Instant::now();
        limiter.sent(start);
        limiter.throttled(start, Some(ms(2128)));
        assert_eq!(limiter.allowed(), 4);
        assert_eq!(limiter.delay(start), ms(2128));
        assert_eq!(limiter.delay(start + ms(2000)), ms(128));
        limiter.throttled(start, None);
        assert_eq!(limiter.allowed(), 2);
        // Successes win the rate back, one request per window's worth of successes.
        for _ in 0..2 + 3 + 4 + 5 + 6 + 7 {
            limiter.succeeded();
        }
        assert_eq!(limiter.allowed(), 8);
        limiter.succeeded();
        assert_eq!(limiter.allowed(), 8);
    }

    #[test]
    fn the_halved_rate_is_enforced() {
        let limit = RateLimit {
            requests: 4,
            window: Duration::from_secs(1),
        };
        let mut limiter = Limiter::new(limit);
        let start = Instant::now();
        limiter.throttled(start, Some(Duration::ZERO));
        // Two per window now: the third request waits for the first to leave the window.
        let mut now = start;
        for _ in 0..2 {
            assert_eq!(limiter.delay(now), Duration::ZERO);
            limiter.sent(now);
            now += ms(1);
        }
        assert!(limiter.delay(now) > ms(1000));
    }
}

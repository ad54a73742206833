//! Graph's throttle for directoryAudits: a sliding window of requests per app (client id).
//!
//! Every request that reaches the throttle counts against the window, the ones answered 429
//! too: Graph's guidance is that "all requests accrue against your usage limits", so a client
//! that retries at once stays throttled longer, while one that waits the `Retry-After` it was
//! given is let through (unless other requests of the same app took the slot meanwhile).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Throttle;

/// The shortest `Retry-After` handed out, so that a client never spins on a zero.
const MIN_RETRY_AFTER: Duration = Duration::from_millis(50);

pub(super) struct Throttler {
    limit: Throttle,
    apps: Mutex<HashMap<String, AppLog>>,
}

/// When an app's recent requests arrived, oldest first.
#[derive(Default)]
struct AppLog {
    /// Every request inside the window, 429s included: what the limit applies to.
    counted: VecDeque<Instant>,
    /// The requests let through inside the window: what `max_requests_in_window` measures.
    accepted: VecDeque<Instant>,
}

pub(super) enum Admission {
    /// Go ahead; `in_window` requests of this app (this one included) were let through inside
    /// the window ending now.
    Accepted { in_window: u64 },
    /// 429: the window frees a slot after `retry_after`.
    Throttled { retry_after: Duration },
}

impl Throttler {
    pub fn new(limit: Throttle) -> Self {
        Throttler {
            limit,
            apps: Mutex::new(HashMap::new()),
        }
    }

    /// Records a request of `app` arriving at `now` and decides on it.
    pub fn admit(&self, app: &str, now: Instant) -> Admission {
        let mut apps = self
            .apps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let log = apps.entry(app.to_owned()).or_default();
        let window = self.limit.window;
        let expired = |arrival: &Instant| now.saturating_duration_since(*arrival) >= window;
        while log.counted.front().is_some_and(expired) {
            log.counted.pop_front();
        }
        while log.accepted.front().is_some_and(expired) {
            log.accepted.pop_front();
        }
        let limit = self.limit.requests as usize;
        let admitted = log.counted.len() < limit;
        log.counted.push_back(now);
        if admitted {
            log.accepted.push_back(now);
            return Admission::Accepted {
                in_window: log.accepted.len() as u64,
            };
        }
        // A request arriving later gets in once all but `limit - 1` of the counted ones have
        // left the window, i.e. when the one at `len - limit` leaves it.
        let freeing = log.counted[log.counted.len() - limit];
        let retry_after = (freeing + window).saturating_duration_since(now);
        Admission::Throttled {
            retry_after: retry_after.max(MIN_RETRY_AFTER),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttler(requests: u32, window_ms: u64) -> Throttler {
        Throttler::new(Throttle {
            requests,
            window: Duration::from_millis(window_ms),
        })
    }

    fn retry_after(admission: Admission) -> Duration {
        match admission {
            Admission::Throttled { retry_after } => retry_after,
            Admission::Accepted { .. } => panic!("expected a 429"),
        }
    }

    #[test]
    fn a_burst_beyond_the_limit_waits_until_a_slot_frees() {
        let throttle = throttler(2, 1000);
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert!(matches!(
            throttle.admit("app", at(0)),
            Admission::Accepted { in_window: 1 }
        ));
        assert!(matches!(
            throttle.admit("app", at(100)),
            Admission::Accepted { in_window: 2 }
        ));
        // The 429 itself counts: a slot frees when the requests at 0 and 100 have both left.
        assert_eq!(
            retry_after(throttle.admit("app", at(200))),
            Duration::from_millis(900)
        );
        // Another app has its own window.
        assert!(matches!(
            throttle.admit("other", at(200)),
            Admission::Accepted { in_window: 1 }
        ));
        // Waiting exactly the Retry-After gets through.
        assert!(matches!(
            throttle.admit("app", at(1100)),
            Admission::Accepted { in_window: 1 }
        ));
        // Hammering on: the 429 at 1100 holds a slot too, so nothing frees before 2100.
        assert_eq!(
            retry_after(throttle.admit("app", at(1100))),
            Duration::from_millis(1000)
        );
        assert_eq!(
            retry_after(throttle.admit("app", at(1150))),
            Duration::from_millis(950)
        );
    }

    #[test]
    fn retry_after_never_drops_below_the_minimum() {
        let throttle = throttler(2, 1000);
        let start = Instant::now();
        throttle.admit("app", start);
        throttle.admit("app", start + Duration::from_millis(10));
        let late = start + Duration::from_millis(995);
        assert_eq!(retry_after(throttle.admit("app", late)), MIN_RETRY_AFTER);
    }
}

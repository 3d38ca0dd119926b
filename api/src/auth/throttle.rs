//! Login throttling in sliding 15-minute windows, per username and per client address.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failure counts per key in a sliding window.
#[derive(Debug)]
pub struct LoginThrottle {
    window: Duration,
    per_username: usize,
    per_ip: usize,
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    by_username: HashMap<String, VecDeque<Instant>>,
    by_ip: HashMap<String, VecDeque<Instant>>,
}

fn live_count(map: &mut HashMap<String, VecDeque<Instant>>, key: &str, since: Instant) -> usize {
    let Some(times) = map.get_mut(key) else {
        return 0;
    };
    while times.front().is_some_and(|t| *t < since) {
        times.pop_front();
    }
    let count = times.len();
    if count == 0 {
        map.remove(key);
    }
    count
}

impl LoginThrottle {
    /// `per_username` and `per_ip` failures are allowed in `window`; the next attempt is refused.
    pub fn new(window: Duration, per_username: usize, per_ip: usize) -> LoginThrottle {
        LoginThrottle {
            window,
            per_username,
            per_ip,
            failures: Mutex::default(),
        }
    }

    /// Whether an attempt for this username from this address must be refused now.
    pub fn is_blocked(&self, username: &str, ip: &str, now: Instant) -> bool {
        let since = now.checked_sub(self.window).unwrap_or(now);
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        live_count(&mut failures.by_username, username, since) >= self.per_username
            || live_count(&mut failures.by_ip, ip, since) >= self.per_ip
    }

    /// Counts one failed attempt.
    pub fn record_failure(&self, username: &str, ip: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a spray of distinct usernames: drop the oldest keys' history.
        if failures.by_username.len() > 100_000 {
            failures.by_username.clear();
        }
        if failures.by_ip.len() > 100_000 {
            failures.by_ip.clear();
        }
        failures
            .by_username
            .entry(username.to_owned())
            .or_default()
            .push_back(now);
        failures
            .by_ip
            .entry(ip.to_owned())
            .or_default()
            .push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_after_ten_failures_is_blocked_until_the_window_passes() {
        let throttle = LoginThrottle::new(Duration::from_secs(900), 10, 100);
        let start = Instant::now();
        for _ in 0..10 {
            assert!(!throttle.is_blocked("lan", "1.2.3.4", start));
            throttle.record_failure("lan", "1.2.3.4", start);
        }
        assert!(throttle.is_blocked("lan", "1.2.3.4", start));
        assert!(!throttle.is_blocked("other", "5.6.7.8", start));
        assert!(!throttle.is_blocked("lan", "1.2.3.4", start + Duration::from_secs(901)));
    }

    #[test]
    fn one_address_is_blocked_after_its_own_limit_across_usernames() {
        let throttle = LoginThrottle::new(Duration::from_secs(900), 10, 3);
        let now = Instant::now();
        for name in ["a", "b", "c"] {
            throttle.record_failure(name, "9.9.9.9", now);
        }
        assert!(throttle.is_blocked("d", "9.9.9.9", now));
        assert!(!throttle.is_blocked("d", "9.9.9.8", now));
    }
}

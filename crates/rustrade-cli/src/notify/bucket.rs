//! [`TokenBucket`]: a channel's rate limit — `burst` messages at once, refilled at
//! `per_minute` messages a minute. Time is an argument (tokio's clock at the call site), so
//! tests pause it.

use std::time::Duration;

use tokio::time::Instant;

/// A token bucket.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `per_minute` a minute, as of `now`.
    pub(crate) fn new(per_minute: u32, burst: u32, now: Instant) -> Self {
        let capacity = f64::from(burst.max(1));
        Self {
            tokens: capacity,
            capacity,
            per_second: f64::from(per_minute.max(1)) / 60.0,
            updated: now,
        }
    }

    /// Takes a token at `now`, or says how long until one is available.
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.updated = now;
        // A hair under one counts: the wait this returns is computed in floating point.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "an arbitrary origin; only offsets matter"
    )]
    fn a_burst_then_the_refill_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(6, 2, t0);
        assert_eq!(b.try_take(t0), Ok(()));
        assert_eq!(b.try_take(t0), Ok(()));
        assert_eq!(b.try_take(t0), Err(Duration::from_secs(10)));
        assert!(b.try_take(t0 + Duration::from_secs(9)).is_err());
        assert_eq!(b.try_take(t0 + Duration::from_secs(10)), Ok(()));
        // Refill is capped at the burst.
        let later = t0 + Duration::from_secs(3_600);
        assert_eq!(b.try_take(later), Ok(()));
        assert_eq!(b.try_take(later), Ok(()));
        assert!(b.try_take(later).is_err());
    }
}

//! Exponential backoff with full jitter.
//!
//! The delay before restart number `attempt` (0-based, counting consecutive failures) is drawn
//! uniformly from `[0, min(cap, base · 2^attempt)]`. Full jitter spreads the restarts of many
//! services that failed together (a venue outage) instead of having them retry in lockstep.
//!
//! # Invariants
//!
//! - `0 < base <= cap`, checked by [`Backoff::new`].
//! - [`Backoff::pre_jitter_delay`] is monotone in `attempt`, never exceeds `cap`, and never
//!   overflows: every `u32` attempt is valid, the doubling saturates at `cap`.
//! - [`Backoff::delay`] lies in `[0, pre_jitter_delay(attempt)]` and depends only on `attempt` and
//!   the state of the caller's seeded generator, so a run replays exactly.

use std::time::Duration;

use crate::ConfigError;

/// The restart delay schedule: exponential growth from `base`, capped at `cap`, fully jittered.
///
/// ```
/// use rustrade_supervisor::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5))?;
/// assert_eq!(backoff.pre_jitter_delay(5), Duration::from_millis(3_200));
/// assert_eq!(backoff.pre_jitter_delay(u32::MAX), Duration::from_secs(5));
///
/// let mut rng = fastrand::Rng::with_seed(7);
/// assert!(backoff.delay(3, &mut rng) <= Duration::from_millis(800));
/// # Ok::<(), rustrade_supervisor::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// Default first delay: 100 ms.
    pub const DEFAULT_BASE: Duration = Duration::from_millis(100);
    /// Default longest delay: 60 s.
    pub const DEFAULT_CAP: Duration = Duration::from_secs(60);

    /// A schedule starting at `base` and never exceeding `cap`.
    ///
    /// Refuses a zero `base` (restarts would spin) and a `cap` below `base`.
    pub fn new(base: Duration, cap: Duration) -> Result<Self, ConfigError> {
        if base.is_zero() {
            return Err(ConfigError::Duration {
                field: "backoff.base",
                value: base,
                reason: "must be > 0",
            });
        }
        if cap < base {
            return Err(ConfigError::Duration {
                field: "backoff.cap",
                value: cap,
                reason: "must be >= backoff.base",
            });
        }
        Ok(Self { base, cap })
    }

    /// The first delay.
    pub fn base(&self) -> Duration {
        self.base
    }

    /// The longest delay.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// The upper bound of the jittered delay for `attempt`: `min(cap, base · 2^attempt)`.
    pub fn pre_jitter_delay(&self, attempt: u32) -> Duration {
        let cap = self.cap.as_nanos();
        let grown = 1u128
            .checked_shl(attempt)
            .and_then(|factor| self.base.as_nanos().checked_mul(factor))
            .map_or(cap, |nanos| nanos.min(cap));
        duration_from_nanos(grown)
    }

    /// A delay drawn uniformly from `[0, pre_jitter_delay(attempt)]` with the caller's seeded
    /// generator.
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let upper = self.pre_jitter_delay(attempt).as_nanos();
        duration_from_nanos(rng.u128(0..=upper))
    }
}

impl Default for Backoff {
    /// 100 ms base, 60 s cap.
    fn default() -> Self {
        Self {
            base: Self::DEFAULT_BASE,
            cap: Self::DEFAULT_CAP,
        }
    }
}

/// Converts nanoseconds that are known to be at most some `Duration`'s nanoseconds.
fn duration_from_nanos(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    let sub = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, sub)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_duration() -> impl Strategy<Value = Duration> {
        (0u64..=u64::MAX, 0u32..1_000_000_000).prop_map(|(s, n)| Duration::new(s, n))
    }

    fn any_backoff() -> impl Strategy<Value = Backoff> {
        (any_duration(), any_duration()).prop_filter_map("base must be > 0", |(a, b)| {
            let (base, cap) = if a <= b { (a, b) } else { (b, a) };
            Backoff::new(base, cap).ok()
        })
    }

    #[test]
    fn zero_base_is_refused() {
        let err = Backoff::new(Duration::ZERO, Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.to_string(), "backoff.base: must be > 0 (got 0ns)");
    }

    #[test]
    fn cap_below_base_is_refused() {
        let err = Backoff::new(Duration::from_secs(2), Duration::from_secs(1)).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Duration {
                field: "backoff.cap",
                value: Duration::from_secs(1),
                reason: "must be >= backoff.base",
            }
        );
    }

    #[test]
    fn extreme_durations_do_not_overflow() {
        let max = Duration::MAX;
        let backoff = Backoff::new(max, max).unwrap();
        assert_eq!(backoff.pre_jitter_delay(0), max);
        assert_eq!(backoff.pre_jitter_delay(u32::MAX), max);
        let mut rng = fastrand::Rng::with_seed(1);
        assert!(backoff.delay(1_000, &mut rng) <= max);
    }

    #[test]
    fn same_seed_same_delays() {
        let backoff = Backoff::default();
        let draw = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..20)
                .map(|a| backoff.delay(a, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    proptest! {
        #[test]
        fn pre_jitter_never_overflows_and_respects_bounds(
            b in any_backoff(),
            attempt in any::<u32>(),
        ) {
            let d = b.pre_jitter_delay(attempt);
            prop_assert!(d <= b.cap());
            prop_assert!(d >= b.base().min(b.cap()));
        }

        #[test]
        fn pre_jitter_is_monotone(b in any_backoff(), attempt in 0u32..u32::MAX) {
            prop_assert!(b.pre_jitter_delay(attempt) <= b.pre_jitter_delay(attempt + 1));
        }

        #[test]
        fn jitter_stays_within_pre_jitter_bound(
            b in any_backoff(),
            attempt in any::<u32>(),
            seed in any::<u64>(),
        ) {
            let mut rng = fastrand::Rng::with_seed(seed);
            let d = b.delay(attempt, &mut rng);
            prop_assert!(d <= b.pre_jitter_delay(attempt));
        }

        #[test]
        fn default_schedule_doubles_until_cap(attempt in 0u32..64) {
            let b = Backoff::default();
            let expected = Duration::from_millis(100)
                .checked_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
                .map_or(Backoff::DEFAULT_CAP, |d| d.min(Backoff::DEFAULT_CAP));
            prop_assert_eq!(b.pre_jitter_delay(attempt), expected);
        }
    }
}

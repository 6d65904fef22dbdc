//! The per-service circuit breaker: too many failures within a sliding window stop the restarts.
//!
//! # Invariants
//!
//! - A [`FailureWindow`] holds at most `max_failures` timestamps, all within `window` of the
//!   latest one it was given.
//! - The circuit opens on the failure that brings the count within the window to `max_failures`
//!   (with 3 allowed, the third failure opens it). It never closes again: the supervisor terminates
//!   the service with [`TerminationReason::CircuitOpen`](crate::TerminationReason::CircuitOpen).
//! - Time is an argument: the window is driven by the instants the caller passes.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::ConfigError;

/// How many failures within how long open a service's circuit.
///
/// ```
/// use rustrade_supervisor::CircuitBreakerPolicy;
/// use std::time::Duration;
///
/// let policy = CircuitBreakerPolicy::new(3, Duration::from_secs(60))?;
/// assert_eq!(policy.max_failures(), 3);
/// assert!(CircuitBreakerPolicy::new(0, Duration::from_secs(60)).is_err());
/// # Ok::<(), rustrade_supervisor::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreakerPolicy {
    max_failures: u32,
    window: Duration,
}

impl CircuitBreakerPolicy {
    /// Default number of failures that opens the circuit: 10.
    pub const DEFAULT_MAX_FAILURES: u32 = 10;
    /// Default window the failures are counted in: 60 s.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);

    /// Opens the circuit on the `max_failures`-th failure within `window`.
    ///
    /// Refuses `max_failures == 0` (the circuit would be open before the first run) and a zero
    /// `window` (no two failures could ever count together).
    pub fn new(max_failures: u32, window: Duration) -> Result<Self, ConfigError> {
        if max_failures == 0 {
            return Err(ConfigError::Count {
                field: "circuit_breaker.max_failures",
                value: max_failures,
                reason: "must be >= 1",
            });
        }
        if window.is_zero() {
            return Err(ConfigError::Duration {
                field: "circuit_breaker.window",
                value: window,
                reason: "must be > 0",
            });
        }
        Ok(Self {
            max_failures,
            window,
        })
    }

    /// Failures within the window that open the circuit.
    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// Length of the sliding window.
    pub fn window(&self) -> Duration {
        self.window
    }
}

impl Default for CircuitBreakerPolicy {
    /// 10 failures within 60 s.
    fn default() -> Self {
        Self {
            max_failures: Self::DEFAULT_MAX_FAILURES,
            window: Self::DEFAULT_WINDOW,
        }
    }
}

/// The failure history of one service, judged against a [`CircuitBreakerPolicy`].
#[derive(Debug, Clone)]
pub(crate) struct FailureWindow {
    policy: CircuitBreakerPolicy,
    failures: VecDeque<Instant>,
}

impl FailureWindow {
    pub(crate) fn new(policy: CircuitBreakerPolicy) -> Self {
        Self {
            policy,
            failures: VecDeque::new(),
        }
    }

    /// Records a failure at `now`; returns `true` when it opens the circuit.
    pub(crate) fn record_failure(&mut self, now: Instant) -> bool {
        while let Some(&oldest) = self.failures.front() {
            if now.saturating_duration_since(oldest) >= self.policy.window {
                self.failures.pop_front();
            } else {
                break;
            }
        }
        self.failures.push_back(now);
        let limit = usize::try_from(self.policy.max_failures).unwrap_or(usize::MAX);
        if self.failures.len() > limit {
            self.failures.pop_front();
        }
        self.failures.len() >= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(max: u32, secs: u64) -> FailureWindow {
        FailureWindow::new(CircuitBreakerPolicy::new(max, Duration::from_secs(secs)).unwrap())
    }

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn third_failure_within_window_opens() {
        let t0 = crate::clock::now();
        let mut w = window(3, 60);
        assert!(!w.record_failure(t0));
        assert!(!w.record_failure(at(t0, 10)));
        assert!(w.record_failure(at(t0, 20)));
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let t0 = crate::clock::now();
        let mut w = window(3, 60);
        assert!(!w.record_failure(t0));
        assert!(!w.record_failure(at(t0, 30)));
        assert!(
            !w.record_failure(at(t0, 60)),
            "the first failure left the window"
        );
        assert!(
            !w.record_failure(at(t0, 120)),
            "both earlier failures left the window"
        );
        assert!(!w.record_failure(at(t0, 150)));
        assert!(w.record_failure(at(t0, 170)));
    }

    #[test]
    fn one_allowed_failure_opens_at_once() {
        let mut w = window(1, 1);
        assert!(w.record_failure(crate::clock::now()));
    }

    #[test]
    fn zero_window_is_refused_naming_the_field() {
        let err = CircuitBreakerPolicy::new(3, Duration::ZERO).unwrap_err();
        assert_eq!(
            err.to_string(),
            "circuit_breaker.window: must be > 0 (got 0ns)"
        );
        let err = CircuitBreakerPolicy::new(0, Duration::from_secs(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "circuit_breaker.max_failures: must be >= 1 (got 0)"
        );
    }
}

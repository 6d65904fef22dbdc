//! [`SupervisorConfig`]: restart timing, circuit breaker, drain timeout and signal handling.

use std::time::Duration;

use crate::{Backoff, CircuitBreakerPolicy, ConfigError};

/// How a [`Supervisor`](crate::Supervisor) restarts, gives up on and stops its services.
///
/// Built with [`Default`] and adjusted with the `with_*` methods;
/// [`Supervisor::new`](crate::Supervisor::new) validates it.
///
/// ```
/// use rustrade_supervisor::{Backoff, SupervisorConfig};
/// use std::time::Duration;
///
/// let config = SupervisorConfig::default()
///     .with_backoff(Backoff::new(Duration::from_millis(50), Duration::from_secs(10))?)
///     .with_shutdown_timeout(Duration::from_secs(5))
///     .without_signal_handler();
/// assert!(config.validate().is_ok());
/// # Ok::<(), rustrade_supervisor::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisorConfig {
    /// Delay schedule before restarting a service that failed. Default: 100 ms base, 60 s cap.
    pub backoff: Backoff,
    /// Failures within a window that terminate a service for good. Default: 10 within 60 s.
    pub circuit_breaker: CircuitBreakerPolicy,
    /// Fixed delay before restarting an [`Always`](crate::RestartPolicy::Always) service that
    /// returned `Ok`, so a service that exits at once cannot spin. Must be > 0. Default: 1 s.
    pub clean_restart_delay: Duration,
    /// A run that lasted at least this long resets the backoff to its first step: the service was
    /// healthy, so its next failure is treated as a first failure. Must be > 0. Default: 60 s.
    pub backoff_reset_after: Duration,
    /// How long a drain waits for cancelled services before aborting them. Zero aborts at once.
    /// Default: 10 s.
    pub shutdown_timeout: Duration,
    /// Whether [`Supervisor::run_until_shutdown`](crate::Supervisor::run_until_shutdown) also
    /// shuts down on SIGINT (Ctrl-C) and, on Unix, SIGTERM. Turn it off when the host handles
    /// signals itself. Default: on.
    pub handle_signals: bool,
    /// Whether `run_until_shutdown` also returns once every spawned service has terminated on its
    /// own (all finite sources done, or everything failed). Default: off, the supervisor waits for
    /// an explicit shutdown.
    pub stop_when_all_terminated: bool,
    /// Seed of the jitter generators; each service draws from its own generator seeded from this
    /// and its spawn order, so restart delays replay exactly. Default: a fixed constant.
    pub seed: u64,
}

impl SupervisorConfig {
    /// Default seed of the jitter generators.
    pub const DEFAULT_SEED: u64 = 0x5eed_5eed_5eed_5eed;

    /// Sets the backoff schedule.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets the circuit breaker.
    pub fn with_circuit_breaker(mut self, policy: CircuitBreakerPolicy) -> Self {
        self.circuit_breaker = policy;
        self
    }

    /// Sets the delay before restarting an `Always` service that exited cleanly.
    pub fn with_clean_restart_delay(mut self, delay: Duration) -> Self {
        self.clean_restart_delay = delay;
        self
    }

    /// Sets how long a run must last to reset the backoff.
    pub fn with_backoff_reset_after(mut self, after: Duration) -> Self {
        self.backoff_reset_after = after;
        self
    }

    /// Sets the drain timeout.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Leaves OS signals to the host.
    pub fn without_signal_handler(mut self) -> Self {
        self.handle_signals = false;
        self
    }

    /// Makes `run_until_shutdown` return once every service terminated on its own.
    pub fn stopping_when_all_terminated(mut self) -> Self {
        self.stop_when_all_terminated = true;
        self
    }

    /// Sets the jitter seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the values the field types do not already guarantee.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.clean_restart_delay.is_zero() {
            return Err(ConfigError::Duration {
                field: "clean_restart_delay",
                value: self.clean_restart_delay,
                reason: "must be > 0",
            });
        }
        if self.backoff_reset_after.is_zero() {
            return Err(ConfigError::Duration {
                field: "backoff_reset_after",
                value: self.backoff_reset_after,
                reason: "must be > 0",
            });
        }
        Ok(())
    }
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            backoff: Backoff::default(),
            circuit_breaker: CircuitBreakerPolicy::default(),
            clean_restart_delay: Duration::from_secs(1),
            backoff_reset_after: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(10),
            handle_signals: true,
            stop_when_all_terminated: false,
            seed: Self::DEFAULT_SEED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(SupervisorConfig::default().validate(), Ok(()));
    }

    #[test]
    fn zero_clean_restart_delay_is_refused() {
        let err = SupervisorConfig::default()
            .with_clean_restart_delay(Duration::ZERO)
            .validate()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "clean_restart_delay: must be > 0 (got 0ns)"
        );
    }

    #[test]
    fn zero_backoff_reset_is_refused() {
        let err = SupervisorConfig::default()
            .with_backoff_reset_after(Duration::ZERO)
            .validate()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "backoff_reset_after: must be > 0 (got 0ns)"
        );
    }
}

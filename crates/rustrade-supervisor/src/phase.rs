//! The lifecycle state machine of one supervised service.
//!
//! ```text
//! Starting   -> Running | Stopping
//! Running    -> BackingOff | Stopping | Terminated
//! BackingOff -> Starting | Stopping
//! Stopping   -> Terminated
//! ```
//!
//! # Invariants
//!
//! - [`ServicePhase::Terminated`] is absorbing: no transition leaves it, so a terminated service
//!   is never restarted.
//! - A phase never transitions to itself: every recorded transition is a real change, which keeps
//!   "time in phase" meaningful.
//! - `Running → Terminated` is the only way to terminate without passing through `Stopping`; it
//!   is taken when the service ends on its own (completed, failed without restart, circuit open).
//!   Every termination caused by shutdown passes through `Stopping`.
//! - Every refused transition yields an [`IllegalTransition`] naming both phases.

use std::fmt;

/// Where a supervised service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServicePhase {
    /// Registered or about to be (re)started; its task has not been handed to the runtime yet.
    Starting,
    /// Its `run` future is executing.
    Running,
    /// Its last run ended and it waits out a restart delay (backoff after a failure, a fixed delay
    /// after a clean exit under [`RestartPolicy::Always`](crate::RestartPolicy::Always)).
    BackingOff,
    /// Shutdown was requested; the supervisor waits for the run to end.
    Stopping,
    /// Finished for good; see the snapshot's [`TerminationReason`].
    Terminated,
}

impl ServicePhase {
    /// Every phase, in lifecycle order.
    pub const ALL: [Self; 5] = [
        Self::Starting,
        Self::Running,
        Self::BackingOff,
        Self::Stopping,
        Self::Terminated,
    ];

    /// Whether the machine allows going from `self` to `to`.
    pub fn can_transition_to(self, to: Self) -> bool {
        use ServicePhase::{BackingOff, Running, Starting, Stopping, Terminated};
        matches!(
            (self, to),
            (Starting, Running | Stopping)
                | (Running, BackingOff | Stopping | Terminated)
                | (BackingOff, Starting | Stopping)
                | (Stopping, Terminated)
        )
    }

    /// The phase after moving to `to`, or an error naming both phases when the move is illegal.
    pub fn transition_to(self, to: Self) -> Result<Self, IllegalTransition> {
        if self.can_transition_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// `true` for [`ServicePhase::Terminated`].
    pub fn is_terminated(self) -> bool {
        self == Self::Terminated
    }

    /// Lower-case name, as used in logs and health output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::BackingOff => "backing_off",
            Self::Stopping => "stopping",
            Self::Terminated => "terminated",
        }
    }
}

impl fmt::Display for ServicePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a service reached [`ServicePhase::Terminated`].
///
/// Lets a host tell a finished source from a failure and from a clean shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TerminationReason {
    /// The service finished its work (`run` returned `Ok`) and its policy does not restart it.
    Completed,
    /// The service stopped because shutdown was requested, within the drain timeout.
    Shutdown,
    /// The service failed (error or panic) and its policy or the error's severity forbids a
    /// restart.
    Failed,
    /// The service failed too often within the circuit breaker's window; it is never restarted.
    CircuitOpen,
    /// The service ignored cancellation past the drain timeout and its task was aborted.
    Aborted,
}

impl TerminationReason {
    /// Lower-case name, as used in logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Shutdown => "shutdown",
            Self::Failed => "failed",
            Self::CircuitOpen => "circuit_open",
            Self::Aborted => "aborted",
        }
    }
}

impl fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lifecycle transition the state machine refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal service lifecycle transition from {from} to {to}")]
pub struct IllegalTransition {
    /// The phase the service was in.
    pub from: ServicePhase,
    /// The phase that was asked for.
    pub to: ServicePhase,
}

#[cfg(test)]
mod tests {
    use super::ServicePhase::{BackingOff, Running, Starting, Stopping, Terminated};
    use super::*;

    #[test]
    fn restart_cycle_is_legal() {
        let mut phase = Starting;
        for next in [Running, BackingOff, Starting, Running, Stopping, Terminated] {
            phase = phase.transition_to(next).expect("legal transition");
        }
        assert_eq!(phase, Terminated);
    }

    #[test]
    fn ending_on_its_own_skips_stopping() {
        assert_eq!(Running.transition_to(Terminated), Ok(Terminated));
    }

    #[test]
    fn shutdown_reaches_stopping_from_every_live_phase() {
        for from in [Starting, Running, BackingOff] {
            assert_eq!(from.transition_to(Stopping), Ok(Stopping), "from {from}");
        }
    }

    #[test]
    fn terminated_is_absorbing() {
        for to in ServicePhase::ALL {
            let err = Terminated.transition_to(to).unwrap_err();
            assert_eq!(
                err,
                IllegalTransition {
                    from: Terminated,
                    to
                }
            );
        }
    }

    #[test]
    fn self_transitions_are_refused() {
        for phase in ServicePhase::ALL {
            assert!(!phase.can_transition_to(phase), "{phase} -> {phase}");
        }
    }

    #[test]
    fn illegal_transitions_name_both_phases() {
        let err = Running.transition_to(Starting).unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal service lifecycle transition from running to starting"
        );
        let err = BackingOff.transition_to(Running).unwrap_err();
        assert_eq!(err.from, BackingOff);
        assert_eq!(err.to, Running);
        assert!(err.to_string().contains("backing_off"));
    }

    #[test]
    fn exactly_the_documented_edges_are_legal() {
        let legal = [
            (Starting, Running),
            (Starting, Stopping),
            (Running, BackingOff),
            (Running, Stopping),
            (Running, Terminated),
            (BackingOff, Starting),
            (BackingOff, Stopping),
            (Stopping, Terminated),
        ];
        for from in ServicePhase::ALL {
            for to in ServicePhase::ALL {
                assert_eq!(
                    from.can_transition_to(to),
                    legal.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn names_are_stable() {
        assert_eq!(BackingOff.to_string(), "backing_off");
        assert_eq!(TerminationReason::CircuitOpen.to_string(), "circuit_open");
        assert_eq!(TerminationReason::Completed.as_str(), "completed");
    }
}

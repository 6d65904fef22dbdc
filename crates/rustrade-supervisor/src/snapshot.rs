//! [`ServiceLifecycleSnapshot`]: the health view of one supervised service.

use std::time::Duration;

use tokio::time::Instant;

use crate::{RestartPolicy, ServicePhase, TerminationReason};

/// A point-in-time copy of one service's lifecycle, for health endpoints and tests.
///
/// `termination` is `Some` exactly when `phase` is [`ServicePhase::Terminated`]. `last_error` keeps
/// the most recent failure (error chain or panic message) even after a successful restart, so a
/// restart loop stays visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceLifecycleSnapshot {
    /// The service's name.
    pub name: String,
    /// Its restart policy.
    pub policy: RestartPolicy,
    /// Where it is in its lifecycle.
    pub phase: ServicePhase,
    /// When it entered `phase`, on tokio's clock.
    pub since: Instant,
    /// How long it has been in `phase` when the snapshot was taken.
    pub time_in_phase: Duration,
    /// How many times it was started again after a run ended.
    pub restarts: u32,
    /// How many runs ended in an error or a panic.
    pub failures: u32,
    /// How many of those failures were panics.
    pub panics: u32,
    /// The most recent failure: the error with its sources, or `panicked: <message>`.
    pub last_error: Option<String>,
    /// Why it terminated, once it has.
    pub termination: Option<TerminationReason>,
}

impl ServiceLifecycleSnapshot {
    /// `true` once the service reached [`ServicePhase::Terminated`].
    pub fn is_terminated(&self) -> bool {
        self.phase.is_terminated()
    }
}

/// How many services a supervisor has started and how many have terminated.
///
/// `active = spawned − terminated` always holds; after a completed shutdown `active` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceCounts {
    /// Services handed to [`Supervisor::spawn`](crate::Supervisor::spawn) and accepted.
    pub spawned: usize,
    /// Services that reached [`ServicePhase::Terminated`].
    pub terminated: usize,
    /// Services not yet terminated.
    pub active: usize,
}

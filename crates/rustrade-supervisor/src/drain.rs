//! [`DrainReport`] and [`ShutdownCause`]: what a shutdown did and why it happened.

use std::fmt;
use std::time::Duration;

use crate::{ServiceLifecycleSnapshot, TerminationReason};

/// What started a shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutdownCause {
    /// The supervisor's cancellation token was cancelled, by
    /// [`Supervisor::shutdown`](crate::Supervisor::shutdown) or by a host holding the token.
    Requested,
    /// SIGINT (Ctrl-C) arrived.
    Interrupt,
    /// SIGTERM arrived.
    Terminate,
    /// Every spawned service had terminated on its own; only with
    /// [`stop_when_all_terminated`](crate::SupervisorConfig::stop_when_all_terminated) set.
    AllTerminated,
}

impl ShutdownCause {
    /// Lower-case name, as used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Interrupt => "sigint",
            Self::Terminate => "sigterm",
            Self::AllTerminated => "all_terminated",
        }
    }
}

impl fmt::Display for ShutdownCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a graceful drain.
///
/// `stopped` lists the services that ended within the timeout after being cancelled, `aborted`
/// those still running when it expired; services that had terminated before the drain began
/// (completed, failed, circuit open) are in neither list but appear in `services` with their
/// reason. Names are in spawn order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// What started the shutdown.
    pub cause: ShutdownCause,
    /// How long the drain took, on tokio's clock; never more than the shutdown timeout plus the
    /// time to abort.
    pub elapsed: Duration,
    /// Services that stopped in response to cancellation.
    pub stopped: Vec<String>,
    /// Services aborted at the timeout.
    pub aborted: Vec<String>,
    /// Every service's final snapshot, in spawn order.
    pub services: Vec<ServiceLifecycleSnapshot>,
}

impl DrainReport {
    /// `true` when no service had to be aborted.
    pub fn is_clean(&self) -> bool {
        self.aborted.is_empty()
    }

    pub(crate) fn new(
        cause: ShutdownCause,
        elapsed: Duration,
        services: Vec<ServiceLifecycleSnapshot>,
    ) -> Self {
        let named = |reason: TerminationReason| {
            services
                .iter()
                .filter(|s| s.termination == Some(reason))
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        };
        Self {
            cause,
            elapsed,
            stopped: named(TerminationReason::Shutdown),
            aborted: named(TerminationReason::Aborted),
            services,
        }
    }
}

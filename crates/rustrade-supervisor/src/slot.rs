//! The supervisor's record of one service: its lifecycle, guarded by a lock, and the handle of
//! the task currently running it.
//!
//! # Invariants
//!
//! - Every phase change goes through [`ServicePhase::transition_to`]; an illegal one changes
//!   nothing.
//! - A slot terminates exactly once (the terminated phase is absorbing), so each service is counted
//!   once in the terminated totals whichever of its runner or the drain gets there first.
//! - `termination` is `Some` exactly when the phase is terminated.
//! - The run task is only spawned while the slot is `Starting`, under the slot's lock, so a drain
//!   that terminated the slot first can never be followed by a fresh run.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;

use crate::registry::Registry;
use crate::{
    IllegalTransition, RestartPolicy, ServiceLifecycleSnapshot, ServicePhase, TerminationReason,
    clock, metrics,
};

/// One supervised service's shared record.
#[derive(Debug)]
pub(crate) struct ServiceSlot {
    name: String,
    policy: RestartPolicy,
    state: Mutex<Lifecycle>,
}

#[derive(Debug)]
struct Lifecycle {
    phase: ServicePhase,
    since: Instant,
    restarts: u32,
    failures: u32,
    panics: u32,
    last_error: Option<String>,
    termination: Option<TerminationReason>,
    run_task: Option<AbortHandle>,
}

impl ServiceSlot {
    pub(crate) fn new(name: String, policy: RestartPolicy, now: Instant) -> Self {
        Self {
            name,
            policy,
            state: Mutex::new(Lifecycle {
                phase: ServicePhase::Starting,
                since: now,
                restarts: 0,
                failures: 0,
                panics: 0,
                last_error: None,
                termination: None,
                run_task: None,
            }),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn policy(&self) -> RestartPolicy {
        self.policy
    }

    /// Spawns the run task with `spawn` and enters `Running`, if the slot is `Starting`.
    /// Returns `None` (nothing spawned) when the slot was moved on meanwhile (drained).
    pub(crate) fn start_run<T>(
        &self,
        spawn: impl FnOnce() -> JoinHandle<T>,
    ) -> Option<JoinHandle<T>> {
        let mut state = self.lock();
        if state.phase != ServicePhase::Starting {
            return None;
        }
        let handle = spawn();
        state.run_task = Some(handle.abort_handle());
        state.enter(ServicePhase::Running).ok()?;
        Some(handle)
    }

    /// Forgets the handle of a run task that has ended.
    pub(crate) fn clear_run_task(&self) {
        self.lock().run_task = None;
    }

    /// Moves to `to`; refused (and nothing changed) when the machine forbids it.
    pub(crate) fn transition(&self, to: ServicePhase) -> Result<(), IllegalTransition> {
        self.lock().enter(to)
    }

    /// `BackingOff → Starting`, counting the restart.
    pub(crate) fn restart(&self, registry: &Registry) -> Result<(), IllegalTransition> {
        {
            let mut state = self.lock();
            state.enter(ServicePhase::Starting)?;
            state.restarts = state.restarts.saturating_add(1);
        }
        registry.metrics().counter(
            metrics::SERVICE_RESTARTS_TOTAL,
            &[("service", &self.name)],
            1,
        );
        Ok(())
    }

    /// Records a failed run: its error text becomes `last_error`.
    pub(crate) fn record_failure(&self, message: String, panicked: bool, registry: &Registry) {
        {
            let mut state = self.lock();
            state.failures = state.failures.saturating_add(1);
            if panicked {
                state.panics = state.panics.saturating_add(1);
            }
            state.last_error = Some(message);
        }
        let labels = [("service", self.name.as_str())];
        registry
            .metrics()
            .counter(metrics::SERVICE_FAILURES_TOTAL, &labels, 1);
        if panicked {
            registry
                .metrics()
                .counter(metrics::SERVICE_PANICS_TOTAL, &labels, 1);
        }
    }

    /// Terminates the slot with `reason`, passing through `Stopping` when shutdown caused it.
    /// Returns `false` when it had already terminated.
    pub(crate) fn terminate(&self, reason: TerminationReason, registry: &Registry) -> bool {
        {
            let mut state = self.lock();
            if state.phase.is_terminated() {
                return false;
            }
            let via_stopping = matches!(
                reason,
                TerminationReason::Shutdown | TerminationReason::Aborted
            );
            if via_stopping
                && state.phase != ServicePhase::Stopping
                && let Err(e) = state.enter(ServicePhase::Stopping)
            {
                tracing::error!(
                    service = %self.name,
                    error = %e,
                    "lifecycle transition refused while terminating"
                );
                return false;
            }
            if let Err(e) = state.enter(ServicePhase::Terminated) {
                tracing::error!(
                    service = %self.name,
                    error = %e,
                    "lifecycle transition refused while terminating"
                );
                return false;
            }
            state.termination = Some(reason);
            if reason == TerminationReason::Aborted
                && let Some(task) = state.run_task.take()
            {
                task.abort();
            }
        }
        registry.record_termination(&self.name, reason);
        true
    }

    pub(crate) fn snapshot(&self, now: Instant) -> ServiceLifecycleSnapshot {
        let state = self.lock();
        ServiceLifecycleSnapshot {
            name: self.name.clone(),
            policy: self.policy,
            phase: state.phase,
            since: state.since,
            time_in_phase: now.saturating_duration_since(state.since),
            restarts: state.restarts,
            failures: state.failures,
            panics: state.panics,
            last_error: state.last_error.clone(),
            termination: state.termination,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lifecycle> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Lifecycle {
    fn enter(&mut self, to: ServicePhase) -> Result<(), IllegalTransition> {
        self.phase = self.phase.transition_to(to)?;
        self.since = clock::now();
        Ok(())
    }
}

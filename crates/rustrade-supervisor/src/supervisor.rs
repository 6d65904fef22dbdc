//! [`Supervisor`]: spawns services, reports their lifecycles, and drains them on shutdown.
//!
//! # Invariants
//!
//! - Service names are unique per supervisor and services are never forgotten: snapshots list
//!   every spawned service in spawn order, terminated ones included.
//! - Each service runs under a child of the supervisor's cancellation token; cancelling the
//!   supervisor's token is the one way shutdown starts, whoever triggers it.
//! - No service is accepted once shutdown has begun, so a drain sees every service it must stop.
//! - A drain waits at most `shutdown_timeout` on tokio's clock; whatever is still alive then is
//!   terminated as aborted and its task aborted, without further waiting. After a drain every
//!   service is terminated and `spawned == terminated`.

use std::fmt;
use std::future::pending;
use std::sync::Arc;

use rustrade_core::{MetricsSink, NoopMetrics};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::registry::Registry;
use crate::signals::Signals;
use crate::slot::ServiceSlot;
use crate::{
    DrainReport, ServiceCounts, ServiceLifecycleSnapshot, ShutdownCause, SupervisorConfig,
    SupervisorError, TerminationReason, TradingService, clock, runner,
};

/// Keeps a set of [`TradingService`]s running and stops them cleanly.
///
/// Shared as `Arc<Supervisor>`: every method takes `&self`. Spawn services, then either await
/// [`run_until_shutdown`](Self::run_until_shutdown) (which returns after the drain), or call
/// [`shutdown`](Self::shutdown) from wherever the decision is made. Health comes from
/// [`lifecycle_snapshots`](Self::lifecycle_snapshots).
///
/// Dropping the supervisor cancels its token, so services stop even if nobody drained them; it
/// does not wait for them.
pub struct Supervisor {
    registry: Arc<Registry>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl Supervisor {
    /// A supervisor that emits no metrics. Fails when `config` is invalid.
    pub fn new(config: SupervisorConfig) -> Result<Self, SupervisorError> {
        Self::with_metrics(config, Arc::new(NoopMetrics))
    }

    /// A supervisor that emits its metrics (see [`crate::metrics`]) to `metrics`.
    pub fn with_metrics(
        config: SupervisorConfig,
        metrics: Arc<dyn MetricsSink>,
    ) -> Result<Self, SupervisorError> {
        config.validate()?;
        Ok(Self {
            registry: Arc::new(Registry::new(config, metrics)),
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &SupervisorConfig {
        self.registry.config()
    }

    /// The token whose cancellation shuts the supervisor down. Hosts clone it to trigger or
    /// observe shutdown; services receive children of it.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Starts supervising `service` on the current tokio runtime.
    ///
    /// Refused when the name is empty, blank or holds control characters, when a service of that
    /// name is already supervised, when shutdown has begun, or outside a tokio runtime.
    pub fn spawn(&self, service: Arc<dyn TradingService>) -> Result<(), SupervisorError> {
        let name = service.name().to_owned();
        check_name(&name)?;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(SupervisorError::NoRuntime { name });
        }
        let policy = service.restart_policy();
        let (slot, index) = {
            let mut slots = self.registry.slots();
            if self.cancel.is_cancelled() {
                return Err(SupervisorError::ShuttingDown { name });
            }
            if slots.iter().any(|s| s.name() == name) {
                return Err(SupervisorError::DuplicateService { name });
            }
            let slot = Arc::new(ServiceSlot::new(name, policy, clock::now()));
            slots.push(Arc::clone(&slot));
            self.registry.record_spawn();
            (slot, slots.len() - 1)
        };
        tracing::info!(service = slot.name(), policy = %policy, "service spawned");
        let seed = service_seed(self.config().seed, index);
        self.tracker.spawn(runner::supervise(
            service,
            slot,
            Arc::clone(&self.registry),
            self.cancel.child_token(),
            seed,
        ));
        Ok(())
    }

    /// Every service's lifecycle, in spawn order.
    pub async fn lifecycle_snapshots(&self) -> Vec<ServiceLifecycleSnapshot> {
        self.snapshots_now()
    }

    /// One service's lifecycle, by name.
    pub fn snapshot(&self, name: &str) -> Option<ServiceLifecycleSnapshot> {
        let now = clock::now();
        self.registry
            .slots()
            .iter()
            .find(|s| s.name() == name)
            .map(|s| s.snapshot(now))
    }

    /// How many services were spawned, have terminated, and are still active.
    pub fn counts(&self) -> ServiceCounts {
        self.registry.counts()
    }

    /// Waits until every spawned service has terminated, for whatever reason (all finite sources
    /// completed, failures, shutdown). Returns at once when no service is active, including when
    /// none was spawned.
    pub async fn wait_until_all_terminated(&self) {
        let mut counts = self.registry.subscribe_counts();
        // The sender lives in the registry, which `self` keeps alive: the wait cannot fail.
        let _ = counts.wait_for(|c| c.active == 0).await;
    }

    /// Waits for a shutdown trigger, then drains.
    ///
    /// Triggers: the cancellation token (from [`shutdown`](Self::shutdown) or a host's clone);
    /// SIGINT or SIGTERM when [`SupervisorConfig::handle_signals`] is on; every spawned service
    /// having terminated when [`SupervisorConfig::stop_when_all_terminated`] is on. Fails only
    /// when a signal handler cannot be installed, before anything is stopped.
    pub async fn run_until_shutdown(&self) -> Result<DrainReport, SupervisorError> {
        let mut signals = if self.config().handle_signals {
            Some(Signals::install()?)
        } else {
            None
        };
        let all_terminated = async {
            if self.config().stop_when_all_terminated {
                let mut counts = self.registry.subscribe_counts();
                // Cannot fail: the sender outlives `self`.
                let _ = counts.wait_for(|c| c.spawned > 0 && c.active == 0).await;
            } else {
                pending::<()>().await;
            }
        };
        let signal = async {
            match signals.as_mut() {
                Some(signals) => signals.recv().await,
                None => pending().await,
            }
        };
        let cause = tokio::select! {
            () = self.cancel.cancelled() => ShutdownCause::Requested,
            cause = signal => cause,
            () = all_terminated => ShutdownCause::AllTerminated,
        };
        tracing::info!(cause = %cause, "supervisor shutting down");
        Ok(self.drain(cause).await)
    }

    /// Cancels every service and drains them: waits up to the shutdown timeout, then aborts what
    /// is still running. Safe to call more than once; a later call reports the same final states.
    pub async fn shutdown(&self) -> DrainReport {
        self.drain(ShutdownCause::Requested).await
    }

    async fn drain(&self, cause: ShutdownCause) -> DrainReport {
        let started = clock::now();
        self.cancel.cancel();
        self.tracker.close();
        let timeout = self.config().shutdown_timeout;
        if tokio::time::timeout(timeout, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                ?timeout,
                "shutdown timeout expired; aborting remaining services"
            );
        }
        for slot in self.registry.slot_list() {
            if slot.terminate(TerminationReason::Aborted, &self.registry) {
                tracing::warn!(service = slot.name(), "service aborted at shutdown timeout");
            }
        }
        let elapsed = clock::now().saturating_duration_since(started);
        DrainReport::new(cause, elapsed, self.snapshots_now())
    }

    fn snapshots_now(&self) -> Vec<ServiceLifecycleSnapshot> {
        let now = clock::now();
        self.registry
            .slots()
            .iter()
            .map(|s| s.snapshot(now))
            .collect()
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("config", self.config())
            .field("counts", &self.counts())
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Refuses names that cannot identify a service in snapshots, logs and metric labels.
fn check_name(name: &str) -> Result<(), SupervisorError> {
    let reason = if name.trim().is_empty() {
        "must not be empty or blank"
    } else if name.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(SupervisorError::InvalidServiceName {
        name: name.to_owned(),
        reason,
    })
}

/// A well-mixed per-service seed (SplitMix64 of the base seed offset by the spawn index), so
/// services spawned together do not draw correlated jitter.
fn service_seed(base: u64, index: usize) -> u64 {
    let mut z = base.wrapping_add((index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

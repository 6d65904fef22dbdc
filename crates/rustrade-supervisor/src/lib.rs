//! Keeps a bot's long-running services alive: restarts them with backoff when they fail, stops
//! restarting a service that keeps failing, contains panics, reports every service's lifecycle, and
//! shuts everything down within a bounded time.
//!
//! # Overview
//!
//! - [`TradingService`]: a named, restartable async task with a [`RestartPolicy`]; its `run`
//!   returns `Ok` when its work is done or a [`ServiceError`] that is retryable or fatal.
//! - [`Supervisor`]: spawns services (each on a child of its [`CancellationToken`]), restarts them
//!   per policy with [`Backoff`] (exponential, full jitter, seeded) and a per-service
//!   [`CircuitBreakerPolicy`], and drains them on shutdown, returning a [`DrainReport`].
//! - [`ServiceLifecycleSnapshot`]: one service's [`ServicePhase`], restarts, last error and, once
//!   terminated, its [`TerminationReason`] (completed, shutdown, failed, circuit open, aborted).
//! - [`metrics`]: the metric names emitted through core's `MetricsSink`.
//!
//! All timers and "time in phase" use tokio's clock, so tests drive them with
//! `#[tokio::test(start_paused = true)]` and never sleep for real.
//!
//! # Panics in services
//!
//! Each run of a service executes in its own tokio task. When it panics, the unwind stops at that
//! task; the supervisor records the failure with the panic message as `last_error`, counts it in
//! `rustrade_service_panics_total`, and restarts the service under its policy. Sibling services and
//! the process keep running. This relies on unwinding: a binary built with `panic = "abort"` in
//! its profile terminates the whole process at the first panic, and no supervisor can prevent it.
//!
//! # Shutdown
//!
//! [`Supervisor::run_until_shutdown`] waits for the token to be cancelled (or for SIGINT/SIGTERM
//! when enabled), then cancels every service and waits up to
//! [`SupervisorConfig::shutdown_timeout`]. Services still running then are aborted and reported
//! as such. An abort takes effect when the service's future next yields; a service that blocks
//! its thread without ever yielding cannot be stopped by any async runtime, and the drain still
//! returns on time.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use rustrade_supervisor::{
//!     async_trait, CancellationToken, RestartPolicy, ServiceError, ServicePhase, Supervisor,
//!     SupervisorConfig, TerminationReason, TradingService,
//! };
//!
//! /// Fails on its first run, then finishes its work.
//! struct FlakyImport { runs: AtomicU32 }
//!
//! #[async_trait]
//! impl TradingService for FlakyImport {
//!     fn name(&self) -> &str { "import" }
//!     fn restart_policy(&self) -> RestartPolicy { RestartPolicy::OnFailure }
//!     async fn run(&self, _cancel: CancellationToken) -> Result<(), ServiceError> {
//!         if self.runs.fetch_add(1, Ordering::Relaxed) == 0 {
//!             return Err(ServiceError::retryable("venue not reachable"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let config = SupervisorConfig::default().without_signal_handler();
//!     let supervisor = Arc::new(Supervisor::new(config)?);
//!     supervisor.spawn(Arc::new(FlakyImport { runs: AtomicU32::new(0) }))?;
//!
//!     supervisor.wait_until_all_terminated().await;
//!     let import = &supervisor.lifecycle_snapshots().await[0];
//!     assert_eq!(import.phase, ServicePhase::Terminated);
//!     assert_eq!(import.termination, Some(TerminationReason::Completed));
//!     assert_eq!(import.restarts, 1);
//!     assert_eq!(import.last_error.as_deref(), Some("venue not reachable"));
//!
//!     let report = supervisor.shutdown().await;
//!     assert!(report.is_clean());
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })
//! # }
//! ```

mod backoff;
mod circuit;
mod clock;
mod config;
mod drain;
mod error;
pub mod metrics;
mod phase;
mod registry;
mod runner;
mod service;
mod signals;
mod slot;
mod snapshot;
mod supervisor;

pub use async_trait::async_trait;
pub use tokio_util::sync::CancellationToken;

pub use backoff::Backoff;
pub use circuit::CircuitBreakerPolicy;
pub use config::SupervisorConfig;
pub use drain::{DrainReport, ShutdownCause};
pub use error::{BoxError, ConfigError, ServiceError, Severity, SupervisorError};
pub use phase::{IllegalTransition, ServicePhase, TerminationReason};
pub use service::{RestartPolicy, TradingService};
pub use snapshot::{ServiceCounts, ServiceLifecycleSnapshot};
pub use supervisor::Supervisor;

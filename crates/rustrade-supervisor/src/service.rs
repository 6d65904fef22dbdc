//! The contract of a supervised service: [`TradingService`] and its [`RestartPolicy`].

use std::fmt;

use tokio_util::sync::CancellationToken;

use crate::ServiceError;

/// When the supervisor starts a service again after its `run` returned.
///
/// Whatever the policy, a [`Severity::Fatal`](crate::Severity::Fatal) error terminates the
/// service as failed, an open circuit terminates it for good, and nothing restarts after shutdown
/// was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RestartPolicy {
    /// Run once. An error or a panic terminates it as failed; `Ok` terminates it as completed.
    Never,
    /// Restart after an error or a panic (with backoff); `Ok` terminates it as completed. Fits
    /// finite work such as replaying a file or polling until a condition holds.
    #[default]
    OnFailure,
    /// Restart after an error or a panic (with backoff) and after `Ok` (with a short fixed delay).
    /// Fits loops that must always be running, such as a market data feed.
    Always,
}

impl RestartPolicy {
    /// Lower-case name, as used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::OnFailure => "on_failure",
            Self::Always => "always",
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A long-running task the [`Supervisor`](crate::Supervisor) keeps alive: a market feed, a fill
/// stream, an execution loop, a poller.
///
/// The trait is object-safe and services are shared as `Arc<dyn TradingService>`: every restart
/// calls [`run`](TradingService::run) again on the same object, so state that must survive a
/// restart (a reconnect counter, a cursor) lives behind interior mutability, and state that must
/// not (a half-read buffer) is created inside `run`.
///
/// Contract of `run`:
/// - Return when `cancel` is cancelled, promptly; the supervisor aborts a service that is still
///   running when the drain timeout expires.
/// - Return `Ok(())` when the work is finished (a finite source reached its end).
/// - Return a [`ServiceError`]: retryable to be restarted under the policy, fatal to stop for good.
/// - A panic is caught and handled like a retryable error carrying the panic message, provided the
///   binary is built with `panic = "unwind"` (the default); see the crate docs.
///
/// ```
/// use rustrade_supervisor::{async_trait, RestartPolicy, ServiceError, TradingService};
/// use tokio_util::sync::CancellationToken;
///
/// /// Polls something until shutdown.
/// struct Poller;
///
/// #[async_trait]
/// impl TradingService for Poller {
///     fn name(&self) -> &str { "poller" }
///     fn restart_policy(&self) -> RestartPolicy { RestartPolicy::Always }
///     async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
///         cancel.cancelled().await;
///         Ok(())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait TradingService: Send + Sync {
    /// Unique name within a supervisor; used in snapshots, logs and metric labels.
    fn name(&self) -> &str;

    /// Runs the service until its work is done, it fails, or `cancel` is cancelled.
    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError>;

    /// When to restart; read once, when the service is spawned. Defaults to
    /// [`RestartPolicy::OnFailure`].
    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::OnFailure
    }
}

//! Errors of the supervisor, one enum per failure surface.
//!
//! - [`ServiceError`]: what a service's `run` returns. It carries a [`Severity`] so the supervisor
//!   decides between "restart under the policy" and "terminate now" without parsing text.
//! - [`ConfigError`]: a configuration value refused at construction, naming the field and value.
//! - [`SupervisorError`]: a supervisor call that could not be carried out (bad or duplicate
//!   service name, spawn after shutdown began, no runtime, signal handler installation).
//! - [`IllegalTransition`] lives with the phase machine in [`crate::ServicePhase`].

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use rustrade_core::{BrainError, ExchangeError, StoreError};

use crate::IllegalTransition;

/// A boxed error usable as the source of a [`ServiceError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Whether a failed service may be restarted.
///
/// A supervisor restarts a service whose error is [`Severity::Retryable`] when its
/// [`RestartPolicy`](crate::RestartPolicy) allows it; a [`Severity::Fatal`] error terminates the
/// service as failed whatever the policy says (bad credentials, corrupt state: restarting cannot
/// help and may do harm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The same work may succeed when run again (transport trouble, a dropped stream).
    Retryable,
    /// Running again cannot succeed; the service terminates as failed.
    Fatal,
}

impl Severity {
    /// Lower-case name, as used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retryable => "retryable",
            Self::Fatal => "fatal",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The failure of one run of a [`TradingService`](crate::TradingService).
///
/// Built from a message ([`ServiceError::retryable`], [`ServiceError::fatal`]) or from any error
/// plus a message saying what the service was doing ([`ServiceError::retryable_from`],
/// [`ServiceError::fatal_from`]). The core error types convert with `?`: an
/// [`ExchangeError`] is retryable exactly when [`ExchangeError::is_retryable`] says so, a
/// [`StoreError`] is retryable only for backend trouble, a [`BrainError`] always is.
///
/// ```
/// use rustrade_supervisor::{ServiceError, Severity};
///
/// let io = std::io::Error::other("connection reset");
/// let err = ServiceError::retryable_from("reading the market stream", io);
/// assert_eq!(err.severity(), Severity::Retryable);
/// assert_eq!(err.to_string(), "reading the market stream");
/// assert_eq!(err.chain_message(), "reading the market stream: connection reset");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    severity: Severity,
    message: String,
    #[source]
    source: Option<BoxError>,
}

impl ServiceError {
    /// A retryable failure described by `message`.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::new(Severity::Retryable, message, None)
    }

    /// A fatal failure described by `message`: the service is not restarted.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::new(Severity::Fatal, message, None)
    }

    /// A retryable failure caused by `source`, with `message` saying what was being done.
    pub fn retryable_from(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::new(Severity::Retryable, message, Some(source.into()))
    }

    /// A fatal failure caused by `source`, with `message` saying what was being done.
    pub fn fatal_from(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::new(Severity::Fatal, message, Some(source.into()))
    }

    /// Whether the failure may be retried.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// `true` for [`Severity::Fatal`].
    pub fn is_fatal(&self) -> bool {
        self.severity == Severity::Fatal
    }

    /// The message given at construction, without its sources.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message followed by every source in the chain, joined with `": "`. This is what a
    /// [`ServiceLifecycleSnapshot`](crate::ServiceLifecycleSnapshot) shows as `last_error`.
    pub fn chain_message(&self) -> String {
        let mut text = self.message.clone();
        let mut next = StdError::source(self);
        while let Some(cause) = next {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            next = cause.source();
        }
        text
    }

    fn new(severity: Severity, message: impl Into<String>, source: Option<BoxError>) -> Self {
        Self {
            severity,
            message: message.into(),
            source,
        }
    }
}

impl From<ExchangeError> for ServiceError {
    fn from(e: ExchangeError) -> Self {
        let severity = if e.is_retryable() {
            Severity::Retryable
        } else {
            Severity::Fatal
        };
        Self::new(severity, "exchange call failed", Some(Box::new(e)))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        let severity = match e {
            StoreError::Backend(_) => Severity::Retryable,
            _ => Severity::Fatal,
        };
        Self::new(severity, "state store failed", Some(Box::new(e)))
    }
}

impl From<BrainError> for ServiceError {
    fn from(e: BrainError) -> Self {
        Self::new(Severity::Retryable, "brain failed", Some(Box::new(e)))
    }
}

/// A configuration value refused by
/// [`SupervisorConfig::validate`](crate::SupervisorConfig::validate) or a validating constructor.
/// Names the field and carries the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A duration outside what the field accepts.
    #[error("{field}: {reason} (got {value:?})")]
    Duration {
        /// The field being set.
        field: &'static str,
        /// The offending value.
        value: Duration,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A count outside what the field accepts.
    #[error("{field}: {reason} (got {value})")]
    Count {
        /// The field being set.
        field: &'static str,
        /// The offending value.
        value: u32,
        /// The rule it broke.
        reason: &'static str,
    },
}

/// A supervisor operation that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// The configuration was refused.
    #[error("invalid supervisor configuration: {0}")]
    Config(#[from] ConfigError),
    /// A service name was empty or unusable as a metric label.
    #[error("service name {name:?}: {reason}")]
    InvalidServiceName {
        /// The refused name.
        name: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A service with this name is already supervised; names identify services in snapshots and
    /// metrics, so they are unique per supervisor.
    #[error("service name {name:?}: already supervised")]
    DuplicateService {
        /// The duplicate name.
        name: String,
    },
    /// Shutdown has begun; no new service is started.
    #[error("service {name:?}: not started, the supervisor is shutting down")]
    ShuttingDown {
        /// The service that was not started.
        name: String,
    },
    /// `spawn` was called outside a tokio runtime.
    #[error("service {name:?}: not started, no tokio runtime is running on this thread")]
    NoRuntime {
        /// The service that was not started.
        name: String,
    },
    /// An OS signal handler could not be installed.
    #[error("installing the {signal} handler failed: {reason}")]
    SignalHandler {
        /// The signal (`SIGINT`, `SIGTERM`).
        signal: &'static str,
        /// What the OS said.
        reason: String,
    },
    /// A lifecycle transition was refused.
    #[error(transparent)]
    Transition(#[from] IllegalTransition),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_errors_keep_their_retryability() {
        let transport = ServiceError::from(ExchangeError::Transport("reset".into()));
        assert_eq!(transport.severity(), Severity::Retryable);
        assert_eq!(
            transport.chain_message(),
            "exchange call failed: transport: reset"
        );

        let auth = ServiceError::from(ExchangeError::Auth("bad signature".into()));
        assert!(auth.is_fatal());
        assert_eq!(
            auth.chain_message(),
            "exchange call failed: authentication failed: bad signature"
        );
    }

    #[test]
    fn store_errors_are_fatal_unless_the_backend_failed() {
        let backend = ServiceError::from(StoreError::Backend("database locked".into()));
        assert_eq!(backend.severity(), Severity::Retryable);
        let corrupt = ServiceError::from(StoreError::Corrupt {
            key: "risk/a".into(),
            reason: "bad json".into(),
        });
        assert!(corrupt.is_fatal());
        assert!(ServiceError::from(StoreError::InvalidKey(String::new())).is_fatal());
    }

    #[test]
    fn brain_errors_are_retryable() {
        let e = ServiceError::from(BrainError::Other("model offline".into()));
        assert_eq!(e.severity(), Severity::Retryable);
        assert_eq!(e.chain_message(), "brain failed: model offline");
    }

    #[test]
    fn any_error_with_a_message_builds_either_severity() {
        let io = std::io::Error::other("disk full");
        let e = ServiceError::fatal_from("writing the journal", io);
        assert!(e.is_fatal());
        assert_eq!(e.message(), "writing the journal");
        assert_eq!(e.to_string(), "writing the journal");
        assert_eq!(e.chain_message(), "writing the journal: disk full");
        assert!(StdError::source(&e).is_some());

        let plain = ServiceError::retryable("no data yet");
        assert_eq!(plain.chain_message(), "no data yet");
        assert!(StdError::source(&plain).is_none());
        assert_eq!(Severity::Fatal.to_string(), "fatal");
    }
}

//! OS shutdown signals: SIGINT and, on Unix, SIGTERM.

use crate::{ShutdownCause, SupervisorError};

/// Installed signal listeners; dropping them restores nothing (tokio keeps its handlers), but
/// stops this supervisor from reacting.
pub(crate) struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the listeners, reporting which one the OS refused.
    #[cfg(unix)]
    pub(crate) fn install() -> Result<Self, SupervisorError> {
        use tokio::signal::unix::{SignalKind, signal};
        let install = |kind, name| {
            signal(kind).map_err(|e| SupervisorError::SignalHandler {
                signal: name,
                reason: e.to_string(),
            })
        };
        Ok(Self {
            interrupt: install(SignalKind::interrupt(), "SIGINT")?,
            terminate: install(SignalKind::terminate(), "SIGTERM")?,
        })
    }

    /// Installs the listeners (Ctrl-C only off Unix; installed on first wait).
    #[cfg(not(unix))]
    pub(crate) fn install() -> Result<Self, SupervisorError> {
        Ok(Self {})
    }

    /// Waits for the next shutdown signal.
    #[cfg(unix)]
    pub(crate) async fn recv(&mut self) -> ShutdownCause {
        tokio::select! {
            Some(()) = self.interrupt.recv() => ShutdownCause::Interrupt,
            Some(()) = self.terminate.recv() => ShutdownCause::Terminate,
            else => std::future::pending().await,
        }
    }

    /// Waits for the next shutdown signal.
    #[cfg(not(unix))]
    pub(crate) async fn recv(&mut self) -> ShutdownCause {
        match tokio::signal::ctrl_c().await {
            Ok(()) => ShutdownCause::Interrupt,
            Err(e) => {
                tracing::error!(
                    error = %e,
                    "Ctrl-C handler unavailable; waiting for other shutdown triggers"
                );
                std::future::pending().await
            }
        }
    }
}

//! [`NatsError`]: why a NATS operation failed.

/// Failure of a NATS operation, keeping the client's own error as its source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NatsError {
    /// A setting was refused before any connection was made.
    #[error("{field}: {reason} (got {value:?})")]
    InvalidOption {
        /// The setting, e.g. `url`.
        field: &'static str,
        /// The offending value (a URL with any credentials removed).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        /// The server's URL, credentials removed.
        url: String,
        /// The client's error.
        #[source]
        source: async_nats::ConnectError,
    },
    /// A JetStream request (stream or consumer management, publish acknowledgement) failed.
    #[error("JetStream {what}: {message}")]
    JetStream {
        /// What was being done, e.g. `create stream md`.
        what: String,
        /// The client's or the server's message.
        message: String,
    },
    /// A message on the wire did not decode.
    #[error("malformed message on {subject}: {reason}")]
    Malformed {
        /// The subject it arrived on.
        subject: String,
        /// Why it was refused.
        reason: String,
    },
}

impl NatsError {
    /// A [`NatsError::JetStream`] from any client error.
    pub fn jetstream(what: impl Into<String>, e: impl std::fmt::Display) -> Self {
        Self::JetStream {
            what: what.into(),
            message: e.to_string(),
        }
    }
}

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
    /// A blob fetched from the store does not hash to its key: it was altered or truncated,
    /// and is refused rather than replayed.
    #[error("blob {key}: the fetched {len} bytes hash to {actual}")]
    BlobMismatch {
        /// The key asked for (the SHA-256 hex the bytes were stored under).
        key: String,
        /// The SHA-256 hex of what arrived.
        actual: String,
        /// How many bytes arrived.
        len: usize,
    },
    /// No blob is stored under the key.
    #[error("blob {key} is not in bucket {bucket}")]
    BlobMissing {
        /// The bucket searched.
        bucket: String,
        /// The key asked for.
        key: String,
    },
    /// A job of a work queue failed on every delivery it was allowed, or its workers vanished
    /// each time; the batch cannot complete.
    #[error("job {job} of batch {batch} failed after {deliveries} deliveries: {reason}")]
    JobFailed {
        /// The batch the job belongs to.
        batch: String,
        /// The job's id within its batch.
        job: u64,
        /// How many times it was delivered.
        deliveries: i64,
        /// The last worker's reason, or why the server gave up on it.
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

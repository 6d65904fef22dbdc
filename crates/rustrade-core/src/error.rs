//! Errors of the core types and of the adapter contracts.
//!
//! Each failure surface has its own enum so callers can match on what went wrong without parsing
//! text: [`ValueError`] for values refused at a constructor, [`ExchangeError`] for venue and
//! market-data I/O (with [`ExchangeError::is_retryable`] for supervisors and retry loops),
//! [`StoreError`] for persistence, [`BrainError`] for strategies.

use std::time::Duration;

/// A value refused by a validating constructor. Names the field and carries the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A number was NaN or infinite.
    #[error("{field}: must be finite (got {value})")]
    NotFinite {
        /// The field or argument being built.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A number was below zero where only non-negative values make sense.
    #[error("{field}: must be >= 0 (got {value})")]
    Negative {
        /// The field or argument being built.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A number was zero or below where only positive values make sense.
    #[error("{field}: must be > 0 (got {value})")]
    NotPositive {
        /// The field or argument being built.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A number fell outside the range the field accepts.
    #[error("{field}: must be within [{min}, {max}] (got {value})")]
    OutOfRange {
        /// The field or argument being built.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// A text identifier was empty, too long or held a character it may not.
    #[error("{field}: {reason} (got {value:?})")]
    BadText {
        /// The field or argument being built.
        field: &'static str,
        /// The offending text.
        value: String,
        /// What rule it broke.
        reason: &'static str,
    },
    /// Several values were fine alone but inconsistent together (high below low, ask below bid).
    #[error("{field}: {reason}")]
    Inconsistent {
        /// The field or argument being built.
        field: &'static str,
        /// What is inconsistent, with the values involved.
        reason: String,
    },
    /// A timestamp did not fit the representable range.
    #[error("{field}: timestamp out of range (got {value})")]
    TimeOutOfRange {
        /// The field or argument being built.
        field: &'static str,
        /// The offending value as text.
        value: String,
    },
}

impl ValueError {
    /// The field or argument the refused value was meant for.
    pub fn field(&self) -> &'static str {
        match self {
            Self::NotFinite { field, .. }
            | Self::Negative { field, .. }
            | Self::NotPositive { field, .. }
            | Self::OutOfRange { field, .. }
            | Self::BadText { field, .. }
            | Self::Inconsistent { field, .. }
            | Self::TimeOutOfRange { field, .. } => field,
        }
    }
}

/// Failure talking to a venue (REST, WebSocket, or a simulated venue).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExchangeError {
    /// Transport failure (connection reset, DNS, TLS). Retryable; for a request that changes
    /// state, its outcome is unknown (it may have reached the venue).
    #[error("transport: {0}")]
    Transport(String),
    /// No answer within the deadline: the request may or may not have been carried out.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The venue answered that it does not know whether the request was carried out (an HTTP
    /// 5XX, Binance `-1007`): look the order up before deciding anything.
    #[error("outcome unknown at the venue: {0}")]
    OutcomeUnknown(String),
    /// The venue rate-limited us; retry after the given delay if known.
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// Delay the venue asked for, if it said.
        retry_after: Option<Duration>,
    },
    /// The venue refused the request (insufficient balance, bad price filter, ...). Not retryable.
    #[error("rejected by venue: {reason}")]
    Rejected {
        /// The venue's reason, verbatim.
        reason: String,
    },
    /// The order the request refers to is not known at the venue.
    #[error("unknown order: {0}")]
    UnknownOrder(String),
    /// Credentials missing, wrong or lacking permission. Fatal.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The venue lacks a capability the request needs. Fatal for this request.
    #[error("venue does not support {0}")]
    Unsupported(String),
    /// The venue answered with something we could not parse. The payload is kept for diagnosis.
    #[error("malformed venue message: {reason} (payload: {payload})")]
    Malformed {
        /// What was wrong.
        reason: String,
        /// The raw payload, truncated by the adapter if large.
        payload: String,
    },
    /// A value from the venue failed validation.
    #[error("invalid value from venue: {0}")]
    Value(#[from] ValueError),
    /// The stream or connection ended and will not produce more.
    #[error("stream closed: {0}")]
    Closed(String),
}

impl ExchangeError {
    /// Whether the same request may succeed if retried later (transport trouble, rate limits).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Transport(_)
                | Self::Timeout(_)
                | Self::OutcomeUnknown(_)
                | Self::RateLimited { .. }
        )
    }

    /// Whether a state-changing request that failed this way may still have been carried out
    /// at the venue, so its result must be looked up rather than assumed (principle: an answer
    /// the venue did not give is unknown, never a rejection).
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Transport(_) | Self::Timeout(_) | Self::OutcomeUnknown(_) | Self::Closed(_)
        )
    }
}

/// Failure of a [`StateStore`](crate::StateStore).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (disk full, database locked, permission denied). May be retryable.
    #[error("state store backend: {0}")]
    Backend(String),
    /// Stored data exists but cannot be decoded: never silently replaced by a fresh state.
    #[error("corrupt state at key {key:?}: {reason}")]
    Corrupt {
        /// The key whose value is corrupt.
        key: String,
        /// What the decoder said.
        reason: String,
    },
    /// A key was empty or used characters the backend cannot hold.
    #[error("invalid state key {0:?}")]
    InvalidKey(String),
}

/// Failure reported by a [`Brain`](crate::Brain) for one event.
///
/// Live, it is logged and counted and the brain keeps running; in a backtest it stops the run with
/// a clear error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BrainError {
    /// The brain lacks enough history to decide (warm-up); usually logged at debug level.
    #[error("not ready: {0}")]
    NotReady(String),
    /// Input data the brain cannot use (gap, stale, out of order).
    #[error("bad input: {0}")]
    BadInput(String),
    /// Any other failure inside the brain.
    #[error("{0}")]
    Other(String),
}

impl From<ValueError> for BrainError {
    fn from(e: ValueError) -> Self {
        Self::BadInput(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_errors_name_their_field() {
        let e = ValueError::NotPositive {
            field: "tick_size",
            value: 0.0,
        };
        assert_eq!(e.field(), "tick_size");
        let e = ValueError::BadText {
            field: "symbol",
            value: "a b".into(),
            reason: "bad",
        };
        assert_eq!(e.field(), "symbol");
    }

    #[test]
    fn retryable_classification() {
        assert!(ExchangeError::Transport("reset".into()).is_retryable());
        assert!(ExchangeError::RateLimited { retry_after: None }.is_retryable());
        assert!(!ExchangeError::Auth("bad key".into()).is_retryable());
        assert!(!ExchangeError::Rejected { reason: "x".into() }.is_retryable());
        assert!(ExchangeError::Timeout("place".into()).is_outcome_unknown());
        assert!(ExchangeError::OutcomeUnknown("502".into()).is_outcome_unknown());
        let definite = ExchangeError::Rejected { reason: "x".into() };
        assert!(!definite.is_outcome_unknown());
        assert!(!ExchangeError::RateLimited { retry_after: None }.is_outcome_unknown());
    }
}

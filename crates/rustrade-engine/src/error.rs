//! [`EngineError`]: configuration, snapshot and override inputs the engine refuses.
//!
//! Venue reports and decisions never produce an error: a malformed one is journalled as
//! [`crate::EngineEvent::MalformedInput`] and changes nothing.

use rustrade_core::Symbol;
use rustrade_risk::RiskError;

/// Why the engine could not be built, restored, or refused a manual override. Nothing changes
/// when it is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A configuration field broke its rule.
    #[error("{field}: {reason} (got {value})")]
    Config {
        /// The field, such as `bot_id` or `brains`.
        field: &'static str,
        /// The offending value as text.
        value: String,
        /// The rule it broke.
        reason: String,
    },
    /// The risk crate refused its configuration or an input.
    #[error("risk: {0}")]
    Risk(#[from] RiskError),
    /// An override carried a NaN or infinite number.
    #[error("{field}: must be finite (got {value})")]
    NonFinite {
        /// The field.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// The symbol is not one the engine trades.
    #[error("unknown symbol {0}")]
    UnknownSymbol(Symbol),
    /// A journal record cannot be read, is missing, or disagrees with the state it is replayed
    /// onto.
    #[error("journal record {}: {reason}", record.map_or_else(|| "?".to_owned(), |r| r.to_string()))]
    Journal {
        /// The record's sequence number, when known.
        record: Option<u64>,
        /// What is wrong, with the values involved.
        reason: String,
    },
    /// A snapshot cannot be restored under this config.
    #[error("snapshot {field}: {reason}")]
    Snapshot {
        /// What disagrees (`version`, `bot_id`, `brains`, `instruments`, `ids`, `orders`,
        /// `brackets`).
        field: &'static str,
        /// How, with the values involved.
        reason: String,
    },
}

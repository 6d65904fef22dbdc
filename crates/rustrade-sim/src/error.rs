//! [`SimError`]: what the simulated venue refuses outside the order flow.
//!
//! Orders the venue refuses are not errors: they become [`rustrade_core::RejectReason`]s in a
//! `Rejected` report, exactly as a real venue would answer. `SimError` covers configuration that
//! cannot be simulated honestly and requests about orders or symbols the venue does not know.

use rustrade_core::{ClientOrderId, OrderId, Symbol, ValueError};

/// A configuration or request the simulated venue refuses. Every variant names the field or the
/// identifier involved and carries the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A model or configuration parameter is outside the range the simulation accepts.
    #[error("{field}: {reason} (got {value})")]
    InvalidParameter {
        /// The configuration field, such as `fees.taker_rate`.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A parameter is finite but outside the range the simulation accepts.
    #[error("{field}: must be within [{min}, {max}] (got {value})")]
    OutOfRange {
        /// The configuration field.
        field: &'static str,
        /// The offending value.
        value: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// A funding series is not strictly increasing in time.
    #[error("funding series: entry {index} at {time} is not after the previous entry")]
    FundingOutOfOrder {
        /// Position of the offending entry in the series.
        index: usize,
        /// Its time, as nanoseconds since the epoch.
        time: i64,
    },
    /// An instrument was registered twice.
    #[error("instrument {0} is already registered")]
    DuplicateInstrument(Symbol),
    /// A request named a symbol with no registered instrument.
    #[error("unknown symbol {0}: register its InstrumentSpec first")]
    UnknownSymbol(Symbol),
    /// A cancel named a client order id with no working order.
    #[error("no working order with client id {0}")]
    UnknownClientOrder(ClientOrderId),
    /// A cancel named a venue order id with no working order.
    #[error("no working order with order id {0}")]
    UnknownOrder(OrderId),
    /// A value failed core validation.
    #[error(transparent)]
    Value(#[from] ValueError),
}

/// Checks that `value` is finite and within `[min, max]`, naming `field` otherwise.
pub(crate) fn check_range(
    field: &'static str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<f64, SimError> {
    if !value.is_finite() {
        return Err(SimError::InvalidParameter {
            field,
            value,
            reason: "must be finite",
        });
    }
    if value < min || value > max {
        return Err(SimError::OutOfRange {
            field,
            value,
            min,
            max,
        });
    }
    Ok(value)
}

//! [`RiskError`]: configuration and input refused by the risk primitives.
//!
//! A refused *order* is not an error: the gate chain reports it as a [`Refusal`](crate::Refusal).
//! `RiskError` is for values that should never have reached the risk layer — a limit of the wrong
//! sign, a NaN trade outcome — and always names the field and carries the value.

/// A configuration value or an input the risk layer refuses. Nothing changes when it is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RiskError {
    /// A configuration field broke its rule.
    #[error("{field}: {rule} (got {value})")]
    InvalidConfig {
        /// Dotted path of the field, such as `breaker.loss_limit`.
        field: &'static str,
        /// The offending value as text.
        value: String,
        /// The rule it broke, such as `must be > 0`.
        rule: &'static str,
    },
    /// An input number was NaN or infinite.
    #[error("{field}: must be finite (got {value})")]
    NotFinite {
        /// The argument, such as `gross_pnl`.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
}

impl RiskError {
    /// The field or argument the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::InvalidConfig { field, .. } | Self::NotFinite { field, .. } => field,
        }
    }
}

/// Checks that `value` is finite, naming `field` otherwise.
pub(crate) fn finite(field: &'static str, value: f64) -> Result<f64, RiskError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(RiskError::NotFinite { field, value })
    }
}

/// Builds an [`RiskError::InvalidConfig`].
pub(crate) fn invalid(field: &'static str, value: impl ToString, rule: &'static str) -> RiskError {
    RiskError::InvalidConfig {
        field,
        value: value.to_string(),
        rule,
    }
}

/// Checks a finite, strictly positive configuration number.
pub(crate) fn positive(field: &'static str, value: f64) -> Result<(), RiskError> {
    if !value.is_finite() {
        Err(invalid(field, value, "must be finite"))
    } else if value <= 0.0 {
        Err(invalid(field, value, "must be > 0"))
    } else {
        Ok(())
    }
}

/// Checks an optional cap: when present, finite and strictly positive.
pub(crate) fn optional_positive(field: &'static str, value: Option<f64>) -> Result<(), RiskError> {
    value.map_or(Ok(()), |v| positive(field, v))
}

/// Checks an optional loss limit: when present, finite and strictly negative.
pub(crate) fn optional_negative(field: &'static str, value: Option<f64>) -> Result<(), RiskError> {
    match value {
        None => Ok(()),
        Some(v) if !v.is_finite() => Err(invalid(field, v, "must be finite")),
        Some(v) if v >= 0.0 => Err(invalid(field, v, "must be < 0 (a loss)")),
        Some(_) => Ok(()),
    }
}

/// Checks a duration that must be longer than zero.
pub(crate) fn nonzero_duration(
    field: &'static str,
    value: std::time::Duration,
) -> Result<(), RiskError> {
    if value.is_zero() {
        Err(invalid(field, "0s", "must be > 0"))
    } else {
        Ok(())
    }
}

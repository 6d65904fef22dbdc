//! [`StrategyError`]: why a strategy could not be built from a name and parameters.

/// A strategy could not be built: unknown name, parameters of the wrong shape, or parameter
/// values that are fine alone but invalid (a fast average slower than the slow one).
///
/// Every variant names the parameter and the offending value, so a caller can prefix the path of
/// the parameters in its own configuration (`strategy.params.fast: ...`) and show one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// No strategy is registered under this name.
    #[error("unknown strategy {name:?} (known: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The registered names, comma separated.
        known: String,
    },
    /// The parameters did not deserialise: an unknown key, a wrong type, a value out of the
    /// type's range. `path` is the parameter key (or `params` for the table as a whole).
    #[error("{path}: {message}")]
    Params {
        /// Dotted path of the offending parameter inside the parameter table.
        path: String,
        /// What the deserialiser said, including the offending value.
        message: String,
    },
    /// A parameter value was refused by the strategy's validation.
    #[error("{field}: {reason}")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// The rule it broke, with the values involved (`must be < slow (got 30 >= 20)`).
        reason: String,
    },
    /// A strategy could not be added to a [`Registry`](crate::Registry): its name is taken or
    /// is not a plain name.
    #[error("cannot register strategy {name:?}: {reason}")]
    Register {
        /// The name asked for.
        name: String,
        /// Why it was refused.
        reason: String,
    },
}

impl StrategyError {
    /// The parameter key the error is about, if it is about one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Unknown { .. } | Self::Register { .. } => None,
            Self::Params { path, .. } => Some(path),
            Self::Invalid { field, .. } => Some(field),
        }
    }

    /// A parameter value refused by a strategy's validation: `field` is the parameter, `reason`
    /// the rule with the values involved, so the message reads as one line
    /// (`fast: must be < slow (got 30 >= 20)`). Use it in [`Strategy::validate`](crate::Strategy).
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// Checks that a look-back period is at least `min`.
pub(crate) fn check_period(field: &'static str, value: u16, min: u16) -> Result<(), StrategyError> {
    if value < min {
        return Err(StrategyError::invalid(
            field,
            format!("must be >= {min} (got {value})"),
        ));
    }
    Ok(())
}

/// Checks that `fast < slow`, naming `fast` as the offender.
pub(crate) fn check_fast_below_slow(fast: u16, slow: u16) -> Result<(), StrategyError> {
    if fast >= slow {
        return Err(StrategyError::invalid(
            "fast",
            format!("must be < slow (got {fast} >= {slow})"),
        ));
    }
    Ok(())
}

/// Checks that `value` is finite and strictly inside `(min, max)`.
pub(crate) fn check_open_range(
    field: &'static str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<(), StrategyError> {
    if !(value.is_finite() && value > min && value < max) {
        return Err(StrategyError::invalid(
            field,
            format!("must be within ({min}, {max}) (got {value})"),
        ));
    }
    Ok(())
}

//! [`ChaosError`]: what can stop a chaos session before it reaches a verdict.

/// A failure of the kit itself (not a violation of an invariant, which is a finding).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChaosError {
    /// A socket, file or child-process operation failed.
    #[error("{during}: {source}")]
    Io {
        /// What the kit was doing.
        during: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A profile, seed or option was refused; names the field and the value.
    #[error("{field}: {reason} (got {value:?})")]
    Invalid {
        /// The option.
        field: &'static str,
        /// The offending value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The simulated venue refused its set-up.
    #[error("simulated venue: {0}")]
    Sim(#[from] rustrade_sim::SimError),
    /// A core value was refused while building the venue or the market.
    #[error("value: {0}")]
    Value(#[from] rustrade_core::ValueError),
    /// The bot's state file could not be read back.
    #[error("state file {path}: {reason}")]
    StateFile {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
}

impl ChaosError {
    pub(crate) fn io(during: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            during: during.into(),
            source,
        }
    }
}

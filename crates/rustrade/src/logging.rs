//! Logging set-up: [`init_tracing`] installs a `tracing` subscriber filtered by `RUST_LOG`.
//!
//! The bot logs through `tracing` with structured fields (`brain`, `symbol`, `client_id`,
//! `reason`). Nothing secret is ever a field: credentials are held in [`Secret`](crate::Secret),
//! whose `Debug` and `Display` print a placeholder.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Failure to install the subscriber.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggingError {
    /// `RUST_LOG` (or the given default) is not a valid filter.
    #[error("invalid log filter {filter:?}: {reason}")]
    BadFilter {
        /// The filter text.
        filter: String,
        /// What the parser said.
        reason: String,
    },
    /// A global subscriber is already installed.
    #[error("a global tracing subscriber is already installed: {0}")]
    AlreadyInstalled(String),
}

/// Installs a global subscriber writing text lines to stderr, filtered by `RUST_LOG` (default
/// `info`).
pub fn init_tracing() -> Result<(), LoggingError> {
    init_tracing_with(LogFormat::Text, "info")
}

/// Installs a global subscriber in `format`, filtered by `RUST_LOG` or, when it is unset,
/// by `default_filter` (for example `"info,rustrade=debug"`).
pub fn init_tracing_with(format: LogFormat, default_filter: &str) -> Result<(), LoggingError> {
    let filter = build_filter(std::env::var("RUST_LOG").ok().as_deref(), default_filter)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| LoggingError::AlreadyInstalled(e.to_string()))
}

fn build_filter(from_env: Option<&str>, default_filter: &str) -> Result<EnvFilter, LoggingError> {
    let text = from_env
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(default_filter);
    EnvFilter::try_new(text).map_err(|e| LoggingError::BadFilter {
        filter: text.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_or_name_the_bad_text() {
        assert!(build_filter(None, "info,rustrade=debug").is_ok());
        assert!(build_filter(Some(""), "warn").is_ok());
        let e = build_filter(Some("rustrade=loud"), "info").unwrap_err();
        assert!(e.to_string().contains("rustrade=loud"), "{e}");
    }

    #[test]
    fn second_install_is_an_error_not_a_panic() {
        let first = init_tracing_with(LogFormat::Json, "warn");
        assert!(first.is_ok(), "{first:?}");
        let second = init_tracing();
        assert!(matches!(second, Err(LoggingError::AlreadyInstalled(_))));
    }
}

//! [`ConfigError`]: a configuration problem, located and named on one line.

use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration problem: where it is (file and line, or the command-line flag that set the
/// value), which key, and what is wrong with which value.
///
/// Displays as one line: `examples/bad.toml:12: strategy.params.fast: must be < slow (got 30 >= 20)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigError {
    origin: Origin,
    key: Option<String>,
    message: String,
}

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A file, with the 1-based line (and column) when known.
    File {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
    },
    /// A command-line flag, as typed (`--param fast=30`).
    Flag(String),
}

impl ConfigError {
    /// An error at `origin` about `key` (a dotted path such as `strategy.params.fast`).
    pub(crate) fn new(origin: Origin, key: Option<String>, message: impl Into<String>) -> Self {
        Self {
            origin,
            key,
            message: message.into(),
        }
    }

    /// An error about a whole file, with no key.
    pub(crate) fn file(path: &Path, message: impl Into<String>) -> Self {
        Self::new(Origin::file(path, None), None, message)
    }

    /// The key path the error is about, if any.
    #[cfg(test)]
    pub(crate) fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

impl Origin {
    /// A file location with an optional 1-based line.
    pub(crate) fn file(path: &Path, line: Option<usize>) -> Self {
        Self::File {
            path: path.to_owned(),
            line,
            column: None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { path, line, column } => {
                write!(f, "{}", path.display())?;
                if let Some(l) = line {
                    write!(f, ":{l}")?;
                    if let Some(c) = column {
                        write!(f, ":{c}")?;
                    }
                }
            }
            Origin::Flag(flag) => write!(f, "{flag}")?,
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        // Messages from parsers may span lines; the contract is one line per error.
        let message = self
            .message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        write!(f, ": {message}")
    }
}

impl std::error::Error for ConfigError {}

//! The one place where failures become exit codes.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | internal error (a bug, or an unexpected I/O failure) |
//! | 2 | command-line usage error (printed by clap) |
//! | 3 | configuration error: unknown key, wrong type, invalid value, missing file |
//! | 4 | data error: a market-data file that cannot be read or has a bad row |
//! | 5 | the run failed: a brain or the engine returned an error, or the bot could not run |
//! | 6 | output error: results could not be written |

use std::process::ExitCode;

use rustrade_backtest::{BacktestError, DataError};

use crate::config::ConfigError;
use crate::output::OutputError;

/// Success.
pub(crate) const OK: u8 = 0;
/// A bug or an unexpected failure.
pub(crate) const INTERNAL: u8 = 1;
/// Command-line usage error (clap's own code).
pub(crate) const USAGE: u8 = 2;
/// Configuration error.
pub(crate) const CONFIG: u8 = 3;
/// Market-data error.
pub(crate) const DATA: u8 = 4;
/// The run failed.
pub(crate) const RUN: u8 = 5;
/// Results could not be written.
pub(crate) const OUTPUT: u8 = 6;

/// The exit code for `err`, judged by the first typed error in its chain.
pub(crate) fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<ConfigError>() {
            return CONFIG;
        }
        if cause.is::<DataError>() {
            return DATA;
        }
        if let Some(e) = cause.downcast_ref::<BacktestError>() {
            return match e {
                BacktestError::Data(_) => DATA,
                BacktestError::Config { .. } => CONFIG,
                BacktestError::Report { .. } => OUTPUT,
                _ => RUN,
            };
        }
        if cause.is::<OutputError>() {
            return OUTPUT;
        }
        if cause.is::<crate::ops::token::TokenError>() {
            return CONFIG;
        }
        if cause.is::<rustrade::BotError>() || cause.is::<rustrade::ConfigError>() {
            return RUN;
        }
        #[cfg(feature = "nats")]
        if let Some(e) = cause.downcast_ref::<rustrade_nats::NatsError>() {
            return match e {
                rustrade_nats::NatsError::InvalidOption { .. } => CONFIG,
                _ => RUN,
            };
        }
    }
    INTERNAL
}

/// Converts a code into the process exit status.
pub(crate) fn status(code: u8) -> ExitCode {
    ExitCode::from(code)
}

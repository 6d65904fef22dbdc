//! [`App`]: the whole `rustrade` program as a value, over a strategy registry a program may
//! extend with its own brains.
//!
//! Why a builder rather than a `main_with(registry)` function: registering is the one thing a
//! user's `main.rs` does, and `App::new().strategy::<A>("a").strategy::<B>("b").run()` says it
//! in one expression; a refused registration (a taken name) is kept and reported by `run` as a
//! one-line error with the other failures, so `main` needs no error handling of its own; and
//! options added later are new methods, not a changed signature.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rustrade_strategies::{Registry, Strategy, StrategyError};

use crate::{cli, commands, exit};

/// The `rustrade` command over a strategy registry: every subcommand, config rule and report.
///
/// ```no_run
/// // The `rustrade` binary itself:
/// fn main() -> std::process::ExitCode {
///     rustrade_cli::App::new().run()
/// }
/// ```
///
/// Add strategies with [`App::strategy`] (see [`Strategy`] for what a strategy implements).
#[derive(Debug, Clone)]
pub struct App {
    registry: Registry,
    refused: Option<StrategyError>,
}

/// Why a run of [`App`] failed; [`CliError::exit_code`] is the process status it ends with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The command line did not parse (clap's message, with usage).
    #[error("{0}")]
    Usage(#[source] clap::Error),
    /// A strategy could not be registered: a taken or malformed name. A bug in the program.
    #[error(transparent)]
    Registry(StrategyError),
    /// The command failed: a config, data, run or output error.
    #[error("{message}")]
    Command {
        /// The exit status, per the table of `rustrade --help`.
        code: u8,
        /// The whole error chain as one line, as printed.
        message: String,
        /// The error itself.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl App {
    /// The command with the ready strategies.
    pub fn new() -> Self {
        Self::with_registry(Registry::builtin())
    }

    /// The command over `registry` (say [`Registry::empty`] with only your strategies).
    pub fn with_registry(registry: Registry) -> Self {
        Self {
            registry,
            refused: None,
        }
    }

    /// Adds strategy `S` under `name`, so `[strategy] name = "<name>"` in a config runs it.
    ///
    /// A refused name (taken, or not made of ASCII letters, digits, `_` and `-`) makes every run
    /// fail with that error, exit status 1.
    pub fn strategy<S: Strategy>(mut self, name: &'static str) -> Self {
        if self.refused.is_none()
            && let Err(e) = self.registry.register::<S>(name)
        {
            self.refused = Some(e);
        }
        self
    }

    /// The strategies this command knows.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Runs the command line of this process; prints any error as one line on standard error
    /// and returns the exit status.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Runs the command line `args` (the program name first), printing errors as [`App::run`].
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        match self.try_run_from(args) {
            Ok(()) => exit::status(exit::OK),
            Err(CliError::Usage(e)) => {
                let _ = e.print();
                exit::status(exit::USAGE)
            }
            Err(e) => {
                eprintln!("rustrade: error: {e}");
                exit::status(e.exit_code())
            }
        }
    }

    /// Runs the command line `args` (the program name first) and returns its failure instead of
    /// printing it. `--help` and `--version` print and succeed.
    pub fn try_run_from<I, T>(self, args: I) -> Result<(), CliError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        if let Some(e) = self.refused {
            return Err(CliError::Registry(e));
        }
        let cli = match cli::Cli::try_parse_from(args) {
            Ok(cli) => cli,
            Err(e) if !e.use_stderr() => {
                let _ = e.print();
                return Ok(());
            }
            Err(e) => return Err(CliError::Usage(e)),
        };
        commands::run(&cli, &self.registry).map_err(|err| CliError::Command {
            code: exit::code_for(&err),
            message: one_line(&err),
            source: err.into(),
        })
    }
}

impl Default for App {
    /// [`App::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl CliError {
    /// The process exit status for this failure: 2 for usage, 1 for a refused registration,
    /// otherwise the command's (3 config, 4 data, 5 run, 6 output, 1 internal).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => exit::USAGE,
            Self::Registry(_) => exit::INTERNAL,
            Self::Command { code, .. } => *code,
        }
    }
}

/// The error and its causes as one line, `outer: inner: ...`; a cause whose text its parent
/// already ends with (an error that shows its source) is not repeated.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

//! `rustrade`: backtest strategies from a TOML config, sweep their parameters, render reports,
//! check data files, run a strategy as a paper bot with an operations endpoint and query it.
//!
//! The command is a library too: [`App`] is the whole program, over a strategy registry a
//! program may extend with brains of its own. A crate whose `main.rs` is
//!
//! ```no_run
//! # use std::sync::Arc;
//! # #[derive(Default, serde::Serialize, serde::Deserialize)]
//! # struct MyBrain {}
//! # impl rustrade_cli::Strategy for MyBrain {
//! #     const SUMMARY: &'static str = "";
//! #     fn into_brain(self, name: &str)
//! #         -> Result<Arc<dyn rustrade_core::Brain>, rustrade_cli::StrategyError> {
//! #         rustrade_strategies::build_named("sma_cross", name, &serde_json::Value::Null)
//! #     }
//! # }
//! fn main() -> std::process::ExitCode {
//!     rustrade_cli::App::new().strategy::<MyBrain>("my_brain").run()
//! }
//! ```
//!
//! is a `rustrade` whose every command (backtest, sweep, paper, live, strategies, ...) also
//! knows `my_brain`, with the same config rules, reports and one-line errors. `rustrade new
//! <name>` writes such a crate.
//!
//! Arguments are parsed in two layers: [`cli`] is the command line as typed (clap), and each
//! command turns it into validated objects ([`config::Config`] for a config file) before doing
//! anything. Every failure ends in [`exit::code_for`], the one mapping from errors to exit codes,
//! and is printed as a single line.

mod app;
mod cli;
mod commands;
mod config;
mod exit;
mod live;
#[cfg(feature = "nats")]
mod market_data;
mod notify;
mod ops;
mod output;
mod paper;
mod progress;
#[cfg(feature = "nats")]
mod relay;
mod report;
mod run_record;
mod state;
mod status_line;
mod strategy_sweep;
mod summary;
#[cfg(feature = "nats")]
mod workers;

pub use app::{App, CliError};
pub use rustrade_strategies::{Registry, Strategy, StrategyError, StrategyInfo};
pub use strategy_sweep::{Sharing, strategy_sweep};

//! `rustrade`: backtest strategies from a TOML config, sweep their parameters, render reports,
//! check data files, run a strategy as a paper bot with an operations endpoint and query it.
//!
//! Arguments are parsed in two layers: [`cli`] is the command line as typed (clap), and each
//! command turns it into validated objects ([`config::Config`] for a config file) before doing
//! anything. Every failure ends in [`exit::code_for`], the one mapping from errors to exit codes,
//! and is printed as a single line.

mod cli;
mod commands;
mod config;
mod exit;
mod live;
mod notify;
mod ops;
mod output;
mod paper;
mod progress;
mod report;
mod run_record;
mod status_line;
mod summary;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return exit::status(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    match commands::run(&cli) {
        Ok(()) => exit::status(exit::OK),
        Err(err) => {
            let text = format!("{err:#}")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("rustrade: error: {text}");
            exit::status(exit::code_for(&err))
        }
    }
}

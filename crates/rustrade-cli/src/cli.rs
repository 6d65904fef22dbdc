//! The command line as typed: the first layer of argument parsing (clap derive).
//!
//! Values here are raw; commands turn them into validated objects (a config file becomes a
//! [`crate::config::Config`]) before doing anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Backtest trading strategies from a TOML config, sweep their parameters, render HTML reports and
/// run them as paper bots.
#[derive(Debug, Parser)]
#[command(name = "rustrade", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 ok, 1 internal error, 2 usage, 3 configuration or input \
                        file, 4 market data, 5 run failed, 6 output not written."
)]
pub(crate) struct Cli {
    /// Print nothing but errors (no progress bar, no tables).
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Print results as JSON on standard output instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a backtest; print the statistics and write result.json, trades.csv, equity.csv and
    /// report.html to the output folder.
    Backtest(RunArgs),
    /// Run every combination of the config's [sweep.grid] in parallel; print the best and write
    /// sweep.csv.
    Sweep(SweepArgs),
    /// Render report.html again from a result.json.
    Report(ReportArgs),
    /// Inspect market-data files.
    #[command(subcommand)]
    Data(DataCommand),
    /// Run the strategy as a paper bot over a recorded data file, or the live public stream of
    /// the config's [venue] table (no keys), against the simulated venue with the config's fill,
    /// fee and slippage models; print a summary and write fills.csv.
    Paper(PaperArgs),
    /// Run the strategy as a bot on the venue of the config's [venue] table (testnet unless it
    /// says production), with keys from RUSTRADE_BINANCE_API_KEY and RUSTRADE_BINANCE_API_SECRET
    /// (or RUSTRADE_BINANCE_ED25519_PEM).
    Live(LiveArgs),
    /// Read a venue's market data once (the [venue] stream, or [[market]] files) and publish it
    /// to a NATS JetStream stream that bots read with [market_data]; supervised, health logged.
    #[cfg(feature = "nats")]
    Relay(RelayArgs),
    /// Print a running bot's health and positions from its ops endpoint.
    Status(StatusArgs),
    /// Write a commented example config.
    Init(InitArgs),
    /// Create a crate that runs a brain of your own through this command: a documented example
    /// brain, a five-line main, an example config and a test.
    New(NewArgs),
    /// List the ready strategies and their default parameters.
    Strategies,
    /// Run sweep points for `rustrade sweep --workers` coordinators: pull jobs from the NATS
    /// work queue, replay the content-addressed config and data, publish each row; until
    /// interrupted.
    #[cfg(feature = "nats")]
    Worker(WorkerArgs),
}

/// Arguments of `backtest`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The config file.
    pub(crate) config: PathBuf,
    /// Use this data file instead of the config's (configs with one market).
    #[arg(long, value_name = "FILE")]
    pub(crate) data: Option<PathBuf>,
    /// Set a strategy parameter, e.g. --param fast=5 (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub(crate) params: Vec<String>,
    /// Write results to this folder instead of the config's.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

/// Arguments of `sweep`.
#[derive(Debug, Args)]
pub(crate) struct SweepArgs {
    /// The shared run options.
    #[command(flatten)]
    pub(crate) run: RunArgs,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Run the points on `rustrade worker` processes reached through this NATS server
    /// (`nats://host:4222`; a token from RUSTRADE_NATS_TOKEN) instead of on local threads.
    #[cfg(feature = "nats")]
    #[arg(long, value_name = "URL")]
    pub(crate) workers: Option<String>,
    /// The work queue's settings (with --workers).
    #[cfg(feature = "nats")]
    #[command(flatten)]
    pub(crate) queue: QueueArgs,
}

/// Arguments of `worker`.
#[cfg(feature = "nats")]
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// The NATS server, `nats://host:4222` (a token from RUSTRADE_NATS_TOKEN).
    pub(crate) url: String,
    /// Where fetched configs and data files are kept, by content hash (default: the user's
    /// cache folder, `rustrade/blobs`).
    #[arg(long, value_name = "DIR")]
    pub(crate) cache: Option<PathBuf>,
    /// The work queue's settings.
    #[command(flatten)]
    pub(crate) queue: QueueArgs,
}

/// The work queue shared by a sweep coordinator and its workers.
#[cfg(feature = "nats")]
#[derive(Debug, Args)]
pub(crate) struct QueueArgs {
    /// The work queue's name; coordinator and workers must give the same.
    #[arg(long, value_name = "NAME", default_value = "rustrade_sweep")]
    pub(crate) queue: String,
    /// Seconds a worker may hold a job without a sign of life before it goes to another worker
    /// (used when the queue is created).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub(crate) ack_wait: f64,
}

/// Arguments of `paper`.
#[derive(Debug, Args)]
pub(crate) struct PaperArgs {
    /// The config file (the backtest's, plus an optional [bot] table).
    pub(crate) config: PathBuf,
    /// The recorded data file to replay (default: the config's; configs with one market).
    /// Without it, a config with a [market_data] table trades on a relay's NATS stream, and one
    /// with a [venue] table on the venue's live public stream.
    #[arg(long, value_name = "FILE")]
    pub(crate) replay: Option<PathBuf>,
    /// Replay speed: `max` (as fast as the bot consumes) or N times the data's own pace.
    #[arg(long, value_name = "N|max", default_value = "max")]
    pub(crate) speed: String,
    /// Set a strategy parameter, e.g. --param fast=5 (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub(crate) params: Vec<String>,
    /// Write fills.csv and paper.json to this folder (default: the output folder + "-paper").
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

/// Arguments of `live`.
#[derive(Debug, Args)]
pub(crate) struct LiveArgs {
    /// The config file (markets, strategy, risk, [bot] and [venue]).
    pub(crate) config: PathBuf,
    /// Confirms that a production [venue] trades real money (or set venue.confirm_production).
    #[arg(long = "i-understand-this-trades-real-money")]
    pub(crate) confirm_production: bool,
    /// Set a strategy parameter, e.g. --param fast=5 (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub(crate) params: Vec<String>,
}

/// Arguments of `relay`.
#[cfg(feature = "nats")]
#[derive(Debug, Args)]
pub(crate) struct RelayArgs {
    /// The relay's config file ([relay], and [venue] or [[market]]).
    pub(crate) config: PathBuf,
}

/// Arguments of `status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The bot's ops endpoint, e.g. http://127.0.0.1:9184
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint: String,
}

/// Arguments of `report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// A result.json written by `rustrade backtest`.
    pub(crate) result: PathBuf,
    /// Where to write the report (default: report.html beside the result).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `data` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Validate a candle CSV file and print its range, interval, gaps and problems.
    Inspect(InspectArgs),
}

/// Arguments of `data inspect`.
#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The CSV file.
    pub(crate) file: PathBuf,
    /// Accept rows out of time order by sorting them first.
    #[arg(long)]
    pub(crate) sort: bool,
}

/// Arguments of `init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Where to write the config.
    #[arg(default_value = "rustrade.toml")]
    pub(crate) path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Arguments of `new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The crate's folder; its last component is the package name (`bots/my-bot`).
    pub(crate) dir: PathBuf,
    /// The rustrade checkout the crate depends on (default: the one this program was built from).
    #[arg(long, value_name = "DIR")]
    pub(crate) path: Option<PathBuf>,
}

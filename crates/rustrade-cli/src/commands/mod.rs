//! One module per command; [`run`] dispatches.

mod backtest;
mod data;
mod init;
mod live;
mod new;
mod paper;
#[cfg(feature = "nats")]
mod relay;
mod report;
mod status;
mod strategies;
mod sweep;
#[cfg(feature = "nats")]
mod worker;

pub(crate) use backtest::{build_brain, load_data, open_data};
#[cfg(feature = "nats")]
pub(crate) use sweep::sweep_of;

use rustrade_strategies::Registry;

use crate::cli::{Cli, Command, DataCommand};

/// How results are shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    /// Print nothing but errors.
    pub(crate) quiet: bool,
    /// Print JSON on standard output instead of tables.
    pub(crate) json: bool,
}

impl Ui {
    /// Whether progress bars may be shown.
    pub(crate) fn progress(&self) -> bool {
        !self.quiet && !self.json
    }

    /// Prints `text` unless quiet or JSON.
    pub(crate) fn say(&self, text: &str) {
        if !self.quiet && !self.json {
            write_stdout(text.as_bytes());
        }
    }

    /// Prints `value` as JSON when JSON output was asked for.
    pub(crate) fn emit_json(&self, value: &serde_json::Value) {
        if self.json {
            write_stdout(format!("{value}\n").as_bytes());
        }
    }
}

/// Shows that a bot started: its ops endpoint, if it serves one (`note` in parentheses after the
/// address), and its status line, which the caller finishes when the bot stops.
fn show_started(
    ui: Ui,
    started: &crate::paper::Started,
    note: Option<&str>,
) -> Option<crate::status_line::StatusLine> {
    if let Some(addr) = started.ops {
        match note {
            Some(note) => ui.say(&format!("ops endpoint: http://{addr} ({note})\n")),
            None => ui.say(&format!("ops endpoint: http://{addr}\n")),
        }
        ui.emit_json(&serde_json::json!({ "ops_endpoint": format!("http://{addr}") }));
    }
    crate::status_line::spawn(
        started.handle.clone(),
        started.symbols.clone(),
        ui.progress(),
    )
}

/// The two-worker runtime a long-running command (`paper`, `live`, `relay`) drives its services on.
fn service_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Writes to standard output, ignoring a closed pipe (`rustrade ... | head`): the results are
/// already on disk, and a reader that stopped early is not an error.
fn write_stdout(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Runs the command `cli` names; `[strategy] name` resolves in `registry`.
pub(crate) fn run(cli: &Cli, registry: &Registry) -> anyhow::Result<()> {
    let ui = Ui {
        quiet: cli.quiet,
        json: cli.json,
    };
    match &cli.command {
        Command::Backtest(args) => backtest::run(args, ui, registry),
        Command::Sweep(args) => sweep::run(args, ui, registry),
        Command::Report(args) => report::run(args, ui),
        Command::Data(DataCommand::Inspect(args)) => data::inspect(args, ui),
        Command::Paper(args) => paper::run(args, ui, registry),
        Command::Live(args) => live::run(args, ui, registry),
        #[cfg(feature = "nats")]
        Command::Relay(args) => relay::run(args, ui),
        Command::Status(args) => status::run(args, ui),
        Command::Init(args) => init::run(args, ui),
        Command::New(args) => new::run(args, ui),
        Command::Strategies => strategies::run(ui, registry),
        #[cfg(feature = "nats")]
        Command::Worker(args) => worker::run(args, ui, registry),
    }
}

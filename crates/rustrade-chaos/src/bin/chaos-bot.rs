//! `chaos-bot`: the bot the chaos harness kills. It trades [`ChurnBrain`] against the venue
//! server at `--venue`, with its state in the SQLite file `--state`, and reads commands on
//! stdin: `status` prints one JSON line of its positions and risk state; `stop` shuts it down
//! cleanly. Build with the facade's `kill-points` feature (this package does), so
//! `RUSTRADE_KILL_AT` can abort it from inside.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use rustrade::{Bot, BotHandle};
use rustrade_chaos::bot::{self, BotStatus, ChurnBrain, SymbolStatus};
use rustrade_chaos::client::{Broken, ChaosExchange, ChaosFills, ChaosMarket, VenueClock};
use rustrade_chaos::wire::Request;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Debug, Parser)]
struct Args {
    /// The venue server.
    #[arg(long)]
    venue: SocketAddr,
    /// The SQLite state file.
    #[arg(long)]
    state: PathBuf,
    /// Seed of the brain's choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run a deliberately broken variant.
    #[arg(long)]
    broken: Option<Broken>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHAOS_BOT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let outcome = runtime.block_on(run(args));
    // The stdin reader sits in a blocking read that would hold the runtime's drop forever.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    outcome
}

async fn run(args: Args) -> anyhow::Result<()> {
    let clock = Arc::new(VenueClock::default());
    let exchange = Arc::new(ChaosExchange::new(args.venue, clock.clone(), args.broken));
    exchange
        .call(&Request::Time)
        .await
        .context("the venue server does not answer")?;
    let config = bot::bot_config()?;
    let bot = Bot::new(config, exchange, vec![Arc::new(ChurnBrain::new(args.seed))])?
        .with_clock(clock.clone())
        .with_fill_source(Box::new(ChaosFills::new(args.venue)))
        .with_market_source(Box::new(ChaosMarket::new(args.venue, clock)))
        .with_order_tracking()
        .with_state_file(&args.state);
    let handle = bot.handle();
    tokio::spawn(commands(handle));
    bot.run_until_shutdown().await?;
    Ok(())
}

async fn commands(handle: BotHandle) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    while let Ok(Some(line)) = lines.next_line().await {
        match line.trim() {
            "status" => {
                let status = status(&handle).await;
                let Ok(mut text) = serde_json::to_string(&status) else {
                    continue;
                };
                text.push('\n');
                if out.write_all(text.as_bytes()).await.is_err() || out.flush().await.is_err() {
                    return;
                }
            }
            "stop" => handle.shutdown(),
            other => tracing::warn!(command = other, "unknown command"),
        }
    }
}

async fn status(handle: &BotHandle) -> BotStatus {
    let live = handle.live_orders().await;
    let refused = handle.health().await.refused_exits;
    let mut symbols = Vec::new();
    for symbol in bot::symbols() {
        let position = handle.position(&symbol).await;
        let risk = handle.risk(&symbol).await;
        symbols.push(SymbolStatus {
            symbol,
            quantity: position.quantity,
            realised_pnl: position.realised_pnl,
            session_net: risk.map_or(0.0, |r| r.session_net_pnl),
            awaiting_answer: live
                .iter()
                .any(|o| o.symbol() == symbol && SymbolStatus::is_awaited(o))
                || refused.iter().any(|r| r.symbol == symbol),
        });
    }
    BotStatus { symbols }
}

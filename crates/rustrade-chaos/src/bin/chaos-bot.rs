//! `chaos-bot`: the bot the chaos harness kills. It trades [`ChurnBrain`] against the venue
//! server at `--venue`, with its state in the SQLite file `--state` (or bot `chaos`'s rows in
//! schema `--state-schema` of the PostgreSQL server `--state-url`), and reads commands on
//! stdin: `status` prints one JSON line of its positions and risk state; `stop` shuts it down
//! cleanly. Build with the facade's `kill-points` feature (this package does), so
//! `RUSTRADE_KILL_AT` can abort it from inside.
//!
//! `--adapter binance` trades through `rustrade-binance`'s USDⓈ-M client, user-data stream and
//! market stream against the kit's Binance front at `--binance-rest` / `--binance-ws` instead
//! of the kit's own client; its clock follows the venue server's clock stream.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use rustrade::{Bot, BotHandle};
use rustrade_binance::{
    Backoff, BinanceMarketSource, BinanceUsdm, BinanceUsdmUserStream, Credentials, Endpoints,
    Environment, MarketConfig, UsdmConfig, UsdmUserConfig,
};
use rustrade_chaos::StateLocation;
use rustrade_chaos::adapter::Adapter;
use rustrade_chaos::binance::{API_KEY, BinanceFront, SECRET};
use rustrade_chaos::bot::{self, BotStatus, ChurnBrain, SymbolStatus};
use rustrade_chaos::broken::BrokenExchange;
use rustrade_chaos::client::{
    Broken, ChaosExchange, ChaosFills, ChaosMarket, DEADLINE, VenueClock,
};
use rustrade_chaos::wire::Request;
use rustrade_core::{Asset, ExchangeClient, FillSource, MarketSource};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Debug, Parser)]
struct Args {
    /// The venue server.
    #[arg(long)]
    venue: SocketAddr,
    /// The SQLite state file.
    #[arg(
        long,
        required_unless_present = "state_url",
        conflicts_with = "state_url"
    )]
    state: Option<PathBuf>,
    /// A PostgreSQL server to keep the state in instead (a URL without a password).
    #[arg(long, requires = "state_schema")]
    state_url: Option<String>,
    /// The schema of `--state-url` the state lives in.
    #[arg(long)]
    state_schema: Option<String>,
    /// Seed of the brain's choices.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run a deliberately broken variant.
    #[arg(long)]
    broken: Option<Broken>,
    /// The adapter to trade through: kit or binance.
    #[arg(long, default_value = "kit")]
    adapter: Adapter,
    /// The Binance front's REST base URL (with `--adapter binance`).
    #[arg(long)]
    binance_rest: Option<String>,
    /// The Binance front's WebSocket base URL (with `--adapter binance`).
    #[arg(long)]
    binance_ws: Option<String>,
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

/// The exchange client, fill source and market source of one adapter.
type Parts = (
    Arc<dyn ExchangeClient>,
    Box<dyn FillSource>,
    Box<dyn MarketSource>,
);

async fn run(args: Args) -> anyhow::Result<()> {
    let clock = Arc::new(VenueClock::default());
    let (exchange, fills, market) = match args.adapter {
        Adapter::Kit => kit_parts(&args, &clock).await?,
        Adapter::BinanceUsdm => binance_parts(&args, &clock).await?,
    };
    let location = match (
        args.state.clone(),
        args.state_url.clone(),
        args.state_schema.clone(),
    ) {
        (Some(path), _, _) => StateLocation::Sqlite(path),
        (None, Some(url), Some(schema)) => StateLocation::Postgres { url, schema },
        _ => anyhow::bail!("--state or --state-url with --state-schema is required"),
    };
    if args.broken == Some(Broken::ForgetBreaker) {
        forget_breaker(&location).await?;
    }
    let config = bot::bot_config()?;
    let bot = Bot::new(config, exchange, vec![Arc::new(ChurnBrain::new(args.seed))])?
        .with_clock(clock)
        .with_fill_source(fills)
        .with_market_source(market)
        .with_order_tracking();
    // The SQLite file is opened by the bot itself, as the facade's own users do.
    let bot = match &location {
        StateLocation::Sqlite(path) => bot.with_state_file(path),
        StateLocation::Postgres { .. } => bot.with_state_store(
            location
                .open()
                .await
                .map_err(|e| anyhow::anyhow!("state {location}: {e}"))?,
        ),
    };
    let handle = bot.handle();
    tokio::spawn(commands(handle));
    bot.run_until_shutdown().await?;
    Ok(())
}

/// The kit's own client, fills and market over the venue server's protocol.
async fn kit_parts(args: &Args, clock: &Arc<VenueClock>) -> anyhow::Result<Parts> {
    let exchange = Arc::new(ChaosExchange::new(args.venue, clock.clone(), args.broken));
    exchange
        .call(&Request::Time)
        .await
        .context("the venue server does not answer")?;
    Ok((
        exchange,
        Box::new(ChaosFills::new(args.venue)),
        Box::new(ChaosMarket::new(args.venue, clock.clone())),
    ))
}

/// `rustrade-binance`'s USDⓈ-M client, user-data stream and kline stream against the Binance
/// front, with short reconnection delays and silence limit (a bar lasts a few milliseconds of
/// wall time here); a broken variant wraps the client.
async fn binance_parts(args: &Args, clock: &Arc<VenueClock>) -> anyhow::Result<Parts> {
    let (Some(rest), Some(ws)) = (args.binance_rest.clone(), args.binance_ws.clone()) else {
        anyhow::bail!("--adapter binance needs --binance-rest and --binance-ws");
    };
    // Started before anything else, so the clock is at the venue's time from the first call.
    clock
        .follow(args.venue)
        .await
        .context("the venue server's clock does not answer")?;
    let endpoints = Endpoints {
        rest: rest.clone(),
        ws_api: ws.clone(),
        streams: ws.clone(),
    };
    let mut config = UsdmConfig::new(
        Environment::Custom(endpoints.clone()),
        Some(Credentials::hmac(API_KEY, SECRET)),
    );
    config.rest.timeout = DEADLINE;
    let usdm = Arc::new(BinanceUsdm::new(config)?);
    usdm.rest()
        .sync_time()
        .await
        .context("the Binance front does not answer")?;
    let exchange: Arc<dyn ExchangeClient> = match args.broken {
        Some(b @ (Broken::TimeoutIsRejection | Broken::SkipCatchUp)) => {
            Arc::new(BrokenExchange::new(usdm.clone(), b))
        }
        _ => usdm.clone(),
    };
    let mut user = UsdmUserConfig::new(ws.clone());
    let usdt = Asset::new("USDT")?;
    user.quote_assets = bot::symbols().into_iter().map(|s| (s, usdt)).collect();
    let fills = BinanceUsdmUserStream::new(user, usdm.rest());
    let market_endpoints = Endpoints {
        streams: BinanceFront::market_url(&ws, std::process::id()),
        ..endpoints
    };
    let mut market = MarketConfig::usdm_klines(&market_endpoints, "1s");
    market.silence = std::time::Duration::from_secs(1);
    market.backoff = Backoff {
        min: std::time::Duration::from_millis(20),
        max: std::time::Duration::from_millis(200),
        seed: args.seed,
    };
    market.max_attempts = 50;
    Ok((
        exchange,
        Box::new(fills),
        Box::new(BinanceMarketSource::new(market)?),
    ))
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
            session_wins: risk.map_or(0, |r| r.session_wins),
            session_losses: risk.map_or(0, |r| r.session_losses),
            session_fees: risk.map_or(0.0, |r| r.session_fees),
            breaker_losses: risk.map_or(0, |r| r.breaker_recent_losses),
            breaker_tripped: risk.is_some_and(|r| r.breaker_tripped),
            entries_halted: risk.is_some_and(|r| r.entries_halted),
            awaiting_answer: live
                .iter()
                .any(|o| o.symbol() == symbol && SymbolStatus::is_awaited(o))
                || refused.iter().any(|r| r.symbol == symbol),
        });
    }
    BotStatus { symbols }
}

/// The `forget-breaker` bug: the loss breaker's history is not kept across a restart. The
/// stored snapshot's breakers are emptied before the bot restores from it (the journal after
/// the snapshot still replays), so the losses before the snapshot are forgotten and a trip in
/// force is lifted; positions, PnL and the session's sums are untouched.
async fn forget_breaker(state: &StateLocation) -> anyhow::Result<()> {
    if !state.has_state().await.map_err(anyhow::Error::msg)? {
        return Ok(());
    }
    let store = state.open().await.map_err(anyhow::Error::msg)?;
    let Some(bytes) = store.load("engine/snapshot").await? else {
        return Ok(());
    };
    let mut snapshot: serde_json::Value = serde_json::from_slice(&bytes)?;
    if let Some(symbols) = snapshot
        .pointer_mut("/risk/symbols")
        .and_then(serde_json::Value::as_object_mut)
    {
        for risk in symbols.values_mut() {
            if let Some(breaker) = risk.get_mut("breaker") {
                breaker["losses"] = serde_json::json!([]);
                breaker["tripped_until"] = serde_json::Value::Null;
            }
        }
    }
    store
        .save("engine/snapshot", &serde_json::to_vec(&snapshot)?)
        .await?;
    Ok(())
}

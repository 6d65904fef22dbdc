//! `rustrade paper`: the configured strategy run as a bot — the facade's
//! [`Bot::paper`](rustrade::Bot::paper) — trading the simulated venue with the config's fill,
//! fee and slippage models, on one of two [`Feed`]s:
//!
//! - a recorded data file, read by the backtest's loaders and replayed by
//!   [`replay::ReplayFeed`], paced by the bot so no event is ever dropped; given the same config
//!   and data, the fills equal those of `rustrade backtest` (the crate's `tests/paper.rs`). No
//!   network, except the optional ops endpoint on the address `[bot.ops]` names;
//! - the `[venue]` table's public kline stream, live ([`live_feed`]): no key, no order out.

pub(crate) mod live_feed;
pub(crate) mod replay;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use rustrade::clock::{Clock, SystemClock};
use rustrade::metrics::PrometheusMetrics;
use rustrade::{Bot, BotConfig};
use rustrade_core::{Fill, MarketSource, MetricsSink, Position, Symbol, Timestamp};
use rustrade_sim::PaperExchange;

use crate::commands::{build_brain, open_data};
use crate::config::{BarFeed, Config};
use crate::{notify, ops};
use replay::{Observed, PacedSource, Pacer, ReplayFeed, Speed, VenueClock};

/// What a paper run did.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// Every fill applied, in order.
    pub(crate) fills: Vec<Fill>,
    /// Events the brain was given.
    pub(crate) events: u64,
    /// Round trips the engine closed (its `TradeClosed` events, as the bot's handle counts
    /// them): the engine's rule, not one of the CLI's own.
    pub(crate) trades: u64,
    /// The bot's final position per symbol, in config order.
    pub(crate) positions: Vec<(Symbol, Position)>,
    /// The venue's equity at the end: cash plus open positions at their last price.
    pub(crate) final_equity: f64,
    /// Fees paid at the venue.
    pub(crate) fees_paid: f64,
    /// Realised PnL net of fees, summed over symbols.
    pub(crate) realised_pnl: f64,
    /// Whether the bot was stopped (signal, ops shutdown) before the data ran out.
    pub(crate) interrupted: bool,
}

/// A running paper bot, as shown to the caller once it started.
#[derive(Debug)]
pub(crate) struct Started {
    /// The bound ops endpoint, if any.
    pub(crate) ops: Option<SocketAddr>,
    /// Where a generated ops token was stored (never the token itself).
    pub(crate) token_file: Option<PathBuf>,
    /// The bot's handle (the terminal status line reads it).
    pub(crate) handle: rustrade::BotHandle,
    /// The symbols it trades, in config order.
    pub(crate) symbols: Vec<Symbol>,
}

/// Where a paper bot's market data comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Feed {
    /// The config's data file (or `--replay`'s), at this speed; the run ends with the data.
    Replay(Speed),
    /// The `[venue]` table's public kline stream, live ([`live_feed`]); the run ends on a
    /// signal or `POST /control/shutdown`.
    Venue,
    /// A relay's NATS stream (`[market_data]`), paced by the bot like a file replay; the run
    /// ends when the stream is caught up (`stop_when_caught_up`), a signal or a shutdown.
    Nats,
}

/// Runs `config`'s strategy as a paper bot on `feed`; `signals` installs the SIGINT/SIGTERM
/// handlers. `started` is called once the bot and its endpoint run.
pub(crate) async fn run(
    config: &Config,
    feed: Feed,
    signals: bool,
    started: impl FnOnce(&Started),
) -> anyhow::Result<Outcome> {
    let pacer = Arc::new(Pacer::default());
    let bars = match &feed {
        Feed::Replay(_) => BarFeed::Files,
        Feed::Venue => BarFeed::Venue,
        Feed::Nats if config.venue.is_some() => BarFeed::Venue,
        Feed::Nats => BarFeed::Files,
    };
    let brain = Arc::new(Observed::new(
        build_brain(config, &config.strategy.params, bars)?,
        Arc::clone(&pacer),
    ));
    let (exchange, reports) =
        PaperExchange::from_config(config.sim.clone(), config.markets.iter().map(|m| m.spec))
            .context("simulated venue")?;
    let venue = exchange.shared_venue();
    let (source, clock): (Box<dyn MarketSource>, Arc<dyn Clock>) = match feed {
        Feed::Replay(speed) => {
            let mut events = open_data(config)?;
            let first = match events.next() {
                Some(first) => first?,
                None => anyhow::bail!(
                    "{}: the data holds no event to replay",
                    config.markets[0].file.display()
                ),
            };
            let clock = Arc::new(VenueClock::new(Arc::clone(&venue), first.time));
            let feed = ReplayFeed::new(first, Box::new(events), speed, Arc::clone(&pacer));
            (Box::new(feed), clock)
        }
        Feed::Venue => {
            let Some(section) = &config.venue else {
                anyhow::bail!(
                    "{}: paper trading on live data needs a [venue] table (or --replay FILE)",
                    config.path.display()
                );
            };
            (live_feed::market_source(section)?, Arc::new(SystemClock))
        }
        Feed::Nats => {
            let inner = nats_source(config).await?;
            // The venue's time, as in a replay: the stream may be replayed from long ago.
            let clock = Arc::new(VenueClock::new(Arc::clone(&venue), Timestamp::EPOCH));
            let paced = PacedSource::new(inner, Arc::clone(&pacer));
            (Box::new(paced), clock)
        }
    };
    let bot = &config.bot;
    let mut builder = BotConfig::builder()
        .name(&bot.name)
        .symbols(config.markets.iter().map(|m| m.spec.symbol().to_string()))
        .risk(config.risk)
        .shutdown_timeout(bot.shutdown_timeout)
        .close_positions_on_shutdown(bot.close_positions_on_shutdown)
        .cash_asset(config.sim.quote_asset)
        // The simulated venue lives in this process: there is no second book to drift from.
        .periodic_reconciliation(false);
    let replaying_stream = feed == Feed::Nats
        && config
            .market_data
            .as_ref()
            .is_some_and(|m| m.stop_when_caught_up);
    if matches!(feed, Feed::Replay(_)) || replaying_stream {
        // The replayed file is the feed: a gap in the data is not a disconnect.
        builder = builder.without_market_silence_timeout();
    }
    if !signals {
        builder = builder.without_signal_handler();
    }
    let bot_config = builder.build().context("[bot]")?;
    let metrics = PrometheusMetrics::local();
    let sink: Arc<dyn MetricsSink> = Arc::new(metrics.clone());
    let mut paper = Bot::paper(bot_config, exchange, reports, vec![brain.clone()])?
        .with_market_source(source)
        .with_clock(Arc::clone(&clock))
        .with_metrics(Arc::clone(&sink));
    if let Some(url) = &bot.state_url {
        paper = crate::state::with_postgres(paper, url, bot).await?;
    } else if let Some(path) = &bot.state_file {
        paper = crate::state::with_file(paper, path)?;
    }
    let handle = paper.handle();
    let symbols: Vec<Symbol> = config.markets.iter().map(|m| m.spec.symbol()).collect();

    let (server, shown) = ops::serve(config, &handle, metrics, symbols.clone()).await?;
    let notifications = match &bot.notify {
        Some(section) => Some(notify::start(
            section,
            notify::Wiring {
                bot: &bot.name,
                handle: handle.clone(),
                events: paper.subscribe_events(),
                brains: vec![rustrade_core::Brain::name(brain.as_ref()).to_owned()],
                symbols: symbols.clone(),
                clock,
                metrics: sink,
            },
        )?),
        None => None,
    };
    let task = tokio::spawn(paper.run_until_shutdown());
    started(&shown);
    let interrupted = tokio::select! {
        () = pacer.replayed() => false,
        () = handle.await_shutdown() => true,
    };
    handle.shutdown();
    let result = task.await.context("the bot task panicked")?;
    if let Some(server) = server {
        server.abort();
    }
    if let Some(n) = notifications {
        n.stop(notify::SHUTDOWN_GRACE).await;
    }
    result?;
    if let Some(e) = pacer.take_failure() {
        return Err(e.into());
    }

    let mut positions = Vec::with_capacity(symbols.len());
    for s in &symbols {
        positions.push((*s, handle.position(s).await));
    }
    let (final_equity, fees_paid) = {
        let v = venue
            .lock()
            .map_err(|_| anyhow::anyhow!("the simulated venue panicked"))?;
        (v.equity(), v.wallet().fees_paid())
    };
    let fills = brain.fills();
    Ok(Outcome {
        trades: handle.closed_trade_count(),
        events: pacer.seen(),
        realised_pnl: positions.iter().map(|(_, p)| p.realised_pnl).sum(),
        positions,
        final_equity,
        fees_paid,
        fills,
        interrupted,
    })
}

/// The `[market_data]` stream's source for this bot.
#[cfg(feature = "nats")]
pub(crate) async fn nats_source(config: &Config) -> anyhow::Result<Box<dyn MarketSource>> {
    let Some(section) = &config.market_data else {
        anyhow::bail!(
            "{}: market data over NATS needs a [market_data] table",
            config.path.display()
        );
    };
    crate::market_data::source(section, &config.bot.name).await
}

/// Without the `nats` feature no config has a `[market_data]` table (loading refuses it).
#[cfg(not(feature = "nats"))]
pub(crate) async fn nats_source(config: &Config) -> anyhow::Result<Box<dyn MarketSource>> {
    anyhow::bail!(
        "{}: this rustrade was built without the `nats` feature",
        config.path.display()
    )
}

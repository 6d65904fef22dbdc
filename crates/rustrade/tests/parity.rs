//! One brain, two drivers: the backtest of `rustrade-backtest` and a paper bot (the live bot with
//! the simulated venue as its exchange), given the same brain, instrument, venue models and
//! candles, produce the same fills, the same realised PnL and the same fees.
//!
//! The paper bot is fed by a [`ReplaySource`] on paused tokio time, which publishes one candle
//! once the previous one is fully processed and moves the bot's clock to each candle's time.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::parity::*;
use common::*;
use rustrade::Bot;
use rustrade::testkit::{ManualClock, ReplaySource, ScriptedBrain};
use rustrade_backtest::Backtest;
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_core::{
    Brain, BrainError, Decision, Fill, MarketEvent, Position, Symbol, async_trait,
};
use rustrade_risk::RiskConfig;
use rustrade_sim::PaperExchange;

/// Wraps a brain and records the fills the driver tells it about, in order.
struct Recorder {
    inner: Arc<dyn Brain>,
    fills: Mutex<Vec<Fill>>,
}

impl Recorder {
    fn new(inner: Arc<dyn Brain>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            fills: Mutex::new(Vec::new()),
        })
    }

    fn fills(&self) -> Vec<Fill> {
        self.fills.lock().unwrap().clone()
    }
}

#[async_trait]
impl Brain for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn owned_symbols(&self) -> Option<Vec<Symbol>> {
        self.inner.owned_symbols()
    }
    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        self.inner.on_event(event, position)
    }
    fn on_fill(&self, fill: &Fill) {
        self.fills.lock().unwrap().push(*fill);
        self.inner.on_fill(fill);
    }
}

/// What both drivers are compared on.
#[derive(Debug)]
struct Outcome {
    /// (time, side, quantity, price, fee) of every fill, in order.
    fills: Vec<FillRow>,
    position: f64,
    realised_pnl: f64,
    fees_paid: f64,
}

fn candles() -> Vec<MarketEvent> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/Bitcoin.csv");
    CandleCsv::open(&path, CsvOptions::new(btc()))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn backtest(brain: Arc<dyn Brain>, trade_on_close: bool, events: &[MarketEvent]) -> Outcome {
    let recorder = Recorder::new(brain);
    let result = Backtest::builder()
        .instrument(spec())
        .risk(RiskConfig::default())
        .sim(sim_config(trade_on_close))
        .brain(recorder.clone())
        .build()
        .unwrap()
        .run_events(events.iter().copied())
        .unwrap();
    let told = summarise(&recorder.fills());
    assert_eq!(
        told,
        summarise(&result.fills),
        "backtest: fills told to the brain"
    );
    Outcome {
        fills: told,
        position: result.positions[&btc()].quantity,
        realised_pnl: result.realised_pnl,
        fees_paid: result.fees_paid,
    }
}

async fn paper(brain: Arc<dyn Brain>, trade_on_close: bool, events: &[MarketEvent]) -> Outcome {
    let recorder = Recorder::new(brain);
    let (exchange, fills) =
        PaperExchange::from_config(sim_config(trade_on_close), [spec()]).unwrap();
    let venue = exchange.shared_venue();
    let clock = Arc::new(ManualClock::new(events[0].time));
    let replay = ReplaySource::new(events.to_vec()).with_clock(clock.clone());
    let finished = replay.finished();
    let config = config(&["BTCUSDT"])
        .risk(RiskConfig::default())
        .timer_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let bot = Bot::paper(config, exchange, fills, vec![recorder.clone()])
        .unwrap()
        .with_market_source(Box::new(replay));
    let run = start_with(bot, Arc::default(), clock).await;
    finished.cancelled().await;
    let position = run.handle.position(&btc()).await;
    run.stop().await.unwrap();
    let fees_paid = venue.lock().unwrap().wallet().fees_paid();
    Outcome {
        fills: summarise(&recorder.fills()),
        position: position.quantity,
        realised_pnl: position.realised_pnl,
        fees_paid,
    }
}

fn assert_same(backtest: &Outcome, paper: &Outcome) {
    assert!(
        !backtest.fills.is_empty(),
        "the brain must trade for the test to mean anything"
    );
    for (i, (b, p)) in backtest.fills.iter().zip(&paper.fills).enumerate() {
        assert_eq!(b, p, "fill {i} differs (backtest left, paper right)");
    }
    assert_eq!(backtest.fills.len(), paper.fills.len(), "number of fills");
    assert_eq!(backtest.position, paper.position, "final position");
    assert_eq!(backtest.realised_pnl, paper.realised_pnl, "realised PnL");
    assert_eq!(backtest.fees_paid, paper.fees_paid, "fees paid");
}

fn sma_cross() -> Arc<dyn Brain> {
    rustrade_strategies::build("sma_cross", &serde_json::json!({"fast": 5, "slow": 20})).unwrap()
}

/// Buys when flat, closes when long: it decides on every candle and depends on its position
/// being up to date when it decides.
fn flip_flop() -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new("flip-flop", |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::close()
        })
    }))
}

#[tokio::test(start_paused = true)]
async fn sma_cross_fills_at_the_next_open_agree() {
    let events = candles();
    let b = backtest(sma_cross(), false, &events);
    let p = paper(sma_cross(), false, &events).await;
    assert_same(&b, &p);
}

#[tokio::test(start_paused = true)]
async fn sma_cross_fills_on_close_agree() {
    let events = candles();
    let b = backtest(sma_cross(), true, &events);
    let p = paper(sma_cross(), true, &events).await;
    assert_same(&b, &p);
}

#[tokio::test(start_paused = true)]
async fn a_brain_deciding_on_every_candle_from_its_position_agrees() {
    let events = candles();
    let b = backtest(flip_flop(), false, &events);
    let p = paper(flip_flop(), false, &events).await;
    assert_same(&b, &p);
}

#[tokio::test(start_paused = true)]
async fn a_brain_deciding_on_every_candle_filled_on_close_agrees() {
    let events = candles();
    let b = backtest(flip_flop(), true, &events);
    let p = paper(flip_flop(), true, &events).await;
    assert_same(&b, &p);
}

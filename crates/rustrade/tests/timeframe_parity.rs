//! A brain on hourly bars built from a minute feed ([`OnTimeframe`]) decides and trades the same
//! in the backtest and in a paper bot: the same hourly bars at the same times, the same
//! decisions on them, the same fills, realised PnL and fees.
//!
//! The paper bot is fed by a [`ReplaySource`] on paused tokio time (one candle once the previous
//! one is processed, the bot's clock moved to each candle's close), as in `parity.rs`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::parity::*;
use common::*;
use rustrade::Bot;
use rustrade::testkit::{ManualClock, ReplaySource};
use rustrade_backtest::Backtest;
use rustrade_backtest::synthetic::{self, WalkParams};
use rustrade_core::{
    Brain, BrainContext, BrainError, Decision, Fill, MarketEvent, OnTimeframe, Position, Resampler,
    async_trait,
};
use rustrade_risk::RiskConfig;
use rustrade_sim::PaperExchange;

const MINUTE: Duration = Duration::from_secs(60);

/// Wraps a brain and records what it was shown, what it decided, and its fills.
struct Recorder {
    inner: Arc<dyn Brain>,
    decisions: Mutex<Vec<(MarketEvent, Decision)>>,
    fills: Mutex<Vec<Fill>>,
}

#[async_trait]
impl Brain for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        self.on_event_in(event, &BrainContext::detached(position))
    }
    fn on_event_in(
        &self,
        event: &MarketEvent,
        ctx: &BrainContext<'_>,
    ) -> Result<Decision, BrainError> {
        let d = self.inner.on_event_in(event, ctx)?;
        self.decisions.lock().unwrap().push((*event, d.clone()));
        Ok(d)
    }
    fn on_fill(&self, fill: &Fill) {
        self.fills.lock().unwrap().push(*fill);
        self.inner.on_fill(fill);
    }
}

/// `inner` on hourly bars of the minute feed, and the recorder between them.
fn hourly(inner: Arc<dyn Brain>) -> (Arc<dyn Brain>, Arc<Recorder>) {
    hourly_from(inner, Duration::ZERO)
}

/// `inner` on hourly bars starting `offset` past the hour.
fn hourly_from(inner: Arc<dyn Brain>, offset: Duration) -> (Arc<dyn Brain>, Arc<Recorder>) {
    let recorder = Arc::new(Recorder {
        inner,
        decisions: Mutex::new(Vec::new()),
        fills: Mutex::new(Vec::new()),
    });
    let wrapped = OnTimeframe::new(
        recorder.clone(),
        Resampler::new(MINUTE, 60 * MINUTE)
            .unwrap()
            .with_offset(offset)
            .unwrap(),
    );
    (Arc::new(wrapped), recorder)
}

/// What both drivers are compared on.
#[derive(Debug, PartialEq)]
struct Outcome {
    /// (hourly bar, decision) in order.
    decisions: Vec<(MarketEvent, Decision)>,
    /// (time, side, quantity, price, fee) of every fill, in order.
    fills: Vec<FillRow>,
    position: f64,
    realised_pnl: f64,
    fees_paid: f64,
}

/// Sixty hours of seeded one-minute candles, starting on the hour.
fn minutes() -> Vec<MarketEvent> {
    let params = WalkParams {
        start_price: 30_000.0,
        volatility: 0.003,
        ..WalkParams::default()
    };
    synthetic::random_walk_for(btc(), 5, 60 * 60, params)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The same minutes with gaps: the last minute of every fifth hour is missing (that hour is
/// delivered on the next minute), and so are 20:30 to 21:58 (the partial 20:00 hour and the
/// one-minute 21:00 hour are both delivered on the 21:59 minute).
fn minutes_with_gaps() -> Vec<MarketEvent> {
    let dropped = |i: usize| {
        let fifth_hour_end = i % 60 == 59 && (i / 60) % 5 == 2;
        fifth_hour_end || (60 * 20 + 30..60 * 21 + 59).contains(&i)
    };
    minutes()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !dropped(*i))
        .map(|(_, e)| e)
        .collect()
}

fn backtest(inner: Arc<dyn Brain>, trade_on_close: bool, events: &[MarketEvent]) -> Outcome {
    backtest_with(hourly(inner), trade_on_close, events)
}

fn backtest_with(
    (brain, recorder): (Arc<dyn Brain>, Arc<Recorder>),
    trade_on_close: bool,
    events: &[MarketEvent],
) -> Outcome {
    let result = Backtest::builder()
        .instrument(spec())
        .risk(RiskConfig::default())
        .sim(sim_config(trade_on_close))
        .brain(brain)
        .build()
        .unwrap()
        .run_events(events.iter().copied())
        .unwrap();
    let told = summarise(&recorder.fills.lock().unwrap());
    assert_eq!(
        told,
        summarise(&result.fills),
        "backtest: fills told to the brain"
    );
    Outcome {
        decisions: recorder.decisions.lock().unwrap().clone(),
        fills: told,
        position: result.positions[&btc()].quantity,
        realised_pnl: result.realised_pnl,
        fees_paid: result.fees_paid,
    }
}

async fn paper(inner: Arc<dyn Brain>, trade_on_close: bool, events: &[MarketEvent]) -> Outcome {
    let (brain, recorder) = hourly(inner);
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
    let bot = Bot::paper(config, exchange, fills, vec![brain])
        .unwrap()
        .with_market_source(Box::new(replay));
    let run = start_with(bot, Arc::default(), clock).await;
    finished.cancelled().await;
    let position = run.handle.position(&btc()).await;
    run.stop().await.unwrap();
    let fees_paid = venue.lock().unwrap().wallet().fees_paid();
    Outcome {
        decisions: recorder.decisions.lock().unwrap().clone(),
        fills: summarise(&recorder.fills.lock().unwrap()),
        position: position.quantity,
        realised_pnl: position.realised_pnl,
        fees_paid,
    }
}

fn assert_same(backtest: &Outcome, paper: &Outcome) {
    assert_eq!(
        backtest.decisions.len(),
        60,
        "one decision per hour the feed touched"
    );
    assert!(
        !backtest.fills.is_empty(),
        "the brain must trade for the test to mean anything"
    );
    for (i, (b, p)) in backtest.decisions.iter().zip(&paper.decisions).enumerate() {
        assert_eq!(
            b, p,
            "hour {i}: bar or decision differs (backtest left, paper right)"
        );
    }
    assert_eq!(
        backtest.decisions.len(),
        paper.decisions.len(),
        "hours decided"
    );
    for (i, (b, p)) in backtest.fills.iter().zip(&paper.fills).enumerate() {
        assert_eq!(b, p, "fill {i} differs (backtest left, paper right)");
    }
    assert_eq!(backtest, paper);
}

fn sma_cross() -> Arc<dyn Brain> {
    rustrade_strategies::build("sma_cross", &serde_json::json!({"fast": 3, "slow": 8})).unwrap()
}

#[tokio::test(start_paused = true)]
async fn sma_cross_on_hours_from_minutes_agrees_filled_at_the_next_open() {
    let events = minutes();
    let b = backtest(sma_cross(), false, &events);
    let p = paper(sma_cross(), false, &events).await;
    assert_same(&b, &p);
}

#[tokio::test(start_paused = true)]
async fn sma_cross_on_hours_from_minutes_agrees_filled_on_close() {
    let events = minutes();
    let b = backtest(sma_cross(), true, &events);
    let p = paper(sma_cross(), true, &events).await;
    assert_same(&b, &p);
    // Filled on close, every fill is at an hour's close: when its last minute closed.
    for f in &b.fills {
        assert_eq!(f.0.rem_euclid(3_600_000_000_000), 0, "fill at {}", f.0);
    }
}

#[test]
fn the_comparison_catches_hours_cut_one_minute_off() {
    let events = minutes();
    let b = backtest(sma_cross(), false, &events);
    let shifted = backtest_with(hourly_from(sma_cross(), MINUTE), false, &events);
    assert_ne!(b.decisions, shifted.decisions);
    assert_ne!(b, shifted);
}

#[tokio::test(start_paused = true)]
async fn sma_cross_on_hours_from_minutes_with_gaps_agrees() {
    let events = minutes_with_gaps();
    assert_eq!(events.len(), 60 * 60 - 12 - 89);
    for trade_on_close in [false, true] {
        let b = backtest(sma_cross(), trade_on_close, &events);
        let p = paper(sma_cross(), trade_on_close, &events).await;
        assert_same(&b, &p);
        // The two hours the 21:59 minute closes are decided on at once, each at its own close.
        let at = |h: i64| 1_704_067_200_000_000_000 + h * 3_600_000_000_000;
        let times: Vec<i64> = b.decisions.iter().map(|(e, _)| e.time.as_nanos()).collect();
        assert!(times.windows(2).any(|w| w == [at(21), at(22)]), "{times:?}");
    }
}

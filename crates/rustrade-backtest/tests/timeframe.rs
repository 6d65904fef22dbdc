//! A brain on hourly bars built from a minute feed by [`OnTimeframe`], in the backtest: it is
//! shown exactly the hours a [`Resampler`] builds from the feed, each at the close of its last
//! minute, and it trades as the same brain does on a native hourly feed: market orders fill at
//! the next bar's open, which is the next hour's first minute's open, or at the hour's close.
//! (Only the fill's time differs with next-open fills: the venue stamps a fill with the close
//! of the bar it matched in, a minute rather than an hour; and slippage is left out of that
//! comparison, since the venue keeps a slipped price within the bar's range, a minute's being
//! narrower than an hour's.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustrade_backtest::synthetic::{self, WalkParams};
use rustrade_backtest::{Backtest, BacktestResult};
use rustrade_core::{
    AssetClass, Brain, BrainContext, BrainError, Decision, InstrumentSpec, MarketEvent,
    OnTimeframe, Position, Resampler, async_trait,
};
use rustrade_sim::{FeeModel, SlippageModel};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// Goes long when a bar closes above the previous bar's close, flat when below; records the
/// bars it decided on.
#[derive(Default)]
struct Momentum {
    previous: Mutex<Option<f64>>,
    seen: Mutex<Vec<MarketEvent>>,
}

#[async_trait]
impl Brain for Momentum {
    fn name(&self) -> &str {
        "momentum"
    }
    fn on_event(&self, e: &MarketEvent, p: &Position) -> Result<Decision, BrainError> {
        self.on_event_in(e, &BrainContext::detached(p))
    }
    fn on_event_in(&self, e: &MarketEvent, ctx: &BrainContext<'_>) -> Result<Decision, BrainError> {
        self.seen.lock().unwrap().push(*e);
        let close = e.reference_price().get();
        let previous = self.previous.lock().unwrap().replace(close);
        let Some(previous) = previous else {
            return Ok(Decision::hold());
        };
        let flat = ctx.position().is_flat();
        Ok(if close > previous && flat {
            Decision::buy(0.5)
        } else if close < previous && !flat {
            Decision::close()
        } else {
            Decision::hold()
        })
    }
}

fn minutes(n: usize) -> Vec<MarketEvent> {
    let params = WalkParams {
        volatility: 0.004,
        ..WalkParams::default()
    };
    synthetic::random_walk_for(synthetic::synthetic_symbol(), 21, n, params)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The hours a resampler builds from `minutes`, as a native hourly feed (stamped at each close).
fn hours(minutes: &[MarketEvent]) -> Vec<MarketEvent> {
    let mut r = Resampler::new(MINUTE, HOUR).unwrap();
    let mut out = Vec::new();
    for m in minutes {
        for bar in r.push(m.as_candle().unwrap()).unwrap() {
            out.push(MarketEvent::candle(
                m.venue,
                m.symbol,
                bar.close_time,
                bar.candle,
            ));
        }
    }
    out
}

fn backtest(
    brain: Arc<dyn Brain>,
    trade_on_close: bool,
    slippage: SlippageModel,
    events: &[MarketEvent],
) -> BacktestResult {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .unwrap();
    Backtest::builder()
        .instrument(spec)
        .initial_cash(100_000.0)
        .fees(FeeModel::rates(0.0002, 0.001))
        .slippage(slippage)
        .trade_on_close(trade_on_close)
        .brain(brain)
        .build()
        .unwrap()
        .run_events(events.iter().copied())
        .unwrap()
}

fn bps() -> SlippageModel {
    SlippageModel::FixedBps { bps: 3.0 }
}

type FillRow = (i64, rustrade_core::Side, f64, f64, f64);

fn fills(r: &BacktestResult) -> Vec<FillRow> {
    r.fills
        .iter()
        .map(|f| {
            (
                f.time.as_nanos(),
                f.side,
                f.quantity.get(),
                f.price.get(),
                f.fee.get(),
            )
        })
        .collect()
}

#[test]
fn the_inner_brain_is_shown_exactly_the_resampled_hours_at_their_close() {
    let feed = minutes(60 * 48 + 17);
    let inner = Arc::new(Momentum::default());
    let wrapped = OnTimeframe::new(inner.clone(), Resampler::new(MINUTE, HOUR).unwrap());
    let r = backtest(Arc::new(wrapped), false, bps(), &feed);
    assert_eq!(
        r.events,
        feed.len() as u64,
        "every minute reached the engine"
    );
    let seen = inner.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        hours(&feed),
        "48 closed hours, the 17 minutes of the 49th not shown"
    );
    assert_eq!(seen.len(), 48);
    // Decisions on an hour fill at the open of the minute after it, stamped at that minute's
    // close: one minute past the hour.
    assert!(
        !r.fills.is_empty(),
        "the brain must trade for the test to mean anything"
    );
    for f in &r.fills {
        assert_eq!(
            f.time.as_nanos().rem_euclid(HOUR.as_nanos() as i64),
            MINUTE.as_nanos() as i64,
            "fill at {:?}",
            f.time
        );
    }
}

#[test]
fn hours_from_minutes_trade_as_a_native_hourly_feed() {
    let feed = minutes(60 * 96);
    let hourly = hours(&feed);
    for trade_on_close in [false, true] {
        let none = SlippageModel::None;
        let native = backtest(Arc::new(Momentum::default()), trade_on_close, none, &hourly);
        let wrapped = OnTimeframe::new(
            Arc::new(Momentum::default()),
            Resampler::new(MINUTE, HOUR).unwrap(),
        );
        let built = backtest(Arc::new(wrapped), trade_on_close, none, &feed);
        assert!(
            native.fills.len() > 10,
            "trade_on_close={trade_on_close}: {} fills",
            native.fills.len()
        );
        let (mut built_fills, mut native_fills) = (fills(&built), fills(&native));
        if !trade_on_close {
            for f in built_fills.iter_mut().chain(native_fills.iter_mut()) {
                f.0 = 0;
            }
        }
        assert_eq!(built_fills, native_fills, "trade_on_close={trade_on_close}");
        assert_eq!(built.realised_pnl, native.realised_pnl);
        assert_eq!(built.fees_paid, native.fees_paid);
        assert_eq!(built.trades.len(), native.trades.len());
    }
}

#[test]
fn a_run_is_deterministic() {
    let feed = minutes(60 * 30);
    let run = || {
        let wrapped = OnTimeframe::new(
            Arc::new(Momentum::default()),
            Resampler::new(MINUTE, HOUR).unwrap(),
        );
        fills(&backtest(Arc::new(wrapped), false, bps(), &feed))
    };
    assert_eq!(run(), run());
}

//! One ledger, two drivers: random decision scripts on random candles, run through the backtest
//! and through a paper bot (the live bot with a [`PaperExchange`] as its exchange), give the same
//! fills, the same ledger (position, average entry, realised PnL, open fees, fees of closed
//! size), the same fees, the same equity and the same closed trades, for contract values other
//! than 1.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use rustrade::Bot;
use rustrade::testkit::{ManualClock, ReplaySource, ScriptedBrain};
use rustrade_backtest::{Backtest, BacktestResult};
use rustrade_core::{
    AssetClass, Brain, BrainError, Candle, ClosedTrade, Decision, Fill, InstrumentSpec, Ledger,
    MarketEvent, Position, Quantity, SizeHint, Symbol, Timestamp, Venue, async_trait,
};
use rustrade_risk::RiskConfig;
use rustrade_sim::{FeeModel, PaperExchange, SimConfig, SlippageModel};

/// One step of a script: what the brain decides on that candle.
#[derive(Debug, Clone, Copy)]
enum Step {
    Hold,
    Buy(u32),
    Sell(u32),
    Close,
}

/// A random case: the market, the script and the instrument's contract value.
#[derive(Debug, Clone)]
struct Case {
    returns: Vec<f64>,
    steps: Vec<Step>,
    contract_value: f64,
    trade_on_close: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (20usize..60).prop_flat_map(|n| {
        let step = prop_oneof![
            3 => Just(Step::Hold),
            2 => (1u32..300).prop_map(Step::Buy),
            2 => (1u32..300).prop_map(Step::Sell),
            1 => Just(Step::Close),
        ];
        (
            prop::collection::vec(-0.03f64..0.03, n),
            prop::collection::vec(step, n),
            prop::sample::select(vec![0.001, 0.1, 2.5, 10.0]),
            any::<bool>(),
        )
            .prop_map(|(returns, steps, contract_value, trade_on_close)| Case {
                returns,
                steps,
                contract_value,
                trade_on_close,
            })
    })
}

fn xyz() -> Symbol {
    sym("XYZUSDT")
}

fn spec(cv: f64) -> InstrumentSpec {
    InstrumentSpec::new(xyz(), AssetClass::CryptoPerp, 0.01, 0.01)
        .unwrap()
        .with_contract_value(cv)
        .unwrap()
}

fn sim_config(trade_on_close: bool) -> SimConfig {
    let mut sim = SimConfig::default().with_initial_cash(1_000_000.0);
    sim.fees = FeeModel::rates(0.0002, 0.001).with_fixed(0.05);
    sim.slippage = SlippageModel::FixedBps { bps: 3.0 };
    sim.trade_on_close = trade_on_close;
    sim
}

/// Hourly candles from 2024-01-01, walking from 100 by the case's returns.
fn candles(returns: &[f64]) -> Vec<MarketEvent> {
    let start = Timestamp::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
    let venue = Venue::new("sim").unwrap();
    let mut price = 100.0_f64;
    returns
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let open = price;
            let close = open * (1.0 + r);
            price = close;
            let t = start.saturating_add(Duration::from_secs(3600 * i as u64));
            let c = Candle::new(
                t,
                open,
                open.max(close) * 1.004,
                open.min(close) * 0.996,
                close,
                1_000.0,
            )
            .unwrap();
            MarketEvent::candle(venue, xyz(), t, c)
        })
        .collect()
}

/// The brain of a case: decides `steps[n]` on its `n`th event.
fn scripted(steps: &[Step]) -> Arc<dyn Brain> {
    let steps = steps.to_vec();
    Arc::new(ScriptedBrain::new("script", move |_, _, n| {
        let size = |lots: u32| {
            SizeHint::Quantity(Quantity::new(f64::from(lots) * 0.01).expect("a positive size"))
        };
        Ok(match steps.get(n as usize).copied().unwrap_or(Step::Hold) {
            Step::Hold => Decision::hold(),
            Step::Buy(lots) => Decision::buy(1.0).with_size_hint(size(lots)),
            Step::Sell(lots) => Decision::sell(1.0).with_size_hint(size(lots)),
            Step::Close => Decision::close(),
        })
    }))
}

/// Wraps a brain and records the fills its driver tells it about, in order.
struct Recorder {
    inner: Arc<dyn Brain>,
    fills: Mutex<Vec<Fill>>,
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

/// What the paper bot ended with.
struct Paper {
    fills: Vec<Fill>,
    /// The bot's net position (the engine's ledger, as the handle and the ops endpoint show it).
    position: Position,
    /// The venue's position, as `PaperExchange::position` reports it to reconciliation.
    venue_position: Position,
    /// The venue's ledger of the symbol.
    ledger: Ledger,
    fees_paid: f64,
    equity: f64,
}

fn backtest(c: &Case, events: &[MarketEvent]) -> BacktestResult {
    Backtest::builder()
        .instrument(spec(c.contract_value))
        .risk(RiskConfig::default())
        .sim(sim_config(c.trade_on_close))
        .brain(scripted(&c.steps))
        .build()
        .unwrap()
        .run_events(events.iter().copied())
        .unwrap()
}

async fn paper(c: &Case, events: &[MarketEvent]) -> Paper {
    let recorder = Arc::new(Recorder {
        inner: scripted(&c.steps),
        fills: Mutex::new(Vec::new()),
    });
    let (exchange, fills) =
        PaperExchange::from_config(sim_config(c.trade_on_close), [spec(c.contract_value)]).unwrap();
    let venue = exchange.shared_venue();
    let clock = Arc::new(ManualClock::new(events[0].time));
    let replay = ReplaySource::new(events.to_vec()).with_clock(clock.clone());
    let finished = replay.finished();
    let config = config(&["XYZUSDT"])
        .risk(RiskConfig::default())
        .timer_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let bot = Bot::paper(config, exchange, fills, vec![recorder.clone()])
        .unwrap()
        .with_market_source(Box::new(replay));
    let run = start_with(bot, Arc::default(), clock).await;
    finished.cancelled().await;
    let position = run.handle.position(&xyz()).await;
    run.stop().await.unwrap();
    let v = venue.lock().unwrap();
    Paper {
        fills: recorder.fills.lock().unwrap().clone(),
        position,
        venue_position: v.position(&xyz()),
        ledger: *v.ledger(&xyz()).unwrap(),
        fees_paid: v.wallet().fees_paid(),
        equity: v.equity(),
    }
}

/// The round trips `fills` close, through the one ledger.
fn trades_of(spec: &InstrumentSpec, fills: &[Fill]) -> Vec<ClosedTrade> {
    let mut ledger = Ledger::default();
    fills
        .iter()
        .filter_map(|f| {
            ledger
                .apply_fill(
                    spec,
                    f.side,
                    f.quantity.get(),
                    f.price.get(),
                    f.fee.get(),
                    f.time,
                )
                .trade
        })
        .collect()
}

fn fill_key(f: &Fill) -> (Timestamp, rustrade_core::Side, f64, f64, f64) {
    (f.time, f.side, f.quantity.get(), f.price.get(), f.fee.get())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn backtest_and_paper_keep_the_same_ledger(c in case()) {
        let events = candles(&c.returns);
        let b = backtest(&c, &events);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let p = rt.block_on(paper(&c, &events));

        let bf: Vec<_> = b.fills.iter().map(fill_key).collect();
        let pf: Vec<_> = p.fills.iter().map(fill_key).collect();
        prop_assert_eq!(&bf, &pf, "fills (backtest left, paper right)");

        // The engine's ledger in both drivers, and the paper venue's own ledger.
        prop_assert_eq!(b.positions[&xyz()], p.position, "net position");
        prop_assert_eq!(b.realised_pnl, p.position.realised_pnl);
        prop_assert_eq!(p.venue_position, p.position, "venue position vs engine position");
        prop_assert_eq!(p.ledger.realised_pnl, b.realised_pnl, "venue ledger realised");
        prop_assert_eq!(p.ledger.open_fees, b.open_fees);
        prop_assert_eq!(p.ledger.trade_fees, b.open_trade_fees);
        prop_assert_eq!(p.ledger.fees_paid, b.fees_paid);
        prop_assert_eq!(p.fees_paid, b.fees_paid, "fees");
        prop_assert_eq!(p.equity, b.final_equity, "equity");

        let spec = spec(c.contract_value);
        let paper_trades = trades_of(&spec, &p.fills);
        prop_assert_eq!(b.trades.len(), paper_trades.len(), "closed trades");
        for (bt, pt) in b.trades.iter().zip(&paper_trades) {
            prop_assert_eq!(bt.side, pt.side);
            prop_assert_eq!(bt.quantity, pt.quantity);
            prop_assert_eq!((bt.entry_time, bt.exit_time), (pt.opened_at, pt.closed_at));
            prop_assert_eq!((bt.entry_price, bt.exit_price), (pt.entry_price, pt.exit_price));
            prop_assert_eq!((bt.gross_pnl, bt.fees, bt.net_pnl), (pt.gross_pnl, pt.fees, pt.net_pnl));
            prop_assert!((pt.entry_fees + pt.exit_fees - pt.fees).abs() <= 1e-9 * (1.0 + pt.fees));
        }
        // Every fee is either in a closed trade, in the closed part of the open trade, or open.
        let in_trades: f64 = b.trades.iter().map(|t| t.fees).sum();
        let split = in_trades + b.open_trade_fees + b.open_fees;
        prop_assert!((split - b.fees_paid).abs() <= 1e-9 * (1.0 + b.fees_paid), "{split} vs {}", b.fees_paid);
        // The equity identity, with the contract value.
        let identity = b.initial_cash + b.realised_pnl - b.open_fees + b.unrealised_pnl - b.funding_paid;
        prop_assert!((identity - b.final_equity).abs() <= 1e-6, "{identity} vs {}", b.final_equity);
    }
}

/// The script of a case that trades: long, add, partly close, flip short, close.
#[test]
fn a_known_script_trades_and_agrees() {
    let c = Case {
        returns: (0..30).map(|i| 0.01 * f64::from(i % 5) - 0.02).collect(),
        steps: [
            Step::Buy(100),
            Step::Hold,
            Step::Buy(50),
            Step::Sell(70),
            Step::Hold,
            Step::Sell(200),
            Step::Hold,
            Step::Close,
        ]
        .repeat(3),
        contract_value: 2.5,
        trade_on_close: false,
    };
    let events = candles(&c.returns);
    let b = backtest(&c, &events);
    assert!(b.trades.len() >= 3, "{} trades", b.trades.len());
    assert!(b.trades.iter().all(|t| t.quantity > 0.0));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let p = rt.block_on(paper(&c, &events));
    assert_eq!(p.equity, b.final_equity);
    assert_eq!(p.fees_paid, b.fees_paid);
}

//! The account's cash in a running bot: read from the venue's balance of the configured cash
//! asset, so entries sized from equity or cash work in paper and live as in a backtest.

mod common;

use std::sync::Arc;

use common::*;
use rustrade::Bot;
use rustrade::testkit::{ScriptedBrain, candle_event};
use rustrade_core::{Asset, AssetClass, Brain, Decision, InstrumentSpec, SizeHint};
use rustrade_risk::{RiskConfig, SizingBasis};
use rustrade_sim::{PaperExchange, SimConfig};

const CASH: f64 = 10_000.0;
const FEE_RATE: f64 = 0.001;

/// A paper bot whose brain buys half its equity on the first candle.
async fn half_equity_entry(cash_asset: Option<&str>) -> Running {
    let spec = InstrumentSpec::new(sym("BTCUSDT"), AssetClass::CryptoSpot, 0.01, 0.001).unwrap();
    let sim = SimConfig::default().with_initial_cash(CASH);
    let (paper, fills) = PaperExchange::from_config(sim, [spec]).unwrap();
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("half", |_, pos, n| {
        Ok(if n == 0 && pos.is_flat() {
            Decision::buy(1.0).with_size_hint(SizeHint::EquityFraction(0.5))
        } else {
            Decision::hold()
        })
    }));
    let mut risk = RiskConfig::default();
    risk.sizing.basis = SizingBasis::EquityFraction(0.5);
    risk.sizing.fee_rate = FEE_RATE;
    // The preset caps an entry at its margin's notional; the account sizes this one.
    risk.sizing.max_notional = None;
    let mut config = config(&["BTCUSDT"]).risk(risk);
    if let Some(asset) = cash_asset {
        config = config.cash_asset(Asset::new(asset).unwrap());
    }
    let bot = Bot::paper(config.build().unwrap(), paper, fills, vec![brain]).unwrap();
    let run = start(bot).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    run.bus.publish(candle_event("BTCUSDT", 120, 100.0));
    run
}

#[tokio::test(start_paused = true)]
async fn a_bot_told_its_cash_asset_sizes_an_equity_fraction_from_the_venue_balance() {
    let run = half_equity_entry(Some("USDT")).await;
    wait_until("the entry filled", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    // floor_lot(0.5 × 10 000 ÷ (price × (1 + fee))) at the next candle's open of 100.
    let expected = (0.5 * CASH / (100.0 * (1.0 + FEE_RATE)) / 0.001).floor() * 0.001;
    let held = run.handle.position(&sym("BTCUSDT")).await.quantity;
    assert!(
        (held - expected).abs() < 1e-9,
        "held {held}, expected {expected}"
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn without_a_cash_asset_an_equity_fraction_is_refused_as_funds_unknown() {
    let run = half_equity_entry(None).await;
    wait_until("the entry refused", || {
        let m = run.metrics.clone();
        async move { m.counter_total(rustrade::metrics::names::REFUSALS) > 0 }
    })
    .await;
    assert_eq!(
        run.metrics.counter_value(
            r#"rustrade_refusals_total{brain="half",symbol="BTCUSDT",reason="funds_unknown"}"#
        ),
        1
    );
    assert!(run.handle.position(&sym("BTCUSDT")).await.is_flat());
    run.stop().await.unwrap();
}

/// A brain that records the cash its context shows on every event and buys once, on the event
/// numbered `buy_at`, with a limit far from the market (so the order stays working).
struct CashWatcher {
    seen: std::sync::Mutex<Vec<Option<f64>>>,
    buy_at: Option<usize>,
}

impl Brain for CashWatcher {
    fn name(&self) -> &str {
        "watcher"
    }

    fn on_event(
        &self,
        _event: &rustrade_core::MarketEvent,
        _position: &rustrade_core::Position,
    ) -> Result<Decision, rustrade_core::BrainError> {
        unreachable!("the engine calls on_event_in")
    }

    fn on_event_in(
        &self,
        _event: &rustrade_core::MarketEvent,
        ctx: &rustrade_core::BrainContext<'_>,
    ) -> Result<Decision, rustrade_core::BrainError> {
        let mut seen = self.seen.lock().unwrap();
        seen.push(ctx.cash());
        Ok(if Some(seen.len() - 1) == self.buy_at {
            Decision::buy(1.0).with_limit_price(rustrade_core::Price::new(50.0).unwrap())
        } else {
            Decision::hold()
        })
    }
}

async fn watched(
    buy_at: Option<usize>,
) -> (
    Running,
    Arc<rustrade::testkit::MockExchange>,
    Arc<CashWatcher>,
) {
    let exchange = Arc::new(rustrade::testkit::MockExchange::new());
    exchange.set_price("BTCUSDT", 100.0);
    let watcher = Arc::new(CashWatcher {
        seen: std::sync::Mutex::new(Vec::new()),
        buy_at,
    });
    let config = config(&["BTCUSDT"])
        .cash_asset(Asset::new("USDT").unwrap())
        .reconcile_interval(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    let run = start(bot(config, &exchange, vec![watcher.clone()])).await;
    (run, exchange, watcher)
}

async fn seen_after(run: &Running, watcher: &CashWatcher, minute: i64) -> Option<f64> {
    let before = watcher.seen.lock().unwrap().len();
    run.bus.publish(candle_event("BTCUSDT", minute * 60, 100.0));
    wait_until("the brain saw the candle", || {
        let n = watcher.seen.lock().unwrap().len();
        async move { n > before }
    })
    .await;
    *watcher.seen.lock().unwrap().last().unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_cash_follows_the_venue_balance_at_each_reconciliation_while_no_order_works() {
    let (run, exchange, watcher) = watched(None).await;
    assert_eq!(
        seen_after(&run, &watcher, 1).await,
        Some(1_000_000.0),
        "read at start-up"
    );
    exchange.set_balance(2_500.0);
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_eq!(
        seen_after(&run, &watcher, 2).await,
        Some(2_500.0),
        "read again"
    );
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_working_order_keeps_the_balance_from_replacing_the_cash() {
    let (run, exchange, watcher) = watched(Some(0)).await;
    assert_eq!(seen_after(&run, &watcher, 1).await, Some(1_000_000.0));
    wait_until("the limit order working", || {
        let h = run.handle.clone();
        async move { !h.live_orders().await.is_empty() }
    })
    .await;
    exchange.set_balance(2_500.0);
    tokio::time::sleep(std::time::Duration::from_secs(16)).await;
    assert_eq!(
        seen_after(&run, &watcher, 2).await,
        Some(1_000_000.0),
        "a fill of the working order could be counted twice"
    );
    run.stop().await.unwrap();
}

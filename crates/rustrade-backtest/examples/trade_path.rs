//! Replays seeded synthetic candles once through the trading path configured as
//! `bench/reference` configures it (500 × 5 sizing, no loss breaker, no session loss cap, 5 bps
//! fees, fills and equity recorded) with a brain trading every 10 candles, and prints the trade
//! count. It does no timing: it is the fixed workload for instruction counts, e.g.
//!
//! `valgrind --tool=callgrind target/release/examples/trade_path 200000 [hold]`
//!
//! and dividing the inclusive count of `run::replay` by the number of candles. With `hold` as the
//! second argument the brain never trades (the hold path).

use std::sync::Arc;

use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::{Backtest, synthetic};
use rustrade_core::{AssetClass, Brain, InstrumentSpec, MarketEvent};
use rustrade_risk::{RiskConfig, SizingConfig};
use rustrade_sim::FeeModel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let brain: Arc<dyn Brain> = match std::env::args().nth(2).as_deref() {
        Some("hold") => Arc::new(Hold::new()),
        _ => Arc::new(Periodic::new(10)),
    };
    let events: Vec<MarketEvent> = synthetic::random_walk(2024, n).collect::<Result<_, _>>()?;
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )?;
    let mut risk = RiskConfig {
        sizing: SizingConfig {
            margin: 500.0,
            leverage: 5.0,
            max_quantity: None,
            max_notional: None,
        },
        ..RiskConfig::default()
    };
    risk.breaker.loss_limit = u32::MAX;
    risk.session.loss_cap = None;
    let bt = Backtest::builder()
        .instrument(spec)
        .initial_cash(1_000_000.0)
        .risk(risk)
        .fees(FeeModel::rates(0.0005, 0.0005))
        .record_equity(true)
        .record_fills(true)
        .brain(brain)
        .build()?;
    let result = bt.run_events(events.iter().copied())?;
    println!(
        "{n} candles, {} trades, final equity {:.6}",
        result.trades.len(),
        result.final_equity
    );
    Ok(())
}

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
use rustrade_backtest::synthetic;
use rustrade_core::{Brain, MarketEvent};

#[path = "common/reference_workload.rs"]
mod reference_workload;

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
    let bt = reference_workload::backtest(brain, true)?;
    let result = bt.run_events(events.iter().copied())?;
    println!(
        "{n} candles, {} trades, final equity {:.6}",
        result.trades.len(),
        result.final_equity
    );
    Ok(())
}

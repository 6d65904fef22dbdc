//! Replays seeded synthetic candles with a hold brain and with a brain trading every 10 candles
//! and prints candles per second.
//!
//! `cargo run --release -p rustrade-backtest --example replay_speed -- [candles]`
// Wall-clock timing is the purpose of this example.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::time::Instant;

use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::{Backtest, synthetic};
use rustrade_core::{AssetClass, Brain, InstrumentSpec, MarketEvent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let events: Vec<MarketEvent> = synthetic::random_walk(2024, n).collect::<Result<_, _>>()?;
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )?;
    let brains: [(&str, Arc<dyn Brain>); 2] = [
        ("hold", Arc::new(Hold::new())),
        ("every-10", Arc::new(Periodic::new(10))),
    ];
    for (name, brain) in brains {
        let bt = Backtest::builder().instrument(spec).brain(brain).build()?;
        let start = Instant::now();
        let result = bt.run_events(events.iter().copied())?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name:<9} {:>12.0} candles/s  ({} trades, final equity {:.2})",
            n as f64 / secs,
            result.trades.len(),
            result.final_equity
        );
    }
    Ok(())
}

//! Streams a candle CSV file through a backtest without materialising it, to show that memory
//! does not grow with the file (measure peak RSS with `/usr/bin/time -v`).
//!
//! `cargo run --release -p rustrade-backtest --example stream_file -- PATH [candles] [hold|every-10] [OUT_DIR]`
//!
//! With `every-10` the brain trades every 10 candles instead of holding. Without `OUT_DIR`,
//! fills, trades and the equity curve are not kept (statistics are computed as the run goes);
//! with it, all three stream to `fills.csv`, `trades.csv` and `equity.csv` there, every record
//! written and none kept in memory.
//!
//! When `PATH` does not exist, `candles` seeded synthetic rows (default 10 000 000) are written
//! to it first (`time,open,high,low,close,volume`, epoch milliseconds).
// Wall-clock timing is the purpose of this example.
#![allow(clippy::disallowed_methods)]

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_backtest::{Backtest, EquitySink, Outputs, RecordSink, synthetic};
use rustrade_core::{AssetClass, Brain, InstrumentSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: stream_file PATH [candles]")?;
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let brain: Arc<dyn Brain> = match args.next().as_deref() {
        Some("every-10") => Arc::new(Periodic::new(10)),
        _ => Arc::new(Hold::new()),
    };
    let out_dir = args.next().map(std::path::PathBuf::from);
    if !std::path::Path::new(&path).exists() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        writeln!(out, "time,open,high,low,close,volume")?;
        for event in synthetic::random_walk(2024, n) {
            let event = event?;
            let c = event.as_candle().ok_or("candle events")?;
            writeln!(
                out,
                "{},{},{},{},{},{}",
                c.open_time().as_millis(),
                c.open(),
                c.high(),
                c.low(),
                c.close(),
                c.volume()
            )?;
        }
        out.flush()?;
    }
    let symbol = synthetic::synthetic_symbol();
    let spec = InstrumentSpec::new(symbol, AssetClass::CryptoSpot, 0.01, 0.001)?;
    let bt = Backtest::builder()
        .instrument(spec)
        .record_equity(false)
        .record_fills(false)
        .record_trades(false)
        .brain(brain)
        .build()?;
    let start = Instant::now();
    let data = CandleCsv::open(&path, CsvOptions::new(symbol))?;
    let result = match &out_dir {
        None => bt.run(data)?,
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            let file = |name: &str| -> std::io::Result<Box<dyn Write>> {
                Ok(Box::new(std::io::BufWriter::new(std::fs::File::create(
                    dir.join(name),
                )?)))
            };
            let outputs = Outputs {
                fills: RecordSink::Csv(file("fills.csv")?),
                trades: RecordSink::Csv(file("trades.csv")?),
                equity: EquitySink::Csv(file("equity.csv")?),
            };
            bt.run_with(data, outputs)?
        }
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} candles streamed from {path} in {secs:.2} s ({:.0} candles/s), {} trades",
        result.events,
        result.events as f64 / secs,
        result.statistics.trades
    );
    Ok(())
}

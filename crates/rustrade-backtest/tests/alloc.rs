//! The hold path allocates nothing per candle: a run's heap allocations do not depend on the
//! number of candles replayed. Counted by the shared test allocator, per thread so parallel
//! tests do not disturb each other.

use std::sync::Arc;

use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::{Backtest, synthetic};
use rustrade_core::{AssetClass, InstrumentSpec};
use rustrade_testalloc::{Counting, allocations_of};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn backtest(brain: Arc<dyn rustrade_core::Brain>, record_equity: bool) -> Backtest {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .unwrap();
    Backtest::builder()
        .instrument(spec)
        .record_equity(record_equity)
        .brain(brain)
        .build()
        .unwrap()
}

#[test]
fn hold_path_allocations_do_not_grow_with_the_number_of_candles() {
    for record in [true, false] {
        let bt = backtest(Arc::new(Hold::new()), record);
        let count = |n| {
            allocations_of(|| {
                let r = bt.run(synthetic::random_walk(9, n)).unwrap();
                assert_eq!(r.events, n as u64);
            })
        };
        let small = count(1_000);
        let large = count(100_000);
        assert_eq!(
            small, large,
            "record_equity={record}: {small} vs {large} allocations"
        );
        assert!(small < 200, "fixed set-up cost stays small: {small}");
    }
}

#[test]
fn a_brain_on_longer_bars_allocates_nothing_per_candle() {
    use rustrade_core::{OnTimeframe, Resampler};
    let minute = std::time::Duration::from_secs(60);
    let count = |n| {
        let hourly = OnTimeframe::new(
            Arc::new(Hold::new()),
            Resampler::new(minute, 60 * minute).unwrap(),
        );
        let bt = backtest(Arc::new(hourly), false);
        allocations_of(|| {
            let r = bt.run(synthetic::random_walk(9, n)).unwrap();
            assert_eq!(r.events, n as u64);
        })
    };
    let (small, large) = (count(1_000), count(100_000));
    assert_eq!(small, large, "{small} vs {large} allocations");
}

#[test]
fn trading_path_allocations_grow_with_trades_not_candles() {
    let count = |n| {
        let bt = backtest(Arc::new(Periodic::new(10)), false);
        let mut trades = 0;
        let a =
            allocations_of(|| trades = bt.run(synthetic::random_walk(9, n)).unwrap().trades.len());
        (a, trades)
    };
    let (a, trades) = count(20_000);
    assert!(trades > 100, "{trades}");
    // Amortised growth of the fill and trade vectors plus what the engine keeps per order.
    let per_candle = a as f64 / 20_000.0;
    assert!(per_candle < 5.0, "{per_candle} allocations per candle");
}

#[test]
fn csv_streaming_allocates_nothing_per_row() {
    use rustrade_backtest::data::{CandleCsv, CsvOptions};
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/SPX.csv");
    let symbol = rustrade_core::Symbol::new("SPX").unwrap();
    let count = |rows: usize| {
        allocations_of(|| {
            let read = CandleCsv::open(&path, CsvOptions::new(symbol))
                .unwrap()
                .take(rows)
                .map(Result::unwrap)
                .count();
            assert_eq!(read, rows);
        })
    };
    assert_eq!(
        count(100),
        count(8_000),
        "allocations independent of rows read"
    );
}

#[test]
fn memory_with_every_result_streamed_to_files_does_not_grow_with_the_history() {
    use rustrade_backtest::{EquitySink, Outputs, RecordSink};
    use rustrade_testalloc::{live_bytes, peak_bytes, reset_peak};
    let brains: [fn() -> Arc<dyn rustrade_core::Brain>; 2] =
        [|| Arc::new(Hold::new()), || Arc::new(Periodic::new(10))];
    for brain in brains {
        let peak = |n: usize| {
            let bt = backtest(brain(), true);
            let (mut fills, mut trades, mut equity) = (0u64, 0u64, 0u64);
            let before = live_bytes();
            reset_peak();
            let r = bt
                .run_with(
                    synthetic::random_walk(9, n),
                    Outputs {
                        fills: RecordSink::Csv(Box::new(Counted(&mut fills))),
                        trades: RecordSink::Csv(Box::new(Counted(&mut trades))),
                        equity: EquitySink::Csv(Box::new(Counted(&mut equity))),
                    },
                )
                .unwrap();
            let peak = peak_bytes() - before;
            assert_eq!(r.events, n as u64);
            // A header and a row per sample: the initial cash and one per candle.
            assert_eq!(equity, n as u64 + 2, "every sample was written");
            (peak, r.statistics.trades, fills)
        };
        let (small, small_trades, _) = peak(100_000);
        let (large, large_trades, fill_rows) = peak(400_000);
        assert!(
            large_trades >= 4 * small_trades,
            "{small_trades} {large_trades}"
        );
        // The same set-up and working buffers whatever the length: within 64 KiB (the engine's
        // and venue's bounded windows fill up in the first few thousand orders).
        assert!(
            large <= small + 64 * 1024,
            "peak {small} B at 100 k candles, {large} B at 400 k ({fill_rows} lines of fills written)"
        );
        assert!(large < 50 * 1024 * 1024, "peak {large} B");
    }
}

/// A writer that only counts the lines it is given.
struct Counted<'a>(&'a mut u64);

impl std::io::Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        *self.0 += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

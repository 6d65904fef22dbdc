//! The hold path allocates nothing per candle: a run's heap allocations do not depend on the
//! number of candles replayed. Counted by a global allocator wrapper, per thread so parallel
//! tests do not disturb each other.
// A global allocator can only be written with `unsafe impl GlobalAlloc`; it only forwards to the
// system allocator and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use rustrade_backtest::brains::{Hold, Periodic};
use rustrade_backtest::{Backtest, synthetic};
use rustrade_core::{AssetClass, InstrumentSpec};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_of(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

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

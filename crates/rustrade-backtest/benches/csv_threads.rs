//! Rows per second of the CSV loader decoding a whole file into memory on 1 and 2 threads
//! ([`CandleCsv::decode_all`]) beside the streaming reader, which keeps no row, over the same
//! seeded synthetic candles held in memory (so the disk is out of the figure):
//!
//! - `full`: numbers at full `f64` precision (shortest round trip, ~105-byte rows);
//! - `ticks`: prices to 0.01 and volume to 0.001 (~50-byte rows), as venue dumps are.
//!
//! Run with `cargo bench -p rustrade-backtest --bench csv_threads`.

use std::fmt::Write as _;
use std::sync::OnceLock;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_backtest::synthetic;
use rustrade_core::Candle;

const ROWS: usize = 1_000_000;

fn main() {
    divan::main();
}

/// The two files' bytes, written on first use.
fn texts() -> &'static [Vec<u8>; 2] {
    static TEXTS: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    TEXTS.get_or_init(|| {
        // 5 bps a bar keeps a million bars far from a price that rounds to zero.
        let params = synthetic::WalkParams {
            volatility: 0.0005,
            ..synthetic::WalkParams::default()
        };
        let bars: Vec<Candle> =
            synthetic::random_walk_for(synthetic::synthetic_symbol(), 2024, ROWS, params)
                .map(|e| *e.expect("a valid candle").as_candle().expect("a candle"))
                .collect();
        [text(&bars, None), text(&bars, Some((2, 3)))]
    })
}

/// `bars` as CSV: numbers in full, or prices and volume to the given decimals.
fn text(bars: &[Candle], decimals: Option<(usize, usize)>) -> Vec<u8> {
    let mut text = String::from("time,open,high,low,close,volume\n");
    for c in bars {
        let [o, h, l, cl] = [c.open(), c.high(), c.low(), c.close()].map(|p| p.get());
        let v = c.volume().get();
        let t = c.open_time().as_millis();
        match decimals {
            None => writeln!(text, "{t},{o},{h},{l},{cl},{v}"),
            Some((dp, dv)) => {
                // Rounded apart, the high and low are widened to keep the candle valid.
                let round = |x: f64| format!("{x:.dp$}").parse::<f64>().expect("a number");
                let (o, cl) = (round(o), round(cl));
                let (h, l) = (round(h).max(o).max(cl), round(l).min(o).min(cl));
                writeln!(text, "{t},{o:.dp$},{h:.dp$},{l:.dp$},{cl:.dp$},{v:.dv$}")
            }
        }
        .expect("writing to a String");
    }
    text.into_bytes()
}

fn options() -> CsvOptions {
    CsvOptions::new(synthetic::synthetic_symbol())
}

#[divan::bench(args = ["full", "ticks"])]
fn streamed(bencher: Bencher, file: &str) {
    let bytes = &texts()[usize::from(file == "ticks")];
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let reader =
            CandleCsv::from_reader(bytes.as_slice(), "bench.csv", options()).expect("open");
        let mut n = 0;
        for event in reader {
            black_box(event.expect("a valid row"));
            n += 1;
        }
        assert_eq!(n, ROWS);
    });
}

#[divan::bench(args = ["full", "ticks"], consts = [1, 2])]
fn decode_all<const THREADS: usize>(bencher: Bencher, file: &str) {
    let bytes = &texts()[usize::from(file == "ticks")];
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let events = CandleCsv::decode_all(bytes, "bench.csv", options(), THREADS).expect("valid");
        assert_eq!(black_box(events).len(), ROWS);
    });
}

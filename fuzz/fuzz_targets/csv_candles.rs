//! `CandleCsv` over arbitrary bytes: the first byte picks the options (auto or Binance layout,
//! sorted or streaming, with or without a bar interval), the rest is the file.
//!
//! Checked on every input: no panic; every yielded candle is valid with prices > 0; event times
//! strictly increase; the first error ends the stream; every row error names its line.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rustrade_backtest::DataError;
use rustrade_backtest::data::{CandleCsv, CsvFormat, CsvOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let mut options = CsvOptions::new(rustrade_fuzz::symbol())
        .format(if flags & 1 == 0 {
            CsvFormat::Auto
        } else {
            CsvFormat::BinanceKlines
        })
        .sort_by_time(flags & 2 != 0);
    if flags & 4 != 0 {
        let interval = Duration::from_secs(u64::from(flags >> 3) * 60 + 1);
        options = options
            .bar_interval(interval)
            .expect("a positive interval is accepted");
    }
    let Ok(mut rows) = CandleCsv::from_reader(body, "fuzz", options) else {
        return;
    };
    let mut previous = None;
    while let Some(row) = rows.next() {
        match row {
            Ok(event) => {
                let candle = event.as_candle().expect("the loader yields candles");
                for p in [candle.open(), candle.high(), candle.low(), candle.close()] {
                    assert!(p.get() > 0.0 && p.get().is_finite(), "{event:?}");
                }
                if let Some(t) = previous {
                    assert!(event.time > t, "time went back: {event:?}");
                }
                previous = Some(event.time);
            }
            Err(e) => {
                if !matches!(e, DataError::Empty { .. } | DataError::MissingColumn { .. }) {
                    assert!(e.line().is_some(), "error without a line: {e}");
                }
                assert!(rows.next().is_none(), "stream went on after {e}");
                break;
            }
        }
    }
});

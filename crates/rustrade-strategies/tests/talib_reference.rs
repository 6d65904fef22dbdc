//! Every indicator against TA-Lib, column by column, on shipped quotes.
//!
//! `tests/data/gen_talib.py` runs TA-Lib (the C library through its Python wrapper) over
//! `examples/data/Default.csv`, `Bitcoin.csv` and a synthetic series of degenerate windows
//! (`tests/data/edge_quotes.csv`: flat bars, no volume, gaps, saw-teeth, written by the same
//! script) and writes `tests/data/talib_<name>.csv`. For the
//! indicators TA-Lib lacks (Donchian, Keltner, SuperTrend, VWAP) the script computes them from
//! TA-Lib building blocks and formulas written out in it. Each column here must be empty exactly
//! where the indicator has no value yet (same first index) and agree to `1e-9` relative after.

use std::collections::BTreeMap;

use rustrade_strategies::indicators::{
    Adx, Atr, Bands, Bollinger, Cci, Dema, Donchian, Ema, Keltner, Macd, Mfi, Obv, ParabolicSar,
    Roc, Rsi, Sma, StdDev, Stochastic, SuperTrend, Tema, Trend, TrueRange, Vwap, Wma,
};

/// Relative tolerance after warm-up.
const REL: f64 = 1e-9;

#[derive(Debug, Clone, Copy)]
struct Bar {
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

type Column = Vec<Option<f64>>;

fn data_path(rel: &str) -> String {
    format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn quotes(name: &str) -> Vec<Bar> {
    let path = if name == "Edge" {
        data_path("tests/data/edge_quotes.csv")
    } else {
        data_path(&format!("../../examples/data/{name}.csv"))
    };
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("well-formed row");
            let num = |i: usize| r[i].parse::<f64>().expect("numeric column");
            Bar {
                high: num(3),
                low: num(4),
                close: num(5),
                volume: num(6),
            }
        })
        .collect()
}

fn expected(name: &str) -> BTreeMap<String, Column> {
    let path = data_path(&format!("tests/data/talib_{name}.csv"));
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut cols: BTreeMap<String, Column> = headers[1..]
        .iter()
        .map(|h| (h.clone(), Vec::new()))
        .collect();
    for r in reader.records() {
        let r = r.expect("well-formed row");
        for (h, cell) in headers[1..].iter().zip(r.iter().skip(1)) {
            let v = (!cell.is_empty()).then(|| cell.parse::<f64>().expect("numeric cell"));
            cols.get_mut(h).unwrap().push(v);
        }
    }
    cols
}

/// Runs every indicator over `bars`, one column per output, named as in the generated CSV.
fn computed(bars: &[Bar]) -> BTreeMap<String, Column> {
    let mut out: BTreeMap<String, Column> = BTreeMap::new();
    let mut put = |name: &str, v: Option<f64>| out.entry(name.to_owned()).or_default().push(v);
    let mut sma = Sma::new(20).unwrap();
    let mut ema = Ema::new(20).unwrap();
    let mut wma = Wma::new(20).unwrap();
    let mut dema = Dema::new(20).unwrap();
    let mut tema = Tema::new(20).unwrap();
    let mut rsi = Rsi::new(14).unwrap();
    let mut macd = Macd::new(12, 26, 9).unwrap();
    let mut bb = Bollinger::new(20, 2.0).unwrap();
    let mut tr = TrueRange::new();
    let mut atr = Atr::new(14).unwrap();
    let mut stoch = Stochastic::new(14, 3, 3).unwrap();
    let mut adx = Adx::new(14).unwrap();
    let mut obv = Obv::new();
    let mut roc = Roc::new(10).unwrap();
    let mut sd = StdDev::new(20).unwrap();
    let mut cci = Cci::new(20).unwrap();
    let mut mfi = Mfi::new(14).unwrap();
    let mut sar = ParabolicSar::new(0.02, 0.2).unwrap();
    let mut kc = Keltner::new(20, 2.0, 10).unwrap();
    let mut dc = Donchian::new(20).unwrap();
    let mut st = SuperTrend::new(10, 3.0).unwrap();
    let mut vwap = Vwap::new();
    let bands = |put: &mut dyn FnMut(&str, Option<f64>), prefix: &str, b: Option<Bands>| {
        put(&format!("{prefix}_upper"), b.map(|b| b.upper));
        put(&format!("{prefix}_middle"), b.map(|b| b.middle));
        put(&format!("{prefix}_lower"), b.map(|b| b.lower));
    };
    for b in bars {
        let (h, l, c, v) = (b.high, b.low, b.close, b.volume);
        put("sma_20", sma.next(c));
        put("ema_20", ema.next(c));
        put("wma_20", wma.next(c));
        put("dema_20", dema.next(c));
        put("tema_20", tema.next(c));
        put("rsi_14", rsi.next(c));
        let m = macd.next(c);
        put("macd_12_26_9_line", m.map(|m| m.line));
        put("macd_12_26_9_signal", m.map(|m| m.signal));
        put("macd_12_26_9_hist", m.map(|m| m.histogram));
        bands(&mut put, "bb_20_2", bb.next(c));
        put("trange", tr.next(h, l, c));
        put("atr_14", atr.next(h, l, c));
        let s = stoch.next(h, l, c);
        put("stoch_14_3_3_k", s.map(|s| s.k));
        put("stoch_14_3_3_d", s.map(|s| s.d));
        let a = adx.next(h, l, c);
        put("adx_14", a.and_then(|a| a.adx));
        put("plus_di_14", a.map(|a| a.plus_di));
        put("minus_di_14", a.map(|a| a.minus_di));
        put("obv", obv.next(c, v));
        put("roc_10", roc.next(c));
        put("stddev_20", sd.next(c));
        put("cci_20", cci.next(h, l, c));
        put("mfi_14", mfi.next(h, l, c, v));
        put("sar_0.02_0.2", sar.next(h, l));
        bands(&mut put, "keltner_20_2_10", kc.next(h, l, c));
        bands(&mut put, "donchian_20", dc.next(h, l));
        let s = st.next(h, l, c);
        put("supertrend_10_3_line", s.map(|s| s.line));
        put(
            "supertrend_10_3_dir",
            s.map(|s| if s.trend == Trend::Up { 1.0 } else { -1.0 }),
        );
        put("vwap", vwap.next(h, l, c, v));
    }
    out
}

/// Compares every column; returns one line per disagreement and the largest relative error.
fn compare(name: &str) -> (Vec<String>, BTreeMap<String, f64>) {
    let bars = quotes(name);
    let want = expected(name);
    let got = computed(&bars);
    let mut problems = Vec::new();
    let mut worst = BTreeMap::new();
    let (want_names, got_names): (Vec<_>, Vec<_>) = (want.keys().collect(), got.keys().collect());
    assert_eq!(want_names, got_names, "{name}: every column is checked");
    for (col, expected) in &want {
        let actual = &got[col];
        assert_eq!(actual.len(), bars.len());
        assert_eq!(expected.len(), bars.len(), "{name}/{col}: one row per bar");
        let first = |c: &Column| c.iter().position(Option::is_some);
        if first(actual) != first(expected) {
            problems.push(format!(
                "{name}/{col}: first value at {:?}, TA-Lib at {:?}",
                first(actual),
                first(expected)
            ));
            continue;
        }
        let mut max_rel = 0.0_f64;
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            match (a, e) {
                (None, None) => {}
                (Some(a), Some(e)) => {
                    let rel = relative(*a, *e);
                    max_rel = max_rel.max(rel);
                    if rel > REL {
                        problems.push(format!("{name}/{col}[{i}]: {a} vs TA-Lib {e}"));
                    }
                }
                _ => problems.push(format!("{name}/{col}[{i}]: {a:?} vs TA-Lib {e:?}")),
            }
        }
        worst.insert(col.clone(), max_rel);
    }
    (problems, worst)
}

/// `|a − e| / max(|a|, |e|)`, 0 when both are 0.
fn relative(a: f64, e: f64) -> f64 {
    let scale = a.abs().max(e.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - e).abs() / scale
    }
}

fn check(name: &str) {
    let (problems, worst) = compare(name);
    for (col, rel) in &worst {
        eprintln!("{name}/{col}: max relative error {rel:.1e}");
    }
    assert!(
        problems.is_empty(),
        "{} disagreements, first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_indicator_matches_talib_on_default_quotes() {
    check("Default");
}

#[test]
fn every_indicator_matches_talib_on_bitcoin_quotes() {
    check("Bitcoin");
}

#[test]
fn every_indicator_matches_talib_on_degenerate_windows() {
    check("Edge");
}

//! The CSV loader's byte-level reader and float parser give the same candles as the plain path
//! (text records and `str::parse::<f64>`) for random valid rows in many number notations.

use proptest::prelude::*;
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_core::{Candle, Symbol, Timestamp};

/// One number written in a notation picked by `style`.
fn notation(v: f64, style: u8) -> String {
    match style % 6 {
        0 => format!("{v}"),
        1 => format!("{v:e}"),
        2 => format!("{v:.2}"),
        3 => format!("{v:.8}"),
        4 => format!("{v:E}"),
        _ => format!(" {v} "),
    }
}

/// Candles read the plain way: text records, trimmed fields, `str::parse`.
fn plain(text: &str) -> Result<Vec<Candle>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let number = |i: usize| -> Result<f64, String> {
            record[i].trim().parse::<f64>().map_err(|e| e.to_string())
        };
        let millis: i64 = record[0].trim().parse().map_err(|_| "time".to_owned())?;
        let time = Timestamp::from_millis(millis).map_err(|e| e.to_string())?;
        if (1..5).any(|i| number(i).is_ok_and(|p| p <= 0.0)) {
            return Err("price must be > 0".to_owned());
        }
        let candle = Candle::new(
            time,
            number(1)?,
            number(2)?,
            number(3)?,
            number(4)?,
            number(5)?,
        )
        .map_err(|e| e.to_string())?;
        out.push(candle);
    }
    Ok(out)
}

/// A row's open, close, upward and downward extension, volume and notation styles.
type Row = (f64, f64, f64, f64, f64, [u8; 5]);

fn row() -> impl Strategy<Value = Row> {
    (
        1e-6..1e7f64,
        1e-6..1e7f64,
        0.0..1e3f64,
        0.0..0.99f64,
        0.0..1e9f64,
        any::<[u8; 5]>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn byte_level_parse_matches_the_plain_path(rows in prop::collection::vec(row(), 1..40)) {
        let mut text = String::from("time,open,high,low,close,volume\n");
        for (i, (open, close, up, down, volume, styles)) in rows.iter().enumerate() {
            let high = open.max(*close) + up;
            let low = open.min(*close) * (1.0 - down);
            let time = 1_700_000_000_000i64 + 60_000 * i as i64;
            let fields = [*open, high, low, *close, *volume]
                .iter()
                .zip(styles)
                .map(|(v, s)| notation(*v, *s))
                .collect::<Vec<_>>()
                .join(",");
            text.push_str(&format!("{time},{fields}\n"));
        }
        let symbol = Symbol::new("P").unwrap();
        let loaded: Result<Vec<Candle>, String> =
            CandleCsv::from_reader(text.as_bytes(), "prop.csv", CsvOptions::new(symbol))
                .map_err(|e| e.to_string())
                .and_then(|it| {
                    it.map(|e| e.map(|e| *e.as_candle().unwrap()).map_err(|e| e.to_string()))
                        .collect()
                });
        match plain(&text) {
            Ok(expected) => {
                let loaded = loaded.map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
                prop_assert_eq!(loaded.len(), expected.len());
                for (a, b) in loaded.iter().zip(&expected) {
                    prop_assert_eq!(a.open_time(), b.open_time());
                    let bits = |c: &Candle| {
                        [c.open(), c.high(), c.low(), c.close()]
                            .map(|p| p.get().to_bits())
                    };
                    prop_assert_eq!(bits(a), bits(b));
                    prop_assert_eq!(a.volume().get().to_bits(), b.volume().get().to_bits());
                }
            }
            // Rounding to two decimals can break a row's high/low invariant: both refuse it.
            Err(_) => prop_assert!(loaded.is_err(), "{}", text),
        }
    }
}

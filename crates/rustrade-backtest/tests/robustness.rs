//! Robustness of the candle CSV loader against hostile input, on the stable toolchain (the
//! libFuzzer target `fuzz/fuzz_targets/csv_candles.rs` explores the same boundary deeper).
//!
//! Properties, for arbitrary bytes and for valid files with mutated rows, under every layout and
//! ordering option:
//! - no panic;
//! - every yielded candle has finite prices `> 0`, and event times strictly increase;
//! - the first error ends the stream;
//! - every error about a row names the source and its 1-based line (within the file), and a
//!   value error names the column;
//! - no silent loss: a file that loads without error yields one candle per data record.

use std::time::Duration;

use proptest::prelude::*;
use rustrade_backtest::DataError;
use rustrade_backtest::data::{CandleCsv, CsvFormat, CsvOptions};
use rustrade_core::{MarketEvent, Symbol};

const NAME: &str = "hostile.csv";

/// The loader options selected by a proptest-drawn byte: layout, sorting, bar interval.
fn options(flags: u8) -> CsvOptions {
    let mut options = CsvOptions::new(Symbol::new("BTCUSDT").unwrap())
        .format(if flags & 1 == 0 {
            CsvFormat::Auto
        } else {
            CsvFormat::BinanceKlines
        })
        .sort_by_time(flags & 2 != 0);
    if flags & 4 != 0 {
        options = options.bar_interval(Duration::from_secs(60)).unwrap();
    }
    options
}

/// What a load produced: the candles before the first error, and that error.
struct Outcome {
    events: Vec<MarketEvent>,
    error: Option<DataError>,
}

/// Loads `bytes` to the end, checking the stream invariants on the way.
fn load(bytes: &[u8], flags: u8) -> Outcome {
    let mut rows = match CandleCsv::from_reader(bytes, NAME, options(flags)) {
        Ok(rows) => rows,
        Err(error) => {
            return Outcome {
                events: Vec::new(),
                error: Some(error),
            };
        }
    };
    let mut events: Vec<MarketEvent> = Vec::new();
    while let Some(row) = rows.next() {
        match row {
            Ok(event) => {
                let candle = event.as_candle().expect("the loader yields candles");
                for p in [candle.open(), candle.high(), candle.low(), candle.close()] {
                    assert!(p.get() > 0.0 && p.get().is_finite(), "{event:?}");
                }
                if let Some(last) = events.last() {
                    assert!(event.time > last.time, "time went back: {event:?}");
                }
                events.push(event);
            }
            Err(error) => {
                assert!(rows.next().is_none(), "the stream went on after: {error}");
                return Outcome {
                    events,
                    error: Some(error),
                };
            }
        }
    }
    Outcome {
        events,
        error: None,
    }
}

/// Every error names the source; row errors name a line inside the file; value errors name
/// the column.
fn assert_located(error: &DataError, bytes: &[u8]) {
    let shown = error.to_string();
    assert!(
        shown.contains(NAME),
        "error without the source name: {shown}"
    );
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    match error {
        DataError::Empty { .. } | DataError::MissingColumn { .. } => {}
        DataError::BadValue { line, column, .. } => {
            assert!(!column.is_empty(), "value error without a column: {shown}");
            assert!(
                (1..=lines).contains(line),
                "line {line} of {lines}: {shown}"
            );
            assert!(shown.contains(&format!(":{line}:")), "{shown}");
        }
        other => {
            let line = other
                .line()
                .unwrap_or_else(|| panic!("row error without a line: {shown}"));
            assert!(
                (1..=lines).contains(&line),
                "line {line} of {lines}: {shown}"
            );
            assert!(shown.contains(&format!(":{line}:")), "{shown}");
        }
    }
}

/// Data records in `bytes` as the CSV layer sees them (blank lines skipped): every record but a
/// first one that is a header, which by the loader's documented rule is a record with a field
/// naming a time column, `open` or `close` (trimmed, any case).
fn data_records(bytes: &[u8]) -> usize {
    const HEADER_NAMES: [&str; 9] = [
        "date",
        "time",
        "datetime",
        "timestamp",
        "open_time",
        "opentime",
        "ts",
        "open",
        "close",
    ];
    let records: Vec<csv::ByteRecord> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .byte_records()
        .collect::<Result<_, _>>()
        .expect("a file that loaded is valid CSV");
    let header = records.first().is_some_and(|first| {
        first.iter().any(|f| {
            let f = String::from_utf8_lossy(f.trim_ascii());
            HEADER_NAMES.iter().any(|n| f.eq_ignore_ascii_case(n))
        })
    });
    records.len() - usize::from(header)
}

const PLAIN: &str = "Date,Open,High,Low,Close,Volume\n\
    2024-01-02,10,11,9,10.5,100\n\
    2024-01-03,10.5,12,10,11,80\n\
    2024-01-04,11,11.5,10.2,10.8,95\n\
    2024-01-05T00:00:00Z,10.8,11.9,10.1,11.7,120\n\
    2024-01-06 12:30,11.7,12.4,11.5,12,60\n";

const BINANCE: &str = "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,1704070799999,53957248.97,47134,682.58,28966359.43,0\n\
    1704070800000,42475.23,42775,42431.65,42613.56,1196.37,1704074399999,50976121.31,44381,630.35,26855792.35,0\n\
    1704074400000,42613.57,42638.91,42500.01,42581.1,685.05,1704077999999,29164102.63,32163,322.53,13731404.53,0\n";

/// Text that breaks a field: signs, zero, non-numbers, extremes, quotes, separators.
fn hostile_field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("1e309".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("-9223372036854775808".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("2024-02-30".to_owned()),
        Just("2024-01-02T25:00".to_owned()),
        Just("2024-01-02T03:04:05+99:00".to_owned()),
        Just("\"unterminated".to_owned()),
        Just("a,b".to_owned()),
        Just("é".to_owned()),
        "[ -~]{0,12}",
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
    ]
}

/// One edit of a valid file's rows.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace field `field` of row `row` by this text.
    Field {
        row: usize,
        field: usize,
        text: String,
    },
    /// Drop a row's last field.
    Shorten(usize),
    /// Duplicate a row in place.
    Duplicate(usize),
    /// Swap two rows.
    Swap(usize, usize),
    /// Insert raw bytes at a byte offset of the file.
    Bytes { at: usize, bytes: Vec<u8> },
    /// Cut the file at a byte offset.
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (0usize..8, 0usize..12, hostile_field())
            .prop_map(|(row, field, text)| Edit::Field { row, field, text }),
        1 => (0usize..8).prop_map(Edit::Shorten),
        1 => (0usize..8).prop_map(Edit::Duplicate),
        1 => (0usize..8, 0usize..8).prop_map(|(a, b)| Edit::Swap(a, b)),
        1 => (0usize..2_000, prop::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(at, bytes)| Edit::Bytes { at, bytes }),
        1 => (0usize..2_000).prop_map(Edit::Truncate),
    ]
}

/// Applies `edits` to `text`, row by row where they name rows, byte-wise otherwise.
fn apply(text: &str, edits: &[Edit]) -> Vec<u8> {
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let mut tail: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut cut = None;
    for e in edits {
        let n = rows.len();
        match e {
            Edit::Field { row, field, text } => {
                let r = &mut rows[row % n];
                let f = field % r.len();
                r[f].clone_from(text);
            }
            Edit::Shorten(row) => {
                rows[row % n].pop();
            }
            Edit::Duplicate(row) => {
                let copy = rows[row % n].clone();
                rows.insert(row % n, copy);
            }
            Edit::Swap(a, b) => rows.swap(a % n, b % n),
            Edit::Bytes { at, bytes } => tail.push((*at, bytes.clone())),
            Edit::Truncate(at) => cut = Some(*at),
        }
    }
    let mut out: Vec<u8> = rows
        .iter()
        .map(|r| r.join(","))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    out.push(b'\n');
    for (at, bytes) in tail {
        let at = at % (out.len() + 1);
        out.splice(at..at, bytes);
    }
    if let Some(at) = cut {
        out.truncate(at % (out.len() + 1));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: ProptestConfig::default().cases.max(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_are_located(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        flags in 0u8..8,
    ) {
        let outcome = load(&bytes, flags);
        if let Some(error) = &outcome.error {
            assert_located(error, &bytes);
        }
    }

    #[test]
    fn printable_rows_never_panic_and_errors_are_located(
        text in "([0-9a-zA-Z:.+\\-, \"]{0,40}\n){0,12}",
        flags in 0u8..8,
    ) {
        let outcome = load(text.as_bytes(), flags);
        if let Some(error) = &outcome.error {
            assert_located(error, text.as_bytes());
        }
    }

    #[test]
    fn mutated_plain_files_fail_located_or_load_every_row(
        edits in prop::collection::vec(edit(), 1..4),
        flags in (0u8..8).prop_map(|f| f & !1),
    ) {
        let bytes = apply(PLAIN, &edits);
        let outcome = load(&bytes, flags);
        match &outcome.error {
            Some(error) => assert_located(error, &bytes),
            None => {
                let expected = data_records(&bytes);
                prop_assert_eq!(outcome.events.len(), expected, "{}", String::from_utf8_lossy(&bytes));
            }
        }
    }

    #[test]
    fn mutated_binance_files_fail_located_or_load_every_row(
        edits in prop::collection::vec(edit(), 1..4),
        flags in 0u8..8,
    ) {
        let bytes = apply(BINANCE, &edits);
        let outcome = load(&bytes, flags);
        match &outcome.error {
            Some(error) => assert_located(error, &bytes),
            None => {
                let expected = data_records(&bytes);
                prop_assert_eq!(outcome.events.len(), expected, "{}", String::from_utf8_lossy(&bytes));
            }
        }
    }
}

#[test]
fn the_unmutated_samples_load_in_full() {
    for flags in [0, 2, 4, 6] {
        let outcome = load(PLAIN.as_bytes(), flags);
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        assert_eq!(outcome.events.len(), 5);
    }
    for flags in 0..8 {
        let outcome = load(BINANCE.as_bytes(), flags);
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        assert_eq!(outcome.events.len(), 3);
    }
}

#[test]
fn a_bad_value_names_line_column_and_text() {
    let text = PLAIN.replace("10.5,12,10,11,80", "10.5,12,10,abc,80");
    let outcome = load(text.as_bytes(), 0);
    assert_eq!(
        outcome.events.len(),
        1,
        "the row before the bad one is yielded"
    );
    match outcome.error {
        Some(DataError::BadValue {
            line,
            column,
            value,
            ..
        }) => {
            assert_eq!(line, 3);
            assert_eq!(column, "Close");
            assert_eq!(value, "abc");
        }
        other => panic!("expected a bad value, got {other:?}"),
    }
}

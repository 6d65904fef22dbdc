//! The loaders against every sample file and against hand-written edge cases.

use std::path::PathBuf;
use std::time::Duration;

use rustrade_backtest::DataError;
use rustrade_backtest::data::{CandleCsv, CsvFormat, CsvOptions, merge};
use rustrade_core::{MarketEvent, Symbol, Timestamp};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn opts() -> CsvOptions {
    CsvOptions::new(Symbol::new("SPY").unwrap())
}

fn load(name: &str, options: CsvOptions) -> Result<Vec<MarketEvent>, DataError> {
    CandleCsv::open(sample(name), options)?.collect()
}

fn load_text(text: &str, options: CsvOptions) -> Result<Vec<MarketEvent>, DataError> {
    CandleCsv::from_reader(text.as_bytes(), "inline.csv", options)?.collect()
}

fn day(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(&format!("{s}T00:00:00Z")).unwrap()
}

#[test]
fn good_samples_load_completely() {
    for (name, rows, first, last) in [
        ("Default.csv", 502, "2017-01-03", "2018-12-31"),
        ("Bitcoin.csv", 1246, "2017-08-16", "2021-01-12"),
        ("Penny.csv", 533, "2018-12-21", "2021-02-03"),
        ("Max.csv", 502, "2019-08-30", "2021-01-12"),
        ("TooBig.csv", 1246, "2017-08-16", "2021-01-12"),
        ("SPX.csv", 8111, "1990-01-02", "2022-03-10"),
    ] {
        let events = load(name, opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(events.len(), rows, "{name}");
        assert_eq!(events[0].time, day(first), "{name}");
        assert_eq!(events[rows - 1].time, day(last), "{name}");
        assert!(
            events.windows(2).all(|w| w[0].time < w[1].time),
            "{name} ordered"
        );
    }
}

#[test]
fn values_are_read_exactly() {
    let events = load("Default.csv", opts()).unwrap();
    let c = events[0].as_candle().unwrap();
    assert_eq!(
        (
            c.open().get(),
            c.high().get(),
            c.low().get(),
            c.close().get(),
            c.volume().get()
        ),
        (212.61, 213.35, 211.52, 212.8, 96_708_880.0)
    );
    assert_eq!(events[0].symbol, "SPY");
    assert_eq!(events[0].venue, "backtest");
    let big = load("TooBig.csv", opts()).unwrap();
    assert_eq!(
        big[0].as_candle().unwrap().open().get(),
        42_667_410_863_718.766
    );
    let spx = load("SPX.csv", opts()).unwrap();
    assert_eq!(spx[0].as_candle().unwrap().volume().get(), 0.0);
}

#[test]
fn intraday_datetimes_load() {
    let events = load("Intraday.csv", opts()).unwrap();
    assert_eq!(events.len(), 1564);
    assert_eq!(
        events[0].time,
        Timestamp::parse_rfc3339("2020-12-15T09:30:00Z").unwrap()
    );
    assert_eq!(
        events[1563].time,
        Timestamp::parse_rfc3339("2020-12-18T16:00:00Z").unwrap()
    );
    assert_eq!(events[1].time.as_secs() - events[0].time.as_secs(), 60);
}

#[test]
fn bar_interval_moves_event_time_to_the_close() {
    let o = opts().bar_interval(Duration::from_secs(60)).unwrap();
    let events = load("Intraday.csv", o).unwrap();
    assert_eq!(
        events[0].time,
        Timestamp::parse_rfc3339("2020-12-15T09:31:00Z").unwrap()
    );
    assert_eq!(
        events[0].as_candle().unwrap().open_time(),
        Timestamp::parse_rfc3339("2020-12-15T09:30:00Z").unwrap()
    );
    let e = opts().bar_interval(Duration::ZERO).unwrap_err();
    assert!(e.to_string().contains("bar_interval"), "{e}");
}

#[test]
fn bad_csv_fails_at_the_first_bad_row_naming_file_line_column_value() {
    let mut it = CandleCsv::open(sample("Bad.csv"), opts()).unwrap();
    let good = it.by_ref().take_while(Result::is_ok).count();
    assert_eq!(
        good, 200,
        "rows 1..=200 are valid (normal, flat, tiny, big)"
    );
    let err = load("Bad.csv", opts()).unwrap_err();
    match &err {
        DataError::BadValue {
            file,
            line,
            column,
            value,
            reason,
        } => {
            assert!(file.ends_with("Bad.csv"), "{file}");
            assert_eq!(*line, 202);
            assert_eq!(column, "date");
            assert_eq!(value, "");
            assert_eq!(reason, "empty time");
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("Bad.csv:202: column \"date\" value \"\": empty time"),
        "{text}"
    );
    assert_eq!(err.line(), Some(202));
}

#[test]
fn the_stream_ends_after_an_error() {
    let mut it = CandleCsv::open(sample("Bad.csv"), opts()).unwrap();
    let errors = it.by_ref().filter(Result::is_err).count();
    assert_eq!(errors, 1);
    assert!(it.next().is_none());
}

#[test]
fn mismatch_is_out_of_order_unless_sorting_is_opted_in() {
    let err = load("Mismatch.csv", opts()).unwrap_err();
    match &err {
        DataError::OutOfOrder {
            line,
            time,
            previous,
            previous_line,
            ..
        } => {
            assert_eq!((*line, *previous_line), (21, 20));
            assert_eq!(*time, day("2016-01-18"));
            assert_eq!(*previous, day("2017-01-31"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("opt into sorting"), "{err}");
    let sorted = load("Mismatch.csv", opts().sort_by_time(true)).unwrap();
    assert_eq!(sorted.len(), 502);
    assert!(sorted.windows(2).all(|w| w[0].time < w[1].time));
}

#[test]
fn duplicates_are_refused_even_when_sorting() {
    let text = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,1\n2024-01-03,1,2,0.5,1.5,1\n2024-01-02,1,2,0.5,1.5,1\n";
    let err = load_text(text, opts().sort_by_time(true)).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Duplicate {
                line: 4,
                first_line: 2,
                ..
            }
        ),
        "{err:?}"
    );
    let text =
        "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,1\n2024-01-02,1,2,0.5,1.5,1\n";
    let err = load_text(text, opts()).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::Duplicate {
                line: 3,
                first_line: 2,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn header_is_case_insensitive_and_extra_columns_are_ignored() {
    let text = "Idx,Close,VOLUME,Open,Low,High,Timestamp,note\n0,10.5,7,10,9,11,1700000000000,x\n";
    let events = load_text(text, opts()).unwrap();
    let c = events[0].as_candle().unwrap();
    assert_eq!(
        (
            c.open().get(),
            c.high().get(),
            c.low().get(),
            c.close().get()
        ),
        (10.0, 11.0, 9.0, 10.5)
    );
    assert_eq!(c.volume().get(), 7.0);
    assert_eq!(events[0].time, Timestamp::from_secs(1_700_000_000).unwrap());
}

#[test]
fn volume_column_is_optional() {
    let text = "time,open,high,low,close\n2024-01-02T10:00:00Z,1,2,0.5,1.5\n";
    let events = load_text(text, opts()).unwrap();
    assert_eq!(events[0].as_candle().unwrap().volume().get(), 0.0);
}

#[test]
fn epoch_units_are_detected_per_row() {
    let t = Timestamp::from_secs(1_700_000_000).unwrap();
    for stamp in [
        "1700000000",
        "1700000000000",
        "1700000000000000",
        "1700000000000000000",
    ] {
        let text = format!("{stamp},1,2,0.5,1.5,3\n");
        let events = load_text(&text, opts()).unwrap();
        assert_eq!(events[0].time, t, "{stamp}");
    }
}

#[test]
fn rfc3339_with_offsets_loads() {
    let text = "datetime,open,high,low,close,volume\n2024-01-02T10:00:00+02:00,1,2,0.5,1.5,1\n2024-01-02T09:00:00.5Z,1,2,0.5,1.5,1\n";
    let events = load_text(text, opts()).unwrap();
    assert_eq!(
        events[0].time,
        Timestamp::parse_rfc3339("2024-01-02T08:00:00Z").unwrap()
    );
    assert_eq!(
        events[1].time.as_nanos() - events[0].time.as_nanos(),
        3_600_500_000_000
    );
}

#[test]
fn binance_dump_in_ms_and_us() {
    let ms = "1700000000000,100.0,101.0,99.0,100.5,12.5,1700000059999,1250.0,42,6.0,600.0,0\n\
              1700000060000,100.5,102.0,100.0,101.5,10.0,1700000119999,1010.0,40,5.0,500.0,0\n";
    let events = load_text(ms, opts()).unwrap();
    assert_eq!(events.len(), 2);
    let open = Timestamp::from_millis(1_700_000_000_000).unwrap();
    assert_eq!(events[0].as_candle().unwrap().open_time(), open);
    assert_eq!(
        events[0].time,
        Timestamp::from_millis(1_700_000_060_000).unwrap(),
        "bar close"
    );
    let us = "1735689600000000,1.0,2.0,0.5,1.5,3.0,1735689659999999,4.5,7,1.0,1.5,0\n";
    let events = load_text(us, opts().format(CsvFormat::BinanceKlines)).unwrap();
    assert_eq!(
        events[0].as_candle().unwrap().open_time(),
        Timestamp::from_micros(1_735_689_600_000_000).unwrap()
    );
    assert_eq!(
        events[0].time,
        Timestamp::from_micros(1_735_689_660_000_000).unwrap()
    );
    let with_header = format!(
        "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n{ms}"
    );
    let events = load_text(&with_header, opts().format(CsvFormat::BinanceKlines)).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1].time,
        Timestamp::from_millis(1_700_000_120_000).unwrap()
    );
}

#[test]
fn bad_values_name_their_column() {
    let cases = [
        (
            "2024-01-02,abc,2,0.5,1.5,1\n",
            "open",
            "abc",
            "not a number",
        ),
        (
            "2024-01-02,1,2,0.5,NaN,1\n",
            "close",
            "NaN",
            "not a finite number",
        ),
        ("2024-01-02,1,2,0,1.5,1\n", "low", "0", "price must be > 0"),
        (
            "2024-01-02,1,2,0.5,1.5,-1\n",
            "volume",
            "-1",
            "volume: must be >= 0 (got -1)",
        ),
        (
            "2024-01-02,1,1.2,0.5,1.5,1\n",
            "high",
            "1.2",
            "high 1.2 is below max(open 1, close 1.5)",
        ),
        (
            "2024-02-30,1,2,0.5,1.5,1\n",
            "time",
            "2024-02-30",
            "no such calendar day",
        ),
    ];
    for (row, column, value, reason) in cases {
        match load_text(row, opts()).unwrap_err() {
            DataError::BadValue {
                line,
                column: c,
                value: v,
                reason: r,
                ..
            } => {
                assert_eq!((line, c.as_str(), v.as_str()), (1, column, value), "{row}");
                assert!(r.contains(reason), "{r} vs {reason}");
            }
            other => panic!("{row}: unexpected {other:?}"),
        }
    }
}

#[test]
fn structural_errors() {
    let e = load_text("", opts()).unwrap_err();
    assert!(matches!(e, DataError::Empty { .. }), "{e:?}");
    let e = load_text("date,open,high,close\n", opts()).unwrap_err();
    assert!(
        matches!(e, DataError::MissingColumn { column: "low", .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("no low column"), "{e}");
    let e = load_text("1,2,3\n", opts()).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::FieldCount {
                expected: 6,
                found: 3,
                ..
            }
        ),
        "{e:?}"
    );
    let e = load_text("date,open,high,low,close,volume\n2024-01-02,1,2\n", opts()).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::FieldCount {
                line: 2,
                expected: 6,
                found: 3,
                ..
            }
        ),
        "{e:?}"
    );
    let e = CandleCsv::open(sample("missing.csv"), opts())
        .err()
        .unwrap();
    assert!(matches!(e, DataError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.csv"), "{e}");
}

#[test]
fn merge_interleaves_files_by_time_then_symbol() {
    let a = CandleCsv::open(
        sample("Default.csv"),
        CsvOptions::new(Symbol::new("B").unwrap()),
    )
    .unwrap();
    let b = CandleCsv::open(
        sample("Default.csv"),
        CsvOptions::new(Symbol::new("A").unwrap()),
    )
    .unwrap();
    let merged: Vec<_> = merge(vec![a, b]).collect::<Result<_, _>>().unwrap();
    assert_eq!(merged.len(), 1004);
    assert!(
        merged
            .windows(2)
            .all(|w| (w[0].time, w[0].symbol) < (w[1].time, w[1].symbol))
    );
    assert_eq!(
        (merged[0].symbol.as_str(), merged[1].symbol.as_str()),
        ("A", "B")
    );
}

#[test]
fn merge_of_daily_and_intraday_is_ordered() {
    let d = CandleCsv::open(
        sample("SPX.csv"),
        CsvOptions::new(Symbol::new("SPX").unwrap()),
    )
    .unwrap();
    let i = CandleCsv::open(
        sample("Intraday.csv"),
        CsvOptions::new(Symbol::new("SPY").unwrap()),
    )
    .unwrap();
    let merged: Vec<_> = merge(vec![d, i]).collect::<Result<_, _>>().unwrap();
    assert_eq!(merged.len(), 8111 + 1564);
    assert!(merged.windows(2).all(|w| w[0].time <= w[1].time));
}

#[test]
fn merge_stops_at_a_source_error() {
    let good = CandleCsv::open(sample("Default.csv"), opts()).unwrap();
    let bad = CandleCsv::open(
        sample("Bad.csv"),
        CsvOptions::new(Symbol::new("BAD").unwrap()),
    )
    .unwrap();
    let mut m = merge(vec![good, bad]);
    let err = m.by_ref().find_map(Result::err).unwrap();
    assert_eq!(err.line(), Some(202));
    assert!(m.next().is_none());
}

#[test]
fn merge_refuses_a_source_that_goes_back_in_time() {
    let mut events: Vec<MarketEvent> = CandleCsv::open(sample("Default.csv"), opts())
        .unwrap()
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();
    events.swap(1, 2);
    let err = merge(vec![events.into_iter().map(Ok)])
        .find_map(Result::err)
        .unwrap();
    assert!(
        matches!(
            err,
            DataError::SourceOutOfOrder {
                source_index: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("merge source #0 (SPY)"),
        "{err}"
    );
}

#[test]
fn spaces_around_fields_are_ignored() {
    let text = " Date , Open ,High,Low , Close,Volume \n 2024-01-02 , 1 , 2 ,0.5, 1.5 ,7\n2024-01-03,1,2,0.5,x ,7\n";
    let mut it = CandleCsv::from_reader(text.as_bytes(), "spaces.csv", opts()).unwrap();
    let c = *it.next().unwrap().unwrap().as_candle().unwrap();
    assert_eq!(
        (c.open().get(), c.close().get(), c.volume().get()),
        (1.0, 1.5, 7.0)
    );
    match it.next().unwrap().unwrap_err() {
        DataError::BadValue {
            column,
            value,
            line,
            ..
        } => {
            assert_eq!((column.as_str(), value.as_str(), line), ("Close", "x", 3));
        }
        other => panic!("unexpected {other:?}"),
    }
}

/// `(line, column, value, reason)` of a `BadValue` error, failing the test on any other error.
fn bad_value(text: &str) -> (u64, String, String, String) {
    match load_text(text, opts()).unwrap_err() {
        DataError::BadValue {
            file,
            line,
            column,
            value,
            reason,
        } => {
            assert_eq!(file, "inline.csv", "{text}");
            (line, column, value, reason)
        }
        other => panic!("{text}: unexpected {other:?}"),
    }
}

#[test]
fn a_bad_number_in_each_column_is_named_with_file_line_and_value() {
    let header = "date,open,high,low,close,volume\n";
    let good = ["2024-01-02", "1", "2", "0.5", "1.5", "7"];
    let names = ["date", "open", "high", "low", "close", "volume"];
    for column in 1..good.len() {
        for (value, reason) in [
            ("1.2.3", "not a number"),
            ("12x", "not a number"),
            ("1e", "not a number"),
            ("--1", "not a number"),
            ("0x10", "not a number"),
            ("١", "not a number"),
            ("", "empty value"),
        ] {
            let mut row = good;
            row[column] = value;
            let text = format!("{header}2024-01-01,1,2,0.5,1.5,7\n{}\n", row.join(","));
            let (line, c, v, r) = bad_value(&text);
            assert_eq!((line, c.as_str(), v.as_str()), (3, names[column], value));
            assert_eq!(r, reason, "{text}");
        }
    }
}

#[test]
fn a_nan_or_infinite_price_is_refused() {
    for (column, name) in [
        (1, "open"),
        (2, "high"),
        (3, "low"),
        (4, "close"),
        (5, "volume"),
    ] {
        for value in ["NaN", "nan", "-nan", "inf", "-Infinity", "1e400"] {
            let mut row = ["2024-01-02", "1", "2", "0.5", "1.5", "7"];
            row[column] = value;
            let (line, c, v, r) = bad_value(&format!("{}\n", row.join(",")));
            assert_eq!((line, c.as_str(), v.as_str()), (1, name, value));
            assert_eq!(r, "not a finite number", "{value} in {name}");
        }
    }
}

#[test]
fn numbers_in_every_notation_read_as_str_parse_reads_them() {
    let cases = [
        "1",
        "+1",
        "1.",
        ".5",
        "1e2",
        "1E-2",
        "1.5e+3",
        "0.1",
        "100.12345678901234",
        "1e-7",
        "5e-324",
        "1.7976931348623157e308",
        "00012.50",
    ];
    for text in cases {
        let expected: f64 = text.parse().unwrap();
        let row = format!("2024-01-02,{text},{text},{text},{text},{text}\n");
        let events = load_text(&row, opts()).unwrap();
        let c = events[0].as_candle().unwrap();
        let read = [c.open(), c.high(), c.low(), c.close()].map(|p| p.get().to_bits());
        assert_eq!(read, [expected.to_bits(); 4], "{text}");
        assert_eq!(c.volume().get().to_bits(), expected.to_bits(), "{text}");
    }
}

#[test]
fn a_truncated_file_fails_at_its_last_line() {
    let first = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,7\n";
    // Cut inside the last row: after the date, inside a number, before the volume.
    for last in ["2024-01-03", "2024-01-03,1,2,0.", "2024-01-03,1,2,0.5,1.5"] {
        let text = format!("{first}{last}");
        let mut it = CandleCsv::from_reader(text.as_bytes(), "cut.csv", opts()).unwrap();
        assert!(it.next().unwrap().is_ok(), "the complete first row loads");
        match it.next().unwrap().unwrap_err() {
            DataError::FieldCount {
                file,
                line,
                expected,
                found,
            } => {
                assert_eq!(
                    (file.as_str(), line, expected),
                    ("cut.csv", 3, 6),
                    "{text:?}"
                );
                assert!(found < 6, "{text:?}");
            }
            other => panic!("{text:?}: unexpected {other:?}"),
        }
        assert!(it.next().is_none(), "the stream ends after the error");
    }
    // Cut inside a quoted field: the CSV layer's error, with the file named.
    let text = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,7\n\"2024-01-03,1,2";
    let mut it = CandleCsv::from_reader(text.as_bytes(), "quoted.csv", opts()).unwrap();
    assert!(it.next().unwrap().is_ok());
    let e = it.next().unwrap().unwrap_err();
    assert!(e.to_string().contains("quoted.csv"), "{e}");
}

#[test]
fn a_truncated_binance_dump_names_the_missing_close_time() {
    let row = "1700000000000,1,2,0.5,1.5,7,1700000059999,10,5,3,4,0\n";
    let text = format!("{row}1700000060000,1,2,0.5,1.5,7,17000001");
    let events: Vec<_> = CandleCsv::from_reader(text.as_bytes(), "dump.csv", opts())
        .unwrap()
        .collect();
    assert!(events[0].is_ok());
    match events[1].as_ref().unwrap_err() {
        DataError::BadValue {
            line,
            column,
            value,
            reason,
            ..
        } => {
            assert_eq!(
                (*line, column.as_str(), value.as_str()),
                (2, "close_time", "17000001")
            );
            assert_eq!(reason, "close time is not after the open time");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn quoted_fields_crlf_and_a_byte_order_mark_load_like_plain_rows() {
    let plain =
        "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,7\n2024-01-03,1.5,3,1,2,8\n";
    let fancy = "\u{feff}\"date\",open,high,low,close,volume\r\n\r\n\
                 \"2024-01-02\",\"1\",2,0.5,1.5,7\r\n2024-01-03,1.5,\"3\",1,2,8";
    let expected = load_text(plain, opts()).unwrap();
    assert_eq!(load_text(fancy, opts()).unwrap(), expected);
}

#[test]
fn lines_count_blank_lines_and_newlines_inside_quotes() {
    // Line 1 header, 2 a row, 3 blank, 4-5 a quoted field over two lines, 6 the bad row.
    let text = "date,open,high,low,close,volume,note\n\
                2024-01-02,1,2,0.5,1.5,7,a\n\
                \n\
                2024-01-03,1,2,0.5,1.5,7,\"two\nlines\"\n\
                2024-01-04,1,2,0.5,x,7,b\n";
    let (line, column, value, _) = bad_value(text);
    assert_eq!((line, column.as_str(), value.as_str()), (6, "close", "x"));
    // The same with CRLF line ends.
    let (line, ..) = bad_value(&text.replace('\n', "\r\n"));
    assert_eq!(line, 6);
}

#[test]
fn a_quoted_value_is_named_unquoted_in_its_error() {
    let text = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,\"1,5\",7\n";
    let (line, column, value, reason) = bad_value(text);
    assert_eq!(
        (line, column.as_str(), value.as_str(), reason.as_str()),
        (2, "close", "1,5", "not a number")
    );
}

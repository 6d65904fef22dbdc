//! The Parquet reader against files written here with the parquet crate's own writer: the shipped
//! `Bitcoin.csv` converted to every supported column encoding loads candle for candle like the
//! CSV loader; every bad value, schema and file fails with the precise error; memory does not
//! grow with the file.
#![cfg(feature = "parquet")]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parquet::basic::Compression;
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DataType, DoubleType, FloatType, Int32Type, Int64Type,
    Int96, Int96Type,
};
use parquet::file::metadata::ParquetMetaDataWriter;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::parser::parse_message_type;
use rustrade_backtest::DataError;
use rustrade_backtest::data::{
    BATCH_ROWS, CandleCsv, CsvOptions, ParquetCandles, ParquetOptions, ReadAhead,
};
use rustrade_core::{Candle, MarketEvent, Symbol, Timestamp};
use rustrade_testalloc::{Counting, live_bytes, peak_bytes, reset_peak};

// ---------------------------------------------------------------------------------------------
// Writing test files.

/// One column's values in one row group; `None` is a null (the column must be optional).
enum Data {
    Bool(Vec<Option<bool>>),
    I32(Vec<Option<i32>>),
    I64(Vec<Option<i64>>),
    I96(Vec<Option<Int96>>),
    F32(Vec<Option<f32>>),
    F64(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

fn all<T>(values: impl IntoIterator<Item = T>) -> Vec<Option<T>> {
    values.into_iter().map(Some).collect()
}

/// Writes `groups` (each a list of columns in schema order) as one row group each.
fn write_parquet(path: &Path, schema: &str, groups: &[Vec<Data>], compression: Compression) {
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(compression)
            .set_data_page_row_count_limit(300)
            .build(),
    );
    let mut writer = SerializedFileWriter::new(File::create(path).unwrap(), schema, props).unwrap();
    for group in groups {
        let mut rg = writer.next_row_group().unwrap();
        for data in group {
            let mut col = rg
                .next_column()
                .unwrap()
                .expect("as many columns as the schema");
            match data {
                Data::Bool(v) => write_column::<BoolType>(&mut col, v),
                Data::I32(v) => write_column::<Int32Type>(&mut col, v),
                Data::I64(v) => write_column::<Int64Type>(&mut col, v),
                Data::I96(v) => write_column::<Int96Type>(&mut col, v),
                Data::F32(v) => write_column::<FloatType>(&mut col, v),
                Data::F64(v) => write_column::<DoubleType>(&mut col, v),
                Data::Text(v) => {
                    let bytes: Vec<Option<ByteArray>> = v
                        .iter()
                        .map(|s| s.as_ref().map(|s| ByteArray::from(s.as_bytes())))
                        .collect();
                    write_column::<ByteArrayType>(&mut col, &bytes);
                }
            }
            col.close().unwrap();
        }
        assert!(
            rg.next_column().unwrap().is_none(),
            "a column per schema column"
        );
        rg.close().unwrap();
    }
    writer.close().unwrap();
}

fn write_column<T: DataType>(col: &mut SerializedColumnWriter<'_>, values: &[Option<T::T>])
where
    T::T: Clone,
{
    let w = col.typed::<T>();
    let present: Vec<T::T> = values.iter().flatten().cloned().collect();
    if w.get_descriptor().max_def_level() > 0 {
        let levels: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
        w.write_batch(&present, Some(&levels), None).unwrap();
    } else {
        assert_eq!(present.len(), values.len(), "nulls need an optional column");
        w.write_batch(&present, None, None).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The reference: Bitcoin.csv through the CSV loader.

fn symbol() -> Symbol {
    Symbol::new("BTCUSD").unwrap()
}

fn csv_events() -> Vec<MarketEvent> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/Bitcoin.csv");
    CandleCsv::open(path, CsvOptions::new(symbol()))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn candles(events: &[MarketEvent]) -> Vec<Candle> {
    events.iter().map(|e| *e.as_candle().unwrap()).collect()
}

/// How the time column of a converted file is stored.
#[derive(Debug, Clone, Copy)]
enum TimeAs {
    Date,
    Millis,
    Micros,
    NanosLocal,
    EpochSecs,
    EpochMillis,
    Int96,
    Text,
    Rfc3339,
}

impl TimeAs {
    fn schema(self) -> &'static str {
        match self {
            Self::Date => "REQUIRED INT32 date (DATE);",
            Self::Millis => "REQUIRED INT64 open_time (TIMESTAMP(MILLIS,true));",
            Self::Micros => "REQUIRED INT64 timestamp (TIMESTAMP(MICROS,true));",
            Self::NanosLocal => "REQUIRED INT64 Time (TIMESTAMP(NANOS,false));",
            Self::EpochSecs => "REQUIRED INT64 ts;",
            Self::EpochMillis => "REQUIRED INT64 open_time;",
            Self::Int96 => "REQUIRED INT96 timestamp;",
            Self::Text => "REQUIRED BYTE_ARRAY date (STRING);",
            Self::Rfc3339 => "OPTIONAL BYTE_ARRAY datetime;",
        }
    }

    fn column(self, times: &[Timestamp]) -> Data {
        let nanos = times.iter().map(|t| t.as_nanos());
        match self {
            Self::Date => Data::I32(all(
                nanos.map(|n| i32::try_from(n / 86_400_000_000_000).unwrap())
            )),
            Self::Millis | Self::EpochMillis => Data::I64(all(nanos.map(|n| n / 1_000_000))),
            Self::Micros => Data::I64(all(nanos.map(|n| n / 1_000))),
            Self::NanosLocal => Data::I64(all(nanos)),
            Self::EpochSecs => Data::I64(all(nanos.map(|n| n / 1_000_000_000))),
            Self::Int96 => Data::I96(all(nanos.map(|n| {
                let day = n.div_euclid(86_400_000_000_000) + 2_440_588;
                let of_day = n.rem_euclid(86_400_000_000_000);
                let words = vec![of_day as u32, (of_day >> 32) as u32, day as u32];
                Int96::from(words)
            }))),
            Self::Text => Data::Text(all(times
                .iter()
                .map(|t| t.to_datetime().format("%Y-%m-%d").to_string()))),
            Self::Rfc3339 => Data::Text(all(times.iter().map(|t| t.to_rfc3339()))),
        }
    }
}

/// Writes `bars` as an OHLCV file with an extra leading `index` column, `rows_per_group` rows
/// per row group.
fn write_bars(
    path: &Path,
    bars: &[Candle],
    time: TimeAs,
    rows_per_group: usize,
    compression: Compression,
) {
    let schema = format!(
        "message candles {{ REQUIRED INT64 index; {} REQUIRED DOUBLE open; REQUIRED DOUBLE high; \
         REQUIRED DOUBLE low; REQUIRED DOUBLE close; OPTIONAL DOUBLE volume; }}",
        time.schema()
    );
    let groups: Vec<Vec<Data>> = bars
        .chunks(rows_per_group)
        .enumerate()
        .map(|(g, chunk)| {
            let times: Vec<Timestamp> = chunk.iter().map(Candle::open_time).collect();
            let first = g * rows_per_group;
            vec![
                Data::I64(all(
                    (first..first + chunk.len()).map(|i| i64::try_from(i).unwrap())
                )),
                time.column(&times),
                Data::F64(all(chunk.iter().map(|c| c.open().get()))),
                Data::F64(all(chunk.iter().map(|c| c.high().get()))),
                Data::F64(all(chunk.iter().map(|c| c.low().get()))),
                Data::F64(all(chunk.iter().map(|c| c.close().get()))),
                Data::F64(all(chunk.iter().map(|c| c.volume().get()))),
            ]
        })
        .collect();
    write_parquet(path, &schema, &groups, compression);
}

fn opts() -> ParquetOptions {
    ParquetOptions::new(symbol())
}

fn load(path: &Path, options: ParquetOptions) -> Result<Vec<MarketEvent>, DataError> {
    ParquetCandles::open(path, options)?.collect()
}

/// A hand-written row: day number since the epoch, open, high, low, close, volume.
type Row = (i32, f64, f64, f64, f64, f64);

/// A small hand-made file: `date` as DATE, then open/high/low/close/volume doubles, one row
/// group per slice of rows.
fn write_rows(path: &Path, groups: &[&[Row]]) {
    let schema = "message m { REQUIRED INT32 date (DATE); REQUIRED DOUBLE open; \
                  REQUIRED DOUBLE high; REQUIRED DOUBLE low; REQUIRED DOUBLE close; \
                  REQUIRED DOUBLE volume; }";
    let groups: Vec<Vec<Data>> = groups
        .iter()
        .map(|rows| {
            vec![
                Data::I32(all(rows.iter().map(|r| r.0))),
                Data::F64(all(rows.iter().map(|r| r.1))),
                Data::F64(all(rows.iter().map(|r| r.2))),
                Data::F64(all(rows.iter().map(|r| r.3))),
                Data::F64(all(rows.iter().map(|r| r.4))),
                Data::F64(all(rows.iter().map(|r| r.5))),
            ]
        })
        .collect();
    write_parquet(path, schema, &groups, Compression::UNCOMPRESSED);
}

fn day(d: i32) -> Timestamp {
    Timestamp::from_secs(i64::from(d) * 86_400).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Round trips.

#[test]
fn bitcoin_converted_to_parquet_loads_candle_for_candle_like_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let reference = csv_events();
    assert_eq!(reference.len(), 1246);
    let bars = candles(&reference);
    // 100-row groups (13 of them, the last partial) and one group larger than a decode batch.
    for (rows_per_group, compression) in [
        (100, Compression::UNCOMPRESSED),
        (1246, Compression::SNAPPY),
    ] {
        let path = dir.path().join(format!("btc-{rows_per_group}.parquet"));
        write_bars(&path, &bars, TimeAs::Date, rows_per_group, compression);
        let reader = ParquetCandles::open(&path, opts()).unwrap();
        assert_eq!(reader.rows(), 1246);
        assert_eq!(reader.row_groups(), 1246usize.div_ceil(rows_per_group));
        let events: Vec<MarketEvent> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(events, reference, "{rows_per_group} rows per group");
    }
}

#[test]
fn every_time_encoding_gives_the_same_candles() {
    let dir = tempfile::tempdir().unwrap();
    let reference = csv_events();
    let bars = candles(&reference);
    for time in [
        TimeAs::Date,
        TimeAs::Millis,
        TimeAs::Micros,
        TimeAs::NanosLocal,
        TimeAs::EpochSecs,
        TimeAs::EpochMillis,
        TimeAs::Int96,
        TimeAs::Text,
        TimeAs::Rfc3339,
    ] {
        let path = dir.path().join(format!("{time:?}.parquet"));
        write_bars(&path, &bars, time, 500, Compression::UNCOMPRESSED);
        let events = load(&path, opts()).unwrap_or_else(|e| panic!("{time:?}: {e}"));
        assert_eq!(events, reference, "{time:?}");
    }
}

#[test]
fn decimal_integer_and_float_prices_read_as_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let reference = csv_events();
    let bars = candles(&reference);
    // Prices as DECIMAL(18, 2) in INT64, volume as DECIMAL(18, 6): Bitcoin.csv has 2 and 6
    // decimals, and an exact integer divided by a power of ten rounds like the CSV text.
    let cents = |p: f64| (p * 100.0).round() as i64;
    let micros = |v: f64| (v * 1e6).round() as i64;
    let schema = "message m { REQUIRED INT32 Date (DATE); REQUIRED INT64 Open (DECIMAL(18,2)); \
                  REQUIRED INT64 HIGH (DECIMAL(18,2)); REQUIRED INT64 low (DECIMAL(18,2)); \
                  REQUIRED INT64 Close (DECIMAL(18,2)); REQUIRED INT64 Volume (DECIMAL(18,6)); }";
    let times: Vec<Timestamp> = bars.iter().map(Candle::open_time).collect();
    let group = vec![
        TimeAs::Date.column(&times),
        Data::I64(all(bars.iter().map(|c| cents(c.open().get())))),
        Data::I64(all(bars.iter().map(|c| cents(c.high().get())))),
        Data::I64(all(bars.iter().map(|c| cents(c.low().get())))),
        Data::I64(all(bars.iter().map(|c| cents(c.close().get())))),
        Data::I64(all(bars.iter().map(|c| micros(c.volume().get())))),
    ];
    let path = dir.path().join("decimal.parquet");
    write_parquet(&path, schema, &[group], Compression::SNAPPY);
    assert_eq!(load(&path, opts()).unwrap(), reference);

    // FLOAT and plain INT32 columns, no volume column (volume 0).
    let schema = "message m { REQUIRED INT64 ts; REQUIRED FLOAT open; REQUIRED INT32 high; \
                  REQUIRED FLOAT low; REQUIRED DOUBLE close; }";
    let group = vec![
        Data::I64(all([1_700_000_000_000, 1_700_000_060_000])),
        Data::F32(all([10.5, 11.25])),
        Data::I32(all([12, 13])),
        Data::F32(all([9.75, 10.0])),
        Data::F64(all([11.25, 12.5])),
    ];
    let path = dir.path().join("mixed.parquet");
    write_parquet(&path, schema, &[group], Compression::UNCOMPRESSED);
    let events = load(&path, opts()).unwrap();
    let c = events[1].as_candle().unwrap();
    assert_eq!(
        (
            c.open().get(),
            c.high().get(),
            c.low().get(),
            c.close().get(),
            c.volume().get()
        ),
        (11.25, 13.0, 10.0, 12.5, 0.0)
    );
    assert_eq!(
        events[1].time,
        Timestamp::from_millis(1_700_000_060_000).unwrap()
    );
}

#[test]
fn options_venue_and_bar_interval_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.parquet");
    write_rows(
        &path,
        &[&[
            (0, 10.0, 11.0, 9.0, 10.5, 1.0),
            (1, 10.5, 12.0, 10.0, 11.0, 2.0),
        ]],
    );
    let venue = rustrade_core::Venue::new("binance").unwrap();
    let options = opts()
        .venue(venue)
        .bar_interval(Duration::from_secs(86_400))
        .unwrap();
    let events = load(&path, options).unwrap();
    assert_eq!(events[0].time, day(1), "event time is the bar's close");
    assert_eq!(events[0].as_candle().unwrap().open_time(), day(0));
    assert_eq!(events[1].venue, "binance");
    assert_eq!(events[1].symbol, "BTCUSD");
    assert!(opts().bar_interval(Duration::ZERO).is_err());
}

// ---------------------------------------------------------------------------------------------
// Bad values: file, row group, row, column and value.

/// Loads a file whose second row group's second row (row 3 of the file) is `bad`.
fn load_with_bad_row(bad: Row) -> (String, DataError) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.parquet");
    write_rows(
        &path,
        &[
            &[
                (0, 10.0, 11.0, 9.0, 10.5, 1.0),
                (1, 10.5, 12.0, 10.0, 11.0, 2.0),
            ],
            &[
                (2, 11.0, 12.0, 10.0, 11.5, 3.0),
                bad,
                (9, 11.0, 12.0, 10.0, 11.5, 3.0),
            ],
        ],
    );
    let mut reader = ParquetCandles::open(&path, opts()).unwrap();
    for _ in 0..3 {
        reader.next().unwrap().unwrap();
    }
    let err = reader.next().unwrap().unwrap_err();
    assert!(reader.next().is_none(), "the stream ends after an error");
    (path.display().to_string(), err)
}

fn assert_bad_value(err: &DataError, file: &str, column: &str, value: &str, reason: &str) {
    match err {
        DataError::ParquetValue {
            file: f,
            row_group,
            row,
            column: c,
            value: v,
            reason: r,
        } => {
            assert_eq!(
                (f.as_str(), *row_group, *row, c.as_str(), v.as_str()),
                (file, 1, 3, column, value),
                "{err}"
            );
            assert!(r.contains(reason), "{r:?} should contain {reason:?}");
        }
        other => panic!("expected ParquetValue, got {other:?}"),
    }
    assert_eq!(err.row(), Some((1, 3)));
}

#[test]
fn nan_close_names_file_row_group_row_column_and_value() {
    let (file, err) = load_with_bad_row((3, 11.0, 12.0, 10.0, f64::NAN, 3.0));
    assert_bad_value(&err, &file, "close", "NaN", "not a finite number");
    assert_eq!(
        err.to_string(),
        format!("{file}: row group 1, row 3: column \"close\" value NaN: not a finite number")
    );
}

#[test]
fn high_below_low_and_other_candle_refusals_name_their_column() {
    let (file, err) = load_with_bad_row((3, 11.0, 9.0, 12.0, 11.0, 3.0));
    assert_bad_value(&err, &file, "high", "9", "below");
    let (file, err) = load_with_bad_row((3, 11.0, 12.0, 10.0, 11.5, -3.0));
    assert_bad_value(&err, &file, "volume", "-3", ">= 0");
    let (file, err) = load_with_bad_row((3, 0.0, 12.0, 10.0, 11.5, 3.0));
    assert_bad_value(&err, &file, "open", "0", "price must be > 0");
    let (file, err) = load_with_bad_row((3, 11.0, f64::INFINITY, 10.0, 11.5, 3.0));
    assert_bad_value(&err, &file, "high", "inf", "not a finite number");
}

#[test]
fn nulls_and_unreadable_times_are_refused_with_their_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nulls.parquet");
    let schema = "message m { OPTIONAL BYTE_ARRAY date (STRING); REQUIRED DOUBLE open; \
                  REQUIRED DOUBLE high; REQUIRED DOUBLE low; OPTIONAL DOUBLE close; }";
    let text = |s: &str| Some(s.to_owned());
    let group = |dates: Vec<Option<String>>, closes: Vec<Option<f64>>| {
        let n = dates.len();
        vec![
            Data::Text(dates),
            Data::F64(vec![Some(10.0); n]),
            Data::F64(vec![Some(11.0); n]),
            Data::F64(vec![Some(9.0); n]),
            Data::F64(closes),
        ]
    };
    write_parquet(
        &path,
        schema,
        &[group(
            vec![text("2024-01-02"), text("2024-01-03"), text("2024-01-04")],
            vec![Some(10.0), None, Some(10.0)],
        )],
        Compression::UNCOMPRESSED,
    );
    let err = load(&path, opts()).unwrap_err();
    assert!(
        matches!(&err, DataError::ParquetValue { row_group: 0, row: 1, column, value, reason, .. }
            if column == "close" && value == "null" && reason == "missing value (null)"),
        "{err:?}"
    );

    for (date, reason) in [
        (None, "missing value (null)"),
        (text("2024-02-30"), "no such calendar day"),
        (text("yesterday"), "not a date"),
    ] {
        let shown = date
            .as_ref()
            .map_or_else(|| "null".to_owned(), |d| format!("{d:?}"));
        write_parquet(
            &path,
            schema,
            &[group(
                vec![text("2024-01-02"), date],
                vec![Some(10.0), Some(10.0)],
            )],
            Compression::UNCOMPRESSED,
        );
        let err = load(&path, opts()).unwrap_err();
        match &err {
            DataError::ParquetValue {
                row_group: 0,
                row: 1,
                column,
                value,
                reason: r,
                ..
            } => {
                assert_eq!((column.as_str(), value.as_str()), ("date", shown.as_str()));
                assert!(r.starts_with(reason), "{r}");
            }
            other => panic!("{other:?}"),
        }
    }

    // A timestamp beyond what nanoseconds since the epoch can hold.
    let schema = "message m { REQUIRED INT64 time (TIMESTAMP(MILLIS,true)); REQUIRED DOUBLE open; \
                  REQUIRED DOUBLE high; REQUIRED DOUBLE low; REQUIRED DOUBLE close; }";
    let one = |v: f64| Data::F64(all([v]));
    write_parquet(
        &path,
        schema,
        &[vec![
            Data::I64(all([i64::MAX / 10])),
            one(1.0),
            one(1.0),
            one(1.0),
            one(1.0),
        ]],
        Compression::UNCOMPRESSED,
    );
    let err = load(&path, opts()).unwrap_err();
    assert!(
        matches!(&err, DataError::ParquetValue { row: 0, column, value, reason, .. }
            if column == "time" && *value == (i64::MAX / 10).to_string() && reason.contains("range")),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Schema problems, found before the first row.

#[test]
fn a_missing_column_is_named_with_the_columns_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-close.parquet");
    let schema = "message m { REQUIRED INT32 date (DATE); REQUIRED DOUBLE open; \
                  REQUIRED DOUBLE high; REQUIRED DOUBLE low; REQUIRED DOUBLE volume; }";
    let one = |v: f64| Data::F64(all([v]));
    write_parquet(
        &path,
        schema,
        &[vec![
            Data::I32(all([0])),
            one(1.0),
            one(1.0),
            one(1.0),
            one(1.0),
        ]],
        Compression::UNCOMPRESSED,
    );
    let err = ParquetCandles::open(&path, opts()).err().unwrap();
    assert!(
        matches!(&err, DataError::MissingColumn { column: "close", header, .. }
            if header == "date,open,high,low,volume"),
        "{err:?}"
    );

    let schema = "message m { REQUIRED DOUBLE open; REQUIRED DOUBLE high; \
                  REQUIRED DOUBLE low; REQUIRED DOUBLE close; }";
    write_parquet(
        &path,
        schema,
        &[vec![one(1.0), one(1.0), one(1.0), one(1.0)]],
        Compression::UNCOMPRESSED,
    );
    let err = ParquetCandles::open(&path, opts()).err().unwrap();
    assert!(
        matches!(&err, DataError::MissingColumn { column, .. } if column.starts_with("time")),
        "{err:?}"
    );
}

#[test]
fn a_column_of_the_wrong_type_is_refused_naming_the_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("types.parquet");
    let one = |v: f64| Data::F64(all([v]));
    let cases: [(&str, Data, &str, &str); 3] = [
        (
            "REQUIRED BYTE_ARRAY close (STRING);",
            Data::Text(all(["10.5".to_owned()])),
            "close",
            "BYTE_ARRAY (String)",
        ),
        (
            "REQUIRED BOOLEAN close;",
            Data::Bool(all([true])),
            "close",
            "BOOLEAN",
        ),
        (
            "REQUIRED INT64 close (TIMESTAMP(MILLIS,true));",
            Data::I64(all([1])),
            "close",
            "INT64 (Timestamp",
        ),
    ];
    for (close_schema, close, column, found_prefix) in cases {
        let schema = format!(
            "message m {{ REQUIRED INT32 date (DATE); REQUIRED DOUBLE open; REQUIRED DOUBLE high; \
             REQUIRED DOUBLE low; {close_schema} }}"
        );
        write_parquet(
            &path,
            &schema,
            &[vec![
                Data::I32(all([0])),
                one(1.0),
                one(1.0),
                one(1.0),
                close,
            ]],
            Compression::UNCOMPRESSED,
        );
        let err = ParquetCandles::open(&path, opts()).err().unwrap();
        match &err {
            DataError::ParquetColumnType {
                column: c,
                found,
                expected,
                ..
            } => {
                assert_eq!(c, column);
                assert!(found.starts_with(found_prefix), "{found}");
                assert!(expected.contains("DOUBLE"), "{expected}");
            }
            other => panic!("{close_schema}: {other:?}"),
        }
    }

    // Time columns: a double, and a time of day, are not timestamps.
    for time_schema in [
        "REQUIRED DOUBLE time;",
        "REQUIRED INT32 time (TIME(MILLIS,true));",
    ] {
        let schema = format!(
            "message m {{ {time_schema} REQUIRED DOUBLE open; REQUIRED DOUBLE high; \
             REQUIRED DOUBLE low; REQUIRED DOUBLE close; }}"
        );
        let time = if time_schema.contains("DOUBLE") {
            one(1.0)
        } else {
            Data::I32(all([1]))
        };
        write_parquet(
            &path,
            &schema,
            &[vec![time, one(1.0), one(1.0), one(1.0), one(1.0)]],
            Compression::UNCOMPRESSED,
        );
        let err = ParquetCandles::open(&path, opts()).err().unwrap();
        assert!(
            matches!(&err, DataError::ParquetColumnType { column, expected, .. }
                if column == "time" && expected.contains("timestamp")),
            "{time_schema}: {err:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Time order: the CSV loader's policy.

#[test]
fn out_of_order_and_duplicate_rows_are_refused_unless_sorting_is_opted_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("order.parquet");
    let bar = |d: i32| (d, 10.0, 11.0, 9.0, 10.5, 1.0);
    write_rows(&path, &[&[bar(0), bar(2)], &[bar(1), bar(3)]]);
    let err = load(&path, opts()).unwrap_err();
    assert!(
        matches!(&err, DataError::ParquetOutOfOrder { row_group: 1, row: 2, time, previous, previous_row: 1, .. }
            if *time == day(1) && *previous == day(2)),
        "{err:?}"
    );
    assert!(err.to_string().contains("opt into sorting"), "{err}");
    let sorted = load(&path, opts().sort_by_time(true)).unwrap();
    let times: Vec<Timestamp> = sorted.iter().map(|e| e.time).collect();
    assert_eq!(times, [day(0), day(1), day(2), day(3)]);

    write_rows(&path, &[&[bar(0), bar(1)], &[bar(1), bar(3)]]);
    for options in [opts(), opts().sort_by_time(true)] {
        let err = load(&path, options).unwrap_err();
        assert!(
            matches!(&err, DataError::ParquetDuplicate { row_group: 1, row: 2, first_row: 1, time, .. }
                if *time == day(1)),
            "{err:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Broken files: an error, never a panic.

fn bitcoin_file(dir: &Path, compression: Compression) -> PathBuf {
    let bars = candles(&csv_events());
    let path = dir.join(format!("btc-{compression}.parquet"));
    write_bars(&path, &bars[..40], TimeAs::Millis, 20, compression);
    path
}

/// Opens and drains `bytes` written to a file; `Err` if either step fails.
fn read_bytes(path: &Path, bytes: &[u8]) -> Result<usize, DataError> {
    std::fs::write(path, bytes).unwrap();
    let mut n = 0;
    for event in ParquetCandles::open(path, opts())? {
        event?;
        n += 1;
    }
    Ok(n)
}

#[test]
fn truncated_files_fail_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(bitcoin_file(dir.path(), Compression::UNCOMPRESSED)).unwrap();
    let path = dir.path().join("cut.parquet");
    assert!(matches!(
        read_bytes(&path, &[]),
        Err(DataError::Empty { .. })
    ));
    for len in (1..good.len())
        .step_by(97)
        .chain(good.len() - 8..good.len())
    {
        let err = read_bytes(&path, &good[..len]).unwrap_err();
        assert!(
            matches!(err, DataError::Parquet { .. }),
            "cut at {len}: {err:?}"
        );
        assert!(err.to_string().contains("cut.parquet"), "{err}");
    }
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/Bitcoin.csv");
    let err = ParquetCandles::open(&csv, opts()).err().unwrap();
    assert!(
        matches!(
            err,
            DataError::Parquet {
                row_group: None,
                ..
            }
        ),
        "{err:?}"
    );
    let err = ParquetCandles::open(dir.path().join("absent.parquet"), opts())
        .err()
        .unwrap();
    assert!(matches!(err, DataError::Io { .. }), "{err:?}");
}

#[test]
fn corrupt_bytes_fail_with_an_error_or_read_other_values_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    for compression in [Compression::UNCOMPRESSED, Compression::SNAPPY] {
        let good = std::fs::read(bitcoin_file(dir.path(), compression)).unwrap();
        assert_eq!(
            read_bytes(&dir.path().join("ok.parquet"), &good).unwrap(),
            40
        );
        let path = dir.path().join("corrupt.parquet");
        let mut errors = 0;
        for i in 0..good.len() {
            let mut bytes = good.clone();
            bytes[i] ^= 0x5a;
            // Either outcome is acceptable for a flipped value byte; a panic is not, nor one
            // that the reader had to contain.
            if let Err(e) = read_bytes(&path, &bytes) {
                errors += 1;
                let text = e.to_string();
                assert!(text.contains("corrupt.parquet"), "{text}");
                assert!(!text.contains("decoder failed"), "flip at {i}: {text}");
            }
        }
        assert!(errors > good.len() / 10, "{compression}: {errors} errors");
    }
}

#[test]
fn a_codec_this_build_does_not_read_is_a_clear_error() {
    // Rewrite the footer of an uncompressed file to claim LZ4_RAW column chunks.
    let dir = tempfile::tempdir().unwrap();
    let path = bitcoin_file(dir.path(), Compression::UNCOMPRESSED);
    let good = std::fs::read(&path).unwrap();
    let metadata = SerializedFileReader::new(File::open(&path).unwrap())
        .unwrap()
        .metadata()
        .clone();
    let groups = metadata
        .row_groups()
        .iter()
        .map(|rg| {
            let columns = rg
                .columns()
                .iter()
                .map(|c| {
                    c.clone()
                        .into_builder()
                        .set_compression(Compression::LZ4_RAW)
                        .build()
                        .unwrap()
                })
                .collect();
            rg.clone()
                .into_builder()
                .set_column_metadata(columns)
                .build()
                .unwrap()
        })
        .collect();
    let metadata = metadata.into_builder().set_row_groups(groups).build();
    let footer_len = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap());
    let body_len = good.len() - 8 - usize::try_from(footer_len).unwrap();
    let mut bytes = good[..body_len].to_vec();
    ParquetMetaDataWriter::new(&mut bytes, &metadata)
        .finish()
        .unwrap();
    let err = read_bytes(&dir.path().join("lz4.parquet"), &bytes).unwrap_err();
    match &err {
        DataError::Parquet {
            row_group: Some(0),
            reason,
            ..
        } => assert!(reason.contains("lz4"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Memory: independent of the file's length.

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak bytes allocated by this thread while streaming `path`, beyond what was live once the
/// file was open (its footer read).
fn peak_while_streaming(path: &Path) -> (usize, isize) {
    let reader = ParquetCandles::open(path, opts()).unwrap();
    let base = live_bytes();
    reset_peak();
    let mut n = 0;
    for event in reader {
        event.unwrap();
        n += 1;
    }
    (n, peak_bytes() - base)
}

#[test]
fn peak_memory_does_not_grow_with_the_number_of_rows() {
    let dir = tempfile::tempdir().unwrap();
    let bars = candles(&csv_events());
    let repeat = |times: usize| -> Vec<Candle> {
        (0..bars.len() * times)
            .map(|i| {
                let c = bars[i % bars.len()];
                let t = Timestamp::from_secs(i64::try_from(i).unwrap() * 60).unwrap();
                Candle::new(
                    t,
                    c.open().get(),
                    c.high().get(),
                    c.low().get(),
                    c.close().get(),
                    c.volume().get(),
                )
                .unwrap()
            })
            .collect()
    };
    let small = dir.path().join("small.parquet");
    let large = dir.path().join("large.parquet");
    write_bars(
        &small,
        &repeat(2),
        TimeAs::Micros,
        2_000,
        Compression::SNAPPY,
    );
    write_bars(
        &large,
        &repeat(40),
        TimeAs::Micros,
        2_000,
        Compression::SNAPPY,
    );
    let (small_rows, small_peak) = peak_while_streaming(&small);
    let (large_rows, large_peak) = peak_while_streaming(&large);
    assert_eq!((small_rows, large_rows), (2 * 1246, 40 * 1246));
    // 20 times the rows, the same working set: one batch and one page per column.
    assert!(
        large_peak < small_peak + 8 * 1024,
        "peak {large_peak} B for {large_rows} rows vs {small_peak} B for {small_rows} rows"
    );
}

#[test]
fn a_bad_row_inside_a_batch_or_after_the_first_batch_ends_the_stream_at_that_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inside.parquet");
    let bar = |d: i32| (d, 10.0, 11.0, 9.0, 10.5, 1.0);
    // Out of order in the middle of one row group (one batch).
    write_rows(&path, &[&[bar(0), bar(2), bar(1), bar(3)]]);
    let read: Vec<_> = ParquetCandles::open(&path, opts()).unwrap().collect();
    assert_eq!(read.len(), 3, "two rows, then the error");
    assert!(
        matches!(
            &read[2],
            Err(DataError::ParquetOutOfOrder {
                row_group: 0,
                row: 2,
                previous_row: 1,
                ..
            })
        ),
        "{:?}",
        read[2]
    );
    // A high below the open two batches into a row group.
    let bad_at = 2 * BATCH_ROWS + 5;
    let rows: Vec<Row> = (0..3 * BATCH_ROWS)
        .map(|i| {
            let d = i32::try_from(i).unwrap();
            if i == bad_at {
                (d, 10.0, 9.0, 8.0, 10.0, 1.0)
            } else {
                bar(d)
            }
        })
        .collect();
    write_rows(&path, &[&rows]);
    let read: Vec<_> = ParquetCandles::open(&path, opts()).unwrap().collect();
    assert_eq!(read.len(), bad_at + 1);
    assert!(read[..bad_at].iter().all(Result::is_ok));
    let err = read[bad_at].as_ref().unwrap_err();
    assert_eq!(err.row(), Some((0, bad_at as u64)), "{err}");
    assert!(err.to_string().contains("\"high\""), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Reading ahead on a second thread.

/// Batch shapes for [`ReadAhead::with_batches`]: one event at a time, sizes that split row
/// groups and batches unevenly, and the defaults.
const READ_AHEAD_SHAPES: [(usize, usize); 5] = [(1, 1), (3, 1), (7, 2), (100, 3), (1024, 4)];

#[test]
fn reading_ahead_yields_the_same_events_on_a_multi_row_group_file() {
    let dir = tempfile::tempdir().unwrap();
    let reference = csv_events();
    let path = dir.path().join("btc-100.parquet");
    write_bars(
        &path,
        &candles(&reference),
        TimeAs::Millis,
        100,
        Compression::SNAPPY,
    );
    assert_eq!(
        ParquetCandles::open(&path, opts()).unwrap().row_groups(),
        13
    );
    let direct = load(&path, opts()).unwrap();
    assert_eq!(direct, reference);
    for (events, batches) in READ_AHEAD_SHAPES {
        let source = ParquetCandles::open(&path, opts()).unwrap();
        let ahead: Vec<MarketEvent> = ReadAhead::with_batches(source, events, batches)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ahead, direct, "{events} events a batch, {batches} ahead");
        let source = ParquetCandles::open(&path, opts()).unwrap();
        let bulk: Vec<MarketEvent> = source
            .read_ahead(events, batches)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            bulk, direct,
            "bulk, {events} events a batch, {batches} ahead"
        );
    }
    let ahead: Vec<MarketEvent> = ReadAhead::new(ParquetCandles::open(&path, opts()).unwrap())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ahead, direct);
}

#[test]
fn reading_ahead_an_error_in_a_middle_row_group_arrives_after_exactly_the_rows_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-middle.parquet");
    let bar = |d: i32| (d, 10.0, 11.0, 9.0, 10.5, 1.0);
    let group = |from: i32| -> Vec<Row> { (from..from + 5).map(bar).collect() };
    let (first, mut middle, last) = (group(0), group(5), group(10));
    // Row 7 of the file, the third row of row group 1: a NaN close.
    middle[2].4 = f64::NAN;
    write_rows(&path, &[&first, &middle, &last]);
    let direct: Vec<Result<MarketEvent, DataError>> =
        ParquetCandles::open(&path, opts()).unwrap().collect();
    assert_eq!(direct.len(), 8, "seven rows, then the error");
    let direct_err = direct[7].as_ref().unwrap_err();
    assert_eq!(direct_err.row(), Some((1, 7)));
    for ((events, batches), bulk) in READ_AHEAD_SHAPES
        .into_iter()
        .flat_map(|shape| [(shape, false), (shape, true)])
    {
        let source = ParquetCandles::open(&path, opts()).unwrap();
        let ahead: Vec<Result<MarketEvent, DataError>> = if bulk {
            source.read_ahead(events, batches).unwrap().collect()
        } else {
            ReadAhead::with_batches(source, events, batches)
                .unwrap()
                .collect()
        };
        let shape = format!("{events} events a batch, {batches} ahead, bulk {bulk}");
        assert_eq!(ahead.len(), direct.len(), "{shape}");
        for (a, d) in ahead[..7].iter().zip(&direct[..7]) {
            assert_eq!(a.as_ref().unwrap(), d.as_ref().unwrap(), "{shape}");
        }
        let err = ahead[7].as_ref().unwrap_err();
        assert!(
            matches!(
                err,
                DataError::ParquetValue { row_group: 1, row: 7, column, value, .. }
                    if column == "close" && value == "NaN"
            ),
            "{shape}: {err:?}"
        );
        assert_eq!(err.to_string(), direct_err.to_string(), "{shape}");
    }
}

#[test]
fn dropping_a_read_ahead_stream_early_stops_its_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("btc-100.parquet");
    write_bars(
        &path,
        &candles(&csv_events()),
        TimeAs::Millis,
        100,
        Compression::SNAPPY,
    );
    for (events, batches) in READ_AHEAD_SHAPES {
        // Not read at all: the decoder is blocked on a full channel, or still decoding.
        drop(
            ReadAhead::with_batches(
                ParquetCandles::open(&path, opts()).unwrap(),
                events,
                batches,
            )
            .unwrap(),
        );
        drop(
            ParquetCandles::open(&path, opts())
                .unwrap()
                .read_ahead(events, batches)
                .unwrap(),
        );
        // Part-way through the first row group, and into the second.
        for taken in [1, 150] {
            let source = ParquetCandles::open(&path, opts()).unwrap();
            let mut ahead = ReadAhead::with_batches(source, events, batches).unwrap();
            let source = ParquetCandles::open(&path, opts()).unwrap();
            let mut bulk = source.read_ahead(events, batches).unwrap();
            for _ in 0..taken {
                ahead.next().unwrap().unwrap();
                bulk.next().unwrap().unwrap();
            }
            drop(ahead);
            drop(bulk);
        }
    }
}

//! Loading throughput (rows per second, single-threaded) of the Parquet reader beside the CSV
//! loader, on the same seeded synthetic candles written once to both formats, and a hold replay
//! fed from memory, from the CSV file and from the Parquet file.
//!
//! - `csv`: numbers at full `f64` precision (shortest round trip, ~17 digits; ~105-byte rows).
//! - `csv_ticks`: the same candles at exchange precision (prices to 0.01, volume to 0.001;
//!   ~50-byte rows), as venue dumps are.
//! - `csv_records`: the `csv` crate's byte-record reader alone over the full-precision file,
//!   no field decoded (the loader reads records with its own `memchr`-based reader).
//! - `csv_floats`: `fast-float2` alone parsing the five numbers of every full-precision row from
//!   fields split beforehand: the floor of any loader that parses them exactly.
//! - `parquet`, `parquet_plain`, `parquet_split`: the Parquet reader over the same candles
//!   written three ways: Snappy with dictionaries (the writer's defaults but for the codec),
//!   uncompressed `PLAIN`, and uncompressed `BYTE_STREAM_SPLIT` doubles with
//!   `DELTA_BINARY_PACKED` times.
//! - `hold_from`: a hold brain replaying the candles from memory, from the CSV file (full
//!   precision) and from each Parquet file, directly and decoded on a second thread
//!   ([`ParquetCandles::read_ahead`]); `memory_read_ahead` is the in-memory events through
//!   [`ReadAhead`], the hand-off's own cost.
//! - `parquet_plain_read_ahead`: the plain file decoded on a second thread, events only counted
//!   on the caller's; `_by_event` through the generic [`ReadAhead::new`] instead.
//!
//! Run with `cargo bench -p rustrade-backtest --features parquet --bench parquet`.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use parquet::basic::{Compression, Encoding};
use parquet::data_type::{DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use rustrade_backtest::brains::Hold;
use rustrade_backtest::data::{
    CandleCsv, CsvOptions, ParquetCandles, ParquetOptions, READ_AHEAD_BATCHES, READ_AHEAD_EVENTS,
    ReadAhead,
};
use rustrade_backtest::{Backtest, DataError, synthetic};
use rustrade_core::{AssetClass, Candle, InstrumentSpec, MarketEvent};

const ROWS: usize = 200_000;
const ROWS_PER_GROUP: usize = 65_536;

fn main() {
    divan::main();
}

/// The candles and their files, written on first use into a directory kept for the whole run.
struct Files {
    _dir: tempfile::TempDir,
    events: Vec<MarketEvent>,
    csv: PathBuf,
    csv_ticks: PathBuf,
    parquet: PathBuf,
    parquet_plain: PathBuf,
    parquet_split: PathBuf,
}

/// How the Parquet file's columns are encoded and compressed.
#[derive(Clone, Copy)]
enum Layout {
    /// Snappy pages, dictionary encoding (falling back to `PLAIN` when a dictionary grows past
    /// the writer's limit).
    Snappy,
    /// Uncompressed `PLAIN` pages, no dictionary.
    Plain,
    /// Uncompressed, no dictionary; `BYTE_STREAM_SPLIT` doubles, `DELTA_BINARY_PACKED` times.
    Split,
}

fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let events: Vec<MarketEvent> = synthetic::random_walk(2024, ROWS)
            .collect::<Result<_, _>>()
            .expect("valid synthetic candles");
        let bars: Vec<Candle> = events
            .iter()
            .map(|e| *e.as_candle().expect("a candle"))
            .collect();
        let dir = tempfile::tempdir().expect("temporary directory");
        let csv = dir.path().join("candles.csv");
        let csv_ticks = dir.path().join("ticks.csv");
        let parquet = dir.path().join("candles.parquet");
        let parquet_plain = dir.path().join("plain.parquet");
        let parquet_split = dir.path().join("split.parquet");
        write_csv(&csv, &bars, None);
        write_csv(&csv_ticks, &bars, Some((2, 3)));
        write_parquet(&parquet, &bars, Layout::Snappy);
        write_parquet(&parquet_plain, &bars, Layout::Plain);
        write_parquet(&parquet_split, &bars, Layout::Split);
        Files {
            _dir: dir,
            events,
            csv,
            csv_ticks,
            parquet,
            parquet_plain,
            parquet_split,
        }
    })
}

/// Writes `bars` as CSV: numbers in full, or prices and volume to the given decimals.
fn write_csv(path: &Path, bars: &[Candle], decimals: Option<(usize, usize)>) {
    let mut text = String::from("time,open,high,low,close,volume\n");
    for c in bars {
        let prices = [c.open(), c.high(), c.low(), c.close()].map(|p| p.get());
        let v = c.volume().get();
        write!(text, "{}", c.open_time().as_millis()).expect("writing to a String");
        match decimals {
            None => {
                for p in prices {
                    write!(text, ",{p}").expect("writing to a String");
                }
                writeln!(text, ",{v}").expect("writing to a String");
            }
            Some((dp, dv)) => {
                // Rounded apart, the high and low are widened to keep the candle valid.
                let [o, h, l, c] = prices;
                let round = |x: f64| format!("{x:.dp$}").parse::<f64>().expect("a number");
                let (o, c) = (round(o), round(c));
                let h = round(h).max(o).max(c);
                let l = round(l).min(o).min(c);
                writeln!(text, ",{o:.dp$},{h:.dp$},{l:.dp$},{c:.dp$},{v:.dv$}")
                    .expect("writing to a String");
            }
        }
    }
    std::fs::write(path, text).expect("writing the CSV file");
}

fn write_parquet(path: &Path, bars: &[Candle], layout: Layout) {
    let schema = parse_message_type(
        "message candles { REQUIRED INT64 time (TIMESTAMP(MILLIS,true)); REQUIRED DOUBLE open; \
         REQUIRED DOUBLE high; REQUIRED DOUBLE low; REQUIRED DOUBLE close; \
         REQUIRED DOUBLE volume; }",
    )
    .expect("valid schema");
    let props = match layout {
        Layout::Snappy => WriterProperties::builder().set_compression(Compression::SNAPPY),
        Layout::Plain => WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::PLAIN),
        Layout::Split => WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_encoding(Encoding::BYTE_STREAM_SPLIT)
            .set_column_encoding(ColumnPath::from("time"), Encoding::DELTA_BINARY_PACKED),
    }
    .build();
    let file = File::create(path).expect("creating the Parquet file");
    let mut writer =
        SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).expect("Parquet writer");
    for chunk in bars.chunks(ROWS_PER_GROUP) {
        let mut group = writer.next_row_group().expect("row group");
        let mut column = group.next_column().expect("column").expect("time column");
        let times: Vec<i64> = chunk.iter().map(|c| c.open_time().as_millis()).collect();
        column
            .typed::<Int64Type>()
            .write_batch(&times, None, None)
            .expect("times");
        column.close().expect("time column");
        let prices: [fn(&Candle) -> f64; 5] = [
            |c| c.open().get(),
            |c| c.high().get(),
            |c| c.low().get(),
            |c| c.close().get(),
            |c| c.volume().get(),
        ];
        for price in prices {
            let mut column = group
                .next_column()
                .expect("column")
                .expect("a price column");
            let values: Vec<f64> = chunk.iter().map(price).collect();
            column
                .typed::<DoubleType>()
                .write_batch(&values, None, None)
                .expect("values");
            column.close().expect("price column");
        }
        group.close().expect("row group");
    }
    writer.close().expect("Parquet footer");
    check_layout(path, layout);
}

/// Asserts that the writer used the encodings `layout` asks for, from the file's footer.
fn check_layout(path: &Path, layout: Layout) {
    let reader = SerializedFileReader::new(File::open(path).expect("open")).expect("footer");
    for group in reader.metadata().row_groups() {
        for column in group.columns() {
            let encodings: Vec<Encoding> = column.encodings().collect();
            let time = column.column_path().string() == "time";
            let (compression, data) = match layout {
                Layout::Snappy => (Compression::SNAPPY, Encoding::RLE_DICTIONARY),
                Layout::Plain => (Compression::UNCOMPRESSED, Encoding::PLAIN),
                Layout::Split if time => (Compression::UNCOMPRESSED, Encoding::DELTA_BINARY_PACKED),
                Layout::Split => (Compression::UNCOMPRESSED, Encoding::BYTE_STREAM_SPLIT),
            };
            assert_eq!(column.compression(), compression);
            assert!(
                encodings.contains(&data),
                "{:?}: {encodings:?}",
                column.column_path()
            );
            if !matches!(layout, Layout::Snappy) {
                assert!(
                    !encodings.contains(&Encoding::RLE_DICTIONARY),
                    "{encodings:?}"
                );
            }
        }
    }
}

fn load_csv(path: &Path) -> usize {
    let options = CsvOptions::new(synthetic::synthetic_symbol());
    count(CandleCsv::open(path, options).expect("open"))
}

/// The events of `source`, each checked valid and kept from being optimised away, counted.
fn count(source: impl Iterator<Item = Result<MarketEvent, DataError>>) -> usize {
    source.fold(0, |n, event| {
        black_box(event.expect("valid row"));
        n + 1
    })
}

#[divan::bench]
fn csv(bencher: Bencher) {
    let path = &files().csv;
    bencher
        .counter(ItemsCount::new(ROWS))
        .bench(|| assert_eq!(load_csv(path), ROWS));
}

#[divan::bench]
fn csv_ticks(bencher: Bencher) {
    let path = &files().csv_ticks;
    bencher
        .counter(ItemsCount::new(ROWS))
        .bench(|| assert_eq!(load_csv(path), ROWS));
}

#[divan::bench]
fn csv_records(bencher: Bencher) {
    let path = &files().csv;
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .buffer_capacity(64 * 1024)
            .from_path(path)
            .expect("open");
        let mut record = csv::ByteRecord::new();
        let mut n = 0;
        while reader.read_byte_record(&mut record).expect("a record") {
            black_box(&record);
            n += 1;
        }
        assert_eq!(n, ROWS);
    });
}

#[divan::bench]
fn csv_floats(bencher: Bencher) {
    let text = std::fs::read(&files().csv).expect("reading the CSV file");
    // (start, end) of every number field, in file order, in the file's own bytes.
    let mut fields = Vec::with_capacity(5 * ROWS);
    let mut line_start = text.iter().position(|&b| b == b'\n').expect("a header") + 1;
    while line_start < text.len() {
        let len = text[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(text.len() - line_start);
        let mut start = line_start;
        for (i, b) in text[line_start..line_start + len].iter().enumerate() {
            if *b == b',' {
                fields.push((start, line_start + i));
                start = line_start + i + 1;
            }
        }
        fields.push((start, line_start + len));
        line_start += len + 1;
    }
    // Drop each row's time field: six fields a row, the first the time.
    let numbers: Vec<(usize, usize)> = fields
        .chunks(6)
        .flat_map(|row| row[1..].iter().copied())
        .collect();
    assert_eq!(numbers.len(), 5 * ROWS);
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let mut sum = 0.0;
        for &(start, end) in &numbers {
            sum += fast_float2::parse::<f64, _>(black_box(&text[start..end])).expect("a number");
        }
        black_box(sum)
    });
}

#[divan::bench]
fn parquet(bencher: Bencher) {
    load_parquet(bencher, &files().parquet);
}

#[divan::bench]
fn parquet_plain(bencher: Bencher) {
    load_parquet(bencher, &files().parquet_plain);
}

#[divan::bench]
fn parquet_split(bencher: Bencher) {
    load_parquet(bencher, &files().parquet_split);
}

/// The plain file decoded on a second thread through [`ReadAhead::new`], which takes the
/// reader's events one `next` at a time; the events only counted on the caller's.
#[divan::bench]
fn parquet_plain_read_ahead_by_event(bencher: Bencher) {
    let path = &files().parquet_plain;
    let options = ParquetOptions::new(synthetic::synthetic_symbol());
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let reader = ParquetCandles::open(path, options).expect("open");
        assert_eq!(count(ReadAhead::new(reader).expect("decoder thread")), ROWS);
    });
}

/// The plain file decoded on a second thread by [`ParquetCandles::read_ahead`] (the decoded
/// batch's events copied in bulk); the events only counted on the caller's.
#[divan::bench]
fn parquet_plain_read_ahead(bencher: Bencher) {
    let path = &files().parquet_plain;
    let options = ParquetOptions::new(synthetic::synthetic_symbol());
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let reader = ParquetCandles::open(path, options).expect("open");
        let reader = reader.read_ahead(READ_AHEAD_EVENTS, READ_AHEAD_BATCHES);
        assert_eq!(count(reader.expect("decoder thread")), ROWS);
    });
}

fn load_parquet(bencher: Bencher, path: &Path) {
    let options = ParquetOptions::new(synthetic::synthetic_symbol());
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let reader = ParquetCandles::open(path, options).expect("open");
        assert_eq!(count(reader), ROWS);
    });
}

fn hold() -> Backtest {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .expect("valid spec");
    Backtest::builder()
        .instrument(spec)
        .initial_cash(1_000_000.0)
        .brain(Arc::new(Hold::new()))
        .build()
        .expect("valid backtest")
}

/// A hold replay with the equity curve and fills recorded, its candles from `source`: memory,
/// a file, or a file read ahead on a second thread (`_read_ahead`).
#[divan::bench(args = [
    "memory",
    "memory_read_ahead",
    "csv",
    "parquet",
    "parquet_read_ahead",
    "parquet_plain",
    "parquet_plain_read_ahead",
    "parquet_split",
    "parquet_split_read_ahead",
])]
fn hold_from(bencher: Bencher, source: &str) {
    let f = files();
    let symbol = synthetic::synthetic_symbol();
    let (file, ahead) = match source.strip_suffix("_read_ahead") {
        Some(file) => (file, true),
        None => (source, false),
    };
    let path = match file {
        "parquet" => &f.parquet,
        "parquet_plain" => &f.parquet_plain,
        "parquet_split" => &f.parquet_split,
        _ => &f.csv,
    };
    bencher
        .counter(ItemsCount::new(ROWS))
        .with_inputs(hold)
        .bench_local_values(|bt| {
            let result = match file {
                "memory" if ahead => {
                    let source = f.events.iter().copied().map(Ok);
                    bt.run(ReadAhead::new(source).expect("decoder thread"))
                }
                "memory" => bt.run_events(f.events.iter().copied()),
                "csv" => bt.run(CandleCsv::open(path, CsvOptions::new(symbol)).expect("open")),
                _ => {
                    let reader = ParquetCandles::open(path, ParquetOptions::new(symbol));
                    let reader = reader.expect("open");
                    if ahead {
                        let reader = reader.read_ahead(READ_AHEAD_EVENTS, READ_AHEAD_BATCHES);
                        bt.run(reader.expect("decoder thread"))
                    } else {
                        bt.run(reader)
                    }
                }
            };
            assert_eq!(black_box(result).expect("run").events, ROWS as u64);
        });
}

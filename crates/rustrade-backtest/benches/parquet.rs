//! Loading throughput (candles per second, single-threaded) of the Parquet reader beside the CSV
//! loader, on the same seeded synthetic candles written once to both formats.
//!
//! Run with `cargo bench -p rustrade-backtest --features parquet --bench parquet`.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use parquet::basic::Compression;
use parquet::data_type::{DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rustrade_backtest::data::{CandleCsv, CsvOptions, ParquetCandles, ParquetOptions};
use rustrade_backtest::synthetic;
use rustrade_core::Candle;

const ROWS: usize = 200_000;
const ROWS_PER_GROUP: usize = 65_536;

fn main() {
    divan::main();
}

/// The two files, written on first use into a directory kept for the whole run.
fn files() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static FILES: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    FILES.get_or_init(|| {
        let bars: Vec<Candle> = synthetic::random_walk(2024, ROWS)
            .map(|e| {
                *e.expect("valid synthetic candle")
                    .as_candle()
                    .expect("a candle")
            })
            .collect();
        let dir = tempfile::tempdir().expect("temporary directory");
        let csv = dir.path().join("candles.csv");
        let parquet = dir.path().join("candles.parquet");
        write_csv(&csv, &bars);
        write_parquet(&parquet, &bars);
        (dir, csv, parquet)
    })
}

fn write_csv(path: &Path, bars: &[Candle]) {
    let mut text = String::from("time,open,high,low,close,volume\n");
    for c in bars {
        writeln!(
            text,
            "{},{},{},{},{},{}",
            c.open_time().as_millis(),
            c.open().get(),
            c.high().get(),
            c.low().get(),
            c.close().get(),
            c.volume().get()
        )
        .expect("writing to a String");
    }
    std::fs::write(path, text).expect("writing the CSV file");
}

fn write_parquet(path: &Path, bars: &[Candle]) {
    let schema = parse_message_type(
        "message candles { REQUIRED INT64 time (TIMESTAMP(MILLIS,true)); REQUIRED DOUBLE open; \
         REQUIRED DOUBLE high; REQUIRED DOUBLE low; REQUIRED DOUBLE close; \
         REQUIRED DOUBLE volume; }",
    )
    .expect("valid schema");
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
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
}

#[divan::bench]
fn csv(bencher: Bencher) {
    let (_, path, _) = files();
    let options = CsvOptions::new(synthetic::synthetic_symbol());
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let reader = CandleCsv::open(path, options).expect("open");
        let mut n = 0;
        for event in reader {
            black_box(event.expect("valid row"));
            n += 1;
        }
        assert_eq!(n, ROWS);
    });
}

#[divan::bench]
fn parquet(bencher: Bencher) {
    let (_, _, path) = files();
    let options = ParquetOptions::new(synthetic::synthetic_symbol());
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let reader = ParquetCandles::open(path, options).expect("open");
        let mut n = 0;
        for event in reader {
            black_box(event.expect("valid row"));
            n += 1;
        }
        assert_eq!(n, ROWS);
    });
}

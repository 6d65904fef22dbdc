//! Market data for backtests: streaming loaders, a multi-symbol merge and a synthetic generator.
//!
//! Every source is an `Iterator<Item = Result<MarketEvent, DataError>>` that reads as it goes:
//! replaying a file costs memory independent of its length. [`CandleCsv`] reads OHLCV CSV files
//! and Binance kline dumps (or, with [`CandleCsv::read_all`], decodes a whole file into memory on
//! several threads, for callers that hold every event, such as sweeps); `ParquetCandles` (cargo feature `parquet`) reads OHLCV Parquet files
//! row group by row group; [`merge`] interleaves several per-symbol sources by time;
//! [`crate::synthetic`] generates seeded candles for tests and benchmarks; [`ReadAhead`] decodes
//! any of them on a second thread while the replay runs on the caller's.

mod checks;
mod csv;
mod merge;
mod order;
#[cfg(feature = "parquet")]
mod parquet;
mod read_ahead;
mod records;
mod time;

pub(crate) use self::csv::default_venue;
pub use self::csv::{CandleCsv, CsvFormat, CsvOptions};
pub use self::merge::{Merge, merge};
#[cfg(feature = "parquet")]
pub use self::parquet::{BATCH_ROWS, ParquetCandles, ParquetOptions};
pub use self::read_ahead::{READ_AHEAD_BATCHES, READ_AHEAD_EVENTS, ReadAhead, read_ahead_pays};

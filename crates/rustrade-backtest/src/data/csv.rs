//! Streaming OHLCV CSV loader: generic header-named files and Binance kline dumps.
//!
//! # Layout detection
//!
//! The first record is a header when one of its fields names a known column (case-insensitive):
//! time is `date`, `time`, `datetime`, `timestamp`, `open_time` or `ts`; prices are `open`,
//! `high`, `low`, `close`; `volume` is optional (0 when absent). Other columns (an index, a
//! comment) are ignored. Without a header, 12 fields mean the Binance kline dump layout
//! (`open_time, open, high, low, close, volume, close_time, quote_volume, trades,
//! taker_buy_base, taker_buy_quote, ignore`, open time in ms or µs) and 6 fields mean
//! `time, open, high, low, close, volume`.
//!
//! Records are split as the `csv` crate splits them (RFC 4180 quoting, `\n`, `\r\n` or `\r`
//! line ends, blank lines skipped); a leading UTF-8 byte order mark is dropped. Line numbers in
//! errors are the line a record starts on, counting blank lines and newlines inside quotes.
//!
//! # Invariants
//!
//! - Streaming: one 64 KiB input buffer, read records in place (unquoted lines are split where
//!   they lie; quoted records go through `csv_core`, see `records.rs`); no row is kept after it
//!   is yielded, so memory does not grow with the file, and a row costs no heap allocation. The
//!   one exception is [`CsvOptions::sort_by_time`], which must read the whole file before
//!   yielding the first row.
//! - Every yielded candle satisfies [`Candle::new`]'s checks and has prices `> 0`.
//! - Times strictly increase. A row whose time is earlier than the previous row's is
//!   [`DataError::OutOfOrder`]; an equal time is [`DataError::Duplicate`] (also after sorting).
//! - The first error ends the stream: later calls to `next` return `None`.
//! - Event time: the bar's open time plus [`CsvOptions::bar_interval`] when set (the bar's
//!   close); for Binance dumps without an interval, `close_time` plus one unit; otherwise the
//!   open time.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rustrade_core::{Candle, MarketEvent, Symbol, Timestamp, ValueError, Venue};

use super::checks::{self, Ohlcv, TIME_COLUMN, TIME_NAMES, VOLUME_NAMES};
use super::order::{Broken, Disorder, TimeOrder, sort_strictly};
use super::records::Records;
use super::time::{epoch_by_magnitude, parse_time};
use crate::DataError;

mod parallel;

/// Which layout a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvFormat {
    /// Detect it (see the module doc).
    #[default]
    Auto,
    /// Binance kline dump; a header row, if present, is skipped.
    BinanceKlines,
}

/// How to read a candle file: which symbol it holds, its layout and ordering policy.
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    symbol: Symbol,
    venue: Venue,
    format: CsvFormat,
    sort: bool,
    bar_interval: Option<Duration>,
}

impl CsvOptions {
    /// Options for a file holding `symbol`'s candles, on venue `backtest`, layout detected,
    /// strict time order.
    pub fn new(symbol: Symbol) -> Self {
        Self {
            symbol,
            venue: default_venue(),
            format: CsvFormat::Auto,
            sort: false,
            bar_interval: None,
        }
    }

    /// Venue stamped on every event.
    pub fn venue(mut self, venue: Venue) -> Self {
        self.venue = venue;
        self
    }

    /// Forces a layout instead of detecting it.
    pub fn format(mut self, format: CsvFormat) -> Self {
        self.format = format;
        self
    }

    /// Accept rows in any order by sorting them by time. This reads and keeps the whole file
    /// before the first row is yielded (memory grows with the file); duplicate times are still
    /// refused.
    pub fn sort_by_time(mut self, sort: bool) -> Self {
        self.sort = sort;
        self
    }

    /// The bar length; when set, each event's time is the bar's close (open time + interval).
    /// Refuses a zero interval.
    pub fn bar_interval(mut self, interval: Duration) -> Result<Self, DataError> {
        self.bar_interval = Some(checks::bar_interval(interval)?);
        Ok(self)
    }

    /// The symbol the events carry.
    pub fn symbol(&self) -> Symbol {
        self.symbol
    }
}

/// The venue stamped on loaded events unless the caller names one.
pub(crate) fn default_venue() -> Venue {
    Venue::new("backtest").expect("`backtest` is a valid venue identifier")
}

/// A streaming iterator of candle events read from a CSV file or reader.
///
/// ```
/// use rustrade_backtest::data::{CandleCsv, CsvOptions};
/// use rustrade_core::Symbol;
///
/// let text = "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,80\n";
/// let opts = CsvOptions::new(Symbol::new("SPY")?);
/// let events: Vec<_> = CandleCsv::from_reader(text.as_bytes(), "inline", opts)?
///     .collect::<Result<_, _>>()?;
/// assert_eq!(events.len(), 2);
/// assert_eq!(events[1].reference_price().get(), 11.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CandleCsv<R> {
    /// The record reader; its current record is the row being parsed.
    record: Records<R>,
    file: Box<str>,
    options: CsvOptions,
    layout: Layout,
    /// A first record that turned out to be data, not a header.
    pending_first: bool,
    /// Time order of the rows read so far, by line.
    order: TimeOrder<u64>,
    state: State,
}

enum State {
    Streaming,
    Sorted(std::vec::IntoIter<MarketEvent>),
    Done,
}

/// Column positions and names of the detected layout.
#[derive(Clone)]
struct Layout {
    time: usize,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: Option<usize>,
    /// Binance `close_time` column, used for the event time.
    close_time: Option<usize>,
    /// Column names for error messages, indexed by position.
    names: Vec<Box<str>>,
    min_fields: usize,
}

const BINANCE_NAMES: [&str; 12] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base",
    "taker_buy_quote",
    "ignore",
];
const PLAIN_NAMES: [&str; 6] = ["time", "open", "high", "low", "close", "volume"];

impl CandleCsv<File> {
    /// Opens `path` and detects its layout from the first record.
    pub fn open(path: impl AsRef<Path>, options: CsvOptions) -> Result<Self, DataError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| DataError::Io {
            file: name.clone(),
            source,
        })?;
        Self::from_reader(file, &name, options)
    }

    /// Reads the whole file at `path` into memory and decodes its rows on up to `threads`
    /// threads (see [`CandleCsv::decode_all`]): for callers that hold every event anyway, such
    /// as a sweep. The result, and the first error, are those of collecting
    /// [`CandleCsv::open`]'s stream.
    pub fn read_all(
        path: impl AsRef<Path>,
        options: CsvOptions,
        threads: usize,
    ) -> Result<Vec<MarketEvent>, DataError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| DataError::Io {
            file: name.clone(),
            source,
        })?;
        CandleCsv::decode_all(&bytes, &name, options, threads)
    }
}

impl CandleCsv<&[u8]> {
    /// Decodes every row of `bytes` (a whole CSV file; `name` stands for it in errors) on up to
    /// `threads` threads, each taking a run of whole lines of at least 256 KiB. The events, and
    /// the first error (file, line, column and value), are exactly those of collecting
    /// [`CandleCsv::from_reader`]'s stream: rows are checked for time order (or sorted, with
    /// [`CsvOptions::sort_by_time`]) in file order after decoding. A file holding a `"` is
    /// decoded on one thread, since a quoted field may span lines.
    pub fn decode_all(
        bytes: &[u8],
        name: &str,
        options: CsvOptions,
        threads: usize,
    ) -> Result<Vec<MarketEvent>, DataError> {
        parallel::decode(bytes, name, options, threads, parallel::MIN_CHUNK)
    }
}

impl<R: Read> CandleCsv<R> {
    /// Reads from any reader; `name` is used in error messages in place of a file name.
    pub fn from_reader(reader: R, name: &str, options: CsvOptions) -> Result<Self, DataError> {
        let file: Box<str> = name.into();
        let mut record = Records::new(reader);
        let read = record.read().map_err(|e| io_error(&file, e))?;
        if !read {
            return Err(DataError::Empty { file: file.into() });
        }
        let header = is_header(&record);
        let layout = match (options.format, header) {
            (CsvFormat::BinanceKlines, _) => Layout::positional(&BINANCE_NAMES, true),
            (CsvFormat::Auto, true) => Layout::from_header(&record, &file)?,
            (CsvFormat::Auto, false) => match record.len() {
                12 => Layout::positional(&BINANCE_NAMES, true),
                6 => Layout::positional(&PLAIN_NAMES, false),
                found => {
                    return Err(DataError::FieldCount {
                        file: file.into(),
                        line: record.line(),
                        expected: 6,
                        found,
                    });
                }
            },
        };
        Ok(Self {
            record,
            file,
            options,
            layout,
            pending_first: !header,
            order: TimeOrder::new(),
            state: State::Streaming,
        })
    }

    /// A reader of rows continuing a file whose layout is known, starting on line
    /// `first_line`: no header is looked for and no byte order mark dropped.
    fn continuation(
        reader: R,
        file: Box<str>,
        options: CsvOptions,
        layout: Layout,
        first_line: u64,
    ) -> Self {
        Self {
            record: Records::continuing(reader, first_line),
            file,
            options,
            layout,
            pending_first: false,
            order: TimeOrder::new(),
            state: State::Streaming,
        }
    }

    /// Reads and validates the next row, checking time order; `None` at the end of the file.
    fn next_streamed(&mut self) -> Option<Result<(MarketEvent, u64), DataError>> {
        if self.pending_first {
            self.pending_first = false;
        } else {
            match self.record.read() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(io_error(&self.file, e))),
            }
        }
        let line = self.record.line();
        Some(self.parse_row(line).map(|e| (e, line)))
    }

    fn parse_row(&self, line: u64) -> Result<MarketEvent, DataError> {
        let rec = &self.record;
        let l = &self.layout;
        if rec.len() < l.min_fields {
            return Err(DataError::FieldCount {
                file: self.file.to_string(),
                line,
                expected: l.min_fields,
                found: rec.len(),
            });
        }
        let open_time = parse_time(field(rec, l.time)).map_err(|r| self.bad(line, l.time, r))?;
        let open = self.price(line, l.open)?;
        let high = self.price(line, l.high)?;
        let low = self.price(line, l.low)?;
        let close = self.price(line, l.close)?;
        let volume = match l.volume {
            Some(i) => self.number(line, i)?,
            None => 0.0,
        };
        let candle = Candle::new(open_time, open, high, low, close, volume)
            .map_err(|e| self.refused(line, &e))?;
        let time = self.event_time(open_time, line)?;
        Ok(MarketEvent::candle(
            self.options.venue,
            self.options.symbol,
            time,
            candle,
        ))
    }

    fn event_time(&self, open_time: Timestamp, line: u64) -> Result<Timestamp, DataError> {
        let interval = self.options.bar_interval;
        let Some(ct) = self.layout.close_time.filter(|_| interval.is_none()) else {
            return Ok(checks::event_time(open_time, interval));
        };
        let raw: i64 = std::str::from_utf8(field(&self.record, ct))
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.bad(line, ct, "not an integer epoch time"))?;
        // Binance close times are the last unit inside the bar (…999); one more unit is the close.
        let close = raw
            .checked_add(1)
            .ok_or("epoch time out of range")
            .and_then(epoch_by_magnitude)
            .map_err(|r| self.bad(line, ct, r))?;
        if close <= open_time {
            return Err(self.bad(line, ct, "close time is not after the open time"));
        }
        Ok(close)
    }

    /// Field `i` as a number, parsed from its bytes (see [`parse_number`]).
    #[inline]
    fn number(&self, line: u64, i: usize) -> Result<f64, DataError> {
        let v = parse_number(field(&self.record, i)).map_err(|r| self.bad(line, i, r))?;
        checks::finite(v).map_err(|r| self.bad(line, i, r))
    }

    #[inline]
    fn price(&self, line: u64, i: usize) -> Result<f64, DataError> {
        let v = self.number(line, i)?;
        checks::price(v).map_err(|r| self.bad(line, i, r))
    }

    fn bad(&self, line: u64, column: usize, reason: &str) -> DataError {
        DataError::BadValue {
            file: self.file.to_string(),
            line,
            column: self
                .layout
                .names
                .get(column)
                .map_or_else(|| format!("#{column}"), |n| n.to_string()),
            value: String::from_utf8_lossy(field(&self.record, column)).into_owned(),
            reason: reason.to_owned(),
        }
    }

    /// Maps a candle invariant failure to the column it names.
    fn refused(&self, line: u64, e: &ValueError) -> DataError {
        let l = &self.layout;
        let column = checks::refused_column(e).and_then(|c| match c {
            Ohlcv::Open => Some(l.open),
            Ohlcv::High => Some(l.high),
            Ohlcv::Low => Some(l.low),
            Ohlcv::Close => Some(l.close),
            Ohlcv::Volume => l.volume,
        });
        match column {
            Some(c) => self.bad(line, c, &e.to_string()),
            None => DataError::BadValue {
                file: self.file.to_string(),
                line,
                column: e.field().to_owned(),
                value: String::new(),
                reason: e.to_string(),
            },
        }
    }

    fn disorder(&self, broken: Broken<u64>) -> DataError {
        disorder(&self.file, broken)
    }

    /// Reads everything, sorts by time (stable, by line on ties) and refuses duplicates.
    fn read_sorted(&mut self) -> Result<Vec<MarketEvent>, DataError> {
        let mut rows = Vec::new();
        while let Some(row) = self.next_streamed() {
            rows.push(row?);
        }
        sort_strictly(&mut rows).map_err(|b| self.disorder(b))?;
        Ok(rows.into_iter().map(|(e, _)| e).collect())
    }
}

impl<R: Read> Iterator for CandleCsv<R> {
    type Item = Result<MarketEvent, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = match &mut self.state {
            State::Done => return None,
            State::Sorted(rows) => return rows.next().map(Ok),
            State::Streaming if self.options.sort => match self.read_sorted() {
                Ok(rows) => {
                    let mut rows = rows.into_iter();
                    let first = rows.next();
                    self.state = State::Sorted(rows);
                    return first.map(Ok);
                }
                Err(e) => Err(e),
            },
            State::Streaming => match self.next_streamed()? {
                Ok((event, line)) => match self.order.check(event.time, line) {
                    Ok(()) => Ok(event),
                    Err(b) => Err(self.disorder(b)),
                },
                Err(e) => Err(e),
            },
        };
        if item.is_err() {
            self.state = State::Done;
        }
        Some(item)
    }
}

impl Layout {
    fn positional(names: &[&str], binance: bool) -> Self {
        Self {
            time: 0,
            open: 1,
            high: 2,
            low: 3,
            close: 4,
            volume: Some(5),
            close_time: binance.then_some(6),
            names: names.iter().map(|&n| n.into()).collect(),
            min_fields: if binance { 7 } else { 6 },
        }
    }

    fn from_header<R: Read>(rec: &Records<R>, file: &str) -> Result<Self, DataError> {
        let names: Vec<Box<str>> = rec
            .iter()
            .map(|f| {
                String::from_utf8_lossy(f.trim_ascii())
                    .into_owned()
                    .into_boxed_str()
            })
            .collect();
        let find = |wanted: &[&str]| {
            names
                .iter()
                .position(|n| wanted.iter().any(|w| n.eq_ignore_ascii_case(w)))
        };
        let missing = |column: &'static str| DataError::MissingColumn {
            file: file.to_owned(),
            column,
            header: names.join(","),
        };
        let time = find(&TIME_NAMES).ok_or_else(|| missing(TIME_COLUMN))?;
        let open = find(&["open"]).ok_or_else(|| missing("open"))?;
        let high = find(&["high"]).ok_or_else(|| missing("high"))?;
        let low = find(&["low"]).ok_or_else(|| missing("low"))?;
        let close = find(&["close"]).ok_or_else(|| missing("close"))?;
        let volume = find(&VOLUME_NAMES);
        let min_fields = 1 + [time, open, high, low, close, volume.unwrap_or(0)]
            .into_iter()
            .max()
            .unwrap_or(0);
        Ok(Self {
            time,
            open,
            high,
            low,
            close,
            volume,
            close_time: None,
            names,
            min_fields,
        })
    }
}

fn is_header<R: Read>(rec: &Records<R>) -> bool {
    rec.iter().any(|f| {
        let f = String::from_utf8_lossy(f.trim_ascii());
        TIME_NAMES
            .iter()
            .chain(["open", "close"].iter())
            .any(|n| f.eq_ignore_ascii_case(n))
    })
}

/// Field `i` without surrounding ASCII whitespace.
#[inline]
fn field<R: Read>(rec: &Records<R>, i: usize) -> &[u8] {
    rec.get(i).unwrap_or_default().trim_ascii()
}

/// A number field's value: the same texts as `str::parse::<f64>` accept (decimal or scientific,
/// optional sign, `inf`, `infinity`, `nan` in any case), correctly rounded, parsed from the bytes
/// with no UTF-8 check (any byte outside that grammar is refused).
#[inline]
pub(crate) fn parse_number(text: &[u8]) -> Result<f64, &'static str> {
    if text.is_empty() {
        return Err("empty value");
    }
    fast_float2::parse(text).map_err(|_| "not a number")
}

/// The error for rows of `file` out of time order.
fn disorder(file: &str, broken: Broken<u64>) -> DataError {
    let (file, line, time) = (file.to_owned(), broken.at, broken.time);
    match broken.why {
        Disorder::Duplicate { first } => DataError::Duplicate {
            file,
            line,
            time,
            first_line: first,
        },
        Disorder::Earlier {
            previous,
            previous_at,
        } => DataError::OutOfOrder {
            file,
            line,
            time,
            previous,
            previous_line: previous_at,
        },
    }
}

fn io_error(file: &str, source: std::io::Error) -> DataError {
    DataError::Io {
        file: file.to_owned(),
        source,
    }
}

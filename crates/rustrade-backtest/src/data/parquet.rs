//! Streaming OHLCV Parquet reader (cargo feature `parquet`), the columnar twin of the CSV loader.
//!
//! # Columns
//!
//! Top-level columns are found by name, case-insensitively, in schema order: the time is the first
//! column named `date`, `time`, `datetime`, `timestamp`, `open_time`, `opentime` or `ts`; prices
//! are `open`, `high`, `low`, `close`; `volume` (or `vol`) is optional (0 when absent). Other
//! columns are never read. Columns may be required or optional; a null in a used column is an
//! error.
//!
//! | role | accepted Parquet types | meaning |
//! |---|---|---|
//! | time | `INT64` with a `TIMESTAMP` logical type (or the legacy `TIMESTAMP_MILLIS`/`_MICROS`) | that unit since the epoch |
//! | time | `INT32` with the `DATE` logical type | days since the epoch, midnight UTC |
//! | time | `INT64` / `INT32` without a time annotation | epoch time, unit by magnitude (as in CSV: s, ms, µs or ns) |
//! | time | `INT96` | legacy Impala/Spark timestamp (Julian day + nanoseconds) |
//! | time | `BYTE_ARRAY` (`STRING` or unannotated) | any text the CSV loader accepts (dates, date-times, RFC 3339, epoch numbers) |
//! | price, volume | `DOUBLE`, `FLOAT` | the stored value (a `FLOAT` is widened exactly) |
//! | price, volume | `INT32`, `INT64`, optionally `DECIMAL(p, s)` | the integer, divided by `10^s` for a decimal |
//!
//! Timestamps not marked as adjusted to UTC are read as UTC, as naive CSV date-times are. Any other
//! type is [`DataError::ParquetColumnType`] before the first row is read.
//!
//! # Invariants
//!
//! - Streaming: row groups are read one after the other, and within a row group each used column
//!   is decoded in batches of at most [`BATCH_ROWS`] rows into buffers reused for the whole file.
//!   A batch's valid rows become events in one pass over the converted columns, and are handed
//!   out from that buffer. Memory is independent of the file's length (and of a row group's
//!   length, beyond the one page per column the decoder holds); only the footer metadata is read
//!   up front.
//!   [`ParquetOptions::sort_by_time`] is the one exception, as for CSV: it keeps every row.
//! - Values pass the same checks as CSV values (finite numbers, prices `> 0`, the candle
//!   invariants of [`rustrade_core::Candle::new`]) and rows the same time-order policy (strictly
//!   increasing; equal is [`DataError::ParquetDuplicate`], earlier is
//!   [`DataError::ParquetOutOfOrder`]; sorting is opt-in and still refuses duplicates).
//! - Every refused value is [`DataError::ParquetValue`], naming the file, the 0-based row group, the
//!   0-based row index in the file, the column and the stored value. A file the Parquet layer cannot
//!   decode (not Parquet, truncated, corrupt, a compression codec other than Snappy) is
//!   [`DataError::Parquet`]. Nothing panics: a data page that uses a dictionary no dictionary
//!   page defined is refused before the decoder sees it (the decoder asserts on it), and any
//!   other assertion the decoder makes on corrupt input is caught and reported the same way.
//! - The first error ends the stream: later calls to `next` return `None`.
//! - Event time: the bar's open time plus [`ParquetOptions::bar_interval`] when set (the bar's
//!   close), otherwise the open time.

use std::fmt;
use std::fs::File;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::Duration;

use parquet::basic::{ConvertedType, Encoding, LogicalType, TimeUnit, Type as Physical};
use parquet::column::page::{Page, PageMetadata, PageReader};
use parquet::column::reader::ColumnReaderImpl;
use parquet::data_type::{
    ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type, Int96, Int96Type,
};
use parquet::errors::ParquetError;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::schema::types::{ColumnDescPtr, ColumnDescriptor};
use rustrade_core::{Candle, MarketEvent, Symbol, Timestamp, ValueError, Venue};

use super::checks::{self, Ohlcv, TIME_COLUMN, TIME_NAMES, VOLUME_NAMES};
use super::csv::default_venue;
use super::order::{Broken, Disorder, TimeOrder, sort_strictly};
use super::read_ahead::{FillBatch, Filled, ReadAhead};
use super::time::{epoch_by_magnitude, parse_time};
use crate::DataError;

/// Rows decoded per column at a time: the reader's working set, whatever the file's size.
pub const BATCH_ROWS: usize = 4096;

/// How to read a Parquet candle file: which symbol it holds and the ordering policy.
#[derive(Debug, Clone, Copy)]
pub struct ParquetOptions {
    symbol: Symbol,
    venue: Venue,
    sort: bool,
    bar_interval: Option<Duration>,
}

impl ParquetOptions {
    /// Options for a file holding `symbol`'s candles, on venue `backtest`, strict time order.
    pub fn new(symbol: Symbol) -> Self {
        Self {
            symbol,
            venue: default_venue(),
            sort: false,
            bar_interval: None,
        }
    }

    /// Venue stamped on every event.
    pub fn venue(mut self, venue: Venue) -> Self {
        self.venue = venue;
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

/// A streaming iterator of candle events read from a Parquet file, row group by row group.
/// [`ParquetCandles::read_ahead`] decodes it on a second thread while the replay runs.
///
/// ```no_run
/// use rustrade_backtest::data::{ParquetCandles, ParquetOptions};
/// use rustrade_core::Symbol;
///
/// let opts = ParquetOptions::new(Symbol::new("BTCUSDT")?);
/// for event in ParquetCandles::open("btc-1m.parquet", opts)? {
///     let event = event?; // a bad value names file, row group, row, column and value
///     println!("{} {}", event.time, event.reference_price().get());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ParquetCandles {
    reader: SerializedFileReader<File>,
    layout: Layout,
    options: ParquetOptions,
    /// The next row group to open.
    next_group: usize,
    /// The row group being read, if any.
    group: Option<Group>,
    /// 0-based index in the file of the next row.
    next_row: u64,
    order: TimeOrder<RowAt>,
    state: State,
}

enum State {
    Streaming,
    Sorted(std::vec::IntoIter<MarketEvent>),
    Done,
}

/// A row's place: its index in the file orders rows; the row group is carried for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RowAt {
    row: u64,
    group: usize,
}

/// Where the used columns are and how their values read, fixed by the schema.
struct Layout {
    file: Box<str>,
    /// Time first, then open, high, low, close and, when present, volume.
    columns: Vec<Column>,
}

struct Column {
    /// Leaf index in the schema.
    leaf: usize,
    name: Box<str>,
    kind: Kind,
    /// Definition level of a present value; 0 for a required column.
    max_level: i16,
}

/// How a column's stored values become a time or a number.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// An integer count of `nanos`-long units since the epoch.
    TimeUnits { nanos: i64 },
    /// An integer epoch time whose unit is read from its magnitude.
    TimeByMagnitude,
    /// Legacy `INT96` Julian-day timestamp.
    TimeInt96,
    /// Text parsed like a CSV time field.
    TimeText,
    /// A floating-point or integer number; integers are divided by `divisor` (`10^scale` for a
    /// decimal) and read as unsigned when `unsigned`.
    Number { divisor: f64, unsigned: bool },
}

/// The open row group: one decoding cursor per used column, in [`Layout::columns`] order.
struct Group {
    index: usize,
    /// Rows of the group not yet decoded into the batch buffers.
    undecoded: usize,
    /// Rows of the current batch not yet yielded.
    batch_left: usize,
    /// Rows in the current batch.
    batch_rows: usize,
    /// Leading rows of the current batch whose every value converted and passed its check:
    /// they are read from `times` and `numbers`; the row after them (if any in the batch) holds
    /// the first refused value and is read value by value to name it.
    clean: usize,
    /// The batch's times, converted column-wise (its first `clean` rows at least).
    times: Vec<Timestamp>,
    /// The batch's open, high, low, close and volume, converted and checked column-wise (all 0
    /// for an absent volume column).
    numbers: [Vec<f64>; 5],
    /// Events of the batch's leading rows that made valid candles in strictly increasing time
    /// order, built in one pass after the batch is decoded (never when sorting); `next` hands
    /// them out before any other row of the batch is read.
    ready: Vec<MarketEvent>,
    /// The next event of `ready` to hand out.
    ready_pos: usize,
    cursors: Vec<Cursor>,
}

/// A typed column reader, its reusable buffers and the read position in them.
struct Cursor {
    values: Values,
    /// Definition levels of the batch; empty for a required column.
    levels: Vec<i16>,
    max_level: i16,
    /// Next definition level and next non-null value to hand out.
    next_level: usize,
    next_value: usize,
}

enum Values {
    I32(ColumnReaderImpl<Int32Type>, Vec<i32>),
    I64(ColumnReaderImpl<Int64Type>, Vec<i64>),
    I96(ColumnReaderImpl<Int96Type>, Vec<Int96>),
    F32(ColumnReaderImpl<FloatType>, Vec<f32>),
    F64(ColumnReaderImpl<DoubleType>, Vec<f64>),
    Text(ColumnReaderImpl<ByteArrayType>, Vec<ByteArray>),
}

/// One stored value, borrowed from a cursor's buffer.
#[derive(Clone, Copy)]
enum Raw<'a> {
    Null,
    I32(i32),
    I64(i64),
    I96(&'a Int96),
    F32(f32),
    F64(f64),
    Text(&'a [u8]),
}

impl ParquetCandles {
    /// Opens `path`, reads its footer and resolves the columns; no row is read yet.
    pub fn open(path: impl AsRef<Path>, options: ParquetOptions) -> Result<Self, DataError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |source| DataError::Io {
            file: name.clone(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        if file.metadata().map_err(io)?.len() == 0 {
            return Err(DataError::Empty { file: name });
        }
        let reader = contained(&name, None, || {
            SerializedFileReader::new(file).map_err(|e| DataError::Parquet {
                file: name.clone(),
                row_group: None,
                reason: e.to_string(),
            })
        })?;
        let layout = Layout::resolve(&reader, name.into())?;
        Ok(Self {
            reader,
            layout,
            options,
            next_group: 0,
            group: None,
            next_row: 0,
            order: TimeOrder::new(),
            state: State::Streaming,
        })
    }

    /// Decodes the rest of the file on a second thread, `events_per_batch` events a batch and up
    /// to `batches` batches ahead ([`super::READ_AHEAD_EVENTS`] and [`super::READ_AHEAD_BATCHES`] are good
    /// defaults), while the caller consumes the events: the same items as this reader's, in the
    /// same order, errors included. Faster than [`ReadAhead::new`] over the reader: the decoder
    /// thread copies each decoded batch's events in bulk. Fails only when the thread cannot be
    /// started.
    pub fn read_ahead(
        self,
        events_per_batch: usize,
        batches: usize,
    ) -> Result<ReadAhead, DataError> {
        ReadAhead::spawn(self, events_per_batch, batches)
    }

    /// Number of row groups in the file.
    pub fn row_groups(&self) -> usize {
        self.reader.num_row_groups()
    }

    /// Number of rows in the file, from its footer.
    pub fn rows(&self) -> u64 {
        u64::try_from(self.reader.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Reads and validates the next row; `None` after the last row group, `Some(Ok(None))` when
    /// it decoded a batch whose leading rows are ready (see [`Group::ready`]).
    fn next_streamed(&mut self) -> Option<Result<Option<(MarketEvent, RowAt)>, DataError>> {
        loop {
            match &mut self.group {
                Some(g) if g.batch_left > 0 => break,
                Some(g) if g.undecoded > 0 => {
                    let layout = &self.layout;
                    let decoded = contained(&layout.file, Some(g.index), || g.decode_batch(layout));
                    if let Err(e) = decoded {
                        return Some(Err(e));
                    }
                    if !self.options.sort {
                        g.make_ready(self.next_row, &mut self.order, &self.options);
                        if !g.ready.is_empty() {
                            return Some(Ok(None));
                        }
                    }
                }
                _ => {
                    self.group = None;
                    if self.next_group >= self.reader.num_row_groups() {
                        return None;
                    }
                    let index = self.next_group;
                    self.next_group += 1;
                    let (reader, layout) = (&self.reader, &self.layout);
                    match contained(&layout.file, Some(index), || {
                        Group::open(reader, layout, index)
                    }) {
                        Ok(g) => self.group = Some(g),
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        }
        let group = self.group.as_mut()?;
        let r = group.batch_rows - group.batch_left;
        group.batch_left -= 1;
        let at = RowAt {
            row: self.next_row,
            group: group.index,
        };
        self.next_row += 1;
        let event = if r < group.clean {
            self.layout.clean_row(group, r, at, &self.options)
        } else {
            self.layout.row(group, r, at, &self.options)
        };
        Some(event.map(|e| Some((e, at))))
    }

    /// The next event of the batch's ready rows, already checked for time order; `None` once
    /// they are all handed out.
    #[inline]
    fn next_ready(&mut self) -> Option<(MarketEvent, RowAt)> {
        let group = self.group.as_mut()?;
        let event = *group.ready.get(group.ready_pos)?;
        let at = RowAt {
            row: self.next_row,
            group: group.index,
        };
        group.hand_out(1);
        self.next_row += 1;
        Some((event, at))
    }

    fn disorder(&self, broken: Broken<RowAt>) -> DataError {
        let file = self.layout.file.to_string();
        let (row_group, row, time) = (broken.at.group, broken.at.row, broken.time);
        match broken.why {
            Disorder::Duplicate { first } => DataError::ParquetDuplicate {
                file,
                row_group,
                row,
                time,
                first_row: first.row,
            },
            Disorder::Earlier {
                previous,
                previous_at,
            } => DataError::ParquetOutOfOrder {
                file,
                row_group,
                row,
                time,
                previous,
                previous_row: previous_at.row,
            },
        }
    }

    /// Reads everything, sorts by time (file order on ties) and refuses duplicates.
    fn read_sorted(&mut self) -> Result<Vec<MarketEvent>, DataError> {
        let mut rows = Vec::new();
        while let Some(row) = self.next_streamed() {
            rows.extend(row?);
        }
        sort_strictly(&mut rows).map_err(|b| self.disorder(b))?;
        Ok(rows.into_iter().map(|(e, _)| e).collect())
    }
}

impl Iterator for ParquetCandles {
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
            State::Streaming => loop {
                if let Some((event, _)) = self.next_ready() {
                    return Some(Ok(event));
                }
                match self.next_streamed()? {
                    Ok(Some((event, at))) => match self.order.check(event.time, at) {
                        Ok(()) => break Ok(event),
                        Err(b) => break Err(self.disorder(b)),
                    },
                    // A new batch with ready rows.
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
            },
        };
        if item.is_err() {
            self.state = State::Done;
        }
        Some(item)
    }
}

impl FillBatch for ParquetCandles {
    fn fill(&mut self, out: &mut Vec<MarketEvent>, max: usize) -> Filled {
        while out.len() < max {
            // The batch's ready events in bulk.
            if matches!(self.state, State::Streaming)
                && !self.options.sort
                && let Some(group) = self.group.as_mut()
            {
                let ready = group.ready.get(group.ready_pos..).unwrap_or_default();
                let n = ready.len().min(max - out.len());
                if n > 0 {
                    out.extend_from_slice(&ready[..n]);
                    group.hand_out(n);
                    self.next_row += n as u64;
                    continue;
                }
            }
            match self.next() {
                Some(Ok(event)) => out.push(event),
                Some(Err(e)) => return Filled::Error(e),
                None => return Filled::Ended,
            }
        }
        Filled::Full
    }
}

impl Layout {
    /// Finds the used columns by name and checks that their types can be read.
    fn resolve(reader: &SerializedFileReader<File>, file: Box<str>) -> Result<Self, DataError> {
        let schema = reader.metadata().file_metadata().schema_descr();
        let top: Vec<(usize, &ColumnDescriptor)> = schema
            .columns()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.path().parts().len() == 1)
            .map(|(i, c)| (i, c.as_ref()))
            .collect();
        let find = |wanted: &[&str]| {
            top.iter()
                .find(|(_, c)| wanted.iter().any(|w| c.name().eq_ignore_ascii_case(w)))
                .copied()
        };
        let missing = |column: &'static str| DataError::MissingColumn {
            file: file.to_string(),
            column,
            header: top
                .iter()
                .map(|(_, c)| c.name())
                .collect::<Vec<_>>()
                .join(","),
        };
        let time = find(&TIME_NAMES).ok_or_else(|| missing(TIME_COLUMN))?;
        let mut used = vec![time];
        for name in ["open", "high", "low", "close"] {
            used.push(find(&[name]).ok_or_else(|| missing(name))?);
        }
        used.extend(find(&VOLUME_NAMES));
        let columns = used
            .into_iter()
            .enumerate()
            .map(|(role, (leaf, d))| {
                let kind = if role == 0 {
                    time_kind(d)
                } else {
                    number_kind(d)
                };
                let wrong = |expected| DataError::ParquetColumnType {
                    file: file.to_string(),
                    column: d.name().to_owned(),
                    found: describe(d),
                    expected,
                };
                if d.max_rep_level() > 0 {
                    return Err(wrong("a single (not repeated) value per row"));
                }
                Ok(Column {
                    leaf,
                    name: d.name().into(),
                    kind: kind.map_err(wrong)?,
                    max_level: d.max_def_level(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { file, columns })
    }

    /// Builds the event of row `r` of the batch from the converted values (`r < group.clean`).
    #[inline]
    fn clean_row(
        &self,
        group: &Group,
        r: usize,
        at: RowAt,
        options: &ParquetOptions,
    ) -> Result<MarketEvent, DataError> {
        let open_time = group.times[r];
        let numbers = group.numbers.each_ref().map(|column| column[r]);
        self.event(open_time, numbers, at, options)
    }

    /// Reads row `r` of the batch value by value from the decoded buffers and builds its event,
    /// naming the first value refused. Used for the row after the batch's clean rows, where no
    /// column had a null yet, so row `r` is value `r` in every column.
    fn row(
        &self,
        group: &mut Group,
        r: usize,
        at: RowAt,
        options: &ParquetOptions,
    ) -> Result<MarketEvent, DataError> {
        for cursor in &mut group.cursors {
            cursor.next_level = r;
            cursor.next_value = r;
        }
        let time_column = &self.columns[0];
        let raw = group.cursors[0].take();
        let open_time = time_value(time_column.kind, raw).map_err(|r| self.bad(at, 0, raw, r))?;
        let mut numbers = [0.0; 5];
        for (i, n) in numbers.iter_mut().enumerate() {
            let Some(cursor) = group.cursors.get_mut(i + 1) else {
                break;
            };
            let raw = cursor.take();
            let column = &self.columns[i + 1];
            let check = if i < 4 { checks::price } else { checks::finite };
            *n = number_value(column.kind, raw)
                .and_then(check)
                .map_err(|r| self.bad(at, i + 1, raw, r))?;
        }
        self.event(open_time, numbers, at, options)
    }

    /// The event of a row from its open time and `[open, high, low, close, volume]`, naming the
    /// row if the values do not make a candle.
    #[inline]
    fn event(
        &self,
        open_time: Timestamp,
        numbers: [f64; 5],
        at: RowAt,
        options: &ParquetOptions,
    ) -> Result<MarketEvent, DataError> {
        let [open, high, low, close, volume] = numbers;
        let candle = Candle::new(open_time, open, high, low, close, volume)
            .map_err(|e| self.refused(at, &numbers, &e))?;
        let time = checks::event_time(open_time, options.bar_interval);
        Ok(MarketEvent::candle(
            options.venue,
            options.symbol,
            time,
            candle,
        ))
    }

    fn bad(&self, at: RowAt, column: usize, raw: Raw<'_>, reason: &str) -> DataError {
        DataError::ParquetValue {
            file: self.file.to_string(),
            row_group: at.group,
            row: at.row,
            column: self.columns[column].name.to_string(),
            value: raw.to_string(),
            reason: reason.to_owned(),
        }
    }

    /// Maps a candle invariant failure to the column it names.
    fn refused(&self, at: RowAt, numbers: &[f64; 5], e: &ValueError) -> DataError {
        let position = checks::refused_column(e).map(|c| match c {
            Ohlcv::Open => 1,
            Ohlcv::High => 2,
            Ohlcv::Low => 3,
            Ohlcv::Close => 4,
            Ohlcv::Volume => 5,
        });
        let (column, value) = match position.filter(|&p| p < self.columns.len()) {
            Some(p) => (self.columns[p].name.to_string(), numbers[p - 1].to_string()),
            None => (e.field().to_owned(), String::new()),
        };
        DataError::ParquetValue {
            file: self.file.to_string(),
            row_group: at.group,
            row: at.row,
            column,
            value,
            reason: e.to_string(),
        }
    }
}

impl Group {
    /// Opens row group `index` with one column reader per used column.
    fn open(
        reader: &SerializedFileReader<File>,
        layout: &Layout,
        index: usize,
    ) -> Result<Self, DataError> {
        let failed = |e: ParquetError| DataError::Parquet {
            file: layout.file.to_string(),
            row_group: Some(index),
            reason: e.to_string(),
        };
        let group = reader.get_row_group(index).map_err(failed)?;
        let rows = group.metadata().num_rows();
        let undecoded = usize::try_from(rows).map_err(|_| DataError::Parquet {
            file: layout.file.to_string(),
            row_group: Some(index),
            reason: format!("negative row count {rows} in the footer"),
        })?;
        let cursors = layout
            .columns
            .iter()
            .map(|c| {
                let descr = group.metadata().column(c.leaf).column_descr_ptr();
                let pages = group.get_column_page_reader(c.leaf).map_err(failed)?;
                let values = Values::new(descr, pages).map_err(|reason| DataError::Parquet {
                    file: layout.file.to_string(),
                    row_group: Some(index),
                    reason: format!("column {:?}: {reason}", c.name),
                })?;
                Ok(Cursor {
                    values,
                    levels: Vec::new(),
                    max_level: c.max_level,
                    next_level: 0,
                    next_value: 0,
                })
            })
            .collect::<Result<_, DataError>>()?;
        Ok(Self {
            index,
            undecoded,
            batch_left: 0,
            batch_rows: 0,
            clean: 0,
            times: Vec::with_capacity(BATCH_ROWS),
            numbers: std::array::from_fn(|_| Vec::with_capacity(BATCH_ROWS)),
            ready: Vec::with_capacity(BATCH_ROWS),
            ready_pos: 0,
            cursors,
        })
    }

    /// Moves the cursor past `n` ready rows handed out.
    #[inline]
    fn hand_out(&mut self, n: usize) {
        self.ready_pos += n;
        self.batch_left -= n;
    }

    /// Decodes the next batch of every used column; all must yield the same number of rows.
    fn decode_batch(&mut self, layout: &Layout) -> Result<(), DataError> {
        let rows = self.undecoded.min(BATCH_ROWS);
        for (cursor, column) in self.cursors.iter_mut().zip(&layout.columns) {
            let got = cursor.decode(rows).map_err(|e| DataError::Parquet {
                file: layout.file.to_string(),
                row_group: Some(self.index),
                reason: format!("column {:?}: {e}", column.name),
            })?;
            if got != rows {
                return Err(DataError::Parquet {
                    file: layout.file.to_string(),
                    row_group: Some(self.index),
                    reason: format!(
                        "column {:?} ended {} rows early",
                        column.name,
                        self.undecoded - got
                    ),
                });
            }
        }
        self.undecoded -= rows;
        self.batch_left = rows;
        self.batch_rows = rows;
        self.convert(layout, rows);
        Ok(())
    }

    /// Builds [`Self::ready`] from the batch's clean rows, the first at `first_row` in the file:
    /// each row's candle and event in one pass, up to the first row whose values do not make a
    /// candle or whose time does not follow the previous row's (that row is read again, value by
    /// value, to report it). `order` then holds the last ready row.
    fn make_ready(
        &mut self,
        first_row: u64,
        order: &mut TimeOrder<RowAt>,
        options: &ParquetOptions,
    ) {
        self.ready.clear();
        self.ready_pos = 0;
        let [open, high, low, close, volume] = self.numbers.each_ref().map(|n| &n[..self.clean]);
        let times = &self.times[..self.clean];
        for (r, &open_time) in times.iter().enumerate() {
            let Ok(candle) = Candle::new(open_time, open[r], high[r], low[r], close[r], volume[r])
            else {
                break;
            };
            let time = checks::event_time(open_time, options.bar_interval);
            let at = RowAt {
                row: first_row + r as u64,
                group: self.index,
            };
            if order.check(time, at).is_err() {
                break;
            }
            self.ready.push(MarketEvent::candle(
                options.venue,
                options.symbol,
                time,
                candle,
            ));
        }
    }

    /// Converts the decoded batch column by column into `times` and `numbers`, each column up
    /// to its first null or refused value, and sets `clean` to the rows every column converted.
    fn convert(&mut self, layout: &Layout, rows: usize) {
        let mut clean = self.cursors[0].times_into(layout.columns[0].kind, &mut self.times);
        for (i, numbers) in self.numbers.iter_mut().enumerate() {
            numbers.clear();
            match (self.cursors.get(i + 1), layout.columns.get(i + 1)) {
                // Each check monomorphized, so it inlines into the column's scan.
                (Some(cursor), Some(column)) if i < 4 => {
                    clean = clean.min(cursor.numbers_into(column.kind, checks::price, numbers));
                }
                (Some(cursor), Some(column)) => {
                    clean = clean.min(cursor.numbers_into(column.kind, checks::finite, numbers));
                }
                _ => numbers.resize(rows, 0.0),
            }
        }
        self.clean = clean;
    }
}

impl Cursor {
    /// Replaces the buffers with up to `rows` decoded rows; returns how many were decoded.
    fn decode(&mut self, rows: usize) -> Result<usize, ParquetError> {
        self.levels.clear();
        self.next_level = 0;
        self.next_value = 0;
        let levels = (self.max_level > 0).then_some(&mut self.levels);
        let (records, _, _) = match &mut self.values {
            Values::I32(r, v) => read(r, v, rows, levels)?,
            Values::I64(r, v) => read(r, v, rows, levels)?,
            Values::I96(r, v) => read(r, v, rows, levels)?,
            Values::F32(r, v) => read(r, v, rows, levels)?,
            Values::F64(r, v) => read(r, v, rows, levels)?,
            Values::Text(r, v) => read(r, v, rows, levels)?,
        };
        Ok(records)
    }

    /// Leading values of the batch before its first null (all of them for a required column).
    fn dense(&self) -> usize {
        let values = self.values.len();
        if self.max_level == 0 {
            return values;
        }
        self.levels
            .iter()
            .position(|&l| l < self.max_level)
            .unwrap_or(self.levels.len())
            .min(values)
    }

    /// Replaces `out` with the batch's leading times up to the first null or refused value;
    /// returns how many.
    fn times_into(&self, kind: Kind, out: &mut Vec<Timestamp>) -> usize {
        out.clear();
        let dense = self.dense();
        match (&self.values, kind) {
            (Values::I64(_, v), Kind::TimeUnits { nanos }) => {
                for &t in &v[..dense] {
                    let Some(t) = t.checked_mul(nanos) else { break };
                    out.push(Timestamp::from_nanos(t));
                }
            }
            _ => {
                for i in 0..dense {
                    let Ok(t) = time_value(kind, self.raw(i)) else {
                        break;
                    };
                    out.push(t);
                }
            }
        }
        out.len()
    }

    /// Replaces `out` with the batch's leading numbers up to the first null or value `check`
    /// refuses; returns how many.
    fn numbers_into(
        &self,
        kind: Kind,
        check: impl Fn(f64) -> Result<f64, &'static str> + Copy,
        out: &mut Vec<f64>,
    ) -> usize {
        let dense = self.dense();
        match &self.values {
            Values::F64(_, v) => {
                let good = v[..dense]
                    .iter()
                    .position(|&x| check(x).is_err())
                    .unwrap_or(dense);
                out.extend_from_slice(&v[..good]);
            }
            _ => {
                for i in 0..dense {
                    let Ok(x) = number_value(kind, self.raw(i)).and_then(check) else {
                        break;
                    };
                    out.push(x);
                }
            }
        }
        out.len()
    }

    /// Value `i` of the batch's values (not counting nulls).
    fn raw(&self, i: usize) -> Raw<'_> {
        let raw = match &self.values {
            Values::I32(_, v) => v.get(i).copied().map(Raw::I32),
            Values::I64(_, v) => v.get(i).copied().map(Raw::I64),
            Values::I96(_, v) => v.get(i).map(Raw::I96),
            Values::F32(_, v) => v.get(i).copied().map(Raw::F32),
            Values::F64(_, v) => v.get(i).copied().map(Raw::F64),
            Values::Text(_, v) => v.get(i).map(|b| Raw::Text(b.data())),
        };
        raw.unwrap_or(Raw::Null)
    }

    /// The next row's value, `Null` where the definition level says it is missing.
    fn take(&mut self) -> Raw<'_> {
        if self.max_level > 0 {
            let level = self.levels.get(self.next_level).copied().unwrap_or(0);
            self.next_level += 1;
            if level < self.max_level {
                return Raw::Null;
            }
        }
        let i = self.next_value;
        self.next_value += 1;
        self.raw(i)
    }
}

/// Runs a step of the Parquet decoder, turning a panic on corrupt input into
/// [`DataError::Parquet`]. The decoder asserts some page invariants instead of returning errors;
/// after such a failure the stream ends, so the half-updated reader is only dropped.
fn contained<T>(
    file: &str,
    row_group: Option<usize>,
    step: impl FnOnce() -> Result<T, DataError>,
) -> Result<T, DataError> {
    std::panic::catch_unwind(AssertUnwindSafe(step)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("unknown failure");
        Err(DataError::Parquet {
            file: file.to_owned(),
            row_group,
            reason: format!("decoder failed on corrupt data: {what}"),
        })
    })
}

/// Clears `values` and reads up to `rows` records into it (and their levels into `levels`).
fn read<T: parquet::data_type::DataType>(
    reader: &mut ColumnReaderImpl<T>,
    values: &mut Vec<T::T>,
    rows: usize,
    levels: Option<&mut Vec<i16>>,
) -> Result<(usize, usize, usize), ParquetError> {
    values.clear();
    reader.read_records(rows, levels, None, values)
}

impl Values {
    /// Number of decoded values in the buffer.
    fn len(&self) -> usize {
        match self {
            Self::I32(_, v) => v.len(),
            Self::I64(_, v) => v.len(),
            Self::I96(_, v) => v.len(),
            Self::F32(_, v) => v.len(),
            Self::F64(_, v) => v.len(),
            Self::Text(_, v) => v.len(),
        }
    }

    /// A typed reader over `pages` for a column of a physical type the layout admits (never a
    /// boolean or fixed-length column: the schema check refuses those).
    fn new(descr: ColumnDescPtr, pages: Box<dyn PageReader>) -> Result<Self, &'static str> {
        let pages: Box<dyn PageReader> = Box::new(CheckedPages {
            inner: pages,
            dictionary_seen: false,
        });
        Ok(match descr.physical_type() {
            Physical::INT32 => Self::I32(ColumnReaderImpl::new(descr, pages), Vec::new()),
            Physical::INT64 => Self::I64(ColumnReaderImpl::new(descr, pages), Vec::new()),
            Physical::INT96 => Self::I96(ColumnReaderImpl::new(descr, pages), Vec::new()),
            Physical::FLOAT => Self::F32(ColumnReaderImpl::new(descr, pages), Vec::new()),
            Physical::DOUBLE => Self::F64(ColumnReaderImpl::new(descr, pages), Vec::new()),
            Physical::BYTE_ARRAY => Self::Text(ColumnReaderImpl::new(descr, pages), Vec::new()),
            Physical::BOOLEAN | Physical::FIXED_LEN_BYTE_ARRAY => {
                return Err("no reader for this physical type");
            }
        })
    }
}

/// The pages of one column chunk, refusing a dictionary-encoded data page that no dictionary
/// page precedes: the decoder asserts on that corruption instead of returning an error.
struct CheckedPages {
    inner: Box<dyn PageReader>,
    dictionary_seen: bool,
}

impl PageReader for CheckedPages {
    fn get_next_page(&mut self) -> Result<Option<Page>, ParquetError> {
        let page = self.inner.get_next_page()?;
        match &page {
            Some(Page::DictionaryPage { .. }) => self.dictionary_seen = true,
            Some(p)
                if !self.dictionary_seen
                    && matches!(
                        p.encoding(),
                        Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY
                    ) =>
            {
                return Err(ParquetError::General(
                    "dictionary-encoded data page without a dictionary page".to_owned(),
                ));
            }
            _ => {}
        }
        Ok(page)
    }

    fn peek_next_page(&mut self) -> Result<Option<PageMetadata>, ParquetError> {
        self.inner.peek_next_page()
    }

    fn skip_next_page(&mut self) -> Result<(), ParquetError> {
        self.inner.skip_next_page()
    }

    fn at_record_boundary(&mut self) -> Result<bool, ParquetError> {
        self.inner.at_record_boundary()
    }
}

impl Iterator for CheckedPages {
    type Item = Result<Page, ParquetError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::I32(v) => write!(f, "{v}"),
            Self::I64(v) => write!(f, "{v}"),
            Self::I96(v) => write!(f, "INT96 {:?}", v.data()),
            Self::F32(v) => write!(f, "{v}"),
            Self::F64(v) => write!(f, "{v}"),
            Self::Text(t) => write!(f, "{:?}", String::from_utf8_lossy(t)),
        }
    }
}

/// How a time column reads, or what it should have been.
fn time_kind(d: &ColumnDescriptor) -> Result<Kind, &'static str> {
    const EXPECTED: &str = "a timestamp, a date, an integer epoch time or a date-time string";
    const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;
    let logical = d.logical_type_ref();
    let converted = d.converted_type();
    match (d.physical_type(), logical) {
        (Physical::INT64, Some(LogicalType::Timestamp(t))) => Ok(Kind::TimeUnits {
            nanos: match t.unit {
                TimeUnit::MILLIS => 1_000_000,
                TimeUnit::MICROS => 1_000,
                TimeUnit::NANOS => 1,
            },
        }),
        (Physical::INT64, None) if converted == ConvertedType::TIMESTAMP_MILLIS => {
            Ok(Kind::TimeUnits { nanos: 1_000_000 })
        }
        (Physical::INT64, None) if converted == ConvertedType::TIMESTAMP_MICROS => {
            Ok(Kind::TimeUnits { nanos: 1_000 })
        }
        (Physical::INT32, Some(LogicalType::Date)) => Ok(Kind::TimeUnits {
            nanos: NANOS_PER_DAY,
        }),
        (Physical::INT32, None) if converted == ConvertedType::DATE => Ok(Kind::TimeUnits {
            nanos: NANOS_PER_DAY,
        }),
        (Physical::INT32 | Physical::INT64, None | Some(LogicalType::Integer(_)))
            if plain_integer(converted) =>
        {
            Ok(Kind::TimeByMagnitude)
        }
        (Physical::INT96, None) => Ok(Kind::TimeInt96),
        (Physical::BYTE_ARRAY, Some(LogicalType::String)) => Ok(Kind::TimeText),
        (Physical::BYTE_ARRAY, None)
            if matches!(converted, ConvertedType::NONE | ConvertedType::UTF8) =>
        {
            Ok(Kind::TimeText)
        }
        _ => Err(EXPECTED),
    }
}

/// How a price or volume column reads, or what it should have been.
fn number_kind(d: &ColumnDescriptor) -> Result<Kind, &'static str> {
    const EXPECTED: &str = "DOUBLE, FLOAT, or INT32/INT64 (plain or DECIMAL)";
    let plain = Kind::Number {
        divisor: 1.0,
        unsigned: false,
    };
    let decimal = |scale: i32| Kind::Number {
        divisor: 10f64.powi(scale),
        unsigned: false,
    };
    let converted = d.converted_type();
    match (d.physical_type(), d.logical_type_ref()) {
        (Physical::DOUBLE | Physical::FLOAT, None) => Ok(plain),
        (Physical::INT32 | Physical::INT64, Some(LogicalType::Decimal(t))) => Ok(decimal(t.scale)),
        (Physical::INT32 | Physical::INT64, None) if converted == ConvertedType::DECIMAL => {
            Ok(decimal(d.type_scale()))
        }
        (Physical::INT32 | Physical::INT64, Some(LogicalType::Integer(t))) => Ok(Kind::Number {
            divisor: 1.0,
            unsigned: !t.is_signed,
        }),
        (Physical::INT32 | Physical::INT64, None) if plain_integer(converted) => Ok(Kind::Number {
            divisor: 1.0,
            unsigned: matches!(
                converted,
                ConvertedType::UINT_8
                    | ConvertedType::UINT_16
                    | ConvertedType::UINT_32
                    | ConvertedType::UINT_64
            ),
        }),
        _ => Err(EXPECTED),
    }
}

/// An integer column without a date, time or decimal meaning.
fn plain_integer(converted: ConvertedType) -> bool {
    matches!(
        converted,
        ConvertedType::NONE
            | ConvertedType::INT_8
            | ConvertedType::INT_16
            | ConvertedType::INT_32
            | ConvertedType::INT_64
            | ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64
    )
}

/// `INT64 (Timestamp(...))`-style text for error messages.
fn describe(d: &ColumnDescriptor) -> String {
    match (d.logical_type_ref(), d.converted_type()) {
        (Some(l), _) => format!("{} ({l:?})", d.physical_type()),
        (None, ConvertedType::NONE) => d.physical_type().to_string(),
        (None, c) => format!("{} ({c})", d.physical_type()),
    }
}

/// A time column's value as a timestamp.
fn time_value(kind: Kind, raw: Raw<'_>) -> Result<Timestamp, &'static str> {
    const RANGE: &str = "time outside the representable range (1677..2262)";
    match (kind, raw) {
        (_, Raw::Null) => Err("missing value (null)"),
        (Kind::TimeUnits { nanos }, Raw::I64(v)) => {
            v.checked_mul(nanos).map(Timestamp::from_nanos).ok_or(RANGE)
        }
        (Kind::TimeUnits { nanos }, Raw::I32(v)) => i64::from(v)
            .checked_mul(nanos)
            .map(Timestamp::from_nanos)
            .ok_or(RANGE),
        (Kind::TimeByMagnitude, Raw::I64(v)) => epoch_by_magnitude(v),
        (Kind::TimeByMagnitude, Raw::I32(v)) => epoch_by_magnitude(v.into()),
        (Kind::TimeInt96, Raw::I96(v)) => int96_time(v).ok_or(RANGE),
        (Kind::TimeText, Raw::Text(t)) => parse_time(t),
        _ => Err("value of an unexpected type"),
    }
}

/// Julian day (element 2) and nanoseconds of the day (elements 0 and 1), checked.
fn int96_time(v: &Int96) -> Option<Timestamp> {
    const JULIAN_DAY_OF_EPOCH: i64 = 2_440_588;
    let [lo, hi, day] = *v.data() else {
        return None;
    };
    let nanos_of_day = (i64::from(hi) << 32) | i64::from(lo);
    (i64::from(day) - JULIAN_DAY_OF_EPOCH)
        .checked_mul(86_400 * 1_000_000_000)?
        .checked_add(nanos_of_day)
        .map(Timestamp::from_nanos)
}

/// A number column's value as `f64` (not yet checked for finiteness or sign); integers beyond
/// 2^53 round to the nearest `f64`, as long CSV numbers do.
fn number_value(kind: Kind, raw: Raw<'_>) -> Result<f64, &'static str> {
    let Kind::Number { divisor, unsigned } = kind else {
        return Err("value of an unexpected type");
    };
    match raw {
        Raw::Null => Err("missing value (null)"),
        Raw::F64(v) => Ok(v),
        Raw::F32(v) => Ok(f64::from(v)),
        Raw::I32(v) if unsigned => Ok(f64::from(v.cast_unsigned()) / divisor),
        Raw::I32(v) => Ok(f64::from(v) / divisor),
        Raw::I64(v) if unsigned => Ok(v.cast_unsigned() as f64 / divisor),
        Raw::I64(v) => Ok(v as f64 / divisor),
        Raw::I96(_) | Raw::Text(_) => Err("value of an unexpected type"),
    }
}

//! Errors of the backtest crate, one enum per failure surface.
//!
//! [`DataError`] is about input data and always names where: the file, the 1-based line (CSV) or
//! the row group and 0-based row (Parquet), the column and the offending value, so a user can
//! find the right place.
//! [`BacktestError`] is about a run: configuration refused before the first event, a brain error
//! (naming brain, symbol and time), or a data error met while streaming.

use rustrade_core::{Symbol, Timestamp, ValueError};

/// A problem with input market data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// File (or source name) being read.
        file: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV layer itself failed (bad quoting, invalid UTF-8 in a record, ...).
    #[error("{file}:{line}: malformed CSV: {reason}")]
    Csv {
        /// File being read.
        file: String,
        /// 1-based line of the record.
        line: u64,
        /// What the CSV reader reported.
        reason: String,
    },
    /// The file is empty: no header and no rows.
    #[error("{file}: empty file, no rows")]
    Empty {
        /// File being read.
        file: String,
    },
    /// A required column is missing from the header.
    #[error("{file}: no {column} column in the header {header:?}")]
    MissingColumn {
        /// File being read.
        file: String,
        /// The column that was looked for.
        column: &'static str,
        /// The header as read.
        header: String,
    },
    /// A row has a different number of fields than the layout needs.
    #[error("{file}:{line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// File being read.
        file: String,
        /// 1-based line.
        line: u64,
        /// Fields the layout needs.
        expected: usize,
        /// Fields on the row.
        found: usize,
    },
    /// A value could not be parsed or was refused by a candle invariant.
    #[error("{file}:{line}: column {column:?} value {value:?}: {reason}")]
    BadValue {
        /// File being read.
        file: String,
        /// 1-based line.
        line: u64,
        /// Column name (from the header, or the layout's name for headerless files).
        column: String,
        /// The text found in the field.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A row's time is earlier than the previous row's.
    #[error(
        "{file}:{line}: time {time} is earlier than {previous} on line {previous_line} \
         (rows out of order; opt into sorting to load the file anyway)"
    )]
    OutOfOrder {
        /// File being read.
        file: String,
        /// 1-based line of the offending row.
        line: u64,
        /// Its time.
        time: Timestamp,
        /// The time on the row before.
        previous: Timestamp,
        /// That row's line.
        previous_line: u64,
    },
    /// A source handed to the merge yielded an event earlier than its previous one.
    #[error(
        "merge source #{source_index} ({symbol}): event at {time} is earlier than its previous event at {previous}"
    )]
    SourceOutOfOrder {
        /// Position of the source in the list given to the merge.
        source_index: usize,
        /// Symbol of the offending event.
        symbol: Symbol,
        /// Its time.
        time: Timestamp,
        /// The source's previous event time.
        previous: Timestamp,
    },
    /// Two rows carry the same time.
    #[error("{file}:{line}: duplicate time {time}, already on line {first_line}")]
    Duplicate {
        /// File being read.
        file: String,
        /// 1-based line of the second occurrence.
        line: u64,
        /// The repeated time.
        time: Timestamp,
        /// Line of the first occurrence.
        first_line: u64,
    },
    /// The Parquet layer failed: not a Parquet file, a truncated or corrupt footer or page, a
    /// compression codec this build does not read, or a column chunk shorter than its row group.
    #[error("{file}{}: unreadable Parquet: {reason}", in_row_group(*.row_group))]
    Parquet {
        /// File being read.
        file: String,
        /// 0-based row group being read, when the failure is inside one.
        row_group: Option<usize>,
        /// What the Parquet reader reported.
        reason: String,
    },
    /// A Parquet column's type cannot hold what the column is used for (a text price, a
    /// time-of-day as a timestamp, a nested column, ...).
    #[error("{file}: column {column:?} has type {found}; expected {expected}")]
    ParquetColumnType {
        /// File being read.
        file: String,
        /// Column name as in the schema.
        column: String,
        /// Its physical and logical type as found.
        found: String,
        /// What the loader accepts for that column.
        expected: &'static str,
    },
    /// A Parquet value could not be read or was refused by a candle invariant.
    #[error("{file}: row group {row_group}, row {row}: column {column:?} value {value}: {reason}")]
    ParquetValue {
        /// File being read.
        file: String,
        /// 0-based row group holding the row.
        row_group: usize,
        /// 0-based row index in the file (the position a dataframe reading the file shows).
        row: u64,
        /// Column name as in the schema.
        column: String,
        /// The stored value, as text (`null` for a missing value).
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A Parquet row's time is earlier than the previous row's.
    #[error(
        "{file}: row group {row_group}, row {row}: time {time} is earlier than {previous} at row \
         {previous_row} (rows out of order; opt into sorting to load the file anyway)"
    )]
    ParquetOutOfOrder {
        /// File being read.
        file: String,
        /// 0-based row group holding the offending row.
        row_group: usize,
        /// 0-based row index in the file.
        row: u64,
        /// Its time.
        time: Timestamp,
        /// The time on the row before.
        previous: Timestamp,
        /// That row's 0-based index in the file.
        previous_row: u64,
    },
    /// Two Parquet rows carry the same time.
    #[error(
        "{file}: row group {row_group}, row {row}: duplicate time {time}, already at row {first_row}"
    )]
    ParquetDuplicate {
        /// File being read.
        file: String,
        /// 0-based row group holding the second occurrence.
        row_group: usize,
        /// 0-based row index of the second occurrence in the file.
        row: u64,
        /// The repeated time.
        time: Timestamp,
        /// 0-based row index of the first occurrence.
        first_row: u64,
    },
    /// The read-ahead decoder thread could not start, or the source panicked on it.
    #[error("read-ahead: {reason}")]
    ReadAhead {
        /// What failed.
        reason: String,
    },
    /// Option values refused before reading (an invalid symbol, a zero interval, ...).
    #[error("invalid data option: {0}")]
    Option(#[from] ValueError),
}

impl DataError {
    /// The 1-based line the error refers to, when it refers to one.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Csv { line, .. }
            | Self::FieldCount { line, .. }
            | Self::BadValue { line, .. }
            | Self::OutOfOrder { line, .. }
            | Self::Duplicate { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The 0-based Parquet row group and row index in the file the error refers to, when it
    /// refers to one.
    pub fn row(&self) -> Option<(usize, u64)> {
        match self {
            Self::ParquetValue { row_group, row, .. }
            | Self::ParquetOutOfOrder { row_group, row, .. }
            | Self::ParquetDuplicate { row_group, row, .. } => Some((*row_group, *row)),
            _ => None,
        }
    }
}

/// `", row group N"` when the failure is inside a row group.
fn in_row_group(row_group: Option<usize>) -> String {
    row_group.map_or_else(String::new, |g| format!(", row group {g}"))
}

/// Why a backtest or a sweep could not run or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BacktestError {
    /// The configuration was refused before the first event.
    #[error("invalid backtest configuration: {field}: {reason}")]
    Config {
        /// The setting at fault.
        field: &'static str,
        /// What is wrong, with the value.
        reason: String,
    },
    /// A brain returned an error; the run stops there.
    #[error("brain {brain:?} failed on {symbol} at {time}: {message}")]
    Brain {
        /// The brain's name.
        brain: String,
        /// Symbol of the event it was handling.
        symbol: Symbol,
        /// Time of that event.
        time: Timestamp,
        /// The brain's error text.
        message: String,
    },
    /// An event arrived for a symbol without an instrument spec.
    #[error("event for {symbol} at {time}, but no instrument spec was given for it")]
    UnknownSymbol {
        /// The symbol.
        symbol: Symbol,
        /// Time of the event.
        time: Timestamp,
    },
    /// Events went backwards in time (the data source did not enforce order).
    #[error("event for {symbol} at {time} is earlier than the previous event at {previous}")]
    TimeWentBack {
        /// The symbol.
        symbol: Symbol,
        /// Its time.
        time: Timestamp,
        /// The time already reached.
        previous: Timestamp,
    },
    /// The simulated venue filled at a value the engine refuses (a price or quantity not
    /// `> 0`, as data with zero or negative prices can make it); the run stops there.
    #[error("fill {fill_id} on {symbol} at {time} refused: {problem}")]
    InvalidFill {
        /// The fill's id.
        fill_id: String,
        /// Its symbol.
        symbol: Symbol,
        /// Its time.
        time: Timestamp,
        /// The field and value refused.
        problem: rustrade_engine::InvalidFill,
    },
    /// The data source failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The trading engine refused or failed.
    #[error("engine: {0}")]
    Engine(String),
    /// Writing a result stream to its sink (see [`crate::Outputs`]) failed; the run stops there.
    #[error("writing {what}: {source}")]
    Output {
        /// Which stream: `fills CSV`, `trades CSV` or `equity CSV`.
        what: &'static str,
        /// The CSV writer's error (I/O included).
        #[source]
        source: csv::Error,
    },
    /// Writing a report failed.
    #[error("writing {what}: {reason}")]
    Report {
        /// Which output.
        what: &'static str,
        /// The I/O or serialisation error.
        reason: String,
    },
}

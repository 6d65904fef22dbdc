//! Where a run's results go: its fills, closed trades and equity samples each stream to a sink
//! the caller chooses, so a long history need not be kept in memory.
//!
//! | sink | fills, trades | equity curve |
//! |---|---|---|
//! | in memory (the default) | every record, in [`crate::BacktestResult`] | every sample, in the result |
//! | CSV | written as they happen, in the export formats of [`crate::BacktestResult`] | the same |
//! | downsampled | — | at most `max_points` evenly spaced samples, in the result |
//! | off | statistics only | statistics only |
//!
//! Statistics are computed from every sample and every trade whatever the sinks. A CSV sink
//! writes exactly the bytes the matching `BacktestResult::write_*_csv` export writes for an
//! in-memory run of the same inputs, and keeps nothing per record, so a run with every stream
//! sent to files uses memory independent of its length.
//!
//! # Downsampling
//!
//! The downsampled curve keeps the samples whose index (0 for the initial cash) is a multiple
//! of a stride, starting at 1 and doubling (dropping every other kept sample) whenever more than
//! `max_points` would be kept. The last sample is always kept: it replaces the newest strided one
//! when the curve is full. So a curve of at most `max_points` samples is kept whole, a longer one
//! has at most `max_points` samples evenly spaced but for the final step, the first and the last
//! always among them, decided as the run goes without knowing its length.

use std::io::Write;

use rustrade_core::{Fill, Liquidity};

use crate::{BacktestError, EquityPoint, TradeRecord};

/// Where fills or closed trades go.
pub enum RecordSink<'w> {
    /// Kept in the result (`BacktestResult::fills` / `trades`).
    Memory,
    /// Written as CSV rows to the writer as they happen; the result's list stays empty.
    Csv(Box<dyn Write + 'w>),
    /// Not kept (their statistics are still computed).
    Off,
}

/// Where the equity curve goes.
pub enum EquitySink<'w> {
    /// Every sample kept in the result (`BacktestResult::equity`, `n + 1` samples).
    Memory,
    /// At most this many samples kept in the result, evenly spaced (see the module doc); at
    /// least 2.
    Downsampled(usize),
    /// Every sample written as a CSV row to the writer; the result's curve stays empty.
    Csv(Box<dyn Write + 'w>),
    /// Not kept (the statistics are still computed from every sample).
    Off,
}

/// The sinks of one run; [`Outputs::default`] keeps everything in memory.
///
/// ```
/// use std::sync::Arc;
/// use rustrade_backtest::{brains::Periodic, synthetic, Backtest, EquitySink, Outputs, RecordSink};
/// use rustrade_core::{AssetClass, InstrumentSpec};
///
/// let spec = InstrumentSpec::new(synthetic::synthetic_symbol(), AssetClass::CryptoSpot, 0.01, 0.001)?;
/// let bt = Backtest::builder().instrument(spec).brain(Arc::new(Periodic::new(10))).build()?;
/// let mut trades = Vec::new();
/// let outputs = Outputs {
///     trades: RecordSink::Csv(Box::new(&mut trades)),
///     equity: EquitySink::Downsampled(100),
///     ..Outputs::statistics_only()
/// };
/// let result = bt.run_with(synthetic::random_walk(1, 10_000), outputs)?;
/// assert!(result.trades.is_empty() && result.fills.is_empty());
/// assert!(result.equity.len() <= 100);
/// assert!(trades.starts_with(b"brain,symbol,side"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Outputs<'w> {
    /// Every fill.
    pub fills: RecordSink<'w>,
    /// Every closed round trip.
    pub trades: RecordSink<'w>,
    /// The equity curve.
    pub equity: EquitySink<'w>,
}

impl Outputs<'_> {
    /// Everything kept in memory: the result of [`crate::Backtest::run`] with recording on.
    pub fn memory() -> Self {
        Self {
            fills: RecordSink::Memory,
            trades: RecordSink::Memory,
            equity: EquitySink::Memory,
        }
    }

    /// Nothing kept but the statistics.
    pub fn statistics_only() -> Self {
        Self {
            fills: RecordSink::Off,
            trades: RecordSink::Off,
            equity: EquitySink::Off,
        }
    }
}

impl Default for Outputs<'_> {
    fn default() -> Self {
        Self::memory()
    }
}

/// Header of the fills CSV.
pub(crate) const FILL_HEADER: [&str; 11] = [
    "fill_id",
    "order_id",
    "client_id",
    "symbol",
    "side",
    "price",
    "quantity",
    "fee",
    "fee_asset",
    "liquidity",
    "time",
];

/// Header of the trades CSV.
pub(crate) const TRADE_HEADER: [&str; 12] = [
    "brain",
    "symbol",
    "side",
    "quantity",
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "gross_pnl",
    "fees",
    "net_pnl",
    "return",
];

/// Header of the equity CSV.
pub(crate) const EQUITY_HEADER: [&str; 2] = ["time", "equity"];

/// A fill as a CSV row (columns of [`FILL_HEADER`]).
pub(crate) fn fill_row(f: &Fill) -> [String; 11] {
    [
        f.fill_id.as_str().to_owned(),
        f.order_id.as_str().to_owned(),
        f.client_id
            .as_ref()
            .map_or_else(String::new, |c| c.as_str().to_owned()),
        f.symbol.to_string(),
        f.side.to_string(),
        f.price.get().to_string(),
        f.quantity.get().to_string(),
        f.fee.get().to_string(),
        f.fee_asset.as_str().to_owned(),
        match f.liquidity {
            Liquidity::Maker => "maker",
            Liquidity::Taker => "taker",
        }
        .to_owned(),
        f.time.to_rfc3339(),
    ]
}

/// A trade as a CSV row (columns of [`TRADE_HEADER`]).
pub(crate) fn trade_row(t: &TradeRecord) -> [String; 12] {
    [
        t.brain.as_str().to_owned(),
        t.symbol.to_string(),
        t.side.to_string(),
        t.quantity.to_string(),
        t.entry_time.to_rfc3339(),
        t.exit_time.to_rfc3339(),
        t.entry_price.to_string(),
        t.exit_price.to_string(),
        t.gross_pnl.to_string(),
        t.fees.to_string(),
        t.net_pnl.to_string(),
        t.return_fraction.to_string(),
    ]
}

/// An equity sample as a CSV row (columns of [`EQUITY_HEADER`]).
pub(crate) fn equity_row(p: &EquityPoint) -> [String; 2] {
    [p.time.to_rfc3339(), p.equity.to_string()]
}

/// A CSV stream of one kind of record, its header written on creation.
pub(crate) struct CsvStream<'w> {
    writer: csv::Writer<Box<dyn Write + 'w>>,
    what: &'static str,
}

impl<'w> CsvStream<'w> {
    pub(crate) fn new(
        out: Box<dyn Write + 'w>,
        what: &'static str,
        header: &[&str],
    ) -> Result<Self, BacktestError> {
        let mut stream = Self {
            writer: csv::Writer::from_writer(out),
            what,
        };
        stream.row(header)?;
        Ok(stream)
    }

    pub(crate) fn row<I>(&mut self, fields: I) -> Result<(), BacktestError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let what = self.what;
        self.writer
            .write_record(fields)
            .map_err(|source| BacktestError::Output { what, source })
    }

    pub(crate) fn finish(mut self) -> Result<(), BacktestError> {
        let what = self.what;
        self.writer.flush().map_err(|e| BacktestError::Output {
            what,
            source: e.into(),
        })
    }
}

/// A run's sink for fills or trades.
pub(crate) enum Records<'w, T> {
    Memory(Vec<T>),
    Csv(Box<CsvStream<'w>>),
    Off,
}

impl<'w, T> Records<'w, T> {
    pub(crate) fn new(
        sink: RecordSink<'w>,
        what: &'static str,
        header: &[&str],
    ) -> Result<Self, BacktestError> {
        Ok(match sink {
            RecordSink::Memory => Self::Memory(Vec::new()),
            RecordSink::Csv(out) => Self::Csv(Box::new(CsvStream::new(out, what, header)?)),
            RecordSink::Off => Self::Off,
        })
    }

    /// Whether records are wanted at all (building one may cost something).
    pub(crate) fn wanted(&self) -> bool {
        !matches!(self, Self::Off)
    }

    /// Keeps or writes `record`; `row` formats it for a CSV sink.
    #[inline]
    pub(crate) fn push<R, const N: usize>(&mut self, record: T, row: R) -> Result<(), BacktestError>
    where
        R: FnOnce(&T) -> [String; N],
    {
        match self {
            Self::Memory(v) => v.push(record),
            Self::Csv(s) => s.row(row(&record))?,
            Self::Off => {}
        }
        Ok(())
    }

    /// The records kept in memory (none for the other sinks), after flushing a CSV sink.
    pub(crate) fn finish(self) -> Result<Vec<T>, BacktestError> {
        match self {
            Self::Memory(v) => Ok(v),
            Self::Csv(s) => s.finish().map(|()| Vec::new()),
            Self::Off => Ok(Vec::new()),
        }
    }
}

/// A run's sink for equity samples.
pub(crate) enum Curve<'w> {
    Memory(Vec<EquityPoint>),
    Downsampled(Downsample),
    Csv(Box<CsvStream<'w>>),
    Off,
}

impl<'w> Curve<'w> {
    /// The run's sink for `sink`, its buffer reserved for `expected` samples when kept whole.
    pub(crate) fn new(sink: EquitySink<'w>, expected: usize) -> Result<Self, BacktestError> {
        Ok(match sink {
            EquitySink::Memory => Self::Memory(Vec::with_capacity(expected)),
            EquitySink::Downsampled(max) => Self::Downsampled(Downsample::new(max)?),
            EquitySink::Csv(out) => {
                Self::Csv(Box::new(CsvStream::new(out, "equity CSV", &EQUITY_HEADER)?))
            }
            EquitySink::Off => Self::Off,
        })
    }

    /// Keeps or writes `point`. The whole-curve sink (the default, once per time step) is
    /// handled inline; the others out of line, so their code does not stop this from inlining.
    #[inline]
    pub(crate) fn push(&mut self, point: EquityPoint) -> Result<(), BacktestError> {
        if let Self::Memory(v) = self {
            v.push(point);
            return Ok(());
        }
        self.push_elsewhere(point)
    }

    /// [`Self::push`] for every sink but [`Curve::Memory`].
    #[inline(never)]
    fn push_elsewhere(&mut self, point: EquityPoint) -> Result<(), BacktestError> {
        match self {
            Self::Memory(v) => v.push(point),
            Self::Downsampled(d) => d.push(point),
            Self::Csv(s) => s.row(equity_row(&point))?,
            Self::Off => {}
        }
        Ok(())
    }

    /// The samples kept in memory, after flushing a CSV sink.
    pub(crate) fn finish(self) -> Result<Vec<EquityPoint>, BacktestError> {
        match self {
            Self::Memory(v) => Ok(v),
            Self::Downsampled(d) => Ok(d.finish()),
            Self::Csv(s) => s.finish().map(|()| Vec::new()),
            Self::Off => Ok(Vec::new()),
        }
    }
}

/// The downsampled curve of the module doc.
pub(crate) struct Downsample {
    max: usize,
    stride: u64,
    /// Samples seen so far.
    seen: u64,
    kept: Vec<EquityPoint>,
    /// The last sample seen, when it was not kept.
    last: Option<EquityPoint>,
}

impl Downsample {
    pub(crate) fn new(max: usize) -> Result<Self, BacktestError> {
        if max < 2 {
            return Err(BacktestError::Config {
                field: "equity",
                reason: format!("a downsampled curve keeps at least 2 points (got {max})"),
            });
        }
        Ok(Self {
            max,
            stride: 1,
            seen: 0,
            kept: Vec::with_capacity(max),
            last: None,
        })
    }

    #[inline]
    fn push(&mut self, point: EquityPoint) {
        let index = self.seen;
        self.seen += 1;
        if !index.is_multiple_of(self.stride) {
            self.last = Some(point);
            return;
        }
        self.last = None;
        if self.kept.len() == self.max {
            // Keep the samples at even positions: those whose index is a multiple of 2 × stride.
            let mut position = 0;
            self.kept.retain(|_| {
                position += 1;
                position % 2 == 1
            });
            self.stride *= 2;
            if !index.is_multiple_of(self.stride) {
                self.last = Some(point);
                return;
            }
        }
        self.kept.push(point);
    }

    fn finish(mut self) -> Vec<EquityPoint> {
        if let Some(last) = self.last {
            if self.kept.len() == self.max {
                self.kept.pop();
            }
            self.kept.push(last);
        }
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use rustrade_core::Timestamp;

    use super::*;

    fn curve(max: usize, n: i64) -> Vec<i64> {
        let mut d = Downsample::new(max).unwrap();
        for i in 0..n {
            d.push(EquityPoint {
                time: Timestamp::from_nanos(i),
                equity: i as f64,
            });
        }
        d.finish().iter().map(|p| p.time.as_nanos()).collect()
    }

    #[test]
    fn short_curves_are_kept_whole() {
        assert_eq!(curve(4, 3), [0, 1, 2]);
        assert_eq!(curve(4, 4), [0, 1, 2, 3]);
        assert_eq!(curve(2, 1), [0]);
        assert!(curve(3, 0).is_empty());
    }

    #[test]
    fn long_curves_keep_evenly_spaced_samples_and_the_last() {
        assert_eq!(curve(4, 5), [0, 2, 4]);
        assert_eq!(curve(4, 6), [0, 2, 4, 5]);
        assert_eq!(curve(5, 10), [0, 2, 4, 6, 9]);
        assert_eq!(curve(4, 9), [0, 4, 8]);
        for (max, n) in [(2, 1_000), (3, 17), (100, 1_000_001), (7, 64)] {
            let kept = curve(max, n);
            assert!(kept.len() <= max, "{max} {n}: {}", kept.len());
            assert_eq!(kept.first(), Some(&0));
            assert_eq!(kept.last(), Some(&(n - 1)));
            let steps: Vec<i64> = kept.windows(2).map(|w| w[1] - w[0]).collect();
            let stride = steps[0];
            assert!(
                steps[..steps.len() - 1].iter().all(|&s| s == stride),
                "{max} {n}: {steps:?}"
            );
        }
    }

    #[test]
    fn fewer_than_two_points_is_refused() {
        for max in [0, 1] {
            let e = Downsample::new(max).err().unwrap();
            assert!(e.to_string().contains(&format!("got {max}")), "{e}");
        }
    }
}

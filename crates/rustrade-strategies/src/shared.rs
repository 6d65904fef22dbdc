//! Indicator series computed once over a data set and read by many brains: [`SeriesCache`].
//!
//! A parameter sweep runs the same strategy over the same candles at many parameter points, and
//! points often repeat an indicator: in a grid of 10 fast × 10 slow SMA lengths, each length
//! appears in ten points. A [`SeriesCache`] holds each symbol's candles as columns and, per
//! [`SeriesKey`], the value that indicator takes at every candle; a brain built with
//! [`RuleBrain::shared`](crate::RuleBrain::shared) reads those values instead of updating its
//! own indicator.
//!
//! # Invariants
//!
//! - A series is the output of the very indicator the rule would run itself ([`Sma`],
//!   [`Ema`], ...), fed the same inputs in the same order, so a value read from it is the same
//!   `f64`, bit for bit, as the one the rule would compute: a brain over a cache decides exactly
//!   as one without.
//! - Value `k` of a symbol's series belongs to that symbol's `k`-th candle in the data the cache
//!   was built from. A brain checks each candle's time against the cache's and answers an error
//!   when they differ (other data than the cache's), never a value of another candle.
//! - A series whose indicator is not warmed up at an index holds no value there; the warm-up is
//!   a prefix (every ready indicator has one), checked when the series is computed: one that is
//!   not is left out, and brains compute that indicator themselves.
//! - A brain falls back to its own indicator for a series the cache does not hold, and for a
//!   symbol it has no candles of.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustrade_core::{MarketEvent, Symbol, Timestamp};

use crate::indicators::{Bollinger, Donchian, Ema, Rsi, Sma};

/// An indicator series over the candles of one symbol that a ready strategy can read from a
/// [`SeriesCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeriesKey {
    /// [`Sma`] of the closes over this many bars.
    Sma(u16),
    /// [`Ema`] of the closes over this many bars.
    Ema(u16),
    /// [`Rsi`] of the closes over this many changes.
    Rsi(u16),
    /// The middle band (mean of the closes) of a [`Bollinger`] over this many bars.
    BollingerMiddle(u16),
    /// The population standard deviation of the closes of a [`Bollinger`] over this many bars.
    BollingerDeviation(u16),
    /// The upper line (highest high) of a [`Donchian`] channel over this many bars.
    DonchianUpper(u16),
    /// The lower line (lowest low) of a [`Donchian`] channel over this many bars.
    DonchianLower(u16),
}

/// One indicator's value at each candle of one symbol: none for the first
/// [`warm_up`](Self::warm_up) candles, then one per candle.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    warm_up: usize,
    values: Box<[f64]>,
}

impl Series {
    /// Candles without a value, at the start.
    pub fn warm_up(&self) -> usize {
        self.warm_up
    }

    /// Candles covered, warm-up included.
    pub fn len(&self) -> usize {
        self.warm_up + self.values.len()
    }

    /// Whether the series covers no candle.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at candle `k` (0-based): `None` during the warm-up and past the end.
    #[inline]
    pub fn get(&self, k: usize) -> Option<f64> {
        k.checked_sub(self.warm_up)
            .and_then(|i| self.values.get(i))
            .copied()
    }

    /// Collects `outputs`; `None` when a value is missing after the first present one (no
    /// prefix warm-up).
    fn collect(outputs: impl Iterator<Item = Option<f64>>) -> Option<Self> {
        let mut warm_up = 0;
        let mut values = Vec::new();
        for v in outputs {
            match (v, values.is_empty()) {
                (Some(v), _) => values.push(v),
                (None, true) => warm_up += 1,
                (None, false) => return None,
            }
        }
        Some(Self {
            warm_up,
            values: values.into_boxed_slice(),
        })
    }
}

/// The candles of one symbol, as columns.
#[derive(Debug, Clone, Default)]
struct Columns {
    times: Vec<Timestamp>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
}

/// One symbol's columns and the series computed over them.
#[derive(Debug)]
struct SymbolData {
    columns: Columns,
    times: Arc<[Timestamp]>,
    series: BTreeMap<SeriesKey, Arc<Series>>,
}

/// Indicator series over one data set, per symbol, computed once and shared (read-only) by every
/// brain built over it.
///
/// ```
/// use std::sync::Arc;
///
/// use rustrade_core::{Candle, MarketEvent, Position, Symbol, Timestamp, Venue};
/// use rustrade_strategies::{RuleBrain, SeriesCache, SeriesKey, SmaCross, Strategy};
///
/// let (venue, symbol) = (Venue::new("sim")?, Symbol::new("BTCUSDT")?);
/// let events: Vec<MarketEvent> = [5.0, 4.0, 3.0, 2.0, 6.0]
///     .into_iter()
///     .enumerate()
///     .map(|(i, close)| {
///         let t = Timestamp::from_secs(i as i64 * 60).unwrap();
///         MarketEvent::candle(venue, symbol, t, Candle::new(t, close, close, close, close, 1.0).unwrap())
///     })
///     .collect();
/// let rule = SmaCross { fast: 2, slow: 3, ..SmaCross::default() };
/// let mut cache = SeriesCache::new(&events);
/// cache.compute_all(rule.shared_series());
/// assert_eq!(cache.series(symbol, SeriesKey::Sma(2)).unwrap().get(1), Some(4.5));
///
/// let brain = RuleBrain::shared("sma_cross", rule, serde_json::Value::Null, Arc::new(cache))?;
/// let decisions: Vec<_> = events.iter().map(|e| brain.on_event(e, &Position::FLAT)).collect::<Result<_, _>>()?;
/// assert_eq!(decisions[4], rustrade_core::Decision::buy(1.0));
/// # use rustrade_core::Brain;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct SeriesCache {
    symbols: BTreeMap<Symbol, SymbolData>,
}

/// Series computed by [`SeriesCache::compute`], to be stored with [`SeriesCache::insert`].
#[derive(Debug)]
pub struct Computed {
    key: SeriesKey,
    per_symbol: Vec<(Symbol, Option<Series>)>,
}

impl SeriesCache {
    /// The candles of `events` (other events are skipped), per symbol in order, with no series yet.
    pub fn new(events: &[MarketEvent]) -> Self {
        let mut columns: BTreeMap<Symbol, Columns> = BTreeMap::new();
        for e in events {
            let Some(c) = e.as_candle() else { continue };
            let col = columns.entry(e.symbol).or_default();
            col.times.push(e.time);
            col.high.push(c.high().get());
            col.low.push(c.low().get());
            col.close.push(c.close().get());
        }
        let symbols = columns
            .into_iter()
            .map(|(symbol, mut columns)| {
                let times = Arc::from(std::mem::take(&mut columns.times));
                (
                    symbol,
                    SymbolData {
                        columns,
                        times,
                        series: BTreeMap::new(),
                    },
                )
            })
            .collect();
        Self { symbols }
    }

    /// The symbols with candles.
    pub fn symbols(&self) -> impl Iterator<Item = Symbol> + '_ {
        self.symbols.keys().copied()
    }

    /// Computes `key` over every symbol's candles, without storing it: computations of
    /// different keys may run in parallel over `&self`.
    pub fn compute(&self, key: SeriesKey) -> Computed {
        let per_symbol = self
            .symbols
            .iter()
            .map(|(s, d)| (*s, compute(key, &d.columns)))
            .collect();
        Computed { key, per_symbol }
    }

    /// Stores what [`SeriesCache::compute`] returned (a series that cannot be shared is left out).
    pub fn insert(&mut self, computed: Computed) {
        for (symbol, series) in computed.per_symbol {
            if let (Some(series), Some(d)) = (series, self.symbols.get_mut(&symbol)) {
                d.series.insert(computed.key, Arc::new(series));
            }
        }
    }

    /// Computes and stores each of `keys` not held yet, one after the other.
    pub fn compute_all(&mut self, keys: impl IntoIterator<Item = SeriesKey>) {
        for key in keys {
            if !self.holds(key) {
                let c = self.compute(key);
                self.insert(c);
            }
        }
    }

    /// Whether `key` was computed (for every symbol where it can be shared).
    pub fn holds(&self, key: SeriesKey) -> bool {
        self.symbols.values().any(|d| d.series.contains_key(&key))
    }

    /// Series `key` over `symbol`'s candles, if computed.
    pub fn series(&self, symbol: Symbol, key: SeriesKey) -> Option<&Arc<Series>> {
        self.symbols.get(&symbol)?.series.get(&key)
    }

    /// The times of `symbol`'s candles, if it has any.
    pub(crate) fn times(&self, symbol: Symbol) -> Option<&Arc<[Timestamp]>> {
        self.symbols.get(&symbol).map(|d| &d.times)
    }

    /// What a rule reads for `symbol`.
    pub(crate) fn view(&self, symbol: Symbol) -> SymbolSeries<'_> {
        SymbolSeries {
            series: self.symbols.get(&symbol).map(|d| &d.series),
        }
    }
}

/// The series of one symbol of a [`SeriesCache`], as a rule starting on that symbol sees them.
#[derive(Debug, Clone, Copy)]
pub struct SymbolSeries<'a> {
    series: Option<&'a BTreeMap<SeriesKey, Arc<Series>>>,
}

impl SymbolSeries<'_> {
    /// A cursor at the first candle of series `key`, if it was computed.
    pub fn cursor(&self, key: SeriesKey) -> Option<Cursor> {
        self.series?.get(&key).map(|s| Cursor {
            series: Arc::clone(s),
            pos: 0,
        })
    }
}

/// Reads a [`Series`] one candle after the other, as its indicator would answer them.
#[derive(Debug, Clone)]
pub struct Cursor {
    series: Arc<Series>,
    pos: usize,
}

impl Cursor {
    /// The value at the next candle (`None` during the warm-up).
    #[inline]
    #[expect(
        clippy::should_implement_trait,
        reason = "the indicators' own name for one step"
    )]
    pub fn next(&mut self) -> Option<f64> {
        let v = self.series.get(self.pos);
        self.pos += 1;
        v
    }
}

/// An indicator a rule either runs itself or reads from a shared series.
#[derive(Debug, Clone)]
pub(crate) enum Feed<I> {
    /// Updated by the rule, one input per candle.
    Own(I),
    /// Read from a [`SeriesCache`].
    Shared(Cursor),
}

impl<I> Feed<I> {
    /// The cached series `key` when `view` holds it, else `own`.
    pub(crate) fn of(view: Option<&SymbolSeries<'_>>, key: SeriesKey, own: I) -> Self {
        match view.and_then(|v| v.cursor(key)) {
            Some(c) => Self::Shared(c),
            None => Self::Own(own),
        }
    }

    /// The next value: from the cursor, or from `step` on the own indicator.
    #[inline]
    pub(crate) fn next(&mut self, step: impl FnOnce(&mut I) -> Option<f64>) -> Option<f64> {
        match self {
            Self::Own(i) => step(i),
            Self::Shared(c) => c.next(),
        }
    }
}

fn compute(key: SeriesKey, c: &Columns) -> Option<Series> {
    let closes = c.close.iter().copied();
    match key {
        SeriesKey::Sma(n) => {
            let mut i = Sma::new(n).ok()?;
            Series::collect(closes.map(|x| i.next(x)))
        }
        SeriesKey::Ema(n) => {
            let mut i = Ema::new(n).ok()?;
            Series::collect(closes.map(|x| i.next(x)))
        }
        SeriesKey::Rsi(n) => {
            let mut i = Rsi::new(n).ok()?;
            Series::collect(closes.map(|x| i.next(x)))
        }
        SeriesKey::BollingerMiddle(n) => {
            let mut i = Bollinger::new(n, 1.0).ok()?;
            Series::collect(closes.map(|x| i.moments(x).map(|m| m.0)))
        }
        SeriesKey::BollingerDeviation(n) => {
            let mut i = Bollinger::new(n, 1.0).ok()?;
            Series::collect(closes.map(|x| i.moments(x).map(|m| m.1)))
        }
        SeriesKey::DonchianUpper(n) => {
            let mut i = Donchian::new(n).ok()?;
            let bars = c.high.iter().zip(&c.low);
            Series::collect(bars.map(|(h, l)| i.next(*h, *l).map(|b| b.upper)))
        }
        SeriesKey::DonchianLower(n) => {
            let mut i = Donchian::new(n).ok()?;
            let bars = c.high.iter().zip(&c.low);
            Series::collect(bars.map(|(h, l)| i.next(*h, *l).map(|b| b.lower)))
        }
    }
}

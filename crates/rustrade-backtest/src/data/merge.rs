//! Streaming k-way merge of per-symbol event sources.
//!
//! # Invariants
//!
//! - Holds at most one pending event per source (a binary heap of size k): memory does not grow
//!   with history, and after construction a merged event costs no heap allocation.
//! - Output order is `(time, symbol, source index)`: events with equal times come out in symbol
//!   order, then in the order the sources were given. The result is therefore deterministic.
//! - Each source must itself be in time order (the loaders enforce it); the merge re-checks and
//!   turns a violation into [`DataError::SourceOutOfOrder`] rather than emitting events backwards.
//! - The first error of any source is yielded and ends the merged stream.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rustrade_core::{MarketEvent, Timestamp};

use crate::DataError;

/// Merges `sources` into one stream ordered by time, ties broken by symbol (see module doc).
///
/// ```
/// use rustrade_backtest::data::merge;
/// use rustrade_backtest::synthetic::{random_walk_for, WalkParams};
/// use rustrade_core::Symbol;
///
/// let a = random_walk_for(Symbol::new("A")?, 1, 3, WalkParams::default());
/// let b = random_walk_for(Symbol::new("B")?, 2, 3, WalkParams::default());
/// let merged: Vec<_> = merge(vec![b, a]).collect::<Result<_, _>>()?;
/// let symbols: Vec<&str> = merged.iter().map(|e| e.symbol.as_str()).collect();
/// assert_eq!(symbols, ["A", "B", "A", "B", "A", "B"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn merge<I>(sources: Vec<I>) -> Merge<I>
where
    I: Iterator<Item = Result<MarketEvent, DataError>>,
{
    Merge {
        heap: BinaryHeap::with_capacity(sources.len()),
        last: vec![None; sources.len()],
        sources,
        started: false,
        done: false,
    }
}

/// The iterator returned by [`merge`].
pub struct Merge<I> {
    sources: Vec<I>,
    heap: BinaryHeap<Reverse<Pending>>,
    last: Vec<Option<Timestamp>>,
    started: bool,
    done: bool,
}

struct Pending {
    event: MarketEvent,
    source: usize,
}

impl<I> Merge<I>
where
    I: Iterator<Item = Result<MarketEvent, DataError>>,
{
    /// Pulls the next event of `source` into the heap.
    fn refill(&mut self, source: usize) -> Result<(), DataError> {
        match self.sources[source].next() {
            None => Ok(()),
            Some(Err(e)) => Err(e),
            Some(Ok(event)) => {
                if let Some(previous) = self.last[source]
                    && event.time < previous
                {
                    return Err(DataError::SourceOutOfOrder {
                        source_index: source,
                        symbol: event.symbol,
                        time: event.time,
                        previous,
                    });
                }
                self.last[source] = Some(event.time);
                self.heap.push(Reverse(Pending { event, source }));
                Ok(())
            }
        }
    }

    fn step(&mut self) -> Option<Result<MarketEvent, DataError>> {
        if !self.started {
            self.started = true;
            for i in 0..self.sources.len() {
                if let Err(e) = self.refill(i) {
                    return Some(Err(e));
                }
            }
        }
        let Reverse(top) = self.heap.pop()?;
        if let Err(e) = self.refill(top.source) {
            return Some(Err(e));
        }
        Some(Ok(top.event))
    }
}

impl<I> Iterator for Merge<I>
where
    I: Iterator<Item = Result<MarketEvent, DataError>>,
{
    type Item = Result<MarketEvent, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let pending = self.heap.len();
        self.sources
            .iter()
            .fold((pending, Some(pending)), |(lo, hi), s| {
                let (slo, shi) = s.size_hint();
                (
                    lo.saturating_add(slo),
                    hi.zip(shi).and_then(|(a, b)| a.checked_add(b)),
                )
            })
    }
}

impl Pending {
    fn key(&self) -> (Timestamp, &str, usize) {
        (self.event.time, self.event.symbol.as_str(), self.source)
    }
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

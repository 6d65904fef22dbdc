//! The time-order policy every file loader applies, independent of how a loader names a row.
//!
//! A loader identifies rows by a position `P` (a CSV line, a Parquet row) and turns a
//! [`Broken`] order into its own [`crate::DataError`] variant, so the policy is written once:
//!
//! - streaming (the default): times strictly increase; a time equal to the previous row's is a
//!   duplicate, an earlier one is out of order ([`TimeOrder`]);
//! - sorting (opt-in): rows are ordered by time, ties kept in file order, and any two rows with
//!   one time are still a duplicate ([`sort_strictly`]).

use rustrade_core::{MarketEvent, Timestamp};

/// Why a row's time broke the order, naming the earlier row by its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disorder<P> {
    /// The time equals the time of the row at `first`.
    Duplicate {
        /// The row that first carried the time.
        first: P,
    },
    /// The time is earlier than `previous`, the time of the row at `previous_at`.
    Earlier {
        /// The previous row's time.
        previous: Timestamp,
        /// The previous row's position.
        previous_at: P,
    },
}

/// A row that broke the order: its position and time, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Broken<P> {
    /// The offending row.
    pub(crate) at: P,
    /// Its time.
    pub(crate) time: Timestamp,
    /// What it conflicts with.
    pub(crate) why: Disorder<P>,
}

/// Remembers the last accepted row's time and position while streaming.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeOrder<P> {
    previous: Option<(Timestamp, P)>,
}

impl<P: Copy> TimeOrder<P> {
    /// No row seen yet.
    pub(crate) fn new() -> Self {
        Self { previous: None }
    }

    /// Accepts `time` at `at` when it is later than the previous accepted time.
    pub(crate) fn check(&mut self, time: Timestamp, at: P) -> Result<(), Broken<P>> {
        if let Some((previous, previous_at)) = self.previous {
            let why = if time == previous {
                Disorder::Duplicate { first: previous_at }
            } else if time < previous {
                Disorder::Earlier {
                    previous,
                    previous_at,
                }
            } else {
                self.previous = Some((time, at));
                return Ok(());
            };
            return Err(Broken { at, time, why });
        }
        self.previous = Some((time, at));
        Ok(())
    }
}

/// Sorts `rows` by time (file order on ties) and refuses two rows with one time, naming the
/// later of the two in file order.
pub(crate) fn sort_strictly<P: Copy + Ord>(rows: &mut [(MarketEvent, P)]) -> Result<(), Broken<P>> {
    rows.sort_by_key(|(e, at)| (e.time, *at));
    for pair in rows.windows(2) {
        let ((a, a_at), (b, b_at)) = (&pair[0], &pair[1]);
        if a.time == b.time {
            return Err(Broken {
                at: *b_at,
                time: b.time,
                why: Disorder::Duplicate { first: *a_at },
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rustrade_core::{Candle, Symbol};

    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_secs(secs).unwrap()
    }

    #[test]
    fn streaming_accepts_increasing_and_names_the_earlier_row() {
        let mut order = TimeOrder::new();
        assert_eq!(order.check(t(1), 10), Ok(()));
        assert_eq!(order.check(t(2), 11), Ok(()));
        let duplicate = order.check(t(2), 12).unwrap_err();
        assert_eq!(
            (duplicate.at, duplicate.time, duplicate.why),
            (12, t(2), Disorder::Duplicate { first: 11 })
        );
        let earlier = order.check(t(1), 13).unwrap_err();
        assert_eq!(
            (earlier.at, earlier.why),
            (
                13,
                Disorder::Earlier {
                    previous: t(2),
                    previous_at: 11
                }
            )
        );
        assert_eq!(order.check(t(3), 14), Ok(()));
    }

    fn event(secs: i64) -> MarketEvent {
        let candle = Candle::new(t(secs), 1.0, 1.0, 1.0, 1.0, 0.0).unwrap();
        let symbol = Symbol::new("X").unwrap();
        MarketEvent::candle(super::super::default_venue(), symbol, t(secs), candle)
    }

    #[test]
    fn sorting_keeps_file_order_and_refuses_equal_times() {
        let mut rows = vec![(event(3), 0), (event(1), 1), (event(2), 2)];
        sort_strictly(&mut rows).unwrap();
        let order: Vec<i32> = rows.iter().map(|(_, at)| *at).collect();
        assert_eq!(order, [1, 2, 0]);
        let mut rows = vec![(event(3), 0), (event(1), 1), (event(3), 2)];
        let broken = sort_strictly(&mut rows).unwrap_err();
        assert_eq!(
            (broken.at, broken.time, broken.why),
            (2, t(3), Disorder::Duplicate { first: 0 })
        );
    }
}

//! [`FundingModel`]: periodic funding of perpetual positions, and the [`FundingPayment`]s it books.
//!
//! # Formula
//!
//! At each funding instant `T` of a symbol, with the position `q` (signed, base units) held after
//! the event that covers `T` was matched, that event's reference price `mark` (a candle's close,
//! a quote's mid, a trade's price) and contract value `cv`:
//!
//! ```text
//! payment = q × mark × cv × rate(T)        cash -= payment
//! ```
//!
//! So longs pay and shorts receive when the rate is positive, and the reverse when it is negative.
//! An event covers every instant in `(previous event time, event time]` of its symbol; instants
//! before the symbol's first event are not charged (nothing was held). Instants while flat book
//! nothing.

use std::time::Duration;

use rustrade_core::{Symbol, Timestamp};

use crate::error::{SimError, check_range};

/// One historical funding rate.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FundingRate {
    /// The funding instant.
    pub time: Timestamp,
    /// The rate charged at that instant (`0.0001` = 1 bp per interval).
    pub rate: f64,
}

/// How a symbol is funded.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FundingModel {
    /// No funding (spot, dated futures, equities).
    #[default]
    None,
    /// The same rate every `interval`, at instants `anchor + k × interval` for every integer `k`.
    Constant {
        /// Rate per interval.
        rate: f64,
        /// Time between instants, `> 0`.
        interval: Duration,
        /// One funding instant (for example midnight UTC).
        anchor: Timestamp,
    },
    /// Historical rates, strictly increasing in time.
    Series {
        /// The rates.
        rates: Vec<FundingRate>,
    },
}

impl FundingModel {
    /// Checks rates are finite and within `[-1, 1]`, the interval is positive and a series is
    /// strictly increasing in time.
    pub fn validate(&self) -> Result<(), SimError> {
        match self {
            Self::None => Ok(()),
            Self::Constant { rate, interval, .. } => {
                check_range("funding.rate", *rate, -1.0, 1.0)?;
                if interval.is_zero() || i64::try_from(interval.as_nanos()).is_err() {
                    return Err(SimError::InvalidParameter {
                        field: "funding.interval",
                        value: interval.as_secs_f64(),
                        reason: "must be > 0 and fit the timestamp range",
                    });
                }
                Ok(())
            }
            Self::Series { rates } => {
                for (i, r) in rates.iter().enumerate() {
                    check_range("funding.rates[].rate", r.rate, -1.0, 1.0)?;
                    if i > 0 && r.time <= rates[i - 1].time {
                        return Err(SimError::FundingOutOfOrder {
                            index: i,
                            time: r.time.as_nanos(),
                        });
                    }
                }
                Ok(())
            }
        }
    }
}

/// A funding cash flow booked by the venue. `amount > 0` was paid by us, `< 0` received.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FundingPayment {
    /// Instrument.
    pub symbol: Symbol,
    /// The funding instant.
    pub time: Timestamp,
    /// Rate applied.
    pub rate: f64,
    /// Signed position the payment was computed on.
    pub position: f64,
    /// Mark price used.
    pub mark: f64,
    /// Amount paid (`> 0`) or received (`< 0`), in the quote asset.
    pub amount: f64,
}

/// Walks a symbol's funding instants as its events advance.
#[derive(Debug, Clone, Default)]
pub(crate) struct FundingCursor {
    model: FundingModel,
    /// Index of the next series entry, or `k` of the next constant instant.
    next: i64,
    started: bool,
}

impl FundingCursor {
    pub(crate) fn new(model: FundingModel) -> Self {
        Self {
            model,
            next: 0,
            started: false,
        }
    }

    pub(crate) fn is_none(&self) -> bool {
        matches!(self.model, FundingModel::None)
    }

    /// Calls `charge(instant, rate)` for each instant in `(previous time, now]`; on the first call,
    /// skips every instant up to `now`.
    pub(crate) fn advance(&mut self, now: Timestamp, mut charge: impl FnMut(Timestamp, f64)) {
        match &self.model {
            FundingModel::None => {}
            FundingModel::Constant {
                rate,
                interval,
                anchor,
            } => {
                let step = i64::try_from(interval.as_nanos()).unwrap_or(i64::MAX);
                let instant = |k: i64| {
                    Timestamp::from_nanos(anchor.as_nanos().saturating_add(k.saturating_mul(step)))
                };
                if !self.started {
                    self.started = true;
                    // First k with anchor + k·step > now.
                    let diff = i128::from(now.as_nanos()) - i128::from(anchor.as_nanos());
                    let k = diff.div_euclid(i128::from(step)) + 1;
                    self.next = i64::try_from(k).unwrap_or(i64::MAX);
                    return;
                }
                while self.next < i64::MAX && instant(self.next) <= now {
                    charge(instant(self.next), *rate);
                    self.next += 1;
                }
            }
            FundingModel::Series { rates } => {
                let mut i = usize::try_from(self.next).unwrap_or(usize::MAX);
                if !self.started {
                    self.started = true;
                    i = rates.partition_point(|r| r.time <= now);
                } else {
                    while let Some(r) = rates.get(i) {
                        if r.time > now {
                            break;
                        }
                        charge(r.time, r.rate);
                        i += 1;
                    }
                }
                self.next = i64::try_from(i).unwrap_or(i64::MAX);
            }
        }
    }
}

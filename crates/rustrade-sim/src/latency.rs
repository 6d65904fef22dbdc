//! [`LatencyModel`]: when a submitted order reaches the simulated matching engine.
//!
//! # Rule
//!
//! An order submitted after the venue has seen `k` events of its symbol, at venue time `now`
//! (the time of the latest event of any symbol), *arrives* on the first later event `e` of its
//! symbol with
//!
//! ```text
//! index(e) > k + extra_events     and     start(e) >= now + delay
//! ```
//!
//! where `start(e)` is a candle's open time, or the event time of a quote or trade. The model
//! gives `extra_events` and `delay`:
//!
//! | model | `extra_events` | `delay` |
//! | --- | --- | --- |
//! | `Zero` | 0 | 0 |
//! | `Events { n }` | `n` | 0 |
//! | `Fixed { delay }` | 0 | `delay` |
//! | `Uniform { min, max }` | 0 | drawn uniformly in `[min, max]` from the venue's seeded RNG |
//!
//! So even with `Zero` an order decided on an event is first matched against the *next* event
//! (no look-ahead); only `trade_on_close` with `Zero` latency lets it fill at the price already
//! seen. A candle that started before the order was ready is skipped whole, since its prices
//! cannot be split into before and after arrival.

use std::time::Duration;

use crate::error::SimError;

/// When submitted orders become active at the simulated venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LatencyModel {
    /// Orders arrive on the next event of their symbol.
    #[default]
    Zero,
    /// Orders skip `n` further events of their symbol before arriving.
    Events {
        /// Events skipped after the next one.
        n: u32,
    },
    /// Orders arrive once `delay` of venue time has passed.
    Fixed {
        /// Delay from submission.
        delay: Duration,
    },
    /// Orders arrive after a delay drawn uniformly from `[min, max]` (seeded, reproducible).
    Uniform {
        /// Shortest delay.
        min: Duration,
        /// Longest delay.
        max: Duration,
    },
}

impl LatencyModel {
    /// Checks `min <= max` for a uniform model and that delays fit the timestamp range.
    pub fn validate(&self) -> Result<(), SimError> {
        let too_long = |field, d: Duration| SimError::InvalidParameter {
            field,
            value: d.as_secs_f64(),
            reason: "must be shorter than 100 years",
        };
        const LIMIT: Duration = Duration::from_secs(100 * 365 * 86_400);
        match *self {
            Self::Zero | Self::Events { .. } => Ok(()),
            Self::Fixed { delay } if delay > LIMIT => Err(too_long("latency.delay", delay)),
            Self::Fixed { .. } => Ok(()),
            Self::Uniform { max, .. } if max > LIMIT => Err(too_long("latency.max", max)),
            Self::Uniform { min, max } if min > max => Err(SimError::InvalidParameter {
                field: "latency.min",
                value: min.as_secs_f64(),
                reason: "must not exceed latency.max",
            }),
            Self::Uniform { .. } => Ok(()),
        }
    }

    /// Whether the model delays nothing (orders may act on the last seen price with
    /// `trade_on_close`).
    pub fn is_zero(&self) -> bool {
        match *self {
            Self::Zero => true,
            Self::Events { n } => n == 0,
            Self::Fixed { delay } => delay.is_zero(),
            Self::Uniform { max, .. } => max.is_zero(),
        }
    }

    /// `(extra_events, delay)` for one order, drawing from `rng` for a uniform model.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut fastrand::Rng) -> (u64, Duration) {
        match *self {
            Self::Zero => (0, Duration::ZERO),
            Self::Events { n } => (u64::from(n), Duration::ZERO),
            Self::Fixed { delay } => (0, delay),
            Self::Uniform { min, max } => {
                let lo = u64::try_from(min.as_nanos()).unwrap_or(u64::MAX);
                let hi = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
                (0, Duration::from_nanos(rng.u64(lo..=hi)))
            }
        }
    }
}

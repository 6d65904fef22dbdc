//! The fill rules: how one working order meets one market event.
//!
//! This module is pure: it looks at an order and at what the market did during one event (a
//! view of the prices its side could trade at) and says whether the order fills, at what
//! reference price and with which liquidity. Quantities, slippage, fees and bookkeeping are the
//! venue's job ([`crate::SimVenue`] documents the whole protocol).
//!
//! # Views
//!
//! - Candle `(O, H, L, C, V)`: both sides see the bar.
//! - Quote: a buy sees the ask as a one-price bar (`O = H = L = C = ask`, volume = ask size), a
//!   sell sees the bid (volume = bid size).
//! - Trade: both sides see the trade price as a one-price bar (volume = trade size).
//!
//! # Rules (buy side shown; a sell mirrors every comparison)
//!
//! An order is *arriving* on the first event it is matched against (see
//! [`LatencyModel`](crate::LatencyModel)) and *resting* on every later one.
//!
//! | kind | condition | reference price | liquidity |
//! | --- | --- | --- | --- |
//! | market | always | `O` | taker |
//! | limit `P`, arriving | `O <= P` | `O` | taker |
//! | limit `P`, resting | `O <= P` (gap through) | `O` | maker |
//! | limit `P` | else `L <= P` | `P` | maker |
//! | post-only `P`, arriving | `O <= P` | rejected `WouldTake` | — |
//! | IOC `P` (arriving only) | `O <= P` | `O`, rest cancelled | taker |
//! | IOC `P` | else | cancelled | — |
//! | FOK `P` (arriving only) | `O <= P` and the whole size is available | `O` | taker |
//! | FOK `P` | else | rejected `NotFillable` | — |
//! | stop `T` | `H >= T` | `max(O, T)` (the worse open on a gap) | taker |
//! | stop-limit `T`, `P` | `H >= T`, triggering at `X = max(O, T)` | `X` if `X <= P`, else rests as limit `P` from the next event | taker |
//! | take-profit `T` | `L <= T` | `min(O, T)` (the better open on a gap) | taker |
//! | trailing stop `D` | see below | | taker |
//!
//! A *sell* stop triggers on `L <= T` at `min(O, T)`; a sell take-profit on `H >= T` at
//! `max(O, T)`; a sell limit fills on `O >= P` / `H >= P`.
//!
//! A trailing stop (sell shown) keeps `best`, the highest price seen since it arrived. On each
//! event: `best = max(best, O)`; with `trigger = best − D`, it fills at `O` if `O <= trigger`,
//! else at `trigger` if `L <= trigger`; otherwise `best = max(best, H)` and, because the close
//! comes after the high, it fills at the new `trigger` if `C <= trigger`. A buy trailing stop
//! follows the lowest price with `trigger = best + D`.
//!
//! # Invariants
//!
//! - Every reference price lies in `[L, H]` of the event (the open is in the range, and a level is
//!   only used when the range reached it); a one-price view fills at that price.
//! - No order is matched against the event on which it was decided: arrival is always a later
//!   event, except under `trade_on_close`, where the arriving view is the last seen price itself.
//! - A stop or take-profit that has triggered but could not fill in full (participation cap)
//!   continues as a market order; a triggered stop-limit continues as a resting limit.

use rustrade_core::{Liquidity, RejectReason, Side};

/// The prices one side of the market could trade at during one event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct View {
    pub(crate) open: f64,
    pub(crate) high: f64,
    pub(crate) low: f64,
    pub(crate) close: f64,
    pub(crate) volume: f64,
    /// The range that bounds every price traded during the event (a candle's `[low, high]`):
    /// slippage never moves a fill outside it. `None` for quotes and trades.
    pub(crate) bounds: Option<(f64, f64)>,
}

impl View {
    /// A one-price view (a quote side, a trade, or the last close under `trade_on_close`), with
    /// the range of the event it came from, if any.
    pub(crate) fn point(price: f64, volume: f64, bounds: Option<(f64, f64)>) -> Self {
        Self {
            open: price,
            high: price,
            low: price,
            close: price,
            volume,
            bounds,
        }
    }
}

/// How an order behaves at the venue: the kind and time in force folded into one rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Behaviour {
    Market,
    Limit { price: f64, post_only: bool },
    Ioc { price: Option<f64> },
    Fok { price: Option<f64> },
    Stop { trigger: f64 },
    StopLimit { trigger: f64, limit: f64 },
    TakeProfit { trigger: f64 },
    Trailing { offset: f64, best: Option<f64> },
}

impl Behaviour {
    /// Stops are matched before other reduce-only orders of the same event (conservative).
    pub(crate) fn is_stop(&self) -> bool {
        matches!(
            self,
            Self::Stop { .. } | Self::StopLimit { .. } | Self::Trailing { .. }
        )
    }

    /// The band `(low_level, high_level)` an event must reach for a *resting* order of `side` to
    /// do anything: unless `view.low <= low_level || view.high >= high_level`, [`evaluate`]
    /// returns [`Step::Wait`] and changes nothing. Kinds that act on every event (market,
    /// trailing, IOC, FOK) return a band every event reaches.
    #[inline]
    pub(crate) fn watch(&self, side: Side) -> (f64, f64) {
        const ALWAYS: (f64, f64) = (f64::INFINITY, f64::NEG_INFINITY);
        let buy = side == Side::Buy;
        let below = |level| (level, f64::INFINITY);
        let above = |level| (f64::NEG_INFINITY, level);
        match *self {
            Self::Limit { price, .. } => {
                if buy {
                    below(price)
                } else {
                    above(price)
                }
            }
            Self::Stop { trigger } | Self::StopLimit { trigger, .. } => {
                if buy {
                    above(trigger)
                } else {
                    below(trigger)
                }
            }
            Self::TakeProfit { trigger } => {
                if buy {
                    below(trigger)
                } else {
                    above(trigger)
                }
            }
            Self::Market | Self::Ioc { .. } | Self::Fok { .. } | Self::Trailing { .. } => ALWAYS,
        }
    }
}

/// What one event does to one order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Step {
    /// Nothing this event.
    Wait,
    /// Fill at `price` (before slippage); `cancel_rest` for IOC remainders.
    Fill {
        price: f64,
        liquidity: Liquidity,
        cancel_rest: bool,
    },
    /// Refused on arrival (post-only that would take, FOK that cannot fill).
    Reject(RejectReason),
    /// Cancelled on arrival (IOC with nothing marketable).
    Cancel,
}

/// Applies the fill rules of the module doc. `available` is the quantity the participation cap
/// still allows on this side (infinite without a cap); `remaining` the unfilled size.
pub(crate) fn evaluate(
    behaviour: &mut Behaviour,
    side: Side,
    v: &View,
    arriving: bool,
    remaining: f64,
    available: f64,
) -> Step {
    let buy = side == Side::Buy;
    // Whether trading at `px` is at least as good as `limit` for this side.
    let within = |px: f64, limit: f64| if buy { px <= limit } else { px >= limit };
    // Whether the event's range reached `limit` from the favourable side.
    let reached = |limit: f64| if buy { v.low <= limit } else { v.high >= limit };
    let taker = |price| Step::Fill {
        price,
        liquidity: Liquidity::Taker,
        cancel_rest: false,
    };
    let maker = |price| Step::Fill {
        price,
        liquidity: Liquidity::Maker,
        cancel_rest: false,
    };
    match *behaviour {
        Behaviour::Market => taker(v.open),
        Behaviour::Limit { price, post_only } => {
            if within(v.open, price) {
                match (arriving, post_only) {
                    (true, true) => Step::Reject(RejectReason::WouldTake),
                    (true, false) => taker(v.open),
                    (false, _) => maker(v.open),
                }
            } else if reached(price) {
                maker(price)
            } else {
                Step::Wait
            }
        }
        Behaviour::Ioc { price } => {
            if price.is_none_or(|p| within(v.open, p)) {
                Step::Fill {
                    price: v.open,
                    liquidity: Liquidity::Taker,
                    cancel_rest: true,
                }
            } else {
                Step::Cancel
            }
        }
        Behaviour::Fok { price } => {
            if price.is_none_or(|p| within(v.open, p)) && available >= remaining {
                taker(v.open)
            } else {
                Step::Reject(RejectReason::NotFillable)
            }
        }
        Behaviour::Stop { trigger } => match stop_cross(buy, v, trigger) {
            Some(px) => {
                *behaviour = Behaviour::Market;
                taker(px)
            }
            None => Step::Wait,
        },
        Behaviour::StopLimit { trigger, limit } => match stop_cross(buy, v, trigger) {
            Some(px) => {
                *behaviour = Behaviour::Limit {
                    price: limit,
                    post_only: false,
                };
                if within(px, limit) {
                    taker(px)
                } else {
                    Step::Wait
                }
            }
            None => Step::Wait,
        },
        Behaviour::TakeProfit { trigger } => {
            // A take-profit is a stop in the favourable direction: a buy triggers on the way down.
            match stop_cross(!buy, v, trigger) {
                Some(px) => {
                    *behaviour = Behaviour::Market;
                    taker(px)
                }
                None => Step::Wait,
            }
        }
        Behaviour::Trailing { offset, best } => {
            let (step, new_best) = trail(buy, v, offset, best);
            *behaviour = match step {
                Step::Fill { .. } => Behaviour::Market,
                _ => Behaviour::Trailing {
                    offset,
                    best: Some(new_best),
                },
            };
            step
        }
    }
}

/// A stop of side `buy` at `trigger`: the fill price when the event crosses it. A buy stop
/// triggers when the price rises to the trigger and fills at the worse of trigger and open.
fn stop_cross(buy: bool, v: &View, trigger: f64) -> Option<f64> {
    if buy {
        (v.high >= trigger).then(|| v.open.max(trigger))
    } else {
        (v.low <= trigger).then(|| v.open.min(trigger))
    }
}

/// One event of a trailing stop; returns the step and the best price after it.
fn trail(buy: bool, v: &View, offset: f64, best: Option<f64>) -> (Step, f64) {
    let fill = |price| Step::Fill {
        price,
        liquidity: Liquidity::Taker,
        cancel_rest: false,
    };
    if buy {
        let mut best = best.map_or(v.open, |b| b.min(v.open));
        let trigger = best + offset;
        if v.open >= trigger {
            return (fill(v.open), best);
        }
        if v.high >= trigger {
            return (fill(trigger), best);
        }
        best = best.min(v.low);
        let trigger = best + offset;
        if v.close >= trigger {
            return (fill(trigger), best);
        }
        (Step::Wait, best)
    } else {
        let mut best = best.map_or(v.open, |b| b.max(v.open));
        let trigger = best - offset;
        if v.open <= trigger {
            return (fill(v.open), best);
        }
        if v.low <= trigger {
            return (fill(trigger), best);
        }
        best = best.max(v.high);
        let trigger = best - offset;
        if v.close <= trigger {
            return (fill(trigger), best);
        }
        (Step::Wait, best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(open: f64, high: f64, low: f64, close: f64) -> View {
        View {
            open,
            high,
            low,
            close,
            volume: 100.0,
            bounds: Some((low, high)),
        }
    }

    fn price_of(step: Step) -> Option<(f64, Liquidity)> {
        match step {
            Step::Fill {
                price, liquidity, ..
            } => Some((price, liquidity)),
            _ => None,
        }
    }

    proptest::proptest! {
        #[test]
        fn outside_the_watch_band_a_resting_order_waits(
            kind in 0u8..5, buy in proptest::bool::ANY, level in 50.0f64..150.0,
            o in 50.0f64..150.0, c in 50.0f64..150.0, up in 0.0f64..20.0, down in 0.0f64..20.0,
        ) {
            let side = if buy { Side::Buy } else { Side::Sell };
            let mut b = match kind {
                0 => Behaviour::Limit { price: level, post_only: false },
                1 => Behaviour::Stop { trigger: level },
                2 => Behaviour::StopLimit { trigger: level, limit: level + 1.0 },
                3 => Behaviour::TakeProfit { trigger: level },
                _ => Behaviour::Limit { price: level, post_only: true },
            };
            let v = bar(o, o.max(c) + up, o.min(c) - down, c);
            let (lo, hi) = b.watch(side);
            let before = b;
            if v.low > lo && v.high < hi {
                proptest::prop_assert_eq!(evaluate(&mut b, side, &v, false, 1.0, 1.0), Step::Wait);
                proptest::prop_assert_eq!(b, before);
            }
        }
    }

    #[test]
    fn sell_stop_fills_at_trigger_or_worse_open() {
        let mut b = Behaviour::Stop { trigger: 95.0 };
        let s = evaluate(
            &mut b,
            Side::Sell,
            &bar(100.0, 101.0, 94.0, 96.0),
            false,
            1.0,
            1.0,
        );
        assert_eq!(price_of(s), Some((95.0, Liquidity::Taker)));
        assert_eq!(b, Behaviour::Market);
        let mut b = Behaviour::Stop { trigger: 95.0 };
        let s = evaluate(
            &mut b,
            Side::Sell,
            &bar(90.0, 92.0, 89.0, 91.0),
            false,
            1.0,
            1.0,
        );
        assert_eq!(price_of(s), Some((90.0, Liquidity::Taker)));
    }

    #[test]
    fn trailing_sell_follows_the_high_then_fills_after_it() {
        let mut b = Behaviour::Trailing {
            offset: 5.0,
            best: None,
        };
        // Arrives at 100, rises to 110 and closes at 104 <= 110 - 5: fills at 105.
        let s = evaluate(
            &mut b,
            Side::Sell,
            &bar(100.0, 110.0, 99.0, 104.0),
            true,
            1.0,
            1.0,
        );
        assert_eq!(price_of(s), Some((105.0, Liquidity::Taker)));
        let mut b = Behaviour::Trailing {
            offset: 5.0,
            best: None,
        };
        let s = evaluate(
            &mut b,
            Side::Sell,
            &bar(100.0, 110.0, 99.0, 108.0),
            true,
            1.0,
            1.0,
        );
        assert_eq!(s, Step::Wait);
        assert_eq!(
            b,
            Behaviour::Trailing {
                offset: 5.0,
                best: Some(110.0)
            }
        );
    }
}

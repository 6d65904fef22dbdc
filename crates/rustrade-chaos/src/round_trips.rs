//! [`RoundTrips`] and [`BreakerState`]: the round trips a symbol's fills form when applied in
//! a given order, and the session and loss-breaker state they imply — the kit's own reckoning,
//! written apart from the core ledger and the risk crate so it can disagree with both.
//!
//! # Why the order comes from the journal
//!
//! A round trip runs from flat to flat, and which fills form one depends on the order they
//! were applied in: two entries sent while the first one's fill was still on its way (the bot
//! saw itself flat) and their exits, applied as `B B S S` or `B S B S`, make one trip or two,
//! with a different win/loss split and the same total. The venue's records give the fills;
//! the order and the times the bot applied them are the bot's, and the kit takes those two
//! from its journal (`FillApplied` records) and everything else — side, size, price, fee —
//! from the venue's record of each fill id.
//!
//! # The breaker
//!
//! With a window longer than the run, the breaker's losses are the losing trips since its
//! last trip, less those closed while it was tripped; it trips at every `loss_limit`-th of
//! them, for `cooldown` from the time the tripping loss was applied ([`BreakerState::of`]).
//! The bot applies every fill at the venue's time of the fill, so a trip runs from when the
//! venue made the losing close, even one made while the bot was down.

use std::time::Duration;

use rustrade_core::{Fill, Timestamp};

/// A round trip whose net is within this distance of zero may be classified either way: the engine
/// calls a net within 1e-9 a breakeven, and the kit's sums differ from the ledger's in the
/// last bits.
pub const UNDECIDED_NET: f64 = 1e-6;

/// One closed round trip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundTrip {
    /// Cash the trip's fills moved less their fees (both legs).
    pub net: f64,
    /// Fees of both legs.
    pub fees: f64,
    /// The time its closing fill (the last of its fills applied) was applied at.
    pub closed_at: Timestamp,
}

/// The round trips of one symbol's fills, in the order they were applied.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoundTrips {
    /// The closed trips, oldest first.
    pub closed: Vec<RoundTrip>,
    /// Fills of the trip still open.
    pub open_fills: usize,
}

impl RoundTrips {
    /// The trips `fills` form when applied in the order given, each at the time beside it
    /// (a trip closes at the time its closing fill was applied).
    pub fn applied<'a>(
        fills: impl IntoIterator<Item = (&'a Fill, Timestamp)>,
        lot: f64,
        cv: f64,
    ) -> Self {
        let mut out = Self::default();
        let mut lots: i64 = 0;
        let mut open = Open::default();
        for (f, time) in fills {
            let size = to_lots(f.quantity.get(), lot);
            let signed = if f.side.sign() > 0.0 { size } else { -size };
            let cash = -f.side.sign() * f.quantity.get() * f.price.get() * cv;
            let fee = f.fee.get();
            let next = lots + signed;
            let flips = lots != 0 && next != 0 && next.signum() != lots.signum();
            if flips {
                // Past flat: the closing share ends the trip, the rest opens the next one.
                let share = lots.unsigned_abs() as f64 / size.unsigned_abs() as f64;
                open.add(cash * share, fee * share, time);
                out.close(&mut open);
                open.add(cash * (1.0 - share), fee * (1.0 - share), time);
            } else {
                // Opening, adding or reducing: the trip goes on unless it is now flat.
                open.add(cash, fee, time);
                if next == 0 && lots != 0 {
                    out.close(&mut open);
                }
            }
            lots = next;
        }
        out.open_fills = open.fills;
        out
    }

    fn close(&mut self, open: &mut Open) {
        self.closed.push(RoundTrip {
            net: open.cash - open.fees,
            fees: open.fees,
            closed_at: open.last,
        });
        *open = Open::default();
    }
}

#[derive(Debug, Default)]
struct Open {
    cash: f64,
    fees: f64,
    fills: usize,
    last: Timestamp,
}

impl Open {
    fn add(&mut self, cash: f64, fee: f64, time: Timestamp) {
        self.cash += cash;
        self.fees += fee;
        self.fills += 1;
        self.last = time;
    }
}

fn to_lots(quantity: f64, lot: f64) -> i64 {
    // Quantities are whole lots (the venue snaps them); rounding removes binary dust.
    (quantity / lot).round() as i64
}

/// What the closed trips imply for the session and the loss breaker.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BreakerState {
    /// Trips whose net is above [`UNDECIDED_NET`].
    pub wins: u32,
    /// Trips whose net is below `−UNDECIDED_NET`.
    pub losses: u32,
    /// Trips too close to breakeven to classify.
    pub undecided: u32,
    /// Fees of the closed trips.
    pub fees: f64,
    /// Net of the closed trips.
    pub net: f64,
    /// Losses since the last trip of the breaker.
    pub recent_losses: u32,
    /// How often the breaker tripped.
    pub trips: u32,
    /// When the loss the breaker last tripped on was applied.
    pub last_trip: Option<Timestamp>,
    /// A loss stamped inside a trip's cooldown was applied after the trip (fills applied out
    /// of their venue order): the breaker ignored it unless a call at or after the trip's end
    /// (a later fill, a market event) had already cleared the trip, which the journal does not
    /// show, so the breaker's losses and trip are not known from then on.
    pub unsettled: bool,
}

impl BreakerState {
    /// The state `trips` (in the order applied, closed at the times they were applied at)
    /// imply under a breaker tripping at `loss_limit` losses for `cooldown`, whose window is
    /// longer than the run. A loss closed before the trip in force ends is not counted (the
    /// breaker without `extend_on_loss`); it makes the state [`unsettled`](Self::unsettled).
    pub fn of(trips: &[RoundTrip], loss_limit: u32, cooldown: Duration) -> Self {
        let mut s = Self::default();
        for t in trips {
            s.fees += t.fees;
            s.net += t.net;
            if t.net > UNDECIDED_NET {
                s.wins += 1;
            } else if t.net < -UNDECIDED_NET {
                s.losses += 1;
                let tripped = s
                    .last_trip
                    .is_some_and(|at| t.closed_at < at.saturating_add(cooldown));
                if tripped {
                    s.unsettled = true;
                    continue;
                }
                s.recent_losses += 1;
                if s.recent_losses >= loss_limit {
                    s.recent_losses = 0;
                    s.trips += 1;
                    s.last_trip = Some(t.closed_at);
                }
            } else {
                s.undecided += 1;
            }
        }
        s
    }

    /// Whether the breaker blocks entries at `now`.
    pub fn tripped(&self, cooldown: Duration, now: Timestamp) -> bool {
        self.last_trip
            .is_some_and(|at| now < at.saturating_add(cooldown))
    }
}

#[cfg(test)]
mod tests {
    use rustrade_core::{
        Asset, ClientOrderId, FillId, Liquidity, Money, OrderId, Price, Quantity, Side, Symbol,
    };

    use super::*;

    const LOT: f64 = 0.001;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_000 + secs).unwrap()
    }

    fn fill(n: u32, side: Side, qty: f64, price: f64, secs: i64) -> Fill {
        Fill {
            fill_id: FillId::new(&format!("f{n}")).unwrap(),
            order_id: OrderId::new(&format!("o{n}")).unwrap(),
            client_id: Some(ClientOrderId::new(&format!("chaos-0-{n}")).unwrap()),
            symbol: Symbol::new("AAAUSDT").unwrap(),
            side,
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            fee: Money::new(0.01).unwrap(),
            fee_asset: Asset::new("USDT").unwrap(),
            liquidity: Liquidity::Taker,
            time: at(secs),
        }
    }

    fn applied(fills: &[Fill]) -> RoundTrips {
        RoundTrips::applied(fills.iter().map(|f| (f, f.time)), LOT, 1.0)
    }

    #[test]
    fn trips_run_flat_to_flat_and_close_when_applied() {
        let fills = [
            fill(1, Side::Buy, 1.0, 100.0, 0),
            fill(2, Side::Sell, 1.0, 99.0, 1),
            fill(3, Side::Sell, 1.0, 101.0, 2),
            fill(4, Side::Buy, 1.0, 100.0, 3),
            fill(5, Side::Buy, 1.0, 100.0, 4),
        ];
        let trips = applied(&fills);
        assert_eq!(trips.open_fills, 1);
        let nets: Vec<f64> = trips.closed.iter().map(|t| t.net).collect();
        assert!(
            (nets[0] + 1.02).abs() < 1e-9 && (nets[1] - 0.98).abs() < 1e-9,
            "{nets:?}"
        );
        assert_eq!(trips.closed[0].closed_at, at(1));
        // Each trip's closing fill applied first: the same trips, closed when the opening
        // fills were applied.
        let swapped = [
            (&fills[1], at(5)),
            (&fills[0], at(6)),
            (&fills[3], at(7)),
            (&fills[2], at(8)),
        ];
        let again = RoundTrips::applied(swapped, LOT, 1.0);
        assert!(
            again
                .closed
                .iter()
                .zip(&nets)
                .all(|(t, n)| (t.net - n).abs() < 1e-9)
        );
        assert_eq!(again.closed[1].closed_at, at(8));
    }

    #[test]
    fn the_order_decides_the_trips_and_a_flip_splits_its_fill() {
        let stacked = [
            fill(1, Side::Buy, 1.0, 100.0, 0),
            fill(2, Side::Buy, 1.0, 100.0, 1),
            fill(3, Side::Sell, 1.0, 99.0, 2),
            fill(4, Side::Sell, 1.0, 102.0, 3),
        ];
        let one = applied(&stacked);
        assert_eq!(one.closed.len(), 1);
        assert!((one.closed[0].net - 0.96).abs() < 1e-9);
        let interleaved = [stacked[0], stacked[2], stacked[1], stacked[3]];
        let two = applied(&interleaved);
        let nets: Vec<f64> = two.closed.iter().map(|t| t.net).collect();
        assert!(
            (nets[0] + 1.02).abs() < 1e-9 && (nets[1] - 1.98).abs() < 1e-9,
            "{nets:?}"
        );
        // A sell of 2 against a long of 1: the closing half ends the trip with half the fee.
        let flip = [
            fill(1, Side::Buy, 1.0, 100.0, 0),
            fill(2, Side::Sell, 2.0, 102.0, 1),
        ];
        let trips = applied(&flip);
        assert_eq!((trips.closed.len(), trips.open_fills), (1, 1));
        assert!((trips.closed[0].fees - 0.015).abs() < 1e-12);
        assert!((trips.closed[0].net - 1.985).abs() < 1e-9);
    }

    fn trip(net: f64, secs: i64) -> RoundTrip {
        RoundTrip {
            net,
            fees: 0.02,
            closed_at: at(secs),
        }
    }

    #[test]
    fn the_breaker_trips_every_limit_losses_and_ignores_those_during_its_cooldown() {
        let trips = [
            trip(-1.0, 0),
            trip(2.0, 1),
            trip(-1.0, 2),
            trip(-1.0, 3),
            trip(-1.0, 9),
            trip(0.0, 10),
        ];
        let s = BreakerState::of(&trips, 3, Duration::from_secs(6));
        assert_eq!((s.wins, s.losses, s.undecided), (1, 4, 1));
        assert_eq!((s.trips, s.recent_losses, s.last_trip), (1, 1, Some(at(3))));
        assert!((s.fees - 0.12).abs() < 1e-12 && (s.net + 2.0).abs() < 1e-12);
        assert!(s.tripped(Duration::from_secs(6), at(8)));
        assert!(!s.tripped(Duration::from_secs(6), at(9)));
        assert!(!s.unsettled);
        // With a 10 s cooldown the loss at 9 s closed while tripped and is not counted.
        let s = BreakerState::of(&trips, 3, Duration::from_secs(10));
        assert_eq!((s.trips, s.recent_losses, s.unsettled), (1, 0, true));
    }
}

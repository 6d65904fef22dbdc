//! [`Brackets`]: the protection of every entry whose entry is live or whose protection is still
//! armed, keyed by the entry's client id. The rules of one bracket are in `bracket.rs`.
//!
//! # Invariants
//!
//! - At most one bracket per entry, opened when the entry is placed (or replayed) with
//!   protective prices, and dropped when the entry ends unfilled, when its holder's position is
//!   flat, or when a rejected leg closes the entry.
//! - Venue-held legs are placed once per bracket ([`Brackets::arm_legs`]), and an OCO group
//!   fires once ([`Brackets::leg_filled`]); emulated protection fires once per bracket.

use std::collections::{BTreeMap, BTreeSet};

use rustrade_core::{Capability, ClientOrderId, MarketEvent, Side, Symbol};

use crate::{Bracket, BracketPrices, BrainId, ExitReason, OrderRole};

/// The brackets, in entry client-id order; serialised as the map from entry to bracket.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Brackets(BTreeMap<ClientOrderId, Bracket>);

/// Emulated protections fired by one pass over the brackets: the entry and why.
pub(crate) type Fired = [Option<(ClientOrderId, ExitReason)>; 4];

impl Brackets {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn get(&self, entry: &ClientOrderId) -> Option<&Bracket> {
        self.0.get(entry)
    }

    /// Every bracket, in entry order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Bracket> {
        self.0.values()
    }

    /// The protective prices of `entry`'s bracket.
    #[inline]
    pub(crate) fn prices(&self, entry: &ClientOrderId) -> Option<BracketPrices> {
        self.0.get(entry).map(Bracket::prices)
    }

    /// Opens the bracket of a new entry; each price is held at the venue when `caps` has its
    /// order kind.
    pub(crate) fn open(
        &mut self,
        entry: ClientOrderId,
        (brain, symbol, side): (BrainId, Symbol, Side),
        prices: BracketPrices,
        caps: &BTreeSet<Capability>,
    ) {
        let b = Bracket::new(entry, brain, symbol, side, prices, |k| {
            caps.contains(&Capability::for_kind(k))
        });
        self.0.insert(entry, b);
    }

    /// Drops `entry`'s bracket and returns it.
    pub(crate) fn remove(&mut self, entry: &ClientOrderId) -> Option<Bracket> {
        self.0.remove(entry)
    }

    /// An entry fill of `qty` at `price`: extends what the protection covers.
    #[inline]
    pub(crate) fn entry_filled(&mut self, entry: &ClientOrderId, qty: f64, price: f64) {
        if let Some(b) = self.0.get_mut(entry) {
            b.on_entry_fill(qty, price);
        }
    }

    /// Marks the venue-held legs of `entry` placed and returns the bracket, when they are due:
    /// not placed yet, something filled and the emulated part not fired.
    pub(crate) fn arm_legs(&mut self, entry: &ClientOrderId) -> Option<Bracket> {
        let b = self.0.get_mut(entry)?;
        if b.legs_placed || !b.has_venue_legs() || b.filled <= 0.0 || b.triggered {
            return None;
        }
        b.legs_placed = true;
        Some(*b)
    }

    /// Records the client id of leg slot `i` (0 stop, 1 take-profit, 2 trailing) of `entry`.
    pub(crate) fn set_leg(&mut self, entry: &ClientOrderId, i: usize, leg: Option<ClientOrderId>) {
        if let Some(b) = self.0.get_mut(entry) {
            b.legs[i] = leg;
        }
    }

    /// A leg of `parent`'s bracket was placed (read back from the journal): records it and
    /// marks the legs placed.
    pub(crate) fn leg_placed(
        &mut self,
        parent: &ClientOrderId,
        role: OrderRole,
        leg: ClientOrderId,
    ) {
        let Some(b) = self.0.get_mut(parent) else {
            return;
        };
        match role {
            OrderRole::StopLeg => b.legs[0] = Some(leg),
            OrderRole::TakeProfitLeg => b.legs[1] = Some(leg),
            OrderRole::TrailingLeg => b.legs[2] = Some(leg),
            _ => {}
        }
        if role.is_leg() {
            b.legs_placed = true;
        }
    }

    /// A leg of `parent`'s bracket filled: disarms the bracket and returns its legs, whose live
    /// siblings are to be cancelled.
    pub(crate) fn leg_filled(
        &mut self,
        parent: &ClientOrderId,
    ) -> Option<[Option<ClientOrderId>; 3]> {
        let b = self.0.get_mut(parent)?;
        b.triggered = true;
        Some(b.legs)
    }

    /// Forgets the rejected `leg` of `parent`'s bracket (the others stay).
    pub(crate) fn forget_leg(&mut self, parent: &ClientOrderId, leg: ClientOrderId) {
        if let Some(b) = self.0.get_mut(parent) {
            for slot in &mut b.legs {
                if *slot == Some(leg) {
                    *slot = None;
                }
            }
        }
    }

    /// Marks `entry`'s emulated protection fired (read back from the journal).
    pub(crate) fn mark_triggered(&mut self, entry: &ClientOrderId) {
        if let Some(b) = self.0.get_mut(entry) {
            b.triggered = true;
        }
    }

    /// Checks the emulated protections of `event`'s symbol, filling `fired` in entry order;
    /// returns whether more fired than `fired` holds (the rest are left armed for another pass).
    pub(crate) fn check(&mut self, event: &MarketEvent, fired: &mut Fired) -> bool {
        let mut n = 0;
        for b in self.0.values_mut() {
            if b.symbol != event.symbol {
                continue;
            }
            if let Some(reason) = b.check(event) {
                if n == fired.len() {
                    // Undo and handle it in the next pass.
                    b.triggered = false;
                    return true;
                }
                fired[n] = Some((b.entry, reason));
                n += 1;
            }
        }
        false
    }

    /// Drops one bracket of `brain` on `symbol` whose entry is no longer live (`entry_live`
    /// says), returning its legs; `None` when there is none left.
    pub(crate) fn take_unguarded(
        &mut self,
        brain: BrainId,
        symbol: Symbol,
        entry_live: impl Fn(&ClientOrderId) -> bool,
    ) -> Option<[Option<ClientOrderId>; 3]> {
        let entry = self
            .0
            .values()
            .find(|b| b.brain == brain && b.symbol == symbol && !entry_live(&b.entry))
            .map(|b| b.entry)?;
        self.0.remove(&entry).map(|b| b.legs)
    }
}

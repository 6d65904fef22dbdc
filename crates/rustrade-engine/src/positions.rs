//! [`Positions`]: the per-symbol ledgers (net and per brain), marks, halt flags and fill cursors,
//! the account's cash, and the window of fill ids that makes each fill apply once.
//!
//! # Invariants
//!
//! - **Net = sum of brains.** On every symbol, the net ledger's quantity equals the sum of the
//!   brains' ledger quantities (within half a lot: both are judged flat at that tolerance), and
//!   its fees paid equal the sum of theirs: every fill is booked to one brain and to the net in
//!   [`Positions::apply_fill`], and an adopted venue difference is booked to the net and to one
//!   brain in [`Positions::adopt`]. Nothing else moves a ledger. [`Positions::check`] verifies it.
//! - A fill id is applied at most once while the window remembers it.
//! - Cash moves only by a reported balance and by the fills applied (see `account.rs`).

use std::collections::BTreeMap;

use rustrade_core::{
    Fill, FillEffect, FillId, InstrumentSpec, Ledger, Position, Price, Symbol, Timestamp,
};
use rustrade_risk::OpenExposure;

use crate::fill_memory::FillMemory;
use crate::symbol_map::SymbolMap;
use crate::{BrainId, EngineConfig, EngineError, InvariantViolation};

/// The engine's positions and the account's cash.
#[derive(Debug)]
pub(crate) struct Positions {
    symbols: SymbolMap<SymbolState>,
    /// `None` until the driver reports a balance.
    cash: Option<f64>,
    fills_seen: FillMemory,
}

/// One traded symbol: its spec, mark and ledgers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct SymbolState {
    spec: InstrumentSpec,
    mark: Option<Price>,
    net: Ledger,
    by_brain: Vec<Ledger>,
    halted: bool,
    /// The newest fill applied (or, before any, when the engine started): where a catch-up
    /// of fills made at the venue resumes.
    #[serde(default)]
    fill_cursor: Option<rustrade_core::FillCursor>,
    /// Round trips the fills closed on this symbol that no manual outcome has claimed yet (see
    /// [`Engine::record_manual_outcome`](crate::Engine::record_manual_outcome)).
    #[serde(default, skip_serializing_if = "is_zero")]
    unclaimed_trades: u64,
    /// Market events of this symbol (bars, on a candle feed) seen since this engine was built
    /// or restored, for the brains' account view. Market data, like the mark, is neither
    /// journalled nor part of the snapshot.
    #[serde(skip)]
    bars: u64,
}

/// What an applied fill left: its ledger effect and the positions after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Booked {
    pub(crate) effect: FillEffect,
    /// The brain's position after the fill, at the mark.
    pub(crate) position: Position,
    /// The net position after the fill, at the mark.
    pub(crate) net: Position,
    pub(crate) brain_flat: bool,
    pub(crate) lot: f64,
}

/// Why [`Positions::apply_fill`] applied nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotBooked {
    UnknownSymbol,
    Duplicate,
}

/// What an adopted position difference changed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adopted {
    /// The net position before.
    pub(crate) ours: Position,
    /// The brain the difference was booked to.
    pub(crate) owner: BrainId,
    /// The owner's position after.
    pub(crate) position: Position,
    /// The net position after.
    pub(crate) net: Position,
    /// Whether the owner is flat after.
    pub(crate) flat: bool,
}

impl SymbolState {
    #[inline]
    pub(crate) fn spec(&self) -> &InstrumentSpec {
        &self.spec
    }

    #[inline]
    pub(crate) fn mark(&self) -> Option<Price> {
        self.mark
    }

    /// The mark, zero before any: the reference price of an exit.
    #[inline]
    pub(crate) fn reference(&self) -> Price {
        self.mark.unwrap_or(Price::ZERO)
    }

    #[inline]
    pub(crate) fn net(&self) -> &Ledger {
        &self.net
    }

    /// The ledger of a registered brain.
    #[inline]
    pub(crate) fn brain(&self, brain: BrainId) -> &Ledger {
        &self.by_brain[brain.index()]
    }

    /// The ledger of `brain`, if registered.
    #[inline]
    pub(crate) fn brain_ledger(&self, brain: BrainId) -> Option<&Ledger> {
        self.by_brain.get(brain.index())
    }

    /// The position of `brain` at the mark, if registered.
    #[inline]
    pub(crate) fn brain_position(&self, brain: BrainId) -> Option<Position> {
        self.brain_ledger(brain)
            .map(|l| l.position(&self.spec, self.mark))
    }

    /// The net position at the mark.
    #[inline]
    pub(crate) fn position(&self) -> Position {
        self.net.position(&self.spec, self.mark)
    }

    pub(crate) fn fill_cursor(&self) -> Option<rustrade_core::FillCursor> {
        self.fill_cursor
    }

    pub(crate) fn unclaimed_trades(&self) -> u64 {
        self.unclaimed_trades
    }

    #[inline]
    pub(crate) fn bars(&self) -> u64 {
        self.bars
    }

    /// Where the net position counts toward the account's exposure (at the mark, or at the
    /// entry price before any mark), with `net` its signed quantity.
    fn exposure(&self, symbol: Symbol, net: f64) -> OpenExposure {
        OpenExposure {
            symbol,
            quantity: net,
            mark: self
                .mark
                .unwrap_or_else(|| Price::new(self.net.avg_entry).unwrap_or(Price::ZERO)),
            contract_value: self.spec.contract_value(),
        }
    }
}

impl PartialEq for SymbolState {
    /// Equal when everything a snapshot holds is; the bar count is market data and is not.
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
            && self.mark == other.mark
            && self.net == other.net
            && self.by_brain == other.by_brain
            && self.halted == other.halted
            && self.fill_cursor == other.fill_cursor
            && self.unclaimed_trades == other.unclaimed_trades
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Positions {
    /// Flat ledgers for every configured instrument, fill cursors at `now`, cash unknown.
    pub(crate) fn new(config: &EngineConfig, now: Timestamp) -> Result<Self, EngineError> {
        let mut symbols = SymbolMap::new();
        for spec in &config.instruments {
            let state = SymbolState {
                spec: *spec,
                mark: None,
                net: Ledger::default(),
                by_brain: vec![Ledger::default(); config.brains.len()],
                halted: false,
                fill_cursor: Some(rustrade_core::FillCursor::since(now)),
                unclaimed_trades: 0,
                bars: 0,
            };
            if symbols.insert(spec.symbol(), state).is_some() {
                return Err(EngineError::Config {
                    field: "instruments",
                    value: spec.symbol().to_string(),
                    reason: "one spec per symbol".to_owned(),
                });
            }
        }
        Ok(Self {
            symbols,
            cash: None,
            fills_seen: FillMemory::new(config.remembered_fill_ids),
        })
    }

    #[inline]
    pub(crate) fn get(&self, symbol: &Symbol) -> Option<&SymbolState> {
        self.symbols.get(symbol)
    }

    /// The symbol at `index` (from [`Self::index_of`]).
    #[inline]
    pub(crate) fn at(&self, index: usize) -> Option<&SymbolState> {
        self.symbols.at(index)
    }

    #[inline]
    pub(crate) fn index_of(&self, symbol: &Symbol) -> Option<usize> {
        self.symbols.index_of(symbol)
    }

    pub(crate) fn contains(&self, symbol: &Symbol) -> bool {
        self.symbols.contains_key(symbol)
    }

    /// The traded symbols, in order.
    pub(crate) fn symbols(&self) -> impl Iterator<Item = &Symbol> + '_ {
        self.symbols.keys()
    }

    /// The first traded symbol after `after` (the first of all for `None`).
    pub(crate) fn next_after(&self, after: Option<&Symbol>) -> Option<Symbol> {
        self.symbols.next_after(after)
    }

    /// Marks `symbol` at `price` and counts the event; `false` for a symbol not traded.
    #[inline]
    pub(crate) fn on_market(&mut self, symbol: &Symbol, price: Price) -> bool {
        let Some(state) = self.symbols.get_mut(symbol) else {
            return false;
        };
        state.mark = Some(price);
        state.bars += 1;
        true
    }

    /// Books `fill` to `brain`'s ledger and the net one, moves the cash and the symbol's fill
    /// cursor and counts a closed round trip as unclaimed. Refused for a symbol not traded, and
    /// for a fill id already applied or an order already `completed` (its fill is a replay).
    #[inline(always)]
    pub(crate) fn apply_fill(
        &mut self,
        fill: &Fill,
        brain: BrainId,
        completed: bool,
    ) -> Result<Booked, NotBooked> {
        let Some(state) = self.symbols.get_mut(&fill.symbol) else {
            return Err(NotBooked::UnknownSymbol);
        };
        if completed || !self.fills_seen.insert(fill.fill_id) {
            return Err(NotBooked::Duplicate);
        }
        if state.fill_cursor.is_none_or(|c| fill.time >= c.since) {
            state.fill_cursor = Some(rustrade_core::FillCursor::after(fill));
        }
        let spec = state.spec;
        let (qty, price, fee) = (fill.quantity.get(), fill.price.get(), fill.fee.get());
        let brain_ledger = &mut state.by_brain[brain.index()];
        let effect = brain_ledger.apply_fill(&spec, fill.side, qty, price, fee, fill.time);
        state
            .net
            .apply_fill(&spec, fill.side, qty, price, fee, fill.time);
        if effect.trade.is_some() {
            state.unclaimed_trades += 1;
        }
        let position = state.by_brain[brain.index()].position(&spec, state.mark);
        let net = state.net.position(&spec, state.mark);
        let brain_flat = state.by_brain[brain.index()].is_flat(&spec);
        if let Some(cash) = &mut self.cash {
            *cash -= fill.side.sign() * qty * price * spec.contract_value() + fee;
        }
        Ok(Booked {
            effect,
            position,
            net,
            brain_flat,
            lot: spec.lot_size(),
        })
    }

    /// Whether the window of recent fill ids holds `id`.
    #[inline]
    pub(crate) fn recalls_fill(&self, id: &FillId) -> bool {
        self.fills_seen.contains(id)
    }

    /// The fill ids the window holds, oldest first.
    pub(crate) fn recalled_fills(&self) -> impl Iterator<Item = &FillId> {
        self.fills_seen.ids()
    }

    /// Remembers a fill id applied before (by the driver's durable record).
    pub(crate) fn remember_fill(&mut self, id: FillId) {
        self.fills_seen.insert(id);
    }

    /// Sets whether entries on `symbol` are blocked; returns what it was (`None` for a symbol
    /// not traded).
    pub(crate) fn set_halted(&mut self, symbol: &Symbol, halted: bool) -> Option<bool> {
        let state = self.symbols.get_mut(symbol)?;
        Some(std::mem::replace(&mut state.halted, halted))
    }

    /// Claims one unclaimed round trip on `symbol`; returns whether there was one (`None` for a
    /// symbol not traded).
    pub(crate) fn claim_trade(&mut self, symbol: &Symbol) -> Option<bool> {
        let state = self.symbols.get_mut(symbol)?;
        let claimed = state.unclaimed_trades > 0;
        state.unclaimed_trades = state.unclaimed_trades.saturating_sub(1);
        Some(claimed)
    }

    /// Adopts `quantity` at `avg_entry` as the net position of `symbol`, booking the difference
    /// to the brain holding the largest position (the lowest index on a tie; brain 0 when all
    /// are flat). `None` when the symbol is not traded or nothing differs: by less than half a
    /// lot in quantity, and, unless `from_venue` (a venue report carries no trusted average
    /// entry), in average entry.
    pub(crate) fn adopt(
        &mut self,
        symbol: &Symbol,
        quantity: f64,
        avg_entry: f64,
        now: Timestamp,
        from_venue: bool,
    ) -> Option<Adopted> {
        let state = self.symbols.get_mut(symbol)?;
        let spec = state.spec;
        let diff = quantity - state.net.quantity;
        if spec.is_dust(diff) && (from_venue || spec.is_dust(avg_entry - state.net.avg_entry)) {
            return None;
        }
        let ours = state.net.position(&spec, state.mark);
        let owner = state
            .by_brain
            .iter()
            .enumerate()
            .fold((0usize, 0.0f64), |best, (i, l)| {
                if l.quantity.abs() > best.1 {
                    (i, l.quantity.abs())
                } else {
                    best
                }
            })
            .0;
        let price = if avg_entry > 0.0 {
            avg_entry
        } else {
            state.mark.map_or(state.net.avg_entry, |m| m.get())
        };
        state.net.adopt(&spec, quantity, price, now);
        let brain_ledger = &mut state.by_brain[owner];
        let brain_qty = brain_ledger.quantity + diff;
        let brain_price = if brain_ledger.is_flat(&spec) {
            price
        } else {
            brain_ledger.avg_entry
        };
        brain_ledger.adopt(&spec, brain_qty, brain_price, now);
        Some(Adopted {
            ours,
            owner: BrainId(u32::try_from(owner).unwrap_or(0)),
            position: state.by_brain[owner].position(&spec, state.mark),
            net: state.net.position(&spec, state.mark),
            flat: state.by_brain[owner].is_flat(&spec),
        })
    }

    /// The brains holding a position on `symbol`, in brain order.
    pub(crate) fn holders(&self, symbol: &Symbol) -> Vec<BrainId> {
        let Some(state) = self.symbols.get(symbol) else {
            return Vec::new();
        };
        state
            .by_brain
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.is_flat(&state.spec))
            .filter_map(|(i, _)| u32::try_from(i).ok().map(BrainId))
            .collect()
    }

    /// Replaces the cash with a reported balance.
    #[inline]
    pub(crate) fn set_cash(&mut self, cash: f64) {
        self.cash = Some(cash);
    }

    #[inline]
    pub(crate) fn cash(&self) -> Option<f64> {
        self.cash
    }

    /// Cash plus the value of every net position at its mark; `None` before a balance report.
    pub(crate) fn equity(&self) -> Option<f64> {
        let cash = self.cash?;
        Some(
            cash + self
                .symbols
                .iter()
                .map(|(_, s)| s.net.market_value(&s.spec, s.mark.map(Price::get)))
                .sum::<f64>(),
        )
    }

    /// The account's open positions at mark (the entry price when no mark is known yet).
    pub(crate) fn open_exposures(&self) -> impl Iterator<Item = OpenExposure> + '_ {
        self.symbols
            .iter()
            .filter(|(_, s)| !s.net.is_flat(&s.spec))
            .map(|(sym, s)| s.exposure(*sym, s.net.quantity))
    }

    /// [`Self::open_exposures`] once `closing` (a symbol and the signed quantity being closed
    /// on it) is closed.
    pub(crate) fn open_exposures_after(
        &self,
        closing: Option<(Symbol, f64)>,
    ) -> impl Iterator<Item = OpenExposure> + '_ {
        let net = move |sym: &Symbol, s: &SymbolState| match closing {
            Some((c, q)) if c == *sym => s.net.quantity - q,
            _ => s.net.quantity,
        };
        self.symbols
            .iter()
            .filter(move |(sym, s)| !s.spec.is_dust(net(sym, s)))
            .map(move |(sym, s)| s.exposure(*sym, net(sym, s)))
    }

    /// Checks "net = sum of brains" (see the module doc) on every symbol.
    pub(crate) fn check(&self) -> Result<(), InvariantViolation> {
        for (symbol, state) in self.symbols.iter() {
            let brains_qty: f64 = state.by_brain.iter().map(|l| l.quantity).sum();
            if (state.net.quantity - brains_qty).abs() >= state.spec.lot_size() / 2.0 {
                return Err(InvariantViolation(format!(
                    "{symbol}: net quantity {} is not the sum of the brains' {brains_qty}",
                    state.net.quantity
                )));
            }
            let brains_fees: f64 = state.by_brain.iter().map(|l| l.fees_paid).sum();
            let scale = state.net.fees_paid.abs().max(brains_fees.abs()).max(1.0);
            if (state.net.fees_paid - brains_fees).abs() > 1e-9 * scale {
                return Err(InvariantViolation(format!(
                    "{symbol}: net fees paid {} are not the sum of the brains' {brains_fees}",
                    state.net.fees_paid
                )));
            }
        }
        Ok(())
    }

    /// The per-symbol states, the fill window and the cash, for a snapshot.
    pub(crate) fn snapshot(&self) -> (BTreeMap<Symbol, SymbolState>, FillMemory, Option<f64>) {
        (
            self.symbols.iter().map(|(s, v)| (*s, v.clone())).collect(),
            self.fills_seen.clone(),
            self.cash,
        )
    }

    /// Takes a snapshot's per-symbol states, fill window and cash, keeping this engine's specs.
    /// The snapshot must trade the same symbols with as many brains; `taken_at` starts the fill
    /// cursor of a symbol the snapshot kept none for.
    pub(crate) fn restore(
        &mut self,
        symbols: &BTreeMap<Symbol, SymbolState>,
        fills_seen: &FillMemory,
        cash: Option<f64>,
        taken_at: Timestamp,
    ) -> Result<(), EngineError> {
        if symbols.keys().ne(self.symbols.keys()) {
            return Err(EngineError::Snapshot {
                field: "instruments",
                reason: format!(
                    "snapshot trades {:?}, config {:?}",
                    symbols.keys().collect::<Vec<_>>(),
                    self.symbols.keys().collect::<Vec<_>>()
                ),
            });
        }
        for (symbol, saved) in symbols {
            if let Some(state) = self.symbols.get_mut(symbol) {
                if saved.by_brain.len() != state.by_brain.len() {
                    return Err(EngineError::Snapshot {
                        field: "brains",
                        reason: format!("{symbol} holds {} brain ledgers", saved.by_brain.len()),
                    });
                }
                state.mark = saved.mark;
                state.net = saved.net;
                state.by_brain.clone_from(&saved.by_brain);
                state.halted = saved.halted;
                state.unclaimed_trades = saved.unclaimed_trades;
                // Version 1 kept no cursor: fills after the snapshot are the ones to catch up.
                state.fill_cursor = saved
                    .fill_cursor
                    .or(Some(rustrade_core::FillCursor::since(taken_at)));
            }
        }
        self.fills_seen = fills_seen.clone();
        self.cash = cash;
        Ok(())
    }

    /// The net ledger of `symbol`, to break the invariant in a test.
    #[cfg(test)]
    pub(crate) fn net_mut(&mut self, symbol: &Symbol) -> &mut Ledger {
        &mut self.symbols.get_mut(symbol).expect("a traded symbol").net
    }
}

//! Brain decisions: the gate chain for entries, exits that are never blocked, and the
//! construction of every order the engine sends.
//!
//! # Rules
//!
//! - A hold returns at once, without touching the heap.
//! - A buy or sell in the direction of the brain's position (or from flat) is an **entry**: it
//!   passes the risk gate chain ([`rustrade_risk::evaluate`]) and is sent with the kind the brain
//!   requested, or refused when the venue lacks that kind — never downgraded. A non-market kind
//!   without a limit price uses the decision's reference price; the risk crate snaps prices to
//!   tick and the quantity to lot. A stop or take-profit on the wrong side of the entry price is
//!   refused before the gates.
//! - A close, or a buy or sell against the brain's position, is an **exit** of the brain's whole
//!   position minus what its live exit orders already cover: approved unconditionally by the
//!   gate chain, reduce-only where the venue supports the flag. With nothing to close it is a
//!   silent no-op: no command, no refusal.
//! - While an entry block is raised ([`crate::EntryBlock`]: the operator's pause, an
//!   unacknowledged drift, fill routing or market data down, a store that cannot write), every
//!   entry is refused with the block's label before the risk gates; an entry decided on a market
//!   event older than [`crate::EngineConfig::max_event_age`] is refused as `stale_event`. Exits
//!   are unaffected.
//! - **Reversal**: a buy while short (or a sell while long) built with
//!   [`Decision::with_reverse`] flips the position in one step: the exit above goes out first,
//!   never blocked and not reduce-only (the opening order follows it and must fill after it),
//!   then an entry of the decision's side, gated and sized as an entry from flat, in the same
//!   call, so on the next event both fill at the same time. The entry sees the account as the
//!   close will leave it: the brain flat, the symbol's net exposure without the brain's
//!   position, and funds after the close at the reference price with the expected fee
//!   (`account.rs`). If the entry is refused (an entry block, a gate, a stale event) the close
//!   still goes and the refusal is journalled like any other.
//! - Exits triggered by the engine (emulated stops, a rejected protective leg) and protective
//!   legs go through the same exit approval, sized to the quantity they protect.

use rustrade_core::{
    Action, ClientOrderId, Decision, InstrumentSpec, MarketEvent, Order, OrderKind, Position,
    Price, Side, Symbol, Timestamp,
};
use rustrade_risk::{Approved, Funds};

use crate::gate::{GateRequest, RefusalRecord};
use crate::{
    BracketPrices, BrainId, Command, Engine, EngineEvent, EntryBlock, ExitReason, Malformed,
    OrderRole, PlaceOrder, TrackedOrder,
};

impl Engine {
    /// A brain's decision on `event` (the market event it saw), at `now`.
    ///
    /// Emits a `Place` command and an `OrderPlaced` event for an approved order, a
    /// `DecisionRefused` event for a refused entry, and nothing for a hold or a close with
    /// nothing to close. An unknown brain or symbol is reported as [`Malformed`].
    #[inline]
    pub fn handle_decision(
        &mut self,
        brain: BrainId,
        event: &MarketEvent,
        decision: &Decision,
        now: Timestamp,
    ) {
        if decision.is_hold() {
            return;
        }
        let stale = self.is_stale(event, now);
        if stale && self.is_entry(brain, event.symbol, decision) {
            if !self.brain_ok(brain) {
                self.malformed(Malformed::UnknownBrain { brain }, now);
                return;
            }
            let refusal = stale_refusal(event, now);
            self.refuse(brain, event.symbol, decision.action(), refusal, now);
            return;
        }
        let stale = stale.then_some(event);
        self.decide(
            brain,
            event.symbol,
            event.reference_price(),
            decision,
            stale,
            now,
        );
    }

    /// Like [`handle_decision`](Self::handle_decision), for a driver that holds the symbol and
    /// reference price rather than the event.
    pub fn handle_decision_at(
        &mut self,
        brain: BrainId,
        symbol: Symbol,
        reference_price: Price,
        decision: &Decision,
        now: Timestamp,
    ) {
        if decision.is_hold() {
            return;
        }
        self.decide(brain, symbol, reference_price, decision, None, now);
    }

    /// Pauses (`true`) or resumes (`false`) new entries: while paused every entry decision is
    /// refused with the label `entries_paused` (journalled as `DecisionRefused`, like every
    /// refusal); exits, protective legs and engine-triggered exits still go out. A change is
    /// journalled (`EntriesPaused`) and the flag is part of the snapshot, so a restart keeps it.
    pub fn set_entries_paused(&mut self, paused: bool, now: Timestamp) {
        self.set_entry_block(EntryBlock::Operator, paused, now);
    }

    /// Whether new entries are paused (see [`set_entries_paused`](Self::set_entries_paused)).
    pub fn entries_paused(&self) -> bool {
        self.risk.blocks().contains(EntryBlock::Operator)
    }

    /// Closes every brain's position on every symbol: one exit per brain and symbol it holds,
    /// approved as exits are (never blocked), reduce-only where the venue supports it, with
    /// `reason`. Returns the number of exit orders emitted.
    pub fn flatten_all(&mut self, reason: ExitReason, now: Timestamp) -> usize {
        let before = self.out.pending_commands();
        let symbols: Vec<Symbol> = self.positions.symbols().copied().collect();
        for symbol in symbols {
            self.flatten_symbol(symbol, reason, now);
        }
        self.out.pending_commands() - before
    }

    /// Exits every brain's position on `symbol` (see [`flatten_all`](Self::flatten_all)).
    pub(crate) fn flatten_symbol(&mut self, symbol: Symbol, reason: ExitReason, now: Timestamp) {
        for brain in self.positions.holders(&symbol) {
            self.exit_position(brain, symbol, reason, None, None, now);
        }
    }

    /// Whether `event` is older than the configured maximum age at `now` (never, unset).
    #[inline]
    fn is_stale(&self, event: &MarketEvent, now: Timestamp) -> bool {
        self.config
            .max_event_age
            .is_some_and(|max| now.duration_since(event.time).is_some_and(|age| age > max))
    }

    /// Whether `decision` by `brain` on `symbol` would open or add to a position (an entry),
    /// as opposed to closing or reducing one.
    fn is_entry(&self, brain: BrainId, symbol: Symbol, decision: &Decision) -> bool {
        let side = match decision.action() {
            Action::Buy => Side::Buy,
            Action::Sell => Side::Sell,
            Action::Hold | Action::Close => return false,
        };
        self.positions.get(&symbol).is_none_or(|state| {
            let held = state.brain_ledger(brain).copied().unwrap_or_default();
            held.is_flat(state.spec()) || held.quantity.signum() == side.sign()
        })
    }

    /// `stale` is the decision's market event when it is older than the maximum age (the
    /// opening part of a reversal is then refused).
    fn decide(
        &mut self,
        brain: BrainId,
        symbol: Symbol,
        reference: Price,
        decision: &Decision,
        stale: Option<&MarketEvent>,
        now: Timestamp,
    ) {
        if !self.brain_ok(brain) {
            self.malformed(Malformed::UnknownBrain { brain }, now);
            return;
        }
        let Some(state) = self.positions.get(&symbol) else {
            self.malformed(Malformed::UnknownSymbol { symbol }, now);
            return;
        };
        let spec = *state.spec();
        let held = *state.brain(brain);
        let entry_side = match decision.action() {
            Action::Hold => return,
            Action::Close => None,
            Action::Buy => Some(Side::Buy),
            Action::Sell => Some(Side::Sell),
        };
        let against =
            entry_side.is_some_and(|s| !held.is_flat(&spec) && held.quantity.signum() != s.sign());
        if entry_side.is_none() || (against && !decision.reverses()) {
            self.exit_position(brain, symbol, ExitReason::Decision, None, None, now);
            return;
        }
        if !against {
            let position = held.position(&spec, state.mark());
            let funds = if self.sizes_from_funds(&symbol, decision) {
                Funds {
                    equity: self.equity(),
                    cash: self.cash(),
                }
            } else {
                Funds::UNKNOWN
            };
            self.enter(
                brain, &spec, position, reference, decision, funds, None, now,
            );
            return;
        }
        // A reversal: the whole close first, then the entry from flat.
        let mark = state.mark();
        let fee_rate = self
            .risk
            .symbol(&symbol)
            .map_or(0.0, |r| r.sizer.config().fee_rate);
        let close = Decision::close().with_reverse();
        let reason = ExitReason::Decision;
        self.exit_position_with(brain, symbol, reason, None, None, &close, now);
        if let Some(event) = stale {
            let refusal = stale_refusal(event, now);
            self.refuse(brain, symbol, decision.action(), refusal, now);
            return;
        }
        let funds = self.funds_after_close(
            held.quantity,
            mark,
            reference,
            spec.contract_value(),
            fee_rate,
        );
        let closing = Some((symbol, held.quantity));
        self.enter(
            brain,
            &spec,
            Position::FLAT,
            reference,
            decision,
            funds,
            closing,
            now,
        );
    }

    /// Runs an entry through the gates and places it. `funds` are what it is sized from;
    /// `closing` is the brain's position on a symbol being closed by the same decision (a
    /// reversal), left out of the account's exposure.
    #[allow(clippy::too_many_arguments)]
    fn enter(
        &mut self,
        brain: BrainId,
        spec: &InstrumentSpec,
        position: Position,
        reference: Price,
        decision: &Decision,
        funds: Funds,
        closing: Option<(Symbol, f64)>,
        now: Timestamp,
    ) {
        let spec = *spec;
        let symbol = spec.symbol();
        if let Some(block) = self.risk.blocks().first() {
            let refusal = RefusalRecord::engine(block.label(), block.describe().to_owned());
            self.refuse(brain, symbol, decision.action(), refusal, now);
            return;
        }
        let priced;
        let decision =
            if decision.order_kind().needs_limit_price() && decision.limit_price().is_none() {
                priced = decision.clone().with_limit_price(reference);
                &priced
            } else {
                decision
            };
        if let Some(refusal) = protection_refusal(decision, reference, &spec) {
            self.refuse(brain, symbol, decision.action(), refusal, now);
            return;
        }
        let request = GateRequest {
            decision,
            spec: &spec,
            reference,
            position,
            funds,
        };
        let approved = match closing {
            None => self
                .risk
                .evaluate(&request, self.positions.open_exposures(), now),
            Some(_) => {
                let open = self.positions.open_exposures_after(closing);
                self.risk.evaluate(&request, open, now)
            }
        };
        let approved = match approved {
            Ok(a) => a,
            Err(r) if r.is_no_op() => return,
            Err(r) => {
                self.refuse(
                    brain,
                    symbol,
                    decision.action(),
                    RefusalRecord::from_risk(&r),
                    now,
                );
                return;
            }
        };
        let cid = self.ids.issue(brain);
        let trailing = decision
            .trailing_stop()
            .map(|o| spec.round_price(o.get()))
            .filter(|o| o.get() > 0.0);
        let prices = BracketPrices {
            stop: approved.stop(),
            take_profit: approved.take_profit(),
            trailing,
        };
        let protected = prices.stop.is_some() || prices.take_profit.is_some() || trailing.is_some();
        if protected {
            let owner = (brain, symbol, approved.side());
            self.brackets.open(cid, owner, prices, &self.caps);
        }
        self.place(cid, approved, brain, OrderRole::Entry, None, now);
    }

    /// Exits the brain's position on `symbol` (at most `cap` of it), net of what its live exit
    /// orders already cover (a reduce-only exit whose placement is unknown covers nothing).
    /// Nothing to close is a silent no-op.
    pub(crate) fn exit_position(
        &mut self,
        brain: BrainId,
        symbol: Symbol,
        reason: ExitReason,
        parent: Option<ClientOrderId>,
        cap: Option<f64>,
        now: Timestamp,
    ) {
        let close = Decision::close();
        self.exit_position_with(brain, symbol, reason, parent, cap, &close, now);
    }

    /// [`exit_position`](Self::exit_position) with the close decision to approve (a plain
    /// close, or the close of a reversal).
    #[allow(clippy::too_many_arguments)]
    fn exit_position_with(
        &mut self,
        brain: BrainId,
        symbol: Symbol,
        reason: ExitReason,
        parent: Option<ClientOrderId>,
        cap: Option<f64>,
        close: &Decision,
        now: Timestamp,
    ) {
        let Some(state) = self.positions.get(&symbol) else {
            return;
        };
        let held = state.brain(brain).quantity;
        let covering = self.orders.covering(brain, symbol, held.signum());
        let mut open = (held.abs() - covering).max(0.0);
        if let Some(c) = cap {
            open = open.min(c);
        }
        let position = Position::new(held.signum() * open, state.brain(brain).avg_entry);
        let (spec, reference) = (*state.spec(), state.reference());
        self.exit_with(
            brain,
            (&spec, reference),
            close,
            position,
            OrderRole::Exit(reason),
            parent,
            now,
        );
    }

    /// Places the venue-held legs of an entry's bracket for its filled quantity, once.
    pub(crate) fn place_legs(&mut self, entry: ClientOrderId, now: Timestamp) {
        let Some(b) = self.brackets.arm_legs(&entry) else {
            return;
        };
        let Some(state) = self.positions.get(&b.symbol) else {
            return;
        };
        let held = state.brain(b.brain).quantity;
        let qty = b.filled.min(held.abs());
        if held.signum() != b.side.sign() || qty <= 0.0 {
            return;
        }
        let (spec, reference) = (*state.spec(), state.reference());
        let position = Position::new(b.side.sign() * qty, 0.0);
        let legs = [
            (
                b.stop.filter(|_| b.venue_held[0]),
                OrderKind::StopMarket,
                OrderRole::StopLeg,
            ),
            (
                b.take_profit.filter(|_| b.venue_held[1]),
                OrderKind::TakeProfit,
                OrderRole::TakeProfitLeg,
            ),
            (
                b.trailing.filter(|_| b.venue_held[2]),
                OrderKind::TrailingStop,
                OrderRole::TrailingLeg,
            ),
        ];
        for (i, (price, kind, role)) in legs.into_iter().enumerate() {
            let Some(price) = price else { continue };
            let decision = if kind == OrderKind::TrailingStop {
                Decision::close()
                    .with_order_kind(kind)
                    .with_trailing_stop(price)
            } else {
                Decision::close()
                    .with_order_kind(kind)
                    .with_limit_price(price)
            };
            let cid = self.exit_with(
                b.brain,
                (&spec, reference),
                &decision,
                position,
                role,
                Some(entry),
                now,
            );
            self.brackets.set_leg(&entry, i, cid);
        }
    }

    /// Runs an exit decision through the gate chain and places it; returns the client id.
    /// `market` is the instrument's spec and its reference price for the gates (the last mark,
    /// zero before any), which the callers have already looked up.
    #[allow(clippy::too_many_arguments)]
    fn exit_with(
        &mut self,
        brain: BrainId,
        market: (&InstrumentSpec, Price),
        decision: &Decision,
        position: Position,
        role: OrderRole,
        parent: Option<ClientOrderId>,
        now: Timestamp,
    ) -> Option<ClientOrderId> {
        if self.replaying {
            // The journal's own `OrderPlaced` events re-create the orders this would place.
            return None;
        }
        let (spec, reference) = market;
        let symbol = spec.symbol();
        let request = GateRequest {
            decision,
            spec,
            reference,
            position,
            funds: Funds::UNKNOWN,
        };
        let open = self.positions.open_exposures();
        match self.risk.evaluate(&request, open, now) {
            Ok(approved) if approved.is_exit() => {
                let cid = self.ids.issue(brain);
                self.place(cid, approved, brain, role, parent, now);
                Some(cid)
            }
            Ok(approved) => {
                // An exit request the chain read as an entry cannot happen with a close
                // decision; drop its reservation rather than send it.
                if let Some(r) = approved.reservation() {
                    self.risk.release(r);
                }
                None
            }
            Err(r) if r.is_no_op() => None,
            Err(r) => {
                tracing::error!(%symbol, refusal = %r, "exit refused by the gate chain");
                None
            }
        }
    }

    /// Builds the order from an approval and emits the command and its journal event.
    fn place(
        &mut self,
        cid: ClientOrderId,
        approved: Approved,
        brain: BrainId,
        role: OrderRole,
        parent: Option<ClientOrderId>,
        now: Timestamp,
    ) {
        let order = order_from(cid, &approved);
        let pending = || TrackedOrder::pending(order, brain, role, parent, now);
        self.orders.place(cid, pending, approved.reservation());
        self.brains.placed(brain);
        let bracket = if role == OrderRole::Entry {
            self.brackets.prices(&cid)
        } else {
            None
        };
        self.out.event(EngineEvent::OrderPlaced {
            brain,
            role,
            order,
            parent,
            bracket,
            time: now,
        });
        self.out
            .command(Command::Place(PlaceOrder { order, brain, role }));
    }

    fn refuse(
        &mut self,
        brain: BrainId,
        symbol: Symbol,
        action: Action,
        refusal: RefusalRecord,
        now: Timestamp,
    ) {
        tracing::info!(%symbol, %brain, refusal = %refusal, "entry refused");
        self.brains.refused(brain);
        self.out.event(EngineEvent::DecisionRefused {
            brain,
            symbol,
            action,
            refusal,
            time: now,
        });
    }
}

/// The wire order for an approval: kind, side, quantity and prices exactly as approved.
fn order_from(client_id: ClientOrderId, a: &Approved) -> Order {
    let kind = a.order_kind();
    let (limit_price, trigger_price) = if kind.needs_trigger_price() && !kind.needs_limit_price() {
        (None, a.limit_price())
    } else {
        (a.limit_price(), None)
    };
    Order {
        client_id,
        symbol: a.symbol(),
        side: a.side(),
        kind,
        quantity: a.quantity(),
        limit_price,
        trigger_price,
        trailing_offset: a.trailing_offset(),
        time_in_force: kind.time_in_force(),
        reduce_only: a.reduce_only(),
        protection: None,
    }
}

/// A stop or take-profit that would trigger at once (on the wrong side of the entry price).
fn protection_refusal(
    decision: &Decision,
    reference: Price,
    spec: &InstrumentSpec,
) -> Option<RefusalRecord> {
    let entry = decision.limit_price().unwrap_or(reference).get();
    let long = decision.action() == Action::Buy;
    if let Some(stop) = decision.stop() {
        let s = spec.round_price(stop.get()).get();
        if s <= 0.0 || (long && s >= entry) || (!long && s <= entry) {
            return Some(RefusalRecord::engine(
                "stop_on_wrong_side",
                format!("stop {s} is not on the losing side of the entry price {entry}"),
            ));
        }
    }
    if let Some(tp) = decision.take_profit() {
        let t = spec.round_price(tp.get()).get();
        if t <= 0.0 || (long && t <= entry) || (!long && t >= entry) {
            return Some(RefusalRecord::engine(
                "take_profit_on_wrong_side",
                format!("take-profit {t} is not on the winning side of the entry price {entry}"),
            ));
        }
    }
    if let Some(offset) = decision.trailing_stop()
        && spec.round_price(offset.get()).get() <= 0.0
    {
        return Some(RefusalRecord::engine(
            "invalid_trailing_offset",
            format!("trailing offset {} snaps to zero or below", offset.get()),
        ));
    }
    None
}

/// The refusal of an entry decided on a market event older than the maximum age.
fn stale_refusal(event: &MarketEvent, now: Timestamp) -> RefusalRecord {
    let age = now.duration_since(event.time).unwrap_or_default();
    RefusalRecord::engine(
        "stale_event",
        format!(
            "the market event is {:.3} s old, beyond the maximum age; entries wait for a fresh one",
            age.as_secs_f64()
        ),
    )
}

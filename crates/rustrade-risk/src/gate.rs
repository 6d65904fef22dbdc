//! The gate chain: [`evaluate`] turns a brain's [`Decision`] into an [`Approved`] order intent or
//! a [`Refusal`].
//!
//! The contract — the fixed order of the gates, the exit rule, the no-op outcomes and what state
//! the chain changes — is documented on [`evaluate`], where users of the crate read it.

use rustrade_core::{
    Action, Capability, Decision, InstrumentSpec, OrderKind, Position, Price, Quantity, Side,
    Symbol, Timestamp,
};

use crate::{
    Capabilities, EntryRequest, Funds, OpenExposure, PortfolioRefusal, PortfolioRisk,
    ReservationId, SizeRefusal, SymbolRisk,
};

/// Everything the gate chain reads about one decision besides the risk state.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    /// What the brain asked for.
    pub decision: &'a Decision,
    /// The instrument the decision is about; must equal `spec.symbol()`.
    pub symbol: Symbol,
    /// The current mark price: the price market entries are sized at and the entry is valued
    /// at for the exposure caps.
    pub reference_price: Price,
    /// The current position in `symbol`.
    pub position: &'a Position,
    /// The instrument's trading rules.
    pub spec: &'a InstrumentSpec,
    /// What the venue supports.
    pub capabilities: Capabilities,
    /// Every open position of the account at its mark price, for the portfolio gate.
    pub open_positions: &'a [OpenExposure],
    /// The account's equity and cash, for equity and cash sizing ([`Funds::UNKNOWN`] when the
    /// driver has not reported them).
    pub funds: Funds,
}

/// An order intent that passed the gate chain. Only [`evaluate`] creates one.
///
/// It has private fields, no `Default`, no `Deserialize` and no public constructor, and it is not
/// `Clone`: one approval becomes at most one order. Prices are snapped to the instrument's tick
/// and the quantity to its lot.
///
/// None of these compile outside this crate:
///
/// ```compile_fail
/// let forged = rustrade_risk::Approved::default();
/// ```
///
/// ```compile_fail
/// let forged: rustrade_risk::Approved = serde_json::from_str("{}").unwrap();
/// ```
///
/// ```compile_fail
/// fn copy(a: &rustrade_risk::Approved) -> rustrade_risk::Approved { a.clone() }
/// ```
#[derive(Debug, PartialEq)]
pub struct Approved {
    symbol: Symbol,
    side: Side,
    quantity: Quantity,
    kind: OrderKind,
    limit_price: Option<Price>,
    trailing_offset: Option<Price>,
    stop: Option<Price>,
    take_profit: Option<Price>,
    reduce_only: bool,
    exit: bool,
    reservation: Option<ReservationId>,
    approved_at: Timestamp,
}

impl Approved {
    /// Instrument.
    pub fn symbol(&self) -> Symbol {
        self.symbol
    }
    /// Direction.
    pub fn side(&self) -> Side {
        self.side
    }
    /// Quantity, a whole number of lots, `> 0`.
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
    /// Order kind, supported by the venue (for an exit, market when the requested kind is not).
    pub fn order_kind(&self) -> OrderKind {
        self.kind
    }
    /// Limit price snapped to tick, present when the kind needs one; for stop-market and
    /// take-profit kinds, the trigger price.
    pub fn limit_price(&self) -> Option<Price> {
        self.limit_price
    }
    /// Trailing distance snapped to tick, present for a trailing-stop kind.
    pub fn trailing_offset(&self) -> Option<Price> {
        self.trailing_offset
    }
    /// Protective stop for the resulting position, snapped to tick (entries only).
    pub fn stop(&self) -> Option<Price> {
        self.stop
    }
    /// Take-profit for the resulting position, snapped to tick (entries only).
    pub fn take_profit(&self) -> Option<Price> {
        self.take_profit
    }
    /// Whether the order must carry the reduce-only flag (an exit on a venue that has it).
    pub fn reduce_only(&self) -> bool {
        self.reduce_only
    }
    /// Whether this reduces an open position (and so passed every gate unconditionally).
    pub fn is_exit(&self) -> bool {
        self.exit
    }
    /// The portfolio reservation an entry holds; release it if the order is not sent or is
    /// rejected, confirm it once the fill shows in the positions. `None` for exits.
    pub fn reservation(&self) -> Option<ReservationId> {
        self.reservation
    }
    /// The `now` the approval was given at.
    pub fn approved_at(&self) -> Timestamp {
        self.approved_at
    }
}

/// Why a decision produced no order. [`Refusal::as_label`] is a stable metrics label.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The decision was a hold. A no-op.
    #[error("hold")]
    Hold,
    /// A close (or reducing order) with no open position. A no-op.
    #[error("nothing to close")]
    NothingToClose,
    /// The input's symbol differs from the instrument spec's.
    #[error("decision for {symbol} evaluated with the spec of {spec_symbol}")]
    SymbolMismatch {
        /// The input's symbol.
        symbol: Symbol,
        /// The spec's symbol.
        spec_symbol: Symbol,
    },
    /// The current position's quantity is not finite, so nothing can be sized against it.
    #[error("position quantity is not finite (got {quantity})")]
    InvalidPosition {
        /// The offending quantity.
        quantity: f64,
    },
    /// Gate 1: the session loss cap halted new entries.
    #[error("session halted: net {net} reached cap {cap}")]
    SessionHalted {
        /// Net session PnL.
        net: f64,
        /// The configured cap.
        cap: f64,
    },
    /// Gate 2: the loss-streak breaker is tripped.
    #[error("circuit breaker tripped until {until}")]
    BreakerTripped {
        /// When the cooldown ends.
        until: Timestamp,
    },
    /// Gates 3 and 4: no order size (degenerate input, below one lot, below the minimums).
    #[error("sizing: {0}")]
    Sizing(SizeRefusal),
    /// Gate 5: the venue does not support the requested order kind.
    #[error("venue does not support {kind:?} orders")]
    UnsupportedOrderKind {
        /// The requested kind.
        kind: OrderKind,
    },
    /// Gate 5: the requested kind needs a limit, trigger or trailing price the decision lacks.
    #[error("{kind:?} order needs a price the decision does not carry")]
    MissingPrice {
        /// The requested kind.
        kind: OrderKind,
    },
    /// Gate 6: an account-wide limit.
    #[error("portfolio: {0}")]
    Portfolio(PortfolioRefusal),
}

impl Refusal {
    /// A stable snake_case label for metrics and logs: `hold`, `nothing_to_close`,
    /// `symbol_mismatch`, `invalid_position`, `session_halted`, `breaker_tripped`, the sizing
    /// labels (`invalid_price`, `invalid_contract_value`, `invalid_margin`, `invalid_leverage`,
    /// `invalid_size_hint`, `funds_unknown`, `no_funds`, `size_not_finite`, `size_zero`,
    /// `below_min_quantity`,
    /// `below_min_notional`), `unsupported_order_kind`, `missing_price`, and the portfolio labels
    /// (`daily_loss`, `max_positions`, `gross_exposure`, `net_exposure`, `exposure_unknown`).
    pub const fn as_label(&self) -> &'static str {
        match self {
            Self::Hold => "hold",
            Self::NothingToClose => "nothing_to_close",
            Self::SymbolMismatch { .. } => "symbol_mismatch",
            Self::InvalidPosition { .. } => "invalid_position",
            Self::SessionHalted { .. } => "session_halted",
            Self::BreakerTripped { .. } => "breaker_tripped",
            Self::Sizing(s) => s.as_label(),
            Self::UnsupportedOrderKind { .. } => "unsupported_order_kind",
            Self::MissingPrice { .. } => "missing_price",
            Self::Portfolio(p) => p.as_label(),
        }
    }

    /// Whether this is not a block at all but a decision with nothing to do (a hold, a close
    /// when flat): the engine drops it silently.
    pub const fn is_no_op(&self) -> bool {
        matches!(self, Self::Hold | Self::NothingToClose)
    }
}

impl From<SizeRefusal> for Refusal {
    fn from(r: SizeRefusal) -> Self {
        Self::Sizing(r)
    }
}

impl From<PortfolioRefusal> for Refusal {
    fn from(r: PortfolioRefusal) -> Self {
        Self::Portfolio(r)
    }
}

/// Runs the gate chain for one decision at `now`: an [`Approved`] order intent or a [`Refusal`].
///
/// # Order of the gates (entries)
///
/// 1. **session halt** — the symbol's session loss cap was reached ([`Refusal::SessionHalted`]);
/// 2. **breaker** — the loss-streak breaker is tripped ([`Refusal::BreakerTripped`]);
/// 3. **sizing** — the size hint gives a lot-snapped, capped quantity `> 0`
///    ([`Refusal::Sizing`] with `invalid_price`, `invalid_size_hint`, `size_zero`, ...);
/// 4. **min notional/quantity** — the instrument's minimums (`Refusal::Sizing` with
///    `below_min_quantity` / `below_min_notional`);
/// 5. **capability** — the venue supports the order kind and the decision carries the price
///    the kind needs ([`Refusal::UnsupportedOrderKind`], [`Refusal::MissingPrice`]);
/// 6. **portfolio** — daily loss latch, max positions, gross and net exposure at mark
///    ([`Refusal::Portfolio`]); on success the entry's reservation is taken.
///
/// The first gate that refuses decides the reason; later gates are not consulted.
///
/// # Exits
///
/// A decision that reduces an open position — [`Action::Close`], a sell while long, a buy while
/// short — passes every gate: it is approved whatever the session, breaker, daily latch or limits
/// say. It is sized to the whole open position and never flips it: rounded to the nearest lot
/// and marked reduce-only where the venue has the flag, rounded down to the lot (so it never asks
/// to sell more than is held) where it does not. An exit asks for the decision's order
/// kind if the venue supports it and its price is present, and is a market order otherwise.
///
/// The close of a reversal (a [`Action::Close`] decision built with
/// [`Decision::with_reverse`]) is approved the same way but never reduce-only, and so rounded
/// down to the lot: the engine sends the opening part right after it, and both must fill in
/// the order they were sent.
///
/// # No-ops
///
/// A hold returns [`Refusal::Hold`] and a close of a flat position (or of dust under half a lot)
/// returns [`Refusal::NothingToClose`]. Both answer `true` to [`Refusal::is_no_op`]: the engine
/// treats them as silent no-ops, neither counted nor logged as blocks.
///
/// # State
///
/// The chain advances the clocks of the state it reads (a session or breaker that expired by
/// `now` is cleared) and, for an approved entry, holds a portfolio reservation. A refused or
/// exit decision takes no reservation.
pub fn evaluate(
    input: &GateInput<'_>,
    symbol_risk: &mut SymbolRisk,
    portfolio: &mut PortfolioRisk,
    now: Timestamp,
) -> Result<Approved, Refusal> {
    let spec = input.spec;
    if input.symbol != spec.symbol() {
        return Err(Refusal::SymbolMismatch {
            symbol: input.symbol,
            spec_symbol: spec.symbol(),
        });
    }
    let held = input.position.quantity;
    if !held.is_finite() {
        return Err(Refusal::InvalidPosition { quantity: held });
    }
    let decision = input.decision;
    let flat = input.position.is_flat_in(spec);
    let side = match decision.action() {
        Action::Hold => return Err(Refusal::Hold),
        Action::Close if flat => return Err(Refusal::NothingToClose),
        Action::Close => return Ok(exit(input, now)),
        Action::Buy => Side::Buy,
        Action::Sell => Side::Sell,
    };
    let reduces = !flat && (held > 0.0) != (side == Side::Buy);
    if reduces {
        return Ok(exit(input, now));
    }
    entry(input, side, symbol_risk, portfolio, now)
}

fn entry(
    input: &GateInput<'_>,
    side: Side,
    symbol_risk: &mut SymbolRisk,
    portfolio: &mut PortfolioRisk,
    now: Timestamp,
) -> Result<Approved, Refusal> {
    let spec = input.spec;
    let decision = input.decision;

    // 1. Session halt.
    let session = &mut symbol_risk.session_pnl;
    session.tick(now);
    if session.is_halted(now) {
        return Err(Refusal::SessionHalted {
            net: session.net(),
            cap: session.config().loss_cap.unwrap_or(0.0),
        });
    }

    // 2. Loss-streak breaker.
    let breaker = &mut symbol_risk.circuit_breaker;
    breaker.tick(now);
    if let Some(until) = breaker.tripped_until(now) {
        return Err(Refusal::BreakerTripped { until });
    }

    // 3 and 4. Sizing, then the instrument's minimums (inside `size`).
    let kind = decision.order_kind();
    let (limit_price, trailing_offset) = kind_prices(kind, decision, spec);
    let sizing_price = match limit_price {
        Some(p) if kind.needs_limit_price() => p,
        _ => input.reference_price,
    };
    let quantity =
        symbol_risk
            .sizer
            .size_with(decision.size_hint(), sizing_price, spec, input.funds)?;

    // 5. Capability, and the price the kind needs.
    if !input.capabilities.contains(Capability::for_kind(kind)) {
        return Err(Refusal::UnsupportedOrderKind { kind });
    }
    if !has_prices(kind, limit_price, trailing_offset) {
        return Err(Refusal::MissingPrice { kind });
    }

    // 6. Portfolio, with a reservation on success.
    let request = EntryRequest {
        symbol: input.symbol,
        side,
        quantity,
        price: input.reference_price,
        contract_value: spec.contract_value(),
    };
    let reservation = portfolio.reserve(&request, input.open_positions, now)?;

    Ok(Approved {
        symbol: input.symbol,
        side,
        quantity,
        kind,
        limit_price,
        trailing_offset,
        stop: decision.stop().map(|p| spec.round_price(p.get())),
        take_profit: decision.take_profit().map(|p| spec.round_price(p.get())),
        reduce_only: false,
        exit: false,
        reservation: Some(reservation),
        approved_at: now,
    })
}

/// Builds the approval of an exit: the whole position, reduce-only, never refused.
fn exit(input: &GateInput<'_>, now: Timestamp) -> Approved {
    let spec = input.spec;
    let decision = input.decision;
    let held = input.position.quantity;
    let side = if held > 0.0 { Side::Sell } else { Side::Buy };
    // The close of a reversal is sent without the flag: the opening order follows it, and a
    // venue that matches reduce-only orders after the others of an event would open first.
    let reduce_only = input.capabilities.contains(Capability::ReduceOnly) && !decision.reverses();
    // With the reduce-only flag the venue caps a close at the position, so the nearest lot
    // closes it fully; without it an order above the holding would be rejected, so round down.
    let mut quantity = if reduce_only {
        spec.round_qty(held.abs())
    } else {
        spec.round_qty_down(held.abs())
    };
    if quantity.is_zero() {
        // At least half a lot is held (the caller checked): close one lot.
        quantity = spec.round_qty(held.abs());
    }
    if quantity.is_zero() {
        quantity = Quantity::new(held.abs()).unwrap_or(Quantity::ZERO);
    }
    let requested = decision.order_kind();
    let (limit_price, trailing_offset) = kind_prices(requested, decision, spec);
    let usable = input.capabilities.contains(Capability::for_kind(requested))
        && has_prices(requested, limit_price, trailing_offset);
    let (kind, limit_price, trailing_offset) = if usable {
        (requested, limit_price, trailing_offset)
    } else {
        (OrderKind::Market, None, None)
    };
    Approved {
        symbol: input.symbol,
        side,
        quantity,
        kind,
        limit_price,
        trailing_offset,
        stop: None,
        take_profit: None,
        reduce_only,
        exit: true,
        reservation: None,
        approved_at: now,
    }
}

/// The decision's limit (or trigger) price and trailing offset snapped to tick, each only when
/// `kind` uses it.
fn kind_prices(
    kind: OrderKind,
    decision: &Decision,
    spec: &InstrumentSpec,
) -> (Option<Price>, Option<Price>) {
    let snap = |p: Price| spec.round_price(p.get());
    let limit = if needs_price(kind) {
        decision.limit_price().map(snap)
    } else {
        None
    };
    let trailing = if kind == OrderKind::TrailingStop {
        decision.trailing_stop().map(snap)
    } else {
        None
    };
    (limit, trailing)
}

/// Whether `kind` carries a limit or trigger price (taken from the decision's limit price).
fn needs_price(kind: OrderKind) -> bool {
    kind.needs_limit_price() || kind.needs_trigger_price()
}

/// Whether the prices `kind` needs are present and usable.
fn has_prices(kind: OrderKind, limit: Option<Price>, trailing: Option<Price>) -> bool {
    if needs_price(kind) && !limit.is_some_and(|p| p.get() > 0.0) {
        return false;
    }
    if kind == OrderKind::TrailingStop && !trailing.is_some_and(|p| p.get() > 0.0) {
        return false;
    }
    true
}

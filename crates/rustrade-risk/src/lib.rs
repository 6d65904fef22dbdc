//! Pure risk primitives and the typed gate chain every rustrade order passes through.
//!
//! Every order a brain asks for — in a backtest, in paper trading, live — goes through
//! [`evaluate`], which either returns an [`Approved`] intent or a [`Refusal`] with a metrics
//! label. `Approved` can only be made here, so an order that skipped the gates cannot be
//! expressed. The crate is synchronous and does no I/O; it never reads the clock: `now` is an
//! argument everywhere, so the same inputs give the same answers.
//!
//! The primitives:
//!
//! - [`CircuitBreaker`]: trips after `loss_limit` losses within a sliding window, for a cooldown;
//! - [`SessionPnl`]: the session's realised PnL (fees of both legs), halting entries at a loss cap
//!   until the next [`SessionBoundary`];
//! - [`PositionSizer`]: margin × leverage ÷ (price × contract value), or a
//!   [`SizeHint`](rustrade_core::SizeHint), capped and snapped down to the lot;
//! - [`PortfolioRisk`]: the account's daily loss latch, position count and exposure caps at mark,
//!   with reservations for entries in flight.
//!
//! [`SymbolRisk`] bundles one symbol's breaker, session and sizer; [`RiskConfig`] configures it,
//! with [`RiskConfig::preset`] per asset class. Every piece of state has a versioned, serde
//! snapshot and a `restore` that honours time passed while stopped.
//!
//! Exits are never blocked: a decision that reduces an open position passes every gate.
//!
//! # Example
//!
//! ```
//! use rustrade_core::{AssetClass, Capability, Decision, InstrumentSpec, Position, Price, Symbol, Timestamp};
//! use rustrade_risk::{
//!     Capabilities, Funds, GateInput, PortfolioConfig, PortfolioRisk, Refusal, RiskConfig, SymbolRisk, evaluate,
//! };
//!
//! let now = Timestamp::parse_rfc3339("2024-05-01T12:00:00Z")?;
//! let btc = Symbol::new("BTCUSDT")?;
//! let spec = InstrumentSpec::new(btc, AssetClass::CryptoPerp, 0.1, 0.001)?.with_min_notional(5.0)?;
//! let mut risk = SymbolRisk::new(&RiskConfig::preset(AssetClass::CryptoPerp), now)?;
//! let mut portfolio = PortfolioRisk::new(PortfolioConfig { max_positions: Some(3), ..Default::default() }, now)?;
//! let caps = Capabilities::from_fn(|c| matches!(c, Capability::MarketOrders | Capability::ReduceOnly));
//!
//! // An entry: 100 margin × 5 leverage at 50 000 is 0.01 BTC.
//! let buy = Decision::buy(0.9);
//! let flat = Position::FLAT;
//! let input = GateInput {
//!     decision: &buy, symbol: btc, reference_price: Price::new(50_000.0)?, position: &flat,
//!     spec: &spec, capabilities: caps, open_positions: &[], funds: Funds::UNKNOWN,
//! };
//! let approved = evaluate(&input, &mut risk, &mut portfolio, now).expect("within limits");
//! assert_eq!(approved.quantity().get(), 0.01);
//! assert!(approved.reservation().is_some());
//!
//! // Three losses trip the breaker: entries are refused, exits still pass.
//! for _ in 0..3 {
//!     risk.record_close(-10.0, 0.5, now)?;
//! }
//! assert_eq!(evaluate(&input, &mut risk, &mut portfolio, now).unwrap_err().as_label(), "breaker_tripped");
//! let long = Position::new(0.01, 50_000.0);
//! let close = Decision::close();
//! let exit = GateInput { decision: &close, position: &long, ..input };
//! let approved = evaluate(&exit, &mut risk, &mut portfolio, now).expect("exits are never blocked");
//! assert!(approved.is_exit() && approved.reduce_only());
//!
//! // A close when flat is a silent no-op.
//! let nothing = GateInput { decision: &close, ..input };
//! assert_eq!(evaluate(&nothing, &mut risk, &mut portfolio, now), Err(Refusal::NothingToClose));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod boundary;
mod breaker;
mod capabilities;
mod config;
mod duration_secs;
mod error;
mod gate;
mod portfolio;
mod session;
mod settings;
mod sizing;
mod symbol_risk;

pub use boundary::SessionBoundary;
pub use breaker::{BREAKER_SNAPSHOT_VERSION, BreakerConfig, BreakerSnapshot, CircuitBreaker};
pub use capabilities::Capabilities;
pub use config::RiskConfig;
pub use error::RiskError;
pub use gate::{Approved, GateInput, Refusal, evaluate};
pub use portfolio::{
    EntryRequest, OpenExposure, PORTFOLIO_SNAPSHOT_VERSION, PortfolioConfig, PortfolioRefusal,
    PortfolioRisk, PortfolioSnapshot, Reservation, ReservationId,
};
pub use session::{
    BREAKEVEN_EPSILON, SESSION_SNAPSHOT_VERSION, SessionConfig, SessionPnl, SessionSnapshot,
    TradeOutcome,
};
pub use settings::{AccountBasis, DEFAULT_MARGIN_OF_CASH, RiskSettings};
pub use sizing::{Funds, PositionSizer, SizeRefusal, SizingBasis, SizingConfig, margin_quantity};
pub use symbol_risk::{SymbolRisk, SymbolRiskSnapshot, record_trade_outcome};

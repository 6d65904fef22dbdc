//! [`Signal`]: a brain's non-hold decision as published to subscribers, before the risk gates.

use std::sync::Arc;

use crate::{Bus, Decision, Price, Symbol, Timestamp};

/// A non-hold decision, published *before* the risk gates run: subscribers see intent; whether
/// it became an order is in the order log and metrics.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Signal {
    /// Name of the brain that decided.
    pub brain: Arc<str>,
    /// Symbol of the event decided on.
    pub symbol: Symbol,
    /// Time of the event decided on.
    pub time: Timestamp,
    /// Reference price of that event.
    pub reference_price: Price,
    /// The decision.
    pub decision: Decision,
}

/// The broadcast bus of [`Signal`]s.
///
/// ```
/// use rustrade_core::{Decision, Price, Signal, SignalBus, Symbol, Timestamp};
/// let bus = SignalBus::new(16);
/// let mut rx = bus.subscribe();
/// bus.publish(Signal {
///     brain: "demo".into(),
///     symbol: Symbol::new("BTCUSDT")?,
///     time: Timestamp::EPOCH,
///     reference_price: Price::new(100.0)?,
///     decision: Decision::buy(1.0),
/// });
/// assert_eq!(rx.try_recv().unwrap().brain.as_ref(), "demo");
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
pub type SignalBus = Bus<Signal>;

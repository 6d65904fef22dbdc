//! The strategy contract: [`Brain`] and its [`BrainHealth`] report.
//!
//! # Why `on_event` is synchronous
//!
//! The backtest calls `on_event` once per candle in a tight loop and must not allocate per candle
//! outside the brain. An `async fn` in an object-safe trait returns a boxed future: one heap
//! allocation per call, and a runtime to poll it. Decisions are computations over data the brain
//! already holds, so `on_event` is a plain function; a brain that needs I/O (a model server, an
//! external signal) does it in its own task and reads the latest result here. `health` is async
//! because hosts await it rarely and it may reasonably wait.

use crate::{BrainContext, BrainError, Decision, Fill, MarketEvent, Position, Symbol};

/// A trading strategy: sees market events and answers with [`Decision`]s.
///
/// The same brain object runs unchanged in a backtest, in paper trading and live. It is shared
/// (`Arc<dyn Brain>`) between the service that drives it and the handle that reports its health,
/// so state that changes per event lives behind interior mutability (a `Mutex` uncontended in
/// practice, or atomics).
///
/// Contract:
/// - `on_event` is called for every event of the symbols the brain sees, in time order per symbol,
///   with the framework's current position for that symbol.
/// - Return `Err` for a recoverable problem: it is logged and counted live and stops a backtest
///   with a clear error. A panic is contained to the brain's service, which the supervisor
///   restarts (under `panic = "unwind"`).
/// - Exits ([`Decision::close`] or an order against the position) pass every risk gate; entries
///   are checked by them.
///
/// ```
/// use rustrade_core::{async_trait, Brain, BrainError, BrainHealth, Decision, MarketEvent, Position};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// /// Buys every tenth event, closes on the fifth after.
/// struct EveryTenth { seen: AtomicU64 }
///
/// #[async_trait]
/// impl Brain for EveryTenth {
///     fn name(&self) -> &str { "every-tenth" }
///     fn on_event(&self, _e: &MarketEvent, pos: &Position) -> Result<Decision, BrainError> {
///         let n = self.seen.fetch_add(1, Ordering::Relaxed);
///         Ok(match n % 10 {
///             0 if pos.is_flat() => Decision::buy(1.0),
///             5 => Decision::close(),
///             _ => Decision::hold(),
///         })
///     }
///     async fn health(&self) -> BrainHealth {
///         BrainHealth::ok().with_events(self.seen.load(Ordering::Relaxed), 0)
///     }
/// }
/// let brain: std::sync::Arc<dyn Brain> = std::sync::Arc::new(EveryTenth { seen: AtomicU64::new(0) });
/// assert_eq!(brain.name(), "every-tenth");
/// ```
#[async_trait::async_trait]
pub trait Brain: Send + Sync {
    /// Unique name within a bot; used in logs, metrics, client order ids and health.
    fn name(&self) -> &str;

    /// Symbols this brain owns exclusively, or `None` (the default) to see every symbol.
    ///
    /// With `Some`, only those symbols' events reach the brain, and a bot refuses to start when two
    /// brains claim the same symbol. Read once at construction.
    fn owned_symbols(&self) -> Option<Vec<Symbol>> {
        None
    }

    /// Decide what to do after `event`, given the current `position` in its symbol.
    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError>;

    /// Decide what to do after `event` with the whole [`BrainContext`]: the position, the
    /// account's equity and cash, the brain's open orders and the bar count.
    ///
    /// Drivers call this; the default forwards to [`on_event`](Self::on_event) with the
    /// context's position, so a brain that does not read its account implements `on_event`
    /// alone. A brain that does overrides this and implements `on_event` as
    /// `self.on_event_in(event, &BrainContext::detached(position))`.
    #[inline]
    fn on_event_in(
        &self,
        event: &MarketEvent,
        ctx: &BrainContext<'_>,
    ) -> Result<Decision, BrainError> {
        self.on_event(event, ctx.position())
    }

    /// Told about each fill of this brain's orders, after the position was updated.
    fn on_fill(&self, _fill: &Fill) {}

    /// Current health, for the host's health endpoint.
    async fn health(&self) -> BrainHealth {
        BrainHealth::ok()
    }
}

/// A brain's report of its own health.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BrainHealth {
    /// Whether the brain considers itself able to trade.
    pub healthy: bool,
    /// Events processed since start.
    pub events_processed: u64,
    /// Non-hold decisions emitted since start.
    pub non_hold_decisions: u64,
    /// Free-form details (warm-up state, model age, last error).
    pub details: serde_json::Value,
}

impl BrainHealth {
    /// Healthy, no counts, no details.
    pub fn ok() -> Self {
        Self {
            healthy: true,
            events_processed: 0,
            non_hold_decisions: 0,
            details: serde_json::Value::Null,
        }
    }

    /// Unhealthy with `reason` in `details.reason`.
    pub fn unhealthy(reason: impl Into<String>) -> Self {
        Self {
            healthy: false,
            details: serde_json::json!({ "reason": reason.into() }),
            ..Self::ok()
        }
    }

    /// Sets the counters.
    pub fn with_events(mut self, events_processed: u64, non_hold_decisions: u64) -> Self {
        self.events_processed = events_processed;
        self.non_hold_decisions = non_hold_decisions;
        self
    }

    /// Sets the details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

impl Default for BrainHealth {
    fn default() -> Self {
        Self::ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Candle, Timestamp, Venue};
    use std::sync::Arc;

    struct Fixed;

    #[async_trait::async_trait]
    impl Brain for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        fn on_event(&self, e: &MarketEvent, _p: &Position) -> Result<Decision, BrainError> {
            if e.reference_price().get() > 10.0 {
                Ok(Decision::sell(1.0))
            } else {
                Err(BrainError::NotReady("warming up".into()))
            }
        }
    }

    #[tokio::test]
    async fn object_safe_with_defaults() {
        let b: Arc<dyn Brain> = Arc::new(Fixed);
        assert_eq!(b.owned_symbols(), None);
        assert_eq!(b.health().await, BrainHealth::ok());
        let c = Candle::new(Timestamp::EPOCH, 11.0, 12.0, 10.5, 11.5, 1.0).unwrap();
        let e = MarketEvent::candle(
            Venue::new("sim").unwrap(),
            Symbol::new("X").unwrap(),
            Timestamp::EPOCH,
            c,
        );
        assert_eq!(
            b.on_event(&e, &Position::FLAT).unwrap(),
            Decision::sell(1.0)
        );
    }

    struct Sized;

    #[async_trait::async_trait]
    impl Brain for Sized {
        fn name(&self) -> &str {
            "sized"
        }
        fn on_event(&self, e: &MarketEvent, p: &Position) -> Result<Decision, BrainError> {
            self.on_event_in(e, &BrainContext::detached(p))
        }
        fn on_event_in(
            &self,
            _e: &MarketEvent,
            ctx: &BrainContext<'_>,
        ) -> Result<Decision, BrainError> {
            Ok(match ctx.equity() {
                Some(eq) if eq > 100.0 => Decision::buy(1.0),
                _ => Decision::hold(),
            })
        }
    }

    struct Rich;

    impl crate::AccountView for Rich {
        fn equity(&self) -> Option<f64> {
            Some(1_000.0)
        }
        fn cash(&self) -> Option<f64> {
            Some(900.0)
        }
        fn open_order_count(&self) -> usize {
            0
        }
        fn for_each_open_order(&self, _visit: &mut dyn FnMut(&crate::Order)) {}
        fn bars(&self) -> u64 {
            7
        }
    }

    #[test]
    fn on_event_in_defaults_to_on_event_and_can_read_the_account() {
        let c = Candle::new(Timestamp::EPOCH, 11.0, 12.0, 10.5, 11.5, 1.0).unwrap();
        let e = MarketEvent::candle(
            Venue::new("sim").unwrap(),
            Symbol::new("X").unwrap(),
            Timestamp::EPOCH,
            c,
        );
        let legacy: Arc<dyn Brain> = Arc::new(Fixed);
        let ctx = BrainContext::new(&Position::FLAT, &Rich);
        assert_eq!(legacy.on_event_in(&e, &ctx).unwrap(), Decision::sell(1.0));
        let sized: Arc<dyn Brain> = Arc::new(Sized);
        assert_eq!(sized.on_event_in(&e, &ctx).unwrap(), Decision::buy(1.0));
        assert_eq!(ctx.bars(), 7);
        assert_eq!(ctx.cash(), Some(900.0));
        assert!(sized.on_event(&e, &Position::FLAT).unwrap().is_hold());
    }

    #[test]
    fn health_builders_and_serde() {
        let h = BrainHealth::unhealthy("model stale").with_events(10, 2);
        assert!(!h.healthy);
        assert_eq!(h.details["reason"], "model stale");
        assert_eq!((h.events_processed, h.non_hold_decisions), (10, 2));
        let back: BrainHealth = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        let d = BrainHealth::ok().with_details(serde_json::json!({"warm": true}));
        assert_eq!(d.details["warm"], true);
    }
}

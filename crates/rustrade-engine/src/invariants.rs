//! [`Engine::check_invariants`]: the accounting identities of the engine's state, checked in one
//! place. Each identity is kept by the part of the state that owns both sides of it, and that
//! part checks it:
//!
//! # Invariants
//!
//! - **Net = sum of brains** (`Positions`, `positions.rs`). On every symbol, the net ledger's
//!   quantity equals the sum of the brains' ledger quantities (within half a lot: both are
//!   judged flat at that tolerance), and its fees paid equal the sum of theirs (every fill is
//!   booked to one brain and to the net).
//! - **Reservations = working entries** (`Working`, `working.rs`). Every portfolio reservation
//!   the engine holds belongs to a live entry order that has not filled yet: a reservation is
//!   taken with the entry, confirmed at its first fill and released when it ends unfilled. (A
//!   live entry may hold none: without portfolio limits nothing is reserved, and after a restart
//!   an entry that no longer fits keeps working unreserved.)
//!
//! Drivers call it in debug builds after each step; tests call it directly.

use crate::Engine;

/// An accounting identity of the engine's state that does not hold; names the symbol or order
/// and the values that disagree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("engine invariant broken: {0}")]
pub struct InvariantViolation(pub String);

impl Engine {
    /// Checks the invariants of the module doc; the first broken one is returned. Costs a pass
    /// over the symbols and the reservations, so drivers run it in debug builds only.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        self.positions.check()?;
        self.orders.check()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rustrade_core::{AssetClass, Decision, InstrumentSpec, OrderStatus, Symbol};
    use rustrade_risk::{PortfolioConfig, RiskConfig};

    use crate::testkit::{Harness, VenueScript};
    use crate::{BrainId, EngineConfig};

    fn harness(script: VenueScript) -> (Harness, Symbol) {
        let x = Symbol::new("XYZ").unwrap();
        let config = EngineConfig::new("t", RiskConfig::default())
            .with_brain("a")
            .with_brain("b")
            .with_portfolio(PortfolioConfig {
                max_positions: Some(4),
                ..PortfolioConfig::default()
            })
            .with_instrument(InstrumentSpec::new(x, AssetClass::CryptoSpot, 0.5, 1.0).unwrap());
        (Harness::new(config, script), x)
    }

    #[test]
    fn a_trading_engine_keeps_its_invariants() {
        let (mut h, x) = harness(VenueScript::instant());
        h.candle(x, 100.0);
        h.decide(BrainId(0), x, &Decision::buy(1.0));
        h.decide(BrainId(1), x, &Decision::sell(1.0));
        h.engine.check_invariants().unwrap();
        h.candle(x, 101.0);
        h.decide(BrainId(0), x, &Decision::close());
        h.engine.check_invariants().unwrap();
    }

    #[test]
    fn a_net_ledger_that_drifts_from_its_brains_is_caught() {
        let (mut h, x) = harness(VenueScript::instant());
        h.candle(x, 100.0);
        h.decide(BrainId(0), x, &Decision::buy(1.0));
        h.engine.check_invariants().unwrap();
        // The broken variant: a net ledger booked without its brain.
        h.engine.positions.net_mut(&x).quantity += 1.0;
        let err = h.engine.check_invariants().unwrap_err();
        assert!(err.0.contains("XYZ: net quantity"), "{err}");
        h.engine.positions.net_mut(&x).quantity -= 1.0;
        h.engine.positions.net_mut(&x).fees_paid += 0.5;
        let err = h.engine.check_invariants().unwrap_err();
        assert!(err.0.contains("net fees paid"), "{err}");
    }

    #[test]
    fn a_reservation_without_a_working_entry_is_caught() {
        let (mut h, x) = harness(VenueScript::manual());
        h.candle(x, 100.0);
        h.decide(BrainId(0), x, &Decision::buy(1.0));
        let entry = h.last_placed().expect("an entry");
        h.engine.check_invariants().unwrap();
        assert_eq!(h.engine.orders.reserved_entries(), vec![entry], "reserved");
        // The broken variant: the entry ends but its reservation is not released.
        h.engine.orders.live_mut(&entry).unwrap().status = OrderStatus::Cancelled;
        let err = h.engine.check_invariants().unwrap_err();
        assert!(err.0.contains(entry.as_str()), "{err}");
    }
}

//! Shared setup of the scenario tests: one instrument, risk limits that stay out of the way
//! unless a test tightens them, and helpers to pick commands and events out of the logs.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use rustrade_core::{AssetClass, Capability, ClientOrderId, InstrumentSpec, Symbol};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{Command, EngineConfig, EngineEvent, PlaceOrder};
use rustrade_risk::{BreakerConfig, RiskConfig, SessionBoundary, SessionConfig, SizingConfig};

pub fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

pub fn spec(tick: f64, lot: f64) -> InstrumentSpec {
    InstrumentSpec::new(btc(), AssetClass::CryptoPerp, tick, lot).unwrap()
}

/// Margin 100 × leverage 1, quantity cap 10, no session cap, a breaker that needs 100 losses.
pub fn risk() -> RiskConfig {
    RiskConfig {
        breaker: BreakerConfig {
            loss_limit: 100,
            window: Duration::from_secs(3_600),
            cooldown: Duration::from_secs(1_800),
            extend_on_loss: false,
        },
        session: SessionConfig {
            loss_cap: None,
            boundary: SessionBoundary::UTC_MIDNIGHT,
        },
        sizing: SizingConfig {
            margin: 100.0,
            leverage: 1.0,
            max_quantity: Some(10.0),
            max_notional: None,
            ..Default::default()
        },
    }
}

pub const BASIC: [Capability; 3] = [
    Capability::MarketOrders,
    Capability::LimitOrders,
    Capability::ReduceOnly,
];

pub fn config(caps: &[Capability]) -> EngineConfig {
    EngineConfig::new("bot", risk())
        .with_brain("alpha")
        .with_brain("beta")
        .with_instrument(spec(0.5, 0.001))
        .with_capabilities(caps.iter().copied())
}

pub fn harness(caps: &[Capability], script: VenueScript) -> Harness {
    Harness::new(config(caps), script)
}

pub fn places(cmds: &[Command]) -> Vec<PlaceOrder> {
    cmds.iter().filter_map(|c| c.as_place().copied()).collect()
}

pub fn cancels(cmds: &[Command]) -> Vec<ClientOrderId> {
    cmds.iter()
        .filter_map(|c| c.as_cancel().map(|c| c.client_id))
        .collect()
}

pub fn refusals(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::DecisionRefused { refusal, .. } => Some(refusal.label.to_string()),
            _ => None,
        })
        .collect()
}

pub fn malformed(events: &[EngineEvent]) -> Vec<rustrade_engine::Malformed> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::MalformedInput { problem, .. } => Some(*problem),
            _ => None,
        })
        .collect()
}

pub fn trades(
    events: &[EngineEvent],
) -> Vec<(rustrade_engine::BrainId, rustrade_engine::ClosedTrade)> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::TradeClosed { brain, trade, .. } => Some((*brain, *trade)),
            _ => None,
        })
        .collect()
}

pub fn harness_with(config: EngineConfig, script: VenueScript) -> Harness {
    Harness::new(config, script)
}

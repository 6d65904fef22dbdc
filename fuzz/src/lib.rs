//! Shared pieces of the fuzz targets: valid sample values of every fuzzed type, and a
//! structure-aware JSON mutator.
//!
//! Raw bytes rarely get past a JSON decoder's first field, so each JSON target also takes a valid
//! sample built through the public API (so it tracks the real serialised shape), applies a few
//! mutations chosen by the fuzzer's bytes — a value replaced by a hostile scalar, a key removed,
//! an array element dropped or duplicated, a subtree copied over another — and decodes the
//! result. Every decoder under test must answer such input with an error or a valid value,
//! never a panic.

use std::time::Duration;

use libfuzzer_sys::arbitrary::{Result as ArbResult, Unstructured};
use rustrade_core::{
    AssetClass, Capability, Decision, Fill, InstrumentSpec, MarketEvent, Order, Price, Symbol,
};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, Command, EngineConfig, EngineSnapshot};
use rustrade_risk::{BreakerConfig, RiskConfig, SessionBoundary, SessionConfig, SizingConfig};
use serde_json::{Value, json};

/// How many mutations one input may apply at most.
const MAX_MUTATIONS: u8 = 8;

/// Applies up to [`MAX_MUTATIONS`] mutations chosen by `u` to `value`.
pub fn mutate_json(value: &mut Value, u: &mut Unstructured<'_>) -> ArbResult<()> {
    let rounds = u.int_in_range(1..=MAX_MUTATIONS)?;
    for _ in 0..rounds {
        if u.is_empty() {
            break;
        }
        let donor = pick(value, u)?.clone();
        let target = pick_mut(value, u)?;
        match u.int_in_range(0..=4u8)? {
            0 => *target = hostile(u)?,
            1 => {
                if let Value::Object(map) = target
                    && !map.is_empty()
                {
                    let i = u.choose_index(map.len())?;
                    let key = map.keys().nth(i).cloned().unwrap_or_default();
                    map.remove(&key);
                }
            }
            2 => {
                if let Value::Array(items) = target
                    && !items.is_empty()
                {
                    let i = u.choose_index(items.len())?;
                    if u.arbitrary()? {
                        items.remove(i);
                    } else {
                        let copy = items[i].clone();
                        items.insert(i, copy);
                    }
                }
            }
            3 => *target = donor,
            _ => {
                if let Value::Object(map) = target {
                    map.insert(key_name(u)?, hostile(u)?);
                }
            }
        }
    }
    Ok(())
}

/// A node of `value`, reached by walking down as far as `u` says.
fn pick<'a>(mut value: &'a Value, u: &mut Unstructured<'_>) -> ArbResult<&'a Value> {
    loop {
        let next = match value {
            Value::Array(items) if !items.is_empty() && u.arbitrary()? => {
                &items[u.choose_index(items.len())?]
            }
            Value::Object(map) if !map.is_empty() && u.arbitrary()? => {
                let i = u.choose_index(map.len())?;
                map.values().nth(i).unwrap_or(value)
            }
            _ => return Ok(value),
        };
        value = next;
    }
}

/// A mutable node of `value`, reached by walking down as far as `u` says.
fn pick_mut<'a>(value: &'a mut Value, u: &mut Unstructured<'_>) -> ArbResult<&'a mut Value> {
    let descend = match &*value {
        Value::Array(items) if !items.is_empty() => {
            if u.arbitrary()? {
                Some(u.choose_index(items.len())?)
            } else {
                None
            }
        }
        Value::Object(map) if !map.is_empty() => {
            if u.arbitrary()? {
                Some(u.choose_index(map.len())?)
            } else {
                None
            }
        }
        _ => None,
    };
    match (descend, value) {
        (Some(i), Value::Array(items)) => pick_mut(&mut items[i], u),
        (Some(i), Value::Object(map)) => match map.values_mut().nth(i) {
            Some(child) => pick_mut(child, u),
            None => unreachable_node(),
        },
        (_, value) => Ok(value),
    }
}

/// Indices above come from the node's own length, so a missing child cannot occur; answering
/// with an exhausted-input error keeps the mutator total without a panic path.
fn unreachable_node<'a>() -> ArbResult<&'a mut Value> {
    Err(libfuzzer_sys::arbitrary::Error::NotEnoughData)
}

/// A scalar or small container chosen to break assumptions: signs, zero, extremes, huge and
/// empty strings, wrong types.
fn hostile(u: &mut Unstructured<'_>) -> ArbResult<Value> {
    Ok(match u.int_in_range(0..=19u8)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(1),
        5 => json!(i64::MAX),
        6 => json!(i64::MIN),
        7 => json!(u64::MAX),
        8 => json!(f64::MAX),
        9 => json!(-f64::MAX),
        10 => json!(f64::MIN_POSITIVE),
        11 => json!(-0.0),
        12 => json!(1e-300),
        13 => json!(""),
        14 => json!("x".repeat(300)),
        15 => json!([]),
        16 => json!({}),
        17 => json!(u.arbitrary::<i64>()?),
        18 => json!(u.arbitrary::<f64>()?),
        _ => json!(u.arbitrary::<String>()?),
    })
}

fn key_name(u: &mut Unstructured<'_>) -> ArbResult<String> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => "type".to_owned(),
        1 => "price".to_owned(),
        2 => "quantity".to_owned(),
        _ => u.arbitrary()?,
    })
}

/// The symbol every sample trades.
pub fn symbol() -> Symbol {
    Symbol::new("BTCUSDT").expect("BTCUSDT is a valid symbol")
}

/// A perpetual with tick 0.5 and lot 0.001.
pub fn instrument() -> InstrumentSpec {
    InstrumentSpec::new(symbol(), AssetClass::CryptoPerp, 0.5, 0.001)
        .expect("the sample instrument is valid")
}

/// The engine config the snapshot target restores under: bot `fuzz`, brains `alpha` and
/// `beta`, one instrument, bracket and limit capabilities.
pub fn engine_config() -> EngineConfig {
    let risk = RiskConfig {
        breaker: BreakerConfig {
            loss_limit: 3,
            window: Duration::from_secs(3_600),
            cooldown: Duration::from_secs(1_800),
            extend_on_loss: false,
        },
        session: SessionConfig {
            loss_cap: Some(-500.0),
            boundary: SessionBoundary::UTC_MIDNIGHT,
        },
        sizing: SizingConfig {
            margin: 1_000.0,
            leverage: 2.0,
            max_quantity: Some(10.0),
            max_notional: None,
        },
    };
    EngineConfig::new("fuzz", risk)
        .with_brain("alpha")
        .with_brain("beta")
        .with_instrument(instrument())
        .with_capabilities([
            Capability::MarketOrders,
            Capability::LimitOrders,
            Capability::ReduceOnly,
            Capability::StopMarket,
        ])
}

/// Samples of every fuzzed type, produced by a short engine session so they carry the shapes
/// the engine really emits.
pub struct Samples {
    /// A candle event.
    pub market_event: MarketEvent,
    /// An order the engine placed.
    pub order: Order,
    /// A fill of it.
    pub fill: Fill,
    /// A decision with a stop and a take-profit.
    pub decision: Decision,
    /// The engine's state with a position, a live bracket and an unfilled entry.
    pub snapshot: EngineSnapshot,
}

impl Samples {
    /// Runs the session that produces the samples.
    pub fn build() -> Self {
        let x = symbol();
        let mut h = Harness::new(engine_config(), VenueScript::manual());
        let market_event = h.candle_ohlc(x, 100.0, 101.0, 99.0, 100.5);
        let decision = Decision::buy(0.8)
            .with_stop(Price::new(95.0).expect("valid price"))
            .with_take_profit(Price::new(110.0).expect("valid price"));
        h.decide(BrainId(0), x, &decision);
        let entry = h.last_placed().expect("the buy placed an entry");
        h.accept(entry);
        let fill = h.fill(entry, 0.5, 100.5, 0.01);
        h.candle(x, 101.0);
        h.decide(BrainId(1), x, &Decision::sell(0.5));
        let order = h
            .commands
            .iter()
            .rev()
            .find_map(|c| match c {
                Command::Place(p) => Some(p.order),
                _ => None,
            })
            .expect("the session placed orders");
        let snapshot = h.engine.snapshot(h.now());
        Self {
            market_event,
            order,
            fill,
            decision,
            snapshot,
        }
    }
}

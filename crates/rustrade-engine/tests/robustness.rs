//! Robustness of snapshot restore against hostile JSON, on the stable toolchain (the libFuzzer
//! target `fuzz/fuzz_targets/engine_snapshot.rs` explores the same boundary deeper).
//!
//! Properties, for arbitrary JSON and for a real snapshot with mutated nodes:
//! - decoding and [`Engine::restore`] answer with an error or an engine, never a panic;
//! - a failed restore leaves the running engine untouched: it still snapshots to the same value
//!   and answers the next input exactly as a twin that never saw the attempt;
//! - an engine that did restore accepts every input kind without a panic, and its own snapshot
//!   restores again.

use std::time::Duration;

use proptest::prelude::*;
use rustrade_core::{
    Asset, AssetClass, Candle, Capability, Decision, Fill, FillId, InstrumentSpec, Liquidity,
    MarketEvent, Money, OrderId, Price, Quantity, Symbol, Timestamp, Venue,
};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, Engine, EngineConfig, EngineSnapshot};
use rustrade_risk::{BreakerConfig, RiskConfig, SessionBoundary, SessionConfig, SizingConfig};
use serde_json::{Value, json};

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn config() -> EngineConfig {
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
            ..Default::default()
        },
    };
    EngineConfig::new("robust", risk)
        .with_brain("alpha")
        .with_brain("beta")
        .with_instrument(InstrumentSpec::new(btc(), AssetClass::CryptoPerp, 0.5, 0.001).unwrap())
        .with_capabilities([
            Capability::MarketOrders,
            Capability::LimitOrders,
            Capability::ReduceOnly,
            Capability::StopMarket,
        ])
}

/// A session that leaves a partly filled bracketed entry, a position and an unfilled order.
fn live_harness() -> Harness {
    let x = btc();
    let mut h = Harness::new(config(), VenueScript::manual());
    h.candle_ohlc(x, 100.0, 101.0, 99.0, 100.5);
    let bracketed = Decision::buy(0.8)
        .with_stop(Price::new(95.0).unwrap())
        .with_take_profit(Price::new(110.0).unwrap());
    h.decide(BrainId(0), x, &bracketed);
    let entry = h.last_placed().unwrap();
    h.accept(entry);
    h.fill(entry, 0.5, 100.5, 0.01);
    h.candle(x, 101.0);
    h.decide(BrainId(1), x, &Decision::sell(0.5));
    h
}

fn sample_snapshot() -> (EngineSnapshot, Value) {
    let h = live_harness();
    let snapshot = h.engine.snapshot(h.now());
    let value = serde_json::to_value(&snapshot).unwrap();
    (snapshot, value)
}

/// Arbitrary JSON, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|v| json!(v)),
        any::<u64>().prop_map(|v| json!(v)),
        any::<f64>().prop_map(|v| json!(v)),
        "[ -~]{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value chosen to break assumptions: signs, zero, extremes, empty and long strings, wrong
/// types.
fn hostile() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(f64::MAX)),
        Just(json!(-f64::MAX)),
        Just(json!(-0.0)),
        Just(json!(1e-300)),
        Just(json!("")),
        Just(json!("x".repeat(300))),
        Just(json!([])),
        Just(json!({})),
        any::<i64>().prop_map(|v| json!(v)),
        any::<f64>().prop_map(|v| json!(v)),
        "[ -~]{0,24}".prop_map(Value::String),
    ]
}

/// One change to a JSON tree at the node reached by `path` (indices taken modulo each node's
/// child count; the walk stops early at a leaf or at the path's end).
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Vec<usize>, Value),
    RemoveChild(Vec<usize>, usize),
    DuplicateChild(Vec<usize>, usize),
    CopyOver { from: Vec<usize>, to: Vec<usize> },
}

fn path() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..64, 0..8)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (path(), hostile()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        2 => (path(), 0usize..64).prop_map(|(p, i)| Mutation::RemoveChild(p, i)),
        1 => (path(), 0usize..64).prop_map(|(p, i)| Mutation::DuplicateChild(p, i)),
        1 => (path(), path()).prop_map(|(from, to)| Mutation::CopyOver { from, to }),
    ]
}

fn node<'a>(mut v: &'a mut Value, path: &[usize]) -> &'a mut Value {
    for &i in path {
        let has_children = match &*v {
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
            _ => false,
        };
        if !has_children {
            break;
        }
        v = match v {
            Value::Array(a) => {
                let n = a.len();
                &mut a[i % n]
            }
            Value::Object(m) => {
                let n = m.len();
                m.values_mut().nth(i % n).unwrap()
            }
            _ => unreachable!("checked above"),
        };
    }
    v
}

fn mutate(value: &mut Value, mutations: &[Mutation]) {
    for m in mutations {
        match m {
            Mutation::Replace(p, new) => *node(value, p) = new.clone(),
            Mutation::RemoveChild(p, i) => match node(value, p) {
                Value::Array(a) if !a.is_empty() => {
                    let n = a.len();
                    a.remove(i % n);
                }
                Value::Object(map) if !map.is_empty() => {
                    let key = map.keys().nth(i % map.len()).unwrap().clone();
                    map.remove(&key);
                }
                _ => {}
            },
            Mutation::DuplicateChild(p, i) => {
                if let Value::Array(a) = node(value, p)
                    && !a.is_empty()
                {
                    let n = a.len();
                    let copy = a[i % n].clone();
                    a.insert(i % n, copy);
                }
            }
            Mutation::CopyOver { from, to } => {
                let copy = node(value, from).clone();
                *node(value, to) = copy;
            }
        }
    }
}

/// One of each input kind, from `now` on.
fn drive(engine: &mut Engine, now: Timestamp) {
    let live: Vec<_> = engine
        .open_orders()
        .map(|o| {
            (
                o.order.client_id,
                o.order.symbol,
                o.order.side,
                o.order.quantity,
            )
        })
        .collect();
    for (i, (cid, symbol, side, qty)) in live.into_iter().enumerate() {
        let order_id = OrderId::new(&format!("rb{i}")).unwrap();
        engine.handle_accepted(cid, order_id, now);
        let fill = Fill {
            fill_id: FillId::new(&format!("rbf{i}")).unwrap(),
            order_id,
            client_id: Some(cid),
            symbol,
            side,
            price: engine.mark(&symbol).unwrap_or(Price::new(100.0).unwrap()),
            quantity: Quantity::new(qty.get() / 2.0).unwrap(),
            fee: Money::new(0.01).unwrap(),
            fee_asset: Asset::new("USDT").unwrap(),
            liquidity: Liquidity::Taker,
            time: now,
        };
        engine.handle_fill(&fill, now);
    }
    let x = btc();
    let t = now.saturating_add(Duration::from_secs(60));
    let candle = Candle::new(t, 100.0, 102.0, 98.0, 101.0, 5.0).unwrap();
    engine.handle_market(&MarketEvent::candle(
        Venue::new("robust").unwrap(),
        x,
        t,
        candle,
    ));
    let mark = engine.mark(&x).unwrap_or(Price::new(100.0).unwrap());
    engine.handle_decision_at(BrainId(0), x, mark, &Decision::buy(0.7), t);
    engine.handle_decision_at(BrainId(1), x, mark, &Decision::close(), t);
    let hour = now.saturating_add(Duration::from_secs(3_600));
    engine.handle_timer(hour);
    engine.handle_venue_open_orders(&[], hour);
}

/// Drains an engine's outputs as JSON, for comparing two engines.
fn drain(engine: &mut Engine) -> (Vec<Value>, Vec<Value>) {
    let mut commands = Vec::new();
    while let Some(c) = engine.poll_command() {
        commands.push(serde_json::to_value(c).unwrap());
    }
    let mut events = Vec::new();
    while let Some(e) = engine.poll_event() {
        events.push(serde_json::to_value(e).unwrap());
    }
    (commands, events)
}

/// Decodes and restores `value`; on failure checks that `running` (and its twin) are untouched;
/// on success drives the restored engine and restores its own snapshot.
fn restore_checked(value: Value) {
    let mut running = live_harness().engine;
    let mut twin = live_harness().engine;
    let now = rustrade_engine::testkit::START.saturating_add(Duration::from_secs(30));
    let before = running.snapshot(now);

    let restored = serde_json::from_value::<EngineSnapshot>(value)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            Engine::restore(config(), &s, s.taken_at)
                .map(|e| (e, s.taken_at))
                .map_err(|e| e.to_string())
        });
    match restored {
        Err(reason) => {
            assert!(!reason.is_empty());
            assert_eq!(
                running.snapshot(now),
                before,
                "a failed restore changed the engine"
            );
            drive(&mut running, now);
            drive(&mut twin, now);
            assert_eq!(drain(&mut running), drain(&mut twin));
        }
        Ok((mut engine, at)) => {
            drive(&mut engine, at);
            let later = at.saturating_add(Duration::from_secs(7_200));
            let again = engine.snapshot(later);
            Engine::restore(config(), &again, later)
                .expect("an engine's own snapshot restores under its config");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: ProptestConfig::default().cases.max(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_json_is_refused_without_panic(value in json_value()) {
        restore_checked(value);
    }

    #[test]
    fn arbitrary_bytes_are_refused_by_the_decoder(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        prop_assert!(serde_json::from_slice::<EngineSnapshot>(&bytes).is_err());
    }

    #[test]
    fn mutated_snapshots_restore_or_fail_cleanly(
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let (_, mut value) = sample_snapshot();
        mutate(&mut value, &mutations);
        restore_checked(value);
    }
}

#[test]
fn the_sample_round_trips_and_a_foreign_snapshot_names_the_field() {
    let (snapshot, value) = sample_snapshot();
    let back: EngineSnapshot = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(back, snapshot);
    restore_checked(value.clone());

    let mut foreign = value;
    foreign["bot_id"] = json!("someone-else");
    let snapshot: EngineSnapshot = serde_json::from_value(foreign).unwrap();
    let err = Engine::restore(config(), &snapshot, snapshot.taken_at).unwrap_err();
    assert!(err.to_string().contains("bot_id"), "{err}");
}

/// Restores the sample snapshot with `edit` applied.
fn restore_edited(edit: impl FnOnce(&mut Value)) -> Result<Engine, rustrade_engine::EngineError> {
    let (_, mut value) = sample_snapshot();
    edit(&mut value);
    let snapshot: EngineSnapshot = serde_json::from_value(value).unwrap();
    Engine::restore(config(), &snapshot, snapshot.taken_at)
}

#[test]
fn a_foreign_id_prefix_is_refused_at_restore() {
    // Found by the `engine_snapshot` fuzz target: the sequence issued ids from the snapshot's
    // prefix, and one too long for a client id panicked at the first decision.
    let err = restore_edited(|v| v["ids"]["prefix"] = json!("x".repeat(300))).unwrap_err();
    assert!(err.to_string().contains("snapshot ids"), "{err}");
    let err = restore_edited(|v| v["ids"]["prefix"] = json!("other")).unwrap_err();
    assert!(err.to_string().contains("\"other\""), "{err}");
}

#[test]
fn an_order_or_bracket_of_an_unknown_brain_or_symbol_is_refused_at_restore() {
    let err =
        restore_edited(|v| v["orders"]["live"]["robust-1-2"]["brain"] = json!(7)).unwrap_err();
    assert!(err.to_string().contains("snapshot orders"), "{err}");
    let err = restore_edited(|v| {
        v["orders"]["live"]["robust-1-2"]["order"]["symbol"] = json!("ETHUSDT");
    })
    .unwrap_err();
    assert!(err.to_string().contains("ETHUSDT"), "{err}");
    let err = restore_edited(|v| v["brackets"]["robust-0-1"]["brain"] = json!(9)).unwrap_err();
    assert!(err.to_string().contains("snapshot brackets"), "{err}");
}

#[test]
fn brain_counters_at_their_limit_saturate() {
    // Found by `mutated_snapshots_restore_or_fail_cleanly`: a counter restored at `u64::MAX`
    // overflowed on the next order.
    let mut engine = restore_edited(|v| {
        for brain in v["brains"].as_array_mut().unwrap() {
            for counter in [
                "orders_placed",
                "refusals",
                "fills",
                "trades",
                "wins",
                "losses",
            ] {
                brain["stats"][counter] = json!(u64::MAX);
            }
        }
    })
    .unwrap();
    let now = rustrade_engine::testkit::START;
    drive(&mut engine, now);
    let stats = engine.brain_stats(BrainId(0)).unwrap();
    assert_eq!(stats.orders_placed, u64::MAX);
    assert_eq!(stats.fills, u64::MAX);
}

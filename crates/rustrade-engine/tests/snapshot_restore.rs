//! Snapshot at any point, restore into a fresh engine, and the rest of a random input sequence
//! gives identical outputs; identical input sequences give identical outputs.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use rustrade_core::{Capability, Decision, Price, Quantity, RejectReason, SizeHint};
use rustrade_engine::testkit::{Harness, VenueScript};
use rustrade_engine::{BrainId, Engine, EngineSnapshot};

#[derive(Debug, Clone)]
enum Op {
    Candle {
        close: f64,
        range: f64,
    },
    Decide {
        brain: u32,
        action: u8,
        variant: u8,
        qty: u8,
    },
    Accept(usize),
    Fill {
        pick: usize,
        fraction: f64,
        fee: f64,
    },
    Reject(usize),
    Cancel(usize),
    DuplicateFill,
    Timer(u64),
    VenuePosition(i8),
    ReconcileOrders,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (80.0f64..120.0, 0.0f64..8.0).prop_map(|(close, range)| Op::Candle { close, range }),
        4 => (0u32..2, 0u8..4, 0u8..5, 1u8..4)
            .prop_map(|(brain, action, variant, qty)| Op::Decide { brain, action, variant, qty }),
        3 => (0usize..8).prop_map(Op::Accept),
        3 => (0usize..8, 0.2f64..1.0, 0.0f64..1.0)
            .prop_map(|(pick, fraction, fee)| Op::Fill { pick, fraction, fee }),
        1 => (0usize..8).prop_map(Op::Reject),
        1 => (0usize..8).prop_map(Op::Cancel),
        1 => Just(Op::DuplicateFill),
        1 => (1u64..4_000).prop_map(Op::Timer),
        1 => (-3i8..4).prop_map(Op::VenuePosition),
        1 => Just(Op::ReconcileOrders),
    ]
}

fn caps() -> Vec<Capability> {
    let mut c = BASIC.to_vec();
    c.extend([Capability::StopMarket, Capability::PostOnly]);
    c
}

fn new_harness() -> Harness {
    let mut cfg = config(&caps()).with_order_ttl(Duration::from_secs(600));
    cfg.risk.breaker.loss_limit = 2;
    cfg.risk.session.loss_cap = Some(-40.0);
    Harness::new(cfg, VenueScript::manual())
}

fn nth_live(
    h: &Harness,
    n: usize,
    filter: impl Fn(&rustrade_engine::testkit::VenueOrder) -> bool,
) -> Option<rustrade_core::ClientOrderId> {
    let live: Vec<_> = h
        .venue
        .orders
        .values()
        .filter(|o| o.status.is_live() && filter(o))
        .map(|o| o.order.client_id)
        .collect();
    (!live.is_empty()).then(|| live[n % live.len()])
}

fn apply(h: &mut Harness, op: &Op, last_fill: &mut Option<rustrade_core::Fill>) {
    h.clock.advance(Duration::from_secs(1));
    match *op {
        Op::Candle { close, range } => {
            h.candle_ohlc(btc(), close, close + range, close - range, close);
        }
        Op::Decide {
            brain,
            action,
            variant,
            qty,
        } => {
            let base = match action {
                0 | 1 => Decision::buy(1.0),
                2 => Decision::sell(1.0),
                _ => Decision::close(),
            };
            let mark = h.engine.mark(&btc()).map_or(100.0, Price::get);
            let long = action < 2;
            let sign = if long { 1.0 } else { -1.0 };
            let d = base.with_size_hint(SizeHint::Quantity(Quantity::new(f64::from(qty)).unwrap()));
            let d = match variant {
                0 => d,
                1 => d.with_limit_price(Price::new(mark - sign * 2.0).unwrap()),
                2 => d
                    .with_stop(Price::new(mark - sign * 5.0).unwrap())
                    .with_take_profit(Price::new(mark + sign * 5.0).unwrap()),
                3 => d.with_trailing_stop(Price::new(3.0).unwrap()),
                _ => d.with_order_kind(rustrade_core::OrderKind::PostOnly),
            };
            h.decide(BrainId(brain), btc(), &d);
        }
        Op::Accept(n) => {
            if let Some(c) = nth_live(h, n, |o| o.status == rustrade_core::OrderStatus::Pending) {
                h.accept(c);
            }
        }
        Op::Fill {
            pick,
            fraction,
            fee,
        } => {
            if let Some(c) = nth_live(h, pick, |_| true) {
                let o = h.venue.orders[&c];
                let left = o.order.quantity.get() - o.filled;
                let qty = if fraction > 0.6 {
                    left
                } else {
                    (left * fraction * 1000.0).floor() / 1000.0
                };
                if qty > 0.0 {
                    let price = o
                        .order
                        .limit_price
                        .or(o.order.trigger_price)
                        .or(h.engine.mark(&btc()))
                        .map_or(100.0, Price::get);
                    *last_fill = Some(h.fill(c, qty, price, fee));
                }
            }
        }
        Op::Reject(n) => {
            if let Some(c) = nth_live(h, n, |_| true) {
                h.reject(c, RejectReason::InvalidOrder);
            }
        }
        Op::Cancel(n) => {
            if let Some(c) = nth_live(h, n, |_| true) {
                h.confirm_cancel(c);
            }
        }
        Op::DuplicateFill => {
            if let Some(f) = *last_fill {
                h.deliver_fill(&f);
            }
        }
        Op::Timer(secs) => h.advance(Duration::from_secs(secs)),
        Op::VenuePosition(q) => {
            let now = h.now();
            let pos = rustrade_core::Position::new(f64::from(q), 100.0);
            h.engine.handle_venue_positions(&[(btc(), pos)], now);
            h.settle();
        }
        Op::ReconcileOrders => h.reconcile_orders(),
    }
}

fn outputs(h: &Harness, from: (usize, usize)) -> (String, String) {
    (
        serde_json::to_string(&h.commands[from.0..]).unwrap(),
        serde_json::to_string(&h.events[from.1..]).unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn restored_engine_continues_identically(ops in prop::collection::vec(op(), 1..80), cut in 0usize..80) {
        let cut = cut % ops.len();
        let mut original = new_harness();
        let mut last_fill = None;
        for op in &ops[..cut] {
            apply(&mut original, op, &mut last_fill);
        }
        let now = original.now();
        let json = serde_json::to_string(&original.engine.snapshot(now)).unwrap();
        let snapshot: EngineSnapshot = serde_json::from_str(&json).unwrap();
        let engine = Engine::restore(original.engine.config().clone(), &snapshot, now).unwrap();
        let mut restored = Harness::with_engine(engine, now, VenueScript::manual());
        restored.venue = original.venue.clone();
        let mark = (original.commands.len(), original.events.len());
        let mut restored_fill = last_fill;
        for op in &ops[cut..] {
            apply(&mut original, op, &mut last_fill);
            apply(&mut restored, op, &mut restored_fill);
        }
        let (c1, e1) = outputs(&original, mark);
        let (c2, e2) = outputs(&restored, (0, 0));
        prop_assert_eq!(c1, c2);
        prop_assert_eq!(e1, e2);
        let end = original.now();
        prop_assert_eq!(
            serde_json::to_value(original.engine.snapshot(end)).unwrap(),
            serde_json::to_value(restored.engine.snapshot(end)).unwrap()
        );
    }

    #[test]
    fn same_inputs_same_outputs(ops in prop::collection::vec(op(), 1..60)) {
        let mut a = new_harness();
        let mut b = new_harness();
        let (mut fa, mut fb) = (None, None);
        for op in &ops {
            apply(&mut a, op, &mut fa);
            apply(&mut b, op, &mut fb);
        }
        prop_assert_eq!(outputs(&a, (0, 0)), outputs(&b, (0, 0)));
    }

    #[test]
    fn net_position_is_the_sum_of_the_brains(ops in prop::collection::vec(op(), 1..80)) {
        let mut h = new_harness();
        let mut f = None;
        for op in &ops {
            apply(&mut h, op, &mut f);
            let net = h.engine.position(&btc()).quantity;
            let sum = h.engine.brain_position(BrainId(0), &btc()).quantity
                + h.engine.brain_position(BrainId(1), &btc()).quantity;
            prop_assert!((net - sum).abs() < 1e-6, "net {} vs sum {}", net, sum);
            for o in h.engine.open_orders() {
                prop_assert!(o.filled.get() <= o.order.quantity.get() + 1e-9);
            }
        }
    }
}

/// The snapshot as JSON without what the journal does not carry: marks, the trailing
/// watermark, and the output queues.
fn journal_state(engine: &Engine, now: rustrade_core::Timestamp) -> serde_json::Value {
    let mut v = serde_json::to_value(engine.snapshot(now)).unwrap();
    for state in v["symbols"].as_object_mut().unwrap().values_mut() {
        state["mark"] = serde_json::Value::Null;
    }
    for b in v["brackets"].as_object_mut().unwrap().values_mut() {
        b["best"] = serde_json::Value::Null;
    }
    v["events"] = serde_json::Value::Null;
    v["commands"] = serde_json::Value::Null;
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_journal_rebuilds_the_state(ops in prop::collection::vec(op(), 1..80)) {
        let mut h = new_harness();
        let mut f = None;
        for op in &ops {
            apply(&mut h, op, &mut f);
        }
        let now = h.now();
        let config = h.engine.config().clone();
        let replayed = Engine::replay(config, rustrade_engine::testkit::START, &h.events, now).unwrap();
        prop_assert_eq!(journal_state(&h.engine, now), journal_state(&replayed, now));
        prop_assert_eq!(replayed.next_sequence(), h.engine.next_sequence());
    }
}

#[test]
fn restore_refuses_a_snapshot_of_another_bot() {
    let h = new_harness();
    let snap = h.engine.snapshot(h.now());
    let mut other = h.engine.config().clone();
    other.bot_id = "other".to_owned();
    let err = Engine::restore(other, &snap, h.now()).unwrap_err();
    assert!(err.to_string().contains("bot_id"), "{err}");
    let mut fewer = h.engine.config().clone();
    fewer.brains.pop();
    let err = Engine::restore(fewer, &snap, h.now()).unwrap_err();
    assert!(err.to_string().contains("brains"), "{err}");
    let mut v = serde_json::to_value(&snap).unwrap();
    v["version"] = serde_json::json!(99);
    let old: EngineSnapshot = serde_json::from_value(v).unwrap();
    let err = Engine::restore(h.engine.config().clone(), &old, h.now()).unwrap_err();
    assert!(err.to_string().contains("version"), "{err}");
}

#[test]
fn a_restored_engine_never_reuses_a_client_id() {
    let mut h = new_harness();
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let first = h.last_placed().unwrap();
    let snap = h.engine.snapshot(h.now());
    let engine = Engine::restore(h.engine.config().clone(), &snap, h.now()).unwrap();
    let mut r = Harness::with_engine(engine, h.now(), VenueScript::manual());
    r.candle(btc(), 100.0);
    r.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let second = r.last_placed().unwrap();
    assert_ne!(first, second);
    assert_eq!(second.as_str(), "bot-0-2");
}

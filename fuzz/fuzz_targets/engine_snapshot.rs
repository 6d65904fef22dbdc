//! serde_json into `EngineSnapshot`, then `Engine::restore` under the fuzz config: raw bytes
//! (first byte even) or mutations of a real snapshot (first byte odd).
//!
//! A snapshot that restores is then driven: every live order is acknowledged and half filled,
//! a candle, a decision per brain, a timer tick an hour on and an empty venue order list are
//! delivered, and the resulting engine must snapshot and restore again. Checked: no panic
//! anywhere on that path; restore errors are errors, not aborts.

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use rustrade_core::{
    Asset, Candle, Decision, Fill, FillId, Liquidity, MarketEvent, Money, OrderId, Quantity,
    Timestamp, Venue,
};
use rustrade_engine::{BrainId, Engine, EngineSnapshot};
use rustrade_fuzz::{Samples, engine_config, mutate_json, symbol};
use serde_json::Value;

fn sample() -> &'static Value {
    static SAMPLE: OnceLock<Value> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        serde_json::to_value(Samples::build().snapshot).expect("a snapshot serialises")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let snapshot: EngineSnapshot = if mode & 1 == 0 {
        match serde_json::from_slice(rest) {
            Ok(s) => s,
            Err(_) => return,
        }
    } else {
        let mut value = sample().clone();
        let mut u = Unstructured::new(rest);
        if mutate_json(&mut value, &mut u).is_err() {
            return;
        }
        match serde_json::from_value(value) {
            Ok(s) => s,
            Err(_) => return,
        }
    };
    let now = snapshot.taken_at;
    let Ok(mut engine) = Engine::restore(engine_config(), &snapshot, now) else {
        return;
    };
    drive(&mut engine, now);
    let later = now.saturating_add(Duration::from_secs(7_200));
    let again = engine.snapshot(later);
    Engine::restore(engine_config(), &again, later)
        .expect("a snapshot the engine took restores under the same config");
});

/// Feeds the restored engine one of each input kind.
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
    for (i, (cid, sym, side, qty)) in live.into_iter().enumerate() {
        let Ok(order_id) = OrderId::new(&format!("fz{i}")) else {
            continue;
        };
        engine.handle_accepted(cid, order_id, now);
        let (Ok(fill_id), Ok(quantity), Ok(fee), Ok(asset)) = (
            FillId::new(&format!("fzf{i}")),
            Quantity::new(qty.get() / 2.0),
            Money::new(0.01),
            Asset::new("USDT"),
        ) else {
            continue;
        };
        let price = engine
            .mark(&sym)
            .unwrap_or_else(|| rustrade_core::Price::new(100.0).expect("100 is a valid price"));
        let fill = Fill {
            fill_id,
            order_id,
            client_id: Some(cid),
            symbol: sym,
            side,
            price,
            quantity,
            fee,
            fee_asset: asset,
            liquidity: Liquidity::Taker,
            time: now,
        };
        engine.handle_fill(&fill, now);
    }
    let x = symbol();
    let t = now.saturating_add(Duration::from_secs(60));
    if let (Ok(candle), Ok(venue)) = (
        Candle::new(t, 100.0, 102.0, 98.0, 101.0, 5.0),
        Venue::new("fuzz"),
    ) {
        engine.handle_market(&MarketEvent::candle(venue, x, t, candle));
    }
    let mark = engine
        .mark(&x)
        .unwrap_or_else(|| rustrade_core::Price::new(100.0).expect("100 is a valid price"));
    engine.handle_decision_at(BrainId(0), x, mark, &Decision::buy(0.7), t);
    engine.handle_decision_at(BrainId(1), x, mark, &Decision::close(), t);
    let hour = now.saturating_add(Duration::from_secs(3_600));
    engine.handle_timer(hour);
    engine.handle_venue_open_orders(&[], hour);
    while engine.poll_event().is_some() {}
    while engine.poll_command().is_some() {}
}

//! A hold decision and a market event on the hot path touch no heap: counted with the shared
//! test allocator, which tallies the allocations of the calling thread (the test harness's own
//! threads are not counted).

use rustrade_core::{
    AssetClass, Candle, Decision, InstrumentSpec, MarketEvent, Symbol, Timestamp, Venue,
};
use rustrade_engine::{BrainId, Engine, EngineConfig};
use rustrade_risk::RiskConfig;
use rustrade_testalloc::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn hold_decisions_and_market_events_do_not_allocate() {
    let sym = Symbol::new("BTCUSDT").unwrap();
    let spec = InstrumentSpec::new(sym, AssetClass::CryptoPerp, 0.1, 0.001).unwrap();
    let config = EngineConfig::new("bot", RiskConfig::default())
        .with_brain("hold")
        .with_instrument(spec);
    let start = Timestamp::from_secs(1_700_000_000).unwrap();
    let mut engine = Engine::new(config, start).unwrap();
    let venue = Venue::new("sim").unwrap();
    let hold = Decision::hold();
    let events: Vec<MarketEvent> = (0..1_000)
        .map(|i| {
            let t = Timestamp::from_secs(1_700_000_000 + i).unwrap();
            let c = 100.0 + (i % 7) as f64;
            MarketEvent::candle(
                venue,
                sym,
                t,
                Candle::new(t, c, c + 1.0, c - 1.0, c, 1.0).unwrap(),
            )
        })
        .collect();
    // Warm up once so lazily sized queues exist.
    engine.handle_market(&events[0]);
    engine.handle_decision(BrainId(0), &events[0], &hold, events[0].time);

    let probe = allocations();
    drop(std::hint::black_box(Box::new(1u64)));
    assert_eq!(
        allocations(),
        probe + 1,
        "the counter sees this thread's allocations"
    );

    let before = allocations();
    for e in &events {
        engine.handle_market(e);
        engine.handle_decision(BrainId(0), e, &hold, e.time);
        assert!(engine.poll_command().is_none());
        assert!(engine.poll_event().is_none());
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations on the hold path");
}

//! Engine hot paths: a hold decision (must not allocate), a market event with an armed emulated
//! stop, and a full entry cycle (decision → approval → place → accepted → filled).
//!
//! Run with `cargo bench -p rustrade-engine --bench engine`; divan's allocation profiler reports
//! heap allocations per iteration next to the timings.

use std::hint::black_box;

use divan::{AllocProfiler, Bencher};
use rustrade_core::{
    Asset, AssetClass, Candle, Capability, Decision, Fill, FillId, InstrumentSpec, Liquidity,
    MarketEvent, Money, OrderId, Price, Quantity, Symbol, Timestamp, Venue,
};
use rustrade_engine::{BrainId, Command, Engine, EngineConfig, JournalRecord};
use rustrade_risk::RiskConfig;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

fn setup() -> (Engine, MarketEvent, Timestamp) {
    let sym = Symbol::new("BTCUSDT").unwrap();
    let spec = InstrumentSpec::new(sym, AssetClass::CryptoPerp, 0.1, 0.001).unwrap();
    let mut risk = RiskConfig::preset(AssetClass::CryptoPerp);
    risk.session.loss_cap = None;
    risk.sizing.max_notional = None;
    let config = EngineConfig::new("bench", risk)
        .with_brain("b")
        .with_instrument(spec)
        .with_capabilities([
            Capability::MarketOrders,
            Capability::LimitOrders,
            Capability::ReduceOnly,
        ]);
    let now = Timestamp::from_secs(1_700_000_000).unwrap();
    let mut engine = Engine::new(config, now).unwrap();
    let candle = Candle::new(now, 100.0, 101.0, 99.0, 100.0, 10.0).unwrap();
    let event = MarketEvent::candle(Venue::new("sim").unwrap(), sym, now, candle);
    engine.handle_market(&event);
    (engine, event, now)
}

#[divan::bench]
fn hold_decision(bencher: Bencher) {
    let (mut engine, event, now) = setup();
    let hold = Decision::hold();
    bencher.bench_local(|| {
        engine.handle_decision(BrainId(0), black_box(&event), black_box(&hold), now);
        black_box(engine.poll_command())
    });
}

#[divan::bench]
fn market_event_then_hold(bencher: Bencher) {
    let (mut engine, event, now) = setup();
    let hold = Decision::hold();
    bencher.bench_local(|| {
        engine.handle_market(black_box(&event));
        engine.handle_decision(BrainId(0), &event, black_box(&hold), now);
        black_box(engine.poll_event())
    });
}

#[divan::bench]
fn entry_cycle(bencher: Bencher) {
    let (mut engine, event, now) = setup();
    let buy = Decision::buy(1.0);
    let order_id = OrderId::new("v1").unwrap();
    let usdt = Asset::new("USDT").unwrap();
    let mut n = 0u64;
    bencher
        .with_inputs(|| {
            n += 1;
            FillId::new(&format!("f{n}")).unwrap()
        })
        .bench_local_values(|fill_id| {
            engine.handle_decision(BrainId(0), &event, &buy, now);
            let Some(Command::Place(place)) = engine.poll_command() else {
                unreachable!("an approved entry")
            };
            let o = place.order;
            engine.handle_accepted(o.client_id, order_id, now);
            let fill = Fill {
                fill_id,
                order_id,
                client_id: Some(o.client_id),
                symbol: o.symbol,
                side: o.side,
                price: Price::new(100.0).unwrap(),
                quantity: o.quantity,
                fee: Money::new(0.05).unwrap(),
                fee_asset: usdt,
                liquidity: Liquidity::Taker,
                time: now,
            };
            engine.handle_fill(&fill, now);
            while let Some(e) = engine.poll_event() {
                black_box(e);
            }
            black_box(Quantity::ZERO)
        });
}

/// A journal of `trips` round trips (two fills each) from a fresh engine, with that engine's
/// snapshot before the first: what a restart replays after a snapshot that old.
fn journal_of(
    trips: u64,
) -> (
    EngineConfig,
    rustrade_engine::EngineSnapshot,
    Vec<JournalRecord>,
    Timestamp,
) {
    let (mut engine, event, now) = setup();
    let config = engine.config().clone();
    let start = engine.snapshot(now);
    let mut records = Vec::new();
    let mut fill_id = 0u64;
    let drain = |engine: &mut Engine, records: &mut Vec<JournalRecord>| {
        let first = engine.journal_seq() + 1;
        let mut seq = first;
        while let Some(event) = engine.poll_event() {
            records.push(JournalRecord { seq, event });
            seq += 1;
        }
    };
    for _ in 0..trips {
        for decision in [Decision::buy(1.0), Decision::close()] {
            engine.handle_decision(BrainId(0), &event, &decision, now);
            drain(&mut engine, &mut records);
            let Some(Command::Place(p)) = engine.poll_command() else {
                panic!("a place command");
            };
            let cid = p.order.client_id;
            let order_id = OrderId::new(cid.as_str()).unwrap();
            engine.handle_accepted(cid, order_id, now);
            fill_id += 1;
            let fill = Fill {
                fill_id: FillId::new(&format!("f{fill_id}")).unwrap(),
                order_id,
                client_id: Some(cid),
                symbol: p.order.symbol,
                side: p.order.side,
                price: Price::new(100.0).unwrap(),
                quantity: p.order.quantity,
                // Breakeven trips: a loss each would trip the breaker and stop the entries.
                fee: Money::ZERO,
                fee_asset: Asset::new("USDT").unwrap(),
                liquidity: Liquidity::Taker,
                time: now,
            };
            engine.handle_fill(&fill, now);
            drain(&mut engine, &mut records);
            while engine.poll_command().is_some() {}
        }
    }
    (config, start, records, now)
}

/// Restart after 10 000 fills journalled since the snapshot: replaying the records.
#[divan::bench(sample_count = 10)]
fn resume_10k_fills(bencher: Bencher) {
    let (config, start, records, now) = journal_of(5_000);
    bencher.bench_local(|| {
        black_box(Engine::resume(config.clone(), &start, black_box(&records), now).unwrap())
    });
}

/// The same restart from the stored bytes: decoding every record, then replaying.
#[divan::bench(sample_count = 10)]
fn decode_and_resume_10k_fills(bencher: Bencher) {
    let (config, start, records, now) = journal_of(5_000);
    let stored: Vec<Vec<u8>> = records
        .iter()
        .map(|r| JournalRecord::encode(r.seq, &r.event).unwrap())
        .collect();
    bencher.bench_local(|| {
        let decoded: Vec<JournalRecord> = stored
            .iter()
            .map(|b| JournalRecord::decode(b).unwrap())
            .collect();
        black_box(Engine::resume(config.clone(), &start, &decoded, now).unwrap())
    });
}

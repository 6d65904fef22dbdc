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
use rustrade_engine::{BrainId, Command, Engine, EngineConfig};
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

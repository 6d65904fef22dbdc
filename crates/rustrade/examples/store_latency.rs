//! Store write latency of one engine step on the durable default store: each step's journal
//! records and the record of the fill it applied are written in one SQLite transaction (WAL,
//! `synchronous = FULL`) before any order of that step is sent, with the engine snapshot added
//! every 32nd step, as the bot does. Before the step, the fill's id is looked up in the
//! applied-fill record, as the bot does for every fill its window does not recall. Prints p50,
//! p99 and max of both over the steps.
//!
//! `cargo run --release -p rustrade --features testkit --example store_latency -- [STEPS] [DIR]`
//! (DIR: where the database goes; default a temporary folder).

use std::time::Duration;

use rustrade::engine::EngineEvent;
use rustrade::engine::testkit::{Harness, VenueScript};
use rustrade::engine::{EngineConfig, JournalRecord};
use rustrade::store::{SqliteStore, applied_fills};
use rustrade_core::{AssetClass, Decision, FillId, InstrumentSpec, StateStore, StoreOp, Symbol};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().map_or(Ok(2_000), |s| s.parse())?;
    let scratch = tempfile::tempdir()?;
    let dir = args
        .next()
        .map_or_else(|| scratch.path().to_owned(), Into::into);
    let store = SqliteStore::open(dir.join("store-latency.db")).await?;

    // One realistic step: a decision, its order, the acknowledgement and the fill.
    let btc = Symbol::new("BTCUSDT")?;
    let spec = InstrumentSpec::new(btc, AssetClass::CryptoSpot, 0.01, 0.0001)?;
    let config = EngineConfig::new("latency", rustrade::risk::RiskConfig::default())
        .with_brain("b")
        .with_instrument(spec);
    let mut h = Harness::new(config, VenueScript::instant());
    h.candle(btc, 100.0);
    h.decide(rustrade::engine::BrainId(0), btc, &Decision::buy(1.0));
    let events = h.events.clone();
    let snapshot = serde_json::to_vec(&h.engine.snapshot(h.now()))?;

    let mut latencies = Vec::with_capacity(steps);
    let mut lookups = Vec::with_capacity(steps);
    let mut seq = 0u64;
    for step in 0..steps {
        // Each step applies a fill of its own id.
        let fill_id = FillId::new(&format!("BTCUSDT-{step}"))?;
        let events: Vec<EngineEvent> = events
            .iter()
            .cloned()
            .map(|mut e| {
                if let EngineEvent::FillApplied { fill, .. } = &mut e {
                    fill.fill_id = fill_id;
                }
                e
            })
            .collect();
        #[expect(
            clippy::disallowed_methods,
            reason = "a latency measurement reads the wall clock"
        )]
        let asked = std::time::Instant::now();
        let seen = store.load(&applied_fills::key(&fill_id)).await?;
        lookups.push(asked.elapsed());
        anyhow::ensure!(seen.is_none(), "fill {fill_id} recorded twice");
        let mut ops = Vec::with_capacity(events.len() + 2);
        for event in &events {
            seq += 1;
            ops.push(StoreOp::Put {
                key: format!("journal/{seq:020}-{:020}", step),
                value: JournalRecord::encode(seq, event)?,
            });
        }
        ops.extend(applied_fills::record_ops(&events));
        if step % 32 == 0 {
            ops.push(StoreOp::Put {
                key: "engine/snapshot".to_owned(),
                value: snapshot.clone(),
            });
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "a latency measurement reads the wall clock"
        )]
        let started = std::time::Instant::now();
        store.apply(&ops).await?;
        latencies.push(started.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let summary = |mut all: Vec<Duration>| {
        all.sort();
        let at = |q: f64| all[((all.len() - 1) as f64 * q).round() as usize];
        format!(
            "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(all[all.len() - 1])
        )
    };
    println!(
        "{steps} steps of {} records and 1 fill record (+ snapshot of {} bytes every 32): write {}; fill lookup {}",
        events.len(),
        snapshot.len(),
        summary(latencies),
        summary(lookups)
    );
    Ok(())
}

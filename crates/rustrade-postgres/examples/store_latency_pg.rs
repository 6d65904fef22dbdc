//! Store write latency of one engine step, PostgreSQL against SQLite in the same run: each step
//! writes, in one transaction per store, the journal records of a decision, its order, the
//! acknowledgement and the fill, the fill's applied-fill record, and the engine snapshot every
//! 32nd step — the write the driver waits for before it sends that step's orders. On
//! PostgreSQL the batch also writes its `orders` and `fills` rows. The two stores take turns
//! step by step, so both see the same machine load. Before each step the fill's id is looked up
//! in the applied-fill record, as the driver does for a fill its window does not recall.
//!
//! `cargo run --release -p rustrade-postgres --example store_latency_pg -- [STEPS] [DIR]`
//! (DIR: where the SQLite file goes, default a temporary folder; the PostgreSQL server is
//! `RUSTRADE_PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`, in a schema of its
//! own dropped at the end).

use std::time::Duration;

use rustrade::engine::testkit::{Harness, VenueScript};
use rustrade::engine::{EngineConfig, EngineEvent, JournalRecord};
use rustrade::store::{SqliteStore, applied_fills};
use rustrade_core::{AssetClass, Decision, FillId, InstrumentSpec, StateStore, StoreOp, Symbol};
use rustrade_postgres::testing::TestSchema;

#[derive(Default)]
struct Timings {
    writes: Vec<Duration>,
    lookups: Vec<Duration>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().map_or(Ok(2_000), |s| s.parse())?;
    let scratch = tempfile::tempdir()?;
    let dir = args
        .next()
        .map_or_else(|| scratch.path().to_owned(), Into::into);
    let sqlite = SqliteStore::open(dir.join("store-latency.db")).await?;
    let Some(schema) = TestSchema::new("store_latency") else {
        anyhow::bail!("this benchmark needs the PostgreSQL server");
    };
    let postgres = schema.options("latency").connect().await?;

    // One realistic step: a decision, its order, the acknowledgement and the fill.
    let btc = Symbol::new("BTCUSDT")?;
    let spec = InstrumentSpec::new(btc, AssetClass::CryptoSpot, 0.01, 0.0001)?;
    let config = EngineConfig::new("latency", rustrade::risk::RiskConfig::default())
        .with_brain("b")
        .with_instrument(spec);
    let mut h = Harness::new(config, VenueScript::instant());
    h.candle(btc, 100.0);
    h.decide(rustrade::engine::BrainId(0), btc, &Decision::buy(1.0));
    let template = h.events.clone();
    let snapshot = serde_json::to_vec(&h.engine.snapshot(h.now()))?;

    let stores: [(&str, &dyn StateStore); 2] = [("sqlite", &sqlite), ("postgres", &postgres)];
    let mut timings: [Timings; 2] = Default::default();
    let mut seq = 0u64;
    for step in 0..steps {
        // Each step applies a fill (and places an order) of its own ids.
        let fill_id = FillId::new(&format!("BTCUSDT-{step}"))?;
        let client_id = rustrade_core::ClientOrderId::compose("latency", 0, step as u64 + 1)?;
        let events: Vec<EngineEvent> = template
            .iter()
            .cloned()
            .map(|mut e| {
                match &mut e {
                    EngineEvent::FillApplied { fill, .. } => {
                        fill.fill_id = fill_id;
                        fill.client_id = Some(client_id);
                    }
                    EngineEvent::OrderPlaced { order, .. } => order.client_id = client_id,
                    EngineEvent::OrderAccepted { client_id: c, .. } => *c = client_id,
                    _ => {}
                }
                e
            })
            .collect();
        let mut ops = Vec::with_capacity(events.len() + 2);
        for event in &events {
            seq += 1;
            ops.push(StoreOp::Put {
                key: format!("journal/{seq:020}-{step:020}"),
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
        for ((name, store), t) in stores.iter().zip(timings.iter_mut()) {
            #[expect(
                clippy::disallowed_methods,
                reason = "a latency measurement reads the wall clock"
            )]
            let asked = std::time::Instant::now();
            let seen = store.load(&applied_fills::key(&fill_id)).await?;
            t.lookups.push(asked.elapsed());
            anyhow::ensure!(seen.is_none(), "{name}: fill {fill_id} recorded twice");
            #[expect(
                clippy::disallowed_methods,
                reason = "a latency measurement reads the wall clock"
            )]
            let started = std::time::Instant::now();
            store.apply(&ops).await?;
            t.writes.push(started.elapsed());
        }
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
        "{steps} steps of {} records and 1 fill record (+ snapshot of {} bytes every 32)",
        template.len(),
        snapshot.len()
    );
    for ((name, _), t) in stores.iter().zip(timings) {
        println!(
            "{name:>8}: write {}; fill lookup {}",
            summary(t.writes),
            summary(t.lookups)
        );
    }
    drop(postgres);
    Ok(())
}

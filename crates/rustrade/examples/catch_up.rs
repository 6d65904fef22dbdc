//! Time to restart and catch up the fills a venue made while the bot was down.
//!
//! A first session rests one limit entry, which fills once, and stops. While it is down, the
//! venue fills the entry `FILLS` more times. Each run then starts the bot again on the same
//! SQLite file and measures the wall time from `run_until_shutdown` until the bot's position
//! holds every fill: opening the store, restoring the snapshot and journal tail, fetching the
//! fills from the venue (an in-process [`MockExchange`], so no network), checking each against
//! the engine's window and the store's applied-fill record, and applying them in one step
//! whose journal records and fill records are one SQLite transaction. Each run starts from a
//! copy of the same file.
//!
//! `cargo run --release -p rustrade --features testkit --example catch_up -- [FILLS] [RUNS] [DIR]`
//! (defaults: 10 000 fills, 3 runs, a temporary folder).

use std::sync::Arc;
use std::time::Duration;

use rustrade::testkit::{ManualClock, MockExchange, ScriptedBrain, candle_event};
use rustrade::{Bot, BotConfig, BotHandle};
use rustrade_core::{AssetClass, Brain, Decision, InstrumentSpec, Price, Symbol, Timestamp};

const LOT: f64 = 0.000_01;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let fills: usize = args.next().map_or(Ok(10_000), |s| s.parse())?;
    let runs: usize = args.next().map_or(Ok(3), |s| s.parse())?;
    let scratch = tempfile::tempdir()?;
    let dir = args
        .next()
        .map_or_else(|| scratch.path().to_owned(), Into::into);
    let start = Timestamp::parse_rfc3339("2024-01-02T12:00:00Z")?;
    let btc = Symbol::new("BTCUSDT")?;
    let spec = InstrumentSpec::new(btc, AssetClass::CryptoPerp, 0.01, LOT)?;
    let exchange = Arc::new(MockExchange::new().starting_at(start).with_instrument(spec));
    let state = dir.join("catch-up.db");

    // First session: the entry rests and fills once; the bot stops.
    let entry: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("b", |_, pos, n| {
        Ok(if pos.is_flat() && n == 0 {
            Decision::buy(1.0).with_limit_price(Price::new(90.0)?)
        } else {
            Decision::hold()
        })
    }));
    let (handle, bus, task) = launch(&exchange, &state, entry, start)?;
    wait(&handle, |_| true, "running").await?;
    bus.publish(candle_event("BTCUSDT", 60, 100.0));
    let placed = loop {
        if let Some(o) = exchange.placed().first().copied() {
            break o;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    anyhow::ensure!(
        placed.quantity.get() > (fills as f64 + 2.0) * LOT,
        "the entry is too small for {fills} fills of one lot"
    );
    exchange.partial_fill(&placed.client_id, LOT, 90.0)?;
    wait(&handle, |q| q > LOT / 2.0, "first fill").await?;
    handle.shutdown();
    task.await??;
    // The handle shares the store: dropped, it releases the state file's lock.
    drop(handle);

    // While down: the venue fills the entry `fills` more times.
    exchange.lose_reports(true);
    for _ in 0..fills {
        exchange.partial_fill(&placed.client_id, LOT, 90.0)?;
    }
    exchange.lose_reports(false);
    let want = (fills + 1) as f64 * LOT;
    let saved = dir.join("catch-up.saved.db");
    std::fs::copy(&state, &saved)?;

    for run in 1..=runs {
        std::fs::copy(&saved, &state)?;
        let _ = std::fs::remove_file(dir.join("catch-up.db-wal"));
        let _ = std::fs::remove_file(dir.join("catch-up.db-shm"));
        let holder: Arc<dyn Brain> = Arc::new(ScriptedBrain::holding("b"));
        #[expect(
            clippy::disallowed_methods,
            reason = "a restart-time measurement reads the wall clock"
        )]
        let began = std::time::Instant::now();
        let (handle, _bus, task) = launch(&exchange, &state, holder, start)?;
        if let Err(e) = wait(&handle, |q| (q - want).abs() < LOT / 2.0, "caught up").await {
            handle.shutdown();
            task.await??;
            return Err(e);
        }
        let took = began.elapsed();
        println!(
            "run {run}: restart and catch up {fills} fills: {:.1} ms",
            took.as_secs_f64() * 1e3
        );
        handle.shutdown();
        task.await??;
        drop(handle);
    }
    Ok(())
}

type Task = tokio::task::JoinHandle<Result<(), rustrade::BotError>>;

/// Starts a bot with one brain on `exchange` and the state file `state`.
fn launch(
    exchange: &Arc<MockExchange>,
    state: &std::path::Path,
    brain: Arc<dyn Brain>,
    start: Timestamp,
) -> anyhow::Result<(BotHandle, rustrade_core::MarketDataBus, Task)> {
    let config = BotConfig::builder()
        .name("catch-up")
        .symbols(["BTCUSDT"])
        .without_signal_handler()
        .build()?;
    let bot = Bot::new(config, exchange.clone(), vec![brain])?
        .with_fill_source(exchange.fill_source())
        .with_state_file(state)
        .with_order_tracking()
        .with_clock(Arc::new(ManualClock::new(start)));
    let handle = bot.handle();
    let bus = bot.market_data_bus();
    Ok((handle, bus, tokio::spawn(bot.run_until_shutdown())))
}

/// Waits until the bot runs and its position on BTCUSDT satisfies `done`.
async fn wait(handle: &BotHandle, done: impl Fn(f64) -> bool, what: &str) -> anyhow::Result<()> {
    let btc = Symbol::new("BTCUSDT")?;
    for _ in 0..20_000 {
        if !handle.health().await.services.is_empty() && done(handle.position(&btc).await.quantity)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_micros(100)).await;
    }
    anyhow::bail!(
        "timed out waiting for {what}: position {}, health {:?}",
        handle.position(&btc).await.quantity,
        handle.health().await
    )
}

//! The live pipeline in process: market bus → execution service → brain → engine → adapter.
//!
//! - `hold_events`: events per second through a brain that always holds (bus, ownership filter,
//!   engine mark, brain call).
//! - `ordering_decisions`: decisions per second through a brain that orders on every event
//!   (buy when flat, close when long), each one gated by the engine and handed to an in-memory
//!   exchange that fills market orders and reports the fills back through the fill stream.
//! - `publish_to_place`: one event at a time, the time from `publish` to `place_order`; the
//!   p50/p99 of those samples are printed to stderr after the run.
//!
//! All run on a current-thread tokio runtime, as a bot embedded in one task would.
#![allow(missing_docs)]
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock latency"
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use divan::Bencher;
use divan::counter::ItemsCount;
use rustrade::testkit::{MockExchange, candle_event};
use rustrade::{Bot, BotConfig, BotHandle};
use rustrade_core::{
    Asset, Balance, Brain, BrainError, Capability, ClientOrderId, Decision, ExchangeClient,
    ExchangeError, InstrumentSpec, MarketDataBus, MarketEvent, OpenOrder, Order, OrderId, Position,
    Symbol, Venue, async_trait,
};
use tokio::runtime::Runtime;

fn main() {
    divan::main();
    report_latency();
}

const BATCH: u64 = 256;

struct Counting {
    ordering: bool,
    seen: AtomicU64,
}

#[async_trait]
impl Brain for Counting {
    fn name(&self) -> &str {
        "bench"
    }
    fn on_event(&self, _e: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        self.seen.fetch_add(1, Ordering::Relaxed);
        Ok(match (self.ordering, position.is_flat()) {
            (false, _) => Decision::hold(),
            (true, true) => Decision::buy(1.0),
            (true, false) => Decision::close(),
        })
    }
}

/// Wraps the mock venue and stamps the moment each order reaches it.
struct Stamping {
    inner: MockExchange,
    placed: AtomicU64,
    last_place: Mutex<Option<Instant>>,
}

#[async_trait]
impl ExchangeClient for Stamping {
    fn venue(&self) -> Venue {
        self.inner.venue()
    }
    fn supports(&self, c: Capability) -> bool {
        self.inner.supports(c)
    }
    async fn instrument(&self, s: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        self.inner.instrument(s).await
    }
    async fn place_order(&self, o: &Order) -> Result<OrderId, ExchangeError> {
        *self.last_place.lock().unwrap() = Some(Instant::now());
        self.placed.fetch_add(1, Ordering::Release);
        self.inner.place_order(o).await
    }
    async fn cancel_order(
        &self,
        s: &Symbol,
        c: &ClientOrderId,
        o: Option<&OrderId>,
    ) -> Result<(), ExchangeError> {
        self.inner.cancel_order(s, c, o).await
    }
    async fn cancel_all(&self, s: &Symbol) -> Result<usize, ExchangeError> {
        self.inner.cancel_all(s).await
    }
    async fn open_orders(&self, s: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
        self.inner.open_orders(s).await
    }
    async fn position(&self, s: &Symbol) -> Result<Position, ExchangeError> {
        self.inner.position(s).await
    }
    async fn balance(&self, a: &Asset) -> Result<Balance, ExchangeError> {
        self.inner.balance(a).await
    }
    async fn close_position(&self, s: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        self.inner.close_position(s).await
    }
}

struct Rig {
    rt: Runtime,
    bus: MarketDataBus,
    brain: Arc<Counting>,
    exchange: Arc<Stamping>,
    handle: BotHandle,
    next_time: AtomicU64,
}

impl Rig {
    fn new(ordering: bool) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let brain = Arc::new(Counting {
            ordering,
            seen: AtomicU64::new(0),
        });
        let exchange = Arc::new(Stamping {
            inner: MockExchange::new(),
            placed: AtomicU64::new(0),
            last_place: Mutex::new(None),
        });
        let config = BotConfig::builder()
            .name("bench")
            .symbol("BTCUSDT")
            .without_signal_handler()
            .market_bus_capacity(4096)
            .build()
            .unwrap();
        let fills = exchange.inner.fill_source();
        let bot = Bot::new(
            config,
            exchange.clone(),
            vec![brain.clone() as Arc<dyn Brain>],
        )
        .unwrap()
        .with_fill_source(fills);
        let bus = bot.market_data_bus();
        let handle = bot.handle();
        rt.spawn(bot.run_until_shutdown());
        let rig = Self {
            rt,
            bus,
            brain,
            exchange,
            handle,
            next_time: AtomicU64::new(1),
        };
        rig.rt.block_on(async {
            while rig.handle.health().await.services.is_empty() {
                tokio::task::yield_now().await;
            }
        });
        rig
    }

    fn event(&self) -> MarketEvent {
        let t = self.next_time.fetch_add(1, Ordering::Relaxed);
        candle_event("BTCUSDT", i64::try_from(t).unwrap(), 100.0)
    }

    /// Publishes `n` events and waits until the brain saw them all.
    fn pump(&self, n: u64) {
        let target = self.brain.seen.load(Ordering::Relaxed) + n;
        self.rt.block_on(async {
            for _ in 0..n {
                self.bus.publish(self.event());
            }
            while self.brain.seen.load(Ordering::Relaxed) < target {
                tokio::task::yield_now().await;
            }
        });
    }

    /// Publishes one event and waits for the order it causes; returns publish → place_order.
    fn one_order(&self) -> Duration {
        let before = self.exchange.placed.load(Ordering::Acquire);
        self.rt.block_on(async {
            let start = Instant::now();
            self.bus.publish(self.event());
            while self.exchange.placed.load(Ordering::Acquire) == before {
                tokio::task::yield_now().await;
            }
            let at = self.exchange.last_place.lock().unwrap().unwrap_or(start);
            // Let the fill come back so the next event sees the new position.
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
            at.saturating_duration_since(start)
        })
    }
}

#[divan::bench]
fn hold_events(bencher: Bencher) {
    let rig = Rig::new(false);
    bencher
        .counter(ItemsCount::new(BATCH))
        .bench_local(|| rig.pump(BATCH));
}

#[divan::bench]
fn ordering_decisions(bencher: Bencher) {
    let rig = Rig::new(true);
    bencher
        .counter(ItemsCount::new(BATCH))
        .bench_local(|| rig.pump(BATCH));
}

static SAMPLES: Mutex<Vec<Duration>> = Mutex::new(Vec::new());

#[divan::bench(sample_count = 2000)]
fn publish_to_place(bencher: Bencher) {
    let rig = Rig::new(true);
    bencher.bench_local(|| {
        let d = rig.one_order();
        SAMPLES.lock().unwrap().push(d);
    });
}

fn report_latency() {
    let mut samples = SAMPLES.lock().unwrap().clone();
    if samples.is_empty() {
        return;
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    eprintln!(
        "publish_to_place over {} orders: p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        pct(0.50),
        pct(0.99),
        samples[samples.len() - 1]
    );
}

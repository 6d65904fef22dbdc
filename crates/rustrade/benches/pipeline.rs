//! The live pipeline in process: market bus → execution service → brain → engine → adapter.
//!
//! - `hold_events`: events per second through a brain that always holds (bus, ownership filter,
//!   engine mark, brain call).
//! - `ordering_decisions`: decisions per second through a brain that orders on every event
//!   (buy when flat, close when long), each one gated by the engine and handed to a lean
//!   in-memory venue that fills it at once and reports the fill back through the fill stream.
//! - `publish_to_place`: one event at a time, the time from `publish` to `place_order`; the
//!   p50/p99 of those samples are printed to stderr after the run.
//! - `ordering_decisions_metrics` and `ordering_decisions_ops_polled`: `ordering_decisions` with
//!   a Prometheus recorder wired, as `rustrade paper` and `rustrade live` wire it, without and
//!   with an operations endpoint's reader polling at 100 Hz from another thread: each tick
//!   makes the reads of the endpoint's `GET` routes (`/health`, `/metrics` rendered,
//!   `/positions`, `/risk`, `/orders`, `/trades`) through the bot's handle. Their ratio is
//!   what a polled endpoint costs the trading path.
//!
//! All run on a current-thread tokio runtime, as a bot embedded in one task would.
#![allow(missing_docs)]
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock latency"
)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use divan::Bencher;
use divan::counter::ItemsCount;
use rustrade::metrics::PrometheusMetrics;
use rustrade::testkit::candle_event;
use rustrade::{Bot, BotConfig, BotHandle};
use rustrade_core::{
    Asset, AssetClass, Balance, Brain, BrainError, Capability, ClientOrderId, Decision,
    ExchangeClient, ExchangeError, ExecutionReport, Fill, FillCursor, FillId, FillSource,
    InstrumentSpec, Liquidity, MarketDataBus, MarketEvent, Money, OpenOrder, Order, OrderId,
    OrderState, Position, Price, Symbol, Timestamp, Venue, async_trait,
};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

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

/// A lean in-memory venue: fills every order at once at 100 (reported on its fill stream) and
/// stamps the moment each order reaches it. It keeps no history (its recovery lookups answer
/// `Unsupported`), so the benchmark measures the pipeline rather than a growing mock.
struct Stamping {
    placed: AtomicU64,
    last_place: Mutex<Option<Instant>>,
    fills: Mutex<Option<mpsc::UnboundedSender<ExecutionReport>>>,
}

impl Stamping {
    fn fill_source(&self) -> Box<dyn FillSource> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.fills.lock().unwrap() = Some(tx);
        Box::new(Fills(rx))
    }
}

struct Fills(mpsc::UnboundedReceiver<ExecutionReport>);

#[async_trait]
impl FillSource for Fills {
    fn name(&self) -> &str {
        "lean"
    }
    async fn connect(&mut self) -> Result<(), ExchangeError> {
        Ok(())
    }
    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        Ok(self.0.recv().await)
    }
}

#[async_trait]
impl ExchangeClient for Stamping {
    fn venue(&self) -> Venue {
        Venue::new("lean").unwrap()
    }
    fn supports(&self, c: Capability) -> bool {
        matches!(
            c,
            Capability::MarketOrders | Capability::LimitOrders | Capability::ReduceOnly
        )
    }
    async fn instrument(&self, s: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        Ok(InstrumentSpec::new(
            *s,
            AssetClass::CryptoPerp,
            0.01,
            0.001,
        )?)
    }
    async fn place_order(&self, o: &Order) -> Result<OrderId, ExchangeError> {
        *self.last_place.lock().unwrap() = Some(Instant::now());
        let n = self.placed.fetch_add(1, Ordering::Release);
        let order_id = OrderId::new(&n.to_string())?;
        let fill = Fill {
            fill_id: FillId::new(&n.to_string())?,
            order_id,
            client_id: Some(o.client_id),
            symbol: o.symbol,
            side: o.side,
            price: Price::new(100.0)?,
            quantity: o.quantity,
            fee: Money::ZERO,
            fee_asset: Asset::new("USDT")?,
            liquidity: Liquidity::Taker,
            time: Timestamp::from_nanos(i64::try_from(n).unwrap_or(0)),
        };
        if let Some(tx) = &*self.fills.lock().unwrap() {
            let _ = tx.send(ExecutionReport::Fill(fill));
        }
        Ok(order_id)
    }
    async fn cancel_order(
        &self,
        _: &Symbol,
        _: &ClientOrderId,
        _: Option<&OrderId>,
    ) -> Result<(), ExchangeError> {
        Ok(())
    }
    async fn cancel_all(&self, _: &Symbol) -> Result<usize, ExchangeError> {
        Ok(0)
    }
    async fn open_orders(&self, _: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
        Ok(Vec::new())
    }
    async fn position(&self, _: &Symbol) -> Result<Position, ExchangeError> {
        Ok(Position::FLAT)
    }
    async fn balance(&self, a: &Asset) -> Result<Balance, ExchangeError> {
        Ok(Balance {
            asset: *a,
            free: Money::ZERO,
            locked: Money::ZERO,
        })
    }
    async fn close_position(&self, _: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        Ok(None)
    }
    /// Unsupported: the venue forgets each order once it has stamped and filled it, so it can
    /// neither find it nor honestly say it never received it.
    async fn order_status(
        &self,
        _: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, ExchangeError> {
        Err(ExchangeError::Unsupported(format!(
            "order status of {client_id}: the lean bench venue keeps no orders"
        )))
    }
    /// Unsupported: the fills went to the stream and are not kept.
    async fn fills_since(&self, s: &Symbol, _: &FillCursor) -> Result<Vec<Fill>, ExchangeError> {
        Err(ExchangeError::Unsupported(format!(
            "fills of {s}: the lean bench venue keeps no fills"
        )))
    }
    /// None, as [`position`](ExchangeClient::position) reports every symbol flat: the bench
    /// measures the order path, not the account.
    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError> {
        Ok(Vec::new())
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
        Self::with_metrics(ordering, None)
    }

    fn with_metrics(ordering: bool, metrics: Option<PrometheusMetrics>) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let brain = Arc::new(Counting {
            ordering,
            seen: AtomicU64::new(0),
        });
        let exchange = Arc::new(Stamping {
            placed: AtomicU64::new(0),
            last_place: Mutex::new(None),
            fills: Mutex::new(None),
        });
        let config = BotConfig::builder()
            .name("bench")
            .symbol("BTCUSDT")
            .without_signal_handler()
            .market_bus_capacity(4096)
            .build()
            .unwrap();
        let fills = exchange.fill_source();
        let bot = Bot::new(
            config,
            exchange.clone(),
            vec![brain.clone() as Arc<dyn Brain>],
        )
        .unwrap()
        .with_fill_source(fills);
        let bot = match metrics {
            Some(m) => bot.with_metrics(Arc::new(m)),
            None => bot,
        };
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

#[divan::bench]
fn ordering_decisions_metrics(bencher: Bencher) {
    let rig = Rig::with_metrics(true, Some(PrometheusMetrics::local()));
    bencher
        .counter(ItemsCount::new(BATCH))
        .bench_local(|| rig.pump(BATCH));
}

#[divan::bench]
fn ordering_decisions_ops_polled(bencher: Bencher) {
    let metrics = PrometheusMetrics::local();
    let rig = Rig::with_metrics(true, Some(metrics.clone()));
    let poller = OpsPoller::start(rig.handle.clone(), metrics);
    bencher
        .counter(ItemsCount::new(BATCH))
        .bench_local(|| rig.pump(BATCH));
    let polls = poller.stop();
    assert!(polls > 0, "the endpoint was polled");
}

/// An operations endpoint's reader on its own thread and runtime: every 10 ms, the reads its
/// `GET` routes make.
struct OpsPoller {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl OpsPoller {
    const PERIOD: Duration = Duration::from_millis(10);

    fn start(handle: BotHandle, metrics: PrometheusMetrics) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let symbol = Symbol::new("BTCUSDT").unwrap();
            let mut polls = 0;
            rt.block_on(async {
                let mut tick = tokio::time::interval(Self::PERIOD);
                while !stopped.load(Ordering::Relaxed) {
                    tick.tick().await;
                    let health = handle.health().await;
                    let text = metrics.render();
                    let position = handle.position(&symbol).await;
                    let risk = handle.risk(&symbol).await;
                    let orders = handle.live_orders().await;
                    let trades = handle.closed_trades().await;
                    divan::black_box((health, text, position, risk, orders, trades));
                    polls += 1;
                }
            });
            polls
        });
        Self { stop, thread }
    }

    /// Stops the poller; returns how many ticks it made.
    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
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

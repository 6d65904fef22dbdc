//! Relay fan-out: events per second a [`Relay`] publishes from an in-memory source and that
//! many [`NatsMarketSource`] consumers each receive in full, against the local NATS server
//! (skipped when it is not reachable).
//!
//! One iteration: the relay publishes [`EVENTS`] candles (each awaiting its acknowledgement)
//! while `consumers` sources, connected beforehand, read all of them. The counter is events
//! delivered to consumers (`EVENTS × consumers`; `EVENTS` when there are none), so the
//! throughput divan prints is the fan-out rate.
//!
//! Run with `cargo bench -p rustrade-nats --bench fanout`.

use std::collections::VecDeque;
use std::time::Duration;

use divan::Bencher;
use divan::counter::ItemsCount;
use rustrade_core::{
    Candle, ExchangeError, MarketEvent, MarketSource, Symbol, Timestamp, Venue, async_trait,
};
use rustrade_nats::async_nats::jetstream;
use rustrade_nats::{
    MarketStream, NatsMarketSource, NatsSourceConfig, Relay, RelayConfig, StartAt, testing,
};

const EVENTS: usize = 2_000;

fn main() {
    divan::main();
}

struct Bars(VecDeque<MarketEvent>);

#[async_trait]
impl MarketSource for Bars {
    fn name(&self) -> &str {
        "bars"
    }
    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        Ok(())
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        Ok(self.0.pop_front())
    }
}

fn bars(venue: Venue, symbol: Symbol) -> VecDeque<MarketEvent> {
    (0..EVENTS)
        .map(|i| {
            #[allow(clippy::cast_precision_loss, reason = "small indices")]
            let p = 100.0 + (i % 100) as f64;
            let i = i64::try_from(i).unwrap_or(i64::MAX);
            let open = Timestamp::from_nanos(1_704_067_200_000_000_000 + i * 60_000_000_000);
            let c = Candle::new(open, p, p + 1.0, p - 1.0, p, 1.0).unwrap();
            MarketEvent::candle(venue, symbol, open, c)
        })
        .collect()
}

/// Everything one iteration needs, set up outside the timing.
struct Round {
    relay: Relay,
    consumers: Vec<NatsMarketSource>,
}

#[divan::bench(args = [0, 1, 10], sample_count = 5, sample_size = 1)]
fn fanout(bencher: Bencher, consumers: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some(client) = runtime.block_on(testing::client_or_skip("fanout")) else {
        return;
    };
    // The JetStream context spawns its acknowledgement task on the current runtime.
    let _entered = runtime.enter();
    let js = jetstream::new(client);
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let mut round_no = 0u32;
    let made = std::cell::RefCell::new(Vec::new());
    bencher
        .counter(ItemsCount::new(EVENTS * consumers.max(1)))
        .with_inputs(|| {
            round_no += 1;
            let venue =
                Venue::new(&format!("b{}r{round_no}", std::process::id() % 10_000)).unwrap();
            let name = testing::unique_name("fanout");
            made.borrow_mut().push(name.clone());
            runtime.block_on(async {
                let mut stream = MarketStream::new(name.clone(), venue);
                stream.max_age = Duration::from_secs(600);
                stream.duplicate_window = Duration::from_secs(60);
                let relay = Relay::new(
                    js.clone(),
                    Box::new(Bars(bars(venue, symbol))),
                    RelayConfig::new(stream, vec![symbol]),
                )
                .await
                .unwrap();
                let mut sources = Vec::with_capacity(consumers);
                for _ in 0..consumers {
                    let mut config = NatsSourceConfig::new(name.clone(), venue);
                    config.start = StartAt::All;
                    let mut source = NatsMarketSource::new(js.clone(), config);
                    source.connect(&[symbol]).await.unwrap();
                    sources.push(source);
                }
                Round {
                    relay,
                    consumers: sources,
                }
            })
        })
        .bench_local_values(|round| {
            let Round {
                mut relay,
                consumers,
            } = round;
            runtime.block_on(async move {
                let readers: Vec<_> = consumers
                    .into_iter()
                    .map(|mut source| {
                        tokio::spawn(async move {
                            for _ in 0..EVENTS {
                                source.next_event().await.unwrap().unwrap();
                            }
                        })
                    })
                    .collect();
                relay.run_until(std::future::pending()).await.unwrap();
                for r in readers {
                    r.await.unwrap();
                }
            });
        });
    runtime.block_on(async {
        for name in made.into_inner() {
            let _ = js.delete_stream(&name).await;
        }
    });
}

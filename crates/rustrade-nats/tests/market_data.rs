//! Market data through the local server: a [`Relay`] publishing a scripted source, consumed by
//! [`NatsMarketSource`]s — relay killed and restarted with overlapping data, consumers
//! reconnecting and restarting, gaps and malformed messages.
//!
//! Each test uses its own venue (so its own subjects) and stream, deleted at the end.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use rustrade_core::{
    Candle, ExchangeError, MarketEvent, MarketSource, Symbol, Timestamp, Venue, async_trait,
};
use rustrade_nats::{
    MarketStream, NatsMarketSource, NatsSourceConfig, Published, Relay, RelayConfig, RelayExit,
    StartAt, testing,
};

const MINUTE: i64 = 60_000_000_000;
/// 2024-01-01T00:00:00Z: bars published now are stored after they closed, as live ones are.
const T0: i64 = 1_704_067_200 * 1_000_000_000;

/// A venue (and so a subject space) no other test or run uses.
fn unique_venue() -> Venue {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Venue::new(&format!("t{}x{n}", std::process::id() % 100_000)).unwrap()
}

fn symbol(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

/// The `i`-th one-minute bar of `symbol`, stamped with its close time.
fn bar(venue: Venue, symbol: Symbol, i: i64) -> MarketEvent {
    let open = Timestamp::from_nanos(T0 + i * MINUTE);
    #[allow(clippy::cast_precision_loss, reason = "small test indices")]
    let p = 100.0 + i as f64;
    let c = Candle::new(open, p, p + 2.0, p - 1.0, p + 1.0, 10.0).unwrap();
    MarketEvent::candle(
        venue,
        symbol,
        Timestamp::from_nanos(T0 + (i + 1) * MINUTE),
        c,
    )
}

/// A venue source replaying a script: events, and errors that end a connection.
struct Script {
    steps: VecDeque<Result<MarketEvent, ExchangeError>>,
    connects: u32,
}

impl Script {
    fn new(events: impl IntoIterator<Item = MarketEvent>) -> Self {
        Self {
            steps: events.into_iter().map(Ok).collect(),
            connects: 0,
        }
    }
}

#[async_trait]
impl MarketSource for Script {
    fn name(&self) -> &str {
        "script"
    }
    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        self.connects += 1;
        Ok(())
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        self.steps.pop_front().transpose()
    }
}

/// A source that never ends: the script, then nothing (a venue with no new bars yet).
struct ScriptThenWait(Script);

#[async_trait]
impl MarketSource for ScriptThenWait {
    fn name(&self) -> &str {
        "script-then-wait"
    }
    async fn connect(&mut self, symbols: &[Symbol]) -> Result<(), ExchangeError> {
        self.0.connect(symbols).await
    }
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        match self.0.steps.pop_front() {
            Some(step) => step.map(Some),
            None => std::future::pending().await,
        }
    }
}

struct Fixture {
    js: jetstream::Context,
    stream: MarketStream,
}

impl Fixture {
    async fn new(test: &str) -> Option<Self> {
        let client = testing::client_or_skip(test).await?;
        let mut stream = MarketStream::new(testing::unique_name(test), unique_venue());
        stream.max_age = Duration::from_secs(3600);
        stream.duplicate_window = Duration::from_secs(120);
        Some(Self {
            js: jetstream::new(client),
            stream,
        })
    }

    fn venue(&self) -> Venue {
        self.stream.venue
    }

    async fn relay(&self, source: impl MarketSource + 'static, symbols: &[Symbol]) -> Relay {
        let mut config = RelayConfig::new(self.stream.clone(), symbols.to_vec());
        config.reconnect_initial = Duration::from_millis(10);
        Relay::new(self.js.clone(), Box::new(source), config)
            .await
            .expect("relay starts")
    }

    fn source(&self, start: StartAt, caught_up: bool) -> NatsMarketSource {
        let mut config = NatsSourceConfig::new(self.stream.name.clone(), self.venue());
        config.start = start;
        config.stop_when_caught_up = caught_up;
        NatsMarketSource::new(self.js.clone(), config)
    }

    async fn delete(self) {
        self.js.delete_stream(&self.stream.name).await.unwrap();
    }
}

/// Reads `n` events from `source` (connected), failing after 20 s.
async fn take(source: &mut NatsMarketSource, n: usize) -> Vec<MarketEvent> {
    let mut got = Vec::with_capacity(n);
    tokio::time::timeout(Duration::from_secs(20), async {
        while got.len() < n {
            match source.next_event().await {
                Ok(Some(e)) => got.push(e),
                other => panic!("after {} events: {other:?}", got.len()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {n} events within 20 s", 0));
    got
}

/// Candle open times in minutes from `T0`.
fn minutes(events: &[MarketEvent]) -> Vec<i64> {
    events
        .iter()
        .map(|e| (e.as_candle().unwrap().open_time().as_nanos() - T0) / MINUTE)
        .collect()
}

#[tokio::test]
async fn every_bar_the_relay_publishes_reaches_the_consumer_once_in_order() {
    let Some(fx) = Fixture::new("relay_every_bar").await else {
        return;
    };
    let (v, btc, eth) = (fx.venue(), symbol("BTCUSDT"), symbol("ETH.PERP"));
    let events: Vec<_> = (0..20)
        .flat_map(|i| [bar(v, btc, i), bar(v, eth, i)])
        .collect();
    let mut relay = fx.relay(Script::new(events.clone()), &[btc, eth]).await;
    let health = relay.health();
    let exit = relay.run_until(std::future::pending()).await.unwrap();
    assert_eq!(exit, RelayExit::SourceFinished);
    let status = health.status();
    assert_eq!(
        (status.published, status.skipped, status.refused),
        (40, 0, 0)
    );
    assert_eq!(status.last_event_time, Some(events[39].time));
    assert_eq!(status.source_connects, 1);

    // Both symbols on one consumer, then each alone on a filtered one.
    let mut both = fx.source(StartAt::All, true);
    both.connect(&[btc, eth]).await.unwrap();
    assert_eq!(take(&mut both, 40).await, events);
    assert_eq!(both.next_event().await.unwrap(), None, "caught up");
    let mut eth_only = fx.source(StartAt::All, true);
    eth_only.connect(&[eth]).await.unwrap();
    let got = take(&mut eth_only, 20).await;
    assert!(got.iter().all(|e| e.symbol == eth));
    assert_eq!(minutes(&got), (0..20).collect::<Vec<_>>());
    assert_eq!(eth_only.health().status().gaps, 0);
    fx.delete().await;
}

#[tokio::test]
async fn a_killed_relay_restarted_on_overlapping_data_loses_and_repeats_no_closed_bar() {
    let Some(fx) = Fixture::new("relay_killed").await else {
        return;
    };
    let (v, btc) = (fx.venue(), symbol("BTCUSDT"));
    // The first relay dies (its task aborted) somewhere after bar 30 was stored.
    let relay = fx
        .relay(
            ScriptThenWait(Script::new((0..45).map(|i| bar(v, btc, i)))),
            &[btc],
        )
        .await;
    // A bot reads throughout.
    let mut consumer = fx.source(StartAt::All, false);
    consumer.connect(&[btc]).await.unwrap();
    let reader = tokio::spawn(async move {
        let got = take(&mut consumer, 60).await;
        (got, consumer)
    });
    let health = relay.health();
    let first = tokio::spawn(async move {
        let mut relay = relay;
        relay.run_until(std::future::pending()).await
    });
    tokio::time::timeout(Duration::from_secs(20), async {
        while health.status().published < 30 {
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("30 bars within 20 s");
    first.abort();
    let _ = first.await;
    let stored_by_first = health.status().published;

    // Its replacement's venue source backfills from bar 20: the overlap is not stored again.
    let mut second = fx
        .relay(Script::new((20..60).map(|i| bar(v, btc, i))), &[btc])
        .await;
    let again = second.health();
    assert_eq!(
        second.run_until(std::future::pending()).await.unwrap(),
        RelayExit::SourceFinished
    );
    let status = again.status();
    assert!(stored_by_first >= 30, "{stored_by_first}");
    // The first relay may have been killed between a store and its acknowledgement, so the
    // stream, not its count, says what it stored.
    let mut stream = fx.js.get_stream(&fx.stream.name).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 60);
    assert_eq!(status.skipped + status.published, 40, "{status:?}");
    assert!(status.published <= 60 - stored_by_first, "{status:?}");

    let (got, mut consumer) = reader.await.unwrap();
    assert_eq!(minutes(&got), (0..60).collect::<Vec<_>>(), "every bar once");
    assert_eq!(consumer.health().status().gaps, 0);
    // Nothing more is coming: no duplicate waits behind the 60.
    let more = tokio::time::timeout(Duration::from_millis(300), consumer.next_event()).await;
    assert!(more.is_err(), "unexpected extra event: {more:?}");
    fx.delete().await;
}

#[tokio::test]
async fn a_reconnected_or_restarted_consumer_misses_and_repeats_nothing() {
    let Some(fx) = Fixture::new("consumer_resume").await else {
        return;
    };
    let (v, btc) = (fx.venue(), symbol("BTCUSDT"));
    let mut relay = fx
        .relay(Script::new((0..30).map(|i| bar(v, btc, i))), &[btc])
        .await;
    relay.run_until(std::future::pending()).await.unwrap();

    // A reconnect in the same process resumes after the last event handed over.
    let mut source = fx.source(StartAt::All, true);
    source.connect(&[btc]).await.unwrap();
    let mut got = take(&mut source, 10).await;
    source.connect(&[btc]).await.unwrap();
    got.extend(take(&mut source, 5).await);
    source.connect(&[btc]).await.unwrap();
    got.extend(take(&mut source, 15).await);
    assert_eq!(source.next_event().await.unwrap(), None);
    assert_eq!(minutes(&got), (0..30).collect::<Vec<_>>());
    assert_eq!(source.health().status().connects, 3);

    // A restarted bot that kept the last sequence it saw resumes after it...
    let mut first = fx.source(StartAt::All, true);
    first.connect(&[btc]).await.unwrap();
    let seen = take(&mut first, 12).await;
    let kept = first.health().status().last_sequence.unwrap();
    drop(first);
    let mut restarted = fx.source(StartAt::AfterSequence(kept), true);
    restarted.connect(&[btc]).await.unwrap();
    let rest = take(&mut restarted, 18).await;
    assert_eq!(restarted.next_event().await.unwrap(), None);
    assert_eq!(minutes(&rest), (12..30).collect::<Vec<_>>());

    // ...and one that knows only the time of the last closed bar it saw resumes after that.
    let last_bar = seen[11].time;
    let mut by_time = fx.source(StartAt::AfterTime(last_bar), true);
    by_time.connect(&[btc]).await.unwrap();
    let rest = take(&mut by_time, 18).await;
    assert_eq!(by_time.next_event().await.unwrap(), None);
    assert_eq!(minutes(&rest), (12..30).collect::<Vec<_>>());
    fx.delete().await;
}

#[tokio::test]
async fn a_malformed_message_is_a_counted_error_and_the_next_event_follows() {
    let Some(fx) = Fixture::new("consumer_malformed").await else {
        return;
    };
    let (v, btc) = (fx.venue(), symbol("BTCUSDT"));
    let mut relay = fx.relay(Script::new([bar(v, btc, 0)]), &[btc]).await;
    relay.run_until(std::future::pending()).await.unwrap();
    let subject = format!("md.{v}.BTCUSDT.candle");
    fx.js
        .publish(subject.clone(), br#"{"close": NaN}"#.as_slice().into())
        .await
        .unwrap()
        .await
        .unwrap();
    let mut relay = fx.relay(Script::new([bar(v, btc, 1)]), &[btc]).await;
    relay.run_until(std::future::pending()).await.unwrap();

    let mut source = fx.source(StartAt::All, true);
    source.connect(&[btc]).await.unwrap();
    assert_eq!(minutes(&take(&mut source, 1).await), [0]);
    let err = source.next_event().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ExchangeError::Malformed { .. }), "{text}");
    assert!(
        text.contains(&subject) && text.contains("unsupported wire version"),
        "{text}"
    );
    let status = source.health().status();
    assert_eq!(status.malformed, 1);
    assert!(status.last_error.unwrap().contains(&subject));
    // The bot's feed reconnects after the error: the bad message is not read again.
    source.connect(&[btc]).await.unwrap();
    assert_eq!(minutes(&take(&mut source, 1).await), [1]);
    assert_eq!(source.next_event().await.unwrap(), None);
    assert_eq!(source.health().status().gaps, 0);
    fx.delete().await;
}

#[tokio::test]
async fn a_bar_missing_from_the_stream_is_reported_as_a_gap() {
    let Some(fx) = Fixture::new("consumer_gap").await else {
        return;
    };
    let (v, btc) = (fx.venue(), symbol("BTCUSDT"));
    let mut relay = fx
        .relay(Script::new((0..3).map(|i| bar(v, btc, i))), &[btc])
        .await;
    relay.run_until(std::future::pending()).await.unwrap();
    let mut source = fx.source(StartAt::All, false);
    source.connect(&[btc]).await.unwrap();
    assert_eq!(minutes(&take(&mut source, 3).await), [0, 1, 2]);

    // Bar 3 is published, then removed from the stream before the consumer reads it.
    let mut relay = fx
        .relay(Script::new((3..5).map(|i| bar(v, btc, i))), &[btc])
        .await;
    let mut sequences = Vec::new();
    for i in 3..5 {
        match relay.publish(&bar(v, btc, i)).await.unwrap() {
            Published::Stored { sequence } => sequences.push(sequence),
            other => panic!("{other:?}"),
        }
    }
    let stream = fx.js.get_stream(&fx.stream.name).await.unwrap();
    assert!(stream.delete_message(sequences[0]).await.unwrap());

    // The bot's feed reconnects (it was away while this happened) and resumes after bar 2.
    source.connect(&[btc]).await.unwrap();
    let err = source.next_event().await.unwrap_err();
    assert!(err.to_string().contains("gap on md."), "{err}");
    let status = source.health().status();
    assert_eq!(status.gaps, 1);
    assert!(status.last_error.unwrap().contains("gap"));
    // Reported once; the bar after the gap is delivered next, also after a reconnect.
    source.connect(&[btc]).await.unwrap();
    assert_eq!(source.health().status().gaps, 1);
    assert_eq!(minutes(&take(&mut source, 1).await), [4]);
    assert_eq!(source.health().status().gaps, 1);
    fx.delete().await;
}

#[tokio::test]
async fn the_relay_reconnects_a_failed_source_and_refuses_another_venue() {
    let Some(fx) = Fixture::new("relay_reconnect").await else {
        return;
    };
    let (v, btc) = (fx.venue(), symbol("BTCUSDT"));
    let other = Venue::new("elsewhere").unwrap();
    let mut script = Script::new((0..3).map(|i| bar(v, btc, i)));
    script
        .steps
        .push_back(Err(ExchangeError::Transport("connection reset".into())));
    script.steps.push_back(Ok(bar(other, btc, 3)));
    script.steps.extend((3..6).map(|i| Ok(bar(v, btc, i))));
    let mut relay = fx.relay(script, &[btc]).await;
    let health = relay.health();
    relay.run_until(std::future::pending()).await.unwrap();
    let status = health.status();
    assert_eq!(
        (status.published, status.refused, status.source_connects),
        (6, 1, 2)
    );
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap()
            .contains("venue elsewhere"),
        "{status:?}"
    );
    let mut source = fx.source(StartAt::All, true);
    source.connect(&[btc]).await.unwrap();
    assert_eq!(
        minutes(&take(&mut source, 6).await),
        (0..6).collect::<Vec<_>>()
    );
    fx.delete().await;
}

#[tokio::test]
async fn a_stream_of_the_same_name_for_other_subjects_is_refused() {
    let Some(fx) = Fixture::new("relay_stream_taken").await else {
        return;
    };
    fx.js
        .create_stream(jetstream::stream::Config {
            name: fx.stream.name.clone(),
            subjects: vec![format!("{}.other", fx.stream.name)],
            ..Default::default()
        })
        .await
        .unwrap();
    let err = Relay::new(
        fx.js.clone(),
        Box::new(Script::new([])),
        RelayConfig::new(fx.stream.clone(), vec![]),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("use another stream name"), "{err}");
    fx.delete().await;
}

#[tokio::test]
async fn a_relay_whose_stream_was_deleted_creates_it_again_and_goes_on() {
    let Some(fx) = Fixture::new("relay_stream_deleted").await else {
        return;
    };
    let (v, btc) = (fx.venue(), symbol("BTCUSDT"));
    let mut relay = fx
        .relay(Script::new((3..6).map(|i| bar(v, btc, i))), &[btc])
        .await;
    let health = relay.health();
    for i in 0..3 {
        assert!(matches!(
            relay.publish(&bar(v, btc, i)).await.unwrap(),
            Published::Stored { .. }
        ));
    }
    fx.js.delete_stream(&fx.stream.name).await.unwrap();
    // The venue source goes on with bar 3: the first publish finds no stream, the retry
    // creates it. Bars 0..3 went with the old stream.
    assert_eq!(
        relay.run_until(std::future::pending()).await.unwrap(),
        RelayExit::SourceFinished
    );
    let status = health.status();
    let error = status.last_error.as_deref().unwrap_or_default();
    assert!(error.contains("no stream found"), "{status:?}");
    assert_eq!(status.published, 3 + 3, "{status:?}");
    let mut source = fx.source(StartAt::All, true);
    source.connect(&[btc]).await.unwrap();
    assert_eq!(
        minutes(&take(&mut source, 3).await),
        (3..6).collect::<Vec<_>>()
    );
    assert_eq!(source.next_event().await.unwrap(), None);
    fx.delete().await;
}

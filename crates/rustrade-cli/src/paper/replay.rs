//! The replay of a recorded data file into a paper bot: [`ReplayFeed`] (a [`MarketSource`]),
//! [`Observed`] (the brain, wrapped to report its progress and keep its fills) and
//! [`VenueClock`] (the bot's clock: the simulated venue's time).
//!
//! # Pacing
//!
//! The market bus is a broadcast channel with a capacity; a replay that published faster than
//! the brain consumed would make it lag and lose events. So the feed publishes the next event
//! only once the brain has taken every earlier one but the newest ([`Pacer`]): at most two
//! events wait on the bus, whatever the speed. `--speed N` adds a real-time wait of the data's
//! gap divided by N before each event.
//!
//! # Why the clock is the venue's
//!
//! The engine is given the time of the event the venue last matched against, the time a
//! backtest gives it, so a decision on an event is stamped with that event's time even while
//! the feed has already queued the next one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustrade::clock::Clock;
use rustrade_backtest::DataError;
use rustrade_core::{
    Brain, BrainContext, BrainError, BrainHealth, Decision, ExchangeError, Fill, MarketEvent,
    MarketSource, Position, Symbol, Timestamp, async_trait,
};
use rustrade_sim::SimVenue;
use tokio::sync::Notify;

/// How fast a replay runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Speed {
    /// As fast as the bot consumes the events.
    Max,
    /// This many times the data's own pace (`1` is real time).
    Times(f64),
}

impl Speed {
    /// The real-time wait before an event at `next` after one at `previous`: the data's gap
    /// divided by the speed; none at `Max` or for the first event.
    pub(crate) fn pause(self, previous: Option<Timestamp>, next: Timestamp) -> Option<Duration> {
        let (Self::Times(n), Some(previous)) = (self, previous) else {
            return None;
        };
        let gap = next.as_nanos().saturating_sub(previous.as_nanos()).max(0);
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a pause length: nanosecond precision is not needed"
        )]
        Some(Duration::from_nanos((gap as f64 / n) as u64))
    }
}

impl std::str::FromStr for Speed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("max") {
            return Ok(Self::Max);
        }
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() && n > 0.0 => Ok(Self::Times(n)),
            _ => Err(format!("expected `max` or a number > 0 (got {text:?})")),
        }
    }
}

/// What the feed and the brain share: how far each got, and how the replay ended.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    /// Events the feed yielded.
    yielded: AtomicU64,
    /// Events the brain was given.
    seen: AtomicU64,
    /// The feed yielded its last event (or stopped at a bad row).
    done: AtomicBool,
    /// Woken when the brain takes an event.
    to_feed: Notify,
    /// Woken when the brain takes an event or the feed finishes.
    to_host: Notify,
    /// The data error that stopped the replay early.
    failure: Mutex<Option<DataError>>,
}

impl Pacer {
    /// Events the brain was given so far.
    pub(crate) fn seen(&self) -> u64 {
        self.seen.load(Ordering::SeqCst)
    }

    /// Completes once the feed has finished and the brain has been given every event it
    /// yielded (the last one may still be deciding; shutdown lets it finish).
    pub(crate) async fn replayed(&self) {
        loop {
            let woken = self.to_host.notified();
            if self.done.load(Ordering::SeqCst)
                && self.seen.load(Ordering::SeqCst) >= self.yielded.load(Ordering::SeqCst)
            {
                return;
            }
            woken.await;
        }
    }

    /// The data error that ended the replay early, if any (taken once).
    pub(crate) fn take_failure(&self) -> Option<DataError> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn took_one(&self) {
        self.seen.fetch_add(1, Ordering::SeqCst);
        self.to_feed.notify_one();
        self.to_host.notify_one();
    }

    fn finish(&self, failure: Option<DataError>) {
        if failure.is_some() {
            *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = failure;
        }
        self.done.store(true, Ordering::SeqCst);
        self.to_host.notify_one();
    }

    /// Waits until the brain has taken all but the newest of the events yielded.
    async fn backpressure(&self) {
        loop {
            let woken = self.to_feed.notified();
            let yielded = self.yielded.load(Ordering::SeqCst);
            if self.seen.load(Ordering::SeqCst) + 1 >= yielded {
                return;
            }
            woken.await;
        }
    }
}

/// The recorded events as a boxed, sendable iterator (the backtest's loaders).
pub(crate) type Events = Box<dyn Iterator<Item = Result<MarketEvent, DataError>> + Send>;

/// A [`MarketSource`] replaying a data file, paced by the bot (see the module doc).
pub(crate) struct ReplayFeed {
    events: Events,
    first: Option<MarketEvent>,
    speed: Speed,
    previous: Option<Timestamp>,
    pacer: Arc<Pacer>,
}

impl ReplayFeed {
    /// Replays `first` and then `rest` at `speed`, paced through `pacer`.
    pub(crate) fn new(first: MarketEvent, rest: Events, speed: Speed, pacer: Arc<Pacer>) -> Self {
        Self {
            events: rest,
            first: Some(first),
            speed,
            previous: None,
            pacer,
        }
    }
}

#[async_trait]
impl MarketSource for ReplayFeed {
    fn name(&self) -> &str {
        "replay"
    }

    async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> {
        Ok(())
    }

    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        self.pacer.backpressure().await;
        let event = match self.first.take().map(Ok).or_else(|| self.events.next()) {
            Some(Ok(event)) => event,
            Some(Err(e)) => {
                tracing::error!(error = %e, "replay stopped at a bad row");
                self.pacer.finish(Some(e));
                return Ok(None);
            }
            None => {
                self.pacer.finish(None);
                return Ok(None);
            }
        };
        if let Some(wait) = self.speed.pause(self.previous, event.time) {
            tokio::time::sleep(wait).await;
        }
        self.previous = Some(event.time);
        self.pacer.yielded.fetch_add(1, Ordering::SeqCst);
        Ok(Some(event))
    }
}

/// Any [`MarketSource`] paced by the bot like [`ReplayFeed`] (see the module doc): for a
/// stream replayed from NATS as fast as the bot consumes it. Its end (`Ok(None)`) ends the run.
pub(crate) struct PacedSource {
    inner: Box<dyn MarketSource>,
    pacer: Arc<Pacer>,
}

impl PacedSource {
    /// `inner`, paced through `pacer`.
    pub(crate) fn new(inner: Box<dyn MarketSource>, pacer: Arc<Pacer>) -> Self {
        Self { inner, pacer }
    }
}

#[async_trait]
impl MarketSource for PacedSource {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn connect(&mut self, symbols: &[Symbol]) -> Result<(), ExchangeError> {
        self.inner.connect(symbols).await
    }

    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        self.pacer.backpressure().await;
        let next = self.inner.next_event().await;
        match &next {
            Ok(Some(_)) => {
                self.pacer.yielded.fetch_add(1, Ordering::SeqCst);
            }
            Ok(None) => self.pacer.finish(None),
            Err(_) => {}
        }
        next
    }
}

/// The configured brain, reporting each event it is given to the [`Pacer`] and keeping every
/// fill the bot tells it about, in order. Everything else is the inner brain's.
pub(crate) struct Observed {
    inner: Arc<dyn Brain>,
    pacer: Arc<Pacer>,
    fills: Mutex<Vec<Fill>>,
}

impl Observed {
    /// Wraps `inner`.
    pub(crate) fn new(inner: Arc<dyn Brain>, pacer: Arc<Pacer>) -> Self {
        Self {
            inner,
            pacer,
            fills: Mutex::new(Vec::new()),
        }
    }

    /// The fills so far, in the order the bot applied them.
    pub(crate) fn fills(&self) -> Vec<Fill> {
        self.fills
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Brain for Observed {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn owned_symbols(&self) -> Option<Vec<Symbol>> {
        self.inner.owned_symbols()
    }

    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        self.on_event_in(event, &BrainContext::detached(position))
    }

    fn on_event_in(
        &self,
        event: &MarketEvent,
        ctx: &BrainContext<'_>,
    ) -> Result<Decision, BrainError> {
        self.pacer.took_one();
        self.inner.on_event_in(event, ctx)
    }

    fn on_fill(&self, fill: &Fill) {
        self.fills
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(*fill);
        self.inner.on_fill(fill);
    }

    async fn health(&self) -> BrainHealth {
        self.inner.health().await
    }
}

/// The bot's clock during a replay: the simulated venue's time (the newest event it matched
/// against), never before the first event of the data.
pub(crate) struct VenueClock {
    venue: Arc<Mutex<SimVenue>>,
    floor: Timestamp,
}

impl VenueClock {
    /// The time of `venue`, at least `floor`.
    pub(crate) fn new(venue: Arc<Mutex<SimVenue>>, floor: Timestamp) -> Self {
        Self { venue, floor }
    }
}

impl Clock for VenueClock {
    fn now(&self) -> Timestamp {
        let venue = self
            .venue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .now();
        venue.max(self.floor)
    }
}

impl std::fmt::Debug for VenueClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VenueClock")
            .field("now", &self.now())
            .finish()
    }
}

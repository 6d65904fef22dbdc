//! [`NatsMarketSource`]: a bot's [`MarketSource`] reading a [`Relay`](crate::Relay)'s stream.
//!
//! # Resuming without loss or repeats
//!
//! The source remembers the stream sequence of the last event it handed over. Every
//! `connect` after the first (the bot's market feed reconnects after any error) opens a new
//! consumer at the next sequence, so a reconnect neither misses nor repeats an event. A bot
//! restarted in a new process picks its start with [`StartAt`]: after the last sequence it
//! saw ([`StartAt::AfterSequence`], the [`SourceStatus::last_sequence`](crate::SourceStatus)
//! it kept), or after the time of the last closed bar it saw ([`StartAt::AfterTime`]: the
//! consumer starts at the first message stored at or after that time, and events no newer than
//! it are passed over). The relay publishes a bar after it closed, so every bar newer than the
//! given time is stored at or after it; the consumer starts [`CLOCK_SKEW_MARGIN`] earlier still,
//! so a relay whose clock runs behind the venue's loses nothing either.
//!
//! A bot with a state store does not need to be told: it keeps each brain's progress through
//! the market data in its store and calls [`MarketSource::resume_after`] at start, which sets
//! the start after the oldest of those points and passes over, per symbol, what the bot saw.
//!
//! # Gaps and bad messages
//!
//! Each message names the previous message of its subject
//! ([`PREVIOUS_SEQUENCE_HEADER`](crate::PREVIOUS_SEQUENCE_HEADER)). When that is not the last
//! one this source saw on the subject, events are missing from the stream (aged out, or
//! removed): the gap is counted in the [`SourceHealth`] and returned as an error once, and the
//! event after it is delivered next. A message that does not decode is counted, returned as
//! [`ExchangeError::Malformed`] naming the subject and the reason, and passed over; a bot's
//! market feed treats both errors as a disconnect and reconnects, resuming after the last
//! good event.
//!
//! # Consumers
//!
//! One ordered consumer (ephemeral, no acknowledgements, recreated by the client after a lost
//! heartbeat) per connection: filtered to `md.<venue>.<symbol>.*` for one symbol, to
//! `md.<venue>.>` for several (events of other symbols are passed over here).

use std::collections::BTreeMap;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;
use rustrade_core::{ExchangeError, MarketEvent, MarketSource, Symbol, Timestamp, Venue};

use crate::{
    MarketSubject, NatsError, PREVIOUS_SEQUENCE_HEADER, SourceHealth, decode, symbol_filter,
    venue_filter,
};

/// How much earlier than a start time ([`StartAt::AfterTime`]) the consumer starts reading: the
/// stream stores messages by the NATS server's clock, the bars carry the venue's.
pub const CLOCK_SKEW_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a source with no sequence of its own yet starts reading the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// Only events published after the first connect.
    New,
    /// Everything the stream holds.
    All,
    /// The events after this stream sequence.
    AfterSequence(u64),
    /// The events newer than this time (the last closed bar the bot saw).
    AfterTime(Timestamp),
}

/// How a [`NatsMarketSource`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsSourceConfig {
    /// The relay's stream.
    pub stream: String,
    /// The venue whose subjects it reads.
    pub venue: Venue,
    /// Where the first connect starts.
    pub start: StartAt,
    /// Finish (`Ok(None)`) once every event the stream held at connect time is delivered,
    /// instead of waiting for more: for replaying a recorded stream.
    pub stop_when_caught_up: bool,
}

impl NatsSourceConfig {
    /// Reads `venue` from `stream`, new events only, without end.
    pub fn new(stream: impl Into<String>, venue: Venue) -> Self {
        Self {
            stream: stream.into(),
            venue,
            start: StartAt::New,
            stop_when_caught_up: false,
        }
    }
}

/// A [`MarketSource`] consuming a relay's stream (see the module doc).
pub struct NatsMarketSource {
    js: jetstream::Context,
    config: NatsSourceConfig,
    symbols: Vec<Symbol>,
    messages: Option<consumer::pull::Ordered>,
    last_sequence: Option<u64>,
    /// The last stream sequence seen on each subject.
    chains: BTreeMap<MarketSubject, u64>,
    /// An event held back while its gap was reported.
    held: Option<(MarketEvent, MarketSubject, u64)>,
    caught_up: bool,
    health: SourceHealth,
    /// Per symbol, the newest event the bot saw before it restarted
    /// ([`MarketSource::resume_after`]): that and older events are passed over.
    resume: BTreeMap<Symbol, Timestamp>,
}

/// What one message turned out to be.
enum Received {
    Event(MarketEvent, MarketSubject, u64),
    /// Not for this bot (another symbol), or no newer than [`StartAt::AfterTime`].
    PassOver(Option<MarketSubject>),
    /// Did not decode; the subject, when it parses, still continues its chain.
    Malformed(NatsError, Option<MarketSubject>),
    Gap {
        event: MarketEvent,
        subject: MarketSubject,
        previous: u64,
        seen: u64,
    },
}

impl NatsMarketSource {
    /// A source reading through `js` as `config` says; nothing is requested before `connect`.
    pub fn new(js: jetstream::Context, config: NatsSourceConfig) -> Self {
        Self {
            js,
            config,
            symbols: Vec::new(),
            messages: None,
            last_sequence: None,
            chains: BTreeMap::new(),
            held: None,
            caught_up: false,
            health: SourceHealth::default(),
            resume: BTreeMap::new(),
        }
    }

    /// The source's health handle.
    pub fn health(&self) -> SourceHealth {
        self.health.clone()
    }

    /// The stream sequence of the last event handed over.
    pub fn last_sequence(&self) -> Option<u64> {
        self.last_sequence
    }

    fn deliver_policy(&self) -> Result<consumer::DeliverPolicy, NatsError> {
        use consumer::DeliverPolicy;
        Ok(match (self.last_sequence, self.config.start) {
            (Some(s), _) | (None, StartAt::AfterSequence(s)) => DeliverPolicy::ByStartSequence {
                start_sequence: s.saturating_add(1),
            },
            (None, StartAt::New) => DeliverPolicy::New,
            (None, StartAt::All) => DeliverPolicy::All,
            (None, StartAt::AfterTime(t)) => DeliverPolicy::ByStartTime {
                start_time: async_nats::datetime::from_nanos(i128::from(
                    t.saturating_sub(CLOCK_SKEW_MARGIN).as_nanos(),
                ))
                .map_err(|e| NatsError::InvalidOption {
                    field: "start",
                    value: t.to_string(),
                    reason: e.to_string(),
                })?,
            },
        })
    }

    async fn open(&mut self) -> Result<(), NatsError> {
        let filter = match self.symbols.as_slice() {
            [one] => symbol_filter(&self.config.venue, one),
            _ => venue_filter(&self.config.venue),
        };
        let what = format!("consumer on {} ({filter})", self.config.stream);
        let stream = self
            .js
            .get_stream(&self.config.stream)
            .await
            .map_err(|e| NatsError::jetstream(&what, e))?;
        let mut consumer = stream
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: filter,
                deliver_policy: self.deliver_policy()?,
                ..Default::default()
            })
            .await
            .map_err(|e| NatsError::jetstream(&what, e))?;
        let pending = consumer
            .info()
            .await
            .map_err(|e| NatsError::jetstream(&what, e))?
            .num_pending;
        self.caught_up = self.config.stop_when_caught_up && pending == 0;
        self.messages = Some(
            consumer
                .messages()
                .await
                .map_err(|e| NatsError::jetstream(&what, e))?,
        );
        Ok(())
    }

    /// Classifies one message against the chains and the start time.
    fn receive(&self, message: &jetstream::Message, sequence: u64) -> Received {
        let subject_text = message.subject.as_str();
        let subject = match MarketSubject::parse(subject_text) {
            Ok(s) => s,
            Err(e) => return Received::Malformed(e, None),
        };
        if !self.symbols.is_empty() && !self.symbols.contains(&subject.symbol) {
            return Received::PassOver(None);
        }
        let event = match decode(subject_text, &message.payload) {
            Ok(e) => e,
            Err(e) => return Received::Malformed(e, Some(subject)),
        };
        let malformed = |reason: String| {
            Received::Malformed(
                NatsError::Malformed {
                    subject: subject_text.to_owned(),
                    reason,
                },
                Some(subject),
            )
        };
        if MarketSubject::of(&event) != subject {
            return malformed(format!(
                "the payload is an event for {}",
                MarketSubject::of(&event)
            ));
        }
        let previous = message
            .headers
            .as_ref()
            .and_then(|h| h.get(PREVIOUS_SEQUENCE_HEADER))
            .map(|v| v.as_str().parse::<u64>());
        let previous = match previous {
            Some(Ok(p)) => p,
            Some(Err(_)) => {
                return malformed(format!("{PREVIOUS_SEQUENCE_HEADER} is not a number"));
            }
            None => return malformed(format!("no {PREVIOUS_SEQUENCE_HEADER} header")),
        };
        if let Some(&seen) = self.chains.get(&subject)
            && seen != previous
        {
            return Received::Gap {
                event,
                subject,
                previous,
                seen,
            };
        }
        let seen_through = match (self.resume.get(&subject.symbol), self.config.start) {
            (Some(&t), _) | (None, StartAt::AfterTime(t)) => Some(t),
            (None, _) => None,
        };
        if seen_through.is_some_and(|t| event.time <= t) {
            return Received::PassOver(Some(subject));
        }
        Received::Event(event, subject, sequence)
    }

    fn hand_over(&mut self, event: MarketEvent, subject: MarketSubject, sequence: u64) {
        self.last_sequence = Some(sequence);
        self.chains.insert(subject, sequence);
        self.health.update(|s| {
            s.delivered += 1;
            s.last_sequence = Some(sequence);
            s.last_event_time = Some(event.time);
        });
    }

    fn disconnected(&mut self) {
        self.messages = None;
        self.health.update(|s| s.connected = false);
    }
}

#[async_trait::async_trait]
impl MarketSource for NatsMarketSource {
    fn name(&self) -> &str {
        "nats"
    }

    async fn connect(&mut self, symbols: &[Symbol]) -> Result<(), ExchangeError> {
        symbols.clone_into(&mut self.symbols);
        self.held = None;
        self.messages = None;
        self.open().await.map_err(|e| {
            self.health.update(|s| {
                s.connected = false;
                s.last_error = Some(e.to_string());
            });
            ExchangeError::Transport(e.to_string())
        })?;
        self.health.update(|s| {
            s.connected = true;
            s.connects += 1;
        });
        Ok(())
    }

    /// Replaces the configured start with the stored time of the oldest point (the relay stores
    /// a bar after it closed, so every newer bar is stored after it) and passes over, per
    /// symbol, what the bot saw. A source that already connected keeps its own sequence.
    fn resume_after(&mut self, through: &[(Symbol, Timestamp)]) -> bool {
        let Some(oldest) = through.iter().map(|(_, t)| *t).min() else {
            return false;
        };
        if self.last_sequence.is_some() {
            return false;
        }
        self.config.start = StartAt::AfterTime(oldest);
        self.resume = through.iter().copied().collect();
        true
    }

    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        if let Some((event, subject, sequence)) = self.held.take() {
            self.hand_over(event, subject, sequence);
            return Ok(Some(event));
        }
        loop {
            if self.caught_up {
                return Ok(None);
            }
            let Some(messages) = self.messages.as_mut() else {
                return Err(ExchangeError::Closed("not connected".to_owned()));
            };
            let message = match messages.next().await {
                Some(Ok(m)) => m,
                Some(Err(e)) => {
                    self.disconnected();
                    return Err(ExchangeError::Transport(format!(
                        "stream {}: {e}",
                        self.config.stream
                    )));
                }
                None => {
                    self.disconnected();
                    return Err(ExchangeError::Closed(format!(
                        "stream {}: consumer ended",
                        self.config.stream
                    )));
                }
            };
            let (sequence, pending) = match message.info() {
                Ok(info) => (info.stream_sequence, info.pending),
                Err(e) => {
                    self.disconnected();
                    return Err(ExchangeError::Transport(format!(
                        "stream {}: message without JetStream metadata: {e}",
                        self.config.stream
                    )));
                }
            };
            let received = self.receive(&message, sequence);
            if self.config.stop_when_caught_up && pending == 0 {
                self.caught_up = true;
            }
            match received {
                Received::Event(event, subject, sequence) => {
                    self.hand_over(event, subject, sequence);
                    return Ok(Some(event));
                }
                Received::PassOver(subject) => {
                    self.last_sequence = Some(sequence);
                    if let Some(subject) = subject {
                        self.chains.insert(subject, sequence);
                    }
                }
                Received::Malformed(e, subject) => {
                    self.last_sequence = Some(sequence);
                    if let Some(subject) = subject {
                        self.chains.insert(subject, sequence);
                    }
                    tracing::warn!(error = %e, sequence, "malformed market data message passed over");
                    self.health.update(|s| {
                        s.malformed += 1;
                        s.last_error = Some(e.to_string());
                    });
                    return Err(ExchangeError::Malformed {
                        reason: e.to_string(),
                        payload: format!(
                            "stream sequence {sequence}, {} bytes",
                            message.payload.len()
                        ),
                    });
                }
                Received::Gap {
                    event,
                    subject,
                    previous,
                    seen,
                } => {
                    let text = format!(
                        "gap on {subject}: the message at stream sequence {sequence} follows {previous}, \
                         but the last one seen was {seen}"
                    );
                    tracing::warn!(%text, "market data gap");
                    self.health.update(|s| {
                        s.gaps += 1;
                        s.last_error = Some(text.clone());
                    });
                    // The break is reported once: the chain continues from what the stream holds.
                    self.chains.insert(subject, previous);
                    self.held = Some((event, subject, sequence));
                    return Err(ExchangeError::Transport(text));
                }
            }
        }
    }
}

impl std::fmt::Debug for NatsMarketSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsMarketSource")
            .field("config", &self.config)
            .field("last_sequence", &self.last_sequence)
            .finish_non_exhaustive()
    }
}

//! [`Relay`]: reads one venue's [`MarketSource`] once and publishes every event to JetStream,
//! so any number of bots consume it ([`NatsMarketSource`](crate::NatsMarketSource)).
//!
//! # What a message carries
//!
//! Each event goes to its [`MarketSubject`] (`md.<venue>.<symbol>.<kind>`) encoded by
//! [`encode`](crate::encode), with two headers:
//!
//! - [`PREVIOUS_SEQUENCE_HEADER`]: the stream sequence of the previous message on the same
//!   subject (`0` for the first). A consumer that remembers the last sequence it saw on a
//!   subject detects a missing event as a break in this chain, however the consumer filters.
//! - `Nats-Msg-Id` for candles: `<subject>@<event time in ns>`, so a closed bar published twice
//!   within the stream's duplicate window (a retried publish whose acknowledgement was lost) is
//!   stored once.
//!
//! # Restarts
//!
//! On the first event of a subject, the relay reads the subject's last message from the
//! stream: its sequence continues the chain, and a candle no newer than the last stored bar is
//! not sent again ([`Published::Skipped`]). So a relay killed at any point and restarted with a
//! source that backfills overlapping bars stores every closed bar exactly once, whatever the
//! duplicate window. One relay publishes a venue's subjects at a time.
//!
//! # Failures
//!
//! A source error is recorded in the [`RelayHealth`] and the source is reconnected with
//! exponential backoff. A publish that fails is retried (the message id makes a retried candle
//! harmless) after making sure the stream exists (it is created again if it was deleted);
//! after [`RelayConfig::publish_attempts`] failures [`Relay::run_until`] returns the
//! error with the event kept, so a supervisor restarting the run publishes it first.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage, stream::LastRawMessageErrorKind};
use rustrade_core::{MarketEvent, MarketSource, Symbol, Timestamp};

use crate::{EventKind, MarketStream, MarketSubject, NatsError, RelayHealth, decode, encode};

/// The header holding the stream sequence of the previous message on the same subject.
pub const PREVIOUS_SEQUENCE_HEADER: &str = "Rustrade-Prev-Seq";

/// How a [`Relay`] runs.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The stream it publishes to (created or updated at start).
    pub stream: MarketStream,
    /// The symbols it subscribes the source to.
    pub symbols: Vec<Symbol>,
    /// The first wait before reconnecting a failed source; doubled each failure.
    pub reconnect_initial: Duration,
    /// The longest wait between reconnects.
    pub reconnect_max: Duration,
    /// Publish attempts per event before the run fails.
    pub publish_attempts: u32,
}

impl RelayConfig {
    /// Publishes `symbols` to `stream`, reconnecting after 250 ms doubling up to 30 s, five
    /// publish attempts per event.
    pub fn new(stream: MarketStream, symbols: Vec<Symbol>) -> Self {
        Self {
            stream,
            symbols,
            reconnect_initial: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(30),
            publish_attempts: 5,
        }
    }
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Stored at this stream sequence.
    Stored {
        /// Its stream sequence.
        sequence: u64,
    },
    /// The stream already held it (same message id): not stored again.
    Duplicate {
        /// The sequence of the copy already stored.
        sequence: u64,
    },
    /// A candle no newer than the subject's last stored bar: not sent.
    Skipped,
    /// Not publishable (another venue's event); counted and dropped.
    Refused {
        /// Why.
        reason: String,
    },
}

/// Why [`Relay::run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayExit {
    /// The source finished (a replayed file ran out); everything it gave was published.
    SourceFinished,
    /// The stop future completed.
    Stopped,
}

/// Publishes a [`MarketSource`]'s events to a JetStream stream (see the module doc).
pub struct Relay {
    js: jetstream::Context,
    stream: jetstream::stream::Stream,
    source: Box<dyn MarketSource>,
    config: RelayConfig,
    health: RelayHealth,
    chains: BTreeMap<MarketSubject, Chain>,
    pending: Option<MarketEvent>,
    connected: bool,
    failures: u32,
    buf: Vec<u8>,
}

/// What the stream holds for one subject.
#[derive(Debug, Clone, Copy)]
struct Chain {
    /// The stream sequence of its last message (`0`: none).
    last_sequence: u64,
    /// The newest candle stored on it.
    last_candle: Option<Timestamp>,
}

impl Relay {
    /// A relay of `source` to `config.stream` through `js`; creates the stream or updates its
    /// limits.
    pub async fn new(
        js: jetstream::Context,
        source: Box<dyn MarketSource>,
        config: RelayConfig,
    ) -> Result<Self, NatsError> {
        let stream = config.stream.ensure(&js).await?;
        Ok(Self {
            js,
            stream,
            source,
            config,
            health: RelayHealth::default(),
            chains: BTreeMap::new(),
            pending: None,
            connected: false,
            failures: 0,
            buf: Vec::with_capacity(crate::codec::MAX_ENCODED_LEN),
        })
    }

    /// The relay's health handle (cheap to clone, updated as it runs).
    pub fn health(&self) -> RelayHealth {
        self.health.clone()
    }

    /// Connects the source and publishes its events until it finishes or `stop` completes.
    ///
    /// Source errors reconnect it with backoff. A JetStream failure that outlasts
    /// [`RelayConfig::publish_attempts`] is returned, the unpublished event kept for the next
    /// run.
    pub async fn run_until(
        &mut self,
        stop: impl Future<Output = ()>,
    ) -> Result<RelayExit, NatsError> {
        tokio::pin!(stop);
        loop {
            if let Some(event) = self.pending {
                tokio::select! {
                    biased;
                    () = &mut stop => return Ok(RelayExit::Stopped),
                    r = self.publish_retrying(&event) => { r?; }
                }
                self.pending = None;
            }
            if !self.connected {
                let symbols = self.config.symbols.clone();
                let connected = tokio::select! {
                    biased;
                    () = &mut stop => return Ok(RelayExit::Stopped),
                    r = self.source.connect(&symbols) => r,
                };
                match connected {
                    Ok(()) => {
                        self.connected = true;
                        self.health.update(|s| {
                            s.source_connected = true;
                            s.source_connects += 1;
                        });
                        tracing::info!(source = self.source.name(), "relay source connected");
                    }
                    Err(e) => {
                        if self.source_failed(&e, &mut stop).await {
                            return Ok(RelayExit::Stopped);
                        }
                        continue;
                    }
                }
            }
            let next = tokio::select! {
                biased;
                () = &mut stop => return Ok(RelayExit::Stopped),
                n = self.source.next_event() => n,
            };
            match next {
                Ok(Some(event)) => {
                    self.failures = 0;
                    self.pending = Some(event);
                }
                Ok(None) => {
                    self.connected = false;
                    self.health.update(|s| s.source_connected = false);
                    return Ok(RelayExit::SourceFinished);
                }
                Err(e) => {
                    self.connected = false;
                    if self.source_failed(&e, &mut stop).await {
                        return Ok(RelayExit::Stopped);
                    }
                }
            }
        }
    }

    /// Publishes one event and waits for the stream's acknowledgement.
    pub async fn publish(&mut self, event: &MarketEvent) -> Result<Published, NatsError> {
        if event.venue != self.config.stream.venue {
            let reason = format!(
                "event of venue {} on the stream of venue {}",
                event.venue, self.config.stream.venue
            );
            self.health.update(|s| s.refused += 1);
            return Ok(Published::Refused { reason });
        }
        let subject = MarketSubject::of(event);
        let text = subject.to_string();
        let mut chain = self.chain(&subject, &text).await?;
        let is_candle = subject.kind == EventKind::Candle;
        if is_candle && chain.last_candle.is_some_and(|t| t >= event.time) {
            self.health.update(|s| s.skipped += 1);
            return Ok(Published::Skipped);
        }
        self.buf.clear();
        encode(event, &mut self.buf);
        let mut headers = HeaderMap::new();
        headers.insert(PREVIOUS_SEQUENCE_HEADER, chain.last_sequence.to_string());
        let mut message = PublishMessage::build()
            .payload(self.buf.clone().into())
            .headers(headers);
        if is_candle {
            message = message.message_id(format!("{text}@{}", event.time.as_nanos()));
        }
        let what = || format!("publish to {text}");
        let ack = self
            .js
            .send_publish(text.clone(), message)
            .await
            .map_err(|e| NatsError::jetstream(what(), e))?
            .await
            .map_err(|e| NatsError::jetstream(what(), e))?;
        let outcome = if ack.duplicate {
            chain.last_sequence = chain.last_sequence.max(ack.sequence);
            Published::Duplicate {
                sequence: ack.sequence,
            }
        } else {
            chain.last_sequence = ack.sequence;
            Published::Stored {
                sequence: ack.sequence,
            }
        };
        if is_candle {
            chain.last_candle = Some(event.time);
        }
        self.chains.insert(subject, chain);
        self.health.update(|s| {
            match outcome {
                Published::Duplicate { .. } => s.duplicates += 1,
                _ => s.published += 1,
            }
            s.last_event_time = Some(s.last_event_time.map_or(event.time, |t| t.max(event.time)));
        });
        Ok(outcome)
    }

    /// The subject's chain: remembered, or read from the stream's last message on it.
    async fn chain(&mut self, subject: &MarketSubject, text: &str) -> Result<Chain, NatsError> {
        if let Some(chain) = self.chains.get(subject) {
            return Ok(*chain);
        }
        let chain = match self.stream.get_last_raw_message_by_subject(text).await {
            Ok(last) => Chain {
                last_sequence: last.sequence,
                last_candle: match decode(text, &last.payload) {
                    Ok(e) if e.as_candle().is_some() => Some(e.time),
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "the stream's last message on the subject does not decode");
                        None
                    }
                },
            },
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Chain {
                last_sequence: 0,
                last_candle: None,
            },
            Err(e) => {
                return Err(NatsError::jetstream(format!("last message on {text}"), e));
            }
        };
        self.chains.insert(*subject, chain);
        Ok(chain)
    }

    /// [`Relay::publish`], retried with backoff up to the configured attempts.
    async fn publish_retrying(&mut self, event: &MarketEvent) -> Result<Published, NatsError> {
        let mut attempt = 0;
        loop {
            match self.publish(event).await {
                Ok(Published::Refused { reason }) => {
                    tracing::warn!(%reason, symbol = %event.symbol, "relay refused an event");
                    self.health.update(|s| s.last_error = Some(reason.clone()));
                    return Ok(Published::Refused { reason });
                }
                Ok(published) => return Ok(published),
                Err(e) => {
                    attempt += 1;
                    self.health.update(|s| s.last_error = Some(e.to_string()));
                    if attempt >= self.config.publish_attempts.max(1) {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, attempt, "relay publish failed; retrying");
                    tokio::time::sleep(self.delay(attempt - 1)).await;
                    // A fresh look at the stream: the message may have landed, or the stream may
                    // be gone (deleted by an operator) and is created again.
                    self.chains.clear();
                    match self.config.stream.ensure(&self.js).await {
                        Ok(stream) => self.stream = stream,
                        Err(e) => self.health.update(|s| s.last_error = Some(e.to_string())),
                    }
                }
            }
        }
    }

    /// Records a source failure and waits out the backoff; `true` when `stop` came first.
    async fn source_failed(
        &mut self,
        e: &rustrade_core::ExchangeError,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> bool {
        let delay = self.delay(self.failures);
        self.failures = self.failures.saturating_add(1);
        tracing::warn!(source = self.source.name(), error = %e, ?delay, "relay source failed; reconnecting");
        self.health.update(|s| {
            s.source_connected = false;
            s.last_error = Some(format!("source {}: {e}", self.source.name()));
        });
        tokio::select! {
            biased;
            () = stop.as_mut() => true,
            () = tokio::time::sleep(delay) => false,
        }
    }

    /// The wait before retry number `attempt` (from 0): doubling from the initial delay, capped.
    fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
        self.config
            .reconnect_initial
            .saturating_mul(factor)
            .min(self.config.reconnect_max)
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("source", &self.source.name())
            .field("stream", &self.config.stream.name)
            .field("status", &self.health.status())
            .finish_non_exhaustive()
    }
}

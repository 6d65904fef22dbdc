//! Health of the relay and of a consumer: [`RelayHealth`] and [`SourceHealth`], cheap cloneable
//! handles the running part updates and anyone may read ([`RelayHealth::status`],
//! [`SourceHealth::status`]) for logs, a status line or an ops endpoint.

use std::sync::{Arc, Mutex, PoisonError};

use rustrade_core::Timestamp;

/// What a [`Relay`](crate::Relay) has done, as of one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayStatus {
    /// Events stored in the stream.
    pub published: u64,
    /// Events the stream recognised by their message id and did not store again.
    pub duplicates: u64,
    /// Candles not sent because the stream already held a bar at least as new for the subject
    /// (a restarted source replaying what an earlier relay published).
    pub skipped: u64,
    /// Events refused (another venue's, or a symbol that makes no subject).
    pub refused: u64,
    /// The newest event time stored.
    pub last_event_time: Option<Timestamp>,
    /// Whether the venue source is connected now.
    pub source_connected: bool,
    /// Times the source was (re)connected.
    pub source_connects: u64,
    /// The last error from the source or from JetStream.
    pub last_error: Option<String>,
}

/// A cloneable view of a relay's [`RelayStatus`].
#[derive(Debug, Clone, Default)]
pub struct RelayHealth(Arc<Mutex<RelayStatus>>);

impl RelayHealth {
    /// The status now.
    pub fn status(&self) -> RelayStatus {
        self.lock().clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut RelayStatus)) {
        f(&mut self.lock());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RelayStatus> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a [`NatsMarketSource`](crate::NatsMarketSource) has received, as of one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceStatus {
    /// Events handed to the bot.
    pub delivered: u64,
    /// The stream sequence of the last event handed over: pass it to
    /// [`StartAt::AfterSequence`](crate::StartAt::AfterSequence) to resume after it.
    pub last_sequence: Option<u64>,
    /// The time of the last event handed over.
    pub last_event_time: Option<Timestamp>,
    /// Messages that did not decode (each also returned as an error once).
    pub malformed: u64,
    /// Breaks in a subject's chain: the stream no longer holds an event the relay published
    /// before this one (aged out, or removed), so events were missed.
    pub gaps: u64,
    /// What the last gap or malformed message was.
    pub last_error: Option<String>,
    /// Whether a consumer is open now.
    pub connected: bool,
    /// Times a consumer was opened.
    pub connects: u64,
}

/// A cloneable view of a source's [`SourceStatus`].
#[derive(Debug, Clone, Default)]
pub struct SourceHealth(Arc<Mutex<SourceStatus>>);

impl SourceHealth {
    /// The status now.
    pub fn status(&self) -> SourceStatus {
        self.lock().clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut SourceStatus)) {
        f(&mut self.lock());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SourceStatus> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

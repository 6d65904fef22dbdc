//! [`MarketStream`]: the JetStream stream that keeps one venue's market data, and
//! [`MarketStream::ensure`], which creates it or brings its limits up to date.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use rustrade_core::Venue;

use crate::{NatsError, venue_filter};

/// The stream holding a venue's market data (subjects `md.<venue>.>`) and its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketStream {
    /// The stream's name (letters, digits, `-` and `_`).
    pub name: String,
    /// The venue whose subjects it captures.
    pub venue: Venue,
    /// Events older than this are dropped (`ZERO`: kept until `max_bytes`).
    pub max_age: Duration,
    /// The stream's size limit in bytes; the oldest events go first (`-1`: unlimited).
    pub max_bytes: i64,
    /// How long JetStream remembers a `Nats-Msg-Id`, so a republished candle is stored once.
    pub duplicate_window: Duration,
}

impl MarketStream {
    /// `name` for `venue`, keeping 7 days and at most 1 GiB, remembering message ids for 10
    /// minutes (enough for a restarted relay's backfill to be deduplicated).
    pub fn new(name: impl Into<String>, venue: Venue) -> Self {
        Self {
            name: name.into(),
            venue,
            max_age: Duration::from_secs(7 * 86_400),
            max_bytes: 1 << 30,
            duplicate_window: Duration::from_secs(600),
        }
    }

    /// Checks the settings before any request: the name's characters, positive limits.
    pub fn validate(&self) -> Result<(), NatsError> {
        let refuse = |field, value: String, reason: &str| NatsError::InvalidOption {
            field,
            value,
            reason: reason.to_owned(),
        };
        if self.name.is_empty()
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(refuse(
                "stream",
                self.name.clone(),
                "must be letters, digits, `-` or `_`",
            ));
        }
        if self.max_bytes == 0 || self.max_bytes < -1 {
            return Err(refuse(
                "max_bytes",
                self.max_bytes.to_string(),
                "must be > 0 (or -1 for no limit)",
            ));
        }
        if self.duplicate_window.is_zero() {
            return Err(refuse(
                "duplicate_window",
                format!("{:?}", self.duplicate_window),
                "must be > 0",
            ));
        }
        if !self.max_age.is_zero() && self.duplicate_window > self.max_age {
            return Err(refuse(
                "duplicate_window",
                format!("{:?}", self.duplicate_window),
                "must not exceed max_age",
            ));
        }
        Ok(())
    }

    /// The subject filter the stream captures: `md.<venue>.>`.
    pub fn subjects(&self) -> String {
        venue_filter(&self.venue)
    }

    /// Creates the stream, or updates an existing one's limits; an existing stream that does
    /// not capture this venue's subjects is refused rather than changed.
    pub async fn ensure(&self, js: &jetstream::Context) -> Result<stream::Stream, NatsError> {
        self.validate()?;
        let what = format!("stream {}", self.name);
        let subjects = self.subjects();
        match js.get_stream(&self.name).await {
            Ok(mut existing) => {
                let info = existing
                    .info()
                    .await
                    .map_err(|e| NatsError::jetstream(format!("info of {what}"), e))?;
                let mut config = info.config.clone();
                if !config.subjects.contains(&subjects) {
                    return Err(NatsError::JetStream {
                        what,
                        message: format!(
                            "exists with subjects {:?}, not {subjects:?}; use another stream name",
                            config.subjects
                        ),
                    });
                }
                let limits = (self.max_age, self.max_bytes, self.duplicate_window);
                if (config.max_age, config.max_bytes, config.duplicate_window) != limits {
                    config.max_age = self.max_age;
                    config.max_bytes = self.max_bytes;
                    config.duplicate_window = self.duplicate_window;
                    js.update_stream(config)
                        .await
                        .map_err(|e| NatsError::jetstream(format!("update {what}"), e))?;
                }
                Ok(existing)
            }
            Err(e) if is_not_found(&e) => js
                .create_stream(stream::Config {
                    name: self.name.clone(),
                    subjects: vec![subjects],
                    max_age: self.max_age,
                    max_bytes: self.max_bytes,
                    duplicate_window: self.duplicate_window,
                    storage: stream::StorageType::File,
                    discard: stream::DiscardPolicy::Old,
                    ..Default::default()
                })
                .await
                .map_err(|e| NatsError::jetstream(format!("create {what}"), e)),
            Err(e) => Err(NatsError::jetstream(format!("look up {what}"), e)),
        }
    }
}

/// Whether the server answered that the stream does not exist.
fn is_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(
        e.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(inner)
            if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

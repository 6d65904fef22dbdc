//! `[market_data]`: a paper or live bot takes its market data from a `rustrade relay`'s NATS
//! JetStream stream instead of connecting to the venue itself.

use rustrade_core::{Timestamp, Venue};

use super::raw::RawMarketData;
use super::{ConfigError, Source};

/// Where a bot without a sequence of its own starts reading the stream.
#[cfg_attr(
    not(feature = "nats"),
    allow(dead_code, reason = "read by the NATS source only")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamStart {
    /// `"new"`: only events published after the bot connects.
    New,
    /// `"all"`: everything the stream holds.
    All,
    /// `"after-sequence:N"`: the events after stream sequence N.
    AfterSequence(u64),
    /// An RFC 3339 time: the events newer than it (the last closed bar the bot saw).
    AfterTime(Timestamp),
}

/// The validated `[market_data]` table.
#[cfg_attr(
    not(feature = "nats"),
    allow(dead_code, reason = "read by the NATS source only")
)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MarketDataSection {
    /// The NATS server, `nats://host:port`.
    pub(crate) nats_url: String,
    /// The relay's stream.
    pub(crate) stream: String,
    /// The venue whose subjects the bot reads (`md.<venue>.>`).
    pub(crate) venue: Venue,
    /// Where the first connect starts.
    pub(crate) start: StreamStart,
    /// Finish once every event the stream held at connect time is delivered (a paper run over
    /// a recorded stream ends like a file replay).
    pub(crate) stop_when_caught_up: bool,
}

impl MarketDataSection {
    /// Validates `raw`; each error names the key and the value.
    pub(crate) fn from_raw(src: &Source<'_>, raw: &RawMarketData) -> Result<Self, ConfigError> {
        if cfg!(not(feature = "nats")) {
            return Err(src.error(
                "market_data",
                "this rustrade was built without the `nats` feature, which [market_data] needs",
            ));
        }
        let url = raw.nats_url.trim();
        if !(url.starts_with("nats://") || url.starts_with("tls://")) || url.contains('@') {
            return Err(src.error(
                "market_data.nats_url",
                format!(
                    "must be nats://host:port or tls://host:port without credentials (got {url:?})"
                ),
            ));
        }
        let stream = raw.stream.trim();
        if stream.is_empty()
            || !stream
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(src.error(
                "market_data.stream",
                format!("must be letters, digits, `-` or `_` (got {stream:?})"),
            ));
        }
        let venue = Venue::new(raw.venue.as_deref().unwrap_or("binance"))
            .map_err(|e| src.error("market_data.venue", super::strip_field(&e.to_string())))?;
        let start = parse_start(raw.start.as_deref().unwrap_or("new"))
            .map_err(|m| src.error("market_data.start", m))?;
        Ok(Self {
            nats_url: url.to_owned(),
            stream: stream.to_owned(),
            venue,
            start,
            stop_when_caught_up: raw.stop_when_caught_up,
        })
    }
}

fn parse_start(text: &str) -> Result<StreamStart, String> {
    let t = text.trim();
    match t {
        "new" => return Ok(StreamStart::New),
        "all" => return Ok(StreamStart::All),
        _ => {}
    }
    if let Some(n) = t.strip_prefix("after-sequence:") {
        return n
            .trim()
            .parse()
            .map(StreamStart::AfterSequence)
            .map_err(|_| format!("after-sequence: needs a whole number (got {text:?})"));
    }
    Timestamp::parse_rfc3339(t)
        .map(StreamStart::AfterTime)
        .map_err(|_| {
            format!(
                "expected \"new\", \"all\", \"after-sequence:N\" or an RFC 3339 time (got {text:?})"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_forms() {
        assert_eq!(parse_start("new"), Ok(StreamStart::New));
        assert_eq!(parse_start("all"), Ok(StreamStart::All));
        assert_eq!(
            parse_start("after-sequence:42"),
            Ok(StreamStart::AfterSequence(42))
        );
        assert_eq!(
            parse_start("2024-01-01T00:00:00Z"),
            Ok(StreamStart::AfterTime(
                Timestamp::from_secs(1_704_067_200).unwrap()
            ))
        );
        let e = parse_start("yesterday").unwrap_err();
        assert!(e.contains("\"yesterday\""), "{e}");
        assert!(parse_start("after-sequence:x").is_err());
    }
}

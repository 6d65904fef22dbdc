//! The config file of `rustrade relay`: which venue source to read once, and the NATS stream
//! to publish it to.
//!
//! ```toml
//! [relay]
//! nats_url = "nats://127.0.0.1:4222"
//! stream = "md"
//! symbols = ["BTCUSDT"]     # with [venue]; a file replay relays its [[market]] symbols
//!
//! [venue]                   # the venue's public kline stream, as for `rustrade paper`
//! exchange = "binance"
//! ```
//!
//! or, instead of `[venue]`, `[[market]]` tables as a backtest's (a recorded file replayed
//! onto the stream, at `[relay] speed`). `[relay] ops_listen = "127.0.0.1:9185"` serves the
//! relay's health and metrics over HTTP. Errors name the file, line, key and value.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustrade_core::{Symbol, Venue};

use super::raw::{RawMarket, RawVenue};
use super::{ConfigError, Market, Origin, Source, VenueSection, market, parse_duration};
use crate::paper::replay::Speed;

/// A validated relay config.
#[derive(Debug, Clone)]
pub(crate) struct RelayFile {
    /// The file it came from.
    pub(crate) path: PathBuf,
    /// The NATS server.
    pub(crate) nats_url: String,
    /// The stream's name.
    pub(crate) stream: String,
    /// The venue token of the subjects (`md.<venue>.>`).
    pub(crate) venue: Venue,
    /// The symbols relayed.
    pub(crate) symbols: Vec<Symbol>,
    /// The stream's age limit.
    pub(crate) max_age: Duration,
    /// The stream's size limit in bytes.
    pub(crate) max_bytes: i64,
    /// How long the stream remembers message ids.
    pub(crate) duplicate_window: Duration,
    /// How often the relay logs its health.
    pub(crate) status_interval: Duration,
    /// What is relayed.
    pub(crate) source: RelaySource,
    /// Where the read-only health and metrics endpoint listens, if anywhere.
    pub(crate) ops_listen: Option<std::net::SocketAddr>,
}

/// What a relay reads.
#[derive(Debug, Clone)]
pub(crate) enum RelaySource {
    /// The `[venue]` table's public kline stream.
    Venue(VenueSection),
    /// The `[[market]]` files, replayed at this speed.
    Files(Vec<Market>, Speed),
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelayFile {
    relay: RawRelay,
    #[serde(default)]
    venue: Option<RawVenue>,
    #[serde(default)]
    market: Vec<RawMarket>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelay {
    nats_url: String,
    stream: String,
    #[serde(default)]
    venue: Option<String>,
    #[serde(default)]
    symbols: Option<Vec<String>>,
    #[serde(default)]
    max_age: Option<String>,
    #[serde(default)]
    max_bytes: Option<i64>,
    #[serde(default)]
    duplicate_window: Option<String>,
    #[serde(default)]
    speed: Option<String>,
    #[serde(default)]
    status_interval: Option<String>,
    #[serde(default)]
    ops_listen: Option<String>,
}

impl RelayFile {
    /// Reads, parses and validates `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
        let raw: RawRelayFile = super::parse_as(path, &text)?;
        let src = Source {
            path,
            text: &text,
            flags: Vec::new(),
        };
        Self::from_raw(&src, &raw)
    }

    fn from_raw(src: &Source<'_>, raw: &RawRelayFile) -> Result<Self, ConfigError> {
        let r = &raw.relay;
        let url = r.nats_url.trim();
        if !(url.starts_with("nats://") || url.starts_with("tls://")) || url.contains('@') {
            return Err(src.error(
                "relay.nats_url",
                format!(
                    "must be nats://host:port or tls://host:port without credentials (got {url:?})"
                ),
            ));
        }
        let duration = |key: &str, text: &Option<String>, default: Duration| match text {
            Some(t) => parse_duration(t).map_err(|m| src.error(key, m)),
            None => Ok(default),
        };
        let max_age = duration("relay.max_age", &r.max_age, Duration::from_secs(7 * 86_400))?;
        let duplicate_window = duration(
            "relay.duplicate_window",
            &r.duplicate_window,
            Duration::from_secs(600),
        )?;
        let status_interval = duration(
            "relay.status_interval",
            &r.status_interval,
            Duration::from_secs(30),
        )?;
        let max_bytes = r.max_bytes.unwrap_or(1 << 30);
        if max_bytes <= 0 {
            return Err(src.error("relay.max_bytes", format!("must be > 0 (got {max_bytes})")));
        }
        let (source, symbols, venue) = match (&raw.venue, raw.market.is_empty()) {
            (Some(_), false) => {
                return Err(src.error(
                    "venue",
                    "give either [venue] (the live stream) or [[market]] files, not both",
                ));
            }
            (None, true) => {
                return Err(ConfigError::new(
                    Origin::file(src.path, None),
                    Some("relay".into()),
                    "nothing to relay: add a [venue] table or [[market]] files",
                ));
            }
            (Some(v), true) => {
                let section = VenueSection::from_raw(src, v)?;
                if let Some(name) = &r.venue
                    && name != "binance"
                {
                    return Err(src.error(
                        "relay.venue",
                        format!("the Binance source's events are venue \"binance\" (got {name:?})"),
                    ));
                }
                let Some(names) = &r.symbols else {
                    return Err(src.error(
                        "relay",
                        "symbols = [\"BTCUSDT\", ...] names what the [venue] stream relays",
                    ));
                };
                let mut symbols = Vec::with_capacity(names.len());
                for name in names {
                    symbols.push(Symbol::new(name).map_err(|e| {
                        src.error("relay.symbols", super::strip_field(&e.to_string()))
                    })?);
                }
                if symbols.is_empty() {
                    return Err(src.error("relay.symbols", "names no symbol"));
                }
                let venue =
                    Venue::new("binance").map_err(|e| src.error("relay.venue", e.to_string()))?;
                (RelaySource::Venue(section), symbols, venue)
            }
            (None, false) => {
                if r.symbols.is_some() {
                    return Err(src.error(
                        "relay.symbols",
                        "a file replay relays its [[market]] symbols; remove this key",
                    ));
                }
                let venue = Venue::new(r.venue.as_deref().unwrap_or("binance"))
                    .map_err(|e| src.error("relay.venue", super::strip_field(&e.to_string())))?;
                let base = src.path.parent().unwrap_or(Path::new("")).to_owned();
                let mut markets = Vec::with_capacity(raw.market.len());
                for (i, m) in raw.market.iter().enumerate() {
                    let mut parsed =
                        market(src, i, m, base.join(&m.file), m.file.display().to_string())?;
                    parsed.csv = parsed.csv.venue(venue);
                    markets.push(parsed);
                }
                let speed = match &r.speed {
                    Some(t) => t.parse().map_err(|m: String| src.error("relay.speed", m))?,
                    None => Speed::Max,
                };
                let symbols = markets.iter().map(|m| m.spec.symbol()).collect();
                (RelaySource::Files(markets, speed), symbols, venue)
            }
        };
        let stream = r.stream.trim();
        if stream.is_empty()
            || !stream
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(src.error(
                "relay.stream",
                format!("must be letters, digits, `-` or `_` (got {stream:?})"),
            ));
        }
        let ops_listen = match &r.ops_listen {
            Some(text) => Some(text.trim().parse().map_err(|_| {
                src.error(
                    "relay.ops_listen",
                    format!("expected an address and port like \"127.0.0.1:9185\" (got {text:?})"),
                )
            })?),
            None => None,
        };
        Ok(Self {
            path: src.path.to_owned(),
            nats_url: url.to_owned(),
            ops_listen,
            stream: stream.to_owned(),
            venue,
            symbols,
            max_age,
            max_bytes,
            duplicate_window,
            status_interval,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<RelayFile, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bars.csv"),
            "time,open,high,low,close,volume\n",
        )
        .unwrap();
        let path = dir.path().join("relay.toml");
        std::fs::write(&path, text).unwrap();
        RelayFile::load(&path)
    }

    #[test]
    fn a_file_replay_relays_its_markets_on_the_named_venue() {
        let r = load(
            "[relay]\nnats_url = \"nats://127.0.0.1:4222\"\nstream = \"md\"\nvenue = \"rec\"\n\
             [[market]]\nsymbol = \"BTCUSDT\"\nfile = \"bars.csv\"\n",
        )
        .unwrap();
        assert_eq!(r.venue, "rec");
        assert_eq!(r.symbols, [Symbol::new("BTCUSDT").unwrap()]);
        assert!(matches!(r.source, RelaySource::Files(_, Speed::Max)));
        assert_eq!(r.max_age, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn errors_name_file_line_key_and_value() {
        let e = load(
            "[relay]\nnats_url = \"http://x\"\nstream = \"md\"\n[venue]\nexchange = \"binance\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.ends_with(":2: relay.nats_url: must be nats://host:port or tls://host:port without credentials (got \"http://x\")"), "{e}");
        let e = load("[relay]\nnats_url = \"nats://h:1\"\nstream = \"m.d\"\n[venue]\nexchange = \"binance\"\nsymbols = []\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("venue.symbols") || e.contains("unknown field"),
            "{e}"
        );
        let e = load("[relay]\nnats_url = \"nats://h:1\"\nstream = \"m.d\"\nsymbols = [\"BTCUSDT\"]\n[venue]\nexchange = \"binance\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":3: relay.stream: must be letters"), "{e}");
        let e = load("[relay]\nnats_url = \"nats://h:1\"\nstream = \"md\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("nothing to relay"), "{e}");
        let e = load("[relay]\nnats_url = \"nats://h:1\"\nstream = \"md\"\nmax_age = \"soon\"\n[venue]\nexchange = \"binance\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":4: relay.max_age:"), "{e}");
        let e = load("[relay]\nnats_url = \"nats://h:1\"\nstream = \"md\"\nops_listen = \"port 80\"\n[[market]]\nsymbol = \"BTCUSDT\"\nfile = \"bars.csv\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":4: relay.ops_listen: expected an address and port like \"127.0.0.1:9185\" (got \"port 80\")"), "{e}");
        let r = load("[relay]\nnats_url = \"nats://h:1\"\nstream = \"md\"\nops_listen = \"127.0.0.1:9185\"\n[[market]]\nsymbol = \"BTCUSDT\"\nfile = \"bars.csv\"\n")
            .unwrap();
        assert_eq!(r.ops_listen, Some("127.0.0.1:9185".parse().unwrap()));
    }
}

//! [`BinanceMarkPriceStream`]: USD-M futures mark price, index price and funding rate as typed
//! [`MarkPrice`] updates, over the `<symbol>@markPrice@1s` streams of the `/market` route.
//!
//! Core's market events have no mark-price or funding variant, so these come from a stream of
//! their own beside [`BinanceMarketSource`](crate::BinanceMarketSource); the latest update per
//! symbol is kept ([`BinanceMarkPriceStream::latest`]).
//!
//! - **Liveness.** Pings are answered; no frame for `silence` means a dead connection, which is
//!   dropped and reopened; a connection older than `max_age` is replaced before Binance's
//!   24-hour cut.
//! - **Reconnect** with jittered exponential [`Backoff`] and the same subscriptions; after
//!   `max_attempts` consecutive failures [`next_mark`](BinanceMarkPriceStream::next_mark)
//!   returns the error. Nothing is backfilled: a mark price is a state, and the next update
//!   (every second) replaces any missed.
//! - A malformed message is an error naming its field (the connection is dropped and the next
//!   call reconnects), never a panic.

use std::collections::HashMap;
use std::time::Duration;

use rustrade_core::Symbol;

use crate::BinanceError;
use crate::parse::{MarkPrice, parse_mark_price};
use crate::ws::{Backoff, BackoffState, Link, now_instant, open, reconnect};

/// Most streams one connection may carry.
const MAX_STREAMS: usize = 1024;

/// What a [`BinanceMarkPriceStream`] subscribes to, and how it keeps the connection healthy.
#[derive(Debug, Clone)]
pub struct MarkPriceConfig {
    /// Futures streams base (`wss://fstream.binance.com`); `/market/stream?streams=…` is
    /// appended.
    pub streams_url: String,
    /// The contracts.
    pub symbols: Vec<Symbol>,
    /// Updates every second (`@markPrice@1s`) rather than every 3 seconds (`@markPrice`).
    pub every_second: bool,
    /// No frame for this long means a dead connection.
    pub silence: Duration,
    /// A connection this old is replaced.
    pub max_age: Duration,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
    /// Consecutive failed reconnections before `next_mark` gives up with the error.
    pub max_attempts: u32,
}

impl MarkPriceConfig {
    /// Updates every second for `symbols` from `streams_url`, 30 s of silence allowed,
    /// connections replaced after 23 h 50 min, 20 reconnection attempts.
    pub fn new(streams_url: impl Into<String>, symbols: impl IntoIterator<Item = Symbol>) -> Self {
        Self {
            streams_url: streams_url.into(),
            symbols: symbols.into_iter().collect(),
            every_second: true,
            silence: Duration::from_secs(30),
            max_age: Duration::from_secs(23 * 3_600 + 50 * 60),
            backoff: Backoff::default(),
            max_attempts: 20,
        }
    }
}

/// Mark prices and funding of USD-M futures contracts (see the module doc).
///
/// ```no_run
/// use rustrade_binance::{BinanceMarkPriceStream, MarkPriceConfig};
/// use rustrade_core::Symbol;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = MarkPriceConfig::new("wss://fstream.binancefuture.com", [Symbol::new("BTCUSDT")?]);
/// let mut marks = BinanceMarkPriceStream::new(config)?;
/// marks.connect().await?;
/// let m = marks.next_mark().await?;
/// println!("{} mark {} funding {}", m.symbol, m.mark.get(), m.funding_rate);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BinanceMarkPriceStream {
    config: MarkPriceConfig,
    url: String,
    link: Link,
    opened: tokio::time::Instant,
    backoff: BackoffState,
    latest: HashMap<Symbol, MarkPrice>,
    reconnects: u64,
}

impl BinanceMarkPriceStream {
    /// A stream with `config`; refuses no symbols and more streams than one connection carries.
    pub fn new(config: MarkPriceConfig) -> Result<Self, BinanceError> {
        if config.symbols.is_empty() {
            return Err(BinanceError::Config(
                "mark price stream: no symbols to subscribe to".into(),
            ));
        }
        if config.symbols.len() > MAX_STREAMS {
            return Err(BinanceError::Config(format!(
                "{} mark price streams exceed Binance's {MAX_STREAMS} per connection",
                config.symbols.len()
            )));
        }
        let suffix = if config.every_second { "@1s" } else { "" };
        let names: Vec<String> = config
            .symbols
            .iter()
            .map(|s| format!("{}@markPrice{suffix}", s.as_str().to_ascii_lowercase()))
            .collect();
        let url = format!(
            "{}/market/stream?streams={}",
            config.streams_url.trim_end_matches('/'),
            names.join("/")
        );
        Ok(Self {
            backoff: BackoffState::new(config.backoff.clone()),
            config,
            url,
            link: Link::new("mark price stream"),
            opened: now_instant(),
            latest: HashMap::new(),
            reconnects: 0,
        })
    }

    /// Opens the connection (again, if open).
    pub async fn connect(&mut self) -> Result<(), BinanceError> {
        self.link.drop_connection();
        let ws = open(&self.url, "mark price stream").await?;
        self.link.connect(ws);
        self.opened = now_instant();
        Ok(())
    }

    /// The next update, reconnecting as the module doc says.
    pub async fn next_mark(&mut self) -> Result<MarkPrice, BinanceError> {
        loop {
            if !self.link.is_connected() {
                self.reconnect().await?;
            } else if now_instant().duration_since(self.opened) >= self.config.max_age {
                tracing::info!(
                    "binance mark price stream: replacing a connection near its 24 h limit"
                );
                self.link.drop_connection();
                continue;
            }
            let text = match tokio::time::timeout(self.config.silence, self.link.next_text()).await
            {
                Err(_) => {
                    tracing::warn!(silence = ?self.config.silence, "binance mark price stream silent: reconnecting");
                    self.link.drop_connection();
                    continue;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "binance mark price stream ended: reconnecting");
                    continue;
                }
                Ok(Ok(text)) => text,
            };
            match parse_mark_price(text.as_bytes()) {
                Ok(Some(m)) => {
                    self.latest.insert(m.symbol, m);
                    return Ok(m);
                }
                Ok(None) => {}
                Err(e) => {
                    self.link.drop_connection();
                    return Err(e.into());
                }
            }
        }
    }

    /// The latest update of `symbol`, if one came.
    pub fn latest(&self, symbol: &Symbol) -> Option<&MarkPrice> {
        self.latest.get(symbol)
    }

    /// Successful reconnections so far.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The subscription URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn reconnect(&mut self) -> Result<(), BinanceError> {
        let max = self.config.max_attempts;
        reconnect(
            self,
            "mark price stream",
            |s| &mut s.backoff,
            max,
            async |s| s.connect().await,
        )
        .await?;
        self.reconnects += 1;
        Ok(())
    }
}

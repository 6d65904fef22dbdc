//! [`BinanceMarketSource`]: Spot or USD-M futures market data as a [`MarketSource`] over one
//! combined-stream WebSocket (`/stream?streams=a/b/…`, or a futures route: see
//! [`StreamRoute`]), keyless.
//!
//! # Guarantees
//!
//! - **Every closed bar once.** Klines are published only when closed; after any reconnect the
//!   bars closed meanwhile are fetched over REST (`/api/v3/klines` from the last published
//!   bar's open time) and published first, in time order; a bar at or before the last
//!   published one of its symbol is dropped, so the stream's replay of a bar already
//!   backfilled is not published twice.
//! - **Liveness.** The server's pings are answered (tungstenite queues the pong; we flush it at
//!   once). No frame for `silence` means a dead connection: it is dropped and reopened. A
//!   connection older than `max_age` is replaced before Binance's 24-hour cut.
//! - **Reconnect** with jittered exponential [`Backoff`] and the same subscriptions;
//!   after `max_attempts` consecutive failures `next_event` returns the error and the
//!   supervisor takes over (its `connect` resubscribes and backfills the same way).
//! - **Resume after a restart.** [`MarketSource::resume_after`] seeds the same backfill with
//!   the bars the bot saw before it stopped, so the first `connect` publishes the bars closed
//!   while it was down (klines only; up to one klines request of 1 000 bars per symbol).
//! - A malformed message is an error (the connection is dropped, and the next call reconnects
//!   and backfills), never a panic and never a silently skipped bar.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustrade_core::{ExchangeError, MarketEvent, MarketSource, Symbol, Timestamp, Venue};
use tokio_tungstenite::tungstenite::Message;

use crate::clock::wall_clock_ms;
use crate::parse::{parse_kline_row, parse_market_message};
use crate::ws::{Backoff, BackoffState, Ws, now_instant, open, reconnect};
use crate::{BinanceError, Endpoints};

/// Which family of stream paths a connection uses. Futures streams are routed by kind, and a
/// stream on the wrong route silently delivers nothing, so one connection carries one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamRoute {
    /// Spot: `/stream?streams=…`, any stream; backfill from `/api/v3/klines`.
    Spot,
    /// USD-M futures `/public/stream`: `bookTicker` only.
    UsdmPublic,
    /// USD-M futures `/market/stream`: klines and `aggTrade`; backfill from `/fapi/v1/klines`.
    UsdmMarket,
}

/// Most streams one connection may carry.
const MAX_STREAMS: usize = 1024;

/// What to subscribe to per symbol, and how to keep the connection healthy.
#[derive(Debug, Clone)]
pub struct MarketConfig {
    /// Streams base URL (`wss://data-stream.binance.vision`).
    pub streams_url: String,
    /// REST base for kline backfill (`https://data-api.binance.vision`).
    pub rest_url: String,
    /// Kline interval text (`1m`, `1h`, …); `None` subscribes to no klines.
    pub kline_interval: Option<String>,
    /// Subscribe to `@bookTicker` (top of book).
    pub book_ticker: bool,
    /// Subscribe to `@trade` (public trades).
    pub trades: bool,
    /// No frame for this long means the connection is dead.
    pub silence: Duration,
    /// Replace a connection this old (Binance closes them at 24 h).
    pub max_age: Duration,
    /// Delays between reconnection attempts.
    pub backoff: Backoff,
    /// Consecutive failed reconnections before `next_event` returns the error.
    pub max_attempts: u32,
    /// The path family (Spot, or one of the futures routes).
    pub route: StreamRoute,
}

impl MarketConfig {
    /// Closed 1-minute klines from `endpoints`, with default liveness settings.
    pub fn klines(endpoints: &Endpoints, interval: &str) -> Self {
        Self {
            streams_url: endpoints.streams.clone(),
            rest_url: endpoints.rest.clone(),
            kline_interval: Some(interval.to_owned()),
            book_ticker: false,
            trades: false,
            silence: Duration::from_secs(30),
            max_age: Duration::from_secs(23 * 3_600 + 50 * 60),
            backoff: Backoff::default(),
            max_attempts: 20,
            route: StreamRoute::Spot,
        }
    }

    /// Closed USD-M futures klines (`/market` route, `/fapi/v1/klines` backfill).
    pub fn usdm_klines(endpoints: &Endpoints, interval: &str) -> Self {
        Self {
            route: StreamRoute::UsdmMarket,
            ..Self::klines(endpoints, interval)
        }
    }

    /// USD-M futures top of book (`/public` route); no klines, so nothing to backfill.
    pub fn usdm_book_ticker(endpoints: &Endpoints) -> Self {
        Self {
            route: StreamRoute::UsdmPublic,
            kline_interval: None,
            book_ticker: true,
            ..Self::klines(endpoints, "1m")
        }
    }
}

/// Binance market data as a [`MarketSource`] (see the module doc for its guarantees).
#[derive(Debug)]
pub struct BinanceMarketSource {
    config: MarketConfig,
    venue: Venue,
    http: reqwest::Client,
    ws: Option<WsConn>,
    symbols: Vec<Symbol>,
    last_bar: HashMap<Symbol, Timestamp>,
    pending: VecDeque<MarketEvent>,
    backoff: BackoffState,
    reconnects: u64,
}

struct WsConn {
    ws: Ws,
    opened: tokio::time::Instant,
}

impl std::fmt::Debug for WsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WsConn")
    }
}

impl BinanceMarketSource {
    /// A source with `config`; nothing is opened until `connect`.
    pub fn new(config: MarketConfig) -> Result<Self, BinanceError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| BinanceError::Config(format!("HTTP client: {e}")))?;
        let backoff = BackoffState::new(config.backoff.clone());
        Ok(Self {
            config,
            venue: Venue::new("binance")?,
            http,
            ws: None,
            symbols: Vec::new(),
            last_bar: HashMap::new(),
            pending: VecDeque::new(),
            backoff,
            reconnects: 0,
        })
    }

    /// Reconnections made since creation (for health and metrics).
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The combined-stream URL for the current symbols.
    pub fn stream_url(&self) -> Result<String, BinanceError> {
        let mut names = Vec::new();
        for s in &self.symbols {
            let s = s.as_str().to_ascii_lowercase();
            if let Some(i) = &self.config.kline_interval {
                names.push(format!("{s}@kline_{i}"));
            }
            if self.config.book_ticker {
                names.push(format!("{s}@bookTicker"));
            }
            if self.config.trades {
                let trade = match self.config.route {
                    StreamRoute::Spot => "trade",
                    StreamRoute::UsdmPublic | StreamRoute::UsdmMarket => "aggTrade",
                };
                names.push(format!("{s}@{trade}"));
            }
        }
        let c = &self.config;
        let misrouted = match c.route {
            StreamRoute::Spot => false,
            StreamRoute::UsdmPublic => c.kline_interval.is_some() || c.trades,
            StreamRoute::UsdmMarket => c.book_ticker,
        };
        if misrouted {
            return Err(BinanceError::Config(format!(
                "futures route {:?} cannot carry these streams (bookTicker is on /public, \
                 klines and trades on /market): use one source per route",
                c.route
            )));
        }
        if names.is_empty() {
            return Err(BinanceError::Config("no streams to subscribe to".into()));
        }
        if names.len() > MAX_STREAMS {
            return Err(BinanceError::Config(format!(
                "{} streams exceed Binance's {MAX_STREAMS} per connection",
                names.len()
            )));
        }
        let path = match self.config.route {
            StreamRoute::Spot => "/stream",
            StreamRoute::UsdmPublic => "/public/stream",
            StreamRoute::UsdmMarket => "/market/stream",
        };
        Ok(format!(
            "{}{path}?streams={}",
            self.config.streams_url.trim_end_matches('/'),
            names.join("/")
        ))
    }

    async fn open_and_backfill(&mut self) -> Result<(), BinanceError> {
        let url = self.stream_url()?;
        let ws = open(&url, "market streams").await?;
        self.ws = Some(WsConn {
            ws,
            opened: now_instant(),
        });
        self.backfill().await
    }

    /// Queues the bars closed since the last published one of each symbol.
    async fn backfill(&mut self) -> Result<(), BinanceError> {
        let Some(interval) = self.config.kline_interval.clone() else {
            return Ok(());
        };
        let now = Timestamp::from_millis(wall_clock_ms())?;
        let mut found = Vec::new();
        for (symbol, last) in &self.last_bar {
            let path = match self.config.route {
                StreamRoute::Spot => "/api/v3/klines",
                StreamRoute::UsdmPublic | StreamRoute::UsdmMarket => "/fapi/v1/klines",
            };
            let url = format!(
                "{}{path}?symbol={symbol}&interval={interval}&startTime={}&limit=1000",
                self.config.rest_url.trim_end_matches('/'),
                last.as_millis() + 1
            );
            let what = || format!("GET klines {symbol}");
            let resp = self
                .http
                .get(url)
                .send()
                .await
                .map_err(|e| BinanceError::Transport {
                    what: what(),
                    source: e,
                })?;
            let body = resp.bytes().await.map_err(|e| BinanceError::Transport {
                what: what(),
                source: e,
            })?;
            let rows: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| BinanceError::decode("klines", &body, e))?;
            let Some(rows) = rows.as_array() else {
                return Err(BinanceError::decode(
                    "klines",
                    &body,
                    serde::de::Error::custom("expected an array"),
                ));
            };
            for row in rows {
                if let Some(e) = parse_kline_row(row, *symbol, self.venue, now)? {
                    found.push(e);
                }
            }
        }
        found.sort_by_key(|e| e.time);
        self.pending.extend(found);
        Ok(())
    }

    /// Reopens the connection, backing off between failures.
    async fn reconnect(&mut self) -> Result<(), BinanceError> {
        self.ws = None;
        let max = self.config.max_attempts;
        reconnect(
            self,
            "market stream",
            |s| &mut s.backoff,
            max,
            async |s| s.open_and_backfill().await,
        )
        .await?;
        self.reconnects += 1;
        Ok(())
    }

    /// Whether `e` is new: a bar at or before the last published one is a replay.
    fn accept(&mut self, e: &MarketEvent) -> bool {
        let Some(c) = e.as_candle() else {
            return true;
        };
        let last = self.last_bar.entry(e.symbol).or_insert(Timestamp::MIN);
        if c.open_time() <= *last {
            return false;
        }
        *last = c.open_time();
        true
    }

    async fn next(&mut self) -> Result<Option<MarketEvent>, BinanceError> {
        loop {
            while let Some(e) = self.pending.pop_front() {
                if self.accept(&e) {
                    return Ok(Some(e));
                }
            }
            let Some(conn) = self.ws.as_mut() else {
                self.reconnect().await?;
                continue;
            };
            if now_instant().duration_since(conn.opened) >= self.config.max_age {
                tracing::info!("binance market stream: replacing a connection near its 24 h limit");
                self.reconnect().await?;
                continue;
            }
            let frame = tokio::time::timeout(self.config.silence, conn.ws.next()).await;
            let msg = match frame {
                Err(_) => {
                    tracing::warn!(silence = ?self.config.silence, "binance market stream silent: reconnecting");
                    self.reconnect().await?;
                    continue;
                }
                Ok(None) | Ok(Some(Err(_))) => {
                    self.reconnect().await?;
                    continue;
                }
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(text) => {
                    let now = Timestamp::from_millis(wall_clock_ms())?;
                    match parse_market_message(text.as_bytes(), self.venue, now) {
                        Ok(Some(e)) if self.accept(&e) => return Ok(Some(e)),
                        Ok(_) => {}
                        Err(e) => {
                            self.ws = None;
                            return Err(e.into());
                        }
                    }
                }
                Message::Ping(_) => {
                    // The pong is queued by tungstenite; send it now rather than on the next read.
                    let _ = conn.ws.flush().await;
                }
                Message::Close(_) => self.ws = None,
                _ => {}
            }
        }
    }
}

#[async_trait::async_trait]
impl MarketSource for BinanceMarketSource {
    fn name(&self) -> &str {
        "binance-market"
    }

    async fn connect(&mut self, symbols: &[Symbol]) -> Result<(), ExchangeError> {
        self.symbols = symbols.to_vec();
        self.pending.clear();
        self.ws = None;
        Ok(self.open_and_backfill().await?)
    }

    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
        Ok(self.next().await?)
    }

    /// Klines only: the next `connect` backfills, over REST, every bar closing after each
    /// symbol's time (up to the 1 000 bars one klines request returns), as after a reconnect.
    /// Book tickers and trades are live only.
    fn resume_after(&mut self, through: &[(Symbol, Timestamp)]) -> bool {
        if self.config.kline_interval.is_none() || through.is_empty() {
            return false;
        }
        for (symbol, closed) in through {
            // A bar's event time is its close, one interval after its open: the bar closing at
            // `closed` opened at least an interval earlier, and the next one opens at `closed`.
            let last_open = closed.saturating_sub(Duration::from_millis(1));
            self.last_bar.insert(*symbol, last_open);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_url_lists_every_stream_lowercase() {
        let mut c = MarketConfig::klines(&Endpoints::local("http://127.0.0.1:1"), "1m");
        c.book_ticker = true;
        let mut s = BinanceMarketSource::new(c).unwrap();
        assert!(s.stream_url().is_err());
        s.symbols = vec![
            Symbol::new("BTCUSDT").unwrap(),
            Symbol::new("ETHUSDT").unwrap(),
        ];
        assert_eq!(
            s.stream_url().unwrap(),
            "ws://127.0.0.1:1/stream?streams=btcusdt@kline_1m/btcusdt@bookTicker/ethusdt@kline_1m/ethusdt@bookTicker"
        );
    }

    #[test]
    fn futures_streams_use_their_routes_and_refuse_mixing() {
        let e = Endpoints::local("http://127.0.0.1:1");
        let btc = vec![Symbol::new("BTCUSDT").unwrap()];
        let mut k = MarketConfig::usdm_klines(&e, "1m");
        k.trades = true;
        let mut s = BinanceMarketSource::new(k.clone()).unwrap();
        s.symbols = btc.clone();
        assert_eq!(
            s.stream_url().unwrap(),
            "ws://127.0.0.1:1/market/stream?streams=btcusdt@kline_1m/btcusdt@aggTrade"
        );
        let mut s = BinanceMarketSource::new(MarketConfig::usdm_book_ticker(&e)).unwrap();
        s.symbols = btc.clone();
        assert_eq!(
            s.stream_url().unwrap(),
            "ws://127.0.0.1:1/public/stream?streams=btcusdt@bookTicker"
        );
        k.book_ticker = true;
        let mut s = BinanceMarketSource::new(k).unwrap();
        s.symbols = btc;
        let err = s.stream_url().unwrap_err().to_string();
        assert!(
            err.contains("UsdmMarket") && err.contains("bookTicker"),
            "{err}"
        );
    }
}

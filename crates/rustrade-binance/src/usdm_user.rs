//! [`BinanceUsdmUserStream`]: our USD-M futures order reports as a [`FillSource`], over a
//! listenKey stream on the private route.
//!
//! `connect` asks `POST /fapi/v1/listenKey` for a key (which also extends a live one) and opens
//! `<streams>/private/ws?listenKey=<key>&events=ORDER_TRADE_UPDATE/ALGO_UPDATE/ACCOUNT_UPDATE/listenKeyExpired`:
//! futures streams on the wrong route deliver nothing, silently. A key lives 60 minutes; every
//! `keepalive` (30 minutes by default) `PUT /fapi/v1/listenKey` extends it, while
//! `next_report` waits. A keep-alive answered `-1125` (the key is gone) or a `listenKeyExpired`
//! event ends `next_report` with [`ExchangeError::Closed`]: the supervisor reconnects (a new
//! key) and the engine catches up with `fills_since`, as after any (re)subscribe. A keep-alive
//! that fails otherwise is retried after `keepalive_retry`.
//!
//! A conditional order that fires places a regular order (`ALGO_UPDATE` names it in `ai`);
//! that order's reports are given our conditional order's client id, whatever id the venue
//! gave the order it placed, so its fills reach the order the engine knows.
//!
//! `ACCOUNT_UPDATE` events are kept: [`BinanceUsdmUserStream::account_positions`] is the
//! latest position per symbol the stream reported (amount, entry, unrealised PnL).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use rustrade_core::{
    Asset, ExchangeError, ExecutionReport, FillSource, Money, OrderId, Position, Symbol,
};

use crate::id_memory::IdMemory;
use crate::parse::{Obj, UsdmUserMessage, parse_usdm_user_message};
use crate::ws::{Link, now_instant, open};
use crate::{Auth, BinanceError, Call, RestClient};

/// The events asked of the private route.
const EVENTS: &str = "ORDER_TRADE_UPDATE/ALGO_UPDATE/ACCOUNT_UPDATE/listenKeyExpired";
/// `-1125`: the listenKey does not exist (expired or closed).
const LISTEN_KEY_GONE: i64 = -1125;

/// Settings of a [`BinanceUsdmUserStream`].
#[derive(Debug, Clone)]
pub struct UsdmUserConfig {
    /// Futures streams base (`wss://fstream.binance.com`); `/private/ws?…` is appended.
    pub streams_url: String,
    /// How often the listenKey is extended (it lives 60 minutes).
    pub keepalive: Duration,
    /// Delay before another try after a keep-alive that failed for a reason other than `-1125`.
    pub keepalive_retry: Duration,
    /// Quote asset per symbol: the fee asset of a fill sent with no `N`.
    pub quote_assets: HashMap<Symbol, Asset>,
}

impl UsdmUserConfig {
    /// Defaults for `streams_url`: keep-alive every 30 minutes, retried after 1 minute.
    pub fn new(streams_url: impl Into<String>) -> Self {
        Self {
            streams_url: streams_url.into(),
            keepalive: Duration::from_secs(30 * 60),
            keepalive_retry: Duration::from_secs(60),
            quote_assets: HashMap::new(),
        }
    }
}

/// USD-M futures user data over a listenKey (see the module doc).
#[derive(Debug)]
pub struct BinanceUsdmUserStream {
    config: UsdmUserConfig,
    rest: Arc<RestClient>,
    link: Link,
    next_keepalive: tokio::time::Instant,
    positions: HashMap<Symbol, Position>,
    wallets: HashMap<Asset, Money>,
    keepalives: u64,
    triggered: IdMemory,
}

impl BinanceUsdmUserStream {
    /// A stream with `config`, managing its listenKey through `rest` (the futures client's:
    /// `futures.rest()`).
    pub fn new(config: UsdmUserConfig, rest: Arc<RestClient>) -> Self {
        Self {
            config,
            rest,
            link: Link::new("futures user stream"),
            next_keepalive: now_instant(),
            positions: HashMap::new(),
            wallets: HashMap::new(),
            keepalives: 0,
            triggered: IdMemory::default(),
        }
    }

    /// The latest position per symbol reported by `ACCOUNT_UPDATE` (flat ones included).
    pub fn account_positions(&self) -> &HashMap<Symbol, Position> {
        &self.positions
    }

    /// The latest wallet balance per asset reported by `ACCOUNT_UPDATE`.
    pub fn wallet_balances(&self) -> &HashMap<Asset, Money> {
        &self.wallets
    }

    /// Keep-alives that extended the key so far.
    pub fn keepalives(&self) -> u64 {
        self.keepalives
    }

    /// `r` with our conditional order's client id when it is about an order a trigger placed.
    fn attribute(&self, mut r: ExecutionReport) -> ExecutionReport {
        let ours = |order_id: &OrderId| self.triggered.get(order_id);
        match &mut r {
            ExecutionReport::Fill(f) => {
                if let Some(c) = ours(&f.order_id) {
                    f.client_id = Some(c);
                }
            }
            ExecutionReport::Accepted {
                client_id,
                order_id,
                ..
            } => {
                if let Some(c) = ours(order_id) {
                    *client_id = c;
                }
            }
            ExecutionReport::Cancelled {
                client_id,
                order_id,
                ..
            }
            | ExecutionReport::Expired {
                client_id,
                order_id,
                ..
            } => {
                if let Some(c) = ours(order_id) {
                    *client_id = Some(c);
                }
            }
            ExecutionReport::Rejected { .. } => {}
        }
        r
    }

    async fn subscribe(&mut self) -> Result<(), BinanceError> {
        self.link.drop_connection();
        let call = Call::new(Method::POST, "/fapi/v1/listenKey", 1, Auth::Key);
        let v = self.rest.call(&call).await?;
        let key = Obj::root(&v)?.str("listenKey")?.to_owned();
        let url = format!(
            "{}/private/ws?listenKey={key}&events={EVENTS}",
            self.config.streams_url.trim_end_matches('/')
        );
        let ws = open(&url, "futures user data").await?;
        self.link.connect(ws);
        self.next_keepalive = now_instant() + self.config.keepalive;
        Ok(())
    }

    /// Extends the key; `Err(Closed)` when the venue says it is gone.
    async fn keepalive(&mut self) -> Result<(), BinanceError> {
        let call = Call::new(Method::PUT, "/fapi/v1/listenKey", 1, Auth::Key);
        match self.rest.call(&call).await {
            Ok(_) => {
                self.keepalives += 1;
                self.next_keepalive = now_instant() + self.config.keepalive;
                Ok(())
            }
            Err(e) if e.code() == Some(LISTEN_KEY_GONE) => Err(self
                .link
                .close("listenKey gone (-1125): reconnect with a new key, then catch up")),
            Err(e) => {
                tracing::warn!(error = %e, "binance futures listenKey keep-alive failed; retrying");
                self.next_keepalive = now_instant() + self.config.keepalive_retry;
                Ok(())
            }
        }
    }

    async fn next(&mut self) -> Result<Option<ExecutionReport>, BinanceError> {
        loop {
            let deadline = self.next_keepalive;
            let text = tokio::select! {
                t = self.link.next_text() => t?,
                () = tokio::time::sleep_until(deadline) => {
                    self.keepalive().await?;
                    continue;
                }
            };
            let quotes = &self.config.quote_assets;
            match parse_usdm_user_message(text.as_bytes(), &|s| quotes.get(s).copied())? {
                UsdmUserMessage::Report(r) => return Ok(Some(self.attribute(r))),
                UsdmUserMessage::AlgoTriggered {
                    client_id,
                    order_id,
                } => self.triggered.remember(order_id, client_id),
                UsdmUserMessage::Account(a) => {
                    self.positions.extend(a.positions);
                    self.wallets.extend(a.balances);
                }
                UsdmUserMessage::ListenKeyExpired => {
                    return Err(self
                        .link
                        .close("listenKeyExpired: reconnect with a new key, then catch up"));
                }
                _ => {}
            }
        }
    }
}

#[async_trait::async_trait]
impl FillSource for BinanceUsdmUserStream {
    fn name(&self) -> &str {
        "binance-usdm-user"
    }

    async fn connect(&mut self) -> Result<(), ExchangeError> {
        Ok(self.subscribe().await?)
    }

    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        Ok(self.next().await?)
    }
}

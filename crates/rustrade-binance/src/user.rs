//! [`BinanceUserStream`]: our Spot order reports as a [`FillSource`], over the WebSocket API
//! (the Spot listenKey is gone).
//!
//! `connect` opens the WebSocket API and subscribes: with an HMAC key by
//! `userDataStream.subscribe.signature` (works with any key type, no logon), with an Ed25519
//! key by `session.logon` then `userDataStream.subscribe`. Parameters are signed sorted by name
//! in raw UTF-8, `apiKey` included ([`ws_payload`](crate::ws_payload)).
//!
//! # Catch-up
//!
//! A stream only tells what happens while it is subscribed. After every (re)subscribe — each
//! successful `connect` — the engine calls
//! [`fills_since`](rustrade_core::ExchangeClient::fills_since) on the Spot client from its last
//! applied fill, so fills made while the stream was down are applied; fill ids match between
//! the two paths, so a fill seen on both is applied once.
//!
//! `eventStreamTerminated` and `serverShutdown` end `next_report` with
//! [`ExchangeError::Closed`]: the supervisor reconnects and the engine catches up.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rustrade_core::{Asset, ExchangeError, ExecutionReport, FillSource, Symbol};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::parse::{UserMessage, parse_user_message};
use crate::ws::{Link, Ws, open};
use crate::{BinanceError, Credentials, ServerClock, ws_payload};

/// Settings of a [`BinanceUserStream`].
#[derive(Debug, Clone)]
pub struct UserStreamConfig {
    /// WebSocket API URL (`wss://ws-api.binance.com:443/ws-api/v3`).
    pub ws_api_url: String,
    /// The key whose account is streamed.
    pub credentials: Credentials,
    /// `recvWindow` of the signed requests.
    pub recv_window: Duration,
    /// How long to wait for the subscription's answer.
    pub answer_timeout: Duration,
    /// Quote asset per symbol: the fee asset of a fill that charged nothing (sent with no `N`).
    pub quote_assets: HashMap<Symbol, Asset>,
}

impl UserStreamConfig {
    /// Defaults for `ws_api_url` and `credentials`.
    pub fn new(ws_api_url: impl Into<String>, credentials: Credentials) -> Self {
        Self {
            ws_api_url: ws_api_url.into(),
            credentials,
            recv_window: Duration::from_secs(5),
            answer_timeout: Duration::from_secs(10),
            quote_assets: HashMap::new(),
        }
    }
}

/// Spot user data over the WebSocket API (see the module doc).
#[derive(Debug)]
pub struct BinanceUserStream {
    config: UserStreamConfig,
    clock: Arc<ServerClock>,
    link: Link,
    next_id: u64,
}

impl BinanceUserStream {
    /// A stream with `config`, stamping requests with `clock` (share the Spot client's:
    /// `spot.rest().clock()`).
    pub fn new(config: UserStreamConfig, clock: Arc<ServerClock>) -> Self {
        Self {
            config,
            clock,
            link: Link::new("user stream"),
            next_id: 0,
        }
    }

    async fn subscribe(&mut self) -> Result<(), BinanceError> {
        let mut ws = open(&self.config.ws_api_url, "user data (WebSocket API)").await?;
        if self.config.credentials.is_ed25519() {
            let params = self.signed_params();
            self.request(&mut ws, "session.logon", params).await?;
            self.request(&mut ws, "userDataStream.subscribe", json!({}))
                .await?;
        } else {
            let params = self.signed_params();
            self.request(&mut ws, "userDataStream.subscribe.signature", params)
                .await?;
        }
        self.link.connect(ws);
        Ok(())
    }

    /// `{apiKey, recvWindow, timestamp, signature}` signed as the WebSocket API wants.
    fn signed_params(&self) -> Value {
        let key = self.config.credentials.api_key().expose().to_owned();
        let recv = self.config.recv_window.as_millis().min(60_000).to_string();
        let ts = self.clock.now_ms().to_string();
        let payload = ws_payload([
            ("apiKey", key.as_str()),
            ("recvWindow", recv.as_str()),
            ("timestamp", ts.as_str()),
        ]);
        let signature = self.config.credentials.signer().sign(&payload);
        json!({
            "apiKey": key,
            "recvWindow": recv.parse::<u64>().unwrap_or(5_000),
            "timestamp": ts.parse::<i64>().unwrap_or_default(),
            "signature": signature,
        })
    }

    /// Sends one request and waits for its answer (events arriving first are dropped: nothing
    /// is subscribed yet).
    async fn request(
        &mut self,
        ws: &mut Ws,
        method: &str,
        params: Value,
    ) -> Result<(), BinanceError> {
        self.next_id += 1;
        let id = format!("rt-{}", self.next_id);
        let text = json!({"id": id, "method": method, "params": params}).to_string();
        let ws_err = |e| BinanceError::WebSocket {
            what: method.to_owned(),
            source: Box::new(e),
        };
        ws.send(Message::text(text)).await.map_err(ws_err)?;
        let deadline = tokio::time::sleep(self.config.answer_timeout);
        tokio::pin!(deadline);
        loop {
            let frame = tokio::select! {
                f = ws.next() => f,
                () = &mut deadline => return Err(BinanceError::Timeout { what: method.to_owned() }),
            };
            let msg = match frame {
                None => return Err(BinanceError::Closed(format!("closed during {method}"))),
                Some(m) => m.map_err(ws_err)?,
            };
            let Message::Text(t) = msg else { continue };
            if let Ok(UserMessage::Response {
                id: got,
                status,
                error,
            }) = parse_user_message(t.as_bytes(), &|_| None)
            {
                if got != id {
                    continue;
                }
                if status == 200 {
                    return Ok(());
                }
                let (code, msg) = error.unwrap_or((0, String::new()));
                return Err(BinanceError::Api {
                    status: u16::try_from(status).unwrap_or(500),
                    code,
                    msg,
                });
            }
        }
    }

    async fn next(&mut self) -> Result<Option<ExecutionReport>, BinanceError> {
        loop {
            let text = self.link.next_text().await?;
            let quotes = &self.config.quote_assets;
            match parse_user_message(text.as_bytes(), &|s| quotes.get(s).copied())? {
                UserMessage::Report(r) => return Ok(Some(r)),
                UserMessage::Terminated => {
                    return Err(self
                        .link
                        .close("eventStreamTerminated: resubscribe, then catch up"));
                }
                UserMessage::ServerShutdown => {
                    return Err(self.link.close("serverShutdown: reconnect, then catch up"));
                }
                _ => {}
            }
        }
    }
}

#[async_trait::async_trait]
impl FillSource for BinanceUserStream {
    fn name(&self) -> &str {
        "binance-user"
    }

    async fn connect(&mut self) -> Result<(), ExchangeError> {
        self.link.drop_connection();
        Ok(self.subscribe().await?)
    }

    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        Ok(self.next().await?)
    }
}

//! [`BinanceFront`]: the kit's [`ChaosVenue`](crate::ChaosVenue) behind Binance USDⓈ-M
//! futures' protocol on loopback ports, so `rustrade-binance`'s own clients trade against it
//! and the kit's invariants, computed from the venue's records, hold that adapter to account.
//!
//! - REST (`rest.rs`): `time`, `exchangeInfo`, `klines`, `positionSide/dual`, `order` and
//!   `algoOrder` (POST, GET, DELETE), `openOrders`, `openAlgoOrders`, `allOpenOrders`,
//!   `algoOpenOrders`, `userTrades`, `positionRisk`, `balance`, `listenKey`; signed as Binance
//!   signs (HMAC over the query).
//! - WebSocket (`streams.rs`): the combined kline stream on the `/market` route and the
//!   listenKey user-data stream on the `/private` route.
//!
//! # Faults in Binance's failure shapes
//!
//! | venue fault | what the adapter receives |
//! | --- | --- |
//! | placement answer dropped after the order landed | the connection closed without a response |
//! | placement accepted, then timed out | HTTP 503 `-1007` ("execution status unknown") |
//! | placement lost in transit (not carried out) | HTTP 502 with an HTML body (a gateway error) |
//! | placement rate limited | HTTP 429 `-1015` with `Retry-After` |
//! | read rate limited | HTTP 418 `-1003` (IP banned) with `Retry-After` |
//! | placement rejected | HTTP 400 `-2010` (`-2022` for reduce-only) |
//! | order never received | `-2013` on `GET order` and `GET algoOrder` |
//! | fill stream closed / market stream closed | a close frame |
//! | fill stream muted / market stream muted | the socket stays open and silent |
//! | report duplicated, delayed, reordered | the same frames duplicated, delayed, reordered |
//!
//! # Ids
//!
//! Venue order `sim-<n>` is Binance order `n`; a conditional order is algo order `n` until it
//! fires, then regular order `n` carrying the same client id. Venue fill `sim-f<n>` is trade `n`
//! (so the adapter's fill id is `SYMBOL-n`, the name the venue gives it under
//! [`Adapter::BinanceUsdm`](crate::adapter::Adapter::BinanceUsdm)).

mod http;
mod json;
mod rest;
mod streams;

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::ChaosError;
use crate::venue::SharedVenue;

/// The API key the front accepts.
pub const API_KEY: &str = "chaos-api-key";
/// The HMAC secret it checks signatures with.
pub const SECRET: &str = "chaos-secret";
/// The one listenKey it hands out (it never expires).
pub const LISTEN_KEY: &str = "chaosListenKey";

/// A running front; stops when dropped.
#[derive(Debug)]
pub struct BinanceFront {
    rest: SocketAddr,
    ws: SocketAddr,
    tasks: [JoinHandle<()>; 2],
}

impl BinanceFront {
    /// Binds REST and WebSocket listeners on `127.0.0.1:0` and serves `venue` until dropped.
    pub async fn start(venue: SharedVenue) -> Result<Self, ChaosError> {
        let bind = async || {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| ChaosError::io("bind the Binance front", e))?;
            let addr = l
                .local_addr()
                .map_err(|e| ChaosError::io("read the Binance front's address", e))?;
            Ok::<_, ChaosError>((l, addr))
        };
        let (rest_listener, rest) = bind().await?;
        let (ws_listener, ws) = bind().await?;
        let tasks = [
            tokio::spawn(http::serve(rest_listener, venue.clone())),
            tokio::spawn(streams::serve(ws_listener, venue)),
        ];
        Ok(Self { rest, ws, tasks })
    }

    /// The REST base URL (`http://127.0.0.1:port`).
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.rest)
    }

    /// The WebSocket base URL (`ws://127.0.0.1:port`): the user stream's base; the market
    /// stream's is [`BinanceFront::market_url`].
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws)
    }

    /// The market-stream base URL of the bot process `pid` (the front reads the id from the
    /// path, so the harness knows which bot subscribed).
    pub fn market_url(ws_url: &str, pid: u32) -> String {
        format!("{}/pid/{pid}", ws_url.trim_end_matches('/'))
    }
}

impl Drop for BinanceFront {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

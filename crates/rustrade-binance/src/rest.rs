//! [`RestClient`]: signed HTTP requests to Binance with the clock, the rate budget and the
//! error mapping every endpoint shares.
//!
//! Every request passes the [`RateBudget`] first (it may wait for the next window, and refuses
//! during a 429 back-off or a 418 ban). Signed requests carry `recvWindow` and a `timestamp`
//! from the [`ServerClock`]; all parameters travel in the query string, which is exactly the
//! payload signed. A `-1021` answer (timestamp outside the window) resyncs the clock and the
//! request is sent once more: the venue refused it, so repeating is safe.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::clock::wall_clock_ms;
use crate::limits::{Admission, RateBudget, RateLimit, RateStatus};
use crate::parse::Obj;
use crate::sign::encode_query;
use crate::{BinanceError, Credentials, Product, RestOptions, ServerClock};

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Public market data.
    None,
    /// API key header, no signature.
    Key,
    /// API key header plus `timestamp`, `recvWindow` and `signature`.
    Signed,
}

/// One REST request.
#[derive(Debug, Clone)]
pub struct Call {
    /// HTTP method.
    pub method: Method,
    /// Path under the base URL, `/api/v3/order`.
    pub path: &'static str,
    /// Parameters in sending order (values unencoded).
    pub params: Vec<(&'static str, String)>,
    /// Request weight as documented.
    pub weight: u32,
    /// Whether it places an order (counts against the order limits).
    pub order: bool,
    /// Authentication.
    pub auth: Auth,
}

impl Call {
    /// A request with no parameters.
    pub fn new(method: Method, path: &'static str, weight: u32, auth: Auth) -> Self {
        Self {
            method,
            path,
            params: Vec::new(),
            weight,
            order: false,
            auth,
        }
    }

    /// Adds a parameter.
    pub fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.params.push((name, value.into()));
        self
    }

    /// Marks the request as an order placement.
    pub fn placing_order(mut self) -> Self {
        self.order = true;
        self
    }
}

/// The HTTP side of a Binance product: base URL, key, clock and rate budget.
///
/// `Debug` shows the base URL and the key type, never the key.
pub struct RestClient {
    http: reqwest::Client,
    base: String,
    credentials: Option<Credentials>,
    recv_window_ms: u64,
    clock: Arc<ServerClock>,
    budget: Mutex<RateBudget>,
    time_path: &'static str,
}

impl RestClient {
    /// A Spot client of `base` (`https://api.binance.com`).
    pub fn new(
        base: &str,
        credentials: Option<Credentials>,
        options: &RestOptions,
    ) -> Result<Self, BinanceError> {
        Self::for_product(Product::Spot, base, credentials, options)
    }

    /// A client of `product` at `base`: the product decides the clock endpoint
    /// (`/api/v3/time`, `/fapi/v1/time`) and the limits assumed before `exchangeInfo`.
    pub fn for_product(
        product: Product,
        base: &str,
        credentials: Option<Credentials>,
        options: &RestOptions,
    ) -> Result<Self, BinanceError> {
        let (time_path, limits) = match product {
            Product::UsdMFutures => ("/fapi/v1/time", RateLimit::usdm_defaults()),
            Product::Spot => ("/api/v3/time", RateLimit::spot_defaults()),
        };
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .build()
            .map_err(|e| BinanceError::Config(format!("HTTP client: {e}")))?;
        let recv = options.recv_window.min(Duration::from_secs(60));
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            recv_window_ms: u64::try_from(recv.as_millis()).unwrap_or(60_000),
            clock: Arc::new(ServerClock::new()),
            budget: Mutex::new(RateBudget::new(
                limits,
                options.headroom,
                options.max_budget_wait,
            )),
            time_path,
        })
    }

    /// The venue's clock as measured by this client (shared with the WebSocket sources).
    pub fn clock(&self) -> Arc<ServerClock> {
        Arc::clone(&self.clock)
    }

    /// The configured key, if any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Replaces the tracked limits (from `exchangeInfo`'s `rateLimits`).
    pub fn set_limits(&self, limits: Vec<RateLimit>) {
        if !limits.is_empty() {
            self.lock_budget().set_limits(limits);
        }
    }

    /// Rate-limit health: bans, back-offs and usage per limit. A ban shows here until it ends.
    pub fn health(&self) -> RateStatus {
        self.lock_budget().status(self.clock.now_ms())
    }

    /// Measures the offset to the venue's clock (`GET /api/v3/time` or `/fapi/v1/time`).
    pub async fn sync_time(&self) -> Result<(), BinanceError> {
        let before = wall_clock_ms();
        let v = self
            .call_once(&Call::new(Method::GET, self.time_path, 1, Auth::None))
            .await?;
        let after = wall_clock_ms();
        let server = Obj::root(&v)?.int("serverTime")?;
        self.clock.record(before, after, server);
        Ok(())
    }

    /// Sends `call` and returns the decoded JSON answer (see the module doc for retries).
    pub async fn call(&self, call: &Call) -> Result<Value, BinanceError> {
        if call.auth == Auth::Signed && !self.clock.is_synced() {
            self.sync_time().await?;
        }
        match self.call_once(call).await {
            Err(e) if e.code() == Some(-1021) && call.auth == Auth::Signed => {
                tracing::warn!(
                    path = call.path,
                    "binance -1021: clock resync and one retry"
                );
                self.clock.reset();
                self.sync_time().await?;
                self.call_once(call).await
            }
            other => other,
        }
    }

    async fn call_once(&self, call: &Call) -> Result<Value, BinanceError> {
        self.admit(call).await?;
        let mut query = encode_query(call.params.iter().map(|(k, v)| (*k, v.as_str())));
        let creds = match call.auth {
            Auth::None => None,
            Auth::Key | Auth::Signed => Some(
                self.credentials
                    .as_ref()
                    .ok_or(BinanceError::NoCredentials(call.path))?,
            ),
        };
        if let (Auth::Signed, Some(c)) = (call.auth, creds) {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&format!(
                "recvWindow={}&timestamp={}",
                self.recv_window_ms,
                self.clock.now_ms()
            ));
            let sig = c.signer().sign_for_query(&query);
            query.push_str("&signature=");
            query.push_str(&sig);
        }
        let url = if query.is_empty() {
            format!("{}{}", self.base, call.path)
        } else {
            format!("{}{}?{}", self.base, call.path, query)
        };
        let mut req = self.http.request(call.method.clone(), url);
        if let Some(c) = creds {
            req = req.header("X-MBX-APIKEY", c.api_key().expose());
        }
        let what = || format!("{} {}", call.method, call.path);
        let resp = req.send().await.map_err(|e| transport(what(), e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let now = self.clock.now_ms();
        {
            let headers = resp.headers();
            let mut budget = self.lock_budget();
            budget.observe(
                now,
                headers
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))),
            );
            if status == 429 {
                budget.on_too_many(now, retry_after);
            }
            if status == 418 {
                let ban = budget.on_banned(now, retry_after);
                tracing::error!(
                    ?ban,
                    "binance banned this IP (418); requests stop until it ends"
                );
            }
        }
        let body = resp.bytes().await.map_err(|e| transport(what(), e))?;
        match status {
            200..=299 => serde_json::from_slice(&body)
                .map_err(|e| BinanceError::decode("a REST answer", &body, e)),
            429 => Err(BinanceError::RateLimited { retry_after }),
            418 => Err(BinanceError::Banned {
                remaining: retry_after.unwrap_or(Duration::from_secs(120)),
            }),
            _ => Err(api_error(status, &body)),
        }
    }

    /// Waits until the budget admits `call`, or fails with its refusal.
    async fn admit(&self, call: &Call) -> Result<(), BinanceError> {
        loop {
            let admission = self
                .lock_budget()
                .admit(self.clock.now_ms(), call.weight, call.order);
            match admission {
                Admission::Go => return Ok(()),
                Admission::Refuse(e) => return Err(e),
                Admission::Wait(d) => {
                    tracing::info!(path = call.path, wait = ?d, "binance rate budget: waiting");
                    tokio::time::sleep(d).await;
                }
            }
        }
    }

    fn lock_budget(&self) -> std::sync::MutexGuard<'_, RateBudget> {
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .field("recv_window_ms", &self.recv_window_ms)
            .finish_non_exhaustive()
    }
}

fn transport(what: String, e: reqwest::Error) -> BinanceError {
    if e.is_timeout() {
        BinanceError::Timeout { what }
    } else {
        BinanceError::Transport { what, source: e }
    }
}

/// An error answer: Binance's `{"code","msg"}` when present, else the bare status and body.
fn api_error(status: u16, body: &[u8]) -> BinanceError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let code = parsed.as_ref().and_then(|v| v.get("code")?.as_i64());
    let msg = parsed
        .as_ref()
        .and_then(|v| Some(v.get("msg")?.as_str()?.to_owned()));
    match (code, msg) {
        (Some(code), Some(msg)) => BinanceError::Api { status, code, msg },
        _ => BinanceError::Http {
            status,
            body: crate::error::truncate(body),
        },
    }
}

//! A local mock Binance venue on `127.0.0.1:0` — Spot REST, and USD-M futures REST with its
//! listenKey user stream ([`usdm`]) — for this crate's tests (feature `mock`).
//!
//! It speaks the documented request and answer shapes of the endpoints the Spot client uses
//! (`time`, `exchangeInfo`, `order` POST/GET/DELETE, `openOrders` GET/DELETE, `myTrades`,
//! `account`, `klines`), and enforces what the real venue enforces: the `X-MBX-APIKEY` header
//! (`-2015`), the HMAC signature over the exact query (`-1022`), `timestamp` against
//! `recvWindow` on its own clock (`-1021`), request weight per window (429 with `Retry-After`,
//! then 418 with a ban for a client that ignores it), filters (`-1013`), balances, duplicate ids
//! and post-only crossing (`-2010`), unknown orders (`-2011`, `-2013`). [`Fault`]s make the
//! next request misbehave: answer 5XX after placing an order (unknown outcome), drop it with a
//! 5XX, delay the answer, or ban.
//!
//! Matching is minimal: market orders and crossing limit orders fill at the symbol's last
//! price; resting limit orders fill when [`MockBinance::set_price`] crosses them.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use serde_json::{Value, json};

use crate::clock::wall_clock_ms;
use crate::{Credentials, Endpoints, hmac_sha256_hex};

pub mod usdm;

pub use usdm::{MockAlgo, UsdmState};

/// One listed symbol of the mock.
#[derive(Debug, Clone)]
pub struct MockSymbol {
    /// Name, `BTCUSDT`.
    pub name: String,
    /// Base asset.
    pub base: String,
    /// Quote asset.
    pub quote: String,
    /// Price tick.
    pub tick: f64,
    /// Quantity step.
    pub step: f64,
    /// Minimum notional.
    pub min_notional: f64,
    /// Last trade price: where market and crossing orders fill.
    pub price: f64,
}

/// Settings of a [`MockBinance`].
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The accepted API key.
    pub api_key: String,
    /// The HMAC secret signatures are checked with.
    pub secret: String,
    /// Request weight allowed per window.
    pub weight_limit: u32,
    /// Length of the weight window (published in `exchangeInfo`).
    pub weight_interval: Duration,
    /// Listed symbols.
    pub symbols: Vec<MockSymbol>,
    /// Starting free balances.
    pub balances: Vec<(String, f64)>,
    /// Ban length after a 429 is ignored.
    pub ban: Duration,
    /// Starting USDT wallet of the futures account.
    pub usdm_wallet: f64,
    /// New orders allowed per 10 s, as published in `exchangeInfo` (clients pace themselves
    /// by it).
    pub orders_per_10s: u32,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            api_key: "mock-api-key".into(),
            secret: "mock-secret".into(),
            weight_limit: 6_000,
            weight_interval: Duration::from_secs(60),
            symbols: vec![MockSymbol {
                name: "BTCUSDT".into(),
                base: "BTC".into(),
                quote: "USDT".into(),
                tick: 0.01,
                step: 0.00001,
                min_notional: 5.0,
                price: 30_000.0,
            }],
            balances: vec![("USDT".into(), 100_000.0), ("BTC".into(), 0.0)],
            ban: Duration::from_secs(120),
            usdm_wallet: 10_000.0,
            orders_per_10s: 100,
        }
    }
}

/// A one-shot misbehaviour of the next matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Carry out the next order placement, then answer with this HTTP status and a non-JSON
    /// body (a gateway error): the client cannot know the order exists.
    PlaceThenFail(u16),
    /// Do not carry out the next order placement; answer with this status.
    DropPlacement(u16),
    /// Answer the next request after this delay.
    Delay(Duration),
    /// Answer the next request with 418 and a ban of this length.
    Ban(Duration),
}

/// A running mock venue; stops when dropped.
pub struct MockBinance {
    addr: SocketAddr,
    ws_addr: SocketAddr,
    state: Arc<Mutex<MockState>>,
    task: tokio::task::JoinHandle<()>,
    ws_task: tokio::task::JoinHandle<()>,
}

/// What the mock holds; inspect or change it through [`MockBinance::state`].
#[derive(Debug)]
pub struct MockState {
    config: MockConfig,
    /// Added to the wall clock for the venue's time (a venue clock ahead is positive).
    pub skew_ms: i64,
    /// Requests received, by path.
    pub requests: BTreeMap<String, usize>,
    /// `-1021` answers given.
    pub timestamp_rejections: usize,
    /// 429 answers given.
    pub too_many: usize,
    /// Orders by venue id.
    pub orders: BTreeMap<i64, MockOrder>,
    /// Our trades, oldest first.
    pub trades: Vec<Value>,
    /// Free and locked balance per asset.
    pub balances: BTreeMap<String, (f64, f64)>,
    /// Closed klines per symbol: `[openTime, o, h, l, c, v, closeTime]`.
    pub klines: BTreeMap<String, Vec<MockBar>>,
    /// The futures account.
    pub usdm: UsdmState,
    faults: VecDeque<Fault>,
    next_order_id: i64,
    next_trade_id: i64,
    window: i64,
    used: u32,
    warned_in_window: bool,
    banned_until: i64,
}

/// A closed 1-minute bar: open time (ms), open, high, low, close, volume.
pub type MockBar = (i64, f64, f64, f64, f64, f64);

/// An order held by the mock.
#[derive(Debug, Clone)]
pub struct MockOrder {
    /// Venue id.
    pub id: i64,
    /// Our id.
    pub client_id: String,
    /// Symbol.
    pub symbol: String,
    /// `BUY`/`SELL`.
    pub side: String,
    /// Binance type.
    pub ty: String,
    /// Time in force.
    pub tif: String,
    /// Limit price (0 for market).
    pub price: f64,
    /// Stop price (0 when none).
    pub stop: f64,
    /// Quantity.
    pub qty: f64,
    /// Filled quantity.
    pub filled: f64,
    /// Quote quantity filled.
    pub quote_filled: f64,
    /// Binance status text.
    pub status: String,
    /// Creation time (venue ms).
    pub time: i64,
    /// Reduce-only (futures).
    pub reduce_only: bool,
}

impl MockBinance {
    /// Starts a mock on `127.0.0.1:0` (a free port).
    pub async fn start(config: MockConfig) -> std::io::Result<Self> {
        let balances = config
            .balances
            .iter()
            .map(|(a, f)| (a.clone(), (*f, 0.0)))
            .collect();
        let usdm = UsdmState::new(config.usdm_wallet);
        let state = Arc::new(Mutex::new(MockState {
            config,
            skew_ms: 0,
            requests: BTreeMap::new(),
            timestamp_rejections: 0,
            too_many: 0,
            orders: BTreeMap::new(),
            trades: Vec::new(),
            balances,
            klines: BTreeMap::new(),
            usdm,
            faults: VecDeque::new(),
            next_order_id: 1,
            next_trade_id: 1,
            window: 0,
            used: 0,
            warned_in_window: false,
            banned_until: 0,
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let ws_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let ws_addr = ws_listener.local_addr()?;
        let ws_task = tokio::spawn(serve_user_streams(ws_listener, Arc::clone(&state)));
        Ok(Self {
            addr,
            ws_addr,
            state,
            task,
            ws_task,
        })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The mock's URLs as client endpoints.
    pub fn endpoints(&self) -> Endpoints {
        Endpoints::local(&self.url())
    }

    /// The futures side as client endpoints: REST on the HTTP port, the private user-data
    /// route (`/private/ws`) on the WebSocket port.
    pub fn usdm_endpoints(&self) -> Endpoints {
        Endpoints {
            rest: self.url(),
            ws_api: format!("ws://{}/ws-fapi/v1", self.ws_addr),
            streams: format!("ws://{}", self.ws_addr),
        }
    }

    /// Ends every futures listenKey; with `announce`, connected streams get `listenKeyExpired`
    /// (else they learn it from their next keep-alive's `-1125`).
    pub fn revoke_listen_keys(&self, announce: bool) {
        let mut s = self.state();
        s.usdm.listen_keys.clear();
        if announce {
            let now = s.now();
            s.usdm.push(
                json!({"e": "listenKeyExpired", "E": now, "listenKey": "revoked"}).to_string(),
            );
        }
    }

    /// Pushes one raw frame to every connected futures user stream.
    pub fn push_usdm_event(&self, text: &str) {
        self.state().usdm.push(text.to_owned());
    }

    /// HMAC credentials the mock accepts.
    pub fn credentials(&self) -> Credentials {
        let s = self.state();
        Credentials::hmac(s.config.api_key.clone(), s.config.secret.clone())
    }

    /// The mock's state, locked.
    pub fn state(&self) -> MutexGuard<'_, MockState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a fault for the next matching request.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push_back(fault);
    }

    /// How many requests reached `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.state().requests.get(path).copied().unwrap_or(0)
    }

    /// Moves `symbol`'s last price, filling resting limit orders it crosses.
    pub fn set_price(&self, symbol: &str, price: f64) {
        let mut s = self.state();
        let now = s.now();
        if let Some(sym) = s.config.symbols.iter_mut().find(|x| x.name == symbol) {
            sym.price = price;
        }
        let crossing: Vec<i64> = s
            .orders
            .values()
            .filter(|o| o.symbol == symbol && is_open(&o.status) && o.ty.starts_with("LIMIT"))
            .filter(|o| crosses(&o.side, o.price, price))
            .map(|o| o.id)
            .collect();
        for id in crossing {
            s.fill(id, price, true, now);
        }
        s.usdm_on_price(symbol, price, now);
    }
}

impl Drop for MockBinance {
    fn drop(&mut self) {
        self.task.abort();
        self.ws_task.abort();
    }
}

type Reply = Response<Body>;

async fn handle(
    State(state): State<Arc<Mutex<MockState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Reply {
    let delay = {
        let mut s = lock(&state);
        match s.faults.front() {
            Some(Fault::Delay(d)) => {
                let d = *d;
                s.faults.pop_front();
                Some(d)
            }
            _ => None,
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let mut s = lock(&state);
    s.route(&method, uri.path(), uri.query().unwrap_or(""), &headers)
}

impl MockState {
    fn now(&self) -> i64 {
        wall_clock_ms() + self.skew_ms
    }

    fn route(&mut self, method: &Method, path: &str, raw: &str, headers: &HeaderMap) -> Reply {
        *self.requests.entry(path.to_owned()).or_default() += 1;
        let now = self.now();
        if let Some(Fault::Ban(d)) = self.faults.front() {
            self.banned_until = now + ms(*d);
            self.faults.pop_front();
        }
        if self.banned_until > now {
            let secs = (self.banned_until - now + 999) / 1000;
            return reply_with(
                418,
                &err(-1003, "Way too much request weight used; IP banned."),
                &[("Retry-After", secs.to_string())],
            );
        }
        let weight = weight_of(method, path, raw);
        let interval = ms(self.config.weight_interval).max(1);
        let window = now.div_euclid(interval);
        if window != self.window {
            self.window = window;
            self.used = 0;
            self.warned_in_window = false;
        }
        if self.used + weight > self.config.weight_limit {
            if self.warned_in_window {
                self.banned_until = now + ms(self.config.ban);
                let secs = ms(self.config.ban) / 1000;
                return reply_with(
                    418,
                    &err(-1003, "IP banned for ignoring 429."),
                    &[("Retry-After", secs.to_string())],
                );
            }
            self.warned_in_window = true;
            self.too_many += 1;
            let secs = ((window + 1) * interval - now + 999) / 1000;
            return reply_with(
                429,
                &err(-1003, "Too much request weight used."),
                &[("Retry-After", secs.max(1).to_string())],
            );
        }
        self.used += weight;
        let params = crate::decode_query(raw);
        let public = matches!(
            path,
            "/api/v3/time" | "/api/v3/exchangeInfo" | "/api/v3/klines"
        ) || usdm::is_public(path);
        if usdm::is_key_only(path) {
            if let Err(r) = self.check_key(headers) {
                return self.with_weight(*r);
            }
        } else if !public && let Err(r) = self.authenticate(raw, &params, headers, now) {
            return self.with_weight(*r);
        }
        if path.starts_with("/fapi/") {
            return self.usdm_reply(method.as_str(), path, &params, now);
        }
        let get = |k: &str| params.get(k).map(String::as_str);
        let answer = match (method.as_str(), path) {
            ("GET", "/api/v3/time") => Ok(json!({ "serverTime": now })),
            ("GET", "/api/v3/exchangeInfo") => Ok(self.exchange_info()),
            ("GET", "/api/v3/klines") => Ok(self.klines(get("symbol"), get("startTime"))),
            ("POST", "/api/v3/order") => return self.place(&params, now),
            ("GET", "/api/v3/order") => self
                .find(get("origClientOrderId"), get("orderId"))
                .map_or_else(
                    || Err((400, err(-2013, "Order does not exist."))),
                    |o| Ok(order_json(o)),
                ),
            ("DELETE", "/api/v3/order") => self.cancel(get("origClientOrderId"), get("orderId")),
            ("GET", "/api/v3/openOrders") => Ok(Value::Array(
                self.orders
                    .values()
                    .filter(|o| is_open(&o.status) && get("symbol").is_none_or(|s| s == o.symbol))
                    .map(order_json)
                    .collect(),
            )),
            ("DELETE", "/api/v3/openOrders") => self.cancel_all(get("symbol").unwrap_or("")),
            ("GET", "/api/v3/myTrades") => Ok(self.my_trades(&params)),
            ("GET", "/api/v3/account") => Ok(self.account()),
            _ => Err((404, err(-1000, "Unknown endpoint."))),
        };
        let r = match answer {
            Ok(v) => reply(200, &v),
            Err((status, v)) => reply(status, &v),
        };
        self.with_weight(r)
    }

    fn with_weight(&self, mut r: Reply) -> Reply {
        let suffix = header_suffix(self.config.weight_interval);
        if let Ok(v) = self.used.to_string().parse() {
            r.headers_mut().insert(
                format!("x-mbx-used-weight-{suffix}")
                    .parse::<axum::http::HeaderName>()
                    .unwrap_or_else(|_| axum::http::HeaderName::from_static("x-mbx-used-weight")),
                v,
            );
        }
        r
    }

    /// A futures answer, with placement faults applied and the order-count header.
    fn usdm_reply(
        &mut self,
        method: &str,
        path: &str,
        params: &BTreeMap<String, String>,
        now: i64,
    ) -> Reply {
        let placing = method == "POST" && matches!(path, "/fapi/v1/order" | "/fapi/v1/algoOrder");
        let fault = match self.faults.front() {
            Some(Fault::PlaceThenFail(_) | Fault::DropPlacement(_)) if placing => {
                self.faults.pop_front()
            }
            _ => None,
        };
        if let Some(Fault::DropPlacement(status)) = fault {
            return reply_text(status, "<html>gateway error</html>");
        }
        let answer = self.route_usdm(method, path, params, now);
        if let Some(Fault::PlaceThenFail(status)) = fault {
            return reply_text(status, "<html>gateway error</html>");
        }
        let mut r = match &answer {
            Ok(v) => reply(200, v),
            Err((status, v)) => reply(*status, v),
        };
        if placing
            && answer.is_ok()
            && let Ok(v) = "1".parse()
        {
            r.headers_mut().insert("x-mbx-order-count-1m", v);
        }
        self.with_weight(r)
    }

    fn check_key(&self, headers: &HeaderMap) -> Result<(), Box<Reply>> {
        let key = headers.get("x-mbx-apikey").and_then(|v| v.to_str().ok());
        if key != Some(self.config.api_key.as_str()) {
            return Err(Box::new(reply(
                401,
                &err(-2015, "Invalid API-key, IP, or permissions for action."),
            )));
        }
        Ok(())
    }

    fn authenticate(
        &mut self,
        raw: &str,
        params: &BTreeMap<String, String>,
        headers: &HeaderMap,
        now: i64,
    ) -> Result<(), Box<Reply>> {
        self.check_key(headers)?;
        let Some((payload, sig)) = raw.rsplit_once("&signature=") else {
            return Err(Box::new(reply(
                400,
                &err(-1102, "Mandatory parameter 'signature' was not sent."),
            )));
        };
        let expected = hmac_sha256_hex(self.config.secret.as_bytes(), payload.as_bytes());
        if !expected.eq_ignore_ascii_case(sig) {
            return Err(Box::new(reply(
                400,
                &err(-1022, "Signature for this request is not valid."),
            )));
        }
        let ts: i64 = params
            .get("timestamp")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let window: i64 = params
            .get("recvWindow")
            .and_then(|t| t.parse().ok())
            .unwrap_or(5_000);
        if ts >= now + 1_000 || now - ts > window {
            self.timestamp_rejections += 1;
            return Err(Box::new(reply(
                400,
                &err(
                    -1021,
                    "Timestamp for this request is outside of the recvWindow.",
                ),
            )));
        }
        Ok(())
    }

    fn exchange_info(&self) -> Value {
        let interval = self.config.weight_interval.as_secs().max(1);
        let symbols: Vec<Value> = self
            .config
            .symbols
            .iter()
            .map(|s| {
                json!({
                    "symbol": s.name, "status": "TRADING",
                    "baseAsset": s.base, "baseAssetPrecision": 8,
                    "quoteAsset": s.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS_LIMIT","TAKE_PROFIT_LIMIT"],
                    "filters": [
                        {"filterType":"PRICE_FILTER","minPrice":dec(s.tick),"maxPrice":"1000000.00000000","tickSize":dec(s.tick)},
                        {"filterType":"LOT_SIZE","minQty":dec(s.step),"maxQty":"9000.00000000","stepSize":dec(s.step)},
                        {"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"100.00000000","stepSize":"0.00000000"},
                        {"filterType":"NOTIONAL","minNotional":dec(s.min_notional),"applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5},
                        {"filterType":"POSITION_RISK_CONTROL","positionControlSide":"NONE"}
                    ]
                })
            })
            .collect();
        json!({
            "timezone": "UTC",
            "serverTime": self.now(),
            "rateLimits": [
                {"rateLimitType":"REQUEST_WEIGHT","interval":"SECOND","intervalNum":interval,"limit":self.config.weight_limit},
                {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":self.config.orders_per_10s},
                {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":200000}
            ],
            "exchangeFilters": [],
            "symbols": symbols
        })
    }

    fn klines(&self, symbol: Option<&str>, start: Option<&str>) -> Value {
        let start: i64 = start.and_then(|s| s.parse().ok()).unwrap_or(0);
        let bars = symbol
            .and_then(|s| self.klines.get(s))
            .cloned()
            .unwrap_or_default();
        Value::Array(
            bars.into_iter()
                .filter(|b| b.0 >= start)
                .map(|(t, o, h, l, c, v)| {
                    json!([
                        t,
                        dec(o),
                        dec(h),
                        dec(l),
                        dec(c),
                        dec(v),
                        t + 59_999,
                        "0",
                        1,
                        "0",
                        "0",
                        "0"
                    ])
                })
                .collect(),
        )
    }

    fn place(&mut self, p: &BTreeMap<String, String>, now: i64) -> Reply {
        let fault = match self.faults.front() {
            Some(Fault::PlaceThenFail(_) | Fault::DropPlacement(_)) => self.faults.pop_front(),
            _ => None,
        };
        if let Some(Fault::DropPlacement(status)) = fault {
            return reply_text(status, "<html>gateway error</html>");
        }
        let answer = self.new_order(p, now);
        match (fault, answer) {
            (Some(Fault::PlaceThenFail(status)), _) => {
                reply_text(status, "<html>gateway error</html>")
            }
            (_, Ok(v)) => {
                let mut r = self.with_weight(reply(200, &v));
                if let Ok(v) = "1".parse() {
                    r.headers_mut().insert("x-mbx-order-count-10s", v);
                }
                r
            }
            (_, Err((status, v))) => self.with_weight(reply(status, &v)),
        }
    }

    fn new_order(&mut self, p: &BTreeMap<String, String>, now: i64) -> Result<Value, (u16, Value)> {
        let field = |k: &str| {
            p.get(k).cloned().ok_or_else(|| {
                (
                    400,
                    err(-1102, &format!("Mandatory parameter '{k}' was not sent.")),
                )
            })
        };
        let symbol = field("symbol")?;
        let Some(sym) = self
            .config
            .symbols
            .iter()
            .find(|s| s.name == symbol)
            .cloned()
        else {
            return Err((400, err(-1121, "Invalid symbol.")));
        };
        let side = field("side")?;
        let ty = field("type")?;
        let qty: f64 = field("quantity")?.parse().map_err(|_| {
            (
                400,
                err(-1100, "Illegal characters found in parameter 'quantity'."),
            )
        })?;
        let price: f64 = p.get("price").and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let stop: f64 = p
            .get("stopPrice")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let client_id = p
            .get("newClientOrderId")
            .cloned()
            .unwrap_or_else(|| format!("mock-{}", self.next_order_id));
        if !on_step(qty, sym.step) {
            return Err((400, err(-1013, "Filter failure: LOT_SIZE")));
        }
        if ty != "MARKET" && !on_step(price, sym.tick) {
            return Err((400, err(-1013, "Filter failure: PRICE_FILTER")));
        }
        let ref_price = if ty == "MARKET" { sym.price } else { price };
        if qty * ref_price + 1e-9 < sym.min_notional {
            return Err((400, err(-1013, "Filter failure: NOTIONAL")));
        }
        if self
            .orders
            .values()
            .any(|o| o.client_id == client_id && is_open(&o.status))
        {
            return Err((400, err(-2010, "Duplicate order sent.")));
        }
        let crossing = ty == "MARKET" || crosses(&side, price, sym.price);
        if ty == "LIMIT_MAKER" && crossing {
            return Err((400, err(-2010, "Order would immediately match and take.")));
        }
        let (asset, need) = if side == "BUY" {
            (sym.quote.clone(), qty * ref_price)
        } else {
            (sym.base.clone(), qty)
        };
        let free = self.balances.get(&asset).map_or(0.0, |b| b.0);
        if free + 1e-9 < need {
            return Err((
                400,
                err(
                    -2010,
                    "Account has insufficient balance for requested action.",
                ),
            ));
        }
        let tif = p
            .get("timeInForce")
            .cloned()
            .unwrap_or_else(|| "GTC".into());
        let id = self.next_order_id;
        self.next_order_id += 1;
        self.orders.insert(
            id,
            MockOrder {
                id,
                client_id: client_id.clone(),
                symbol: symbol.clone(),
                side,
                ty: ty.clone(),
                tif: tif.clone(),
                price,
                stop,
                qty,
                filled: 0.0,
                quote_filled: 0.0,
                status: "NEW".into(),
                time: now,
                reduce_only: false,
            },
        );
        let conditional = ty.starts_with("STOP") || ty.starts_with("TAKE");
        if crossing && !conditional {
            self.fill(id, sym.price, false, now);
        } else if ty == "LIMIT" && tif != "GTC" {
            if let Some(o) = self.orders.get_mut(&id) {
                o.status = "EXPIRED".into();
            }
        } else if let Some(b) = self.balances.get_mut(&asset) {
            b.0 -= need;
            b.1 += need;
        }
        Ok(
            json!({"symbol": symbol, "orderId": id, "orderListId": -1, "clientOrderId": client_id, "transactTime": now}),
        )
    }

    /// Fills the rest of order `id` at `price`.
    fn fill(&mut self, id: i64, price: f64, resting: bool, now: i64) {
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        let qty = o.qty - o.filled;
        o.filled = o.qty;
        o.quote_filled += qty * price;
        o.status = "FILLED".into();
        let o = o.clone();
        let Some(sym) = self
            .config
            .symbols
            .iter()
            .find(|s| s.name == o.symbol)
            .cloned()
        else {
            return;
        };
        let buy = o.side == "BUY";
        let (fee, fee_asset) = if buy {
            (qty * 0.001, sym.base.clone())
        } else {
            (qty * price * 0.001, sym.quote.clone())
        };
        let (pay, pay_amt, get, get_amt) = if buy {
            (&sym.quote, qty * price, &sym.base, qty - fee)
        } else {
            (&sym.base, qty, &sym.quote, qty * price - fee)
        };
        let locked_amt = if buy { qty * o.price } else { qty };
        let pb = self.balances.entry(pay.clone()).or_default();
        if resting {
            pb.1 -= locked_amt;
            pb.0 += locked_amt - pay_amt;
        } else {
            pb.0 -= pay_amt;
        }
        self.balances.entry(get.clone()).or_default().0 += get_amt;
        let tid = self.next_trade_id;
        self.next_trade_id += 1;
        self.trades.push(json!({
            "symbol": o.symbol, "id": tid, "orderId": o.id, "orderListId": -1,
            "price": dec(price), "qty": dec(qty), "quoteQty": dec(qty * price),
            "commission": dec(fee), "commissionAsset": fee_asset, "time": now,
            "isBuyer": buy, "isMaker": resting, "isBestMatch": true
        }));
    }

    fn find(&self, client: Option<&str>, id: Option<&str>) -> Option<&MockOrder> {
        let id: Option<i64> = id.and_then(|i| i.parse().ok());
        self.orders.values().rev().find(|o| {
            client.is_none_or(|c| c == o.client_id)
                && id.is_none_or(|i| i == o.id)
                && (client.is_some() || id.is_some())
        })
    }

    fn cancel(&mut self, client: Option<&str>, id: Option<&str>) -> Result<Value, (u16, Value)> {
        let Some(oid) = self
            .find(client, id)
            .filter(|o| is_open(&o.status))
            .map(|o| o.id)
        else {
            return Err((400, err(-2011, "Unknown order sent.")));
        };
        Ok(order_json(&self.cancel_one(oid)))
    }

    fn cancel_one(&mut self, id: i64) -> MockOrder {
        let o = self
            .orders
            .get(&id)
            .cloned()
            .unwrap_or_else(|| unreachable!());
        let sym = self
            .config
            .symbols
            .iter()
            .find(|s| s.name == o.symbol)
            .cloned();
        if let Some(sym) = sym {
            let left = o.qty - o.filled;
            let (asset, amt) = if o.side == "BUY" {
                (sym.quote, left * o.price)
            } else {
                (sym.base, left)
            };
            let b = self.balances.entry(asset).or_default();
            b.1 -= amt;
            b.0 += amt;
        }
        let o = self.orders.get_mut(&id).unwrap_or_else(|| unreachable!());
        o.status = "CANCELED".into();
        o.clone()
    }

    fn cancel_all(&mut self, symbol: &str) -> Result<Value, (u16, Value)> {
        let ids: Vec<i64> = self
            .orders
            .values()
            .filter(|o| o.symbol == symbol && is_open(&o.status))
            .map(|o| o.id)
            .collect();
        if ids.is_empty() {
            return Err((400, err(-2011, "Unknown order sent.")));
        }
        Ok(Value::Array(
            ids.into_iter()
                .map(|i| order_json(&self.cancel_one(i)))
                .collect(),
        ))
    }

    fn my_trades(&self, p: &BTreeMap<String, String>) -> Value {
        let num = |k: &str| p.get(k).and_then(|v| v.parse::<i64>().ok());
        let limit = num("limit").unwrap_or(500).clamp(1, 1000) as usize;
        let symbol = p.get("symbol").cloned().unwrap_or_default();
        Value::Array(
            self.trades
                .iter()
                .filter(|t| t["symbol"] == symbol.as_str())
                .filter(|t| num("fromId").is_none_or(|f| t["id"].as_i64().unwrap_or(0) >= f))
                .filter(|t| num("startTime").is_none_or(|s| t["time"].as_i64().unwrap_or(0) >= s))
                .filter(|t| num("endTime").is_none_or(|e| t["time"].as_i64().unwrap_or(0) <= e))
                .take(limit)
                .cloned()
                .collect(),
        )
    }

    fn account(&self) -> Value {
        let balances: Vec<Value> = self
            .balances
            .iter()
            .filter(|(_, (f, l))| *f != 0.0 || *l != 0.0)
            .map(|(a, (f, l))| json!({"asset": a, "free": dec(*f), "locked": dec(*l)}))
            .collect();
        json!({"canTrade": true, "accountType": "SPOT", "balances": balances})
    }
}

fn order_json(o: &MockOrder) -> Value {
    json!({
        "symbol": o.symbol, "orderId": o.id, "orderListId": -1, "clientOrderId": o.client_id,
        "price": dec(o.price), "origQty": dec(o.qty), "executedQty": dec(o.filled),
        "cummulativeQuoteQty": dec(o.quote_filled), "status": o.status, "timeInForce": o.tif,
        "type": o.ty, "side": o.side, "stopPrice": dec(o.stop), "icebergQty": "0.00000000",
        "time": o.time, "updateTime": o.time, "isWorking": true,
        "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "EXPIRE_MAKER"
    })
}

fn weight_of(method: &Method, path: &str, raw: &str) -> u32 {
    match (method.as_str(), path) {
        (m, p) if p.starts_with("/fapi/") => usdm::weight_of(m, p, raw),
        ("GET", "/api/v3/exchangeInfo" | "/api/v3/myTrades" | "/api/v3/account") => 20,
        ("GET", "/api/v3/order") => 4,
        ("GET", "/api/v3/openOrders") if raw.contains("symbol=") => 6,
        ("GET", "/api/v3/openOrders") => 80,
        ("GET", "/api/v3/klines") => 2,
        _ => 1,
    }
}

fn is_open(status: &str) -> bool {
    matches!(status, "NEW" | "PARTIALLY_FILLED")
}

fn crosses(side: &str, limit: f64, last: f64) -> bool {
    if side == "BUY" {
        limit >= last
    } else {
        limit <= last
    }
}

fn on_step(v: f64, step: f64) -> bool {
    let n = v / step;
    (n - n.round()).abs() < 1e-6
}

fn dec(v: f64) -> String {
    format!("{v:.8}")
}

fn err(code: i64, msg: &str) -> Value {
    json!({"code": code, "msg": msg})
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

fn header_suffix(d: Duration) -> String {
    let s = d.as_secs().max(1);
    if s.is_multiple_of(60) {
        format!("{}M", s / 60)
    } else {
        format!("{s}S")
    }
}

fn reply(status: u16, v: &Value) -> Reply {
    reply_with(status, v, &[])
}

fn reply_with(status: u16, v: &Value, headers: &[(&str, String)]) -> Reply {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.body(Body::from(v.to_string())).unwrap_or_default()
}

fn reply_text(status: u16, text: &'static str) -> Reply {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .body(Body::from(text))
        .unwrap_or_default()
}

/// Accepts futures user-stream connections on the private route: a live listenKey in the query
/// gets every event pushed from then on; anything else is closed at once.
async fn serve_user_streams(listener: tokio::net::TcpListener, state: Arc<Mutex<MockState>>) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    while let Ok((tcp, _)) = listener.accept().await {
        // Subscribe before the handshake completes, so an event sent right after the client's
        // connect returns is not missed.
        let mut events = lock(&state).usdm.subscribe();
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let mut target = String::new();
            // The error type is tungstenite's handshake response, not ours to shrink.
            #[allow(clippy::result_large_err)]
            let record = |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                          resp| {
                target = req.uri().to_string();
                Ok(resp)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, record).await else {
                return;
            };
            let key = target
                .split_once("listenKey=")
                .map(|(_, rest)| rest.split('&').next().unwrap_or("").to_owned());
            let live = target.starts_with("/private/ws")
                && key.is_some_and(|k| lock(&state).usdm.listen_keys.contains(&k));
            if !live {
                let _ = ws.close(None).await;
                return;
            }
            loop {
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(text) => {
                            if ws.send(Message::text(text)).await.is_err() {
                                return;
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return,
                    },
                    frame = ws.next() => match frame {
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
        });
    }
}

fn lock(m: &Mutex<MockState>) -> MutexGuard<'_, MockState> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! [`BinanceSpot`]: Binance Spot as an [`ExchangeClient`].
//!
//! Recovery rules (see the trait): `order_status` asks `GET /api/v3/order` by
//! `origClientOrderId` and answers `Ok(None)` only on `-2013`; `fills_since` pages `myTrades`
//! with `fromId = last trade id + 1`, or from the cursor's time when no fill was applied yet
//! (see `trades_from_time`); placement sends our client id as `newClientOrderId`, and a timeout, transport failure,
//! 5XX or `-1007` comes back as an unknown outcome for the caller to look up.
//!
//! # Spot positions
//!
//! Spot has no positions; [`positions`](ExchangeClient::positions) derives them from balances:
//! for each configured symbol (in configuration order), the base asset's `free + locked`
//! balance is a long position of that size, unless it is dust (under half a lot). A base asset
//! shared by several configured symbols is reported once, on the first of them. The average
//! entry is unknown to the venue and reported as 0; the engine keeps entries from its own fills.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::Method;
use rustrade_core::{
    Asset, AssetClass, Balance, Capability, ClientOrderId, ExchangeClient, ExchangeError, Fill,
    FillCursor, InstrumentSpec, Money, OpenOrder, Order, OrderId, OrderState, Position, Side,
    Symbol, Venue,
};
use serde_json::Value;

use crate::clock::wall_clock_ms;
use crate::filters::{SymbolInfo, parse_exchange_info};
use crate::id_memory::IdMemory;
use crate::orders::{check_client_id, parse_order, spot_order_params};
use crate::parse::Obj;
use crate::trades::{parse_my_trade, trade_id_of};
use crate::{Auth, BinanceError, Call, Product, RateStatus, RestClient, SpotConfig};

/// A day in ms: the widest `myTrades` time window Binance accepts.
const DAY_MS: i64 = 86_400_000;
/// How far back a fill catch-up without a trade id scans by day windows.
const WINDOW_SCAN_DAYS: i64 = 7;

/// Binance Spot order entry and account queries over signed REST.
///
/// ```no_run
/// use rustrade_binance::{BinanceSpot, Credentials, Environment, SpotConfig};
/// use rustrade_core::{ExchangeClient, Symbol};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let creds = Credentials::hmac("api-key", "secret");
/// let config = SpotConfig::new(Environment::Testnet, Some(creds))
///     .with_symbols([Symbol::new("BTCUSDT")?]);
/// let spot = BinanceSpot::new(config)?;
/// let spec = spot.instrument(&Symbol::new("BTCUSDT")?).await?;
/// println!("tick {}", spec.tick_size());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BinanceSpot {
    rest: RestClient,
    config: SpotConfig,
    symbols: Mutex<HashMap<Symbol, SymbolInfo>>,
    client_ids: Mutex<IdMemory>,
    close_seq: AtomicU64,
}

impl BinanceSpot {
    /// A client for `config` (no request is sent until the first call).
    pub fn new(config: SpotConfig) -> Result<Self, BinanceError> {
        let urls = config.environment.endpoints(Product::Spot);
        let rest = RestClient::new(&urls.rest, config.credentials.clone(), &config.rest)?;
        Ok(Self {
            rest,
            config,
            symbols: Mutex::new(HashMap::new()),
            client_ids: Mutex::new(IdMemory::default()),
            close_seq: AtomicU64::new(0),
        })
    }

    /// The REST transport (clock, rate budget).
    pub fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// Rate-limit health: an IP ban or a 429 back-off shows here while it lasts.
    pub fn health(&self) -> RateStatus {
        self.rest.health()
    }

    /// Loads `exchangeInfo` for `symbols` (all when empty) and the live rate limits.
    pub async fn load_instruments(
        &self,
        symbols: &[Symbol],
    ) -> Result<Vec<SymbolInfo>, BinanceError> {
        let mut call = Call::new(Method::GET, "/api/v3/exchangeInfo", 20, Auth::None);
        if !symbols.is_empty() {
            let list: Vec<String> = symbols.iter().map(|s| format!("\"{s}\"")).collect();
            call = call.param("symbols", format!("[{}]", list.join(",")));
        }
        let v = self.rest.call(&call).await?;
        let info = parse_exchange_info(&v, AssetClass::CryptoSpot)?;
        self.rest.set_limits(info.rate_limits);
        let mut map = lock(&self.symbols);
        for s in &info.symbols {
            map.insert(s.spec.symbol(), s.clone());
        }
        Ok(info.symbols)
    }

    /// The rules of `symbol`, from the cache or `exchangeInfo`.
    pub async fn symbol_info(&self, symbol: &Symbol) -> Result<SymbolInfo, BinanceError> {
        if let Some(i) = lock(&self.symbols).get(symbol) {
            return Ok(i.clone());
        }
        self.load_instruments(std::slice::from_ref(symbol))
            .await?
            .into_iter()
            .find(|i| i.spec.symbol() == *symbol)
            .ok_or_else(|| BinanceError::UnknownSymbol(symbol.to_string()))
    }

    /// Every non-zero balance of the account.
    pub async fn balances(&self) -> Result<Vec<Balance>, BinanceError> {
        let call = Call::new(Method::GET, "/api/v3/account", 20, Auth::Signed)
            .param("omitZeroBalances", "true");
        let v = self.rest.call(&call).await?;
        let root = Obj::root(&v)?;
        let Some(Value::Array(list)) = root.get("balances") else {
            return Err(root.bad("balances", "expected an array").into());
        };
        list.iter()
            .map(|b| {
                let o = Obj::root(b)?;
                Ok(Balance {
                    asset: Asset::new(o.str("asset")?)?,
                    free: Money::named("free", o.decimal("free")?)?,
                    locked: Money::named("locked", o.decimal("locked")?)?,
                })
            })
            .collect()
    }

    /// Places `order`; the venue's order id once accepted.
    pub async fn place(&self, order: &Order) -> Result<OrderId, BinanceError> {
        let info = self.symbol_info(&order.symbol).await?;
        let params = spot_order_params(order, &info.spec)?;
        let mut call = Call::new(Method::POST, "/api/v3/order", 1, Auth::Signed).placing_order();
        call.params = params;
        let v = self.rest.call(&call).await?;
        let id = crate::orders::id_text(&Obj::root(&v)?, "orderId")?;
        lock(&self.client_ids).remember(id, order.client_id);
        Ok(id)
    }

    /// Cancels by our client id (and the venue's id when given, which must then match).
    pub async fn cancel(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Result<(), BinanceError> {
        let mut call = Call::new(Method::DELETE, "/api/v3/order", 1, Auth::Signed)
            .param("symbol", symbol.as_str());
        if check_client_id(client_id.as_str()).is_ok() {
            call = call.param("origClientOrderId", client_id.as_str());
        } else if let Some(id) = order_id {
            call = call.param("orderId", id.as_str());
        } else {
            check_client_id(client_id.as_str())?;
        }
        self.rest.call(&call).await.map(drop)
    }

    /// Our order `client_id` on `symbol`, open or finished; `None` on `-2013` only.
    pub async fn status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, BinanceError> {
        check_client_id(client_id.as_str())?;
        let call = Call::new(Method::GET, "/api/v3/order", 4, Auth::Signed)
            .param("symbol", symbol.as_str())
            .param("origClientOrderId", client_id.as_str());
        match self.rest.call(&call).await {
            Ok(v) => {
                let state = parse_order(&v)?;
                lock(&self.client_ids).remember(state.order.order_id, *client_id);
                Ok(Some(state))
            }
            Err(e) if e.code() == Some(-2013) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Open orders in `symbol`, or in every symbol (weight 80).
    pub async fn list_open(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, BinanceError> {
        let mut call = Call::new(
            Method::GET,
            "/api/v3/openOrders",
            if symbol.is_some() { 6 } else { 80 },
            Auth::Signed,
        );
        if let Some(s) = symbol {
            call = call.param("symbol", s.as_str());
        }
        let v = self.rest.call(&call).await?;
        let Value::Array(list) = &v else {
            return Err(Obj::root(&v)?.bad("openOrders", "expected an array").into());
        };
        let orders: Vec<OpenOrder> = list
            .iter()
            .map(|o| parse_order(o).map(|s| s.order))
            .collect::<Result<_, _>>()?;
        let mut ids = lock(&self.client_ids);
        for o in &orders {
            if let Some(c) = o.client_id {
                ids.remember(o.order_id, c);
            }
        }
        Ok(orders)
    }

    /// One page of our trades on `symbol` after `cursor`, oldest first.
    pub async fn trades_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, BinanceError> {
        let base = Call::new(Method::GET, "/api/v3/myTrades", 20, Auth::Signed)
            .param("symbol", symbol.as_str())
            .param("limit", "1000");
        let page = if let Some(after) = &cursor.after {
            let from = trade_id_of(after)?.saturating_add(1);
            self.rest
                .call(&base.param("fromId", from.to_string()))
                .await?
        } else {
            self.trades_from_time(&base, cursor.since.as_millis().max(0))
                .await?
        };
        let Value::Array(list) = &page else {
            return Err(Obj::root(&page)?
                .bad("myTrades", "expected an array")
                .into());
        };
        let mut fills = Vec::with_capacity(list.len());
        for t in list {
            let mut f = parse_my_trade(t, None)?;
            f.client_id = self.client_id_of(symbol, &f.order_id).await;
            fills.push(f);
        }
        fills.sort_by_key(|f| trade_id_of(&f.fill_id).unwrap_or(i64::MAX));
        Ok(fills)
    }

    /// The first trades at or after `since` (ms) when no trade id is known yet.
    ///
    /// Within [`WINDOW_SCAN_DAYS`] of now, 24-hour `startTime` windows are scanned forward
    /// until one holds trades. Further back, ids are walked from 0 a page at a time, dropping
    /// trades older than `since`, until a page keeps some or the history ends: one request per
    /// thousand older trades instead of one per day.
    async fn trades_from_time(&self, base: &Call, since: i64) -> Result<Value, BinanceError> {
        let now = self.rest.clock().now_ms();
        if now - since <= WINDOW_SCAN_DAYS * DAY_MS {
            let mut start = since;
            loop {
                let end = start + DAY_MS - 1;
                let call = base
                    .clone()
                    .param("startTime", start.to_string())
                    .param("endTime", end.to_string());
                let v = self.rest.call(&call).await?;
                if !v.as_array().is_some_and(Vec::is_empty) || end >= now {
                    return Ok(v);
                }
                start = end + 1;
            }
        }
        let mut from = 0i64;
        loop {
            let v = self
                .rest
                .call(&base.clone().param("fromId", from.to_string()))
                .await?;
            let Value::Array(list) = v else {
                return Ok(v);
            };
            let full = list.len() >= 1000;
            let last = list
                .last()
                .and_then(|t| t.get("id"))
                .and_then(Value::as_i64);
            let kept: Vec<Value> = list
                .into_iter()
                .filter(|t| {
                    t.get("time")
                        .and_then(Value::as_i64)
                        .is_none_or(|ms| ms >= since)
                })
                .collect();
            match last {
                Some(id) if kept.is_empty() && full => from = id + 1,
                _ => return Ok(Value::Array(kept)),
            }
        }
    }

    /// Base-asset holdings of the configured symbols as positions (see the module doc).
    pub async fn derived_positions(&self) -> Result<Vec<(Symbol, Position)>, BinanceError> {
        let balances = self.balances().await?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for symbol in &self.config.symbols {
            let info = self.symbol_info(symbol).await?;
            if !seen.insert(info.base) {
                continue;
            }
            let held = balances
                .iter()
                .find(|b| b.asset == info.base)
                .map_or(0.0, |b| b.free.get() + b.locked.get());
            if !info.spec.is_dust(held) {
                out.push((*symbol, Position::new(held, 0.0)));
            }
        }
        Ok(out)
    }

    /// Sells the free base-asset balance of `symbol` at market; `None` when under one lot.
    pub async fn close(&self, symbol: &Symbol) -> Result<Option<OrderId>, BinanceError> {
        let info = self.symbol_info(symbol).await?;
        let free = self
            .balances()
            .await?
            .into_iter()
            .find(|b| b.asset == info.base)
            .map_or(0.0, |b| b.free.get());
        let qty = info.spec.round_qty_down(free);
        if qty.is_zero() || qty.get() + 1e-12 < info.spec.min_qty() {
            return Ok(None);
        }
        let seq = self.close_seq.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{}-{seq}", self.config.close_id_prefix, wall_clock_ms());
        let client_id = ClientOrderId::new(&id)?;
        let order = Order::market(client_id, *symbol, Side::Sell, qty).reduce_only();
        self.place(&order).await.map(Some)
    }

    /// The client id of `order_id`: remembered, or looked up (`GET /api/v3/order?orderId=`).
    async fn client_id_of(&self, symbol: &Symbol, order_id: &OrderId) -> Option<ClientOrderId> {
        if let Some(c) = lock(&self.client_ids).get(order_id) {
            return Some(c);
        }
        let call = Call::new(Method::GET, "/api/v3/order", 4, Auth::Signed)
            .param("symbol", symbol.as_str())
            .param("orderId", order_id.as_str());
        let state = parse_order(&self.rest.call(&call).await.ok()?).ok()?;
        let c = state.order.client_id?;
        lock(&self.client_ids).remember(*order_id, c);
        Some(c)
    }
}

#[async_trait::async_trait]
impl ExchangeClient for BinanceSpot {
    fn venue(&self) -> Venue {
        Venue::new("binance").unwrap_or_else(|_| unreachable!())
    }

    fn supports(&self, capability: Capability) -> bool {
        matches!(
            capability,
            Capability::MarketOrders
                | Capability::LimitOrders
                | Capability::PostOnly
                | Capability::Ioc
                | Capability::Fok
                | Capability::StopLimit
                | Capability::OrderTracking
        )
    }

    async fn instrument(&self, symbol: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        Ok(self.symbol_info(symbol).await?.spec)
    }

    async fn place_order(&self, order: &Order) -> Result<OrderId, ExchangeError> {
        Ok(self.place(order).await?)
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Result<(), ExchangeError> {
        Ok(self.cancel(symbol, client_id, order_id).await?)
    }

    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, ExchangeError> {
        let call = Call::new(Method::DELETE, "/api/v3/openOrders", 1, Auth::Signed)
            .param("symbol", symbol.as_str());
        match self.rest.call(&call).await {
            Ok(v) => Ok(v.as_array().map_or(0, Vec::len)),
            // Binance answers "Unknown order sent." when nothing was open.
            Err(e) if e.code() == Some(-2011) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
        Ok(self.list_open(symbol).await?)
    }

    async fn position(&self, symbol: &Symbol) -> Result<Position, ExchangeError> {
        let info = self.symbol_info(symbol).await?;
        let held = self
            .balances()
            .await?
            .into_iter()
            .find(|b| b.asset == info.base)
            .map_or(0.0, |b| b.free.get() + b.locked.get());
        Ok(if info.spec.is_dust(held) {
            Position::FLAT
        } else {
            Position::new(held, 0.0)
        })
    }

    async fn balance(&self, asset: &Asset) -> Result<Balance, ExchangeError> {
        Ok(self
            .balances()
            .await?
            .into_iter()
            .find(|b| b.asset == *asset)
            .unwrap_or(Balance {
                asset: *asset,
                free: Money::ZERO,
                locked: Money::ZERO,
            }))
    }

    async fn close_position(&self, symbol: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        Ok(self.close(symbol).await?)
    }

    async fn order_status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, ExchangeError> {
        Ok(self.status(symbol, client_id).await?)
    }

    async fn fills_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, ExchangeError> {
        Ok(self.trades_since(symbol, cursor).await?)
    }

    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError> {
        Ok(self.derived_positions().await?)
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

//! What every product client of this venue ([`BinanceSpot`](crate::BinanceSpot),
//! [`BinanceUsdm`](crate::BinanceUsdm)) shares: the [`ProductApi`] naming where the products
//! differ only in endpoints and parsers, and the [`ClientCore`] keeping the rules written once
//! over it — the instrument cache, which client id each venue order id belongs to, lookups by
//! client id, the fill catch-up page, closing orders, the balance of an asset — and
//! [`exchange_client!`], core's `ExchangeClient` delegated to a product's inherent methods.
//!
//! A product file keeps only what its venue does differently (its order endpoints, positions,
//! account mode).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use reqwest::Method;
use rustrade_core::{
    Asset, AssetClass, Balance, ClientOrderId, Fill, FillCursor, InstrumentSpec, Money, OpenOrder,
    Order, OrderState, Side, Symbol,
};
use serde_json::Value;

use crate::clock::wall_clock_ms;
use crate::filters::{SymbolInfo, parse_exchange_info};
use crate::id_memory::IdMemory;
use crate::parse::Obj;
use crate::trades::trade_id_of;
use crate::{Auth, BinanceError, Call, RestClient};

/// A REST endpoint: its path and request weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint {
    pub(crate) path: &'static str,
    pub(crate) weight: u32,
}

/// How a fill catch-up with no trade id yet finds the first trades at or after a time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimeScan {
    /// The widest `startTime`..`endTime` window the venue accepts, in ms.
    pub(crate) window_ms: i64,
    /// How far back from now windows are scanned.
    pub(crate) reach_ms: i64,
    /// What happens to a start further back than `reach_ms`.
    pub(crate) older: Older,
}

/// A [`TimeScan`] start further back than its reach.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Older {
    /// Trade ids are walked from 0 a page at a time, dropping trades older than the start,
    /// until a page keeps some or the history ends (one request per thousand older trades
    /// instead of one per window).
    WalkIds,
    /// The scan starts at the reach: the venue keeps nothing older.
    Clamp,
}

/// The endpoints and parsers of one product, where the products differ in name only.
#[derive(Debug)]
pub(crate) struct ProductApi {
    /// The asset class of its instruments.
    pub(crate) asset_class: AssetClass,
    /// `GET` of one order by `origClientOrderId` or `orderId`.
    pub(crate) order: Endpoint,
    /// `GET` of the open orders of one symbol; `all_open_weight` for every symbol.
    pub(crate) open_orders: Endpoint,
    /// Weight of the open-orders request without a symbol.
    pub(crate) all_open_weight: u32,
    /// `GET` of our trades on a symbol, up to 1000 a page, `fromId` or a time window.
    pub(crate) trades: Endpoint,
    /// The name of the trades answer in errors (`myTrades`).
    pub(crate) trades_name: &'static str,
    /// How trades are found from a time.
    pub(crate) time_scan: TimeScan,
    /// An order object as core's order state.
    pub(crate) parse_order: fn(&Value) -> Result<OrderState, BinanceError>,
    /// A trade entry as a fill (the client id from the caller's lookup).
    pub(crate) parse_trade: fn(&Value, Option<ClientOrderId>) -> Result<Fill, BinanceError>,
}

/// The state and rules every product client shares (see the module doc).
#[derive(Debug)]
pub(crate) struct ClientCore {
    pub(crate) rest: Arc<RestClient>,
    api: &'static ProductApi,
    symbols: Mutex<HashMap<Symbol, SymbolInfo>>,
    client_ids: Mutex<IdMemory>,
    close_id_prefix: String,
    close_seq: AtomicU64,
}

impl ClientCore {
    /// The core of a client of `api` over `rest`; its closing orders' ids start with
    /// `close_id_prefix`, refused here unless every such id is one Binance accepts.
    pub(crate) fn new(
        rest: RestClient,
        api: &'static ProductApi,
        close_id_prefix: &str,
    ) -> Result<Self, BinanceError> {
        crate::client_ids::check_close_id_prefix(close_id_prefix)?;
        Ok(Self {
            rest: Arc::new(rest),
            api,
            symbols: Mutex::new(HashMap::new()),
            client_ids: Mutex::new(IdMemory::default()),
            close_id_prefix: close_id_prefix.to_owned(),
            close_seq: AtomicU64::new(0),
        })
    }

    /// Sends an `exchangeInfo` request, caches its symbols and sets the live rate limits.
    pub(crate) async fn load_instruments(
        &self,
        call: &Call,
    ) -> Result<Vec<SymbolInfo>, BinanceError> {
        let v = self.rest.call(call).await?;
        let info = parse_exchange_info(&v, self.api.asset_class)?;
        self.rest.set_limits(info.rate_limits);
        let mut map = lock(&self.symbols);
        for s in &info.symbols {
            map.insert(s.spec.symbol(), s.clone());
        }
        Ok(info.symbols)
    }

    /// The rules of `symbol`, from the cache or the `exchangeInfo` request `call`.
    pub(crate) async fn symbol_info(
        &self,
        symbol: &Symbol,
        call: impl FnOnce() -> Call,
    ) -> Result<SymbolInfo, BinanceError> {
        if let Some(i) = lock(&self.symbols).get(symbol) {
            return Ok(i.clone());
        }
        self.load_instruments(&call())
            .await?
            .into_iter()
            .find(|i| i.spec.symbol() == *symbol)
            .ok_or_else(|| BinanceError::UnknownSymbol(symbol.to_string()))
    }

    /// Remembers that venue order `order_id` is our `client_id`.
    pub(crate) fn remember(&self, order_id: rustrade_core::OrderId, client_id: ClientOrderId) {
        lock(&self.client_ids).remember(order_id, client_id);
    }

    /// Remembers the client id of each order in `orders` that has one.
    pub(crate) fn remember_all(&self, orders: &[OpenOrder]) {
        let mut ids = lock(&self.client_ids);
        for o in orders {
            if let Some(c) = o.client_id {
                ids.remember(o.order_id, c);
            }
        }
    }

    /// Our order `client_id` on `symbol` from the order endpoint; `None` on `-2013` only.
    pub(crate) async fn order_by_client_id(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, BinanceError> {
        let call = self
            .get(self.api.order, symbol)
            .param("origClientOrderId", client_id.as_str());
        match self.rest.call(&call).await {
            Ok(v) => {
                let state = (self.api.parse_order)(&v)?;
                self.remember(state.order.order_id, *client_id);
                Ok(Some(state))
            }
            Err(e) if e.code() == Some(-2013) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The open orders of the order endpoint family, in `symbol` or every symbol (not yet
    /// remembered: the caller adds what else it lists, then calls [`Self::remember_all`]).
    pub(crate) async fn open_orders(
        &self,
        symbol: Option<&Symbol>,
    ) -> Result<Vec<OpenOrder>, BinanceError> {
        let call = self.listing(self.api.open_orders, symbol);
        let v = self.rest.call(&call).await?;
        array(&v, "openOrders")?
            .iter()
            .map(|o| (self.api.parse_order)(o).map(|s| s.order))
            .collect()
    }

    /// A `GET` request to a listing `endpoint`, for `symbol` or (weight `all_open_weight`)
    /// every symbol.
    pub(crate) fn listing(&self, endpoint: Endpoint, symbol: Option<&Symbol>) -> Call {
        match symbol {
            Some(s) => self.get(endpoint, s),
            None => Call::new(
                Method::GET,
                endpoint.path,
                self.api.all_open_weight,
                Auth::Signed,
            ),
        }
    }

    /// One page of our trades on `symbol` after `cursor`, oldest first, with client ids.
    pub(crate) async fn trades_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, BinanceError> {
        let base = self.get(self.api.trades, symbol).param("limit", "1000");
        let page = if let Some(after) = &cursor.after {
            let from = trade_id_of(after)?.saturating_add(1);
            self.rest
                .call(&base.param("fromId", from.to_string()))
                .await?
        } else {
            self.trades_from_time(&base, cursor.since.as_millis().max(0))
                .await?
        };
        let list = array(&page, self.api.trades_name)?;
        let mut fills = Vec::with_capacity(list.len());
        for t in list {
            let mut f = (self.api.parse_trade)(t, None)?;
            f.client_id = self.client_id_of(symbol, &f.order_id).await;
            fills.push(f);
        }
        fills.sort_by_key(|f| trade_id_of(&f.fill_id).unwrap_or(i64::MAX));
        Ok(fills)
    }

    /// A reduce-only market order selling (`side`) `amount` of `symbol`, rounded down to the
    /// lot, with a fresh closing id; `None` when that is under one lot.
    pub(crate) fn close_order(
        &self,
        spec: &InstrumentSpec,
        side: Side,
        amount: f64,
    ) -> Result<Option<Order>, BinanceError> {
        let qty = spec.round_qty_down(amount);
        if qty.is_zero() || qty.get() + 1e-12 < spec.min_qty() {
            return Ok(None);
        }
        let seq = self.close_seq.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}-{}-{seq}", self.close_id_prefix, wall_clock_ms());
        let client_id = ClientOrderId::new(&id)?;
        Ok(Some(
            Order::market(client_id, spec.symbol(), side, qty).reduce_only(),
        ))
    }

    /// A signed `GET` to `endpoint` about `symbol`.
    fn get(&self, endpoint: Endpoint, symbol: &Symbol) -> Call {
        Call::new(Method::GET, endpoint.path, endpoint.weight, Auth::Signed)
            .param("symbol", symbol.as_str())
    }

    /// The first trades at or after `since` (ms) when no trade id is known yet (see
    /// [`TimeScan`]).
    async fn trades_from_time(&self, base: &Call, since: i64) -> Result<Value, BinanceError> {
        let scan = self.api.time_scan;
        let now = self.rest.clock().now_ms();
        let start = if now - since <= scan.reach_ms {
            since
        } else {
            match scan.older {
                Older::WalkIds => return self.walk_ids(base, since).await,
                Older::Clamp => now - scan.reach_ms,
            }
        };
        let mut start = start;
        loop {
            let end = start + scan.window_ms - 1;
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

    /// [`Older::WalkIds`]: pages from trade id 0 until one keeps trades at or after `since`.
    async fn walk_ids(&self, base: &Call, since: i64) -> Result<Value, BinanceError> {
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

    /// The client id of `order_id`: remembered, or looked up by `orderId`.
    async fn client_id_of(
        &self,
        symbol: &Symbol,
        order_id: &rustrade_core::OrderId,
    ) -> Option<ClientOrderId> {
        if let Some(c) = lock(&self.client_ids).get(order_id) {
            return Some(c);
        }
        let call = self
            .get(self.api.order, symbol)
            .param("orderId", order_id.as_str());
        let state = (self.api.parse_order)(&self.rest.call(&call).await.ok()?).ok()?;
        let c = state.order.client_id?;
        self.remember(*order_id, c);
        Some(c)
    }
}

/// The balance of `asset` among `balances`, or zero when the account holds none.
pub(crate) fn balance_of(balances: Vec<Balance>, asset: &Asset) -> Balance {
    balances
        .into_iter()
        .find(|b| b.asset == *asset)
        .unwrap_or(Balance {
            asset: *asset,
            free: Money::ZERO,
            locked: Money::ZERO,
        })
}

/// `v` as an array, or an error naming the answer `what`.
pub(crate) fn array<'a>(v: &'a Value, what: &'static str) -> Result<&'a Vec<Value>, BinanceError> {
    match v {
        Value::Array(list) => Ok(list),
        other => Err(Obj::root(other)
            .map_or_else(|e| e, |o| o.bad(what, "expected an array"))
            .into()),
    }
}

/// The guard of `m`, also after a panic elsewhere poisoned it (the data are plain maps).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Implements core's `ExchangeClient` for a product client by delegating to its inherent
/// methods of the same contract: `symbol_info`, `place`, `cancel`, `list_open`, `balances`,
/// `close`, `status` and `trades_since`, with `BinanceError` mapped onto `ExchangeError`. The
/// braces hold the trait items where the products' rules differ (venue, capabilities,
/// `cancel_all`, `position`, `positions`).
macro_rules! exchange_client {
    ($client:ty { $($own:tt)* }) => {
        #[async_trait::async_trait]
        impl rustrade_core::ExchangeClient for $client {
            $($own)*

            async fn instrument(
                &self,
                symbol: &rustrade_core::Symbol,
            ) -> Result<rustrade_core::InstrumentSpec, rustrade_core::ExchangeError> {
                Ok(self.symbol_info(symbol).await?.spec)
            }

            async fn place_order(
                &self,
                order: &rustrade_core::Order,
            ) -> Result<rustrade_core::OrderId, rustrade_core::ExchangeError> {
                Ok(self.place(order).await?)
            }

            async fn cancel_order(
                &self,
                symbol: &rustrade_core::Symbol,
                client_id: &rustrade_core::ClientOrderId,
                order_id: Option<&rustrade_core::OrderId>,
            ) -> Result<(), rustrade_core::ExchangeError> {
                Ok(self.cancel(symbol, client_id, order_id).await?)
            }

            async fn open_orders(
                &self,
                symbol: Option<&rustrade_core::Symbol>,
            ) -> Result<Vec<rustrade_core::OpenOrder>, rustrade_core::ExchangeError> {
                Ok(self.list_open(symbol).await?)
            }

            async fn balance(
                &self,
                asset: &rustrade_core::Asset,
            ) -> Result<rustrade_core::Balance, rustrade_core::ExchangeError> {
                Ok($crate::client::balance_of(self.balances().await?, asset))
            }

            async fn close_position(
                &self,
                symbol: &rustrade_core::Symbol,
            ) -> Result<Option<rustrade_core::OrderId>, rustrade_core::ExchangeError> {
                Ok(self.close(symbol).await?)
            }

            async fn order_status(
                &self,
                symbol: &rustrade_core::Symbol,
                client_id: &rustrade_core::ClientOrderId,
            ) -> Result<Option<rustrade_core::OrderState>, rustrade_core::ExchangeError> {
                Ok(self.status(symbol, client_id).await?)
            }

            async fn fills_since(
                &self,
                symbol: &rustrade_core::Symbol,
                cursor: &rustrade_core::FillCursor,
            ) -> Result<Vec<rustrade_core::Fill>, rustrade_core::ExchangeError> {
                Ok(self.trades_since(symbol, cursor).await?)
            }

            fn check_client_id_prefix(
                &self,
                prefix: &str,
            ) -> Result<(), rustrade_core::ExchangeError> {
                Ok($crate::client_ids::check_client_id_prefix(prefix)?)
            }
        }
    };
}
pub(crate) use exchange_client;

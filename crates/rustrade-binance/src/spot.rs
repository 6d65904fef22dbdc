//! [`BinanceSpot`]: Binance Spot as an [`ExchangeClient`](rustrade_core::ExchangeClient).
//!
//! Recovery rules (see the trait): `order_status` asks `GET /api/v3/order` by
//! `origClientOrderId` and answers `Ok(None)` only on `-2013`; `fills_since` pages `myTrades`
//! with `fromId = last trade id + 1`, or from the cursor's time when no fill was applied yet
//! (day windows within 7 days of now, trade ids walked from 0 further back); placement sends
//! our client id as `newClientOrderId`, and a timeout, transport failure, 5XX or `-1007` comes
//! back as an unknown outcome for the caller to look up.
//!
//! # Spot positions
//!
//! Spot has no positions; [`positions`](rustrade_core::ExchangeClient::positions) derives them from balances:
//! for each configured symbol (in configuration order), the base asset's `free + locked`
//! balance is a long position of that size, unless it is dust (under half a lot). A base asset
//! shared by several configured symbols is reported once, on the first of them. The average
//! entry is unknown to the venue and reported as 0; the engine keeps entries from its own fills.

use std::collections::HashSet;

use reqwest::Method;
use rustrade_core::{
    Asset, Balance, Capability, ClientOrderId, Fill, FillCursor, Money, OpenOrder, Order, OrderId,
    OrderState, Position, Side, Symbol, Venue,
};
use serde_json::Value;

use crate::client::{ClientCore, Endpoint, Older, ProductApi, TimeScan, exchange_client};
use crate::filters::SymbolInfo;
use crate::orders::{check_client_id, parse_order, spot_order_params};
use crate::parse::Obj;
use crate::trades::parse_my_trade;
use crate::{Auth, BinanceError, Call, Product, RateStatus, RestClient, SpotConfig};

/// A day in ms: the widest `myTrades` time window Binance accepts.
const DAY_MS: i64 = 86_400_000;

/// Spot's endpoints and parsers. A fill catch-up without a trade id scans day windows within
/// 7 days of now, and walks trade ids from 0 further back.
static SPOT_API: ProductApi = ProductApi {
    asset_class: rustrade_core::AssetClass::CryptoSpot,
    order: Endpoint {
        path: "/api/v3/order",
        weight: 4,
    },
    open_orders: Endpoint {
        path: "/api/v3/openOrders",
        weight: 6,
    },
    all_open_weight: 80,
    trades: Endpoint {
        path: "/api/v3/myTrades",
        weight: 20,
    },
    trades_name: "myTrades",
    time_scan: TimeScan {
        window_ms: DAY_MS,
        reach_ms: 7 * DAY_MS,
        older: Older::WalkIds,
    },
    parse_order,
    parse_trade: parse_my_trade,
};

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
    core: ClientCore,
    config: SpotConfig,
}

impl BinanceSpot {
    /// A client for `config` (no request is sent until the first call).
    pub fn new(config: SpotConfig) -> Result<Self, BinanceError> {
        let urls = config.environment.endpoints(Product::Spot);
        let rest = RestClient::new(&urls.rest, config.credentials.clone(), &config.rest)?;
        Ok(Self {
            core: ClientCore::new(rest, &SPOT_API, &config.close_id_prefix)?,
            config,
        })
    }

    /// The REST transport (clock, rate budget).
    pub fn rest(&self) -> &RestClient {
        &self.core.rest
    }

    /// Rate-limit health: an IP ban or a 429 back-off shows here while it lasts.
    pub fn health(&self) -> RateStatus {
        self.core.rest.health()
    }

    /// Loads `exchangeInfo` for `symbols` (all when empty) and the live rate limits.
    pub async fn load_instruments(
        &self,
        symbols: &[Symbol],
    ) -> Result<Vec<SymbolInfo>, BinanceError> {
        self.core
            .load_instruments(&exchange_info_call(symbols))
            .await
    }

    /// The rules of `symbol`, from the cache or `exchangeInfo`.
    pub async fn symbol_info(&self, symbol: &Symbol) -> Result<SymbolInfo, BinanceError> {
        self.core
            .symbol_info(symbol, || exchange_info_call(std::slice::from_ref(symbol)))
            .await
    }

    /// Every non-zero balance of the account.
    pub async fn balances(&self) -> Result<Vec<Balance>, BinanceError> {
        let call = Call::new(Method::GET, "/api/v3/account", 20, Auth::Signed)
            .param("omitZeroBalances", "true");
        let v = self.core.rest.call(&call).await?;
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
        let v = self.core.rest.call(&call).await?;
        let id = crate::orders::id_text(&Obj::root(&v)?, "orderId")?;
        self.core.remember(id, order.client_id);
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
        self.core.rest.call(&call).await.map(drop)
    }

    /// Our order `client_id` on `symbol`, open or finished; `None` on `-2013` only.
    pub async fn status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, BinanceError> {
        check_client_id(client_id.as_str())?;
        self.core.order_by_client_id(symbol, client_id).await
    }

    /// Open orders in `symbol`, or in every symbol (weight 80).
    pub async fn list_open(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, BinanceError> {
        let orders = self.core.open_orders(symbol).await?;
        self.core.remember_all(&orders);
        Ok(orders)
    }

    /// One page of our trades on `symbol` after `cursor`, oldest first.
    pub async fn trades_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, BinanceError> {
        self.core.trades_since(symbol, cursor).await
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
            if let Some(p) = held_position(&balances, &info) {
                out.push((*symbol, p));
            }
        }
        Ok(out)
    }

    /// Sells the free base-asset balance of `symbol` at market; `None` when under one lot.
    pub async fn close(&self, symbol: &Symbol) -> Result<Option<OrderId>, BinanceError> {
        let info = self.symbol_info(symbol).await?;
        let free = crate::client::balance_of(self.balances().await?, &info.base)
            .free
            .get();
        match self.core.close_order(&info.spec, Side::Sell, free)? {
            Some(order) => self.place(&order).await.map(Some),
            None => Ok(None),
        }
    }
}

exchange_client!(BinanceSpot {
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

    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, rustrade_core::ExchangeError> {
        let call = Call::new(Method::DELETE, "/api/v3/openOrders", 1, Auth::Signed)
            .param("symbol", symbol.as_str());
        match self.core.rest.call(&call).await {
            Ok(v) => Ok(v.as_array().map_or(0, Vec::len)),
            // Binance answers "Unknown order sent." when nothing was open.
            Err(e) if e.code() == Some(-2011) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    async fn position(&self, symbol: &Symbol) -> Result<Position, rustrade_core::ExchangeError> {
        let info = self.symbol_info(symbol).await?;
        Ok(held_position(&self.balances().await?, &info).unwrap_or(Position::FLAT))
    }

    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, rustrade_core::ExchangeError> {
        Ok(self.derived_positions().await?)
    }
});

/// `GET /api/v3/exchangeInfo` for `symbols` (all when empty).
fn exchange_info_call(symbols: &[Symbol]) -> Call {
    let mut call = Call::new(Method::GET, "/api/v3/exchangeInfo", 20, Auth::None);
    if !symbols.is_empty() {
        let list: Vec<String> = symbols.iter().map(|s| format!("\"{s}\"")).collect();
        call = call.param("symbols", format!("[{}]", list.join(",")));
    }
    call
}

/// The long position the base asset of `info` held in `balances` (`free + locked`) stands
/// for; `None` when that is dust (under half a lot).
fn held_position(balances: &[Balance], info: &SymbolInfo) -> Option<Position> {
    let held = balances
        .iter()
        .find(|b| b.asset == info.base)
        .map_or(0.0, |b| b.free.get() + b.locked.get());
    (!info.spec.is_dust(held)).then(|| Position::new(held, 0.0))
}

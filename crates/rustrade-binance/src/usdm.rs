//! [`BinanceUsdm`]: Binance USDⓈ-M futures as an [`ExchangeClient`], in one-way position mode.
//!
//! # Position mode
//!
//! Only one-way mode (`dualSidePosition = false`) is spoken: every order leaves
//! `positionSide` at `BOTH` and reduce-only is the `reduceOnly` flag. Before the first order
//! (or in [`prepare`](BinanceUsdm::prepare)) the account's mode is read; a hedge-mode account
//! is refused with [`BinanceError::Unsupported`] naming hedge mode, and so is any hedge-mode
//! position `positionRisk` reports. `prepare` also sets the configured leverage and margin type.
//!
//! # Orders
//!
//! Regular kinds go to `/fapi/v1/order`, conditional ones to `/fapi/v1/algoOrder` (see
//! [`usdm_orders`](crate::usdm_orders)). Lookups by our client id try the regular order first
//! and the algo order second (first when this client placed it as one): `order_status` answers
//! `Ok(None)` only when both say `-2013`. A triggered algo order is reported with the status
//! and fills of the regular order its trigger placed. `open_orders` lists both kinds.
//!
//! # Recovery
//!
//! `fills_since` pages `userTrades` from `fromId = last trade id + 1`; with no trade id yet it
//! scans 7-day windows (the widest the venue accepts) forward from the cursor's time, starting
//! no earlier than 180 days ago (the venue keeps six months). A timeout, transport failure,
//! 5XX or `-1007` on placement is an unknown outcome for the caller to look up.
//!
//! # Positions
//!
//! `positions` reads `GET /fapi/v3/positionRisk`: the signed `positionAmt`, the venue's average
//! `entryPrice` and `unRealizedProfit`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Method;
use rustrade_core::{
    Asset, Balance, Capability, ClientOrderId, Fill, FillCursor, Money, OpenOrder, Order, OrderId,
    OrderState, Position, Side, Symbol, Venue,
};
use serde_json::Value;

use crate::client::{
    ClientCore, Endpoint, Older, ProductApi, TimeScan, array, exchange_client, lock,
};
use crate::filters::SymbolInfo;
use crate::orders::check_client_id;
use crate::parse::{MarkPrice, Obj, parse_premium_index};
use crate::usdm_orders::{
    UsdmRequest, parse_algo_order, parse_usdm_order, parse_user_trade, usdm_order_request,
};
use crate::{Auth, BinanceError, Call, Product, RateStatus, RestClient, UsdmConfig};

/// A day in ms.
const DAY_MS: i64 = 86_400_000;
/// `-4046`: the margin type is already the one asked for.
const NO_NEED_TO_CHANGE_MARGIN: i64 = -4046;
/// The conditional orders' open list, apart from the regular one.
const OPEN_ALGO_ORDERS: Endpoint = Endpoint {
    path: "/fapi/v1/openAlgoOrders",
    weight: 1,
};

/// USD-M futures' endpoints and parsers. A fill catch-up without a trade id scans 7-day
/// windows (the widest `userTrades` accepts) from no earlier than 180 days ago (the venue keeps
/// six months).
static USDM_API: ProductApi = ProductApi {
    asset_class: rustrade_core::AssetClass::CryptoPerp,
    order: Endpoint {
        path: "/fapi/v1/order",
        weight: 1,
    },
    open_orders: Endpoint {
        path: "/fapi/v1/openOrders",
        weight: 1,
    },
    all_open_weight: 40,
    trades: Endpoint {
        path: "/fapi/v1/userTrades",
        weight: 5,
    },
    trades_name: "userTrades",
    time_scan: TimeScan {
        window_ms: 7 * DAY_MS,
        reach_ms: 180 * DAY_MS,
        older: Older::Clamp,
    },
    parse_order: parse_usdm_order,
    parse_trade: parse_user_trade,
};

/// Binance USD-M futures order entry and account queries over signed REST.
///
/// ```no_run
/// use rustrade_binance::{BinanceUsdm, Credentials, Environment, MarginType, SymbolSetup, UsdmConfig};
/// use rustrade_core::{ExchangeClient, Symbol};
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let btc = Symbol::new("BTCUSDT")?;
/// let config = UsdmConfig::new(Environment::Testnet, Some(Credentials::hmac("key", "secret")))
///     .with_setup(btc, SymbolSetup { leverage: 3, margin_type: MarginType::Isolated });
/// let futures = BinanceUsdm::new(config)?;
/// futures.prepare().await?; // refuses a hedge-mode account, sets leverage and margin type
/// println!("{:?}", futures.positions().await?);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BinanceUsdm {
    core: ClientCore,
    config: UsdmConfig,
    algo_ids: Mutex<HashSet<ClientOrderId>>,
    one_way_checked: AtomicBool,
}

impl BinanceUsdm {
    /// A client for `config` (no request is sent until the first call).
    pub fn new(config: UsdmConfig) -> Result<Self, BinanceError> {
        let urls = config.environment.endpoints(Product::UsdMFutures);
        let rest = RestClient::for_product(
            Product::UsdMFutures,
            &urls.rest,
            config.credentials.clone(),
            &config.rest,
        )?;
        Ok(Self {
            core: ClientCore::new(rest, &USDM_API, &config.close_id_prefix)?,
            config,
            algo_ids: Mutex::new(HashSet::new()),
            one_way_checked: AtomicBool::new(false),
        })
    }

    /// The REST transport (clock, rate budget), shared with the user-data stream.
    pub fn rest(&self) -> Arc<RestClient> {
        Arc::clone(&self.core.rest)
    }

    /// Rate-limit health: an IP ban or a 429 back-off shows here while it lasts.
    pub fn health(&self) -> RateStatus {
        self.core.rest.health()
    }

    /// Checks the account is in one-way mode, then sets each configured symbol's leverage and
    /// margin type. Safe to repeat.
    pub async fn prepare(&self) -> Result<(), BinanceError> {
        self.ensure_one_way().await?;
        for (symbol, setup) in &self.config.setup {
            let call = Call::new(Method::POST, "/fapi/v1/marginType", 1, Auth::Signed)
                .param("symbol", symbol.as_str())
                .param("marginType", setup.margin_type.as_str());
            match self.core.rest.call(&call).await {
                Ok(_) => {}
                Err(e) if e.code() == Some(NO_NEED_TO_CHANGE_MARGIN) => {}
                Err(e) => return Err(e),
            }
            let call = Call::new(Method::POST, "/fapi/v1/leverage", 1, Auth::Signed)
                .param("symbol", symbol.as_str())
                .param("leverage", setup.leverage.to_string());
            self.core.rest.call(&call).await?;
        }
        Ok(())
    }

    /// Refuses a hedge-mode account (read once, then remembered).
    async fn ensure_one_way(&self) -> Result<(), BinanceError> {
        if self.one_way_checked.load(Ordering::Acquire) {
            return Ok(());
        }
        let call = Call::new(Method::GET, "/fapi/v1/positionSide/dual", 30, Auth::Signed);
        let v = self.core.rest.call(&call).await?;
        if Obj::root(&v)?.bool("dualSidePosition")? {
            return Err(hedge_mode());
        }
        self.one_way_checked.store(true, Ordering::Release);
        Ok(())
    }

    /// Loads `exchangeInfo` (every symbol) and the live rate limits.
    pub async fn load_instruments(&self) -> Result<Vec<SymbolInfo>, BinanceError> {
        self.core.load_instruments(&exchange_info_call()).await
    }

    /// The rules of `symbol`, from the cache or `exchangeInfo`.
    pub async fn symbol_info(&self, symbol: &Symbol) -> Result<SymbolInfo, BinanceError> {
        self.core.symbol_info(symbol, exchange_info_call).await
    }

    /// The mark price, index price and funding of `symbol` (`GET /fapi/v1/premiumIndex`).
    pub async fn mark_price(&self, symbol: &Symbol) -> Result<MarkPrice, BinanceError> {
        let call = Call::new(Method::GET, "/fapi/v1/premiumIndex", 1, Auth::None)
            .param("symbol", symbol.as_str());
        Ok(parse_premium_index(&self.core.rest.call(&call).await?)?)
    }

    /// Wallet balances of every asset (`GET /fapi/v3/balance`): free is `availableBalance`,
    /// locked the rest of the wallet balance (margin in use).
    pub async fn balances(&self) -> Result<Vec<Balance>, BinanceError> {
        let call = Call::new(Method::GET, "/fapi/v3/balance", 5, Auth::Signed);
        let v = self.core.rest.call(&call).await?;
        array(&v, "balance")?
            .iter()
            .map(|b| {
                let o = Obj::root(b)?;
                let wallet = o.decimal("balance")?;
                let free = o.decimal("availableBalance")?;
                Ok(Balance {
                    asset: Asset::new(o.str("asset")?)?,
                    free: Money::named("availableBalance", free)?,
                    locked: Money::named("balance", (wallet - free).max(0.0))?,
                })
            })
            .collect()
    }

    /// Places `order` (regular or conditional); the venue's order id (or algo id) once accepted.
    pub async fn place(&self, order: &Order) -> Result<OrderId, BinanceError> {
        self.ensure_one_way().await?;
        let info = self.symbol_info(&order.symbol).await?;
        let request = usdm_order_request(order, &info.spec, self.config.trigger_on_mark_price)?;
        let (path, id_field, algo) = match &request {
            UsdmRequest::Order(_) => ("/fapi/v1/order", "orderId", false),
            UsdmRequest::Algo(_) => ("/fapi/v1/algoOrder", "algoId", true),
        };
        let mut call = Call::new(Method::POST, path, 0, Auth::Signed).placing_order();
        call.params = request.params().to_vec();
        if algo {
            lock(&self.algo_ids).insert(order.client_id);
        }
        let v = self.core.rest.call(&call).await?;
        let id = crate::orders::id_text(&Obj::root(&v)?, id_field)?;
        if !algo {
            self.core.remember(id, order.client_id);
        }
        Ok(id)
    }

    /// Cancels our order `client_id`, regular or conditional.
    pub async fn cancel(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Result<(), BinanceError> {
        check_client_id(client_id.as_str())?;
        let algo_first = lock(&self.algo_ids).contains(client_id);
        let regular = || {
            let mut call = Call::new(Method::DELETE, "/fapi/v1/order", 1, Auth::Signed)
                .param("symbol", symbol.as_str())
                .param("origClientOrderId", client_id.as_str());
            if let Some(id) = order_id.filter(|_| !algo_first) {
                call = call.param("orderId", id.as_str());
            }
            call
        };
        let algo = Call::new(Method::DELETE, "/fapi/v1/algoOrder", 1, Auth::Signed)
            .param("symbol", symbol.as_str())
            .param("clientAlgoId", client_id.as_str());
        let (first, second) = if algo_first {
            (algo, regular())
        } else {
            (regular(), algo)
        };
        match self.core.rest.call(&first).await {
            Err(e) if is_unknown_order(&e) => self.core.rest.call(&second).await.map(drop),
            other => other.map(drop),
        }
    }

    /// Our order `client_id` on `symbol`, regular or conditional, open or finished; `None` only
    /// when both lookups say `-2013`.
    pub async fn status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, BinanceError> {
        check_client_id(client_id.as_str())?;
        let algo_first = lock(&self.algo_ids).contains(client_id);
        if algo_first && let Some(s) = self.algo_status(symbol, client_id).await? {
            return Ok(Some(s));
        }
        if let Some(s) = self.core.order_by_client_id(symbol, client_id).await? {
            return Ok(Some(s));
        }
        if algo_first {
            return Ok(None);
        }
        self.algo_status(symbol, client_id).await
    }

    /// The conditional order `client_id`; once triggered, with the status and fills of the
    /// regular order it placed.
    async fn algo_status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, BinanceError> {
        let call = Call::new(Method::GET, "/fapi/v1/algoOrder", 1, Auth::Signed)
            .param("symbol", symbol.as_str())
            .param("clientAlgoId", client_id.as_str());
        let v = match self.core.rest.call(&call).await {
            Ok(v) => v,
            Err(e) if e.code() == Some(-2013) => return Ok(None),
            Err(e) => return Err(e),
        };
        let algo = parse_algo_order(&v)?;
        lock(&self.algo_ids).insert(*client_id);
        let mut state = algo.state;
        if let (true, Some(actual)) = (algo.triggered, algo.actual_order_id) {
            let call = Call::new(Method::GET, "/fapi/v1/order", 1, Auth::Signed)
                .param("symbol", symbol.as_str())
                .param("orderId", actual.as_str());
            let placed = parse_usdm_order(&self.core.rest.call(&call).await?)?;
            self.core.remember(actual, *client_id);
            state.order.status = placed.order.status;
            state.order.filled = placed.order.filled;
            state.avg_fill_price = placed.avg_fill_price;
        }
        Ok(Some(state))
    }

    /// Working orders, regular and conditional, in `symbol` or every symbol.
    pub async fn list_open(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, BinanceError> {
        let mut orders = self.core.open_orders(symbol).await?;
        let algo = self.core.listing(OPEN_ALGO_ORDERS, symbol);
        let v = self.core.rest.call(&algo).await?;
        let mut algo_ids = lock(&self.algo_ids);
        for a in array(&v, "openAlgoOrders")? {
            let a = parse_algo_order(a)?;
            if let Some(c) = a.state.order.client_id {
                algo_ids.insert(c);
            }
            orders.push(a.state.order);
        }
        drop(algo_ids);
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

    /// Every non-flat position (`GET /fapi/v3/positionRisk`).
    pub async fn risk_positions(
        &self,
        symbol: Option<&Symbol>,
    ) -> Result<Vec<(Symbol, Position)>, BinanceError> {
        let mut call = Call::new(Method::GET, "/fapi/v3/positionRisk", 5, Auth::Signed);
        if let Some(s) = symbol {
            call = call.param("symbol", s.as_str());
        }
        let v = self.core.rest.call(&call).await?;
        let mut out = Vec::new();
        for p in array(&v, "positionRisk")? {
            let o = Obj::root(p)?;
            if o.get("positionSide")
                .and_then(Value::as_str)
                .unwrap_or("BOTH")
                != "BOTH"
            {
                return Err(hedge_mode());
            }
            let qty = o.decimal("positionAmt")?;
            if qty == 0.0 {
                continue;
            }
            let s = Symbol::new(o.str("symbol")?)?;
            let mut position = Position::new(qty, o.decimal("entryPrice")?);
            position.unrealised_pnl = o.decimal("unRealizedProfit")?;
            out.push((s, position));
        }
        Ok(out)
    }

    /// The position in `symbol`, flat when `positionRisk` lists none.
    async fn risk_position(&self, symbol: &Symbol) -> Result<Position, BinanceError> {
        Ok(self
            .risk_positions(Some(symbol))
            .await?
            .into_iter()
            .find(|(s, _)| s == symbol)
            .map_or(Position::FLAT, |(_, p)| p))
    }

    /// Closes the position in `symbol` with a reduce-only market order; `None` when flat.
    pub async fn close(&self, symbol: &Symbol) -> Result<Option<OrderId>, BinanceError> {
        let info = self.symbol_info(symbol).await?;
        let held = self.risk_position(symbol).await?.quantity;
        let side = if held > 0.0 { Side::Sell } else { Side::Buy };
        match self.core.close_order(&info.spec, side, held.abs())? {
            Some(order) => self.place(&order).await.map(Some),
            None => Ok(None),
        }
    }
}

exchange_client!(BinanceUsdm {
    fn venue(&self) -> Venue {
        Venue::new("binance-usdm").unwrap_or_else(|_| unreachable!())
    }

    fn supports(&self, capability: Capability) -> bool {
        !matches!(capability, Capability::TrailingStop)
    }

    /// Cancels regular and conditional orders; the count is of those open just before.
    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, rustrade_core::ExchangeError> {
        let open = self.list_open(Some(symbol)).await?.len();
        for path in ["/fapi/v1/allOpenOrders", "/fapi/v1/algoOpenOrders"] {
            let call =
                Call::new(Method::DELETE, path, 1, Auth::Signed).param("symbol", symbol.as_str());
            self.core.rest.call(&call).await?;
        }
        Ok(open)
    }

    async fn position(&self, symbol: &Symbol) -> Result<Position, rustrade_core::ExchangeError> {
        Ok(self.risk_position(symbol).await?)
    }

    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, rustrade_core::ExchangeError> {
        Ok(self.risk_positions(None).await?)
    }
});

/// `GET /fapi/v1/exchangeInfo` (every symbol).
fn exchange_info_call() -> Call {
    Call::new(Method::GET, "/fapi/v1/exchangeInfo", 1, Auth::None)
}

fn hedge_mode() -> BinanceError {
    BinanceError::Unsupported(
        "hedge mode (dualSidePosition): switch the account to one-way mode".into(),
    )
}

/// "No such order" from a cancel (`-2011`) or a lookup (`-2013`).
fn is_unknown_order(e: &BinanceError) -> bool {
    matches!(e.code(), Some(-2011 | -2013))
}

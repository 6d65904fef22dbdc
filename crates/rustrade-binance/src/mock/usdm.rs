//! The USD-M futures side of the mock venue: `/fapi/*` REST and the listenKey user-data stream.
//!
//! One-way account in USDT: positions carry a signed amount and an average entry (a fill that
//! adds to a position averages the entry; one that reduces it realises PnL into the wallet; one
//! that flips it opens the rest at the fill price). Margin is `notional / leverage`; a new
//! order needing more than the available balance is refused (`-2019`). Fees: 0.04 % taker,
//! 0.02 % maker, in USDT. The venue's documented refusals: a conditional type on
//! `/fapi/v1/order` (`-4120`), a duplicate open client id (`-4116`), a reduce-only order that
//! would open or flip (`-2022`), a crossing post-only (`GTX`) order (`-5022`), a notional under
//! the minimum (`-4164`), an unknown order (`-2011` cancel, `-2013` query), a gone listenKey
//! (`-1125`). Conditional orders rest at the algo service and, when
//! [`MockBinance::set_price`](super::MockBinance::set_price) crosses their trigger, place a
//! regular order carrying the algo order's client id.
//!
//! Every change is pushed to connected user streams as `ORDER_TRADE_UPDATE`, `ALGO_UPDATE` and
//! `ACCOUNT_UPDATE`, in the documented field layout.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::{MockOrder, MockState, MockSymbol, crosses, dec, err, is_open, on_step};

/// Taker fee rate.
const TAKER_FEE: f64 = 0.0004;
/// Maker fee rate.
const MAKER_FEE: f64 = 0.0002;
/// Leverage of a symbol nobody set.
const DEFAULT_LEVERAGE: u32 = 20;

/// The futures account the mock holds.
#[derive(Debug)]
pub struct UsdmState {
    /// Hedge mode (`dualSidePosition`): the client must refuse such an account.
    pub dual_side: bool,
    /// Leverage per symbol, as set through `POST /fapi/v1/leverage`.
    pub leverage: BTreeMap<String, u32>,
    /// Margin type per symbol (`CROSSED` unless set).
    pub margin_type: BTreeMap<String, String>,
    /// Regular orders by venue id.
    pub orders: BTreeMap<i64, MockOrder>,
    /// Conditional orders by algo id.
    pub algos: BTreeMap<i64, MockAlgo>,
    /// Signed amount and average entry per symbol.
    pub positions: BTreeMap<String, (f64, f64)>,
    /// USDT wallet balance.
    pub wallet: f64,
    /// Our trades, oldest first (`userTrades` shape).
    pub trades: Vec<Value>,
    /// Live listenKeys.
    pub listen_keys: BTreeSet<String>,
    /// Keep-alives received.
    pub keepalives: usize,
    pub(super) events: broadcast::Sender<String>,
    next_order_id: i64,
    next_algo_id: i64,
    next_trade_id: i64,
    next_key: u64,
}

/// A conditional order held by the mock's algo service.
#[derive(Debug, Clone)]
pub struct MockAlgo {
    /// Algo id.
    pub id: i64,
    /// Our id (`clientAlgoId`).
    pub client_id: String,
    /// Symbol.
    pub symbol: String,
    /// `BUY`/`SELL`.
    pub side: String,
    /// `STOP_MARKET`, `STOP`, `TAKE_PROFIT_MARKET`, `TAKE_PROFIT`.
    pub ty: String,
    /// Trigger price.
    pub trigger: f64,
    /// Limit price (0 for the market kinds).
    pub price: f64,
    /// Quantity.
    pub qty: f64,
    /// Reduce-only.
    pub reduce_only: bool,
    /// `NEW`, `CANCELED`, `TRIGGERED`, `FINISHED`.
    pub status: String,
    /// The regular order placed on trigger.
    pub actual_order_id: Option<i64>,
    /// Creation time.
    pub time: i64,
}

impl UsdmState {
    pub(super) fn new(wallet: f64) -> Self {
        let (events, _) = broadcast::channel(1024);
        Self {
            dual_side: false,
            leverage: BTreeMap::new(),
            margin_type: BTreeMap::new(),
            orders: BTreeMap::new(),
            algos: BTreeMap::new(),
            positions: BTreeMap::new(),
            wallet,
            trades: Vec::new(),
            listen_keys: BTreeSet::new(),
            keepalives: 0,
            events,
            next_order_id: 1,
            next_algo_id: 1,
            next_trade_id: 1,
            next_key: 1,
        }
    }

    /// A receiver of every user-data event pushed from now on.
    pub(super) fn subscribe(&self) -> broadcast::Receiver<String> {
        self.events.subscribe()
    }

    /// Pushes `text` to every connected user stream.
    pub(super) fn push(&self, text: String) {
        let _ = self.events.send(text);
    }
}

/// Paths that need no key at all.
pub(super) fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/fapi/v1/time" | "/fapi/v1/exchangeInfo" | "/fapi/v1/klines" | "/fapi/v1/premiumIndex"
    )
}

/// Paths that need the key header but no signature.
pub(super) fn is_key_only(path: &str) -> bool {
    path == "/fapi/v1/listenKey"
}

/// Documented request weights.
pub(super) fn weight_of(method: &str, path: &str, raw: &str) -> u32 {
    match (method, path) {
        ("GET", "/fapi/v1/positionSide/dual") => 30,
        ("GET", "/fapi/v1/openOrders" | "/fapi/v1/openAlgoOrders") if raw.contains("symbol=") => 1,
        ("GET", "/fapi/v1/openOrders" | "/fapi/v1/openAlgoOrders") => 40,
        ("GET", "/fapi/v1/userTrades" | "/fapi/v3/positionRisk" | "/fapi/v3/balance") => 5,
        ("POST", "/fapi/v1/order" | "/fapi/v1/algoOrder") => 0,
        _ => 1,
    }
}

type Answer = Result<Value, (u16, Value)>;

impl MockState {
    /// Answers a `/fapi` request that passed authentication.
    pub(super) fn route_usdm(
        &mut self,
        method: &str,
        path: &str,
        p: &BTreeMap<String, String>,
        now: i64,
    ) -> Answer {
        let get = |k: &str| p.get(k).map(String::as_str);
        match (method, path) {
            ("GET", "/fapi/v1/time") => Ok(json!({ "serverTime": now })),
            ("GET", "/fapi/v1/exchangeInfo") => Ok(self.usdm_exchange_info()),
            ("GET", "/fapi/v1/klines") => Ok(self.klines(get("symbol"), get("startTime"))),
            ("GET", "/fapi/v1/premiumIndex") => self.premium_index(get("symbol"), now),
            ("GET", "/fapi/v1/positionSide/dual") => {
                Ok(json!({ "dualSidePosition": self.usdm.dual_side }))
            }
            ("POST", "/fapi/v1/leverage") => self.set_leverage(p),
            ("POST", "/fapi/v1/marginType") => self.set_margin_type(p),
            ("POST", "/fapi/v1/order") => self.usdm_new_order(p, now),
            ("POST", "/fapi/v1/algoOrder") => self.new_algo(p, now),
            ("GET", "/fapi/v1/order") => self
                .usdm_find(get("origClientOrderId"), get("orderId"))
                .map(|o| usdm_order_json(o, self.usdm_avg(o)))
                .ok_or((400, err(-2013, "Order does not exist."))),
            ("DELETE", "/fapi/v1/order") => {
                let id = self
                    .usdm_find(get("origClientOrderId"), get("orderId"))
                    .filter(|o| is_open(&o.status))
                    .map(|o| o.id)
                    .ok_or((400, err(-2011, "Unknown order sent.")))?;
                let o = self.usdm_cancel_one(id, now);
                Ok(usdm_order_json(&o, 0.0))
            }
            ("GET", "/fapi/v1/openOrders") => Ok(Value::Array(
                self.usdm
                    .orders
                    .values()
                    .filter(|o| is_open(&o.status) && get("symbol").is_none_or(|s| s == o.symbol))
                    .map(|o| usdm_order_json(o, self.usdm_avg(o)))
                    .collect(),
            )),
            ("DELETE", "/fapi/v1/allOpenOrders") => {
                let symbol = get("symbol").unwrap_or_default().to_owned();
                let ids: Vec<i64> = self
                    .usdm
                    .orders
                    .values()
                    .filter(|o| o.symbol == symbol && is_open(&o.status))
                    .map(|o| o.id)
                    .collect();
                for id in ids {
                    self.usdm_cancel_one(id, now);
                }
                Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
            }
            ("GET", "/fapi/v1/algoOrder") => self
                .algo_find(get("clientAlgoId"), get("algoId"))
                .map(algo_json)
                .ok_or((400, err(-2013, "Order does not exist."))),
            ("DELETE", "/fapi/v1/algoOrder") => {
                let id = self
                    .algo_find(get("clientAlgoId"), get("algoId"))
                    .filter(|a| a.status == "NEW")
                    .map(|a| a.id)
                    .ok_or((400, err(-2011, "Unknown order sent.")))?;
                self.algo_cancel_one(id, now);
                Ok(
                    json!({"algoId": id, "clientAlgoId": get("clientAlgoId").unwrap_or(""), "code": "200", "msg": "success"}),
                )
            }
            ("GET", "/fapi/v1/openAlgoOrders") => Ok(Value::Array(
                self.usdm
                    .algos
                    .values()
                    .filter(|a| a.status == "NEW" && get("symbol").is_none_or(|s| s == a.symbol))
                    .map(algo_json)
                    .collect(),
            )),
            ("DELETE", "/fapi/v1/algoOpenOrders") => {
                let symbol = get("symbol").unwrap_or_default().to_owned();
                let ids: Vec<i64> = self
                    .usdm
                    .algos
                    .values()
                    .filter(|a| a.symbol == symbol && a.status == "NEW")
                    .map(|a| a.id)
                    .collect();
                for id in ids {
                    self.algo_cancel_one(id, now);
                }
                Ok(json!({"code": 200, "msg": "The operation of cancel all open order is done."}))
            }
            ("GET", "/fapi/v1/userTrades") => Ok(self.user_trades(p)),
            ("GET", "/fapi/v3/positionRisk") => Ok(self.position_risk(get("symbol"), now)),
            ("GET", "/fapi/v3/balance") => Ok(self.usdm_balance(now)),
            ("POST", "/fapi/v1/listenKey") => {
                let key = match self.usdm.listen_keys.iter().next() {
                    Some(k) => k.clone(),
                    None => {
                        let k = format!("mockListenKey{:04}", self.usdm.next_key);
                        self.usdm.next_key += 1;
                        self.usdm.listen_keys.insert(k.clone());
                        k
                    }
                };
                Ok(json!({ "listenKey": key }))
            }
            ("PUT", "/fapi/v1/listenKey") => {
                if self.usdm.listen_keys.is_empty() {
                    return Err((400, err(-1125, "This listenKey does not exist.")));
                }
                self.usdm.keepalives += 1;
                Ok(json!({}))
            }
            ("DELETE", "/fapi/v1/listenKey") => {
                self.usdm.listen_keys.clear();
                Ok(json!({}))
            }
            _ => Err((404, err(-1000, "Unknown endpoint."))),
        }
    }

    /// Fills resting futures orders and fires conditional ones that `price` crosses.
    pub(super) fn usdm_on_price(&mut self, symbol: &str, price: f64, now: i64) {
        let crossing: Vec<i64> = self
            .usdm
            .orders
            .values()
            .filter(|o| o.symbol == symbol && is_open(&o.status) && o.ty == "LIMIT")
            .filter(|o| crosses(&o.side, o.price, price))
            .map(|o| o.id)
            .collect();
        for id in crossing {
            self.usdm_fill(id, price, true, now);
        }
        let fired: Vec<i64> = self
            .usdm
            .algos
            .values()
            .filter(|a| a.symbol == symbol && a.status == "NEW" && triggers(a, price))
            .map(|a| a.id)
            .collect();
        for id in fired {
            self.trigger_algo(id, now);
        }
    }

    fn usdm_symbol(&self, name: &str) -> Result<MockSymbol, (u16, Value)> {
        self.config
            .symbols
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .ok_or((400, err(-1121, "Invalid symbol.")))
    }

    fn usdm_exchange_info(&self) -> Value {
        let symbols: Vec<Value> = self
            .config
            .symbols
            .iter()
            .map(|s| {
                json!({
                    "symbol": s.name, "pair": s.name, "contractType": "PERPETUAL",
                    "status": "TRADING", "baseAsset": s.base, "quoteAsset": s.quote,
                    "marginAsset": s.quote, "pricePrecision": 2, "quantityPrecision": 5,
                    "orderTypes": ["LIMIT","MARKET","STOP","STOP_MARKET","TAKE_PROFIT","TAKE_PROFIT_MARKET","TRAILING_STOP_MARKET"],
                    "timeInForce": ["GTC","IOC","FOK","GTX","GTD"],
                    "filters": [
                        {"filterType":"PRICE_FILTER","minPrice":dec(s.tick),"maxPrice":"4529764","tickSize":dec(s.tick)},
                        {"filterType":"LOT_SIZE","minQty":dec(s.step),"maxQty":"1000","stepSize":dec(s.step)},
                        {"filterType":"MARKET_LOT_SIZE","minQty":dec(s.step),"maxQty":"120","stepSize":dec(s.step)},
                        {"filterType":"MAX_NUM_ORDERS","limit":200},
                        {"filterType":"MIN_NOTIONAL","notional":dec(s.min_notional)},
                        {"filterType":"PERCENT_PRICE","multiplierUp":"1.0500","multiplierDown":"0.9500","multiplierDecimal":"4"},
                        {"filterType":"POSITION_RISK_CONTROL","positionControlSide":"NONE"}
                    ]
                })
            })
            .collect();
        json!({
            "timezone": "UTC",
            "serverTime": self.now(),
            "rateLimits": [
                {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":self.config.weight_limit},
                {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":self.config.orders_per_10s}
            ],
            "assets": [], "symbols": symbols
        })
    }

    fn premium_index(&self, symbol: Option<&str>, now: i64) -> Answer {
        let s = self.usdm_symbol(symbol.unwrap_or(""))?;
        let next = (now.div_euclid(28_800_000) + 1) * 28_800_000;
        Ok(json!({
            "symbol": s.name, "markPrice": dec(s.price), "indexPrice": dec(s.price),
            "estimatedSettlePrice": dec(s.price), "lastFundingRate": "0.00010000",
            "interestRate": "0.00010000", "nextFundingTime": next, "time": now
        }))
    }

    fn set_leverage(&mut self, p: &BTreeMap<String, String>) -> Answer {
        let s = self.usdm_symbol(p.get("symbol").map_or("", String::as_str))?;
        let lev: u32 = p
            .get("leverage")
            .and_then(|l| l.parse().ok())
            .filter(|l| (1..=125).contains(l))
            .ok_or((400, err(-4028, "Leverage is not valid")))?;
        self.usdm.leverage.insert(s.name.clone(), lev);
        Ok(json!({"leverage": lev, "maxNotionalValue": "1000000", "symbol": s.name}))
    }

    fn set_margin_type(&mut self, p: &BTreeMap<String, String>) -> Answer {
        let s = self.usdm_symbol(p.get("symbol").map_or("", String::as_str))?;
        let ty = p.get("marginType").cloned().unwrap_or_default();
        if ty != "ISOLATED" && ty != "CROSSED" {
            return Err((400, err(-1116, "Invalid marginType.")));
        }
        let current = self
            .usdm
            .margin_type
            .get(&s.name)
            .cloned()
            .unwrap_or_else(|| "CROSSED".into());
        if current == ty {
            return Err((400, err(-4046, "No need to change margin type.")));
        }
        self.usdm.margin_type.insert(s.name, ty);
        Ok(json!({"code": 200, "msg": "success"}))
    }

    /// Checks shared by regular and conditional orders; the symbol, quantity and reduce flag.
    fn usdm_check(
        &self,
        p: &BTreeMap<String, String>,
        client_id: &str,
    ) -> Result<(MockSymbol, f64, bool), (u16, Value)> {
        let field = |k: &str| {
            p.get(k).cloned().ok_or_else(|| {
                (
                    400,
                    err(-1102, &format!("Mandatory parameter '{k}' was not sent.")),
                )
            })
        };
        let sym = self.usdm_symbol(&field("symbol")?)?;
        if self.usdm.dual_side {
            return Err((
                400,
                err(
                    -4061,
                    "Order's position side does not match user's setting.",
                ),
            ));
        }
        let qty: f64 = field("quantity")?.parse().map_err(|_| {
            (
                400,
                err(-1100, "Illegal characters found in parameter 'quantity'."),
            )
        })?;
        if !on_step(qty, sym.step) {
            return Err((
                400,
                err(
                    -1111,
                    "Precision is over the maximum defined for this asset.",
                ),
            ));
        }
        let duplicate = self
            .usdm
            .orders
            .values()
            .any(|o| o.client_id == client_id && is_open(&o.status))
            || self
                .usdm
                .algos
                .values()
                .any(|a| a.client_id == client_id && a.status == "NEW");
        if duplicate {
            return Err((400, err(-4116, "ClientOrderId is duplicated.")));
        }
        Ok((
            sym,
            qty,
            p.get("reduceOnly").map(String::as_str) == Some("true"),
        ))
    }

    fn usdm_new_order(&mut self, p: &BTreeMap<String, String>, now: i64) -> Answer {
        let ty = p.get("type").cloned().unwrap_or_default();
        if ty != "LIMIT" && ty != "MARKET" {
            return Err((
                400,
                err(
                    -4120,
                    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
                ),
            ));
        }
        let client_id = p
            .get("newClientOrderId")
            .cloned()
            .unwrap_or_else(|| format!("mock-f-{}", self.usdm.next_order_id));
        let (sym, qty, reduce_only) = self.usdm_check(p, &client_id)?;
        let side = p.get("side").cloned().unwrap_or_default();
        let price: f64 = p.get("price").and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let tif = p
            .get("timeInForce")
            .cloned()
            .unwrap_or_else(|| "GTC".into());
        self.place_regular(
            &sym,
            &side,
            &ty,
            &tif,
            price,
            qty,
            reduce_only,
            client_id,
            now,
        )
        .map(|(id, client_id)| {
            json!({"orderId": id, "symbol": sym.name, "status": "NEW", "clientOrderId": client_id, "updateTime": now})
        })
    }

    /// Validates, books and matches one regular order; its id and client id.
    #[allow(clippy::too_many_arguments)]
    fn place_regular(
        &mut self,
        sym: &MockSymbol,
        side: &str,
        ty: &str,
        tif: &str,
        price: f64,
        qty: f64,
        reduce_only: bool,
        client_id: String,
        now: i64,
    ) -> Result<(i64, String), (u16, Value)> {
        if ty == "LIMIT" && !on_step(price, sym.tick) {
            return Err((400, err(-4014, "Price not increased by tick size.")));
        }
        let ref_price = if ty == "MARKET" { sym.price } else { price };
        if !reduce_only && qty * ref_price + 1e-9 < sym.min_notional {
            return Err((
                400,
                err(
                    -4164,
                    "Order's notional must be no smaller than the minimum (unless you choose reduce only).",
                ),
            ));
        }
        let pos = self.usdm.positions.get(&sym.name).map_or(0.0, |p| p.0);
        let signed = if side == "BUY" { qty } else { -qty };
        if reduce_only && (pos == 0.0 || pos.signum() == signed.signum() || qty > pos.abs() + 1e-12)
        {
            return Err((400, err(-2022, "ReduceOnly Order is rejected.")));
        }
        let crossing = ty == "MARKET" || crosses(side, price, sym.price);
        if tif == "GTX" && crossing {
            return Err((
                400,
                err(
                    -5022,
                    "Due to the order could not be executed as maker, the Post Only order will be rejected.",
                ),
            ));
        }
        if !reduce_only {
            let lev = f64::from(self.leverage_of(&sym.name));
            if qty * ref_price / lev > self.available() + 1e-9 {
                return Err((400, err(-2019, "Margin is insufficient.")));
            }
        }
        let id = self.usdm.next_order_id;
        self.usdm.next_order_id += 1;
        let order = MockOrder {
            id,
            client_id: client_id.clone(),
            symbol: sym.name.clone(),
            side: side.to_owned(),
            ty: ty.to_owned(),
            tif: tif.to_owned(),
            price,
            stop: 0.0,
            qty,
            filled: 0.0,
            quote_filled: 0.0,
            status: "NEW".into(),
            time: now,
            reduce_only,
        };
        self.usdm.orders.insert(id, order.clone());
        self.push_order_update(&order, "NEW", None, now);
        if crossing {
            self.usdm_fill(id, sym.price, false, now);
        } else if tif == "IOC" || tif == "FOK" {
            if let Some(o) = self.usdm.orders.get_mut(&id) {
                o.status = "EXPIRED".into();
            }
            self.push_order_update(&order, "EXPIRED", None, now);
        }
        Ok((id, client_id))
    }

    fn new_algo(&mut self, p: &BTreeMap<String, String>, now: i64) -> Answer {
        if p.get("algoType").map(String::as_str) != Some("CONDITIONAL") {
            return Err((400, err(-1116, "Invalid algoType.")));
        }
        let ty = p.get("type").cloned().unwrap_or_default();
        if !matches!(
            ty.as_str(),
            "STOP_MARKET" | "STOP" | "TAKE_PROFIT_MARKET" | "TAKE_PROFIT"
        ) {
            return Err((400, err(-1116, "Invalid orderType.")));
        }
        let client_id = p
            .get("clientAlgoId")
            .cloned()
            .unwrap_or_else(|| format!("mock-a-{}", self.usdm.next_algo_id));
        let (sym, qty, reduce_only) = self.usdm_check(p, &client_id)?;
        let trigger: f64 = p
            .get("triggerPrice")
            .and_then(|v| v.parse().ok())
            .filter(|t| *t > 0.0)
            .ok_or((
                400,
                err(-1102, "Mandatory parameter 'triggerPrice' was not sent."),
            ))?;
        if !on_step(trigger, sym.tick) {
            return Err((400, err(-4014, "Price not increased by tick size.")));
        }
        let id = self.usdm.next_algo_id;
        self.usdm.next_algo_id += 1;
        let algo = MockAlgo {
            id,
            client_id,
            symbol: sym.name,
            side: p.get("side").cloned().unwrap_or_default(),
            ty,
            trigger,
            price: p.get("price").and_then(|v| v.parse().ok()).unwrap_or(0.0),
            qty,
            reduce_only,
            status: "NEW".into(),
            actual_order_id: None,
            time: now,
        };
        self.usdm.algos.insert(id, algo.clone());
        self.push_algo_update(&algo, now);
        Ok(algo_json(&algo))
    }

    fn trigger_algo(&mut self, id: i64, now: i64) {
        let Some(mut a) = self.usdm.algos.get(&id).cloned() else {
            return;
        };
        let Ok(sym) = self.usdm_symbol(&a.symbol) else {
            return;
        };
        let (ty, price) = if a.ty.ends_with("_MARKET") {
            ("MARKET", 0.0)
        } else {
            ("LIMIT", a.price)
        };
        let placed = self.place_regular(
            &sym,
            &a.side.clone(),
            ty,
            "GTC",
            price,
            a.qty,
            a.reduce_only,
            a.client_id.clone(),
            now,
        );
        match placed {
            Ok((order_id, _)) => {
                a.actual_order_id = Some(order_id);
                let done = self
                    .usdm
                    .orders
                    .get(&order_id)
                    .is_some_and(|o| !is_open(&o.status));
                a.status = if done { "FINISHED" } else { "TRIGGERED" }.into();
            }
            Err(_) => a.status = "REJECTED".into(),
        }
        self.push_algo_update(&a, now);
        self.usdm.algos.insert(id, a);
    }

    /// Fills the rest of regular order `id` at `price`.
    fn usdm_fill(&mut self, id: i64, price: f64, maker: bool, now: i64) {
        let Some(o) = self.usdm.orders.get_mut(&id) else {
            return;
        };
        let qty = o.qty - o.filled;
        o.filled = o.qty;
        o.quote_filled += qty * price;
        o.status = "FILLED".into();
        let o = o.clone();
        let signed = if o.side == "BUY" { qty } else { -qty };
        let (pos, entry) = self
            .usdm
            .positions
            .get(&o.symbol)
            .copied()
            .unwrap_or((0.0, 0.0));
        let mut realised = 0.0;
        let (new_pos, new_entry) = if pos == 0.0 || pos.signum() == signed.signum() {
            let total = pos.abs() + qty;
            (pos + signed, (pos.abs() * entry + qty * price) / total)
        } else {
            let closed = qty.min(pos.abs());
            realised = closed * (price - entry) * pos.signum();
            let after = pos + signed;
            if after.abs() < 1e-12 {
                (0.0, 0.0)
            } else if after.signum() == pos.signum() {
                (after, entry)
            } else {
                (after, price)
            }
        };
        self.usdm
            .positions
            .insert(o.symbol.clone(), (new_pos, new_entry));
        let fee = qty * price * if maker { MAKER_FEE } else { TAKER_FEE };
        self.usdm.wallet += realised - fee;
        let tid = self.usdm.next_trade_id;
        self.usdm.next_trade_id += 1;
        self.usdm.trades.push(json!({
            "buyer": o.side == "BUY", "commission": dec(fee), "commissionAsset": "USDT",
            "id": tid, "maker": maker, "orderId": o.id, "price": dec(price), "qty": dec(qty),
            "quoteQty": dec(qty * price), "realizedPnl": dec(realised), "side": o.side,
            "positionSide": "BOTH", "symbol": o.symbol, "time": now
        }));
        self.push_order_update(
            &o,
            "TRADE",
            Some((tid, qty, price, fee, maker, realised)),
            now,
        );
        self.push(json!({
            "e": "ACCOUNT_UPDATE", "E": now, "T": now,
            "a": {
                "m": "ORDER",
                "B": [{"a": "USDT", "wb": dec(self.usdm.wallet), "cw": dec(self.usdm.wallet), "bc": dec(realised - fee)}],
                "P": [{"s": o.symbol, "pa": dec(new_pos), "ep": dec(new_entry), "bep": dec(new_entry),
                       "cr": dec(realised), "up": "0", "mt": "cross", "iw": "0", "ps": "BOTH"}]
            }
        }));
        // A position closed to zero cancels reduce-only orders left on it.
        if new_pos == 0.0 {
            let stale: Vec<i64> = self
                .usdm
                .algos
                .values()
                .filter(|a| a.symbol == o.symbol && a.status == "NEW" && a.reduce_only)
                .map(|a| a.id)
                .collect();
            for id in stale {
                if let Some(a) = self.usdm.algos.get_mut(&id) {
                    a.status = "EXPIRED".into();
                    let a = a.clone();
                    self.push_algo_update(&a, now);
                }
            }
        }
    }

    fn usdm_cancel_one(&mut self, id: i64, now: i64) -> MockOrder {
        let Some(o) = self.usdm.orders.get_mut(&id) else {
            unreachable!("cancel of an order the mock does not hold")
        };
        o.status = "CANCELED".into();
        let o = o.clone();
        self.push_order_update(&o, "CANCELED", None, now);
        o
    }

    fn algo_cancel_one(&mut self, id: i64, now: i64) {
        if let Some(a) = self.usdm.algos.get_mut(&id) {
            a.status = "CANCELED".into();
            let a = a.clone();
            self.push_algo_update(&a, now);
        }
    }

    fn usdm_find(&self, client: Option<&str>, id: Option<&str>) -> Option<&MockOrder> {
        let id: Option<i64> = id.and_then(|i| i.parse().ok());
        self.usdm.orders.values().rev().find(|o| {
            client.is_none_or(|c| c == o.client_id)
                && id.is_none_or(|i| i == o.id)
                && (client.is_some() || id.is_some())
        })
    }

    fn algo_find(&self, client: Option<&str>, id: Option<&str>) -> Option<&MockAlgo> {
        let id: Option<i64> = id.and_then(|i| i.parse().ok());
        self.usdm.algos.values().rev().find(|a| {
            client.is_none_or(|c| c == a.client_id)
                && id.is_none_or(|i| i == a.id)
                && (client.is_some() || id.is_some())
        })
    }

    fn usdm_avg(&self, o: &MockOrder) -> f64 {
        if o.filled > 0.0 {
            o.quote_filled / o.filled
        } else {
            0.0
        }
    }

    fn leverage_of(&self, symbol: &str) -> u32 {
        self.usdm
            .leverage
            .get(symbol)
            .copied()
            .unwrap_or(DEFAULT_LEVERAGE)
    }

    /// Wallet minus the initial margin of open positions.
    fn available(&self) -> f64 {
        let used: f64 = self
            .usdm
            .positions
            .iter()
            .map(|(s, (q, e))| q.abs() * e / f64::from(self.leverage_of(s)))
            .sum();
        self.usdm.wallet - used
    }

    fn user_trades(&self, p: &BTreeMap<String, String>) -> Value {
        let num = |k: &str| p.get(k).and_then(|v| v.parse::<i64>().ok());
        let limit = num("limit").unwrap_or(500).clamp(1, 1000) as usize;
        let symbol = p.get("symbol").cloned().unwrap_or_default();
        let at = |t: &Value, k: &str| t[k].as_i64().unwrap_or(0);
        Value::Array(
            self.usdm
                .trades
                .iter()
                .filter(|t| t["symbol"] == symbol.as_str())
                .filter(|t| num("fromId").is_none_or(|f| at(t, "id") >= f))
                .filter(|t| num("startTime").is_none_or(|s| at(t, "time") >= s))
                .filter(|t| num("endTime").is_none_or(|e| at(t, "time") <= e))
                .take(limit)
                .cloned()
                .collect(),
        )
    }

    fn position_risk(&self, symbol: Option<&str>, now: i64) -> Value {
        let side = if self.usdm.dual_side { "LONG" } else { "BOTH" };
        let open_orders: BTreeSet<&str> = self
            .usdm
            .orders
            .values()
            .filter(|o| is_open(&o.status))
            .map(|o| o.symbol.as_str())
            .collect();
        Value::Array(
            self.config
                .symbols
                .iter()
                .filter(|s| symbol.is_none_or(|x| x == s.name))
                .filter_map(|s| {
                    let (q, e) = self.usdm.positions.get(&s.name).copied().unwrap_or_default();
                    if q == 0.0 && !open_orders.contains(s.name.as_str()) {
                        return None;
                    }
                    let up = q * (s.price - e);
                    Some(json!({
                        "symbol": s.name, "positionSide": side, "positionAmt": dec(q),
                        "entryPrice": dec(e), "breakEvenPrice": dec(e), "markPrice": dec(s.price),
                        "unRealizedProfit": dec(up), "liquidationPrice": "0", "isolatedMargin": "0",
                        "notional": dec(q * s.price), "marginAsset": "USDT", "isolatedWallet": "0",
                        "initialMargin": dec(q.abs() * s.price / f64::from(self.leverage_of(&s.name))),
                        "maintMargin": "0", "positionInitialMargin": "0", "openOrderInitialMargin": "0",
                        "adl": 0, "bidNotional": "0", "askNotional": "0", "updateTime": now
                    }))
                })
                .collect(),
        )
    }

    fn usdm_balance(&self, now: i64) -> Value {
        json!([{
            "accountAlias": "mock", "asset": "USDT", "balance": dec(self.usdm.wallet),
            "crossWalletBalance": dec(self.usdm.wallet), "crossUnPnl": "0",
            "availableBalance": dec(self.available()), "maxWithdrawAmount": dec(self.available()),
            "marginAvailable": true, "updateTime": now
        }])
    }

    fn push(&self, v: Value) {
        self.usdm.push(v.to_string());
    }

    fn push_order_update(
        &self,
        o: &MockOrder,
        x: &str,
        trade: Option<(i64, f64, f64, f64, bool, f64)>,
        now: i64,
    ) {
        let (t, l, last, n, m, rp) = trade.unwrap_or((0, 0.0, 0.0, 0.0, false, 0.0));
        let status = if x == "TRADE" { o.status.as_str() } else { x };
        self.push(json!({
            "e": "ORDER_TRADE_UPDATE", "E": now, "T": now,
            "o": {
                "s": o.symbol, "c": o.client_id, "S": o.side, "o": o.ty, "f": o.tif,
                "q": dec(o.qty), "p": dec(o.price), "ap": dec(self.usdm_avg(o)), "sp": "0",
                "x": x, "X": status, "i": o.id, "l": dec(l), "z": dec(o.filled), "L": dec(last),
                "N": "USDT", "n": dec(n), "T": now, "t": t, "b": "0", "a": "0", "m": m,
                "R": o.reduce_only, "wt": "CONTRACT_PRICE", "ot": o.ty, "ps": "BOTH",
                "cp": false, "rp": dec(rp), "pP": false, "si": 0, "ss": 0, "V": "NONE",
                "pm": "NONE", "gtd": 0
            }
        }));
    }

    fn push_algo_update(&self, a: &MockAlgo, now: i64) {
        self.push(json!({
            "e": "ALGO_UPDATE", "T": now, "E": now,
            "o": {
                "caid": a.client_id, "aid": a.id, "at": "CONDITIONAL", "o": a.ty, "s": a.symbol,
                "S": a.side, "ps": "BOTH", "f": "GTC", "q": dec(a.qty), "X": a.status,
                "ai": a.actual_order_id.map(|i| i.to_string()).unwrap_or_default(),
                "tp": dec(a.trigger), "p": dec(a.price), "V": "NONE", "wt": "CONTRACT_PRICE",
                "pm": "NONE", "cp": false, "pP": false, "R": a.reduce_only, "tt": 0, "gtd": 0
            }
        }));
    }
}

/// Whether `price` fires `a`: stops fire against the position (a sell stop at or below its
/// trigger), take-profits in its favour.
fn triggers(a: &MockAlgo, price: f64) -> bool {
    let stop = a.ty.starts_with("STOP");
    match (a.side.as_str(), stop) {
        ("SELL", true) | ("BUY", false) => price <= a.trigger,
        _ => price >= a.trigger,
    }
}

fn usdm_order_json(o: &MockOrder, avg: f64) -> Value {
    json!({
        "avgPrice": dec(avg), "clientOrderId": o.client_id, "cumQuote": dec(o.quote_filled),
        "executedQty": dec(o.filled), "orderId": o.id, "origQty": dec(o.qty), "origType": o.ty,
        "price": dec(o.price), "reduceOnly": o.reduce_only, "side": o.side,
        "positionSide": "BOTH", "status": o.status, "stopPrice": "0", "closePosition": false,
        "symbol": o.symbol, "time": o.time, "timeInForce": o.tif, "type": o.ty,
        "updateTime": o.time, "workingType": "CONTRACT_PRICE", "priceProtect": false,
        "priceMatch": "NONE", "selfTradePreventionMode": "NONE", "goodTillDate": 0
    })
}

fn algo_json(a: &MockAlgo) -> Value {
    json!({
        "algoId": a.id, "clientAlgoId": a.client_id, "algoType": "CONDITIONAL",
        "orderType": a.ty, "symbol": a.symbol, "side": a.side, "positionSide": "BOTH",
        "timeInForce": "GTC", "quantity": dec(a.qty), "algoStatus": a.status,
        "actualOrderId": a.actual_order_id.map(|i| i.to_string()).unwrap_or_default(),
        "actualPrice": "0", "triggerPrice": dec(a.trigger), "price": dec(a.price),
        "icebergQuantity": null, "selfTradePreventionMode": "NONE",
        "workingType": "CONTRACT_PRICE", "priceMatch": "NONE", "closePosition": false,
        "priceProtect": false, "reduceOnly": a.reduce_only, "createTime": a.time,
        "updateTime": a.time, "triggerTime": 0, "goodTillDate": 0
    })
}

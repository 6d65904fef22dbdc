//! `exchangeInfo` → [`SymbolInfo`]: the trading rules of each symbol as an [`InstrumentSpec`],
//! with its base and quote assets.
//!
//! Filters read: `PRICE_FILTER.tickSize` (the tick), `LOT_SIZE.stepSize`/`minQty` and
//! `MARKET_LOT_SIZE.stepSize`/`minQty` (the lot is the coarser non-zero step, so a quantity
//! rendered on it passes both; the minimum the larger), `MIN_NOTIONAL.minNotional` and
//! `NOTIONAL.minNotional` (the larger; futures name it `MIN_NOTIONAL.notional`). A step of 0 means the check is off: the asset's
//! precision stands in. Filters of other types (`POSITION_RISK_CONTROL`, `PERCENT_PRICE`, new
//! ones) are ignored, never an error.

use rustrade_core::{Asset, AssetClass, InstrumentSpec, Symbol};
use serde_json::Value;

use crate::parse::{Obj, ParseError};
use crate::{BinanceError, RateLimit};

/// One symbol's trading rules.
#[derive(Debug, Clone, PartialEq)]
pub struct SymbolInfo {
    /// Tick, lot, minimums and wire precision.
    pub spec: InstrumentSpec,
    /// The traded asset (`BTC` in `BTCUSDT`).
    pub base: Asset,
    /// The pricing asset (`USDT` in `BTCUSDT`).
    pub quote: Asset,
    /// Whether the symbol is `TRADING` (other states: `HALT`, `BREAK`, `CANCEL_ONLY`, ...).
    pub trading: bool,
    /// Order types the symbol accepts (`LIMIT`, `LIMIT_MAKER`, `STOP_LOSS_LIMIT`, ...).
    pub order_types: Vec<String>,
}

impl SymbolInfo {
    /// Whether the symbol accepts orders of Binance type `ty`.
    pub fn allows(&self, ty: &str) -> bool {
        self.order_types.iter().any(|t| t == ty)
    }
}

/// The parsed `exchangeInfo` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeInfo {
    /// Every listed symbol, in the venue's order.
    pub symbols: Vec<SymbolInfo>,
    /// The live rate limits.
    pub rate_limits: Vec<RateLimit>,
}

/// Parses an `exchangeInfo` answer (`asset_class` for the specs: spot or perpetual).
pub fn parse_exchange_info(
    v: &Value,
    asset_class: AssetClass,
) -> Result<ExchangeInfo, BinanceError> {
    let root = Obj::root(v)?;
    let rate_limits = match root.get("rateLimits") {
        Some(l) => RateLimit::parse_list(l)?,
        None => Vec::new(),
    };
    let Some(Value::Array(list)) = root.get("symbols") else {
        return Err(root.bad("symbols", "expected an array").into());
    };
    let symbols = list
        .iter()
        .map(|s| parse_symbol(s, asset_class))
        .collect::<Result<_, _>>()?;
    Ok(ExchangeInfo {
        symbols,
        rate_limits,
    })
}

fn parse_symbol(v: &Value, asset_class: AssetClass) -> Result<SymbolInfo, BinanceError> {
    let o = Obj::root(v)?;
    let name = o.str("symbol")?;
    let symbol = Symbol::new(name)?;
    let base = Asset::new(o.str("baseAsset")?)?;
    let quote = Asset::new(o.str("quoteAsset")?)?;
    let mut tick = 0.0f64;
    let (mut lot, mut market_lot, mut min_qty, mut min_notional) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    if let Some(Value::Array(filters)) = o.get("filters") {
        for f in filters {
            let f = Obj::root(f)?;
            match f.str("filterType")? {
                "PRICE_FILTER" => tick = f.decimal("tickSize")?,
                "LOT_SIZE" => {
                    lot = f.decimal("stepSize")?;
                    min_qty = min_qty.max(f.decimal("minQty")?);
                }
                "MARKET_LOT_SIZE" => {
                    market_lot = f.decimal("stepSize")?;
                    min_qty = min_qty.max(f.decimal("minQty")?);
                }
                "MIN_NOTIONAL" | "NOTIONAL" if f.get("minNotional").is_some() => {
                    min_notional = min_notional.max(f.decimal("minNotional")?);
                }
                // USD-M futures spell the minimum `notional`.
                "MIN_NOTIONAL" if f.get("notional").is_some() => {
                    min_notional = min_notional.max(f.decimal("notional")?);
                }
                _ => {}
            }
        }
    }
    if tick <= 0.0 {
        tick = precision_step(
            &o,
            &["quotePrecision", "quoteAssetPrecision", "pricePrecision"],
        )?;
    }
    let lot = match (lot > 0.0, market_lot > 0.0) {
        (true, true) => lot.max(market_lot),
        (true, false) => lot,
        (false, true) => market_lot,
        (false, false) => precision_step(&o, &["baseAssetPrecision", "quantityPrecision"])?,
    };
    let spec = InstrumentSpec::new(symbol, asset_class, tick, lot)?
        .with_min_qty(min_qty)?
        .with_min_notional(min_notional)?;
    let order_types = match o.get("orderTypes") {
        Some(Value::Array(t)) => t
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    Ok(SymbolInfo {
        spec,
        base,
        quote,
        trading: o.get("status").and_then(Value::as_str) == Some("TRADING"),
        order_types,
    })
}

/// `10^-precision` from the first precision field present.
fn precision_step(o: &Obj<'_>, fields: &[&str]) -> Result<f64, ParseError> {
    for f in fields {
        if o.get(f).is_some() {
            let p = o.int(f)?;
            if !(0..=15).contains(&p) {
                return Err(o.bad(f, "precision must be 0..=15"));
            }
            return Ok(10f64.powi(-(p as i32)));
        }
    }
    Err(o.bad(
        fields[0],
        "no tick or lot filter and no precision to fall back on",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info() -> Value {
        json!({
            "timezone": "UTC",
            "serverTime": 1_700_000_000_000i64,
            "rateLimits": [
                {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000}
            ],
            "symbols": [{
                "symbol": "BTCUSDT", "status": "TRADING",
                "baseAsset": "BTC", "baseAssetPrecision": 8,
                "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
                "orderTypes": ["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS_LIMIT","TAKE_PROFIT_LIMIT"],
                "filters": [
                    {"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
                    {"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},
                    {"filterType":"ICEBERG_PARTS","limit":10},
                    {"filterType":"MARKET_LOT_SIZE","minQty":"0.00000000","maxQty":"100.0","stepSize":"0.00000000"},
                    {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5},
                    {"filterType":"POSITION_RISK_CONTROL","positionControlSide":"NONE"},
                    {"filterType":"SOMETHING_FROM_2027","x":1}
                ]
            }]
        })
    }

    #[test]
    fn filters_become_the_spec_and_unknown_ones_are_ignored() {
        let i = parse_exchange_info(&info(), AssetClass::CryptoSpot).unwrap();
        assert_eq!(i.rate_limits.len(), 1);
        let s = &i.symbols[0];
        assert_eq!(s.spec.tick_size(), 0.01);
        assert_eq!(s.spec.lot_size(), 0.00001);
        assert_eq!(s.spec.min_qty(), 0.00001);
        assert_eq!(s.spec.min_notional(), 5.0);
        assert_eq!(
            s.spec.render_price(s.spec.round_price(30_123.456)),
            "30123.46"
        );
        assert_eq!(
            s.spec.render_qty(s.spec.round_qty_down(0.123456)),
            "0.12345"
        );
        assert_eq!((s.base.as_str(), s.quote.as_str()), ("BTC", "USDT"));
        assert!(s.trading && s.allows("LIMIT_MAKER") && !s.allows("STOP_LOSS"));
    }

    #[test]
    fn coarser_market_lot_and_missing_filters() {
        let mut v = info();
        v["symbols"][0]["filters"][3]["stepSize"] = json!("0.00100000");
        v["symbols"][0]["filters"][3]["minQty"] = json!("0.00200000");
        let s = &parse_exchange_info(&v, AssetClass::CryptoSpot)
            .unwrap()
            .symbols[0];
        assert_eq!(s.spec.lot_size(), 0.001);
        assert_eq!(s.spec.min_qty(), 0.002);
        v["symbols"][0]["filters"] = json!([]);
        let s = &parse_exchange_info(&v, AssetClass::CryptoSpot)
            .unwrap()
            .symbols[0];
        assert_eq!(s.spec.tick_size(), 1e-8);
        assert_eq!(s.spec.lot_size(), 1e-8);
    }

    #[test]
    fn bad_values_name_the_field() {
        let mut v = info();
        v["symbols"][0]["filters"][0]["tickSize"] = json!("NaN");
        let e = parse_exchange_info(&v, AssetClass::CryptoSpot)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tickSize") && e.contains("NaN"), "{e}");
        let mut v = info();
        v["symbols"][0]["symbol"] = json!("BTC USDT");
        let e = parse_exchange_info(&v, AssetClass::CryptoSpot)
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbol"), "{e}");
        assert!(parse_exchange_info(&json!({"symbols": 3}), AssetClass::CryptoSpot).is_err());
    }
}

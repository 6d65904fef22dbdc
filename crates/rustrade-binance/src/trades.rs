//! Our trades (`GET /api/v3/myTrades`, `GET /fapi/v1/userTrades`, stream fills) as core
//! [`Fill`]s.
//!
//! Binance trade ids are unique per symbol only, and the engine deduplicates fills by
//! [`FillId`] across symbols, so a fill id is `SYMBOL-tradeId` (`BTCUSDT-12345`). The catch-up
//! cursor reads the number back with [`trade_id_of`].

use rustrade_core::{
    Asset, ClientOrderId, Fill, FillId, Liquidity, Money, Price, Quantity, Side, Symbol,
};
use serde_json::Value;

use crate::BinanceError;
use crate::orders::{id_text, parse_side};
use crate::parse::Obj;

/// The fill id of trade `trade_id` on `symbol`.
pub fn fill_id(symbol: &Symbol, trade_id: i64) -> Result<FillId, BinanceError> {
    Ok(FillId::new(&format!("{symbol}-{trade_id}"))?)
}

/// The venue trade id inside a fill id made by [`fill_id`] (or a bare number).
pub fn trade_id_of(id: &FillId) -> Result<i64, BinanceError> {
    let text = id.as_str();
    let num = text.rsplit_once('-').map_or(text, |(_, n)| n);
    num.parse().map_err(|_| {
        rustrade_core::ValueError::BadText {
            field: "fill_id",
            value: text.to_owned(),
            reason: "not a Binance fill id (SYMBOL-tradeId)",
        }
        .into()
    })
}

/// One `myTrades` entry as a [`Fill`]; `client_id` comes from the caller's lookup (the entry
/// does not carry it).
pub fn parse_my_trade(v: &Value, client_id: Option<ClientOrderId>) -> Result<Fill, BinanceError> {
    rest_trade(v, client_id, TradeSide::BuyerFlag("isBuyer"), "isMaker")
}

/// Where a REST trade entry tells our side.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TradeSide {
    /// A boolean, true when we bought (Spot `isBuyer`).
    BuyerFlag(&'static str),
    /// `BUY` or `SELL` (futures `side`).
    Text(&'static str),
}

/// A REST trade entry (`myTrades`, `userTrades`) as a [`Fill`]: `symbol`, `id`, `orderId`,
/// our side as `side` says, `price`, `qty`, `commission` in `commissionAsset`, maker when the
/// boolean `maker` is true, `time`.
pub(crate) fn rest_trade(
    v: &Value,
    client_id: Option<ClientOrderId>,
    side: TradeSide,
    maker: &str,
) -> Result<Fill, BinanceError> {
    let o = Obj::root(v)?;
    let symbol = Symbol::new(o.str("symbol")?)?;
    Ok(Fill {
        fill_id: fill_id(&symbol, o.int("id")?)?,
        order_id: id_text(&o, "orderId")?,
        client_id,
        symbol,
        side: match side {
            TradeSide::BuyerFlag(field) if o.bool(field)? => Side::Buy,
            TradeSide::BuyerFlag(_) => Side::Sell,
            TradeSide::Text(field) => parse_side(&o, field)?,
        },
        price: Price::positive("price", o.decimal("price")?)?,
        quantity: Quantity::named("qty", o.decimal("qty")?)?,
        fee: Money::named("commission", o.decimal("commission")?)?,
        fee_asset: Asset::new(o.str("commissionAsset")?)?,
        liquidity: if o.bool(maker)? {
            Liquidity::Maker
        } else {
            Liquidity::Taker
        },
        time: o.time_ms("time")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn my_trades_entry_becomes_a_fill() {
        let v = json!({
            "symbol":"BNBBTC","id":28457,"orderId":100234,"orderListId":-1,
            "price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012",
            "commission":"10.10000000","commissionAsset":"BNB","time":1499865549590i64,
            "isBuyer":true,"isMaker":false,"isBestMatch":true
        });
        let f = parse_my_trade(&v, None).unwrap();
        assert_eq!(f.fill_id.as_str(), "BNBBTC-28457");
        assert_eq!(trade_id_of(&f.fill_id).unwrap(), 28457);
        assert_eq!(f.order_id.as_str(), "100234");
        assert_eq!((f.side, f.liquidity), (Side::Buy, Liquidity::Taker));
        assert_eq!(f.fee.get(), 10.1);
        assert_eq!(f.time.as_millis(), 1499865549590);
        let mut bad = v;
        bad["isMaker"] = json!("no");
        let e = parse_my_trade(&bad, None).unwrap_err().to_string();
        assert!(e.contains("isMaker"), "{e}");
        assert!(trade_id_of(&FillId::new("x-y").unwrap()).is_err());
        assert_eq!(trade_id_of(&FillId::new("77").unwrap()).unwrap(), 77);
    }
}

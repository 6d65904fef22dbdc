//! [`Adapter`]: which exchange adapter the chaos bot trades through, and how that adapter names
//! the venue's records.
//!
//! - [`Adapter::Kit`]: the kit's own client ([`client`](crate::client)) over the
//!   [`wire`](crate::wire) protocol; fill ids are the venue's.
//! - [`Adapter::BinanceUsdm`]: `rustrade-binance`'s USDⓈ-M futures client, user-data stream
//!   and market stream against the kit's Binance-protocol front ([`binance`](crate::binance)).
//!   Binance numbers trades per symbol and the adapter names a fill `SYMBOL-tradeId`; the front
//!   gives each fill the number of the venue's fill id (`sim-f<n>` is trade `n`), so the venue
//!   names its records the same way and the invariants compare them unchanged.
//!
//! USD-M rather than Spot: the kit's venue lists perpetuals, the chaos brain goes short as
//! often as long and holds its stops at the venue, and Spot can do neither (no short sale, no
//! stop-market order).

use rustrade_core::{Capability, Fill, FillId};

use crate::ChaosError;

/// The adapter a chaos bot trades through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Adapter {
    /// The kit's own client over its JSON-lines protocol.
    #[default]
    Kit,
    /// Binance USDⓈ-M futures (`rustrade-binance`) against the kit's Binance-protocol front.
    BinanceUsdm,
}

impl Adapter {
    /// The command-line name (`kit`, `binance`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kit => "kit",
            Self::BinanceUsdm => "binance",
        }
    }

    /// The id the adapter gives `fill`, a fill as the simulated venue recorded it.
    pub fn fill_id(self, fill: &Fill) -> FillId {
        match self {
            Self::Kit => fill.fill_id,
            Self::BinanceUsdm => trade_number(&fill.fill_id)
                .and_then(|n| FillId::new(&format!("{}-{n}", fill.symbol)).ok())
                .unwrap_or(fill.fill_id),
        }
    }

    /// What the adapter's client supports (the engine's capability set follows it).
    pub fn supports(self, capability: Capability) -> bool {
        match self {
            Self::Kit => true,
            Self::BinanceUsdm => capability != Capability::TrailingStop,
        }
    }
}

impl std::str::FromStr for Adapter {
    type Err = ChaosError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "kit" => Ok(Self::Kit),
            "binance" | "binance-usdm" => Ok(Self::BinanceUsdm),
            _ => Err(ChaosError::Invalid {
                field: "venue",
                value: s.to_owned(),
                reason: "unknown adapter (kit, binance)",
            }),
        }
    }
}

/// The number `n` of a simulated venue's fill id `sim-f<n>`, which the Binance front serves as
/// the trade id (also read back from the adapter's `SYMBOL-<n>`).
pub fn trade_number(fill_id: &FillId) -> Option<i64> {
    let (_, n) = fill_id.as_str().rsplit_once('-')?;
    n.strip_prefix('f').unwrap_or(n).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::{
        Asset, Liquidity, Money, OrderId, Price, Quantity, Side, Symbol, Timestamp,
    };

    #[test]
    fn binance_names_fills_by_symbol_and_trade_number() {
        let fill = Fill {
            fill_id: FillId::new("sim-f42").unwrap(),
            order_id: OrderId::new("sim-7").unwrap(),
            client_id: None,
            symbol: Symbol::new("AAAUSDT").unwrap(),
            side: Side::Buy,
            price: Price::new(100.0).unwrap(),
            quantity: Quantity::new(1.0).unwrap(),
            fee: Money::new(0.05).unwrap(),
            fee_asset: Asset::new("USDT").unwrap(),
            liquidity: Liquidity::Taker,
            time: Timestamp::from_secs(1_000).unwrap(),
        };
        assert_eq!(Adapter::Kit.fill_id(&fill).as_str(), "sim-f42");
        let named = Adapter::BinanceUsdm.fill_id(&fill);
        assert_eq!(named.as_str(), "AAAUSDT-42");
        assert_eq!(trade_number(&named), Some(42));
        assert_eq!("binance".parse::<Adapter>().unwrap(), Adapter::BinanceUsdm);
        let err = "ftx".parse::<Adapter>().unwrap_err().to_string();
        assert!(err.contains("venue") && err.contains("ftx"), "{err}");
        assert!(!Adapter::BinanceUsdm.supports(Capability::TrailingStop));
    }
}

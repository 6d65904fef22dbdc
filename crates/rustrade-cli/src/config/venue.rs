//! `[venue]`: the exchange `rustrade live` trades on, validated. Credentials are never read
//! from the file (see `live/credentials.rs`).

use rustrade_core::Asset;

use super::raw::RawVenue;
use super::{ConfigError, Source};

/// Binance's kline intervals, the only values `interval` may take.
pub(crate) const KLINE_INTERVALS: [&str; 16] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
];

/// Which of the venue's products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Product {
    /// Spot.
    Spot,
    /// USD-M perpetual futures.
    UsdmFutures,
}

/// Which deployment of the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Network {
    /// The public test network (the default).
    Testnet,
    /// Real funds.
    Production,
    /// A server speaking the venue's API at this base URL (a local mock, a proxy).
    Endpoint(String),
}

/// The validated `[venue]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VenueSection {
    /// The product traded.
    pub(crate) product: Product,
    /// Where.
    pub(crate) network: Network,
    /// The kline interval of the market feed.
    pub(crate) interval: String,
    /// The asset whose balance is the account's cash (the quote asset of a spot account, the
    /// margin asset of USD-M futures); `USDT` by default.
    pub(crate) cash_asset: Asset,
    /// `confirm_production = true`: the file itself says production is meant.
    pub(crate) confirm_production: bool,
}

impl VenueSection {
    /// Validates `raw`; each error names the key and the value.
    pub(crate) fn from_raw(src: &Source<'_>, raw: &RawVenue) -> Result<Self, ConfigError> {
        if raw.exchange != "binance" {
            return Err(src.error(
                "venue.exchange",
                format!("unknown exchange {:?}; expected \"binance\"", raw.exchange),
            ));
        }
        let product = match raw.product.as_deref().unwrap_or("spot") {
            "spot" => Product::Spot,
            "usdm" => Product::UsdmFutures,
            other => {
                return Err(src.error(
                    "venue.product",
                    format!("unknown product {other:?}; expected \"spot\" or \"usdm\""),
                ));
            }
        };
        let network = match (raw.environment.as_deref(), &raw.endpoint) {
            (Some("production"), Some(_)) => {
                return Err(src.error(
                    "venue.endpoint",
                    "an endpoint replaces the environment's URLs; it cannot be combined with environment = \"production\"",
                ));
            }
            (None | Some("testnet"), Some(url)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(src.error(
                        "venue.endpoint",
                        format!("must be an http:// or https:// base URL (got {url:?})"),
                    ));
                }
                Network::Endpoint(url.trim_end_matches('/').to_owned())
            }
            (None | Some("testnet"), None) => Network::Testnet,
            (Some("production"), None) => Network::Production,
            (Some(other), _) => {
                return Err(src.error(
                    "venue.environment",
                    format!(
                        "unknown environment {other:?}; expected \"testnet\" or \"production\""
                    ),
                ));
            }
        };
        let interval = raw.interval.clone().unwrap_or_else(|| "1m".to_owned());
        if !KLINE_INTERVALS.contains(&interval.as_str()) {
            return Err(src.error(
                "venue.interval",
                format!(
                    "unknown kline interval {interval:?}; expected one of {}",
                    KLINE_INTERVALS.join(", ")
                ),
            ));
        }
        let cash_asset = match &raw.cash_asset {
            Some(text) => {
                Asset::new(text).map_err(|e| src.error("venue.cash_asset", e.to_string()))?
            }
            None => Asset::new("USDT").expect("\"USDT\" is a valid asset code"),
        };
        Ok(Self {
            product,
            network,
            interval,
            cash_asset,
            confirm_production: raw.confirm_production,
        })
    }

    /// Whether orders move real funds.
    pub(crate) fn is_production(&self) -> bool {
        self.network == Network::Production
    }
}

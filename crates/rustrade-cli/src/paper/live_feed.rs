//! The live market feed of `rustrade paper` without `--replay`: the `[venue]` table's public
//! kline stream ([`BinanceMarketSource`]: keyless, closed bars only, reconnect with backfill),
//! feeding a bot that trades the simulated venue. No key is read and no order leaves the
//! process.

use anyhow::Context;
use rustrade_binance::{
    BinanceMarketSource, Endpoints, Environment, MarketConfig, Product as BinanceProduct,
};
use rustrade_core::MarketSource;

use crate::config::{Network, Product, VenueSection};

/// The public market-data URLs for `venue`: production's keyless data hosts for Spot
/// (`data-api` / `data-stream.binance.vision`), the environment's for futures and the testnet,
/// or the configured endpoint (a local mock, a proxy).
pub(crate) fn endpoints(venue: &VenueSection) -> Endpoints {
    let product = match venue.product {
        Product::Spot => BinanceProduct::Spot,
        Product::UsdmFutures => BinanceProduct::UsdMFutures,
    };
    match (&venue.network, venue.product) {
        (Network::Production, Product::Spot) => Endpoints::spot_market_data(),
        (Network::Production, Product::UsdmFutures) => Environment::Production.endpoints(product),
        (Network::Testnet, _) => Environment::Testnet.endpoints(product),
        (Network::Endpoint(url), _) => Endpoints::local(url),
    }
}

/// The market source `venue` names: its product's closed klines at its interval.
pub(crate) fn market_source(venue: &VenueSection) -> anyhow::Result<Box<dyn MarketSource>> {
    let endpoints = endpoints(venue);
    let config = match venue.product {
        Product::Spot => MarketConfig::klines(&endpoints, &venue.interval),
        Product::UsdmFutures => MarketConfig::usdm_klines(&endpoints, &venue.interval),
    };
    let source = BinanceMarketSource::new(config).context("[venue] market data")?;
    Ok(Box::new(source))
}

/// What the start line says the feed is.
pub(crate) fn describe(venue: &VenueSection) -> String {
    let product = match venue.product {
        Product::Spot => "Binance Spot",
        Product::UsdmFutures => "Binance USD-M futures",
    };
    let network = match &venue.network {
        Network::Testnet => "testnet".to_owned(),
        Network::Production => "production".to_owned(),
        Network::Endpoint(url) => url.clone(),
    };
    format!("live {} klines from {product} ({network})", venue.interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(product: Product, network: Network) -> VenueSection {
        VenueSection {
            product,
            network,
            interval: "1m".to_owned(),
            cash_asset: rustrade_core::Asset::new("USDT").unwrap(),
            confirm_production: false,
        }
    }

    #[test]
    fn production_spot_uses_the_keyless_data_hosts() {
        let e = endpoints(&venue(Product::Spot, Network::Production));
        assert_eq!(e.streams, "wss://data-stream.binance.vision");
        assert_eq!(e.rest, "https://data-api.binance.vision");
        let e = endpoints(&venue(Product::UsdmFutures, Network::Production));
        assert_eq!(e.rest, "https://fapi.binance.com");
    }

    #[test]
    fn an_endpoint_serves_rest_and_streams_on_one_port() {
        let v = venue(
            Product::Spot,
            Network::Endpoint("http://127.0.0.1:9".to_owned()),
        );
        let e = endpoints(&v);
        assert_eq!(
            (e.rest.as_str(), e.streams.as_str()),
            ("http://127.0.0.1:9", "ws://127.0.0.1:9")
        );
        assert_eq!(
            describe(&v),
            "live 1m klines from Binance Spot (http://127.0.0.1:9)"
        );
    }
}

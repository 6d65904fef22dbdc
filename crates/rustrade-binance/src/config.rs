//! Where and how to connect: the [`Environment`] (testnet by default, production only when
//! asked for by name), its [`Endpoints`] per [`Product`], and the clients' [`SpotConfig`] and
//! [`UsdmConfig`].

use std::time::Duration;

use rustrade_core::Symbol;

use crate::Credentials;

/// Which Binance deployment to talk to. The default is [`Environment::Testnet`]: real money is
/// only ever at stake when a configuration names [`Environment::Production`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// The public test network (reset to a blank state about once a month).
    #[default]
    Testnet,
    /// Demo mode: production-like accounts with demo funds.
    Demo,
    /// Live trading with real funds.
    Production,
    /// Explicit URLs: a local mock venue, a proxy.
    Custom(Endpoints),
}

/// A product family with its own hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Product {
    /// Spot.
    Spot,
    /// USDⓈ-margined futures.
    UsdMFutures,
}

/// The three URLs of one product in one environment. No trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// REST base (paths such as `/api/v3/order` are appended).
    pub rest: String,
    /// WebSocket API (requests and user data).
    pub ws_api: String,
    /// Market-data streams base (`/stream?streams=…` is appended).
    pub streams: String,
}

impl Endpoints {
    /// Keyless Spot market data from production (`data-api` / `data-stream`): what paper trading
    /// on live data needs, with no account and no order entry.
    pub fn spot_market_data() -> Self {
        Self {
            rest: "https://data-api.binance.vision".into(),
            ws_api: "wss://ws-api.binance.com:443/ws-api/v3".into(),
            streams: "wss://data-stream.binance.vision".into(),
        }
    }

    /// The same URL for all three (a local mock that serves REST and WebSocket on one port):
    /// `http://127.0.0.1:port` gives `ws://127.0.0.1:port` for the sockets.
    pub fn local(http_base: &str) -> Self {
        let ws = http_base.replacen("http://", "ws://", 1);
        Self {
            rest: http_base.to_owned(),
            ws_api: format!("{ws}/ws-api/v3"),
            streams: ws,
        }
    }
}

impl Environment {
    /// The URLs of `product` here.
    pub fn endpoints(&self, product: Product) -> Endpoints {
        let e = |rest: &str, ws_api: &str, streams: &str| Endpoints {
            rest: rest.into(),
            ws_api: ws_api.into(),
            streams: streams.into(),
        };
        match (self, product) {
            (Self::Custom(urls), _) => urls.clone(),
            (Self::Testnet, Product::Spot) => e(
                "https://testnet.binance.vision",
                "wss://ws-api.testnet.binance.vision/ws-api/v3",
                "wss://stream.testnet.binance.vision",
            ),
            (Self::Demo, Product::Spot) => e(
                "https://demo-api.binance.com",
                "wss://demo-ws-api.binance.com/ws-api/v3",
                // Demo mode publishes no stream host of its own in the sources we have; its
                // market data is taken from the public data stream.
                "wss://data-stream.binance.vision",
            ),
            (Self::Production, Product::Spot) => e(
                "https://api.binance.com",
                "wss://ws-api.binance.com:443/ws-api/v3",
                "wss://stream.binance.com:9443",
            ),
            (Self::Testnet, Product::UsdMFutures) => e(
                "https://testnet.binancefuture.com",
                "wss://testnet.binancefuture.com/ws-fapi/v1",
                "wss://fstream.binancefuture.com",
            ),
            (Self::Demo, Product::UsdMFutures) => e(
                "https://demo-fapi.binance.com",
                "wss://testnet.binancefuture.com/ws-fapi/v1",
                "wss://fstream.binancefuture.com",
            ),
            (Self::Production, Product::UsdMFutures) => e(
                "https://fapi.binance.com",
                "wss://ws-fapi.binance.com/ws-fapi/v1",
                "wss://fstream.binance.com",
            ),
        }
    }

    /// Whether orders here move real funds.
    pub fn is_production(&self) -> bool {
        matches!(self, Self::Production)
    }
}

/// Settings of the REST transport shared by every Binance client.
#[derive(Debug, Clone)]
pub struct RestOptions {
    /// `recvWindow` sent with signed requests (at most 60 s).
    pub recv_window: Duration,
    /// Deadline of one HTTP request; past it the outcome is unknown.
    pub timeout: Duration,
    /// Fraction of each venue limit the local budget lets us use before it waits for the next
    /// window (room for other processes on the same IP).
    pub headroom: f64,
    /// Longest the budget waits for a window to roll; a longer wait is refused as rate limited.
    pub max_budget_wait: Duration,
}

impl Default for RestOptions {
    fn default() -> Self {
        Self {
            recv_window: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            headroom: 0.9,
            max_budget_wait: Duration::from_secs(65),
        }
    }
}

/// Configuration of [`BinanceSpot`](crate::BinanceSpot).
#[derive(Debug, Clone)]
pub struct SpotConfig {
    /// Where to connect.
    pub environment: Environment,
    /// The API key; `None` allows public calls only.
    pub credentials: Option<Credentials>,
    /// Transport settings.
    pub rest: RestOptions,
    /// The symbols this bot trades: [`positions`](rustrade_core::ExchangeClient::positions)
    /// reports the base-asset holdings of these.
    pub symbols: Vec<Symbol>,
    /// Prefix of the client ids `close_position` generates (it has no id of its own).
    pub close_id_prefix: String,
}

impl SpotConfig {
    /// A configuration for `environment` with default transport settings and no symbols.
    pub fn new(environment: Environment, credentials: Option<Credentials>) -> Self {
        Self {
            environment,
            credentials,
            rest: RestOptions::default(),
            symbols: Vec::new(),
            close_id_prefix: "rtclose".into(),
        }
    }

    /// Sets the traded symbols.
    pub fn with_symbols(mut self, symbols: impl IntoIterator<Item = Symbol>) -> Self {
        self.symbols = symbols.into_iter().collect();
        self
    }
}

/// How a futures position's margin is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarginType {
    /// Margin shared by every cross position of the account.
    Cross,
    /// Margin set aside for this one position.
    Isolated,
}

impl MarginType {
    /// The venue's name for it (`marginType` parameter).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cross => "CROSSED",
            Self::Isolated => "ISOLATED",
        }
    }
}

/// Leverage and margin type one futures symbol is set to before trading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolSetup {
    /// Initial leverage, 1 to 125 (the symbol's brackets may allow less).
    pub leverage: u32,
    /// Cross or isolated.
    pub margin_type: MarginType,
}

/// Configuration of [`BinanceUsdm`](crate::BinanceUsdm).
#[derive(Debug, Clone)]
pub struct UsdmConfig {
    /// Where to connect.
    pub environment: Environment,
    /// The API key; `None` allows public calls only.
    pub credentials: Option<Credentials>,
    /// Transport settings.
    pub rest: RestOptions,
    /// Leverage and margin type per symbol, applied by
    /// [`prepare`](crate::BinanceUsdm::prepare); symbols not listed keep the account's settings.
    pub setup: Vec<(Symbol, SymbolSetup)>,
    /// Prefix of the client ids `close_position` generates (it has no id of its own).
    pub close_id_prefix: String,
    /// Trigger conditional orders on the last trade (`CONTRACT_PRICE`, the default) or on the
    /// mark price (`MARK_PRICE`).
    pub trigger_on_mark_price: bool,
}

impl UsdmConfig {
    /// A configuration for `environment` with default transport settings and no set-up.
    pub fn new(environment: Environment, credentials: Option<Credentials>) -> Self {
        Self {
            environment,
            credentials,
            rest: RestOptions::default(),
            setup: Vec::new(),
            close_id_prefix: "rtclose".into(),
            trigger_on_mark_price: false,
        }
    }

    /// Adds the leverage and margin type of `symbol`.
    pub fn with_setup(mut self, symbol: Symbol, setup: SymbolSetup) -> Self {
        self.setup.push((symbol, setup));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_is_never_the_default() {
        assert_eq!(Environment::default(), Environment::Testnet);
        assert!(!Environment::default().is_production());
        let spot = Environment::default().endpoints(Product::Spot);
        assert!(spot.rest.contains("testnet"), "{spot:?}");
        assert!(Environment::Production.is_production());
        let c = SpotConfig::new(Environment::default(), None);
        assert!(!c.environment.is_production());
    }

    #[test]
    fn local_endpoints_share_one_port() {
        let e = Endpoints::local("http://127.0.0.1:9");
        assert_eq!(e.streams, "ws://127.0.0.1:9");
        assert_eq!(e.ws_api, "ws://127.0.0.1:9/ws-api/v3");
        let env = Environment::Custom(e.clone());
        assert_eq!(env.endpoints(Product::UsdMFutures), e);
    }
}

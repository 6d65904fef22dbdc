//! A Binance adapter for rustrade: Spot order entry and account queries over signed REST
//! ([`BinanceSpot`], an [`ExchangeClient`](rustrade_core::ExchangeClient)), market data over
//! WebSocket streams and user data over the WebSocket API.
//!
//! The parts, one file each: [`Credentials`] and signing (`sign`), the [`Environment`] and its
//! URLs (`config`), the venue clock ([`ServerClock`]), the rate budget ([`RateBudget`]), the
//! HTTP transport ([`RestClient`]), trading rules ([`SymbolInfo`] from `exchangeInfo`), order
//! and trade wire formats (`orders`, `trades`), the crate's [`BinanceError`] and its mapping
//! onto core's `ExchangeError`, and the message parsers ([`parse`]).
//!
//! Production is never a default: a configuration must name [`Environment::Production`].

mod clock;
mod config;
mod error;
mod filters;
mod limits;
mod market;
#[cfg(feature = "mock")]
pub mod mock;
pub mod orders;
pub mod parse;
mod rest;
mod secret;
mod sign;
mod spot;
pub mod trades;
mod user;
mod ws;

pub use clock::ServerClock;
pub use config::{Endpoints, Environment, Product, RestOptions, SpotConfig};
pub use error::BinanceError;
pub use filters::{ExchangeInfo, SymbolInfo, parse_exchange_info};
pub use limits::{Admission, LimitKind, RateBudget, RateLimit, RateStatus, Usage};
pub use market::{BinanceMarketSource, MarketConfig};
pub use rest::{Auth, Call, RestClient};
pub use secret::Secret;
pub use sign::{
    Credentials, Ed25519Key, Signer, encode_query, encode_value, hmac_sha256_hex, ws_payload,
};
pub use spot::BinanceSpot;
pub use user::{BinanceUserStream, UserStreamConfig};
pub use ws::Backoff;

//! A Binance adapter for rustrade, depending on `rustrade-core` only.
//!
//! - [`BinanceSpot`]: Spot order entry and account queries over signed REST, an
//!   [`ExchangeClient`](rustrade_core::ExchangeClient) keeping its recovery contract.
//! - [`BinanceUsdm`]: USDⓈ-M futures in one-way mode, the same contract, with conditional
//!   orders on the algo endpoint and positions from `positionRisk`.
//! - [`BinanceMarketSource`]: closed klines, top of book and trades over one combined-stream
//!   WebSocket (Spot, or a futures [`StreamRoute`]), with reconnect, REST backfill and silence
//!   detection.
//! - [`BinanceMarkPriceStream`]: USD-M futures mark price, index price and funding rate as
//!   typed [`MarkPrice`](parse::MarkPrice) updates (core's market events have no variant for
//!   them), with reconnect and silence detection.
//! - [`BinanceUserStream`] (Spot, WebSocket API) and [`BinanceUsdmUserStream`] (futures,
//!   listenKey): our order reports as a [`FillSource`](rustrade_core::FillSource); after each
//!   (re)subscribe the engine catches up with `fills_since`.
//!
//! Underneath, one file each: [`Credentials`] and signing, the [`Environment`] and its URLs,
//! the venue clock ([`ServerClock`]), the rate budget ([`RateBudget`]), the HTTP transport
//! ([`RestClient`]), trading rules ([`SymbolInfo`]), our client ids on the wire
//! ([`check_client_id`], [`check_client_id_prefix`]), what both product clients share (a
//! private `client` module), order and trade wire formats ([`orders`], [`usdm_orders`],
//! [`trades`]), message parsers ([`parse`]) and the crate's [`BinanceError`], mapped onto core's
//! `ExchangeError` at the trait boundary. Feature `mock` adds a local mock venue (`mock`).
//!
//! Production is never a default: a configuration must name [`Environment::Production`].
//!
//! ```
//! use rustrade_binance::{BinanceSpot, Credentials, Environment, SpotConfig};
//! use rustrade_core::{Capability, ExchangeClient};
//!
//! let spot = BinanceSpot::new(SpotConfig::new(Environment::default(), Some(Credentials::hmac("key", "secret"))))?;
//! assert!(spot.supports(Capability::PostOnly) && !spot.supports(Capability::StopMarket));
//! assert!(!format!("{spot:?}").contains("secret\""));
//! # Ok::<(), rustrade_binance::BinanceError>(())
//! ```

mod client;
mod client_ids;
mod clock;
mod config;
mod error;
mod filters;
mod id_memory;
mod limits;
mod mark;
mod market;
#[cfg(feature = "mock")]
pub mod mock;
pub mod orders;
pub mod parse;
mod rest;
mod sign;
mod spot;
pub mod trades;
mod usdm;
pub mod usdm_orders;
mod usdm_user;
mod user;
mod ws;

pub use client_ids::{check_client_id, check_client_id_prefix};
pub use clock::ServerClock;
pub use config::{
    Endpoints, Environment, MarginType, Product, RestOptions, SpotConfig, SymbolSetup, UsdmConfig,
};
pub use error::BinanceError;
pub use filters::{ExchangeInfo, SymbolInfo, parse_exchange_info};
pub use limits::{Admission, LimitKind, RateBudget, RateLimit, RateStatus, Usage};
pub use mark::{BinanceMarkPriceStream, MarkPriceConfig};
pub use market::{BinanceMarketSource, MarketConfig, StreamRoute};
pub use rest::{Auth, Call, RestClient};
pub use rustrade_core::Secret;
pub use sign::{
    Credentials, Ed25519Key, Signer, decode_query, encode_query, encode_value, hmac_sha256_hex,
    ws_payload,
};
pub use spot::BinanceSpot;
pub use usdm::BinanceUsdm;
pub use usdm_user::{BinanceUsdmUserStream, UsdmUserConfig};
pub use user::{BinanceUserStream, UserStreamConfig};
pub use ws::Backoff;

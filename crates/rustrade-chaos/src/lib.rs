//! The rustrade chaos kit: proof by counter-example hunting that a bot killed at any instant
//! restarts into the state the venue's records imply, never sending an order twice.
//!
//! - [`ChaosVenue`] and [`VenueServer`]: the simulated venue (with a real venue's memory:
//!   order status by client id, fills since a cursor, positions, client-id deduplication within
//!   a window) behind a loopback TCP port, replaying a [`SeededMarket`] on simulated time the
//!   harness advances, injecting the faults of a [`Profile`].
//! - [`client`]: the bot's side — [`ChaosExchange`](client::ChaosExchange) (an
//!   `ExchangeClient`), [`ChaosFills`](client::ChaosFills) and
//!   [`ChaosMarket`](client::ChaosMarket); a template for testing a real adapter the same way.
//! - [`binance`]: the same venue behind Binance USDⓈ-M's REST and WebSocket protocol, so the
//!   bot can trade through `rustrade-binance` instead ([`adapter::Adapter`] selects it;
//!   [`broken`] holds the deliberately broken adapter variants).
//! - [`bot`]: the `chaos-bot` binary's configuration and brain.
//! - [`harness::run`]: kills the bot (a `SIGKILL` at a random instant, or a
//!   [`rustrade::kill_point`] inside it) and restarts it on the same state (a SQLite file, or a
//!   PostgreSQL schema: [`StateLocation`]), checking the
//!   [`invariants`] after every death, every restart and at the end; [`ledger`] and
//!   [`round_trips`] are the kit's own accounting of the venue's fills they compare against.
//!
//! The command `cargo run -p rustrade-chaos --release -- --seed 1 --kills 2000 --profile stormy`
//! prints one line per violation and a summary; `RELIABILITY.md` states what is guaranteed.

pub mod adapter;
pub mod binance;
pub mod bot;
pub mod broken;
pub mod client;
mod error;
pub mod harness;
pub mod invariants;
pub mod ledger;
mod location;
pub mod market;
mod profile;
pub mod round_trips;
pub mod server;
pub mod state;
pub mod venue;
pub mod wire;

pub use error::ChaosError;
pub use location::StateLocation;
pub use market::SeededMarket;
pub use profile::Profile;
pub use server::VenueServer;
pub use venue::ChaosVenue;

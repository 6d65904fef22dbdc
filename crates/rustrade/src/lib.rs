//! rustrade facade.
pub mod logging;
pub mod metrics;
mod secret;
pub mod store;

pub use secret::Secret;

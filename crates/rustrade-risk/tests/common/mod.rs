//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use rustrade_core::{AssetClass, InstrumentSpec, Price, Symbol, Timestamp};

/// Seconds after the test epoch 2024-05-01T00:00:00Z.
pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_nanos(BASE_NANOS + secs * 1_000_000_000)
}

/// 2024-05-01T00:00:00Z in nanoseconds.
pub const BASE_NANOS: i64 = 1_714_521_600 * 1_000_000_000;

pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

pub fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

pub fn price(v: f64) -> Price {
    Price::new(v).unwrap()
}

/// A crypto perp with tick 0.1 and lot 0.001.
pub fn spec(symbol: &str) -> InstrumentSpec {
    InstrumentSpec::new(sym(symbol), AssetClass::CryptoPerp, 0.1, 0.001).unwrap()
}

//! Every parser of user-data frames, Spot (executionReport) and futures
//! (ORDER_TRADE_UPDATE, ALGO_UPDATE, ACCOUNT_UPDATE), through
//! `rustrade_binance::parse::probe::fuzz_input`: an even first byte feeds raw bytes, an odd one
//! a documented sample mutated by the rest.
//!
//! Checked: no panic; every refusal names a field; every accepted fill is usable.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rustrade_binance::parse::probe::{Surface, fuzz_input};

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = fuzz_input(Surface::User, data) {
        panic!("{broken}");
    }
});

//! The set-up both backtest-against-paper parity tests share: one instrument, one simulated
//! venue configuration, and the fill fields they compare.

use rustrade_core::{AssetClass, Fill, InstrumentSpec, Side, Symbol};
use rustrade_sim::{FeeModel, SimConfig, SlippageModel};

/// (time ns, side, quantity, price, fee) of one fill.
pub type FillRow = (i64, Side, f64, f64, f64);

pub fn btc() -> Symbol {
    super::sym("BTCUSDT")
}

pub fn spec() -> InstrumentSpec {
    InstrumentSpec::new(btc(), AssetClass::CryptoSpot, 0.01, 0.0001).unwrap()
}

/// 100 000 of cash, 2 / 10 bps maker / taker fees and 5 bps of slippage.
pub fn sim_config(trade_on_close: bool) -> SimConfig {
    let mut sim = SimConfig::default().with_initial_cash(100_000.0);
    sim.fees = FeeModel::rates(0.0002, 0.001);
    sim.slippage = SlippageModel::FixedBps { bps: 5.0 };
    sim.trade_on_close = trade_on_close;
    sim
}

pub fn summarise(fills: &[Fill]) -> Vec<FillRow> {
    fills
        .iter()
        .map(|f| {
            (
                f.time.as_nanos(),
                f.side,
                f.quantity.get(),
                f.price.get(),
                f.fee.get(),
            )
        })
        .collect()
}

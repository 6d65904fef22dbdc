//! The backtest as the side-by-side comparison with the reference engine configures it, shared
//! by `bench/reference` and the `trade_path` example so that the instruction counts and the
//! measured ratios come from one configuration: 1 000 000 initial cash, the reference's sizing
//! (500 margin × 5 leverage), no loss breaker and no session loss cap (so both engines make the
//! same round trips), 5 bps fees on both sides.

use std::sync::Arc;

use rustrade_backtest::{Backtest, synthetic};
use rustrade_core::{AssetClass, Brain, InstrumentSpec};
use rustrade_risk::{RiskConfig, SizingConfig};
use rustrade_sim::FeeModel;

/// The comparison's backtest of `brain` on the synthetic symbol; `record` keeps the fill list
/// and the equity curve (the reference keeps both).
pub(crate) fn backtest(
    brain: Arc<dyn Brain>,
    record: bool,
) -> Result<Backtest, Box<dyn std::error::Error>> {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )?;
    let mut risk = RiskConfig {
        sizing: SizingConfig {
            margin: 500.0,
            leverage: 5.0,
            max_quantity: None,
            max_notional: None,
            ..Default::default()
        },
        ..RiskConfig::default()
    };
    risk.breaker.loss_limit = u32::MAX;
    risk.session.loss_cap = None;
    Ok(Backtest::builder()
        .instrument(spec)
        .initial_cash(1_000_000.0)
        .risk(risk)
        .fees(FeeModel::rates(0.0005, 0.0005))
        .record_equity(record)
        .record_fills(record)
        .brain(brain)
        .build()?)
}

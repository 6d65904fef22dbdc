//! The code of `docs/writing-a-brain.md`, compiled and run, so the guide stays true.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rustrade_backtest::Backtest;
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_core::{
    AssetClass, Brain, BrainError, Candle, Decision, InstrumentSpec, MarketEvent, Position, Symbol,
    async_trait,
};
use rustrade_risk::RiskConfig;
use rustrade_strategies::indicators::Rsi;
use rustrade_strategies::{Rule, RuleBrain, StrategyError, Trigger};

/// Buys after `n` rising closes in a row; closes the long on the first falling close.
struct Momentum {
    n: u32,
    /// Per symbol: the last close and the current run of rising closes.
    state: Mutex<BTreeMap<Symbol, (f64, u32)>>,
}

impl Momentum {
    fn new(n: u32) -> Self {
        Self {
            n,
            state: Mutex::new(BTreeMap::new()),
        }
    }
}

#[async_trait]
impl Brain for Momentum {
    fn name(&self) -> &str {
        "momentum"
    }

    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        let Some(candle) = event.as_candle() else {
            return Ok(Decision::hold());
        };
        let close = candle.close().get();
        let mut state = self
            .state
            .lock()
            .map_err(|_| BrainError::Other("state lock poisoned".into()))?;
        let (last, streak) = state.entry(event.symbol).or_insert((close, 0));
        let rising = close > *last;
        *streak = if rising { *streak + 1 } else { 0 };
        *last = close;
        Ok(if *streak >= self.n && position.is_flat() {
            Decision::buy(1.0)
        } else if !rising && position.is_long() {
            Decision::close()
        } else {
            Decision::hold()
        })
    }
}

/// Buys when RSI falls through `level`, sells when it climbs back through 50.
struct RsiDip {
    period: u16,
    level: f64,
}

impl Rule for RsiDip {
    type State = (Rsi, Option<f64>);

    fn start(&self) -> Result<Self::State, StrategyError> {
        Ok((Rsi::new(self.period)?, None))
    }

    fn step(&self, (rsi, prev): &mut Self::State, candle: &Candle) -> Option<Trigger> {
        let now = rsi.next(candle.close().get())?;
        let before = prev.replace(now)?;
        if before >= self.level && now < self.level {
            Some(Trigger::Enter)
        } else if before < 50.0 && now >= 50.0 {
            Some(Trigger::Exit)
        } else {
            None
        }
    }
}

fn bitcoin() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/Bitcoin.csv")
}

fn run(
    brain: Arc<dyn Brain>,
) -> Result<rustrade_backtest::BacktestResult, Box<dyn std::error::Error>> {
    let symbol = Symbol::new("BTCUSD")?;
    let spec = InstrumentSpec::new(symbol, AssetClass::CryptoSpot, 0.01, 0.00001)?;
    let mut risk = RiskConfig::preset(AssetClass::CryptoSpot);
    risk.sizing.margin = 9_500.0;
    risk.sizing.max_notional = Some(9_500.0);
    risk.session.loss_cap = None;
    let backtest = Backtest::builder()
        .instrument(spec)
        .initial_cash(10_000.0)
        .risk(risk)
        .brain(brain)
        .build()?;
    let data = CandleCsv::open(bitcoin(), CsvOptions::new(symbol))?;
    Ok(backtest.run(data)?)
}

#[test]
fn a_hand_written_brain_backtests() -> Result<(), Box<dyn std::error::Error>> {
    let result = run(Arc::new(Momentum::new(3)))?;
    assert!(
        result.statistics.trades > 10,
        "{}",
        result.statistics.trades
    );
    assert_eq!(result.equity.len(), 1247);
    Ok(())
}

#[test]
fn a_rule_backtests() -> Result<(), Box<dyn std::error::Error>> {
    let rule = RsiDip {
        period: 14,
        level: 30.0,
    };
    let params = serde_json::json!({"period": 14, "level": 30.0});
    let brain = RuleBrain::new("rsi-dip", rule, params)?;
    let result = run(Arc::new(brain))?;
    assert!(result.statistics.trades >= 1);
    assert!(result.trades.iter().all(|t| t.brain.as_str() == "rsi-dip"));
    Ok(())
}

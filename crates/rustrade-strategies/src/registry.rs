//! The registry: build a ready strategy from its name and a parameter table.
//!
//! Parameters arrive as a JSON value (a TOML table converts losslessly with `serde_json::to_value`).
//! A missing key takes its default, an unknown key or a wrong type is an error naming the key, and
//! the strategy's own validation runs before any brain exists.

use std::sync::Arc;

use rustrade_core::Brain;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::rule::{Rule, RuleBrain};
use crate::{BollingerBreakout, DonchianBreakout, EmaCross, RsiReversion, SmaCross, StrategyError};

/// A registered strategy: its name, a one-line summary and its default parameters.
#[derive(Debug, Clone, Copy)]
pub struct StrategyInfo {
    /// Registry name, as written in configuration files (`sma_cross`).
    pub name: &'static str,
    /// One line on what it trades.
    pub summary: &'static str,
    defaults: fn() -> serde_json::Value,
    resolve: fn(&serde_json::Value) -> Result<serde_json::Value, StrategyError>,
    build: BuildFn,
}

/// Builds a named brain from a parameter value.
type BuildFn = fn(&str, &serde_json::Value) -> Result<Arc<dyn Brain>, StrategyError>;

impl StrategyInfo {
    /// The default parameters as a JSON object (every key the strategy accepts).
    pub fn default_params(&self) -> serde_json::Value {
        (self.defaults)()
    }
}

static STRATEGIES: [StrategyInfo; 5] = [
    entry::<SmaCross>(
        "sma_cross",
        "long while the fast SMA of closes is above the slow SMA (enter and exit on crosses)",
    ),
    entry::<EmaCross>(
        "ema_cross",
        "long while the fast EMA of closes is above the slow EMA (enter and exit on crosses)",
    ),
    entry::<RsiReversion>(
        "rsi_reversion",
        "buy when Wilder's RSI falls through `oversold`, sell when it rises through `overbought`",
    ),
    entry::<BollingerBreakout>(
        "bollinger_breakout",
        "buy a close above the upper Bollinger band, sell a close back below the middle band",
    ),
    entry::<DonchianBreakout>(
        "donchian_breakout",
        "buy a close above the prior `entry`-bar high, sell a close below the prior `exit`-bar low",
    ),
];

/// Every registered strategy, in a fixed order.
///
/// ```
/// let names: Vec<_> = rustrade_strategies::list().iter().map(|s| s.name).collect();
/// assert!(names.contains(&"sma_cross"));
/// ```
pub fn list() -> &'static [StrategyInfo] {
    &STRATEGIES
}

/// The registered strategy called `name`.
pub fn info(name: &str) -> Result<&'static StrategyInfo, StrategyError> {
    STRATEGIES
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| StrategyError::Unknown {
            name: name.to_owned(),
            known: STRATEGIES
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Builds strategy `name` from `params` (a JSON object, or `null` for all defaults). The brain is
/// named after the strategy.
///
/// ```
/// let brain = rustrade_strategies::build("sma_cross", &serde_json::json!({"fast": 5, "slow": 20}))?;
/// assert_eq!(brain.name(), "sma_cross");
/// let err = rustrade_strategies::build("sma_cross", &serde_json::json!({"fast": 30, "slow": 20}))
///     .err()
///     .expect("fast >= slow is refused");
/// assert_eq!(err.to_string(), "fast: must be < slow (got 30 >= 20)");
/// # Ok::<(), rustrade_strategies::StrategyError>(())
/// ```
pub fn build(name: &str, params: &serde_json::Value) -> Result<Arc<dyn Brain>, StrategyError> {
    build_named(name, name, params)
}

/// Like [`build`], with the brain called `brain_name` (brains in one bot need distinct names).
pub fn build_named(
    name: &str,
    brain_name: &str,
    params: &serde_json::Value,
) -> Result<Arc<dyn Brain>, StrategyError> {
    (info(name)?.build)(brain_name, params)
}

/// Validates `params` for strategy `name` and returns the complete parameter set, defaults
/// filled in: what a report should show as "the parameters of this run".
///
/// ```
/// let p = rustrade_strategies::resolve_params("rsi_reversion", &serde_json::json!({"period": 7}))?;
/// assert_eq!(p, serde_json::json!({"period": 7, "oversold": 30.0, "overbought": 70.0}));
/// # Ok::<(), rustrade_strategies::StrategyError>(())
/// ```
pub fn resolve_params(
    name: &str,
    params: &serde_json::Value,
) -> Result<serde_json::Value, StrategyError> {
    (info(name)?.resolve)(params)
}

/// A strategy's parameter type: deserialisable with defaults, and self-validating.
trait Params: Rule + Default + Serialize + DeserializeOwned {
    fn check(&self) -> Result<(), StrategyError>;
}

macro_rules! params {
    ($($t:ty),*) => {$(
        impl Params for $t {
            fn check(&self) -> Result<(), StrategyError> {
                self.validate()
            }
        }
    )*};
}
params!(
    SmaCross,
    EmaCross,
    RsiReversion,
    BollingerBreakout,
    DonchianBreakout
);

const fn entry<P: Params>(name: &'static str, summary: &'static str) -> StrategyInfo {
    StrategyInfo {
        name,
        summary,
        defaults: defaults::<P>,
        resolve: resolve::<P>,
        build: build_one::<P>,
    }
}

fn defaults<P: Params>() -> serde_json::Value {
    to_json(&P::default())
}

fn to_json<P: Serialize>(p: &P) -> serde_json::Value {
    // Parameter structs hold only integers, finite floats and strings: serialisation cannot fail.
    serde_json::to_value(p).unwrap_or(serde_json::Value::Null)
}

fn parse<P: Params>(params: &serde_json::Value) -> Result<P, StrategyError> {
    let p: P = match params {
        serde_json::Value::Null => P::default(),
        v if !v.is_object() => {
            return Err(StrategyError::Params {
                path: "params".to_owned(),
                message: format!("expected a table of parameters (got {v})"),
            });
        }
        v => serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            StrategyError::Params {
                path: if path == "." {
                    "params".to_owned()
                } else {
                    path
                },
                message: e.into_inner().to_string(),
            }
        })?,
    };
    p.check()?;
    Ok(p)
}

fn resolve<P: Params>(params: &serde_json::Value) -> Result<serde_json::Value, StrategyError> {
    parse::<P>(params).map(|p| to_json(&p))
}

fn build_one<P: Params>(
    brain_name: &str,
    params: &serde_json::Value,
) -> Result<Arc<dyn Brain>, StrategyError> {
    let p = parse::<P>(params)?;
    let json = to_json(&p);
    Ok(Arc::new(RuleBrain::new(brain_name, p, json)?))
}

//! The registry: build a strategy from its name and a parameter table.
//!
//! Parameters arrive as a JSON value (a TOML table converts losslessly with `serde_json::to_value`).
//! A missing key takes its default, an unknown key or a wrong type is an error naming the key, and
//! the strategy's own validation runs before any brain exists.
//!
//! The five ready strategies form [`Registry::builtin`]; a program adds its own with
//! [`Registry::register`]: a parameter type implementing [`Strategy`] gets exactly the parsing,
//! defaults and error messages the ready ones have.

use std::sync::Arc;

use rustrade_core::Brain;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::rule::{Rule, RuleBrain};
use crate::shared::{SeriesCache, SeriesKey};
use crate::{BollingerBreakout, DonchianBreakout, EmaCross, RsiReversion, SmaCross, StrategyError};

/// A strategy the registry can build: its parameter type, which knows its defaults, checks its
/// values and turns itself into a brain.
///
/// Implement it on a parameter struct deriving `Serialize` and `Deserialize` with
/// `#[serde(deny_unknown_fields, default)]`: a missing key then takes the default, and an unknown
/// key or a wrong type is refused with the key's name, exactly as for the ready strategies.
///
/// ```
/// use std::sync::Arc;
///
/// use rustrade_core::Brain;
/// use rustrade_strategies::{Registry, RuleBrain, SmaCross, Strategy, StrategyError};
///
/// /// An SMA cross that insists on a wide gap between the two averages.
/// #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
/// #[serde(deny_unknown_fields, default)]
/// struct WideCross {
///     fast: u16,
///     slow: u16,
/// }
///
/// impl Default for WideCross {
///     fn default() -> Self {
///         Self { fast: 5, slow: 50 }
///     }
/// }
///
/// impl Strategy for WideCross {
///     const SUMMARY: &'static str = "an SMA cross whose slow average is at least 5x the fast one";
///
///     fn validate(&self) -> Result<(), StrategyError> {
///         if self.slow < self.fast.saturating_mul(5) {
///             return Err(StrategyError::invalid(
///                 "slow",
///                 format!("must be >= 5 x fast (got {} < 5 x {})", self.slow, self.fast),
///             ));
///         }
///         Ok(())
///     }
///
///     fn into_brain(self, name: &str) -> Result<Arc<dyn Brain>, StrategyError> {
///         let rule = SmaCross { fast: self.fast, slow: self.slow, ..SmaCross::default() };
///         let params = serde_json::json!({ "fast": self.fast, "slow": self.slow });
///         Ok(Arc::new(RuleBrain::new(name, rule, params)?))
///     }
/// }
///
/// let registry = Registry::builtin().with::<WideCross>("wide_cross")?;
/// let brain = registry.build("wide_cross", &serde_json::json!({ "fast": 4 }))?;
/// assert_eq!(brain.name(), "wide_cross");
/// let err = registry.build("wide_cross", &serde_json::json!({ "fast": 20 })).err().unwrap();
/// assert_eq!(err.to_string(), "slow: must be >= 5 x fast (got 50 < 5 x 20)");
/// # Ok::<(), StrategyError>(())
/// ```
pub trait Strategy: Default + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// One line on what it trades, shown by `rustrade strategies`.
    const SUMMARY: &'static str;

    /// Checks the values together once they parsed (`fast < slow`); the error names the field
    /// and the value. Accepts everything unless overridden.
    fn validate(&self) -> Result<(), StrategyError> {
        Ok(())
    }

    /// The brain called `name` trading with these parameters (already validated).
    fn into_brain(self, name: &str) -> Result<Arc<dyn Brain>, StrategyError>;

    /// The indicator series a brain with these parameters can read from a [`SeriesCache`]
    /// (none unless overridden): what a sweep computes once for all its points.
    fn shared_series(&self) -> Vec<SeriesKey> {
        Vec::new()
    }

    /// The brain called `name`, reading from `cache` the series of
    /// [`Strategy::shared_series`] it holds; it must decide exactly as [`Strategy::into_brain`]'s
    /// over the data `cache` was built from. [`Strategy::into_brain`] unless overridden.
    fn into_shared_brain(
        self,
        name: &str,
        cache: &Arc<SeriesCache>,
    ) -> Result<Arc<dyn Brain>, StrategyError> {
        let _ = cache;
        self.into_brain(name)
    }
}

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
    series: fn(&serde_json::Value) -> Result<Vec<SeriesKey>, StrategyError>,
    build_shared: BuildSharedFn,
}

/// Builds a named brain from a parameter value.
type BuildFn = fn(&str, &serde_json::Value) -> Result<Arc<dyn Brain>, StrategyError>;

/// Builds a named brain from a parameter value over a series cache.
type BuildSharedFn =
    fn(&str, &serde_json::Value, &Arc<SeriesCache>) -> Result<Arc<dyn Brain>, StrategyError>;

impl StrategyInfo {
    /// The entry for strategy type `S` under `name`.
    pub const fn of<S: Strategy>(name: &'static str) -> Self {
        Self {
            name,
            summary: S::SUMMARY,
            defaults: defaults::<S>,
            resolve: resolve::<S>,
            build: build_one::<S>,
            series: series::<S>,
            build_shared: build_shared::<S>,
        }
    }

    /// The default parameters as a JSON object (every key the strategy accepts).
    pub fn default_params(&self) -> serde_json::Value {
        (self.defaults)()
    }

    /// Validates `params` and returns the complete parameter set, defaults filled in.
    pub fn resolve_params(
        &self,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, StrategyError> {
        (self.resolve)(params)
    }

    /// Builds the strategy from `params`, the brain called `brain_name`.
    pub fn build_named(
        &self,
        brain_name: &str,
        params: &serde_json::Value,
    ) -> Result<Arc<dyn Brain>, StrategyError> {
        (self.build)(brain_name, params)
    }

    /// The indicator series a brain built from `params` can read from a [`SeriesCache`]
    /// ([`Strategy::shared_series`]); an error when `params` are invalid.
    pub fn shared_series(
        &self,
        params: &serde_json::Value,
    ) -> Result<Vec<SeriesKey>, StrategyError> {
        (self.series)(params)
    }

    /// Like [`StrategyInfo::build_named`], the brain reading what `cache` holds of its series
    /// ([`Strategy::into_shared_brain`]): it decides as the other over the data of `cache`.
    pub fn build_shared(
        &self,
        brain_name: &str,
        params: &serde_json::Value,
        cache: &Arc<SeriesCache>,
    ) -> Result<Arc<dyn Brain>, StrategyError> {
        (self.build_shared)(brain_name, params, cache)
    }
}

/// A set of strategies by name: the ready ones, plus any a program registers.
///
/// The `rustrade` command resolves `[strategy] name` in a registry, so a program that registers
/// its own strategy and runs the command over this registry backtests, sweeps and trades it like
/// a ready one.
///
/// ```
/// let registry = rustrade_strategies::Registry::builtin();
/// assert_eq!(registry.list().len(), 5);
/// let err = registry.info("nope").err().unwrap();
/// assert!(err.to_string().starts_with("unknown strategy \"nope\""));
/// ```
#[derive(Debug, Clone)]
pub struct Registry {
    entries: Vec<StrategyInfo>,
}

impl Registry {
    /// The five ready strategies.
    pub fn builtin() -> Self {
        Self {
            entries: STRATEGIES.to_vec(),
        }
    }

    /// A registry with no strategy (for a program that offers only its own).
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Adds strategy `S` under `name`.
    ///
    /// Refused when the name is taken (a ready strategy's included) or is not a plain name: one
    /// or more ASCII letters, digits, `_` or `-`.
    pub fn register<S: Strategy>(
        &mut self,
        name: &'static str,
    ) -> Result<&mut Self, StrategyError> {
        let refuse = |reason: &str| StrategyError::Register {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if name.is_empty() {
            return Err(refuse("a name must not be empty"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(refuse(
                "a name holds only ASCII letters, digits, `_` and `-`",
            ));
        }
        if self.entries.iter().any(|e| e.name == name) {
            return Err(refuse("the name is already registered"));
        }
        self.entries.push(StrategyInfo::of::<S>(name));
        Ok(self)
    }

    /// [`Registry::register`], by value.
    pub fn with<S: Strategy>(mut self, name: &'static str) -> Result<Self, StrategyError> {
        self.register::<S>(name)?;
        Ok(self)
    }

    /// Every strategy, ready ones first, then in registration order.
    pub fn list(&self) -> &[StrategyInfo] {
        &self.entries
    }

    /// The strategy called `name`.
    pub fn info(&self, name: &str) -> Result<&StrategyInfo, StrategyError> {
        self.entries
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| StrategyError::Unknown {
                name: name.to_owned(),
                known: self
                    .entries
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Builds strategy `name` from `params` (a JSON object, or `null` for all defaults); the
    /// brain is named after the strategy.
    pub fn build(
        &self,
        name: &str,
        params: &serde_json::Value,
    ) -> Result<Arc<dyn Brain>, StrategyError> {
        self.info(name)?.build_named(name, params)
    }

    /// Validates `params` for strategy `name` and returns them with the defaults filled in.
    pub fn resolve_params(
        &self,
        name: &str,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, StrategyError> {
        self.info(name)?.resolve_params(params)
    }
}

impl Default for Registry {
    /// The ready strategies, as [`Registry::builtin`].
    fn default() -> Self {
        Self::builtin()
    }
}

static STRATEGIES: [StrategyInfo; 5] = [
    StrategyInfo::of::<SmaCross>("sma_cross"),
    StrategyInfo::of::<EmaCross>("ema_cross"),
    StrategyInfo::of::<RsiReversion>("rsi_reversion"),
    StrategyInfo::of::<BollingerBreakout>("bollinger_breakout"),
    StrategyInfo::of::<DonchianBreakout>("donchian_breakout"),
];

/// Every ready strategy, in a fixed order.
///
/// ```
/// let names: Vec<_> = rustrade_strategies::list().iter().map(|s| s.name).collect();
/// assert!(names.contains(&"sma_cross"));
/// ```
pub fn list() -> &'static [StrategyInfo] {
    &STRATEGIES
}

/// The ready strategy called `name`.
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

/// Builds ready strategy `name` from `params` (a JSON object, or `null` for all defaults). The
/// brain is named after the strategy.
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
    info(name)?.build_named(brain_name, params)
}

/// Validates `params` for ready strategy `name` and returns the complete parameter set, defaults
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
    info(name)?.resolve_params(params)
}

macro_rules! ready {
    ($($t:ty => $summary:literal),* $(,)?) => {$(
        impl Strategy for $t {
            const SUMMARY: &'static str = $summary;

            fn validate(&self) -> Result<(), StrategyError> {
                <$t>::validate(self)
            }

            fn into_brain(self, name: &str) -> Result<Arc<dyn Brain>, StrategyError> {
                let json = to_json(&self);
                Ok(Arc::new(RuleBrain::new(name, self, json)?))
            }

            fn shared_series(&self) -> Vec<SeriesKey> {
                Rule::shared_series(self)
            }

            fn into_shared_brain(
                self,
                name: &str,
                cache: &Arc<SeriesCache>,
            ) -> Result<Arc<dyn Brain>, StrategyError> {
                let json = to_json(&self);
                Ok(Arc::new(RuleBrain::shared(name, self, json, Arc::clone(cache))?))
            }
        }
    )*};
}
ready!(
    SmaCross => "long while the fast SMA of closes is above the slow SMA (enter and exit on crosses)",
    EmaCross => "long while the fast EMA of closes is above the slow EMA (enter and exit on crosses)",
    RsiReversion => "buy when Wilder's RSI falls through `oversold`, sell when it rises through `overbought`",
    BollingerBreakout => "buy a close above the upper Bollinger band, sell a close back below the middle band",
    DonchianBreakout => "buy a close above the prior `entry`-bar high, sell a close below the prior `exit`-bar low",
);

fn defaults<S: Strategy>() -> serde_json::Value {
    to_json(&S::default())
}

fn to_json<S: Serialize>(p: &S) -> serde_json::Value {
    // Parameter structs hold plain values (numbers, strings, enums): should one not serialise
    // (a non-finite float), it shows as null rather than failing the run.
    serde_json::to_value(p).unwrap_or(serde_json::Value::Null)
}

fn parse<S: Strategy>(params: &serde_json::Value) -> Result<S, StrategyError> {
    let p: S = match params {
        serde_json::Value::Null => S::default(),
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
    p.validate()?;
    Ok(p)
}

fn resolve<S: Strategy>(params: &serde_json::Value) -> Result<serde_json::Value, StrategyError> {
    parse::<S>(params).map(|p| to_json(&p))
}

fn series<S: Strategy>(params: &serde_json::Value) -> Result<Vec<SeriesKey>, StrategyError> {
    parse::<S>(params).map(|p| p.shared_series())
}

fn build_shared<S: Strategy>(
    brain_name: &str,
    params: &serde_json::Value,
    cache: &Arc<SeriesCache>,
) -> Result<Arc<dyn Brain>, StrategyError> {
    parse::<S>(params)?.into_shared_brain(brain_name, cache)
}

fn build_one<S: Strategy>(
    brain_name: &str,
    params: &serde_json::Value,
) -> Result<Arc<dyn Brain>, StrategyError> {
    parse::<S>(params)?.into_brain(brain_name)
}

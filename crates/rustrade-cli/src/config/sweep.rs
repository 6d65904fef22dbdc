//! The `[sweep]` table: a parameter grid and the statistic that ranks its runs.

use rustrade_backtest::Statistics;

use super::raw::RawSweep;
use super::{ConfigError, Source, StrategySpec};
use crate::summary;

/// Most combinations one sweep may have.
pub(crate) const MAX_COMBINATIONS: usize = 100_000;

/// A validated parameter grid.
#[derive(Debug, Clone)]
pub(crate) struct SweepSpec {
    /// What ranks the runs.
    pub(crate) objective: Objective,
    /// How many of the best runs the table shows.
    pub(crate) top: usize,
    /// Parameter name and its candidate values, in the file's order.
    pub(crate) grid: Vec<(String, Vec<serde_json::Value>)>,
}

/// The ranking statistic and whether higher is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Objective {
    /// Statistics key (`sharpe`, `total_return`, `max_drawdown`, ...).
    pub(crate) key: &'static str,
    /// Higher values rank first (false for drawdowns and volatility).
    pub(crate) higher_is_better: bool,
}

impl Objective {
    /// Parses a statistics key.
    pub(crate) fn parse(key: &str) -> Result<Self, String> {
        let found = summary::ROWS
            .iter()
            .map(|r| r.0)
            .find(|k| *k == key)
            .ok_or_else(|| {
                let keys: Vec<_> = summary::ROWS.iter().map(|r| r.0).collect();
                format!("unknown statistic {key:?} (one of: {})", keys.join(", "))
            })?;
        let lower_better = matches!(
            found,
            "max_drawdown"
                | "average_drawdown"
                | "max_drawdown_duration_secs"
                | "annualised_volatility"
                | "fees_paid"
        );
        Ok(Self {
            key: found,
            higher_is_better: !lower_better,
        })
    }

    /// The objective's value in `stats` (`None` when undefined for the run).
    pub(crate) fn value(&self, stats: &Statistics) -> Option<f64> {
        summary::value(stats, self.key)
    }
}

impl SweepSpec {
    /// Validates `[sweep]` against the strategy's parameters.
    pub(crate) fn from_raw(
        src: &Source<'_>,
        raw: &RawSweep,
        strategy: &StrategySpec,
    ) -> Result<Self, ConfigError> {
        let objective =
            Objective::parse(&raw.objective).map_err(|m| src.error("sweep.objective", m))?;
        if raw.top == 0 {
            return Err(src.error("sweep.top", "must be >= 1 (got 0)"));
        }
        let known = rustrade_strategies::info(&strategy.name)
            .map(|i| i.default_params())
            .map_err(|e| src.error("strategy.name", e.to_string()))?;
        let mut grid = Vec::new();
        let mut combinations: usize = 1;
        for (name, values) in &raw.grid {
            let key = format!("sweep.grid.{name}");
            if known.get(name).is_none() {
                let names: Vec<_> = known
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                return Err(src.error(
                    &key,
                    format!(
                        "{} has no parameter {name:?} (it has: {})",
                        strategy.name,
                        names.join(", ")
                    ),
                ));
            }
            let toml::Value::Array(values) = values else {
                return Err(src.error(&key, format!("expected an array of values (got {values})")));
            };
            if values.is_empty() {
                return Err(src.error(&key, "expected at least one value (got [])"));
            }
            let values: Vec<serde_json::Value> = values
                .iter()
                .map(|v| serde_json::to_value(v).map_err(|e| src.error(&key, e.to_string())))
                .collect::<Result<_, _>>()?;
            combinations = combinations.saturating_mul(values.len());
            grid.push((name.clone(), values));
        }
        if grid.is_empty() {
            return Err(src.error("sweep.grid", "expected at least one parameter to vary"));
        }
        if combinations > MAX_COMBINATIONS {
            return Err(src.error(
                "sweep.grid",
                format!("{combinations} combinations; at most {MAX_COMBINATIONS} are allowed"),
            ));
        }
        Ok(Self {
            objective,
            top: raw.top,
            grid,
        })
    }

    /// Every combination as a full parameter object: `base` with the grid's values set, in
    /// odometer order (the last grid key varies fastest).
    pub(crate) fn combinations(&self, base: &serde_json::Value) -> Vec<serde_json::Value> {
        let mut out = vec![base.clone()];
        for (name, values) in &self.grid {
            out = out
                .into_iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut p = p.clone();
                        if let serde_json::Value::Object(m) = &mut p {
                            m.insert(name.clone(), v.clone());
                        }
                        p
                    })
                })
                .collect();
        }
        out
    }
}

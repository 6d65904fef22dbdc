//! The `[sweep]` table: a parameter grid, how to search it and the objective that ranks it, in
//! the terms of `rustrade_backtest::sweep`.

use rustrade_backtest::sweep::{Objective, ParamSpace, ParamValue, Search};

use super::raw::RawSweep;
use super::{ConfigError, Source, StrategySpec};

/// Most points one sweep may run.
pub(crate) const MAX_POINTS: usize = 100_000;

/// A validated sweep.
#[derive(Debug, Clone)]
pub(crate) struct SweepSpec {
    /// What ranks the runs.
    pub(crate) objective: Objective,
    /// How many of the best runs the table shows.
    pub(crate) top: usize,
    /// Parameter name and its candidate values (all numbers, or all named choices), in name
    /// order.
    pub(crate) grid: Vec<(String, Vec<ParamValue>)>,
    /// Every combination, or a seeded random sample of them.
    pub(crate) search: Search,
    /// In-sample share of the data for a walk-forward split.
    pub(crate) walk_forward: Option<f64>,
}

impl SweepSpec {
    /// Validates `[sweep]` against the strategy's parameters.
    pub(crate) fn from_raw(
        src: &Source<'_>,
        raw: &RawSweep,
        strategy: &StrategySpec,
    ) -> Result<Self, ConfigError> {
        let objective = serde_json::from_value(serde_json::Value::String(raw.objective.clone()))
            .map_err(|_| {
                src.error(
                    "sweep.objective",
                    format!(
                        "unknown objective {:?} (one of: sharpe, sortino, calmar, total_return, \
                         cagr, profit_factor, sqn, expectancy, min_drawdown)",
                        raw.objective
                    ),
                )
            })?;
        if raw.top == 0 {
            return Err(src.error("sweep.top", "must be >= 1 (got 0)"));
        }
        let known = strategy.info.default_params();
        let mut grid = Vec::new();
        let mut points: usize = 1;
        for (name, values) in &raw.grid {
            let key = format!("sweep.grid.{name}");
            if known.get(name).is_none() && name != rustrade_strategies::Direction::PARAM {
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
                return Err(src.error(&key, format!("expected an array of numbers (got {values})")));
            };
            if values.is_empty() {
                return Err(src.error(&key, "expected at least one value (got [])"));
            }
            let values = if values.iter().all(toml::Value::is_str) {
                choices(src, &key, strategy, name, values)?
            } else {
                values
                    .iter()
                    .map(|v| match v {
                        toml::Value::Integer(i) => Ok(ParamValue::Number(*i as f64)),
                        toml::Value::Float(f) if f.is_finite() => Ok(ParamValue::Number(*f)),
                        other => Err(src.error(
                            &key,
                            format!("expected all numbers or all strings (got {other})"),
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?
            };
            points = points.saturating_mul(values.len());
            grid.push((name.clone(), values));
        }
        if grid.is_empty() {
            return Err(src.error("sweep.grid", "expected at least one parameter to vary"));
        }
        let search = match raw.samples {
            Some(0) => return Err(src.error("sweep.samples", "must be >= 1 (got 0)")),
            Some(samples) => {
                points = samples;
                Search::Random {
                    seed: raw.seed,
                    samples,
                }
            }
            None => Search::Grid,
        };
        if points > MAX_POINTS {
            return Err(src.error(
                "sweep.grid",
                format!("{points} runs; at most {MAX_POINTS} are allowed"),
            ));
        }
        if let Some(f) = raw.walk_forward
            && !(f.is_finite() && f > 0.0 && f < 1.0)
        {
            return Err(src.error(
                "sweep.walk_forward",
                format!("must be within (0, 1), the in-sample share (got {f})"),
            ));
        }
        Ok(Self {
            objective,
            top: raw.top,
            grid,
            search,
            walk_forward: raw.walk_forward,
        })
    }

    /// The grid as the backtest crate's parameter space.
    pub(crate) fn space(&self) -> Result<ParamSpace, rustrade_backtest::BacktestError> {
        self.grid
            .iter()
            .try_fold(ParamSpace::new(), |space, (name, values)| {
                let numbers: Option<Vec<f64>> = values.iter().map(ParamValue::as_number).collect();
                match numbers {
                    Some(numbers) => space.values(name, numbers),
                    None => space.choices(name, values.iter().map(ToString::to_string)),
                }
            })
    }

    /// Number of runs the search makes (before a walk-forward doubling).
    pub(crate) fn points(&self) -> usize {
        match self.search {
            Search::Grid => self.grid.iter().map(|(_, v)| v.len()).product(),
            Search::Random { samples, .. } => samples,
        }
    }

    /// The objective's name as written in configs.
    pub(crate) fn objective_name(&self) -> String {
        serde_json::to_value(self.objective)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// A grid axis of named choices (such as `direction`): each one must be a value the strategy
/// accepts for `name`, checked by building the strategy with it.
fn choices(
    src: &Source<'_>,
    key: &str,
    strategy: &StrategySpec,
    name: &str,
    values: &[toml::Value],
) -> Result<Vec<ParamValue>, ConfigError> {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        let choice = v.as_str().unwrap_or_default();
        if out
            .iter()
            .any(|c: &ParamValue| c.as_choice() == Some(choice))
        {
            return Err(src.error(key, format!("{choice:?} is listed twice")));
        }
        let mut params = strategy.params.clone();
        if let serde_json::Value::Object(m) = &mut params {
            m.insert(name.to_owned(), serde_json::Value::from(choice));
        }
        rustrade_strategies::build(&strategy.name, &params).map_err(|e| {
            src.error(
                key,
                format!("{choice:?} is not accepted by {}: {e}", strategy.name),
            )
        })?;
        out.push(ParamValue::Choice(choice.to_owned()));
    }
    Ok(out)
}

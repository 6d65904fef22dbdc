//! The parameter space of a sweep: named axes of numbers or of named choices, and one point of
//! it ([`Params`]).

use std::collections::BTreeMap;
use std::fmt;

use crate::BacktestError;

/// One parameter's candidate values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParamValues {
    /// Exactly these values (grid and random search pick among them).
    List {
        /// The values, in order.
        values: Vec<f64>,
    },
    /// `start, start + step, …` up to and including `end` (within `step × 1e-9`). Random search
    /// draws uniformly from `[start, end]` and snaps to the step.
    Range {
        /// First value.
        start: f64,
        /// Last value (inclusive).
        end: f64,
        /// Increment, `> 0`.
        step: f64,
    },
    /// Named alternatives, e.g. a strategy's `direction`; grid and random search pick among
    /// them like a list.
    Choices {
        /// The choices, in order.
        values: Vec<String>,
    },
}

/// One parameter's value at a point: a number, or one of an axis's named choices. Serialised as
/// a bare JSON number or string.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A numeric value.
    Number(f64),
    /// A named choice.
    Choice(String),
}

/// A set of named parameters with their candidate values; names are unique and kept in the
/// order they were added.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParamSpace {
    params: Vec<(String, ParamValues)>,
}

/// One point of a parameter space: name → value.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<String, ParamValue>);

impl ParamSpace {
    /// An empty space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter with explicit values; refuses a duplicate name, an empty list or a
    /// non-finite value.
    pub fn values(
        mut self,
        name: &str,
        values: impl Into<Vec<f64>>,
    ) -> Result<Self, BacktestError> {
        let values = values.into();
        self.check_name(name)?;
        if values.is_empty() {
            return Err(param_error(name, "needs at least one value".into()));
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(param_error(name, format!("value {v} is not finite")));
        }
        self.params
            .push((name.to_owned(), ParamValues::List { values }));
        Ok(self)
    }

    /// Adds a parameter ranging over `start..=end` by `step`; refuses non-finite bounds,
    /// `end < start`, a step `<= 0`, or more than a million values.
    pub fn range(
        mut self,
        name: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Self, BacktestError> {
        self.check_name(name)?;
        if !(start.is_finite() && end.is_finite() && step.is_finite()) {
            return Err(param_error(
                name,
                format!("bounds {start}..={end} step {step} must be finite"),
            ));
        }
        if end < start || step <= 0.0 {
            return Err(param_error(
                name,
                format!("needs start <= end and step > 0 (got {start}..={end} step {step})"),
            ));
        }
        if (end - start) / step > 1e6 {
            return Err(param_error(
                name,
                format!("{start}..={end} step {step} has more than a million values"),
            ));
        }
        self.params
            .push((name.to_owned(), ParamValues::Range { start, end, step }));
        Ok(self)
    }

    /// Adds a parameter choosing among named `values`; refuses a duplicate name, an empty list, a
    /// blank choice or the same choice twice.
    pub fn choices(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<Self, BacktestError> {
        self.check_name(name)?;
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        if values.is_empty() {
            return Err(param_error(name, "needs at least one value".into()));
        }
        for (i, v) in values.iter().enumerate() {
            if v.trim().is_empty() {
                return Err(param_error(name, format!("choice {v:?} is blank")));
            }
            if values[..i].contains(v) {
                return Err(param_error(name, format!("choice {v:?} is listed twice")));
            }
        }
        self.params
            .push((name.to_owned(), ParamValues::Choices { values }));
        Ok(self)
    }

    /// Number of grid points (product of the value counts; 1 for an empty space).
    pub fn grid_len(&self) -> usize {
        self.params
            .iter()
            .map(|(_, v)| v.grid().len())
            .fold(1usize, usize::saturating_mul)
    }

    /// Every grid point, last parameter varying fastest.
    pub fn grid(&self) -> Vec<Params> {
        let axes: Vec<(&str, Vec<ParamValue>)> = self
            .params
            .iter()
            .map(|(n, v)| (n.as_str(), v.grid()))
            .collect();
        let mut out = Vec::with_capacity(self.grid_len());
        let mut idx = vec![0usize; axes.len()];
        loop {
            out.push(Params(
                axes.iter()
                    .zip(&idx)
                    .map(|((n, vals), &i)| ((*n).to_owned(), vals[i].clone()))
                    .collect(),
            ));
            let mut k = axes.len();
            loop {
                if k == 0 {
                    return out;
                }
                k -= 1;
                idx[k] += 1;
                if idx[k] < axes[k].1.len() {
                    break;
                }
                idx[k] = 0;
            }
        }
    }

    /// `samples` points drawn from a generator seeded with `seed`; each parameter is drawn
    /// independently (uniformly from its list, or uniformly in its range snapped to the step).
    pub fn random(&self, seed: u64, samples: usize) -> Vec<Params> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..samples)
            .map(|_| {
                Params(
                    self.params
                        .iter()
                        .map(|(n, v)| (n.clone(), v.draw(&mut rng)))
                        .collect(),
                )
            })
            .collect()
    }

    fn check_name(&self, name: &str) -> Result<(), BacktestError> {
        if name.is_empty() {
            return Err(param_error(name, "name must not be empty".into()));
        }
        if self.params.iter().any(|(n, _)| n == name) {
            return Err(param_error(name, "defined twice".into()));
        }
        Ok(())
    }
}

impl ParamValues {
    fn grid(&self) -> Vec<ParamValue> {
        match self {
            Self::List { values } => values.iter().copied().map(ParamValue::Number).collect(),
            Self::Range { start, end, step } => (0..=range_steps(*start, *end, *step))
                .map(|i| ParamValue::Number(start + i as f64 * step))
                .collect(),
            Self::Choices { values } => values.iter().cloned().map(ParamValue::Choice).collect(),
        }
    }

    fn draw(&self, rng: &mut fastrand::Rng) -> ParamValue {
        match self {
            Self::List { values } => ParamValue::Number(values[rng.usize(..values.len())]),
            Self::Range { start, end, step } => {
                let n = range_steps(*start, *end, *step);
                ParamValue::Number(start + rng.usize(..=n) as f64 * step)
            }
            Self::Choices { values } => {
                ParamValue::Choice(values[rng.usize(..values.len())].clone())
            }
        }
    }
}

impl Params {
    /// The numeric value of `name`, if the point has it as a number.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.value(name).and_then(ParamValue::as_number)
    }

    /// The named choice of `name`, if the point has it as a choice.
    pub fn choice(&self, name: &str) -> Option<&str> {
        self.value(name).and_then(ParamValue::as_choice)
    }

    /// The value of `name`, number or choice.
    pub fn value(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    /// The numeric value of `name`, or a configuration error naming it.
    pub fn require(&self, name: &str) -> Result<f64, BacktestError> {
        match self.value(name) {
            Some(ParamValue::Number(v)) => Ok(*v),
            Some(ParamValue::Choice(c)) => Err(param_error(
                name,
                format!("is the choice {c:?}, not a number"),
            )),
            None => Err(param_error(
                name,
                "is not part of this parameter set".into(),
            )),
        }
    }

    /// Iterates `(name, value)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl ParamValue {
    /// The number, if this is one.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Self::Number(v) => Some(*v),
            Self::Choice(_) => None,
        }
    }

    /// The choice, if this is one.
    pub fn as_choice(&self) -> Option<&str> {
        match self {
            Self::Number(_) => None,
            Self::Choice(c) => Some(c),
        }
    }

    /// The value as JSON: whole numbers become integers (so integer parameters such as periods
    /// accept them), other numbers floats, choices strings.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Number(v) if is_whole(*v) => serde_json::Value::from(*v as i64),
            Self::Number(v) => serde_json::Value::from(*v),
            Self::Choice(c) => serde_json::Value::from(c.as_str()),
        }
    }
}

/// Whole numbers without a fraction (`10`, not `10.0`); choices as written.
impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(v) if is_whole(*v) => write!(f, "{}", *v as i64),
            Self::Number(v) => write!(f, "{v}"),
            Self::Choice(c) => f.write_str(c),
        }
    }
}

/// A whole number small enough to be exact as an `i64`.
fn is_whole(v: f64) -> bool {
    v.fract() == 0.0 && v.abs() < 9.0e15
}

/// Number of steps after `start` in `start..=end` by `step`, with a `1e-9` step tolerance.
fn range_steps(start: f64, end: f64, step: f64) -> usize {
    ((end - start) / step + 1e-9).floor() as usize
}

fn param_error(name: &str, what: String) -> BacktestError {
    BacktestError::Config {
        field: "params",
        reason: format!("{name:?} {what}"),
    }
}

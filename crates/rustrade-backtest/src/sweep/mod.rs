//! Parameter sweeps: a grid or a seeded random search over named parameters, each point run as
//! its own backtest in parallel (rayon), ranked by an objective, optionally with a walk-forward
//! split.
//!
//! # Invariants
//!
//! - Points are enumerated in a fixed order (grid: the cartesian product, last parameter
//!   varying fastest; random: drawn from a `fastrand::Rng` seeded by the caller), and results are
//!   collected in that order before ranking, so the outcome is identical for any thread count.
//! - Ranking: higher objective first; points whose objective is undefined or whose run failed
//!   come last; ties keep enumeration order.
//! - Each point builds fresh brains through the caller's closure, so no state leaks between
//!   points, and again for the out-of-sample part of a walk-forward split.
//! - The data are held once in memory (`&[MarketEvent]`) and shared read-only by all runs.
//! - Work common to the points of a data segment (the whole data, or each side of a
//!   walk-forward split) is done once per segment, before the parallel part, by the
//!   [`SegmentFactory`] of [`Sweep::per_segment`]: it sees the segment and every point and
//!   returns the brain factory of that segment's runs (indicator series computed once and read
//!   by every point's brains, say). [`Sweep::evaluate`] prepares the segments of its one point.

mod params;

use std::sync::Arc;

use rayon::prelude::*;
use rustrade_core::{Brain, MarketEvent, Timestamp};

use crate::{BacktestBuilder, BacktestError, Statistics};

pub use params::{ParamSpace, ParamValue, ParamValues, Params};

/// What ranks the points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Annualised Sharpe ratio.
    #[default]
    Sharpe,
    /// Annualised Sortino ratio.
    Sortino,
    /// Calmar ratio.
    Calmar,
    /// Total return.
    TotalReturn,
    /// Compound annual growth rate.
    Cagr,
    /// Profit factor.
    ProfitFactor,
    /// System quality number.
    Sqn,
    /// Expectancy (mean net PnL per trade).
    Expectancy,
    /// Smallest max drawdown (ranked by `−max_drawdown`).
    MinDrawdown,
}

/// How to search the space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Every combination.
    Grid,
    /// `samples` points drawn with `seed`.
    Random {
        /// Seed of the generator.
        seed: u64,
        /// Number of points.
        samples: usize,
    },
}

/// A parameter sweep over one data set.
///
/// ```
/// use std::sync::Arc;
/// use rustrade_backtest::brains::Periodic;
/// use rustrade_backtest::sweep::{Objective, ParamSpace, Search, Sweep};
/// use rustrade_backtest::{synthetic, Backtest};
/// use rustrade_core::{AssetClass, Brain, InstrumentSpec, MarketEvent};
///
/// let spec = InstrumentSpec::new(synthetic::synthetic_symbol(), AssetClass::CryptoSpot, 0.01, 0.001)?;
/// let data: Vec<MarketEvent> = synthetic::random_walk(3, 300).collect::<Result<_, _>>()?;
/// let space = ParamSpace::new().range("period", 4.0, 20.0, 4.0)?;
/// let sweep = Sweep::new(Backtest::builder().instrument(spec), space, |p| {
///     let period = p.require("period")? as u64;
///     Ok(vec![Arc::new(Periodic::new(period)) as Arc<dyn Brain>])
/// })
/// .objective(Objective::TotalReturn);
/// let result = sweep.run(&data, Search::Grid)?;
/// assert_eq!(result.rows.len(), 5);
/// assert_eq!(result.rows[0].rank, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sweep {
    template: BacktestBuilder,
    space: ParamSpace,
    prepare: Arc<SegmentFactory>,
    objective: Objective,
    in_sample: Option<f64>,
    threads: Option<usize>,
}

/// Builds a point's brains from its parameters.
pub type BrainFactory = dyn Fn(&Params) -> Result<Vec<Arc<dyn Brain>>, BacktestError> + Send + Sync;

/// Prepares one data segment of a sweep (the events its runs replay) for the points to run over
/// it, and returns the brain factory of those runs. An error fails the sweep.
pub type SegmentFactory =
    dyn Fn(&[MarketEvent], &[Params]) -> Result<Arc<BrainFactory>, BacktestError> + Send + Sync;

/// The ranked outcome of a sweep.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepResult {
    /// The objective used for ranking.
    pub objective: Objective,
    /// End of the in-sample part (exclusive) when a walk-forward split was used.
    pub split_time: Option<Timestamp>,
    /// One row per point, best first.
    pub rows: Vec<SweepRow>,
}

/// One point's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepRow {
    /// 1-based rank.
    pub rank: usize,
    /// Position in enumeration order.
    pub index: usize,
    /// The parameters.
    pub params: Params,
    /// Objective on the (in-sample) run; `None` when undefined or the run failed.
    pub score: Option<f64>,
    /// Statistics of the (in-sample) run.
    pub statistics: Option<Statistics>,
    /// Objective on the out-of-sample run, with a walk-forward split.
    pub out_of_sample_score: Option<f64>,
    /// Statistics of the out-of-sample run, with a walk-forward split.
    pub out_of_sample: Option<Statistics>,
    /// Why the point could not be run.
    pub error: Option<String>,
}

impl Objective {
    /// The objective's value in `s`; `None` when undefined.
    pub fn score(self, s: &Statistics) -> Option<f64> {
        match self {
            Self::Sharpe => s.sharpe,
            Self::Sortino => s.sortino,
            Self::Calmar => s.calmar,
            Self::TotalReturn => Some(s.total_return),
            Self::Cagr => s.cagr,
            Self::ProfitFactor => s.profit_factor,
            Self::Sqn => s.sqn,
            Self::Expectancy => s.expectancy,
            Self::MinDrawdown => Some(-s.max_drawdown),
        }
        .filter(|v| v.is_finite())
    }
}

impl Sweep {
    /// A sweep of `space` over backtests built from `template` (instruments, cash, risk, venue
    /// models; any brains in it are replaced) with brains from `make_brains`.
    pub fn new<F>(template: BacktestBuilder, space: ParamSpace, make_brains: F) -> Self
    where
        F: Fn(&Params) -> Result<Vec<Arc<dyn Brain>>, BacktestError> + Send + Sync + 'static,
    {
        let make_brains: Arc<BrainFactory> = Arc::new(make_brains);
        Self::per_segment(template, space, move |_, _| Ok(Arc::clone(&make_brains)))
    }

    /// A sweep whose brain factory is prepared once per data segment: `prepare` gets the
    /// segment's events and every point to run over them, before any runs, and returns the
    /// factory of those points' brains. Brains from it must decide as if built without the
    /// preparation for the result to be that of [`Sweep::new`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rustrade_backtest::brains::Periodic;
    /// use rustrade_backtest::sweep::{BrainFactory, ParamSpace, Search, Sweep};
    /// use rustrade_backtest::{synthetic, Backtest};
    /// use rustrade_core::{AssetClass, Brain, InstrumentSpec, MarketEvent};
    ///
    /// let spec = InstrumentSpec::new(synthetic::synthetic_symbol(), AssetClass::CryptoSpot, 0.01, 0.001)?;
    /// let data: Vec<MarketEvent> = synthetic::random_walk(3, 300).collect::<Result<_, _>>()?;
    /// let space = ParamSpace::new().range("period", 4.0, 20.0, 4.0)?;
    /// let sweep = Sweep::per_segment(Backtest::builder().instrument(spec), space, |events, points| {
    ///     // Done once, not once per point: here, only counting the segment's events.
    ///     let n = events.len() as u64;
    ///     assert_eq!(points.len(), 5);
    ///     let factory: Arc<BrainFactory> = Arc::new(move |p| {
    ///         let period = p.require("period")? as u64;
    ///         Ok(vec![Arc::new(Periodic::new(period.min(n))) as Arc<dyn Brain>])
    ///     });
    ///     Ok(factory)
    /// });
    /// assert_eq!(sweep.run(&data, Search::Grid)?.rows.len(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn per_segment<F>(template: BacktestBuilder, space: ParamSpace, prepare: F) -> Self
    where
        F: Fn(&[MarketEvent], &[Params]) -> Result<Arc<BrainFactory>, BacktestError>
            + Send
            + Sync
            + 'static,
    {
        Self {
            template,
            space,
            prepare: Arc::new(prepare),
            objective: Objective::default(),
            in_sample: None,
            threads: None,
        }
    }

    /// The ranking objective (default Sharpe).
    pub fn objective(mut self, objective: Objective) -> Self {
        self.objective = objective;
        self
    }

    /// Walk-forward split: rank on the first `fraction` of the data (by event count, moved to
    /// the next time boundary) and report the rest as out-of-sample, run with fresh brains.
    pub fn walk_forward(mut self, fraction: f64) -> Self {
        self.in_sample = Some(fraction);
        self
    }

    /// Number of worker threads (default: rayon's global pool, one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Runs every point over `data` (time-ordered events) and ranks them.
    ///
    /// The same as [`Sweep::evaluate`] for every point of [`Sweep::points`], then
    /// [`Sweep::rank`]: a sweep spread over processes that calls those gets this very result.
    pub fn run(&self, data: &[MarketEvent], search: Search) -> Result<SweepResult, BacktestError> {
        let points = self.points(search);
        let (ins, oos, split_time) = self.split(data)?;
        let job = || -> Result<Vec<SweepRow>, BacktestError> {
            let segments = self.prepare(ins, oos, &points)?;
            Ok(points
                .par_iter()
                .enumerate()
                .map(|(index, params)| self.run_point(index, params, &segments))
                .collect())
        };
        let rows = match self.threads {
            None => job(),
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| BacktestError::Config {
                    field: "threads",
                    reason: format!("{n}: {e}"),
                })?
                .install(job),
        }?;
        Ok(self.rank(rows, split_time))
    }

    /// The points `search` visits, in enumeration order: point `i` is row `index` `i`.
    pub fn points(&self, search: Search) -> Vec<Params> {
        match search {
            Search::Grid => self.space.grid(),
            Search::Random { seed, samples } => self.space.random(seed, samples),
        }
    }

    /// Where a walk-forward split cuts `data` (the out-of-sample part's first time), `None`
    /// without a split; an error when the split is invalid for these data.
    pub fn split_time(&self, data: &[MarketEvent]) -> Result<Option<Timestamp>, BacktestError> {
        self.split(data).map(|(_, _, t)| t)
    }

    /// The unranked row of point `index` with parameters `params` over `data`, walk-forward
    /// split included: one point of [`Sweep::run`], for a worker that runs points one by one.
    /// An error only when the split is invalid for these data.
    pub fn evaluate(
        &self,
        index: usize,
        params: &Params,
        data: &[MarketEvent],
    ) -> Result<SweepRow, BacktestError> {
        let (ins, oos, _) = self.split(data)?;
        let segments = self.prepare(ins, oos, std::slice::from_ref(params))?;
        Ok(self.run_point(index, params, &segments))
    }

    /// The in-sample and out-of-sample segments with their brain factories, for `points`.
    fn prepare<'d>(
        &self,
        ins: &'d [MarketEvent],
        oos: &'d [MarketEvent],
        points: &[Params],
    ) -> Result<Segments<'d>, BacktestError> {
        let oos = if oos.is_empty() {
            None
        } else {
            Some((oos, (self.prepare)(oos, points)?))
        };
        Ok(Segments {
            ins: (ins, (self.prepare)(ins, points)?),
            oos,
        })
    }

    /// Ranks `rows` (in any order) by this sweep's objective: higher score first, undefined
    /// scores and failed runs last, ties by enumeration index; ranks are set from 1.
    pub fn rank(&self, mut rows: Vec<SweepRow>, split_time: Option<Timestamp>) -> SweepResult {
        rows.sort_by(|a, b| {
            let key = |r: &SweepRow| r.score.map(|s| -s);
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
            .then(a.index.cmp(&b.index))
        });
        for (i, r) in rows.iter_mut().enumerate() {
            r.rank = i + 1;
        }
        SweepResult {
            objective: self.objective,
            split_time,
            rows,
        }
    }

    #[allow(clippy::type_complexity)]
    fn split<'d>(
        &self,
        data: &'d [MarketEvent],
    ) -> Result<(&'d [MarketEvent], &'d [MarketEvent], Option<Timestamp>), BacktestError> {
        let Some(f) = self.in_sample else {
            return Ok((data, &[], None));
        };
        if !(f.is_finite() && f > 0.0 && f < 1.0) {
            return Err(BacktestError::Config {
                field: "walk_forward",
                reason: format!("in-sample fraction must be in (0, 1) (got {f})"),
            });
        }
        let mut cut = ((data.len() as f64) * f).round() as usize;
        while cut > 0 && cut < data.len() && data[cut].time == data[cut - 1].time {
            cut += 1;
        }
        if cut == 0 || cut >= data.len() {
            return Err(BacktestError::Config {
                field: "walk_forward",
                reason: format!(
                    "fraction {f} of {} events leaves one side empty",
                    data.len()
                ),
            });
        }
        Ok((&data[..cut], &data[cut..], Some(data[cut].time)))
    }

    fn run_point(&self, index: usize, params: &Params, segments: &Segments<'_>) -> SweepRow {
        let mut row = SweepRow {
            rank: 0,
            index,
            params: params.clone(),
            score: None,
            statistics: None,
            out_of_sample_score: None,
            out_of_sample: None,
            error: None,
        };
        let (ins, make_ins) = &segments.ins;
        match self.run_once(params, ins, make_ins.as_ref()) {
            Ok(s) => {
                row.score = self.objective.score(&s);
                row.statistics = Some(s);
            }
            Err(e) => {
                row.error = Some(e.to_string());
                return row;
            }
        }
        if let Some((oos, make_oos)) = &segments.oos {
            match self.run_once(params, oos, make_oos.as_ref()) {
                Ok(s) => {
                    row.out_of_sample_score = self.objective.score(&s);
                    row.out_of_sample = Some(s);
                }
                Err(e) => row.error = Some(format!("out of sample: {e}")),
            }
        }
        row
    }

    fn run_once(
        &self,
        params: &Params,
        data: &[MarketEvent],
        make_brains: &BrainFactory,
    ) -> Result<Statistics, BacktestError> {
        let brains = make_brains(params)?;
        let mut builder = self
            .template
            .clone()
            .record_equity(false)
            .record_fills(false);
        builder.clear_brains();
        let result = builder
            .brains(brains)
            .build()?
            .run_events(data.iter().copied())?;
        Ok(result.statistics)
    }
}

/// The data segments of a sweep's runs, each with the brain factory prepared for it.
struct Segments<'d> {
    ins: (&'d [MarketEvent], Arc<BrainFactory>),
    oos: Option<(&'d [MarketEvent], Arc<BrainFactory>)>,
}

//! The sweep of a registry strategy's parameters ([`strategy_sweep`]), as `rustrade sweep` and
//! `rustrade worker` run it.
//!
//! Each point's brain is the strategy built from the configured parameters with the point's
//! values set. With [`Sharing::On`], the indicator series the points read
//! ([`StrategyInfo::shared_series`]) are computed once per data segment, before the parallel
//! part, each distinct one once (in parallel over the sweep's threads), into a
//! [`SeriesCache`] every point's brain reads; brains over it decide bit for bit as brains
//! computing their own indicators, so the result is the same as with [`Sharing::Off`].

use std::collections::BTreeSet;
use std::sync::Arc;

use rayon::prelude::*;
use rustrade_backtest::sweep::{BrainFactory, ParamSpace, Params, Sweep};
use rustrade_backtest::{BacktestBuilder, BacktestError};
use rustrade_core::{Brain, MarketEvent};
use rustrade_strategies::{Computed, SeriesCache, SeriesKey, StrategyInfo};

use crate::config::{BarFeed, Timeframe};

/// Whether a [`strategy_sweep`] computes the indicator series its points repeat once per data
/// segment (`On`, the default) or lets every brain compute its own (`Off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    /// Each distinct indicator series once per segment, read by every point.
    #[default]
    On,
    /// Every brain computes its indicators itself.
    Off,
}

/// A sweep of `space` over backtests built from `template`, each point's brain the strategy
/// `info` called `brain_name`, with parameters `given` (a JSON object) and the point's values
/// set over them. A point whose parameters the strategy refuses is a failed row naming the
/// parameter.
///
/// ```
/// use rustrade_backtest::sweep::{ParamSpace, Search};
/// use rustrade_backtest::{Backtest, synthetic};
/// use rustrade_cli::{Sharing, strategy_sweep};
/// use rustrade_core::{AssetClass, InstrumentSpec, MarketEvent};
///
/// let spec = InstrumentSpec::new(synthetic::synthetic_symbol(), AssetClass::CryptoSpot, 0.01, 0.001)?;
/// let data: Vec<MarketEvent> = synthetic::random_walk(3, 2_000).collect::<Result<_, _>>()?;
/// let space = ParamSpace::new().values("fast", [5.0, 10.0])?.values("slow", [20.0, 40.0])?;
/// let info = rustrade_strategies::info("sma_cross")?;
/// let run = |sharing| {
///     let template = Backtest::builder().instrument(spec.clone());
///     strategy_sweep(template, space.clone(), info, "sma", serde_json::json!({}), sharing)
///         .run(&data, Search::Grid)
/// };
/// let shared = run(Sharing::On)?;
/// assert_eq!(shared.rows.len(), 4);
/// assert_eq!(shared, run(Sharing::Off)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn strategy_sweep(
    template: BacktestBuilder,
    space: ParamSpace,
    info: &StrategyInfo,
    brain_name: &str,
    given: serde_json::Value,
    sharing: Sharing,
) -> Sweep {
    let point = PointBrain {
        info: *info,
        name: brain_name.to_owned(),
        given,
        timeframe: None,
        counter: None,
    };
    sweep_of_points(template, space, point, sharing)
}

/// How a point's brain is built.
#[derive(Clone)]
pub(crate) struct PointBrain {
    pub(crate) info: StrategyInfo,
    pub(crate) name: String,
    pub(crate) given: serde_json::Value,
    /// `[strategy] timeframe`: the brain decides on longer bars built from the data's (series
    /// over the data's bars would not be its series, so nothing is shared).
    pub(crate) timeframe: Option<Timeframe>,
    /// Counts the brains built.
    pub(crate) counter: Option<indicatif::ProgressBar>,
}

/// [`strategy_sweep`] for a [`PointBrain`].
pub(crate) fn sweep_of_points(
    template: BacktestBuilder,
    space: ParamSpace,
    point: PointBrain,
    sharing: Sharing,
) -> Sweep {
    if sharing == Sharing::Off || point.timeframe.is_some() {
        return Sweep::new(template, space, move |p| point.build(p, None));
    }
    Sweep::per_segment(template, space, move |events, points| {
        let cache = point.cache(events, points);
        let point = point.clone();
        let factory: Arc<BrainFactory> = Arc::new(move |p| point.build(p, cache.as_ref()));
        Ok(factory)
    })
}

impl PointBrain {
    /// The brain of point `p`, reading `cache` when given.
    fn build(
        &self,
        p: &Params,
        cache: Option<&Arc<SeriesCache>>,
    ) -> Result<Vec<Arc<dyn Brain>>, BacktestError> {
        if let Some(c) = &self.counter {
            c.inc(1);
        }
        let params = with_point(&self.given, p);
        let refused = |e: rustrade_strategies::StrategyError| BacktestError::Config {
            field: "strategy.params",
            reason: e.to_string(),
        };
        let brain = match cache {
            Some(cache) => self.info.build_shared(&self.name, &params, cache),
            None => self.info.build_named(&self.name, &params),
        }
        .map_err(refused)?;
        let brain = match &self.timeframe {
            Some(t) => t
                .wrap(brain, BarFeed::Files)
                .map_err(|reason| BacktestError::Config {
                    field: "strategy.timeframe",
                    reason,
                })?,
            None => brain,
        };
        Ok(vec![brain])
    }

    /// The series `points` read, each computed once over `events` (in parallel over the
    /// current rayon pool); `None` when they read none, or for a lone point (a worker's
    /// evaluation): nothing repeats, and its brain computing its own costs no more. Points with
    /// invalid parameters read nothing (their rows fail when their brain is built).
    fn cache(&self, events: &[MarketEvent], points: &[Params]) -> Option<Arc<SeriesCache>> {
        if points.len() < 2 {
            return None;
        }
        let keys: BTreeSet<SeriesKey> = points
            .iter()
            .filter_map(|p| self.info.shared_series(&with_point(&self.given, p)).ok())
            .flatten()
            .collect();
        if keys.is_empty() {
            return None;
        }
        let mut cache = SeriesCache::new(events);
        let keys: Vec<SeriesKey> = keys.into_iter().collect();
        let computed: Vec<Computed> = keys.par_iter().map(|k| cache.compute(*k)).collect();
        for c in computed {
            cache.insert(c);
        }
        Some(Arc::new(cache))
    }
}

/// `given` with the point's values set (see [`rustrade_backtest::sweep::ParamValue::to_json`]).
pub(crate) fn with_point(given: &serde_json::Value, p: &Params) -> serde_json::Value {
    let mut params = given.clone();
    if let serde_json::Value::Object(m) = &mut params {
        for (k, v) in p.iter() {
            m.insert(k.to_owned(), v.to_json());
        }
    }
    params
}

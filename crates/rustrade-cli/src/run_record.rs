//! [`RunRecord`]: the `result.json` of a run — the backtest result plus what the report needs to
//! be re-rendered without the original data (the run's settings and a thinned price series).

use std::collections::BTreeMap;

use rustrade_backtest::BacktestResult;
use rustrade_core::{InstrumentSpec, MarketEvent, Symbol};
use rustrade_risk::RiskConfig;
use rustrade_sim::SimConfig;

/// Identifies the file format; bumped when the layout changes incompatibly.
pub(crate) const FORMAT: &str = "rustrade-run/1";

/// Most price points kept per symbol for the chart.
const MAX_CHART_POINTS: usize = 4_000;

/// Everything one backtest produced, as written to `result.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunRecord {
    /// Always [`FORMAT`].
    pub(crate) format: String,
    /// Title of the report (the config file's stem).
    pub(crate) title: String,
    /// Strategy name and its complete parameters.
    pub(crate) strategy: StrategyRecord,
    /// The data each symbol came from.
    pub(crate) markets: Vec<MarketRecord>,
    /// The simulated venue: cash, fill model, fees, slippage, latency.
    pub(crate) sim: SimConfig,
    /// The risk limits applied to every symbol.
    pub(crate) risk: RiskConfig,
    /// Closing prices per symbol, thinned to at most a few thousand points, for the chart.
    pub(crate) prices: Vec<PriceSeries>,
    /// The backtest's own result (fills, trades, equity curve, statistics).
    pub(crate) result: BacktestResult,
}

/// The strategy of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StrategyRecord {
    /// Registry name.
    pub(crate) name: String,
    /// Parameters with defaults filled in.
    pub(crate) params: serde_json::Value,
    /// `[strategy] timeframe`, when it decided on longer bars than the data's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeframe: Option<String>,
}

/// One symbol's data source.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarketRecord {
    /// The symbol.
    pub(crate) symbol: Symbol,
    /// The data file as given.
    pub(crate) file: String,
    /// The instrument's trading rules.
    pub(crate) spec: InstrumentSpec,
}

/// A thinned closing-price series of one symbol; `time` in Unix seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PriceSeries {
    /// The symbol.
    pub(crate) symbol: Symbol,
    /// Unix seconds of each kept point.
    pub(crate) time: Vec<f64>,
    /// Close of each kept point.
    pub(crate) close: Vec<f64>,
}

impl RunRecord {
    /// Reads a record from JSON text.
    pub(crate) fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Collects a thinned price series per symbol while events stream by, in bounded memory.
///
/// Keeps every `stride`-th candle; when a series reaches twice the budget, every other kept point
/// is dropped and the stride doubles. The last candle is always kept.
#[derive(Debug, Default)]
pub(crate) struct PriceRecorder {
    series: BTreeMap<Symbol, Thinned>,
}

#[derive(Debug)]
struct Thinned {
    stride: u64,
    seen: u64,
    points: Vec<(f64, f64)>,
    last: Option<(f64, f64)>,
}

impl PriceRecorder {
    /// Records one event (non-candle events are ignored).
    pub(crate) fn record(&mut self, event: &MarketEvent) {
        let Some(candle) = event.as_candle() else {
            return;
        };
        let point = (event.time.as_nanos() as f64 / 1e9, candle.close().get());
        let s = self.series.entry(event.symbol).or_insert_with(|| Thinned {
            stride: 1,
            seen: 0,
            points: Vec::new(),
            last: None,
        });
        if s.seen.is_multiple_of(s.stride) {
            s.points.push(point);
            if s.points.len() >= 2 * MAX_CHART_POINTS {
                let mut i = 0;
                s.points.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                s.stride *= 2;
            }
            s.last = None;
        } else {
            s.last = Some(point);
        }
        s.seen += 1;
    }

    /// The series, one per symbol in symbol order.
    pub(crate) fn finish(self) -> Vec<PriceSeries> {
        self.series
            .into_iter()
            .map(|(symbol, mut s)| {
                s.points.extend(s.last);
                let (time, close) = s.points.into_iter().unzip();
                PriceSeries {
                    symbol,
                    time,
                    close,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::{Candle, Timestamp, Venue};

    fn ev(i: i64) -> MarketEvent {
        let t = Timestamp::from_secs(i).unwrap();
        let c = Candle::new(t, 1.0, 2.0, 0.5, 1.5, 1.0).unwrap();
        MarketEvent::candle(Venue::new("v").unwrap(), Symbol::new("S").unwrap(), t, c)
    }

    #[test]
    fn thinning_is_bounded_and_keeps_the_ends() {
        let mut r = PriceRecorder::default();
        for i in 0..50_001 {
            r.record(&ev(i));
        }
        let s = r.finish().pop().unwrap();
        assert!(s.time.len() <= 2 * MAX_CHART_POINTS, "{}", s.time.len());
        assert!(s.time.len() >= MAX_CHART_POINTS / 2);
        assert_eq!(s.time[0], 0.0);
        assert_eq!(*s.time.last().unwrap(), 50_000.0);
        assert!(s.time.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn short_series_are_kept_whole() {
        let mut r = PriceRecorder::default();
        for i in 0..10 {
            r.record(&ev(i));
        }
        assert_eq!(r.finish()[0].time.len(), 10);
    }
}

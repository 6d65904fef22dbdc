//! Performance statistics of a run, computed in one streaming pass over the equity samples.
//!
//! # Definitions
//!
//! The equity curve has `n + 1` samples `E_0 .. E_n` at times `t_0 .. t_n`: `E_0` is the
//! initial cash, taken at the first event's time, and `E_i` is the equity after the `i`-th time
//! step (all events sharing one timestamp form one step). Per-step returns are
//! `r_i = E_i / E_{i-1} − 1` for `i = 1..n`.
//!
//! - **Periods per year** `P`: configured, or inferred from the bar interval as
//!   `P = Y / ((t_n − t_0) / (n − 1))` with `Y` = 365.25 days (weekends and holidays in daily
//!   stock data thus give about 252).
//! - **Total return** `E_n / E_0 − 1`.
//! - **Annualised return** `(E_n / E_0)^(P / n) − 1` (by bar count).
//! - **CAGR** `(E_n / E_0)^(1 / years) − 1` with `years = (t_n − t_0) / Y` (by calendar).
//! - **Annualised volatility** `s · √P`, `s` the sample standard deviation of `r` (`n − 1`
//!   denominator).
//! - **Sharpe** `mean(r) / s · √P` (risk-free rate 0).
//! - **Sortino** `mean(r) / d · √P` with downside deviation `d = √(Σ min(r_i, 0)² / n)`.
//! - **Calmar** `annualised return / max drawdown`.
//! - **Drawdown** at `i`: `1 − E_i / max_{j≤i} E_j`. **Max drawdown** is its maximum; an
//!   **episode** runs from a peak until equity regains it (or the end); **average drawdown** is
//!   the mean of the episodes' deepest points; **max drawdown duration** is the longest episode,
//!   as time from the peak to the recovery (or last) sample, and separately in steps.
//! - **Exposure** the fraction of the `n` steps that ended with an open position.
//! - **Trades** closed round trips. Trade return = net PnL / entry notional
//!   (`entry price × quantity × contract value`). **Win rate** share of trades with net PnL `> 0`;
//!   **best / worst / average trade** on trade returns; **profit factor**
//!   `Σ winning PnL / |Σ losing PnL|`; **expectancy** mean net PnL per trade;
//!   **SQN** `√N · mean(PnL) / stdev(PnL)` (sample stdev).
//! - **Fees paid** the sum of all fill fees, both legs of every trade.
//! - **Buy and hold** for each symbol `last close / first close − 1`, averaged over symbols
//!   (equal weights).
//!
//! A figure that is undefined for the data (no trades, zero variance, fewer than two steps) is
//! `None` (JSON `null`), never NaN or infinity.

use rustrade_core::Timestamp;

/// Nanoseconds in a year of 365.25 days.
pub const YEAR_NANOS: f64 = 365.25 * 86_400.0 * 1e9;

/// The statistics of a run; see the module doc for every formula.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Statistics {
    /// Time of the first sample.
    pub start: Option<Timestamp>,
    /// Time of the last sample.
    pub end: Option<Timestamp>,
    /// Number of time steps `n`.
    pub steps: u64,
    /// Periods per year used to annualise.
    pub periods_per_year: Option<f64>,
    /// `E_0`.
    pub initial_equity: f64,
    /// `E_n`.
    pub final_equity: f64,
    /// `E_n / E_0 − 1`.
    pub total_return: f64,
    /// Geometric return per year by bar count.
    pub annualised_return: Option<f64>,
    /// Geometric return per calendar year.
    pub cagr: Option<f64>,
    /// Annualised standard deviation of step returns.
    pub annualised_volatility: Option<f64>,
    /// Annualised Sharpe ratio (risk-free 0).
    pub sharpe: Option<f64>,
    /// Annualised Sortino ratio.
    pub sortino: Option<f64>,
    /// Annualised return over max drawdown.
    pub calmar: Option<f64>,
    /// Deepest drawdown, a fraction in `[0, 1]`.
    pub max_drawdown: f64,
    /// Mean of the episodes' deepest drawdowns.
    pub average_drawdown: f64,
    /// Longest drawdown episode in seconds.
    pub max_drawdown_duration_secs: f64,
    /// Longest drawdown episode in steps.
    pub max_drawdown_duration_steps: u64,
    /// Fraction of steps ending with an open position.
    pub exposure: f64,
    /// Closed round trips.
    pub trades: u64,
    /// Share of winning trades.
    pub win_rate: Option<f64>,
    /// Best trade return.
    pub best_trade: Option<f64>,
    /// Worst trade return.
    pub worst_trade: Option<f64>,
    /// Mean trade return.
    pub average_trade: Option<f64>,
    /// Gross wins over gross losses.
    pub profit_factor: Option<f64>,
    /// Mean net PnL per trade.
    pub expectancy: Option<f64>,
    /// System quality number.
    pub sqn: Option<f64>,
    /// Sum of fill fees.
    pub fees_paid: f64,
    /// Equal-weight buy-and-hold return over the symbols.
    pub buy_and_hold_return: Option<f64>,
}

/// One closed trade's figures, as the statistics need them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeOutcome {
    /// Net PnL (after both legs' fees).
    pub net_pnl: f64,
    /// Net PnL over entry notional.
    pub return_fraction: f64,
}

/// Streaming accumulator of the equity-curve statistics: O(1) memory, no allocation.
///
/// Feed [`EquityStats::start`] once with the initial sample, then [`EquityStats::push`] once per
/// step, then [`EquityStats::finish`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EquityStats {
    first: Option<(Timestamp, f64)>,
    last: Option<(Timestamp, f64)>,
    steps: u64,
    exposed_steps: u64,
    mean: f64,
    m2: f64,
    downside_sq: f64,
    peak: f64,
    peak_time: Timestamp,
    peak_step: u64,
    episode_depth: f64,
    episodes: u64,
    episode_depth_sum: f64,
    max_drawdown: f64,
    max_dd_nanos: i64,
    max_dd_steps: u64,
}

impl EquityStats {
    /// Records `E_0`.
    pub fn start(&mut self, time: Timestamp, equity: f64) {
        self.first = Some((time, equity));
        self.last = Some((time, equity));
        self.peak = equity;
        self.peak_time = time;
    }

    /// Records the equity after one step and whether a position was open at its end.
    #[inline]
    pub fn push(&mut self, time: Timestamp, equity: f64, exposed: bool) {
        match self.last {
            Some((_, previous)) if equity == previous => self.push_unchanged(time, equity, exposed),
            _ => self.push_changed(time, equity, exposed),
        }
    }

    /// [`Self::push`] for a step whose equity equals the previous one (every step of a flat
    /// book): what `push_changed` computes for it, without the divisions whose results are known.
    /// The return is exactly zero, so the downside sum is unchanged; below the peak, the
    /// drawdown equals the previous step's and is already counted; at or above it the previous
    /// sample was the peak, so no episode is open.
    #[inline]
    fn push_unchanged(&mut self, time: Timestamp, equity: f64, exposed: bool) {
        self.steps += 1;
        self.exposed_steps += u64::from(exposed);
        if self.mean != 0.0 {
            let delta = -self.mean;
            self.mean += delta / self.steps as f64;
            self.m2 += delta * -self.mean;
        }
        if equity >= self.peak {
            debug_assert_eq!(self.episode_depth, 0.0, "the previous sample was the peak");
            self.peak = equity;
            self.peak_time = time;
            self.peak_step = self.steps;
        }
        self.last = Some((time, equity));
    }

    /// [`Self::push`] for any step.
    #[inline(never)]
    fn push_changed(&mut self, time: Timestamp, equity: f64, exposed: bool) {
        let Some((_, previous)) = self.last else {
            self.start(time, equity);
            return;
        };
        self.steps += 1;
        self.exposed_steps += u64::from(exposed);
        // An unchanged equity (every step of a flat book) is a zero return, exactly what the
        // division would give, and a zero return on a zero mean leaves mean and m2 unchanged:
        // both shortcuts skip a division without changing a bit of the result.
        let r = if previous != 0.0 && equity != previous {
            equity / previous - 1.0
        } else {
            0.0
        };
        if r != 0.0 || self.mean != 0.0 {
            let delta = r - self.mean;
            self.mean += delta / self.steps as f64;
            self.m2 += delta * (r - self.mean);
        }
        if r < 0.0 {
            self.downside_sq += r * r;
        }
        if equity >= self.peak {
            self.close_episode(time);
            self.peak = equity;
            self.peak_time = time;
            self.peak_step = self.steps;
        } else {
            let dd = if self.peak > 0.0 {
                1.0 - equity / self.peak
            } else {
                0.0
            };
            self.episode_depth = self.episode_depth.max(dd);
            self.max_drawdown = self.max_drawdown.max(dd);
        }
        self.last = Some((time, equity));
    }

    /// Ends the open drawdown episode, if any, at `time` (the current step), measuring it.
    fn close_episode(&mut self, time: Timestamp) {
        if self.episode_depth > 0.0 {
            self.episodes += 1;
            self.episode_depth_sum += self.episode_depth;
            self.episode_depth = 0.0;
            let nanos = time.as_nanos().saturating_sub(self.peak_time.as_nanos());
            self.max_dd_nanos = self.max_dd_nanos.max(nanos);
            self.max_dd_steps = self.max_dd_steps.max(self.steps - self.peak_step);
        }
    }

    /// Computes the statistics; `periods_per_year` overrides the inferred value.
    pub fn finish(
        mut self,
        periods_per_year: Option<f64>,
        trades: &TradeStats,
        fees_paid: f64,
        buy_and_hold_return: Option<f64>,
    ) -> Statistics {
        let (t0, e0) = self.first.unwrap_or((Timestamp::EPOCH, 0.0));
        let (tn, en) = self.last.unwrap_or((t0, e0));
        // An episode still open at the end lasts until the last sample.
        self.close_episode(tn);
        let n = self.steps;
        let span = tn.as_nanos().saturating_sub(t0.as_nanos()) as f64;
        let ppy = periods_per_year
            .filter(|p| p.is_finite() && *p > 0.0)
            .or_else(|| (n >= 2 && span > 0.0).then(|| YEAR_NANOS / (span / (n - 1) as f64)));
        let growth = (e0 > 0.0).then(|| en / e0);
        let total_return = growth.map_or(0.0, |g| g - 1.0);
        let annualised_return = match (growth, ppy) {
            (Some(g), Some(p)) if n > 0 && g > 0.0 => finite(g.powf(p / n as f64) - 1.0),
            _ => None,
        };
        let years = span / YEAR_NANOS;
        let cagr = match growth {
            Some(g) if years > 0.0 && g > 0.0 => finite(g.powf(1.0 / years) - 1.0),
            _ => None,
        };
        let sd = (n >= 2).then(|| (self.m2 / (n - 1) as f64).max(0.0).sqrt());
        let sqrt_p = ppy.map(f64::sqrt);
        let annualised_volatility = sd.zip(sqrt_p).and_then(|(s, q)| finite(s * q));
        let sharpe = match (sd, sqrt_p) {
            (Some(s), Some(q)) if s > 0.0 => finite(self.mean / s * q),
            _ => None,
        };
        let downside = (n > 0).then(|| (self.downside_sq / n as f64).sqrt());
        let sortino = match (downside, sqrt_p) {
            (Some(d), Some(q)) if d > 0.0 => finite(self.mean / d * q),
            _ => None,
        };
        let calmar = annualised_return
            .filter(|_| self.max_drawdown > 0.0)
            .and_then(|a| finite(a / self.max_drawdown));
        let average_drawdown = if self.episodes > 0 {
            self.episode_depth_sum / self.episodes as f64
        } else {
            0.0
        };
        let exposure = if n > 0 {
            self.exposed_steps as f64 / n as f64
        } else {
            0.0
        };
        let t = trades.summary();
        Statistics {
            start: self.first.map(|(t, _)| t),
            end: self.last.map(|(t, _)| t),
            steps: n,
            periods_per_year: ppy,
            initial_equity: e0,
            final_equity: en,
            total_return,
            annualised_return,
            cagr,
            annualised_volatility,
            sharpe,
            sortino,
            calmar,
            max_drawdown: self.max_drawdown,
            average_drawdown,
            max_drawdown_duration_secs: self.max_dd_nanos as f64 / 1e9,
            max_drawdown_duration_steps: self.max_dd_steps,
            exposure,
            trades: trades.count(),
            win_rate: t.win_rate,
            best_trade: t.best,
            worst_trade: t.worst,
            average_trade: t.average,
            profit_factor: t.profit_factor,
            expectancy: t.expectancy,
            sqn: t.sqn,
            fees_paid,
            buy_and_hold_return,
        }
    }
}

/// Streaming accumulator of the trade statistics: O(1) memory, no allocation, so a run need not
/// keep its trades to report on them.
#[derive(Debug, Clone, Copy, Default)]
pub struct TradeStats {
    n: u64,
    wins: u64,
    gross_win: f64,
    gross_loss: f64,
    pnl_sum: f64,
    pnl_mean: f64,
    pnl_m2: f64,
    return_sum: f64,
    best: Option<f64>,
    worst: Option<f64>,
}

impl TradeStats {
    /// Records one closed trade.
    pub fn push(&mut self, t: TradeOutcome) {
        self.n += 1;
        self.wins += u64::from(t.net_pnl > 0.0);
        self.gross_win += t.net_pnl.max(0.0);
        self.gross_loss += (-t.net_pnl).max(0.0);
        self.pnl_sum += t.net_pnl;
        let delta = t.net_pnl - self.pnl_mean;
        self.pnl_mean += delta / self.n as f64;
        self.pnl_m2 += delta * (t.net_pnl - self.pnl_mean);
        self.return_sum += t.return_fraction;
        self.best = Some(
            self.best
                .map_or(t.return_fraction, |b| b.max(t.return_fraction)),
        );
        self.worst = Some(
            self.worst
                .map_or(t.return_fraction, |w| w.min(t.return_fraction)),
        );
    }

    /// Trades recorded.
    pub fn count(&self) -> u64 {
        self.n
    }

    fn summary(&self) -> TradeSummary {
        if self.n == 0 {
            return TradeSummary::default();
        }
        let n = self.n as f64;
        let mean_pnl = self.pnl_sum / n;
        let sd_pnl = (self.n >= 2).then(|| (self.pnl_m2.max(0.0) / (n - 1.0)).sqrt());
        TradeSummary {
            win_rate: Some(self.wins as f64 / n),
            best: self.best,
            worst: self.worst,
            average: finite(self.return_sum / n),
            profit_factor: (self.gross_loss > 0.0)
                .then(|| self.gross_win / self.gross_loss)
                .and_then(finite),
            expectancy: finite(mean_pnl),
            sqn: sd_pnl
                .filter(|s| *s > 0.0)
                .and_then(|s| finite(n.sqrt() * mean_pnl / s)),
        }
    }
}

#[derive(Default)]
struct TradeSummary {
    win_rate: Option<f64>,
    best: Option<f64>,
    worst: Option<f64>,
    average: Option<f64>,
    profit_factor: Option<f64>,
    expectancy: Option<f64>,
    sqn: Option<f64>,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Statistics of a bare equity series (for tests and for callers with their own curves):
/// `samples[0]` is `E_0`; `exposed[i]` tells whether step `i + 1` ended exposed.
pub fn equity_statistics(
    samples: &[(Timestamp, f64)],
    exposed: &[bool],
    periods_per_year: Option<f64>,
    trades: &[TradeOutcome],
) -> Statistics {
    let mut acc = EquityStats::default();
    if let Some(&(t, e)) = samples.first() {
        acc.start(t, e);
    }
    for (i, &(t, e)) in samples.iter().enumerate().skip(1) {
        acc.push(t, e, exposed.get(i - 1).copied().unwrap_or(false));
    }
    let mut stats = TradeStats::default();
    trades.iter().for_each(|t| stats.push(*t));
    acc.finish(periods_per_year, &stats, 0.0, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000_000;
    const HOUR: i64 = 3_600_000_000_000;

    fn series(step: i64, equity: &[f64]) -> Vec<(Timestamp, f64)> {
        equity
            .iter()
            .enumerate()
            .map(|(i, &e)| (Timestamp::from_nanos(i as i64 * step), e))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    macro_rules! assert_close {
        ($a:expr, $b:expr) => {{
            let (a, b): (f64, f64) = ($a, $b);
            assert!(close(a, b), "{} = {a}, expected {b}", stringify!($a));
        }};
    }

    #[test]
    fn hand_computed_series() {
        // E = 100, 120, 90, 90, 135 → r = 0.2, −0.25, 0, 0.5.
        let s = series(DAY, &[100.0, 120.0, 90.0, 90.0, 135.0]);
        let st = equity_statistics(&s, &[true, true, false, false], Some(4.0), &[]);
        assert_eq!(st.steps, 4);
        assert_close!(st.total_return, 0.35);
        assert_close!(st.annualised_return.unwrap(), 0.35);
        // mean 0.1125; Σ(r − mean)² = 0.301875; s = √(0.301875 / 3).
        let sd = (0.301_875f64 / 3.0).sqrt();
        assert_close!(st.annualised_volatility.unwrap(), sd * 2.0);
        assert_close!(st.sharpe.unwrap(), 0.1125 / sd * 2.0);
        // downside deviation √(0.25² / 4) = 0.125.
        assert_close!(st.sortino.unwrap(), 0.1125 / 0.125 * 2.0);
        assert_close!(st.max_drawdown, 0.25);
        assert_close!(st.average_drawdown, 0.25);
        assert_close!(st.calmar.unwrap(), 0.35 / 0.25);
        assert_eq!(st.max_drawdown_duration_steps, 3);
        assert_close!(st.max_drawdown_duration_secs, 3.0 * 86_400.0);
        assert_close!(st.exposure, 0.5);
        let years = 4.0 / 365.25;
        assert_close!(st.cagr.unwrap(), 1.35f64.powf(1.0 / years) - 1.0);
        assert_eq!(st.start, Some(Timestamp::EPOCH));
        assert_eq!(st.end, Some(Timestamp::from_nanos(4 * DAY)));
        assert_eq!((st.initial_equity, st.final_equity), (100.0, 135.0));
    }

    #[test]
    fn periods_per_year_inferred_from_the_bar_interval() {
        let s = series(DAY, &[100.0, 120.0, 90.0, 90.0, 135.0]);
        let st = equity_statistics(&s, &[], None, &[]);
        // Four samples after E_0 span 4 days over n − 1 = 3 intervals of 4/3 day.
        assert_close!(st.periods_per_year.unwrap(), 365.25 * 3.0 / 4.0);
        let p = 365.25 * 3.0 / 4.0;
        assert_close!(st.annualised_return.unwrap(), 1.35f64.powf(p / 4.0) - 1.0);
    }

    #[test]
    fn drawdown_episodes_including_one_open_at_the_end() {
        // Peak 100 → 90 → back to 100 (episode 1, 2 steps, 2 h), then 80, 95 unrecovered
        // (episode 2, 2 steps, 8 h because the last sample is at 10 h).
        let mut s = series(HOUR, &[100.0, 90.0, 100.0, 80.0, 95.0]);
        s[4].0 = Timestamp::from_nanos(10 * HOUR);
        let st = equity_statistics(&s, &[], Some(1.0), &[]);
        assert_close!(st.max_drawdown, 0.2);
        assert_close!(st.average_drawdown, (0.1 + 0.2) / 2.0);
        assert_eq!(st.max_drawdown_duration_steps, 2);
        assert_close!(st.max_drawdown_duration_secs, 8.0 * 3_600.0);
    }

    #[test]
    fn trade_statistics() {
        let t = |net_pnl, return_fraction| TradeOutcome {
            net_pnl,
            return_fraction,
        };
        let trades = [t(10.0, 0.1), t(-5.0, -0.05), t(20.0, 0.2), t(-5.0, -0.05)];
        let s = series(DAY, &[100.0, 120.0]);
        let st = equity_statistics(&s, &[], None, &trades);
        assert_eq!(st.trades, 4);
        assert_close!(st.win_rate.unwrap(), 0.5);
        assert_close!(st.best_trade.unwrap(), 0.2);
        assert_close!(st.worst_trade.unwrap(), -0.05);
        assert_close!(st.average_trade.unwrap(), 0.05);
        assert_close!(st.profit_factor.unwrap(), 3.0);
        assert_close!(st.expectancy.unwrap(), 5.0);
        // stdev of PnL = √(450 / 3); SQN = √4 · 5 / stdev.
        assert_close!(st.sqn.unwrap(), 2.0 * 5.0 / 150f64.sqrt());
    }

    #[test]
    fn undefined_figures_are_none_not_nan() {
        let flat = series(DAY, &[100.0, 100.0, 100.0]);
        let st = equity_statistics(&flat, &[], None, &[]);
        assert_eq!(st.total_return, 0.0);
        assert_eq!((st.sharpe, st.sortino, st.calmar), (None, None, None));
        assert_eq!(st.max_drawdown, 0.0);
        assert_eq!((st.win_rate, st.profit_factor, st.sqn), (None, None, None));
        let winners = [TradeOutcome {
            net_pnl: 1.0,
            return_fraction: 0.01,
        }];
        let st = equity_statistics(&flat, &[], None, &winners);
        assert_eq!(st.profit_factor, None, "no losing trade");
        assert_eq!(st.sqn, None, "one trade has no stdev");
        let one = series(DAY, &[100.0]);
        let st = equity_statistics(&one, &[], None, &[]);
        assert_eq!(st.steps, 0);
        assert_eq!(
            (st.periods_per_year, st.annualised_return, st.cagr),
            (None, None, None)
        );
        let json = serde_json::to_string(&st).unwrap();
        assert!(
            !json.contains("NaN") && json.contains("\"sharpe\":null"),
            "{json}"
        );
    }

    proptest::proptest! {
        /// The short path for an unchanged equity at its peak leaves the accumulator exactly as
        /// the general path does, bit for bit, on series with long flat stretches.
        #[test]
        fn short_path_matches_the_general_path(
            steps in proptest::collection::vec((0usize..4, proptest::bool::ANY), 1..80),
        ) {
            let levels = [100.0, 100.0, 90.0, 110.0];
            let (mut fast, mut general) = (EquityStats::default(), EquityStats::default());
            fast.start(Timestamp::EPOCH, 100.0);
            general.start(Timestamp::EPOCH, 100.0);
            for (i, (level, exposed)) in steps.into_iter().enumerate() {
                let t = Timestamp::from_nanos((i as i64 + 1) * HOUR);
                fast.push(t, levels[level], exposed);
                general.push_changed(t, levels[level], exposed);
                proptest::prop_assert_eq!(format!("{fast:?}"), format!("{general:?}"));
            }
        }
    }
}

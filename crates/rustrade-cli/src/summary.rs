//! The statistics as labelled, formatted rows: one definition shared by the terminal table, the
//! `--json` output and the HTML report.

use rustrade_backtest::Statistics;
use rustrade_core::Timestamp;

/// How a figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// A fraction shown as a percentage.
    Percent,
    /// A plain ratio.
    Ratio,
    /// An amount in the quote currency.
    Money,
    /// A count.
    Count,
    /// A duration in seconds, shown in days/hours.
    Seconds,
}

/// One statistics row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// Machine key (the statistics field name).
    pub(crate) key: &'static str,
    /// Human label.
    pub(crate) label: &'static str,
    /// The figure; `None` when undefined for the run.
    pub(crate) value: Option<f64>,
    /// How to show it.
    pub(crate) unit: Unit,
}

impl Row {
    /// The formatted figure (`n/a` when undefined).
    pub(crate) fn display(&self) -> String {
        let Some(v) = self.value else {
            return "n/a".to_owned();
        };
        match self.unit {
            Unit::Percent => format!("{:.2} %", v * 100.0),
            Unit::Ratio => format!("{v:.3}"),
            Unit::Money => format!("{v:.2}"),
            Unit::Count => format!("{v:.0}"),
            Unit::Seconds => duration(v),
        }
    }
}

/// Key, label and unit of every row, in display order.
pub(crate) const ROWS: &[(&str, &str, Unit)] = &[
    ("initial_equity", "Initial equity", Unit::Money),
    ("final_equity", "Final equity", Unit::Money),
    ("total_return", "Total return", Unit::Percent),
    ("buy_and_hold_return", "Buy & hold return", Unit::Percent),
    ("annualised_return", "Annualised return", Unit::Percent),
    ("cagr", "CAGR", Unit::Percent),
    (
        "annualised_volatility",
        "Annualised volatility",
        Unit::Percent,
    ),
    ("sharpe", "Sharpe ratio", Unit::Ratio),
    ("sortino", "Sortino ratio", Unit::Ratio),
    ("calmar", "Calmar ratio", Unit::Ratio),
    ("max_drawdown", "Max drawdown", Unit::Percent),
    ("average_drawdown", "Average drawdown", Unit::Percent),
    (
        "max_drawdown_duration_secs",
        "Max drawdown duration",
        Unit::Seconds,
    ),
    ("exposure", "Exposure time", Unit::Percent),
    ("trades", "Trades", Unit::Count),
    ("win_rate", "Win rate", Unit::Percent),
    ("best_trade", "Best trade", Unit::Percent),
    ("worst_trade", "Worst trade", Unit::Percent),
    ("average_trade", "Average trade", Unit::Percent),
    ("profit_factor", "Profit factor", Unit::Ratio),
    ("expectancy", "Expectancy (per trade)", Unit::Money),
    ("sqn", "SQN", Unit::Ratio),
    ("fees_paid", "Fees paid", Unit::Money),
];

/// The value of statistic `key` (`None` when undefined for the run or not a known key).
pub(crate) fn value(s: &Statistics, key: &str) -> Option<f64> {
    match key {
        "initial_equity" => Some(s.initial_equity),
        "final_equity" => Some(s.final_equity),
        "total_return" => Some(s.total_return),
        "buy_and_hold_return" => s.buy_and_hold_return,
        "annualised_return" => s.annualised_return,
        "cagr" => s.cagr,
        "annualised_volatility" => s.annualised_volatility,
        "sharpe" => s.sharpe,
        "sortino" => s.sortino,
        "calmar" => s.calmar,
        "max_drawdown" => Some(s.max_drawdown),
        "average_drawdown" => Some(s.average_drawdown),
        "max_drawdown_duration_secs" => Some(s.max_drawdown_duration_secs),
        "exposure" => Some(s.exposure),
        "trades" => Some(s.trades as f64),
        "win_rate" => s.win_rate,
        "best_trade" => s.best_trade,
        "worst_trade" => s.worst_trade,
        "average_trade" => s.average_trade,
        "profit_factor" => s.profit_factor,
        "expectancy" => s.expectancy,
        "sqn" => s.sqn,
        "fees_paid" => Some(s.fees_paid),
        _ => None,
    }
}

/// The rows of a run's statistics, in display order.
pub(crate) fn rows(s: &Statistics) -> Vec<Row> {
    ROWS.iter()
        .map(|&(key, label, unit)| Row {
            key,
            label,
            value: value(s, key),
            unit,
        })
        .collect()
}

/// The period line: `2017-08-16 .. 2021-01-12 (1246 steps)`.
pub(crate) fn period(s: &Statistics) -> String {
    let day = |t: Option<Timestamp>| t.map_or_else(|| "?".to_owned(), date);
    format!("{} .. {} ({} steps)", day(s.start), day(s.end), s.steps)
}

/// The date part of a timestamp, with the time when it is not midnight.
pub(crate) fn date(t: Timestamp) -> String {
    let text = t.to_rfc3339();
    match text.split_once('T') {
        Some((d, "00:00:00Z")) => d.to_owned(),
        Some((d, rest)) => format!("{d} {}", rest.trim_end_matches('Z')),
        None => text,
    }
}

/// The statistics as a JSON object keyed like the rows (`null` where undefined).
pub(crate) fn to_json(s: &Statistics) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for row in rows(s) {
        map.insert(row.key.to_owned(), row.value.into());
    }
    serde_json::Value::Object(map)
}

/// A two-column text table of the rows.
pub(crate) fn table(rows: &[Row]) -> String {
    let width = rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!("  {:<width$}  {:>14}\n", r.label, r.display()));
    }
    out
}

fn duration(secs: f64) -> String {
    let days = secs / 86_400.0;
    if days >= 1.0 {
        format!("{days:.1} days")
    } else {
        format!("{:.1} hours", secs / 3_600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_unit() {
        let row = |value, unit| Row {
            key: "k",
            label: "l",
            value,
            unit,
        };
        assert_eq!(row(Some(0.1234), Unit::Percent).display(), "12.34 %");
        assert_eq!(row(None, Unit::Ratio).display(), "n/a");
        assert_eq!(row(Some(172_800.0), Unit::Seconds).display(), "2.0 days");
        assert_eq!(row(Some(7_200.0), Unit::Seconds).display(), "2.0 hours");
        assert_eq!(row(Some(3.0), Unit::Count).display(), "3");
    }

    #[test]
    fn dates_drop_midnight() {
        let t = Timestamp::parse_rfc3339("2020-01-02T00:00:00Z").unwrap();
        assert_eq!(date(t), "2020-01-02");
        let t = Timestamp::parse_rfc3339("2020-01-02T09:30:00Z").unwrap();
        assert_eq!(date(t), "2020-01-02 09:30:00");
    }
}

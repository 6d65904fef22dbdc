//! The HTML report: one self-contained file with the price chart and trade markers, the equity
//! curve, the drawdown, the statistics table and the trade list.
//!
//! The page embeds everything it needs — the uPlot chart library (vendored under
//! `assets/vendor/`, MIT licence), the styles, the script and the data as JSON — so it opens
//! offline from a file. The statistics and the trade list are plain HTML and readable even with
//! scripts disabled. The script marks the root element with `data-ok="1"` once every chart is
//! drawn, or with `data-error` and a visible message if anything fails; the rendering test reads
//! these marks from headless Chromium.
//!
//! Long runs are thinned for the charts (at most [`MAX_POINTS`] equity points; prices are
//! thinned when recorded), keeping each bucket's deepest drawdown so the drawdown chart never
//! understates it.

mod html;

use rustrade_core::Side;
use rustrade_sim::{LatencyModel, SlippageModel};

use crate::run_record::RunRecord;
use crate::summary;

/// Most equity points drawn.
pub(crate) const MAX_POINTS: usize = 4_000;
/// Most trades listed in the table (all are in `trades.csv`).
const MAX_TRADE_ROWS: usize = 1_000;

const TEMPLATE: &str = include_str!("../../assets/report/report.html");
const CSS: &str = include_str!("../../assets/report/report.css");
const APP_JS: &str = include_str!("../../assets/report/report.js");
const UPLOT_JS: &str = include_str!("../../assets/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/vendor/uPlot.min.css");

/// Renders the report of `record` as one HTML document.
pub(crate) fn render(record: &RunRecord) -> String {
    let result = &record.result;
    let params = match &record.strategy.params {
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    let symbols = record
        .markets
        .iter()
        .map(|m| format!("{} ({})", m.symbol, m.file))
        .collect::<Vec<_>>()
        .join(", ");
    let subtitle = format!(
        "{} {{{}}} on {} — {}",
        record.strategy.name,
        params,
        symbols,
        summary::period(&result.statistics)
    );
    let trades_note = if result.trades.len() > MAX_TRADE_ROWS {
        format!(
            "<p class=\"sub\">The first {MAX_TRADE_ROWS} of {} trades; all are in trades.csv.</p>",
            result.trades.len()
        )
    } else {
        String::new()
    };
    let data = chart_data(record);
    // `</` must not appear inside a script element; `\/` is the same string in JSON.
    let data = data.to_string().replace("</", "<\\/");
    html::fill(
        TEMPLATE,
        &[
            ("TITLE", html::escape(&record.title)),
            ("SUBTITLE", html::escape(&subtitle)),
            ("UPLOT_CSS", UPLOT_CSS.to_owned()),
            ("CSS", CSS.to_owned()),
            ("STATS_TABLE", stats_table(record)),
            ("SETTINGS_TABLE", settings_table(record)),
            ("TRADES_NOTE", trades_note),
            ("TRADES_TABLE", trades_table(record)),
            ("DATA", data),
            ("UPLOT_JS", UPLOT_JS.to_owned()),
            ("APP_JS", APP_JS.to_owned()),
        ],
    )
}

fn chart_data(record: &RunRecord) -> serde_json::Value {
    let fills: Vec<_> = record
        .result
        .fills
        .iter()
        .map(|f| {
            serde_json::json!({
                "symbol": f.symbol.as_str(),
                "side": if f.side == Side::Buy { "buy" } else { "sell" },
                "t": f.time.as_nanos() as f64 / 1e9,
                "price": f.price.get(),
            })
        })
        .collect();
    let (time, value, drawdown) = thin_equity(
        record
            .result
            .equity
            .iter()
            .map(|p| (p.time.as_nanos() as f64 / 1e9, p.equity)),
    );
    serde_json::json!({
        "prices": record.prices,
        "fills": fills,
        "equity": { "time": time, "value": value, "drawdown": drawdown },
    })
}

/// Thins an equity curve to at most [`MAX_POINTS`] buckets: each keeps its last time and equity
/// and its deepest drawdown (in percent, `<= 0`), computed on the full curve.
fn thin_equity(
    points: impl ExactSizeIterator<Item = (f64, f64)>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = points.len();
    let bucket = n.div_ceil(MAX_POINTS).max(1);
    let (mut time, mut value, mut drawdown) = (Vec::new(), Vec::new(), Vec::new());
    let mut peak = f64::MIN;
    let mut worst = 0.0_f64;
    for (i, (t, e)) in points.enumerate() {
        peak = peak.max(e);
        let dd = if peak > 0.0 {
            (e / peak - 1.0) * 100.0
        } else {
            0.0
        };
        worst = worst.min(dd);
        if (i + 1) % bucket == 0 || i + 1 == n {
            time.push(t);
            value.push(e);
            drawdown.push(worst);
            worst = 0.0;
        }
    }
    (time, value, drawdown)
}

fn stats_table(record: &RunRecord) -> String {
    let mut out = String::from("<table>\n");
    for row in summary::rows(&record.result.statistics) {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>\n",
            html::escape(row.label),
            html::escape(&row.display())
        ));
    }
    out.push_str("</table>");
    out
}

/// The settings that shape the result: cash, fill model, costs, sizing.
fn settings_table(record: &RunRecord) -> String {
    let sim = &record.sim;
    let sizing = &record.risk.sizing;
    let bps = |rate: f64| format!("{:.2} bps", rate * 10_000.0);
    let slippage = match sim.slippage {
        SlippageModel::None => "none".to_owned(),
        SlippageModel::FixedBps { bps } => format!("{bps} bps"),
        SlippageModel::VolumeScaled {
            base_bps,
            impact_bps,
        } => format!("{base_bps} bps + {impact_bps} bps x qty/volume"),
    };
    let rows = [
        ("Initial cash", format!("{:.2}", sim.initial_cash)),
        (
            "Fill",
            if sim.trade_on_close {
                "at the deciding bar's close".to_owned()
            } else {
                "at the next bar's open".to_owned()
            },
        ),
        ("Maker fee", bps(sim.fees.maker_rate)),
        ("Taker fee", bps(sim.fees.taker_rate)),
        ("Slippage", slippage),
        ("Latency", latency(sim.latency)),
        (
            "Entry size",
            format!("{:.2} x {} leverage", sizing.margin, sizing.leverage),
        ),
        (
            "Session loss cap",
            record
                .risk
                .session
                .loss_cap
                .map_or_else(|| "none".to_owned(), |c| format!("{c:.2}")),
        ),
    ];
    let mut out = String::from("<table>\n");
    for (label, value) in rows {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>\n",
            html::escape(label),
            html::escape(&value)
        ));
    }
    out.push_str("</table>");
    out
}

fn latency(l: LatencyModel) -> String {
    match l {
        LatencyModel::Zero => "none".to_owned(),
        LatencyModel::Events { n } => format!("{n} events"),
        LatencyModel::Fixed { delay } => format!("{delay:?}"),
        LatencyModel::Uniform { min, max } => format!("{min:?} .. {max:?}"),
    }
}

fn trades_table(record: &RunRecord) -> String {
    let trades = &record.result.trades;
    if trades.is_empty() {
        return "<p class=\"sub\">No closed trades.</p>".to_owned();
    }
    let mut out = String::from(
        "<table>\n<tr><th>#</th><th>Symbol</th><th>Side</th><th>Quantity</th><th>Entry time</th>\
         <th>Exit time</th><th>Entry price</th><th>Exit price</th><th>Fees</th><th>Net PnL</th>\
         <th>Return</th></tr>\n",
    );
    for (i, t) in trades.iter().take(MAX_TRADE_ROWS).enumerate() {
        let class = if t.net_pnl > 0.0 {
            "pos"
        } else if t.net_pnl < 0.0 {
            "neg"
        } else {
            ""
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{:.2}</td><td class=\"{class}\">{:.2}</td><td class=\"{class}\">{:.2} %</td></tr>\n",
            i + 1,
            html::escape(t.symbol.as_str()),
            if t.side == Side::Buy { "long" } else { "short" },
            t.quantity,
            summary::date(t.entry_time),
            summary::date(t.exit_time),
            price(t.entry_price),
            price(t.exit_price),
            t.fees,
            t.net_pnl,
            t.return_fraction * 100.0,
        ));
    }
    out.push_str("</table>");
    out
}

/// A price with as many decimals as its magnitude needs: 2 from 1 000 up, 4 from 1, else 6.
fn price(v: f64) -> String {
    let a = v.abs();
    let decimals = if a >= 1_000.0 {
        2
    } else if a >= 1.0 {
        4
    } else {
        6
    };
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_deepest_drawdown() {
        let mut curve: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 100.0)).collect();
        curve[5_001].1 = 50.0; // a one-sample crash inside a bucket
        let (t, v, dd) = thin_equity(curve.into_iter());
        assert!(t.len() <= MAX_POINTS);
        assert_eq!(v.len(), t.len());
        assert_eq!(dd.iter().cloned().fold(0.0, f64::min), -50.0);
        assert_eq!(*t.last().unwrap(), 9_999.0);
    }

    #[test]
    fn short_curves_are_kept_whole() {
        let (t, _, dd) = thin_equity([(0.0, 10.0), (1.0, 12.0), (2.0, 9.0)].into_iter());
        assert_eq!(t, vec![0.0, 1.0, 2.0]);
        assert_eq!(dd[2], (9.0 / 12.0 - 1.0) * 100.0);
    }
}

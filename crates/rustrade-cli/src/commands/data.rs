//! `rustrade data inspect`: read a candle file the way a backtest would and describe it.
//!
//! Reports the number of bars, the time range, the usual bar interval (the most common spacing),
//! gaps (spacings longer than the usual interval, the largest listed), bars with zero volume and
//! flat bars (open = high = low = close), and the first problem that stops loading (file, line,
//! column and value), in which case the exit code is the data-error code.

use std::collections::BTreeMap;
use std::time::Duration;

use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_core::{Symbol, Timestamp};

use super::Ui;
use crate::cli::InspectArgs;
use crate::summary;

/// Largest gaps listed.
const LISTED_GAPS: usize = 5;

#[derive(Default)]
struct Survey {
    bars: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    spacings: BTreeMap<i64, u64>,
    gaps: Vec<(Timestamp, i64)>,
    zero_volume: u64,
    flat: u64,
    low: f64,
    high: f64,
}

/// Inspects `args.file`.
pub(super) fn inspect(args: &InspectArgs, ui: Ui) -> anyhow::Result<()> {
    let symbol = Symbol::new("DATA")?;
    let reader = CandleCsv::open(&args.file, CsvOptions::new(symbol).sort_by_time(args.sort))?;
    let mut s = Survey {
        low: f64::INFINITY,
        high: f64::NEG_INFINITY,
        ..Survey::default()
    };
    let mut problem = None;
    for event in reader {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                problem = Some(e);
                break;
            }
        };
        let Some(c) = event.as_candle() else { continue };
        let t = c.open_time();
        if let Some(prev) = s.last {
            let step = t.as_nanos() - prev.as_nanos();
            *s.spacings.entry(step).or_default() += 1;
            s.gaps.push((prev, step));
        }
        s.first.get_or_insert(t);
        s.last = Some(t);
        s.bars += 1;
        s.zero_volume += u64::from(c.volume().get() == 0.0);
        s.flat += u64::from(c.high() == c.low());
        s.low = s.low.min(c.low().get());
        s.high = s.high.max(c.high().get());
    }
    let interval = s
        .spacings
        .iter()
        .max_by_key(|(step, n)| (**n, std::cmp::Reverse(**step)))
        .map(|(step, _)| *step);
    s.gaps.retain(|(_, step)| Some(*step) > interval);
    let gap_count = s.gaps.len();
    s.gaps.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    s.gaps.truncate(LISTED_GAPS);

    let file = args.file.display().to_string();
    ui.emit_json(&serde_json::json!({
        "file": file,
        "ok": problem.is_none(),
        "bars": s.bars,
        "first": s.first.map(|t| t.to_rfc3339()),
        "last": s.last.map(|t| t.to_rfc3339()),
        "interval_secs": interval.map(|n| n as f64 / 1e9),
        "gaps": gap_count,
        "largest_gaps": s.gaps.iter().map(|(t, step)| serde_json::json!({
            "after": t.to_rfc3339(), "secs": *step as f64 / 1e9
        })).collect::<Vec<_>>(),
        "zero_volume_bars": s.zero_volume,
        "flat_bars": s.flat,
        "price_low": (s.bars > 0).then_some(s.low),
        "price_high": (s.bars > 0).then_some(s.high),
        "problem": problem.as_ref().map(|p| p.to_string()),
    }));
    let mut text = format!("{file}\n  bars            {}\n", s.bars);
    if let (Some(a), Some(b)) = (s.first, s.last) {
        text.push_str(&format!(
            "  range           {} .. {}\n",
            summary::date(a),
            summary::date(b)
        ));
        text.push_str(&format!("  prices          {} .. {}\n", s.low, s.high));
    }
    if let Some(step) = interval {
        text.push_str(&format!("  interval        {}\n", human(step)));
    }
    text.push_str(&format!(
        "  gaps            {gap_count} longer than the interval\n"
    ));
    for (t, step) in &s.gaps {
        text.push_str(&format!(
            "                  {} after {}\n",
            human(*step),
            summary::date(*t)
        ));
    }
    text.push_str(&format!(
        "  zero volume     {} bars\n  flat bars       {} (high = low)\n",
        s.zero_volume, s.flat
    ));
    match &problem {
        Some(p) => text.push_str(&format!("  problem         {p}\n")),
        None => text.push_str("  problems        none\n"),
    }
    ui.say(&text);
    match problem {
        Some(p) => Err(p.into()),
        None => Ok(()),
    }
}

fn human(nanos: i64) -> String {
    let d = Duration::from_nanos(nanos.unsigned_abs());
    let secs = d.as_secs();
    match secs {
        s if s > 0 && s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s > 0 && s % 60 == 0 => format!("{} min", s / 60),
        s if s > 0 => format!("{s} s"),
        _ => format!("{} ms", d.as_millis()),
    }
}

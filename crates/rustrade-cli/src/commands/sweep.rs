//! `rustrade sweep`: every combination of the config's grid, in parallel, ranked.
//!
//! The data is read once into memory and shared by all runs; each run builds its own brain and
//! backtest, so runs are independent and the ranking does not depend on thread scheduling (ties
//! keep grid order).

use std::cmp::Ordering;

use anyhow::Context;
use rayon::prelude::*;
use rustrade_core::MarketEvent;

use super::Ui;
use super::backtest::{build_brain, builder, open_data, overrides};
use crate::cli::SweepArgs;
use crate::config::{Config, ConfigError, Origin, SweepSpec};
use crate::{output, progress, summary};

/// One combination's outcome.
struct Outcome {
    params: serde_json::Value,
    result: Result<rustrade_backtest::Statistics, String>,
}

/// Runs the sweep `args` describe.
pub(super) fn run(args: &SweepArgs, ui: Ui) -> anyhow::Result<()> {
    let mut overrides = overrides(&args.run);
    let out_flag = overrides.out.take();
    let config = Config::load(&args.run.config, &overrides)?;
    let Some(spec) = &config.sweep else {
        return Err(ConfigError::new(
            Origin::file(&config.path, None),
            Some("sweep".into()),
            "no [sweep] table: add one with a [sweep.grid] of parameter values",
        )
        .into());
    };
    let events: Vec<MarketEvent> = open_data(&config)?.collect::<Result<_, _>>()?;
    let combos = spec.combinations(&config.strategy.given);
    let bar = progress::bar(combos.len() as u64, "sweeping", ui.progress());

    let work = || -> Vec<Outcome> {
        combos
            .par_iter()
            .map(|params| {
                let outcome = Outcome {
                    params: params.clone(),
                    result: run_one(&config, params, &events),
                };
                bar.inc(1);
                outcome
            })
            .collect()
    };
    let outcomes = match args.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .context("starting the worker threads")?
            .install(work),
        None => work(),
    };
    bar.finish_and_clear();

    let ranked = rank(outcomes, spec);
    let dir = out_flag.unwrap_or_else(|| {
        let mut name = config.output_dir.as_os_str().to_owned();
        name.push("-sweep");
        name.into()
    });
    output::write_folder(&dir, &[("sweep.csv", csv(&ranked, spec)?)])?;

    let ok = ranked.iter().filter(|o| o.result.is_ok()).count();
    let skipped = ranked.len() - ok;
    ui.emit_json(&serde_json::json!({
        "output_dir": dir.display().to_string(),
        "objective": spec.objective.key,
        "runs": ok,
        "skipped": skipped,
        "best": ranked.iter().filter(|o| o.result.is_ok()).take(spec.top).map(|o| serde_json::json!({
            "params": o.params,
            "statistics": o.result.as_ref().map(summary::to_json).unwrap_or_default(),
        })).collect::<Vec<_>>(),
    }));
    ui.say(&table(&ranked, spec));
    ui.say(&format!(
        "{ok} runs, {skipped} combinations skipped (invalid parameters); all in {}\n",
        dir.join("sweep.csv").display()
    ));
    Ok(())
}

fn run_one(
    config: &Config,
    params: &serde_json::Value,
    events: &[MarketEvent],
) -> Result<rustrade_backtest::Statistics, String> {
    let brain = build_brain(config, params).map_err(|e| format!("{e:#}"))?;
    let backtest = builder(config)
        .brain(brain)
        .record_equity(false)
        .build()
        .map_err(|e| e.to_string())?;
    backtest
        .run_events(events.iter().copied())
        .map(|r| r.statistics)
        .map_err(|e| e.to_string())
}

/// Best first by the objective; undefined objectives and skipped combinations last; ties keep
/// grid order (the sort is stable).
fn rank(mut outcomes: Vec<Outcome>, spec: &SweepSpec) -> Vec<Outcome> {
    let key = |o: &Outcome| o.result.as_ref().ok().and_then(|s| spec.objective.value(s));
    outcomes.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let ord = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            if spec.objective.higher_is_better {
                ord.reverse()
            } else {
                ord
            }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.result.is_err().cmp(&b.result.is_err()),
    });
    outcomes
}

const COLUMNS: [&str; 5] = [
    "total_return",
    "sharpe",
    "max_drawdown",
    "trades",
    "win_rate",
];

fn table(ranked: &[Outcome], spec: &SweepSpec) -> String {
    let names: Vec<&str> = spec.grid.iter().map(|(n, _)| n.as_str()).collect();
    let mut cols: Vec<&str> = vec![spec.objective.key];
    cols.extend(COLUMNS.iter().filter(|c| **c != spec.objective.key));
    let mut out = format!("{:>4}  ", "rank");
    for n in &names {
        out.push_str(&format!("{n:>10} "));
    }
    for c in &cols {
        out.push_str(&format!("{c:>14} "));
    }
    out.push('\n');
    for (i, o) in ranked
        .iter()
        .filter(|o| o.result.is_ok())
        .take(spec.top)
        .enumerate()
    {
        out.push_str(&format!("{:>4}  ", i + 1));
        for n in &names {
            out.push_str(&format!("{:>10} ", o.params[*n].to_string()));
        }
        if let Ok(stats) = &o.result {
            for c in &cols {
                let row = summary::rows(stats).into_iter().find(|r| r.key == *c);
                out.push_str(&format!(
                    "{:>14} ",
                    row.map(|r| r.display()).unwrap_or_default()
                ));
            }
        }
        out.push('\n');
    }
    out
}

fn csv(ranked: &[Outcome], spec: &SweepSpec) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["rank".to_owned()];
    header.extend(spec.grid.iter().map(|(n, _)| n.clone()));
    header.extend(summary::ROWS.iter().map(|r| r.0.to_owned()));
    header.push("error".to_owned());
    w.write_record(&header)?;
    for (i, o) in ranked.iter().enumerate() {
        let mut rec = vec![(i + 1).to_string()];
        rec.extend(spec.grid.iter().map(|(n, _)| o.params[n].to_string()));
        match &o.result {
            Ok(stats) => {
                rec.extend(summary::ROWS.iter().map(|r| {
                    summary::value(stats, r.0)
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                }));
                rec.push(String::new());
            }
            Err(e) => {
                rec.extend(summary::ROWS.iter().map(|_| String::new()));
                rec.push(e.clone());
            }
        }
        w.write_record(&rec)?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("writing sweep.csv: {e}"))
}

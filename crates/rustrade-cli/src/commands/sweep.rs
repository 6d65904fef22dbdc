//! `rustrade sweep`: the config's parameter grid run through `rustrade_backtest::sweep` (parallel,
//! deterministic ranking, optional random search and walk-forward split), printed as a ranked
//! table and written as `sweep.csv` and `sweep.json`.
//!
//! The data is read once into memory and shared by all runs; each point builds its own brain,
//! reading the indicator series the points repeat from one cache per data segment
//! ([`crate::strategy_sweep`]).

use std::io::Write;

use anyhow::Context;
use rustrade_backtest::sweep::{Sweep, SweepResult, SweepRow};
use rustrade_core::MarketEvent;
use rustrade_strategies::Registry;

use super::Ui;
use super::backtest::{builder, load_data, overrides};
use crate::cli::SweepArgs;
use crate::config::{Config, ConfigError, Origin, SweepSpec};
use crate::strategy_sweep::{PointBrain, Sharing, sweep_of_points, with_point};
use crate::{output, progress, summary};

/// Runs the sweep `args` describe.
pub(super) fn run(args: &SweepArgs, ui: Ui, registry: &Registry) -> anyhow::Result<()> {
    let mut overrides = overrides(&args.run);
    let out_flag = overrides.out.take();
    let config = Config::load(&args.run.config, &overrides, registry)?;
    let Some(spec) = &config.sweep else {
        return Err(ConfigError::new(
            Origin::file(&config.path, None),
            Some("sweep".into()),
            "no [sweep] table: add one with a [sweep.grid] of parameter values",
        )
        .into());
    };
    let events: Vec<MarketEvent> = load_data(&config)?;

    let per_point = if spec.walk_forward.is_some() { 2 } else { 1 };
    let bar = progress::bar(
        (spec.points() * per_point) as u64,
        "sweeping",
        ui.progress(),
    );
    let mut sweep = sweep_of(&config, spec, bar.clone())?;
    if let Some(n) = args.threads {
        sweep = sweep.threads(n.max(1));
    }
    #[cfg(feature = "nats")]
    let result = match &args.workers {
        Some(url) => crate::workers::coordinate(
            &crate::workers::Coordination {
                url,
                queue: &args.queue,
                config: &config,
                overrides: &overrides,
                spec,
                sweep: &sweep,
                events: &events,
                per_point,
            },
            &bar,
            ui,
        ),
        None => sweep.run(&events, spec.search).map_err(anyhow::Error::from),
    };
    #[cfg(not(feature = "nats"))]
    let result = sweep.run(&events, spec.search).map_err(anyhow::Error::from);
    bar.finish_and_clear();
    let result = result?;

    let dir = out_flag.unwrap_or_else(|| {
        let mut name = config.output_dir.as_os_str().to_owned();
        name.push("-sweep");
        name.into()
    });
    output::write_folder(&dir, |folder| {
        let mut w = output::create(folder, "sweep.csv")?;
        w.write_all(&csv(&result, spec)?)
            .map_err(|e| output::write_error(folder, "sweep.csv", e))?;
        output::finish(w, folder, "sweep.csv")?;
        let mut w = output::create(folder, "sweep.json")?;
        serde_json::to_writer_pretty(&mut w, &result)
            .map_err(|e| output::write_error(folder, "sweep.json", e))?;
        w.write_all(b"\n")
            .map_err(|e| output::write_error(folder, "sweep.json", e))?;
        output::finish(w, folder, "sweep.json")?;
        Ok(())
    })?;

    let ok = result.rows.iter().filter(|r| r.error.is_none()).count();
    let skipped = result.rows.len() - ok;
    ui.emit_json(&serde_json::json!({
        "output_dir": dir.display().to_string(),
        "objective": spec.objective_name(),
        "runs": ok,
        "skipped": skipped,
        "best": result.rows.iter().filter(|r| r.error.is_none()).take(spec.top).map(|r| serde_json::json!({
            "params": with_point(&config.strategy.given, &r.params),
            "score": r.score,
            "statistics": r.statistics.as_ref().map(summary::to_json),
            "out_of_sample_score": r.out_of_sample_score,
        })).collect::<Vec<_>>(),
    }));
    ui.say(&table(&result, spec));
    ui.say(&format!(
        "{ok} runs, {skipped} skipped (invalid parameters); all in {}\n",
        dir.join("sweep.csv").display()
    ));
    Ok(())
}

/// The sweep `config`'s `[sweep]` table (`spec`) describes, over the config's instruments and
/// venue, each point's brain built from the config's strategy with the point's values;
/// `counter` counts the brains built. The one definition a local sweep and a worker share.
pub(crate) fn sweep_of(
    config: &Config,
    spec: &SweepSpec,
    counter: indicatif::ProgressBar,
) -> anyhow::Result<Sweep> {
    let point = PointBrain {
        info: config.strategy.info,
        name: config.strategy.name.clone(),
        given: config.strategy.given.clone(),
        timeframe: config.strategy.timeframe.clone(),
        counter: Some(counter),
    };
    let mut sweep = sweep_of_points(
        builder(config).record_equity(false),
        spec.space().context("building the parameter space")?,
        point,
        Sharing::On,
    )
    .objective(spec.objective);
    if let Some(f) = spec.walk_forward {
        sweep = sweep.walk_forward(f);
    }
    Ok(sweep)
}

const COLUMNS: [&str; 4] = ["total_return", "sharpe", "max_drawdown", "trades"];

fn table(result: &SweepResult, spec: &SweepSpec) -> String {
    let oos = spec.walk_forward.is_some();
    let mut out = format!("{:>4}  ", "rank");
    for (n, _) in &spec.grid {
        out.push_str(&format!("{n:>10} "));
    }
    let objective = spec.objective_name();
    let columns: Vec<&str> = COLUMNS.into_iter().filter(|c| *c != objective).collect();
    out.push_str(&format!("{objective:>14} "));
    for c in &columns {
        out.push_str(&format!("{c:>14} "));
    }
    if oos {
        out.push_str(&format!("{:>14} {:>14}", "oos score", "oos return"));
    }
    out.push('\n');
    let good = result.rows.iter().filter(|r| r.error.is_none());
    for r in good.take(spec.top) {
        out.push_str(&format!("{:>4}  ", r.rank));
        for (n, _) in &spec.grid {
            out.push_str(&format!(
                "{:>10} ",
                r.params
                    .value(n)
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ));
        }
        out.push_str(&format!(
            "{:>14} ",
            r.score.map(|s| format!("{s:.3}")).unwrap_or("n/a".into())
        ));
        let rows = r.statistics.as_ref().map(summary::rows).unwrap_or_default();
        for c in &columns {
            let cell = rows
                .iter()
                .find(|row| row.key == *c)
                .map(|row| row.display());
            out.push_str(&format!("{:>14} ", cell.unwrap_or_default()));
        }
        if oos {
            let ret = r
                .out_of_sample
                .as_ref()
                .map(|s| format!("{:.2} %", s.total_return * 100.0));
            out.push_str(&format!(
                "{:>14} {:>14}",
                r.out_of_sample_score
                    .map(|s| format!("{s:.3}"))
                    .unwrap_or("n/a".into()),
                ret.unwrap_or("n/a".into())
            ));
        }
        out.push('\n');
    }
    out
}

fn csv(result: &SweepResult, spec: &SweepSpec) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["rank".to_owned()];
    header.extend(spec.grid.iter().map(|(n, _)| n.clone()));
    header.push("score".to_owned());
    header.extend(summary::ROWS.iter().map(|r| r.0.to_owned()));
    header.extend(
        [
            "oos_score",
            "oos_total_return",
            "oos_sharpe",
            "oos_max_drawdown",
            "error",
        ]
        .map(str::to_owned),
    );
    w.write_record(&header)?;
    for r in &result.rows {
        w.write_record(record(r, spec))?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("writing sweep.csv: {e}"))
}

fn record(r: &SweepRow, spec: &SweepSpec) -> Vec<String> {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut rec = vec![r.rank.to_string()];
    rec.extend(spec.grid.iter().map(|(n, _)| {
        r.params
            .value(n)
            .map(ToString::to_string)
            .unwrap_or_default()
    }));
    rec.push(opt(r.score));
    rec.extend(
        summary::ROWS
            .iter()
            .map(|row| opt(r.statistics.as_ref().and_then(|s| summary::value(s, row.0)))),
    );
    rec.push(opt(r.out_of_sample_score));
    let oos = r.out_of_sample.as_ref();
    rec.push(opt(oos.map(|s| s.total_return)));
    rec.push(opt(oos.and_then(|s| s.sharpe)));
    rec.push(opt(oos.map(|s| s.max_drawdown)));
    rec.push(r.error.clone().unwrap_or_default());
    rec
}

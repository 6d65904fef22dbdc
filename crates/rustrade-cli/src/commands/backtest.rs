//! `rustrade backtest`: one run, its statistics, and the four result files.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustrade_backtest::data::{CandleCsv, ReadAhead, merge, read_ahead_pays};
use rustrade_backtest::{Backtest, DataError};
use rustrade_core::{Brain, MarketEvent};
use rustrade_strategies::Registry;

use super::Ui;
use crate::cli::RunArgs;
use crate::config::{BarFeed, Config, Overrides};
use crate::run_record::{FORMAT, MarketRecord, PriceRecorder, RunRecord, StrategyRecord};
use crate::{output, progress, report, summary};

/// Runs the backtest `args` describe.
pub(super) fn run(args: &RunArgs, ui: Ui, registry: &Registry) -> anyhow::Result<()> {
    let config = Config::load(&args.config, &overrides(args), registry)?;
    let brain = build_brain(&config, &config.strategy.params, BarFeed::Files)?;
    let backtest = builder(&config).brain(brain).build()?;

    let total = count_rows(&config);
    let bar = progress::bar(total, "replaying", ui.progress());
    let mut prices = PriceRecorder::default();
    let events = read_ahead(open_data(&config)?)?.inspect(|e| {
        if let Ok(e) = e {
            prices.record(e);
            bar.inc(1);
        }
    });
    let result = backtest.run(events);
    bar.finish_and_clear();
    let result = result?;

    let record = RunRecord {
        format: FORMAT.to_owned(),
        title: config.title.clone(),
        strategy: StrategyRecord {
            name: config.strategy.name.clone(),
            params: config.strategy.params.clone(),
            timeframe: config.strategy.timeframe.as_ref().map(|t| t.text.clone()),
        },
        markets: config
            .markets
            .iter()
            .map(|m| MarketRecord {
                symbol: m.spec.symbol(),
                file: m.file_label.clone(),
                spec: m.spec,
            })
            .collect(),
        sim: config.sim.clone(),
        risk: config.risk,
        prices: prices.finish(),
        result,
    };
    output::write_folder(&config.output_dir, |folder| write_results(&record, folder))?;

    let stats = &record.result.statistics;
    ui.emit_json(&serde_json::json!({
        "output_dir": config.output_dir.display().to_string(),
        "strategy": record.strategy.name,
        "params": record.strategy.params,
        "statistics": summary::to_json(stats),
    }));
    ui.say(&format!(
        "{} {} on {}\n{}\n\n{}\nWrote result.json, trades.csv, equity.csv and report.html to {}\n",
        record.strategy.name,
        record.strategy.params,
        record
            .markets
            .iter()
            .map(|m| m.symbol.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        summary::period(stats),
        summary::table(&summary::rows(stats)),
        config.output_dir.display()
    ));
    Ok(())
}

/// The overrides `args` carry.
pub(super) fn overrides(args: &RunArgs) -> Overrides {
    Overrides {
        data: args.data.clone(),
        params: args.params.clone(),
        out: args.out.clone(),
        ops_token: None,
        telegram_token: None,
    }
}

/// A backtest builder with everything from `config` but the brain.
pub(super) fn builder(config: &Config) -> rustrade_backtest::BacktestBuilder {
    let mut b = Backtest::builder()
        .sim(config.sim.clone())
        .initial_cash(config.initial_cash)
        .risk(config.risk);
    for m in &config.markets {
        b = b.instrument(m.spec);
    }
    if let Some(p) = config.periods_per_year {
        b = b.periods_per_year(p);
    }
    b
}

/// Builds the configured strategy with `params` (from the registry entry the config resolved),
/// on its `timeframe`'s bars when it has one, built from the bars of `feed`.
pub(crate) fn build_brain(
    config: &Config,
    params: &serde_json::Value,
    feed: BarFeed,
) -> anyhow::Result<Arc<dyn Brain>> {
    let strategy = &config.strategy;
    let brain = strategy
        .info
        .build_named(&strategy.name, params)
        .with_context(|| format!("strategy {}", strategy.name))?;
    match &strategy.timeframe {
        Some(t) => t.wrap(brain, feed).map_err(anyhow::Error::msg),
        None => Ok(brain),
    }
}

/// The configured data files as one time-ordered stream.
pub(crate) fn open_data(
    config: &Config,
) -> Result<impl Iterator<Item = Result<MarketEvent, DataError>> + Send + use<>, DataError> {
    let sources = config
        .markets
        .iter()
        .map(|m| CandleCsv::open(&m.file, m.csv))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(merge(sources))
}

/// `source` decoded on a second thread while the replay runs, when the machine can run two
/// threads at once (decoding a CSV row costs several times what replaying it does, so the
/// two then overlap); the same events and errors either way.
fn read_ahead(
    source: impl Iterator<Item = Result<MarketEvent, DataError>> + Send + 'static,
) -> Result<Box<dyn Iterator<Item = Result<MarketEvent, DataError>>>, DataError> {
    Ok(if read_ahead_pays() {
        Box::new(ReadAhead::new(source)?)
    } else {
        Box::new(source)
    })
}

/// Every event of the configured files in memory, time-ordered: each file decoded on as many
/// threads as the machine has (a sweep holds all the data anyway), then merged. The events are
/// those of collecting [`open_data`]; a bad file stops the load with its first error.
pub(crate) fn load_data(config: &Config) -> Result<Vec<MarketEvent>, DataError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let files = config
        .markets
        .iter()
        .map(|m| CandleCsv::read_all(&m.file, m.csv, threads).map(|v| v.into_iter().map(Ok)))
        .collect::<Result<Vec<_>, _>>()?;
    merge(files).collect()
}

/// Lines in the configured files, for the progress bar (a header line included: close enough).
/// Streams each file in blocks, so memory does not grow with its size.
fn count_rows(config: &Config) -> u64 {
    use std::io::Read;
    let mut total = 0;
    let mut block = vec![0u8; 64 * 1024];
    for m in &config.markets {
        let Ok(mut file) = std::fs::File::open(&m.file) else {
            continue;
        };
        while let Ok(n @ 1..) = file.read(&mut block) {
            total += block[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
    total
}

/// Streams the four result files into `folder`.
fn write_results(record: &RunRecord, folder: &Path) -> anyhow::Result<()> {
    let mut w = output::create(folder, "result.json")?;
    serde_json::to_writer_pretty(&mut w, record)
        .map_err(|e| output::write_error(folder, "result.json", e))?;
    w.write_all(b"\n")
        .map_err(|e| output::write_error(folder, "result.json", e))?;
    output::finish(w, folder, "result.json")?;

    let mut w = output::create(folder, "trades.csv")?;
    record.result.write_trades_csv(&mut w)?;
    output::finish(w, folder, "trades.csv")?;

    let mut w = output::create(folder, "equity.csv")?;
    record.result.write_equity_csv(&mut w)?;
    output::finish(w, folder, "equity.csv")?;

    let mut w = output::create(folder, "report.html")?;
    w.write_all(report::render(record).as_bytes())
        .map_err(|e| output::write_error(folder, "report.html", e))?;
    output::finish(w, folder, "report.html")?;
    Ok(())
}

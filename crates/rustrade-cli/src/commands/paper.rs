//! `rustrade paper`: the strategy as a paper bot over a recorded data file, or the `[venue]`
//! table's live public stream; the summary, and fills.csv and paper.json in the output folder.

use std::path::{Path, PathBuf};

use rustrade::Secret;
use rustrade_core::{Fill, Side};
use rustrade_strategies::Registry;

use super::Ui;
use crate::cli::PaperArgs;
use crate::config::{Config, ConfigError, Origin, Overrides, TELEGRAM_TOKEN_ENV};
use crate::output;
use crate::paper::replay::Speed;
use crate::paper::{self, Feed, Outcome, live_feed};
use crate::summary::{self, Row, Unit};

/// The environment variable holding the ops endpoint's bearer token.
pub(crate) const TOKEN_ENV: &str = "RUSTRADE_OPS_TOKEN";

/// Runs the paper bot `args` describe until its data runs out or it is told to stop.
pub(super) fn run(args: &PaperArgs, ui: Ui, registry: &Registry) -> anyhow::Result<()> {
    let speed: Speed = args.speed.parse().map_err(|m: String| {
        ConfigError::new(Origin::Flag(format!("--speed {}", args.speed)), None, m)
    })?;
    let overrides = Overrides {
        data: args.replay.clone(),
        params: args.params.clone(),
        out: None,
        ops_token: std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim())),
        telegram_token: std::env::var(TELEGRAM_TOKEN_ENV)
            .ok()
            .map(|t| Secret::new(t.trim())),
    };
    let config = Config::load(&args.config, &overrides, registry)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| paper_dir(&config.output_dir));
    // Logs go to stderr (RUST_LOG, default warnings); a subscriber already installed is kept.
    let _ = rustrade::logging::init_tracing_with(rustrade::logging::LogFormat::Text, "warn");

    let runtime = super::service_runtime()?;
    // A [market_data] table without --replay: the relay's NATS stream; else a [venue] table
    // without --replay: the venue's live public stream.
    let feed = match (&args.replay, &config.market_data, &config.venue) {
        (None, Some(_), _) => Feed::Nats,
        (None, None, Some(_)) => Feed::Venue,
        _ => Feed::Replay(speed),
    };
    let source = match (feed, &config.venue) {
        #[cfg(feature = "nats")]
        (Feed::Nats, _) => config
            .market_data
            .as_ref()
            .map(crate::market_data::describe)
            .unwrap_or_default(),
        (Feed::Venue, Some(venue)) => live_feed::describe(venue),
        _ => format!(
            "replaying {} at {}",
            config.markets[0].file_label,
            match speed {
                Speed::Max => "max speed".to_owned(),
                Speed::Times(n) => format!("{n}x"),
            }
        ),
    };
    let mut line = None;
    let outcome = runtime.block_on(paper::run(&config, feed, true, |started| {
        ui.say(&format!(
            "paper bot {:?}: {} {} on {}, {source}\n",
            config.bot.name,
            config.strategy.name,
            config.strategy.params,
            symbols(&config),
        ));
        let token = match &started.token_file {
            Some(f) => format!("control token in {}", f.display()),
            None => "control token from the config or RUSTRADE_OPS_TOKEN".to_owned(),
        };
        line = super::show_started(ui, started, Some(&token));
    }));
    if let Some(line) = line {
        line.finish();
    }
    let outcome = outcome?;
    runtime.shutdown_background();

    output::write_folder(&out, |folder| write_results(&config, &outcome, folder))?;
    ui.emit_json(&serde_json::json!({
        "output_dir": out.display().to_string(),
        "summary": summary_json(&config, &outcome),
    }));
    let positions: Vec<String> = outcome
        .positions
        .iter()
        .map(|(s, p)| format!("{s} {}", p.quantity))
        .collect();
    ui.say(&format!(
        "{}\n{}\nfinal position: {}\nWrote fills.csv and paper.json to {}\n",
        match (feed, outcome.interrupted) {
            (Feed::Venue | Feed::Nats, true) | (Feed::Venue, false) => "paper bot stopped",
            (Feed::Nats, false) => "stream caught up",
            (Feed::Replay(_), true) => "stopped before the end of the data",
            (Feed::Replay(_), false) => "replay complete",
        },
        summary::table(&rows(&outcome)),
        positions.join(", "),
        out.display()
    ));
    Ok(())
}

/// The default output folder of a paper run: the backtest's, with `-paper` appended, so the
/// two runs' results sit side by side.
fn paper_dir(backtest: &Path) -> PathBuf {
    let mut name = backtest.as_os_str().to_owned();
    name.push("-paper");
    PathBuf::from(name)
}

fn symbols(config: &Config) -> String {
    config
        .markets
        .iter()
        .map(|m| m.spec.symbol().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[allow(clippy::cast_precision_loss, reason = "counts shown in a table")]
fn rows(o: &Outcome) -> Vec<Row> {
    let row = |key, label, value: f64, unit| Row {
        key,
        label,
        value: Some(value),
        unit,
    };
    vec![
        row("events", "Events", o.events as f64, Unit::Count),
        row("fills", "Fills", o.fills.len() as f64, Unit::Count),
        row("trades", "Trades", o.trades as f64, Unit::Count),
        row("fees_paid", "Fees paid", o.fees_paid, Unit::Money),
        row("realised_pnl", "Realised PnL", o.realised_pnl, Unit::Money),
        row("final_equity", "Final equity", o.final_equity, Unit::Money),
    ]
}

fn summary_json(config: &Config, o: &Outcome) -> serde_json::Value {
    serde_json::json!({
        "format": "rustrade-paper/1",
        "bot": config.bot.name,
        "strategy": config.strategy.name,
        "params": config.strategy.params,
        "events": o.events,
        "fills": o.fills.len(),
        "trades": o.trades,
        "fees_paid": o.fees_paid,
        "realised_pnl": o.realised_pnl,
        "final_equity": o.final_equity,
        "interrupted": o.interrupted,
        "positions": o.positions.iter().map(|(s, p)| serde_json::json!({
            "symbol": s.as_str(),
            "quantity": p.quantity,
            "avg_entry": p.avg_entry,
            "realised_pnl": p.realised_pnl,
            "unrealised_pnl": p.unrealised_pnl,
        })).collect::<Vec<_>>(),
    })
}

fn write_results(config: &Config, o: &Outcome, folder: &Path) -> anyhow::Result<()> {
    let w = output::create(folder, "fills.csv")?;
    let mut csv = csv::Writer::from_writer(w);
    let bad = |e: csv::Error| output::write_error(folder, "fills.csv", std::io::Error::other(e));
    csv.write_record([
        "time", "time_ns", "symbol", "side", "price", "quantity", "fee",
    ])
    .map_err(bad)?;
    for f in &o.fills {
        csv.write_record(fill_record(f)).map_err(bad)?;
    }
    let w = csv
        .into_inner()
        .map_err(|e| output::write_error(folder, "fills.csv", e.into_error()))?;
    output::finish(w, folder, "fills.csv")?;

    let mut w = output::create(folder, "paper.json")?;
    serde_json::to_writer_pretty(&mut w, &summary_json(config, o))
        .map_err(|e| output::write_error(folder, "paper.json", e))?;
    std::io::Write::write_all(&mut w, b"\n")
        .map_err(|e| output::write_error(folder, "paper.json", e))?;
    output::finish(w, folder, "paper.json")?;
    Ok(())
}

/// One fills.csv row: numbers in their shortest exact form, so they read back bit for bit.
fn fill_record(f: &Fill) -> [String; 7] {
    [
        f.time.to_rfc3339(),
        f.time.as_nanos().to_string(),
        f.symbol.to_string(),
        match f.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
        .to_owned(),
        f.price.get().to_string(),
        f.quantity.get().to_string(),
        f.fee.get().to_string(),
    ]
}

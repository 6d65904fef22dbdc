//! Configuration, parsed in two layers.
//!
//! 1. [`raw`]: the TOML text into [`raw::RawConfig`] — shape only. Unknown keys and wrong types
//!    fail here, with the file, line and key path.
//! 2. [`Config::load`]: command-line overrides applied, then every value checked for meaning and
//!    turned into the types the backtest takes (instrument specs, fee and risk models, a built
//!    strategy's resolved parameters). Errors name the file and line (or the flag), the key path
//!    and the value.
//!
//! Paths inside a config file are relative to the file's folder; paths given on the command line
//! are relative to the current directory.

mod bot;
mod error;
pub(crate) mod locate;
mod market_data;
mod notify;
pub(crate) mod raw;
#[cfg(feature = "nats")]
mod relay;
mod sweep;
pub(crate) mod template;
mod venue;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustrade_backtest::data::{CsvFormat, CsvOptions};
use rustrade_core::{Brain, InstrumentSpec, OnTimeframe, Resampler, Symbol, ValueError};
use rustrade_risk::{AccountBasis, RiskConfig, RiskSettings};
use rustrade_sim::{FeeModel, LatencyModel, SimConfig, SlippageModel};
use rustrade_strategies::{Registry, StrategyError, StrategyInfo};

pub(crate) use bot::{BotSection, StateTls};
pub(crate) use error::{ConfigError, Origin};
pub(crate) use market_data::MarketDataSection;
#[cfg(feature = "nats")]
pub(crate) use market_data::StreamStart;
pub(crate) use notify::{NotifySection, RateLimit, TELEGRAM_TOKEN_ENV};
#[cfg(feature = "nats")]
pub(crate) use relay::{RelayFile, RelaySource};
pub(crate) use sweep::SweepSpec;
pub(crate) use venue::{Network, Product, VenueSection};

use raw::{RawConfig, RawFill, RawFormat};

/// Command-line values that override the file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    /// `--data`: replaces the data file of the single market.
    pub(crate) data: Option<PathBuf>,
    /// `--param key=value`, in order; later ones win.
    pub(crate) params: Vec<String>,
    /// `--out`: the output folder.
    pub(crate) out: Option<PathBuf>,
    /// `RUSTRADE_OPS_TOKEN`: the ops endpoint's bearer token, overriding `[bot.ops] token`.
    pub(crate) ops_token: Option<rustrade::Secret>,
    /// `RUSTRADE_TELEGRAM_TOKEN`: the Telegram bot token of `[bot.notify.telegram]`.
    pub(crate) telegram_token: Option<rustrade::Secret>,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The file it came from.
    pub(crate) path: PathBuf,
    /// Report title: the file's stem.
    pub(crate) title: String,
    /// The traded markets.
    pub(crate) markets: Vec<Market>,
    /// The strategy.
    pub(crate) strategy: StrategySpec,
    /// Starting cash.
    pub(crate) initial_cash: f64,
    /// The simulated venue.
    pub(crate) sim: SimConfig,
    /// Risk limits for every symbol.
    pub(crate) risk: RiskConfig,
    /// Where results go.
    pub(crate) output_dir: PathBuf,
    /// Periods per year for annualised statistics; inferred from the bar spacing when `None`.
    pub(crate) periods_per_year: Option<f64>,
    /// The parameter grid, when the file has a `[sweep]` table.
    pub(crate) sweep: Option<SweepSpec>,
    /// How `rustrade paper` runs it (`[bot]`; defaults when absent).
    pub(crate) bot: BotSection,
    /// The exchange `rustrade live` trades on (`[venue]`).
    pub(crate) venue: Option<VenueSection>,
    /// A relay's NATS stream as the market data of `paper` and `live` (`[market_data]`).
    pub(crate) market_data: Option<MarketDataSection>,
}

/// One market: its data file and instrument.
#[derive(Debug, Clone)]
pub(crate) struct Market {
    /// Data file, resolved.
    pub(crate) file: PathBuf,
    /// Data file as written (for messages and the report).
    pub(crate) file_label: String,
    /// How to read it.
    pub(crate) csv: CsvOptions,
    /// Trading rules of the instrument.
    pub(crate) spec: InstrumentSpec,
}

/// The strategy: registry name and parameters.
#[derive(Debug, Clone)]
pub(crate) struct StrategySpec {
    /// Registry name.
    pub(crate) name: String,
    /// Its registry entry, which builds the brains of every run of this config.
    pub(crate) info: StrategyInfo,
    /// Parameters as given (file plus overrides), for sweeps to extend.
    pub(crate) given: serde_json::Value,
    /// Parameters with defaults filled in, validated.
    pub(crate) params: serde_json::Value,
    /// `timeframe`: the longer bars it decides on, when not the feed's own.
    pub(crate) timeframe: Option<Timeframe>,
}

/// `[strategy] timeframe`: the strategy decides on closed bars of `target` built from the
/// feed's bars ([`OnTimeframe`]), so `sma_cross` can run on hours from a minute file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Timeframe {
    /// The bars the strategy decides on.
    pub(crate) target: Duration,
    /// As written, for the run record.
    pub(crate) text: String,
    /// The data files' bar length (every `[[market]] interval`), when they give one.
    pub(crate) files: Option<Duration>,
    /// The `[venue]` kline interval, when there is a `[venue]` table.
    pub(crate) venue: Option<Duration>,
}

/// Which feed a brain is built for: its bars are what longer bars are built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BarFeed {
    /// The `[[market]]` data files (backtest, sweep, paper replay).
    Files,
    /// The `[venue]` kline stream (live, paper on the venue's feed).
    Venue,
}

impl Timeframe {
    /// `brain` deciding on these bars, built from the bars of `feed`.
    pub(crate) fn wrap(
        &self,
        brain: Arc<dyn Brain>,
        feed: BarFeed,
    ) -> Result<Arc<dyn Brain>, String> {
        let base = match feed {
            BarFeed::Files => self.files.ok_or(
                "strategy.timeframe: set `interval` in every [[market]] to build longer bars from the data files",
            )?,
            BarFeed::Venue => self
                .venue
                .ok_or("strategy.timeframe: no [venue] kline interval to build longer bars from")?,
        };
        let resampler = Resampler::new(base, self.target).map_err(|e| e.to_string())?;
        Ok(Arc::new(OnTimeframe::new(brain, resampler)))
    }
}

/// The configuration source and which keys the command line set, for locating errors.
pub(crate) struct Source<'a> {
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
    /// `(key path, flag as typed)` for every overridden key.
    pub(crate) flags: Vec<(String, String)>,
}

impl Source<'_> {
    /// An error about `key`, located at the flag that set it or at its line in the file.
    pub(crate) fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let origin = match self.flags.iter().rev().find(|(k, _)| k == key) {
            Some((_, flag)) => Origin::Flag(flag.clone()),
            None => Origin::file(self.path, locate::line_of(self.text, key)),
        };
        ConfigError::new(origin, Some(key.to_owned()), message)
    }
}

impl Config {
    /// Reads, parses and validates `path` with `overrides` applied; the strategy is looked up
    /// in `registry`.
    pub(crate) fn load(
        path: &Path,
        overrides: &Overrides,
        registry: &Registry,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::file(path, format!("cannot read: {e}")))?;
        let raw = parse(path, &text)?;
        Self::from_raw(path, &text, raw, overrides, registry)
    }

    /// The second layer: overrides applied to `raw`, then every value validated.
    pub(crate) fn from_raw(
        path: &Path,
        text: &str,
        mut raw: RawConfig,
        overrides: &Overrides,
        registry: &Registry,
    ) -> Result<Self, ConfigError> {
        let mut src = Source {
            path,
            text,
            flags: Vec::new(),
        };
        for flag in &overrides.params {
            let (key, value) = parse_param_flag(flag)?;
            src.flags
                .push((format!("strategy.params.{key}"), format!("--param {flag}")));
            raw.strategy.params.insert(key, value);
        }
        let base = path.parent().unwrap_or(Path::new("")).to_owned();

        if raw.market.is_empty() {
            return Err(ConfigError::new(
                Origin::file(path, None),
                Some("market".into()),
                "at least one [[market]] table is required",
            ));
        }
        if let Some(data) = &overrides.data {
            if raw.market.len() != 1 {
                return Err(ConfigError::new(
                    Origin::Flag(format!("--data {}", data.display())),
                    None,
                    format!(
                        "--data replaces the file of a single market, but the config has {}",
                        raw.market.len()
                    ),
                ));
            }
            src.flags.push((
                "market[0].file".into(),
                format!("--data {}", data.display()),
            ));
        }
        let mut markets = Vec::with_capacity(raw.market.len());
        for (i, m) in raw.market.iter().enumerate() {
            let (file, label) = match (&overrides.data, i) {
                (Some(d), 0) => (d.clone(), d.display().to_string()),
                _ => (base.join(&m.file), m.file.display().to_string()),
            };
            markets.push(market(&src, i, m, file, label)?);
        }
        for (i, m) in markets.iter().enumerate() {
            if markets[..i]
                .iter()
                .any(|o| o.spec.symbol() == m.spec.symbol())
            {
                return Err(src.error(
                    &format!("market[{i}].symbol"),
                    format!("{} appears in two markets", m.spec.symbol()),
                ));
            }
        }

        let strategy = strategy(&src, &raw, registry)?;

        let cash = raw.account.initial_cash;
        if !(cash.is_finite() && cash > 0.0) {
            return Err(src.error("account.initial_cash", format!("must be > 0 (got {cash})")));
        }
        let sim = sim(&src, &raw, cash)?;
        let taker = sim.fees.taker_rate;
        let risk = risk(&src, &raw, markets[0].spec.asset_class(), cash, taker)?;

        let output_dir = match (&overrides.out, &raw.output.dir) {
            (Some(out), _) => out.clone(),
            (None, Some(dir)) => base.join(dir),
            (None, None) => PathBuf::from("runs").join(title_of(path)),
        };
        let periods_per_year = match raw.statistics.periods_per_year {
            Some(p) if !(p.is_finite() && p > 0.0) => {
                return Err(src.error(
                    "statistics.periods_per_year",
                    format!("must be > 0 (got {p})"),
                ));
            }
            other => other,
        };
        let sweep = match &raw.sweep {
            Some(s) => Some(SweepSpec::from_raw(&src, s, &strategy)?),
            None => None,
        };
        let bot = BotSection::from_raw(
            &src,
            &raw.bot,
            &title_of(path),
            overrides.ops_token.as_ref(),
            overrides.telegram_token.as_ref(),
            &base,
        )?;
        let venue = match &raw.venue {
            Some(v) => Some(VenueSection::from_raw(&src, v)?),
            None => None,
        };
        let market_data = match &raw.market_data {
            Some(m) => Some(MarketDataSection::from_raw(&src, m)?),
            None => None,
        };
        let mut strategy = strategy;
        strategy.timeframe = timeframe(&src, &raw, venue.as_ref())?;
        Ok(Self {
            path: path.to_owned(),
            title: title_of(path),
            markets,
            strategy,
            initial_cash: cash,
            sim,
            risk,
            output_dir,
            periods_per_year,
            sweep,
            bot,
            venue,
            market_data,
        })
    }
}

/// The first layer: TOML text to [`RawConfig`], errors located and named.
pub(crate) fn parse(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    parse_as(path, text)
}

/// The first layer of any config file: TOML text to `T`, errors located and named.
pub(crate) fn parse_as<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = locate::line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let key = line.and_then(|l| locate::path_at(text, l));
        ConfigError::new(
            Origin::File {
                path: path.to_owned(),
                line,
                column,
            },
            key,
            e.message(),
        )
    })
}

/// Parses `key=value`; the value is TOML (`10`, `2.5`, `true`, `"text"`), or a bare string.
fn parse_param_flag(flag: &str) -> Result<(String, toml::Value), ConfigError> {
    let bad = |msg: &str| {
        ConfigError::new(
            Origin::Flag(format!("--param {flag}")),
            None,
            msg.to_owned(),
        )
    };
    let (key, value) = flag
        .split_once('=')
        .ok_or_else(|| bad("expected key=value"))?;
    let key = key.trim();
    if key.is_empty() || key.contains('.') {
        return Err(bad("expected a parameter name before `=`"));
    }
    let value = value.trim();
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    Ok((key.to_owned(), parsed))
}

fn market(
    src: &Source<'_>,
    i: usize,
    m: &raw::RawMarket,
    file: PathBuf,
    label: String,
) -> Result<Market, ConfigError> {
    let key = |k: &str| format!("market[{i}].{k}");
    let symbol = Symbol::new(&m.symbol)
        .map_err(|e| src.error(&key("symbol"), strip_field(&e.to_string())))?;
    if !file.is_file() {
        return Err(src.error(
            &key("file"),
            format!("no such data file: {}", file.display()),
        ));
    }
    let mut csv = CsvOptions::new(symbol)
        .sort_by_time(m.sort)
        .format(match m.format {
            RawFormat::Auto => CsvFormat::Auto,
            RawFormat::Binance => CsvFormat::BinanceKlines,
        });
    if let Some(text) = &m.interval {
        let d = parse_duration(text).map_err(|msg| src.error(&key("interval"), msg))?;
        csv = csv
            .bar_interval(d)
            .map_err(|e| src.error(&key("interval"), e.to_string()))?;
    }
    let spec = InstrumentSpec::new(symbol, m.asset_class, m.tick_size, m.lot_size)
        .and_then(|s| s.with_min_qty(m.min_qty))
        .and_then(|s| s.with_min_notional(m.min_notional))
        .and_then(|s| s.with_contract_value(m.contract_value))
        .map_err(|e| src.error(&key(value_field(&e)), strip_field(&e.to_string())))?;
    Ok(Market {
        file,
        file_label: label,
        csv,
        spec,
    })
}

fn strategy(
    src: &Source<'_>,
    raw: &RawConfig,
    registry: &Registry,
) -> Result<StrategySpec, ConfigError> {
    let given = serde_json::to_value(&raw.strategy.params)
        .map_err(|e| src.error("strategy.params", e.to_string()))?;
    let info = *registry
        .info(&raw.strategy.name)
        .map_err(|e| strategy_error(src, &e))?;
    let params = info
        .resolve_params(&given)
        .map_err(|e| strategy_error(src, &e))?;
    Ok(StrategySpec {
        name: raw.strategy.name.clone(),
        info,
        given,
        params,
        timeframe: None,
    })
}

/// Validates `[strategy] timeframe` against the bar lengths it would be built from: the data
/// files' and the venue's, whichever the config gives (at least one).
fn timeframe(
    src: &Source<'_>,
    raw: &RawConfig,
    venue: Option<&VenueSection>,
) -> Result<Option<Timeframe>, ConfigError> {
    const KEY: &str = "strategy.timeframe";
    let Some(text) = &raw.strategy.timeframe else {
        return Ok(None);
    };
    let target = parse_duration(text).map_err(|msg| src.error(KEY, msg))?;
    let fits = |base: Duration, what: &str| {
        if Resampler::new(base, target).is_ok() {
            Ok(())
        } else {
            Err(src.error(
                KEY,
                format!(
                    "must be a whole multiple of the {what} bar length {base:?} (got {text:?})"
                ),
            ))
        }
    };
    let mut files = None;
    for (i, m) in raw.market.iter().enumerate() {
        let key = format!("market[{i}].interval");
        let Some(interval) = &m.interval else {
            files = None;
            break;
        };
        let d = parse_duration(interval).map_err(|msg| src.error(&key, msg))?;
        match files {
            Some(first) if first != d => {
                return Err(src.error(
                    &key,
                    format!(
                        "{interval:?} differs from market[0]'s; strategy.timeframe builds its bars from one bar length"
                    ),
                ));
            }
            _ => files = Some(d),
        }
    }
    if let Some(base) = files {
        fits(base, "data's")?;
    }
    let venue = match venue {
        Some(v) => {
            let d = parse_duration(&v.interval).map_err(|_| {
                src.error(
                    "venue.interval",
                    format!(
                        "{:?} is not a fixed bar length, which strategy.timeframe needs",
                        v.interval
                    ),
                )
            })?;
            fits(d, "venue's")?;
            Some(d)
        }
        None => None,
    };
    if files.is_none() && venue.is_none() {
        return Err(src.error(
            KEY,
            "needs the feed's bar length: set `interval` in every [[market]] (or give a [venue])",
        ));
    }
    Ok(Some(Timeframe {
        target,
        text: text.clone(),
        files,
        venue,
    }))
}

/// Places a strategy error at its key: the name, a parameter, or an unknown parameter key.
pub(crate) fn strategy_error(src: &Source<'_>, e: &StrategyError) -> ConfigError {
    let text = e.to_string();
    match e {
        StrategyError::Unknown { .. } => src.error("strategy.name", text),
        _ => {
            let field = e.field().unwrap_or("params");
            let key = if field == "params" {
                // An unknown key: point at it when the message names it (`unknown field `x``).
                match text.split('`').nth(1) {
                    Some(k) if text.contains("unknown field") => format!("strategy.params.{k}"),
                    _ => "strategy.params".to_owned(),
                }
            } else {
                format!("strategy.params.{field}")
            };
            src.error(&key, strip_field(&text))
        }
    }
}

fn sim(src: &Source<'_>, raw: &RawConfig, cash: f64) -> Result<SimConfig, ConfigError> {
    let x = &raw.execution;
    let bps = |key: &str, v: f64, max: f64| {
        if v.is_finite() && (0.0..=max).contains(&v) {
            Ok(v)
        } else {
            Err(src.error(key, format!("must be within [0, {max}] bps (got {v})")))
        }
    };
    let maker = bps("execution.maker_fee_bps", x.maker_fee_bps, 1_000.0)?;
    let taker = bps("execution.taker_fee_bps", x.taker_fee_bps, 1_000.0)?;
    let slip = bps("execution.slippage_bps", x.slippage_bps, 10_000.0)?;
    let mut sim = SimConfig::default()
        .with_initial_cash(cash)
        .with_fees(FeeModel::rates(maker / 10_000.0, taker / 10_000.0))
        .with_slippage(if slip > 0.0 {
            SlippageModel::FixedBps { bps: slip }
        } else {
            SlippageModel::None
        })
        .with_latency(if x.latency_events > 0 {
            LatencyModel::Events {
                n: x.latency_events,
            }
        } else {
            LatencyModel::Zero
        })
        .with_trade_on_close(x.fill == RawFill::Close);
    if let Some(p) = x.participation {
        if !(p.is_finite() && p > 0.0 && p <= 1.0) {
            return Err(src.error(
                "execution.participation",
                format!("must be within (0, 1] (got {p})"),
            ));
        }
        sim = sim.with_participation(p);
    }
    sim.validate()
        .map_err(|e| src.error("execution", e.to_string()))?;
    Ok(sim)
}

/// `[risk]`, through the risk crate's one constructor ([`RiskConfig::from_settings`]) that a bot
/// built in code calls too; `taker_fee_rate` is the venue's taker fee, the default expected fee
/// of equity and cash sizing.
fn risk(
    src: &Source<'_>,
    raw: &RawConfig,
    class: rustrade_core::AssetClass,
    cash: f64,
    taker_fee_rate: f64,
) -> Result<RiskConfig, ConfigError> {
    let settings = risk_settings(src, &raw.risk)?;
    let account = AccountBasis {
        cash,
        taker_fee_rate,
    };
    RiskConfig::from_settings(class, account, &settings).map_err(|e| {
        let field = e.field();
        if field.contains('.') {
            src.error("risk", e.to_string())
        } else {
            src.error(&format!("risk.{field}"), strip_field(&e.to_string()))
        }
    })
}

/// The `[risk]` table as [`RiskSettings`]; only the durations are parsed here.
pub(crate) fn risk_settings(
    src: &Source<'_>,
    r: &raw::RawRisk,
) -> Result<RiskSettings, ConfigError> {
    let duration = |key: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| parse_duration(t).map_err(|m| src.error(key, m)))
            .transpose()
    };
    Ok(RiskSettings {
        margin: r.margin,
        leverage: r.leverage,
        max_notional: r.max_notional,
        equity_fraction: r.equity_fraction,
        cash_fraction: r.cash_fraction,
        fee_rate: r.fee_rate,
        session_loss_cap: r.session_loss_cap,
        breaker_losses: r.breaker_losses,
        breaker_window: duration("risk.breaker_window", &r.breaker_window)?,
        breaker_cooldown: duration("risk.breaker_cooldown", &r.breaker_cooldown)?,
    })
}

/// Parses `30s`, `15m`, `4h`, `1d`, `1w`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad =
        || format!("expected a number and a unit s, m, h, d or w, like \"1d\" (got {text:?})");
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    if n == 0 {
        return Err(format!("must be > 0 (got {text:?})"));
    }
    Ok(Duration::from_secs(n * secs))
}

/// The field a core constructor refused.
fn value_field(e: &ValueError) -> &'static str {
    match e {
        ValueError::NotFinite { field, .. }
        | ValueError::Negative { field, .. }
        | ValueError::NotPositive { field, .. }
        | ValueError::OutOfRange { field, .. }
        | ValueError::BadText { field, .. }
        | ValueError::Inconsistent { field, .. }
        | ValueError::TimeOutOfRange { field, .. } => field,
        _ => "instrument",
    }
}

/// `fast: must be ...` → `must be ...` (the key is shown separately).
fn strip_field(text: &str) -> String {
    match text.split_once(": ") {
        Some((field, rest)) if !field.contains(' ') => rest.to_owned(),
        _ => text.to_owned(),
    }
}

fn title_of(path: &Path) -> String {
    path.file_stem().map_or_else(
        || "backtest".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests;

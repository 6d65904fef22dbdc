//! The first layer: the TOML file as written, checked only for shape (known keys, right types).
//!
//! Every table refuses unknown keys. Values are checked for meaning in the second layer
//! ([`super::Config::from_raw`]); strategy parameters stay an untyped table here because their
//! shape depends on the strategy.

use std::path::PathBuf;

/// A whole configuration file.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    /// `[[market]]`: the data and instrument of each traded symbol.
    #[serde(default)]
    pub(crate) market: Vec<RawMarket>,
    /// `[strategy]`.
    pub(crate) strategy: RawStrategy,
    /// `[account]`.
    #[serde(default)]
    pub(crate) account: RawAccount,
    /// `[execution]`.
    #[serde(default)]
    pub(crate) execution: RawExecution,
    /// `[risk]`.
    #[serde(default)]
    pub(crate) risk: RawRisk,
    /// `[output]`.
    #[serde(default)]
    pub(crate) output: RawOutput,
    /// `[statistics]`.
    #[serde(default)]
    pub(crate) statistics: RawStatistics,
    /// `[sweep]`, for `rustrade sweep`.
    #[serde(default)]
    pub(crate) sweep: Option<RawSweep>,
    /// `[bot]`, for `rustrade paper` and `rustrade live`.
    #[serde(default)]
    pub(crate) bot: RawBot,
    /// `[venue]`, for `rustrade live`.
    #[serde(default)]
    pub(crate) venue: Option<RawVenue>,
    /// `[market_data]`: market data from a relay's NATS stream, for `paper` and `live`.
    #[serde(default)]
    pub(crate) market_data: Option<RawMarketData>,
}

/// `[market_data]`: a relay's NATS JetStream stream as the bot's market data.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMarketData {
    pub(crate) nats_url: String,
    pub(crate) stream: String,
    #[serde(default)]
    pub(crate) venue: Option<String>,
    #[serde(default)]
    pub(crate) start: Option<String>,
    #[serde(default)]
    pub(crate) stop_when_caught_up: bool,
}

/// `[venue]`: the exchange `rustrade live` trades on.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVenue {
    pub(crate) exchange: String,
    #[serde(default)]
    pub(crate) product: Option<String>,
    #[serde(default)]
    pub(crate) environment: Option<String>,
    #[serde(default)]
    pub(crate) endpoint: Option<String>,
    #[serde(default)]
    pub(crate) interval: Option<String>,
    #[serde(default)]
    pub(crate) cash_asset: Option<String>,
    #[serde(default)]
    pub(crate) confirm_production: bool,
}

/// `[bot]`: how `rustrade paper` runs the strategy as a bot.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBot {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) state_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) state_url: Option<String>,
    #[serde(default)]
    pub(crate) state_schema: Option<String>,
    #[serde(default)]
    pub(crate) state_tls: Option<String>,
    #[serde(default)]
    pub(crate) state_ca_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) shutdown_timeout: Option<String>,
    #[serde(default)]
    pub(crate) close_positions_on_shutdown: bool,
    #[serde(default)]
    pub(crate) ops: Option<RawOps>,
    #[serde(default)]
    pub(crate) notify: Option<RawNotify>,
}

/// `[bot.notify]`: notification channels.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotify {
    #[serde(default)]
    pub(crate) queue: Option<usize>,
    #[serde(default)]
    pub(crate) events: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) webhook: Option<RawWebhook>,
    #[serde(default)]
    pub(crate) telegram: Option<RawTelegram>,
}

/// `[bot.notify.webhook]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub(crate) url: rustrade::Secret,
    #[serde(default)]
    pub(crate) events: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) rate_per_minute: Option<u32>,
    #[serde(default)]
    pub(crate) burst: Option<u32>,
}

/// `[bot.notify.telegram]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTelegram {
    pub(crate) chat_id: toml::Value,
    #[serde(default)]
    pub(crate) api_url: Option<String>,
    /// Refused with its own message: the token belongs in the environment.
    #[serde(default)]
    pub(crate) token: Option<rustrade::Secret>,
    #[serde(default)]
    pub(crate) events: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) commands: bool,
    #[serde(default)]
    pub(crate) allowed_chats: Option<Vec<i64>>,
    #[serde(default)]
    pub(crate) rate_per_minute: Option<u32>,
    #[serde(default)]
    pub(crate) burst: Option<u32>,
}

/// `[bot.ops]`: the operations HTTP endpoint.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOps {
    #[serde(default)]
    pub(crate) listen: Option<String>,
    #[serde(default)]
    pub(crate) token: Option<rustrade::Secret>,
}

/// One `[[market]]` table.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMarket {
    pub(crate) symbol: String,
    pub(crate) file: PathBuf,
    #[serde(default)]
    pub(crate) format: RawFormat,
    #[serde(default)]
    pub(crate) sort: bool,
    #[serde(default)]
    pub(crate) interval: Option<String>,
    #[serde(default = "default_asset_class")]
    pub(crate) asset_class: rustrade_core::AssetClass,
    #[serde(default = "default_tick")]
    pub(crate) tick_size: f64,
    #[serde(default = "default_lot")]
    pub(crate) lot_size: f64,
    #[serde(default)]
    pub(crate) min_qty: f64,
    #[serde(default)]
    pub(crate) min_notional: f64,
    #[serde(default = "one")]
    pub(crate) contract_value: f64,
}

/// Layout of a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawFormat {
    /// Header-named OHLCV columns, or a headerless Binance dump, detected.
    #[default]
    Auto,
    /// Binance kline dump.
    Binance,
}

/// `[strategy]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStrategy {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) params: toml::Table,
    #[serde(default)]
    pub(crate) timeframe: Option<String>,
}

/// `[account]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccount {
    #[serde(default = "default_cash")]
    pub(crate) initial_cash: f64,
}

/// `[execution]`: how the simulated venue fills orders.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExecution {
    #[serde(default)]
    pub(crate) fill: RawFill,
    #[serde(default = "default_fee_bps")]
    pub(crate) maker_fee_bps: f64,
    #[serde(default = "default_fee_bps")]
    pub(crate) taker_fee_bps: f64,
    #[serde(default)]
    pub(crate) slippage_bps: f64,
    #[serde(default)]
    pub(crate) latency_events: u32,
    #[serde(default)]
    pub(crate) participation: Option<f64>,
}

/// When a decision made on a bar is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawFill {
    /// At the next bar's open (no look-ahead).
    #[default]
    NextOpen,
    /// At the decision bar's close.
    Close,
}

/// `[risk]`: entry sizing and loss limits.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRisk {
    #[serde(default)]
    pub(crate) margin: Option<f64>,
    #[serde(default)]
    pub(crate) leverage: Option<f64>,
    #[serde(default)]
    pub(crate) max_notional: Option<f64>,
    #[serde(default)]
    pub(crate) equity_fraction: Option<f64>,
    #[serde(default)]
    pub(crate) cash_fraction: Option<f64>,
    #[serde(default)]
    pub(crate) fee_rate: Option<f64>,
    #[serde(default)]
    pub(crate) session_loss_cap: Option<f64>,
    #[serde(default)]
    pub(crate) breaker_losses: Option<u32>,
    #[serde(default)]
    pub(crate) breaker_window: Option<String>,
    #[serde(default)]
    pub(crate) breaker_cooldown: Option<String>,
}

/// `[output]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutput {
    #[serde(default)]
    pub(crate) dir: Option<PathBuf>,
}

/// `[statistics]`: how figures are annualised.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStatistics {
    #[serde(default)]
    pub(crate) periods_per_year: Option<f64>,
}

/// `[sweep]`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSweep {
    #[serde(default = "default_objective")]
    pub(crate) objective: String,
    #[serde(default = "default_top")]
    pub(crate) top: usize,
    #[serde(default)]
    pub(crate) walk_forward: Option<f64>,
    #[serde(default)]
    pub(crate) samples: Option<usize>,
    #[serde(default)]
    pub(crate) seed: u64,
    pub(crate) grid: toml::Table,
}

impl Default for RawAccount {
    fn default() -> Self {
        Self {
            initial_cash: default_cash(),
        }
    }
}

impl Default for RawExecution {
    fn default() -> Self {
        Self {
            fill: RawFill::NextOpen,
            maker_fee_bps: default_fee_bps(),
            taker_fee_bps: default_fee_bps(),
            slippage_bps: 0.0,
            latency_events: 0,
            participation: None,
        }
    }
}

fn default_asset_class() -> rustrade_core::AssetClass {
    rustrade_core::AssetClass::CryptoSpot
}
fn default_tick() -> f64 {
    0.01
}
fn default_lot() -> f64 {
    0.00001
}
fn one() -> f64 {
    1.0
}
fn default_cash() -> f64 {
    10_000.0
}
fn default_fee_bps() -> f64 {
    10.0
}
fn default_objective() -> String {
    "sharpe".to_owned()
}
fn default_top() -> usize {
    10
}

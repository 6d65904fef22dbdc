//! What the chaos bot is: its configuration, its brain and the status it prints, shared by the
//! `chaos-bot` binary (which runs it) and the harness (which rebuilds its engine configuration
//! to read its state file, and parses its status).

use std::time::Duration;

use rustrade::{BotConfig, ConfigError};
use rustrade_core::{
    Brain, BrainError, Decision, InstrumentSpec, MarketData, MarketEvent, Position, Price,
    Quantity, SizeHint, Symbol,
};
use rustrade_engine::EngineConfig;
use rustrade_risk::RiskConfig;

/// The bot's name, which prefixes every client order id it sends.
pub const BOT_NAME: &str = "chaos";

/// The name of its one brain.
pub const BRAIN_NAME: &str = "churn";

/// The symbols it trades.
pub fn symbols() -> Vec<Symbol> {
    ["AAAUSDT", "BBBUSDT"]
        .into_iter()
        .filter_map(|s| Symbol::new(s).ok())
        .collect()
}

/// The bot's configuration: no session cap; a loss breaker that trips every few losses for a
/// few bars, with a window longer than any run (a day of simulated time: a run stays in its
/// first day) so that its count is that of the losing round trips since its last trip; a long
/// journal retention (the harness reads the whole journal), a short grace for unanswered
/// placements (simulated seconds), snapshots every few records so restarts replay a tail.
pub fn bot_config() -> Result<BotConfig, ConfigError> {
    let mut risk = RiskConfig::preset(rustrade_core::AssetClass::CryptoPerp);
    risk.session.loss_cap = None;
    risk.breaker.loss_limit = 8;
    risk.breaker.window = Duration::from_secs(86_400);
    risk.breaker.cooldown = Duration::from_secs(5);
    risk.breaker.extend_on_loss = false;
    BotConfig::builder()
        .name(BOT_NAME)
        .symbols(symbols().iter().map(Symbol::as_str))
        .without_signal_handler()
        .risk(risk)
        .journal_retention(Duration::from_secs(3_650 * 86_400))
        .unknown_order_grace(Duration::from_secs(5))
        .market_silence_timeout(Duration::from_secs(2))
        .reconcile_interval(Duration::from_millis(500))
        .shutdown_timeout(Duration::from_secs(3))
        .snapshot_every(16)
        .build()
}

/// The engine configuration the facade builds for [`bot_config`] against the chaos venue
/// through `adapter` (the capabilities its client supports), so the harness can restore the
/// bot's state file.
pub fn engine_config(
    config: &BotConfig,
    specs: &[InstrumentSpec],
    adapter: crate::adapter::Adapter,
) -> EngineConfig {
    let capabilities = rustrade_core::Capability::ALL
        .into_iter()
        .filter(|c| adapter.supports(*c));
    let mut engine = EngineConfig::new(config.name(), *config.default_risk())
        .with_capabilities(capabilities)
        .with_portfolio(*config.portfolio())
        .with_leg_rejected(config.leg_rejected())
        .with_brain(BRAIN_NAME);
    for spec in specs {
        engine = engine.with_instrument(*spec);
    }
    engine
}

/// A brain that trades often: when flat, a bracketed entry (stop and take-profit 0.4 % away)
/// on about six bars in ten, long or short; when in a position, a close on one bar in ten.
/// Decisions are a pure function of the seed, the symbol and the bar's time, so a restarted
/// bot decides the same on the same bar.
#[derive(Debug, Clone, Copy)]
pub struct ChurnBrain {
    seed: u64,
}

impl ChurnBrain {
    /// A brain whose choices follow `seed`.
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }
}

impl Brain for ChurnBrain {
    fn name(&self) -> &str {
        BRAIN_NAME
    }

    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        let MarketData::Candle(candle) = event.data else {
            return Ok(Decision::hold());
        };
        let close = candle.close().get();
        let mut h = self.seed ^ event.time.as_nanos().unsigned_abs();
        for b in event.symbol.as_str().bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= h >> 29;
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^= h >> 32;
        let roll = h % 10;
        if !position.is_flat() {
            return Ok(if roll == 0 {
                Decision::close()
            } else {
                Decision::hold()
            });
        }
        let size = SizeHint::Quantity(Quantity::new(1.0)?);
        let near = |f: f64| Price::new(close * f);
        Ok(match roll {
            0..=2 => Decision::buy(1.0)
                .with_size_hint(size)
                .with_stop(near(0.996)?)
                .with_take_profit(near(1.004)?),
            3..=5 => Decision::sell(1.0)
                .with_size_hint(size)
                .with_stop(near(1.004)?)
                .with_take_profit(near(0.996)?),
            _ => Decision::hold(),
        })
    }
}

/// What the bot prints when asked for its status (one JSON line on stdout).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BotStatus {
    /// One entry per traded symbol.
    pub symbols: Vec<SymbolStatus>,
}

/// The bot's view of one symbol.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SymbolStatus {
    /// The symbol.
    pub symbol: Symbol,
    /// Net position quantity.
    pub quantity: f64,
    /// Realised PnL so far, net of fees.
    pub realised_pnl: f64,
    /// The session's realised PnL, net of fees.
    pub session_net: f64,
    /// The session's winning round trips.
    #[serde(default)]
    pub session_wins: u32,
    /// The session's losing round trips.
    #[serde(default)]
    pub session_losses: u32,
    /// Fees of the session's round trips (both legs).
    #[serde(default)]
    pub session_fees: f64,
    /// Losses the loss breaker counts (those since its last trip within its window).
    #[serde(default)]
    pub breaker_losses: usize,
    /// Whether the loss breaker blocks entries now.
    #[serde(default)]
    pub breaker_tripped: bool,
    /// Whether entries are blocked now by the session or the breaker.
    #[serde(default)]
    pub entries_halted: bool,
    /// The bot holds an exit or protective order on the symbol whose placement the venue has
    /// not confirmed yet (it is being looked up), or a refused protective exit it is sending
    /// again with backoff.
    pub awaiting_answer: bool,
}

impl SymbolStatus {
    /// Whether `order`, one of the bot's live orders on this symbol, is an exit or leg
    /// waiting for the venue's answer.
    pub fn is_awaited(order: &rustrade_engine::TrackedOrder) -> bool {
        order.role != rustrade_engine::OrderRole::Entry
            && (order.outcome_unknown
                || (order.status == rustrade_core::OrderStatus::Pending
                    && order.venue_id.is_none()))
    }
}

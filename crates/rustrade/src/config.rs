//! [`BotConfig`] and its builder: everything a [`Bot`](crate::Bot) is built from, validated once.
//!
//! # Invariants of a built `BotConfig`
//!
//! - `name` is non-blank and usable as the client-order-id prefix (at most 14 bytes of letters,
//!   digits or `-_.:/`), so every order id the bot makes is valid at the venue.
//! - At least one symbol, no duplicates; every per-symbol risk override names one of them.
//! - Timeouts, intervals and bus capacities are `> 0`; every risk limit passed the risk crate's
//!   validation (finite, right sign).
//!
//! ```
//! use std::time::Duration;
//! use rustrade::BotConfig;
//!
//! let config = BotConfig::builder()
//!     .name("demo")
//!     .symbols(["BTCUSDT", "ETHUSDT"])
//!     .shutdown_timeout(Duration::from_secs(5))
//!     .order_ttl(Duration::from_secs(30))
//!     .without_signal_handler()
//!     .build()?;
//! assert_eq!(config.symbols().len(), 2);
//!
//! let err = BotConfig::builder().name("demo").symbol("BTC USDT").build().unwrap_err();
//! assert!(err.to_string().contains("BTC USDT"), "{err}");
//! # Ok::<(), rustrade::ConfigError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rustrade_core::{Asset, AssetClass, Symbol};
use rustrade_engine::{DriftPolicy, LegRejectedPolicy};
use rustrade_risk::{AccountBasis, PortfolioConfig, RiskConfig, RiskError, RiskSettings};

/// Longest bot name: it prefixes every client order id, which venues cap at 36 bytes.
pub const MAX_NAME_LEN: usize = 14;

/// A configuration value refused by [`BotConfigBuilder::build`]. Names the field and the value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A field broke its rule.
    #[error("{field}: {reason} (got {value})")]
    Invalid {
        /// The field, such as `shutdown_timeout` or `symbols`.
        field: &'static str,
        /// The offending value as text.
        value: String,
        /// The rule it broke.
        reason: String,
    },
    /// A risk configuration was refused by the risk crate.
    #[error("{scope}: {source}")]
    Risk {
        /// Which risk configuration: `risk`, `risk[crypto_perp]`, `risk[BTCUSDT]`, `portfolio`.
        scope: String,
        /// What the risk crate said (names the field and value).
        #[source]
        source: RiskError,
    },
}

/// How long a market source may stay silent by default before it counts as disconnected.
pub const DEFAULT_MARKET_SILENCE: Duration = Duration::from_secs(300);

/// Journal records written between two engine snapshots by default.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 32;

fn invalid(field: &'static str, value: impl ToString, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// The validated configuration of a bot. Build it with [`BotConfig::builder`].
#[derive(Debug, Clone, PartialEq)]
pub struct BotConfig {
    name: String,
    symbols: Vec<Symbol>,
    shutdown_timeout: Duration,
    signal_handler: bool,
    market_bus_capacity: usize,
    signal_bus_capacity: usize,
    close_positions_on_shutdown: bool,
    risk: RiskConfig,
    asset_class_risk: BTreeMap<AssetClass, RiskConfig>,
    symbol_risk: BTreeMap<Symbol, RiskConfig>,
    portfolio: PortfolioConfig,
    leg_rejected: LegRejectedPolicy,
    order_ttl: Option<Duration>,
    timer_interval: Duration,
    reconcile_interval: Duration,
    journal_retention: Duration,
    snapshot_every: u64,
    unknown_order_grace: Duration,
    market_silence_timeout: Option<Duration>,
    drift_policy: DriftPolicy,
    max_event_age: Option<Duration>,
    periodic_reconciliation: bool,
    cash_asset: Option<Asset>,
}

impl BotConfig {
    /// A builder with the defaults: 10 s shutdown timeout, signal handler on, buses of 1 024
    /// (market) and 256 (signals), no closing on shutdown, the default risk preset, no portfolio
    /// limits, close-the-entry when a bracket leg is rejected, no order TTL, a 1 s risk sweep, a
    /// 30 s order reconciliation and 7 days of journal.
    pub fn builder() -> BotConfigBuilder {
        BotConfigBuilder::default()
    }

    /// The bot's name: used in logs, metrics and as the prefix of every client order id.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The symbols traded, in configuration order.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }
    /// How long services are given to stop on shutdown before they are aborted.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }
    /// Whether SIGINT/SIGTERM trigger shutdown.
    pub fn signal_handler(&self) -> bool {
        self.signal_handler
    }
    /// Capacity of the market data bus (events a slow brain may fall behind before it lags).
    pub fn market_bus_capacity(&self) -> usize {
        self.market_bus_capacity
    }
    /// Capacity of the signal bus.
    pub fn signal_bus_capacity(&self) -> usize {
        self.signal_bus_capacity
    }
    /// Whether open positions are closed at the venue after the services drained on shutdown.
    pub fn close_positions_on_shutdown(&self) -> bool {
        self.close_positions_on_shutdown
    }
    /// Account-wide limits.
    pub fn portfolio(&self) -> &PortfolioConfig {
        &self.portfolio
    }
    /// What happens when the venue rejects a protective bracket leg.
    pub fn leg_rejected(&self) -> LegRejectedPolicy {
        self.leg_rejected
    }
    /// Resting entry orders older than this are cancelled.
    pub fn order_ttl(&self) -> Option<Duration> {
        self.order_ttl
    }
    /// How often the risk sweep and order reaper run the engine's timer.
    pub fn timer_interval(&self) -> Duration {
        self.timer_interval
    }

    /// How long a market source may stay silent before it is treated as disconnected.
    pub fn market_silence_timeout(&self) -> Option<Duration> {
        self.market_silence_timeout
    }
    /// How often fills, open orders and positions are reconciled with the venue while running.
    pub fn reconcile_interval(&self) -> Duration {
        self.reconcile_interval
    }

    /// Whether fills, open orders and positions are reconciled every
    /// [`reconcile_interval`](Self::reconcile_interval) while running (not only at start-up).
    pub fn periodic_reconciliation(&self) -> bool {
        self.periodic_reconciliation
    }

    /// What the engine does when the venue's position differs from the bot's.
    pub fn drift_policy(&self) -> DriftPolicy {
        self.drift_policy
    }

    /// Entries decided on a market event older than this are refused (`stale_event`).
    pub fn max_event_age(&self) -> Option<Duration> {
        self.max_event_age
    }

    /// Journal records older than this are deleted from the state store at start-up, once a
    /// snapshot older than the newest covers them (a restart resumes from a snapshot and the
    /// records after it).
    pub fn journal_retention(&self) -> Duration {
        self.journal_retention
    }

    /// How many journal records may accumulate before the engine snapshot is written again.
    pub fn snapshot_every(&self) -> u64 {
        self.snapshot_every
    }

    /// How long after sending an order a venue's "never received" is believed (before that the
    /// request may still arrive, so the order stays unknown and reserved).
    pub fn unknown_order_grace(&self) -> Duration {
        self.unknown_order_grace
    }

    /// The risk configuration of `symbol`: its own override, else its asset class's, else the
    /// default.
    pub fn risk_for(&self, symbol: &Symbol, class: AssetClass) -> &RiskConfig {
        self.symbol_risk
            .get(symbol)
            .or_else(|| self.asset_class_risk.get(&class))
            .unwrap_or(&self.risk)
    }

    /// The default risk configuration.
    pub fn default_risk(&self) -> &RiskConfig {
        &self.risk
    }

    /// The asset whose venue balance is the account's cash (see
    /// [`BotConfigBuilder::cash_asset`]); `None` when the engine is never told its cash.
    pub fn cash_asset(&self) -> Option<Asset> {
        self.cash_asset
    }
}

/// Builder of [`BotConfig`]; nothing is checked until [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct BotConfigBuilder {
    name: String,
    symbols: Vec<String>,
    shutdown_timeout: Duration,
    signal_handler: bool,
    market_bus_capacity: usize,
    signal_bus_capacity: usize,
    close_positions_on_shutdown: bool,
    risk: RiskConfig,
    risk_settings: Option<(AssetClass, AccountBasis, RiskSettings)>,
    asset_class_risk: BTreeMap<AssetClass, RiskConfig>,
    symbol_risk: Vec<(String, RiskConfig)>,
    portfolio: PortfolioConfig,
    leg_rejected: LegRejectedPolicy,
    order_ttl: Option<Duration>,
    timer_interval: Duration,
    reconcile_interval: Duration,
    journal_retention: Duration,
    snapshot_every: u64,
    unknown_order_grace: Duration,
    market_silence_timeout: Option<Duration>,
    drift_policy: DriftPolicy,
    max_event_age: Option<Duration>,
    periodic_reconciliation: bool,
    cash_asset: Option<Asset>,
}

impl Default for BotConfigBuilder {
    fn default() -> Self {
        Self {
            name: String::new(),
            symbols: Vec::new(),
            shutdown_timeout: Duration::from_secs(10),
            signal_handler: true,
            market_bus_capacity: 1024,
            signal_bus_capacity: 256,
            close_positions_on_shutdown: false,
            risk: RiskConfig::default(),
            risk_settings: None,
            asset_class_risk: BTreeMap::new(),
            symbol_risk: Vec::new(),
            portfolio: PortfolioConfig::default(),
            leg_rejected: LegRejectedPolicy::default(),
            order_ttl: None,
            timer_interval: Duration::from_secs(1),
            reconcile_interval: Duration::from_secs(30),
            journal_retention: Duration::from_secs(7 * 24 * 3600),
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
            unknown_order_grace: Duration::from_secs(60),
            market_silence_timeout: Some(DEFAULT_MARKET_SILENCE),
            drift_policy: DriftPolicy::default(),
            max_event_age: None,
            periodic_reconciliation: true,
            cash_asset: None,
        }
    }
}

impl BotConfigBuilder {
    /// The bot's name (required).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    /// Adds one symbol to trade.
    pub fn symbol(mut self, symbol: impl Into<String>) -> Self {
        self.symbols.push(symbol.into());
        self
    }
    /// Adds several symbols to trade.
    pub fn symbols<I, S>(mut self, symbols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.symbols.extend(symbols.into_iter().map(Into::into));
        self
    }
    /// Bound on the graceful drain at shutdown.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }
    /// Do not install SIGINT/SIGTERM handlers (the host owns signals).
    pub fn without_signal_handler(mut self) -> Self {
        self.signal_handler = false;
        self
    }
    /// Capacity of the market data bus.
    pub fn market_bus_capacity(mut self, capacity: usize) -> Self {
        self.market_bus_capacity = capacity;
        self
    }
    /// Capacity of the signal bus.
    pub fn signal_bus_capacity(mut self, capacity: usize) -> Self {
        self.signal_bus_capacity = capacity;
        self
    }
    /// Close open positions at the venue after the services drained on shutdown.
    pub fn close_positions_on_shutdown(mut self, close: bool) -> Self {
        self.close_positions_on_shutdown = close;
        self
    }
    /// The default per-symbol risk configuration (replaces earlier
    /// [`risk_settings`](Self::risk_settings)).
    pub fn risk(mut self, risk: RiskConfig) -> Self {
        self.risk = risk;
        self.risk_settings = None;
        self
    }

    /// The default per-symbol risk configuration from user settings, built at
    /// [`build`](Self::build) by [`RiskConfig::from_settings`] — the constructor the command
    /// line's `[risk]` table goes through too, so a bot configured in code and a backtest of
    /// the same settings get the same limits. Replaces an earlier [`risk`](Self::risk).
    pub fn risk_settings(
        mut self,
        class: AssetClass,
        account: AccountBasis,
        settings: RiskSettings,
    ) -> Self {
        self.risk_settings = Some((class, account, settings));
        self
    }
    /// The risk configuration of every symbol of an asset class without its own override.
    pub fn asset_class_risk(mut self, class: AssetClass, risk: RiskConfig) -> Self {
        self.asset_class_risk.insert(class, risk);
        self
    }
    /// The risk configuration of one symbol (must be one of the traded symbols).
    pub fn symbol_risk(mut self, symbol: impl Into<String>, risk: RiskConfig) -> Self {
        self.symbol_risk.push((symbol.into(), risk));
        self
    }
    /// Account-wide limits.
    pub fn portfolio(mut self, portfolio: PortfolioConfig) -> Self {
        self.portfolio = portfolio;
        self
    }
    /// What to do when a protective bracket leg is rejected.
    pub fn bracket_failure_policy(mut self, policy: LegRejectedPolicy) -> Self {
        self.leg_rejected = policy;
        self
    }
    /// Cancel resting entry orders older than `ttl`.
    pub fn order_ttl(mut self, ttl: Duration) -> Self {
        self.order_ttl = Some(ttl);
        self
    }
    /// How often the risk sweep and order reaper run.
    pub fn timer_interval(mut self, interval: Duration) -> Self {
        self.timer_interval = interval;
        self
    }
    /// How often orders and positions are reconciled when order tracking is on.
    pub fn reconcile_interval(mut self, interval: Duration) -> Self {
        self.reconcile_interval = interval;
        self
    }

    /// Treats a market source that delivers nothing for `timeout` as disconnected: its service
    /// fails with "silent", is restarted with backoff and reconnects, and health shows it.
    ///
    /// Off by default, because a quiet market or a slow bar interval is not a fault; set it above
    /// the longest gap the source can legitimately have (a few bar intervals for bar streams).
    pub fn market_silence_timeout(mut self, timeout: Duration) -> Self {
        self.market_silence_timeout = Some(timeout);
        self
    }

    /// Turns the silence timeout of market sources off (a feed that may legitimately stay
    /// quiet for long, e.g. a daily candle poller publishing through the bus).
    pub fn without_market_silence_timeout(mut self) -> Self {
        self.market_silence_timeout = None;
        self
    }

    /// What the engine does when the venue's position differs from the bot's after catch-up
    /// (default [`DriftPolicy::HaltEntries`]: entries wait for
    /// [`BotHandle::acknowledge_drift`](crate::BotHandle::acknowledge_drift)).
    pub fn drift_policy(mut self, policy: DriftPolicy) -> Self {
        self.drift_policy = policy;
        self
    }

    /// Refuses entries decided on a market event older than `age` (a back-log delivered after
    /// a feed reconnect). Off by default.
    pub fn max_event_age(mut self, age: Duration) -> Self {
        self.max_event_age = Some(age);
        self
    }

    /// Turns periodic reconciliation on (the default) or off; start-up reconciliation always
    /// runs.
    pub fn periodic_reconciliation(mut self, on: bool) -> Self {
        self.periodic_reconciliation = on;
        self
    }

    /// How long journal records are kept in the state store.
    pub fn journal_retention(mut self, retention: Duration) -> Self {
        self.journal_retention = retention;
        self
    }

    /// Writes the engine snapshot once `records` journal records were written since the last
    /// one (default [`DEFAULT_SNAPSHOT_EVERY`]; 1 snapshots every step that journals). The
    /// journal is written every step either way; a restart replays the records after the
    /// snapshot, so a larger value trades restart time for cheaper steps.
    pub fn snapshot_every(mut self, records: u64) -> Self {
        self.snapshot_every = records;
        self
    }

    /// How long after sending an order the venue's "never received" is believed (default 60 s,
    /// beyond Binance's longest `recvWindow`); until then a lookup that finds nothing leaves the
    /// order unknown and reserved.
    pub fn unknown_order_grace(mut self, grace: Duration) -> Self {
        self.unknown_order_grace = grace;
        self
    }

    /// Reads the account's cash from the venue's balance of `asset` (free plus locked: the
    /// quote asset of a spot account, the margin asset of a futures one) and gives it to the
    /// engine, which sizes `equity_fraction` and `cash_fraction` entries from it and shows it
    /// to brains as [`BrainContext`](rustrade_core::BrainContext) cash and equity. It is read
    /// at start-up, after the fills are caught up, and at each periodic reconciliation where
    /// the bot has no order working (a fill in flight would otherwise count twice); between
    /// reads the engine moves it with every fill. Unset by default: entries sized from the
    /// account are then refused (`funds_unknown`).
    pub fn cash_asset(mut self, asset: Asset) -> Self {
        self.cash_asset = Some(asset);
        self
    }

    /// Validates everything; the first problem found is returned, naming the field and value.
    pub fn build(self) -> Result<BotConfig, ConfigError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(invalid(
                "name",
                format!("{:?}", self.name),
                "must not be blank",
            ));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(invalid(
                "name",
                name,
                format!("must be at most {MAX_NAME_LEN} bytes (it prefixes client order ids)"),
            ));
        }
        if rustrade_core::ClientOrderId::compose(name, 0, 0).is_err() {
            return Err(invalid(
                "name",
                name,
                "may hold only letters, digits and -_.:/",
            ));
        }
        if self.symbols.is_empty() {
            return Err(invalid("symbols", "[]", "at least one symbol is required"));
        }
        let mut symbols = Vec::with_capacity(self.symbols.len());
        let mut seen = BTreeSet::new();
        for text in &self.symbols {
            let symbol = Symbol::new(text).map_err(|e| invalid("symbols", text, e.to_string()))?;
            if !seen.insert(symbol) {
                return Err(invalid("symbols", text, "listed twice"));
            }
            symbols.push(symbol);
        }
        for (field, d) in [
            ("shutdown_timeout", self.shutdown_timeout),
            ("timer_interval", self.timer_interval),
            ("reconcile_interval", self.reconcile_interval),
            ("journal_retention", self.journal_retention),
            ("unknown_order_grace", self.unknown_order_grace),
        ] {
            if d.is_zero() {
                return Err(invalid(field, "0s", "must be > 0"));
            }
        }
        if let Some(ttl) = self.order_ttl
            && ttl.is_zero()
        {
            return Err(invalid("order_ttl", "0s", "must be > 0"));
        }
        if let Some(age) = self.max_event_age
            && age.is_zero()
        {
            return Err(invalid("max_event_age", "0s", "must be > 0"));
        }
        if self.snapshot_every == 0 {
            return Err(invalid("snapshot_every", 0, "must be > 0"));
        }
        if let Some(silence) = self.market_silence_timeout
            && silence.is_zero()
        {
            return Err(invalid("market_silence_timeout", "0s", "must be > 0"));
        }
        for (field, c) in [
            ("market_bus_capacity", self.market_bus_capacity),
            ("signal_bus_capacity", self.signal_bus_capacity),
        ] {
            if c == 0 {
                return Err(invalid(field, 0, "must be > 0"));
            }
        }
        let risk_err = |scope: String| move |source| ConfigError::Risk { scope, source };
        let risk = match &self.risk_settings {
            Some((class, account, settings)) => {
                RiskConfig::from_settings(*class, *account, settings)
                    .map_err(risk_err("risk".into()))?
            }
            None => self.risk,
        };
        risk.validate().map_err(risk_err("risk".into()))?;
        for (class, risk) in &self.asset_class_risk {
            risk.validate()
                .map_err(risk_err(format!("risk[{class:?}]")))?;
        }
        let mut symbol_risk = BTreeMap::new();
        for (text, risk) in self.symbol_risk {
            let symbol = Symbol::new(&text)
                .ok()
                .filter(|s| seen.contains(s))
                .ok_or_else(|| {
                    invalid("symbol_risk", &text, "not one of the configured symbols")
                })?;
            risk.validate()
                .map_err(risk_err(format!("risk[{symbol}]")))?;
            symbol_risk.insert(symbol, risk);
        }
        self.portfolio
            .validate()
            .map_err(risk_err("portfolio".into()))?;
        Ok(BotConfig {
            name: name.to_owned(),
            symbols,
            shutdown_timeout: self.shutdown_timeout,
            signal_handler: self.signal_handler,
            market_bus_capacity: self.market_bus_capacity,
            signal_bus_capacity: self.signal_bus_capacity,
            close_positions_on_shutdown: self.close_positions_on_shutdown,
            risk,
            asset_class_risk: self.asset_class_risk,
            symbol_risk,
            portfolio: self.portfolio,
            leg_rejected: self.leg_rejected,
            order_ttl: self.order_ttl,
            timer_interval: self.timer_interval,
            reconcile_interval: self.reconcile_interval,
            journal_retention: self.journal_retention,
            snapshot_every: self.snapshot_every,
            unknown_order_grace: self.unknown_order_grace,
            market_silence_timeout: self.market_silence_timeout,
            drift_policy: self.drift_policy,
            max_event_age: self.max_event_age,
            periodic_reconciliation: self.periodic_reconciliation,
            cash_asset: self.cash_asset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BotConfigBuilder {
        BotConfig::builder().name("bot").symbol("BTCUSDT")
    }

    fn field_of(e: ConfigError) -> (String, String) {
        match e {
            ConfigError::Invalid { field, value, .. } => (field.to_owned(), value),
            ConfigError::Risk { scope, source } => (scope, source.to_string()),
        }
    }

    #[test]
    fn defaults_and_accessors() {
        let c = base()
            .symbols(["ETHUSDT"])
            .close_positions_on_shutdown(true)
            .without_signal_handler()
            .bracket_failure_policy(LegRejectedPolicy::Keep)
            .build()
            .unwrap();
        assert_eq!(c.name(), "bot");
        assert_eq!(
            c.symbols(),
            &[
                Symbol::new("BTCUSDT").unwrap(),
                Symbol::new("ETHUSDT").unwrap()
            ]
        );
        assert_eq!(c.shutdown_timeout(), Duration::from_secs(10));
        assert!(!c.signal_handler() && c.close_positions_on_shutdown());
        assert_eq!(
            (c.market_bus_capacity(), c.signal_bus_capacity()),
            (1024, 256)
        );
        assert_eq!(c.leg_rejected(), LegRejectedPolicy::Keep);
        assert_eq!(c.order_ttl(), None);
    }

    #[test]
    fn every_bad_value_names_its_field_and_value() {
        let cases: Vec<(BotConfigBuilder, &str, &str)> = vec![
            (BotConfig::builder().symbol("X"), "name", "\"\""),
            (
                BotConfig::builder().name("   ").symbol("X"),
                "name",
                "\"   \"",
            ),
            (
                BotConfig::builder()
                    .name("a-very-long-bot-name")
                    .symbol("X"),
                "name",
                "a-very-long-bot-name",
            ),
            (BotConfig::builder().name("b@d").symbol("X"), "name", "b@d"),
            (BotConfig::builder().name("bot"), "symbols", "[]"),
            (base().symbol("BTCUSDT"), "symbols", "BTCUSDT"),
            (base().symbol("BTC USDT"), "symbols", "BTC USDT"),
            (
                base().shutdown_timeout(Duration::ZERO),
                "shutdown_timeout",
                "0s",
            ),
            (
                base().market_silence_timeout(Duration::ZERO),
                "market_silence_timeout",
                "0s",
            ),
            (
                base().timer_interval(Duration::ZERO),
                "timer_interval",
                "0s",
            ),
            (base().order_ttl(Duration::ZERO), "order_ttl", "0s"),
            (base().market_bus_capacity(0), "market_bus_capacity", "0"),
            (base().signal_bus_capacity(0), "signal_bus_capacity", "0"),
            (
                base().symbol_risk("ETHUSDT", RiskConfig::default()),
                "symbol_risk",
                "ETHUSDT",
            ),
        ];
        for (builder, field, value) in cases {
            let (f, v) = field_of(builder.build().unwrap_err());
            assert_eq!((f.as_str(), v.as_str()), (field, value));
        }
    }

    #[test]
    fn risk_limits_are_validated_with_their_scope() {
        let mut bad = RiskConfig::default();
        bad.sizing.leverage = f64::NAN;
        let e = base().risk(bad).build().unwrap_err();
        assert!(e.to_string().starts_with("risk: sizing.leverage"), "{e}");
        let e = base()
            .asset_class_risk(AssetClass::Fx, bad)
            .build()
            .unwrap_err();
        assert!(e.to_string().starts_with("risk[Fx]"), "{e}");
        let e = base().symbol_risk("BTCUSDT", bad).build().unwrap_err();
        assert!(e.to_string().starts_with("risk[BTCUSDT]"), "{e}");
        let portfolio = PortfolioConfig {
            daily_loss_limit: Some(50.0),
            ..PortfolioConfig::default()
        };
        let e = base().portfolio(portfolio).build().unwrap_err();
        assert!(e.to_string().contains("portfolio.daily_loss_limit"), "{e}");
        assert!(e.to_string().contains("50"), "{e}");
    }

    #[test]
    fn risk_settings_go_through_the_risk_crates_constructor() {
        let account = AccountBasis {
            cash: 2_000.0,
            taker_fee_rate: 0.001,
        };
        let settings = RiskSettings {
            leverage: Some(2.0),
            ..RiskSettings::default()
        };
        let c = base()
            .risk_settings(AssetClass::CryptoPerp, account, settings)
            .build()
            .unwrap();
        let expected =
            RiskConfig::from_settings(AssetClass::CryptoPerp, account, &settings).unwrap();
        assert_eq!(c.default_risk(), &expected);
        assert_eq!(c.default_risk().sizing.margin, 1_900.0);
        let bad = RiskSettings {
            cash_fraction: Some(2.0),
            ..RiskSettings::default()
        };
        let e = base()
            .risk_settings(AssetClass::CryptoSpot, account, bad)
            .build()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "risk: cash_fraction: must be in (0, 1] (got 2)"
        );
        let c = base()
            .risk_settings(AssetClass::CryptoPerp, account, settings)
            .risk(RiskConfig::default())
            .build()
            .unwrap();
        assert_eq!(
            c.default_risk(),
            &RiskConfig::default(),
            "the later call wins"
        );
    }

    #[test]
    fn risk_resolution_prefers_symbol_then_class_then_default() {
        let mut perp = RiskConfig::preset(AssetClass::CryptoPerp);
        perp.sizing.margin = 7.0;
        let mut own = perp;
        own.sizing.margin = 9.0;
        let c = base()
            .symbol("ETHUSDT")
            .asset_class_risk(AssetClass::CryptoPerp, perp)
            .symbol_risk("BTCUSDT", own)
            .build()
            .unwrap();
        let btc = Symbol::new("BTCUSDT").unwrap();
        let eth = Symbol::new("ETHUSDT").unwrap();
        assert_eq!(c.risk_for(&btc, AssetClass::CryptoPerp).sizing.margin, 9.0);
        assert_eq!(c.risk_for(&eth, AssetClass::CryptoPerp).sizing.margin, 7.0);
        assert_eq!(c.risk_for(&eth, AssetClass::Equity), c.default_risk());
    }
}

//! [`PortfolioRisk`]: account-wide limits — daily loss latch, concurrent positions, exposure —
//! with check-and-reserve for entries in flight.
//!
//! The rules it keeps are listed on the type, under "Invariants".

use rustrade_core::{Price, QTY_EPSILON, Quantity, Side, Symbol, Timestamp};

use crate::error::{finite, optional_negative, optional_positive};
use crate::{RiskError, SessionBoundary};

/// Version written into [`PortfolioSnapshot::version`] by this crate.
pub const PORTFOLIO_SNAPSHOT_VERSION: u32 = 1;

/// Account-wide limits. Every limit is optional; `None` disables it.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioConfig {
    /// Most positions open (or reserved) at once, `>= 1` when set.
    #[serde(default)]
    pub max_positions: Option<u32>,
    /// Largest gross exposure at mark (sum of absolute notionals), `> 0` when set.
    #[serde(default)]
    pub max_gross_exposure: Option<f64>,
    /// Largest absolute net exposure at mark (longs minus shorts), `> 0` when set.
    #[serde(default)]
    pub max_net_exposure: Option<f64>,
    /// Realised net loss of the day that latches new entries off, a negative number.
    #[serde(default)]
    pub daily_loss_limit: Option<f64>,
    /// When the day rolls over and the latch lifts (default 00:00 UTC).
    #[serde(default)]
    pub boundary: SessionBoundary,
}

impl PortfolioConfig {
    /// Checks every field; the error names the field and the value.
    pub fn validate(&self) -> Result<(), RiskError> {
        if self.max_positions == Some(0) {
            return Err(crate::error::invalid(
                "portfolio.max_positions",
                0,
                "must be >= 1",
            ));
        }
        optional_positive("portfolio.max_gross_exposure", self.max_gross_exposure)?;
        optional_positive("portfolio.max_net_exposure", self.max_net_exposure)?;
        optional_negative("portfolio.daily_loss_limit", self.daily_loss_limit)?;
        self.boundary.validate("portfolio.boundary")
    }
}

/// One open position as the portfolio check sees it: signed size valued at its mark price.
/// Callers pass one entry per symbol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenExposure {
    /// Instrument.
    pub symbol: Symbol,
    /// Signed size (`> 0` long).
    pub quantity: f64,
    /// Current mark price.
    pub mark: Price,
    /// The instrument's contract value.
    pub contract_value: f64,
}

impl OpenExposure {
    /// Signed notional at mark: `quantity × mark × contract_value`.
    pub fn notional(&self) -> f64 {
        self.quantity * self.mark.get() * self.contract_value
    }

    fn is_open(&self) -> bool {
        // A NaN quantity counts as open: it fails closed.
        self.quantity.is_nan() || self.quantity.abs() >= QTY_EPSILON
    }
}

/// An entry about to be sent, as the portfolio check sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryRequest {
    /// Instrument.
    pub symbol: Symbol,
    /// Direction of the entry.
    pub side: Side,
    /// Quantity of the entry.
    pub quantity: Quantity,
    /// Price it is valued at (the mark or reference price).
    pub price: Price,
    /// The instrument's contract value.
    pub contract_value: f64,
}

impl EntryRequest {
    /// Signed notional of the entry (`> 0` for a buy).
    pub fn notional(&self) -> f64 {
        self.side.sign() * self.quantity.get() * self.price.get().abs() * self.contract_value
    }
}

/// Identifies an entry's hold on the portfolio limits until it is released or confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ReservationId(u64);

impl ReservationId {
    /// The number, for logs and journals.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for ReservationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// An entry in flight that counts against the portfolio limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reservation {
    /// Its id.
    pub id: ReservationId,
    /// Instrument.
    pub symbol: Symbol,
    /// Signed notional held.
    pub notional: f64,
    /// When it was made.
    pub created_at: Timestamp,
}

/// Why the portfolio refused an entry.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PortfolioRefusal {
    /// The daily loss latch is set.
    #[error("daily loss latch set: realised {pnl} reached limit {limit}")]
    DailyLoss {
        /// Realised net PnL of the day.
        pnl: f64,
        /// The configured limit.
        limit: f64,
    },
    /// Another position would exceed the maximum number of positions.
    #[error("{open} positions open or reserved; at most {max}")]
    MaxPositions {
        /// Positions open or reserved.
        open: u32,
        /// The configured maximum.
        max: u32,
    },
    /// The entry would take gross exposure above its cap.
    #[error("gross exposure would be {exposure}, above {max}")]
    GrossExposure {
        /// Gross exposure with the entry.
        exposure: f64,
        /// The configured cap.
        max: f64,
    },
    /// The entry would take absolute net exposure above its cap.
    #[error("net exposure would be {exposure}, beyond ±{max}")]
    NetExposure {
        /// Net exposure with the entry.
        exposure: f64,
        /// The configured cap.
        max: f64,
    },
    /// An open position or the entry had a non-finite size or notional.
    #[error("exposure of {symbol} is not finite")]
    ExposureUnknown {
        /// The symbol whose exposure could not be valued.
        symbol: Symbol,
    },
}

impl PortfolioRefusal {
    /// A stable snake_case label for metrics.
    pub const fn as_label(&self) -> &'static str {
        match self {
            Self::DailyLoss { .. } => "daily_loss",
            Self::MaxPositions { .. } => "max_positions",
            Self::GrossExposure { .. } => "gross_exposure",
            Self::NetExposure { .. } => "net_exposure",
            Self::ExposureUnknown { .. } => "exposure_unknown",
        }
    }
}

/// Account-wide risk: the daily loss latch, position count and exposure caps, and reservations
/// for entries in flight.
///
/// # Invariants
///
/// - The daily latch trips when the sum of realised net PnL recorded this session reaches
///   `daily_loss_limit`, and stays latched until the next [`SessionBoundary`], even if later
///   profits bring the sum back above the limit.
/// - Exposure is valued at **mark** price: `|quantity| × mark × contract_value` per open position,
///   plus the notional of every reservation not yet released or confirmed.
/// - An approved entry holds a reservation until the caller [`release`](PortfolioRisk::release)s
///   it (the order was rejected, cancelled unfilled, or never sent) or
///   [`confirm`](PortfolioRisk::confirm)s it (its fill now shows in the open positions passed to
///   the next check). A reservation therefore counts against the limits exactly once.
/// - A position counts towards `max_positions` when it is not flat within
///   [`QTY_EPSILON`](rustrade_core::QTY_EPSILON); a symbol with only a reservation counts too; an
///   entry on a symbol already open or reserved does not add a position.
/// - An exposure that is not finite (a NaN quantity, an overflow) refuses the entry: an unknown
///   exposure is never assumed to be within limits.
///
/// ```
/// use rustrade_core::{Price, Quantity, Side, Symbol, Timestamp};
/// use rustrade_risk::{EntryRequest, PortfolioConfig, PortfolioRisk};
///
/// let now = Timestamp::from_secs(1_700_000_000)?;
/// let config = PortfolioConfig { max_positions: Some(1), ..Default::default() };
/// let mut portfolio = PortfolioRisk::new(config, now)?;
/// let entry = |s: &str| EntryRequest {
///     symbol: Symbol::new(s).unwrap(), side: Side::Buy, quantity: Quantity::new(1.0).unwrap(),
///     price: Price::new(100.0).unwrap(), contract_value: 1.0,
/// };
/// let held = portfolio.reserve(&entry("BTCUSDT"), &[], now)?;
/// assert!(portfolio.reserve(&entry("ETHUSDT"), &[], now).is_err());
/// portfolio.release(held);
/// assert!(portfolio.reserve(&entry("ETHUSDT"), &[], now).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioRisk {
    config: PortfolioConfig,
    session_start: Timestamp,
    session_end: Timestamp,
    daily_pnl: f64,
    latched: bool,
    /// Sorted by id, ids unique. Ids are issued in increasing order, so a new reservation goes
    /// at the end; a `Vec` holds the few entries in flight without allocating per reservation.
    reservations: Vec<Reservation>,
    next_id: u64,
}

impl PortfolioRisk {
    /// No realised PnL, no latch, no reservations; refuses an invalid `config`.
    pub fn new(config: PortfolioConfig, now: Timestamp) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self::fresh(config, now))
    }

    fn fresh(config: PortfolioConfig, now: Timestamp) -> Self {
        Self {
            session_start: config.boundary.session_start(now),
            session_end: config.boundary.next_boundary(now),
            config,
            daily_pnl: 0.0,
            latched: false,
            reservations: Vec::new(),
            next_id: 1,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &PortfolioConfig {
        &self.config
    }

    /// Advances time: at or past the next boundary, zeroes the day's PnL and lifts the latch.
    /// Reservations are kept: entries in flight do not vanish at midnight.
    pub fn tick(&mut self, now: Timestamp) {
        if now >= self.session_end {
            self.session_start = self.config.boundary.session_start(now);
            self.session_end = self.config.boundary.next_boundary(now);
            self.daily_pnl = 0.0;
            self.latched = false;
        }
    }

    /// Adds a realised net PnL (after fees) to the day; may set the latch. A non-finite value,
    /// or one that would make the day's sum non-finite, is refused and changes nothing.
    pub fn record_realised(&mut self, net_pnl: f64, now: Timestamp) -> Result<(), RiskError> {
        finite("net_pnl", net_pnl)?;
        let base = if now >= self.session_end {
            0.0
        } else {
            self.daily_pnl
        };
        let sum = finite("portfolio.daily_pnl", base + net_pnl)?;
        self.tick(now);
        self.daily_pnl = sum;
        if self
            .config
            .daily_loss_limit
            .is_some_and(|limit| sum <= limit)
        {
            if !self.latched {
                tracing::warn!(
                    daily_pnl = sum,
                    limit = ?self.config.daily_loss_limit,
                    "daily loss limit reached; new entries latched off until the session boundary"
                );
            }
            self.latched = true;
        }
        Ok(())
    }

    /// Realised net PnL of the day so far.
    pub fn daily_pnl(&self) -> f64 {
        self.daily_pnl
    }

    /// Whether the daily latch blocks entries at `now` (a latch from an ended day does not).
    pub fn is_latched(&self, now: Timestamp) -> bool {
        self.latched && now < self.session_end
    }

    /// Checks `entry` against every limit without reserving anything. `open` lists the open
    /// positions at their mark prices. Checks run in order: daily loss, positions, gross
    /// exposure, net exposure.
    pub fn check(
        &self,
        entry: &EntryRequest,
        open: &[OpenExposure],
        now: Timestamp,
    ) -> Result<(), PortfolioRefusal> {
        if self.is_latched(now) {
            return Err(PortfolioRefusal::DailyLoss {
                pnl: self.daily_pnl,
                limit: self.config.daily_loss_limit.unwrap_or(0.0),
            });
        }
        if let Some(max) = self.config.max_positions {
            let held = self.position_count(open);
            let adds = !self.holds(entry.symbol, open);
            if adds && held >= max {
                return Err(PortfolioRefusal::MaxPositions { open: held, max });
            }
        }
        if self.config.max_gross_exposure.is_none() && self.config.max_net_exposure.is_none() {
            return Ok(());
        }
        let entry_notional = entry.notional();
        if !entry_notional.is_finite() {
            return Err(PortfolioRefusal::ExposureUnknown {
                symbol: entry.symbol,
            });
        }
        let (mut gross, mut net) = self.exposure(open)?;
        gross += entry_notional.abs();
        net += entry_notional;
        if !(gross.is_finite() && net.is_finite()) {
            return Err(PortfolioRefusal::ExposureUnknown {
                symbol: entry.symbol,
            });
        }
        if let Some(max) = self.config.max_gross_exposure
            && gross > max
        {
            return Err(PortfolioRefusal::GrossExposure {
                exposure: gross,
                max,
            });
        }
        if let Some(max) = self.config.max_net_exposure
            && net.abs() > max
        {
            return Err(PortfolioRefusal::NetExposure { exposure: net, max });
        }
        Ok(())
    }

    /// [`check`](Self::check)s `entry` and, if it passes, holds its notional and position slot
    /// until [`release`](Self::release) or [`confirm`](Self::confirm).
    pub fn reserve(
        &mut self,
        entry: &EntryRequest,
        open: &[OpenExposure],
        now: Timestamp,
    ) -> Result<ReservationId, PortfolioRefusal> {
        self.tick(now);
        self.check(entry, open, now)?;
        let id = ReservationId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        let reservation = Reservation {
            id,
            symbol: entry.symbol,
            notional: entry.notional(),
            created_at: now,
        };
        match self.reservations.last() {
            Some(last) if last.id >= id => match self.find(id) {
                Ok(i) => self.reservations[i] = reservation,
                Err(i) => self.reservations.insert(i, reservation),
            },
            _ => self.reservations.push(reservation),
        }
        Ok(id)
    }

    /// Drops a reservation whose order will not fill (rejected, cancelled, never sent).
    /// Returns whether it was held.
    pub fn release(&mut self, id: ReservationId) -> bool {
        self.remove(id)
    }

    /// Drops a reservation whose fill now shows in the open positions passed to later checks.
    /// Returns whether it was held.
    pub fn confirm(&mut self, id: ReservationId) -> bool {
        self.remove(id)
    }

    /// Entries in flight, oldest first.
    pub fn reservations(&self) -> impl Iterator<Item = &Reservation> {
        self.reservations.iter()
    }

    /// The index of reservation `id`, or where it would go.
    fn find(&self, id: ReservationId) -> Result<usize, usize> {
        self.reservations.binary_search_by(|r| r.id.cmp(&id))
    }

    fn remove(&mut self, id: ReservationId) -> bool {
        match self.find(id) {
            Ok(i) => {
                self.reservations.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    /// Positions open or reserved: each open entry of `open` counts once (the list holds one
    /// entry per symbol; a duplicate is counted again, which errs on the side of blocking), and
    /// each symbol that is only reserved counts once.
    pub fn position_count(&self, open: &[OpenExposure]) -> u32 {
        let held = open.iter().filter(|e| e.is_open()).count();
        let mut count = u32::try_from(held).unwrap_or(u32::MAX);
        for (i, r) in self.reservations.iter().enumerate() {
            let already = open.iter().any(|p| p.is_open() && p.symbol == r.symbol)
                || self
                    .reservations
                    .iter()
                    .take(i)
                    .any(|p| p.symbol == r.symbol);
            if !already {
                count = count.saturating_add(1);
            }
        }
        count
    }

    /// Gross and net exposure at mark of `open` plus the reservations.
    pub fn exposure(&self, open: &[OpenExposure]) -> Result<(f64, f64), PortfolioRefusal> {
        let mut gross = 0.0;
        let mut net = 0.0;
        for e in open {
            let n = e.notional();
            if !n.is_finite() {
                return Err(PortfolioRefusal::ExposureUnknown { symbol: e.symbol });
            }
            gross += n.abs();
            net += n;
        }
        for r in self.reservations.iter() {
            gross += r.notional.abs();
            net += r.notional;
        }
        Ok((gross, net))
    }

    fn holds(&self, symbol: Symbol, open: &[OpenExposure]) -> bool {
        open.iter().any(|p| p.is_open() && p.symbol == symbol)
            || self.reservations.iter().any(|r| r.symbol == symbol)
    }

    /// The serialisable state. Reservations are not part of it: after a restart the positions
    /// and open orders reconciled with the venue are the truth.
    pub fn snapshot(&self) -> PortfolioSnapshot {
        PortfolioSnapshot {
            version: PORTFOLIO_SNAPSHOT_VERSION,
            session_start: self.session_start,
            daily_pnl: self.daily_pnl,
            latched: self.latched,
        }
    }

    /// Rebuilds the portfolio state from `snapshot` under `config` at `now`.
    ///
    /// A snapshot from an earlier day restores a fresh day (latch lifted). An unknown version or a
    /// non-finite PnL restores fresh with a warning. Refuses an invalid `config`.
    pub fn restore(
        snapshot: &PortfolioSnapshot,
        config: PortfolioConfig,
        now: Timestamp,
    ) -> Result<Self, RiskError> {
        config.validate()?;
        if snapshot.version != PORTFOLIO_SNAPSHOT_VERSION {
            tracing::warn!(
                version = snapshot.version,
                expected = PORTFOLIO_SNAPSHOT_VERSION,
                "unknown portfolio snapshot version; starting a fresh day"
            );
            return Ok(Self::fresh(config, now));
        }
        if !snapshot.daily_pnl.is_finite() {
            tracing::warn!("portfolio snapshot holds a non-finite daily PnL; starting a fresh day");
            return Ok(Self::fresh(config, now));
        }
        if snapshot.session_start < config.boundary.session_start(now) {
            return Ok(Self::fresh(config, now));
        }
        let mut p = Self::fresh(config, now);
        p.session_start = snapshot.session_start;
        p.session_end = config.boundary.next_boundary(snapshot.session_start);
        p.daily_pnl = snapshot.daily_pnl;
        p.latched = snapshot.latched
            || config
                .daily_loss_limit
                .is_some_and(|limit| snapshot.daily_pnl <= limit);
        Ok(p)
    }
}

/// Serialised state of a [`PortfolioRisk`].
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PortfolioSnapshot {
    /// Format version; [`PORTFOLIO_SNAPSHOT_VERSION`] when written by this crate.
    #[serde(default)]
    pub version: u32,
    /// Start of the day the PnL belongs to.
    #[serde(default)]
    pub session_start: Timestamp,
    /// Realised net PnL of the day.
    #[serde(default)]
    pub daily_pnl: f64,
    /// Whether the daily latch was set.
    #[serde(default)]
    pub latched: bool,
}

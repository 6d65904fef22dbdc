//! [`RiskConfig`]: the per-symbol risk configuration bundle and its per-asset-class presets.

use std::time::Duration;

use chrono_tz::America::{Chicago as CHICAGO, New_York as NEW_YORK};
use chrono_tz::Tz;
use rustrade_core::AssetClass;

use crate::{BreakerConfig, RiskError, SessionBoundary, SessionConfig, SizingConfig};

/// Everything that configures one symbol's risk state: its loss breaker, session loss cap and
/// sizing. Account-wide limits live in [`PortfolioConfig`](crate::PortfolioConfig).
///
/// Deserialising does not validate; call [`RiskConfig::validate`] (the constructors of the
/// primitives call it too, so an invalid configuration never reaches a gate).
///
/// ```
/// use rustrade_core::AssetClass;
/// use rustrade_risk::RiskConfig;
///
/// let mut config = RiskConfig::preset(AssetClass::CryptoPerp);
/// config.validate()?;
/// config.sizing.leverage = 0.0;
/// let err = config.validate().unwrap_err();
/// assert_eq!(err.to_string(), "sizing.leverage: must be > 0 (got 0)");
/// # Ok::<(), rustrade_risk::RiskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// The loss-streak circuit breaker.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// The session PnL and its loss cap.
    #[serde(default)]
    pub session: SessionConfig,
    /// Entry sizing.
    #[serde(default)]
    pub sizing: SizingConfig,
}

impl RiskConfig {
    /// Sensible defaults for an asset class. Amounts are in the quote currency of one symbol;
    /// scale `sizing.margin` and `session.loss_cap` to the account.
    ///
    /// | class | margin × leverage | session loss cap | breaker | session boundary |
    /// | --- | --- | --- | --- | --- |
    /// | crypto perp | 100 × 5 | −50 | 3 losses / 1 h, 30 min | 00:00 UTC |
    /// | crypto spot | 100 × 1 | −30 | 3 losses / 1 h, 30 min | 00:00 UTC |
    /// | FX | 1 000 × 20 | −100 | 3 losses / 4 h, 1 h | 17:00 America/New_York |
    /// | future | 1 000 × 10 | −150 | 3 losses / 2 h, 1 h | 17:00 America/Chicago |
    /// | equity | 1 000 × 1 | −100 | 3 losses / 1 day, 1 day | 00:00 America/New_York |
    /// | other | 100 × 1 | −30 | 3 losses / 1 h, 30 min | 00:00 UTC |
    ///
    /// `sizing.max_notional` is set to margin × leverage, so a size hint cannot exceed the
    /// default size.
    pub fn preset(class: AssetClass) -> Self {
        let hour = |h: u64| Duration::from_secs(h * 3_600);
        let (margin, leverage, cap, window, cooldown, boundary) = match class {
            AssetClass::CryptoPerp => (100.0, 5.0, -50.0, hour(1), hour(1) / 2, UTC_MIDNIGHT),
            AssetClass::CryptoSpot => (100.0, 1.0, -30.0, hour(1), hour(1) / 2, UTC_MIDNIGHT),
            AssetClass::Fx => (1_000.0, 20.0, -100.0, hour(4), hour(1), zoned(17, NEW_YORK)),
            AssetClass::Future => (1_000.0, 10.0, -150.0, hour(2), hour(1), zoned(17, CHICAGO)),
            AssetClass::Equity => (1_000.0, 1.0, -100.0, hour(24), hour(24), zoned(0, NEW_YORK)),
            _ => (100.0, 1.0, -30.0, hour(1), hour(1) / 2, UTC_MIDNIGHT),
        };
        Self {
            breaker: BreakerConfig {
                loss_limit: 3,
                window,
                cooldown,
                extend_on_loss: false,
            },
            session: SessionConfig {
                loss_cap: Some(cap),
                boundary,
            },
            sizing: SizingConfig {
                margin,
                leverage,
                max_quantity: None,
                max_notional: Some(margin * leverage),
                ..Default::default()
            },
        }
    }

    /// Checks every field of every part; the first error names the field (as a dotted path)
    /// and the value.
    pub fn validate(&self) -> Result<(), RiskError> {
        self.breaker.validate()?;
        self.session.validate()?;
        self.sizing.validate()
    }
}

impl Default for RiskConfig {
    /// The crypto-spot preset: unlevered, the most conservative.
    fn default() -> Self {
        Self::preset(AssetClass::CryptoSpot)
    }
}

const UTC_MIDNIGHT: SessionBoundary = SessionBoundary::UTC_MIDNIGHT;

const fn zoned(hour: u32, zone: Tz) -> SessionBoundary {
    SessionBoundary {
        time_of_day_secs: hour * 3_600,
        utc_offset_secs: 0,
        time_zone: Some(zone),
    }
}

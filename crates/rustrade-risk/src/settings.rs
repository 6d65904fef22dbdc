//! [`RiskSettings`]: the risk choices a user states, and [`RiskConfig::from_settings`], the one
//! constructor that turns them, an asset class and the account into a full [`RiskConfig`].
//!
//! Every driver configures risk through it — the command line from a TOML `[risk]` table, a bot
//! built in code through `rustrade::BotConfigBuilder::risk_settings` — so the same settings give
//! the same limits in a backtest, in paper trading and live.

use std::time::Duration;

use rustrade_core::AssetClass;

use crate::error::invalid;
use crate::{RiskConfig, RiskError, SizingBasis};

/// Share of the account's cash an entry commits when no margin is set: a little below all of
/// it, so the entry's fee and slippage stay affordable.
pub const DEFAULT_MARGIN_OF_CASH: f64 = 0.95;

/// The risk choices a user states, each optional. Validated by [`RiskConfig::from_settings`],
/// whose errors name the setting (`margin`, `cash_fraction`, ...) and the value.
///
/// # Defaults of unset settings
///
/// | setting | default |
/// | --- | --- |
/// | `margin` | [`DEFAULT_MARGIN_OF_CASH`] × the account's cash |
/// | `leverage` | 1 |
/// | sizing basis | the margin, unless `equity_fraction` or `cash_fraction` is set |
/// | `max_notional` | margin × leverage when sizing from the margin; none when sizing from the account |
/// | `fee_rate` | the venue's taker fee when sizing from the account; 0 otherwise |
/// | `session_loss_cap` | none |
/// | breaker | the asset class's [`RiskConfig::preset`] |
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RiskSettings {
    /// Margin committed to one entry, in quote currency, `> 0`. Excludes the fractions.
    pub margin: Option<f64>,
    /// Leverage on the margin or fraction, `> 0`.
    pub leverage: Option<f64>,
    /// Largest notional of one entry, `> 0`.
    pub max_notional: Option<f64>,
    /// Size entries from this fraction, in `(0, 1]`, of the account's equity.
    pub equity_fraction: Option<f64>,
    /// Size entries from this fraction, in `(0, 1]`, of the account's cash.
    pub cash_fraction: Option<f64>,
    /// The fee rate expected on an entry's fill, in `[0, 1)`.
    pub fee_rate: Option<f64>,
    /// The session's loss cap, `< 0`.
    pub session_loss_cap: Option<f64>,
    /// Losses within the breaker's window that trip it, `>= 1`.
    pub breaker_losses: Option<u32>,
    /// The breaker's sliding window, `> 0`.
    pub breaker_window: Option<Duration>,
    /// How long a tripped breaker refuses entries, `> 0`.
    pub breaker_cooldown: Option<Duration>,
}

/// The account facts the defaults of [`RiskSettings`] derive from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AccountBasis {
    /// The account's cash at start, in quote currency.
    pub cash: f64,
    /// The venue's taker fee rate (`0.001` for 0.1 %).
    pub taker_fee_rate: f64,
}

impl RiskConfig {
    /// The risk configuration of `settings` for a symbol of `class` traded from `account`: the
    /// class's [preset](RiskConfig::preset), then each setting or its default (see the table on [`RiskSettings`]), then [`RiskConfig::validate`].
    ///
    /// ```
    /// use rustrade_core::AssetClass;
    /// use rustrade_risk::{AccountBasis, RiskConfig, RiskSettings};
    ///
    /// let account = AccountBasis { cash: 10_000.0, taker_fee_rate: 0.001 };
    /// let risk = RiskConfig::from_settings(AssetClass::CryptoSpot, account, &RiskSettings::default())?;
    /// assert_eq!((risk.sizing.margin, risk.sizing.max_notional), (9_500.0, Some(9_500.0)));
    ///
    /// let bad = RiskSettings { leverage: Some(0.0), ..RiskSettings::default() };
    /// let err = RiskConfig::from_settings(AssetClass::CryptoSpot, account, &bad).unwrap_err();
    /// assert_eq!(err.to_string(), "leverage: must be > 0 (got 0)");
    /// # Ok::<(), rustrade_risk::RiskError>(())
    /// ```
    pub fn from_settings(
        class: AssetClass,
        account: AccountBasis,
        settings: &RiskSettings,
    ) -> Result<Self, RiskError> {
        let s = settings;
        let positive = |field: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(invalid(field, v, "must be > 0"))
            }
        };
        let fraction = |field: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 1.0 {
                Ok(v)
            } else {
                Err(invalid(field, v, "must be in (0, 1]"))
            }
        };
        let mut risk = Self::preset(class);
        let margin = positive(
            "margin",
            s.margin.unwrap_or(account.cash * DEFAULT_MARGIN_OF_CASH),
        )?;
        let leverage = positive("leverage", s.leverage.unwrap_or(1.0))?;
        risk.sizing.margin = margin;
        risk.sizing.leverage = leverage;
        risk.sizing.basis = match (s.margin, s.equity_fraction, s.cash_fraction) {
            (_, Some(_), Some(f)) => {
                return Err(invalid(
                    "cash_fraction",
                    f,
                    "set one of equity_fraction and cash_fraction, not both",
                ));
            }
            (Some(_), Some(f), None) => {
                return Err(invalid(
                    "equity_fraction",
                    f,
                    "sizes from the account, so margin must not be set",
                ));
            }
            (Some(_), None, Some(f)) => {
                return Err(invalid(
                    "cash_fraction",
                    f,
                    "sizes from the account, so margin must not be set",
                ));
            }
            (_, Some(f), None) => SizingBasis::EquityFraction(fraction("equity_fraction", f)?),
            (_, None, Some(f)) => SizingBasis::CashFraction(fraction("cash_fraction", f)?),
            (_, None, None) => SizingBasis::Margin,
        };
        let from_account = risk.sizing.basis != SizingBasis::Margin;
        risk.sizing.max_notional = match s.max_notional {
            Some(v) => Some(positive("max_notional", v)?),
            None if from_account => None,
            None => Some(margin * leverage),
        };
        risk.sizing.fee_rate = match s.fee_rate {
            Some(v) if v.is_finite() && (0.0..1.0).contains(&v) => v,
            Some(v) => return Err(invalid("fee_rate", v, "must be in [0, 1)")),
            None if from_account => account.taker_fee_rate,
            None => 0.0,
        };
        risk.session.loss_cap = match s.session_loss_cap {
            Some(v) if v.is_finite() && v < 0.0 => Some(v),
            Some(v) => return Err(invalid("session_loss_cap", v, "must be < 0, a loss")),
            None => None,
        };
        if let Some(n) = s.breaker_losses {
            if n == 0 {
                return Err(invalid("breaker_losses", 0, "must be >= 1"));
            }
            risk.breaker.loss_limit = n;
        }
        if let Some(window) = s.breaker_window {
            risk.breaker.window = window;
        }
        if let Some(cooldown) = s.breaker_cooldown {
            risk.breaker.cooldown = cooldown;
        }
        risk.validate()?;
        Ok(risk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: AccountBasis = AccountBasis {
        cash: 1_000.0,
        taker_fee_rate: 0.002,
    };

    fn build(settings: RiskSettings) -> Result<RiskConfig, RiskError> {
        RiskConfig::from_settings(AssetClass::CryptoPerp, ACCOUNT, &settings)
    }

    #[test]
    fn unset_settings_take_the_documented_defaults() {
        let risk = build(RiskSettings::default()).unwrap();
        let preset = RiskConfig::preset(AssetClass::CryptoPerp);
        assert_eq!(risk.sizing.margin, 950.0);
        assert_eq!(risk.sizing.leverage, 1.0);
        assert_eq!(risk.sizing.max_notional, Some(950.0));
        assert_eq!(risk.sizing.basis, SizingBasis::Margin);
        assert_eq!(risk.sizing.fee_rate, 0.0);
        assert_eq!(risk.session.loss_cap, None);
        assert_eq!(risk.session.boundary, preset.session.boundary);
        assert_eq!(risk.breaker, preset.breaker);
    }

    #[test]
    fn account_sizing_lifts_the_cap_and_expects_the_taker_fee() {
        let risk = build(RiskSettings {
            equity_fraction: Some(0.5),
            leverage: Some(2.0),
            ..RiskSettings::default()
        })
        .unwrap();
        assert_eq!(risk.sizing.basis, SizingBasis::EquityFraction(0.5));
        assert_eq!(risk.sizing.max_notional, None);
        assert_eq!(risk.sizing.fee_rate, 0.002);
    }

    #[test]
    fn explicit_settings_win() {
        let risk = build(RiskSettings {
            margin: Some(100.0),
            leverage: Some(3.0),
            max_notional: Some(250.0),
            fee_rate: Some(0.001),
            session_loss_cap: Some(-40.0),
            breaker_losses: Some(5),
            breaker_window: Some(Duration::from_secs(60)),
            breaker_cooldown: Some(Duration::from_secs(120)),
            ..RiskSettings::default()
        })
        .unwrap();
        assert_eq!((risk.sizing.margin, risk.sizing.leverage), (100.0, 3.0));
        assert_eq!(risk.sizing.max_notional, Some(250.0));
        assert_eq!(risk.sizing.fee_rate, 0.001);
        assert_eq!(risk.session.loss_cap, Some(-40.0));
        assert_eq!(risk.breaker.loss_limit, 5);
        assert_eq!(risk.breaker.window, Duration::from_secs(60));
        assert_eq!(risk.breaker.cooldown, Duration::from_secs(120));
    }

    #[test]
    fn every_bad_setting_names_itself_and_its_value() {
        let cases = [
            (
                RiskSettings {
                    margin: Some(f64::NAN),
                    ..RiskSettings::default()
                },
                "margin: must be > 0 (got NaN)",
            ),
            (
                RiskSettings {
                    leverage: Some(-1.0),
                    ..RiskSettings::default()
                },
                "leverage: must be > 0 (got -1)",
            ),
            (
                RiskSettings {
                    max_notional: Some(0.0),
                    ..RiskSettings::default()
                },
                "max_notional: must be > 0 (got 0)",
            ),
            (
                RiskSettings {
                    equity_fraction: Some(1.5),
                    ..RiskSettings::default()
                },
                "equity_fraction: must be in (0, 1] (got 1.5)",
            ),
            (
                RiskSettings {
                    equity_fraction: Some(0.5),
                    cash_fraction: Some(0.25),
                    ..RiskSettings::default()
                },
                "cash_fraction: set one of equity_fraction and cash_fraction, not both (got 0.25)",
            ),
            (
                RiskSettings {
                    margin: Some(10.0),
                    cash_fraction: Some(0.5),
                    ..RiskSettings::default()
                },
                "cash_fraction: sizes from the account, so margin must not be set (got 0.5)",
            ),
            (
                RiskSettings {
                    fee_rate: Some(1.0),
                    ..RiskSettings::default()
                },
                "fee_rate: must be in [0, 1) (got 1)",
            ),
            (
                RiskSettings {
                    session_loss_cap: Some(5.0),
                    ..RiskSettings::default()
                },
                "session_loss_cap: must be < 0, a loss (got 5)",
            ),
            (
                RiskSettings {
                    breaker_losses: Some(0),
                    ..RiskSettings::default()
                },
                "breaker_losses: must be >= 1 (got 0)",
            ),
            (
                RiskSettings {
                    breaker_window: Some(Duration::ZERO),
                    ..RiskSettings::default()
                },
                "breaker.window: must be > 0 (got 0s)",
            ),
        ];
        for (settings, expect) in cases {
            assert_eq!(build(settings).unwrap_err().to_string(), expect);
        }
    }

    #[test]
    fn no_cash_and_no_margin_is_refused() {
        let broke = AccountBasis {
            cash: 0.0,
            taker_fee_rate: 0.0,
        };
        let err = RiskConfig::from_settings(AssetClass::Equity, broke, &RiskSettings::default())
            .unwrap_err();
        assert_eq!(err.to_string(), "margin: must be > 0 (got 0)");
    }
}

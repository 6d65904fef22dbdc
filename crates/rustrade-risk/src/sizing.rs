//! [`PositionSizer`]: how many units an entry buys, from margin and leverage, a fraction of the
//! account's equity or cash, or a size hint.
//!
//! The rules it keeps are listed on the type, under "Invariants".

use rustrade_core::{InstrumentSpec, Price, Quantity, SizeHint};

use crate::RiskError;
use crate::error::{invalid, optional_positive, positive};

/// How entries are sized.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizingConfig {
    /// Margin committed to one entry, in quote currency, `> 0`.
    pub margin: f64,
    /// Leverage applied to the margin, `> 0` (1 for unlevered spot).
    pub leverage: f64,
    /// Largest quantity of one entry, `> 0` when set.
    #[serde(default)]
    pub max_quantity: Option<f64>,
    /// Largest notional of one entry (quantity × price × contract value), `> 0` when set.
    #[serde(default)]
    pub max_notional: Option<f64>,
    /// What [`SizeHint::Default`] sizes from: the fixed `margin` (the default), or a fraction of
    /// the account's current equity or cash.
    #[serde(default, skip_serializing_if = "SizingBasis::is_margin")]
    pub basis: SizingBasis,
    /// The fee rate expected on the entry's fill (`0.002` for 0.2 %), in `[0, 1)`: equity and
    /// cash sizing keep `quantity × price × cv × (1 + fee_rate)` within the budget, so the entry
    /// and its fee are affordable. Margin sizing ignores it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fee_rate: f64,
}

/// What an entry with [`SizeHint::Default`] is sized from.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "fraction", rename_all = "snake_case")]
pub enum SizingBasis {
    /// `margin × leverage` per entry, whatever the account holds.
    #[default]
    Margin,
    /// This fraction, in `(0, 1]`, of the account's current equity, × leverage (compounding).
    EquityFraction(f64),
    /// This fraction, in `(0, 1]`, of the account's available cash, × leverage.
    CashFraction(f64),
}

impl SizingBasis {
    /// Whether this is [`SizingBasis::Margin`], the default.
    pub fn is_margin(&self) -> bool {
        *self == Self::Margin
    }

    /// The size hint [`SizeHint::Default`] stands for under this basis.
    pub fn hint(self) -> SizeHint {
        match self {
            Self::Margin => SizeHint::Default,
            Self::EquityFraction(f) => SizeHint::EquityFraction(f),
            Self::CashFraction(f) => SizeHint::CashFraction(f),
        }
    }
}

/// The account's funds at the time of a decision, as the sizer reads them: `None` when the
/// driver has not told the engine.
///
/// When a decision reverses a position, the engine passes the funds the account will have once
/// the close has filled at the reference price (its expected fee deducted), so the new side is
/// sized from what the close frees.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Funds {
    /// Cash plus the value of the open positions at mark.
    pub equity: Option<f64>,
    /// Cash.
    pub cash: Option<f64>,
}

impl Funds {
    /// Funds the driver never reported.
    pub const UNKNOWN: Self = Self {
        equity: None,
        cash: None,
    };
}

impl SizingConfig {
    /// Checks every field; the error names the field and the value.
    pub fn validate(&self) -> Result<(), RiskError> {
        positive("sizing.margin", self.margin)?;
        positive("sizing.leverage", self.leverage)?;
        optional_positive("sizing.max_quantity", self.max_quantity)?;
        optional_positive("sizing.max_notional", self.max_notional)?;
        match self.basis {
            SizingBasis::Margin => {}
            SizingBasis::EquityFraction(f) => fraction("sizing.basis.equity_fraction", f)?,
            SizingBasis::CashFraction(f) => fraction("sizing.basis.cash_fraction", f)?,
        }
        if !(self.fee_rate.is_finite() && (0.0..1.0).contains(&self.fee_rate)) {
            return Err(invalid(
                "sizing.fee_rate",
                self.fee_rate,
                "must be in [0, 1)",
            ));
        }
        Ok(())
    }
}

impl Default for SizingConfig {
    /// 100 of margin at leverage 1, no caps.
    fn default() -> Self {
        Self {
            margin: 100.0,
            leverage: 1.0,
            max_quantity: None,
            max_notional: None,
            basis: SizingBasis::Margin,
            fee_rate: 0.0,
        }
    }
}

/// Why no order size could be produced.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SizeRefusal {
    /// The price to size at was zero, negative or not finite.
    #[error("price must be > 0 to size an order (got {price})")]
    NonPositivePrice {
        /// The offending price.
        price: f64,
    },
    /// The contract value was zero, negative or not finite.
    #[error("contract_value must be > 0 to size an order (got {contract_value})")]
    NonPositiveContractValue {
        /// The offending contract value.
        contract_value: f64,
    },
    /// The margin was zero, negative or not finite.
    #[error("margin must be > 0 to size an order (got {margin})")]
    NonPositiveMargin {
        /// The offending margin.
        margin: f64,
    },
    /// The leverage was zero, negative or not finite.
    #[error("leverage must be > 0 to size an order (got {leverage})")]
    NonPositiveLeverage {
        /// The offending leverage.
        leverage: f64,
    },
    /// The size hint carried a value outside its range (margin fraction outside `(0, 1]`,
    /// notional `<= 0`, quantity zero, NaN).
    #[error("size hint {hint}: out of range (got {value})")]
    InvalidHint {
        /// Which hint (`margin_fraction`, `notional`, `quantity`).
        hint: &'static str,
        /// The offending value.
        value: f64,
    },
    /// Equity or cash sizing, and the driver never told the engine the account's funds.
    #[error("{basis} sizing needs the account's funds, which the driver has not reported")]
    FundsUnknown {
        /// `equity` or `cash`.
        basis: &'static str,
    },
    /// Equity or cash sizing, and the account's funds are zero, negative or not finite.
    #[error("{basis} of {value} leaves nothing to size an entry from")]
    NoFunds {
        /// `equity` or `cash`.
        basis: &'static str,
        /// The account's equity or cash.
        value: f64,
    },
    /// The computed quantity overflowed to infinity and no cap bounded it.
    #[error("computed quantity is not finite")]
    NotFinite,
    /// The quantity snapped down to the lot is zero.
    #[error("quantity {raw} is below one lot")]
    Zero {
        /// The quantity before snapping.
        raw: f64,
    },
    /// The snapped quantity is below the instrument's minimum quantity.
    #[error("quantity {quantity} is below the minimum {min}")]
    BelowMinQuantity {
        /// The snapped quantity.
        quantity: f64,
        /// The instrument's minimum.
        min: f64,
    },
    /// The snapped quantity's notional is below the instrument's minimum notional.
    #[error("notional {notional} is below the minimum {min}")]
    BelowMinNotional {
        /// Notional of the snapped quantity.
        notional: f64,
        /// The instrument's minimum.
        min: f64,
    },
}

impl SizeRefusal {
    /// A stable snake_case label for metrics.
    pub const fn as_label(&self) -> &'static str {
        match self {
            Self::NonPositivePrice { .. } => "invalid_price",
            Self::NonPositiveContractValue { .. } => "invalid_contract_value",
            Self::NonPositiveMargin { .. } => "invalid_margin",
            Self::NonPositiveLeverage { .. } => "invalid_leverage",
            Self::InvalidHint { .. } => "invalid_size_hint",
            Self::FundsUnknown { .. } => "funds_unknown",
            Self::NoFunds { .. } => "no_funds",
            Self::NotFinite => "size_not_finite",
            Self::Zero { .. } => "size_zero",
            Self::BelowMinQuantity { .. } => "below_min_quantity",
            Self::BelowMinNotional { .. } => "below_min_notional",
        }
    }
}

/// Quantity bought by `margin × leverage` at `price` for an instrument of `contract_value`,
/// before snapping and capping. Every argument must be finite and `> 0`.
///
/// ```
/// use rustrade_risk::{margin_quantity, SizeRefusal};
/// assert_eq!(margin_quantity(500.0, 5.0, 50_000.0, 0.001), Ok(50.0));
/// assert!(matches!(margin_quantity(500.0, 0.0, 50_000.0, 0.001), Err(SizeRefusal::NonPositiveLeverage { .. })));
/// ```
pub fn margin_quantity(
    margin: f64,
    leverage: f64,
    price: f64,
    contract_value: f64,
) -> Result<f64, SizeRefusal> {
    if !is_positive(price) {
        return Err(SizeRefusal::NonPositivePrice { price });
    }
    if !is_positive(contract_value) {
        return Err(SizeRefusal::NonPositiveContractValue { contract_value });
    }
    if !is_positive(margin) {
        return Err(SizeRefusal::NonPositiveMargin { margin });
    }
    if !is_positive(leverage) {
        return Err(SizeRefusal::NonPositiveLeverage { leverage });
    }
    Ok(margin * leverage / (price * contract_value))
}

/// Turns a [`SizeHint`] into a lot-snapped, capped quantity.
///
/// # Invariants
///
/// - A size is either a [`Quantity`] `> 0` that is a whole number of the instrument's lots, no
///   larger than `max_quantity`, whose notional is no larger than `max_notional`, and that meets
///   the instrument's minimum quantity and notional — or a typed [`SizeRefusal`]. Never a zero
///   quantity, never a panic, whatever the inputs (NaN, infinities, zero or negative prices).
/// - Capping happens before snapping, and snapping rounds down, so a snapped size never exceeds a
///   cap.
/// - Quantity from margin: `margin × leverage ÷ (price × contract_value)`.
/// - Quantity from a fraction `f` of equity `E` (or of cash `C`) with the expected fee rate `r`:
///   `f × E × leverage ÷ (price × contract_value × (1 + r))`, so that after snapping down to the
///   lot, `quantity × price × cv + fee ≤ f × E × leverage` at `price` (integer units when the lot
///   is 1). [`SizeHint::Default`] takes its basis from [`SizingConfig::basis`].
///
/// ```
/// use rustrade_core::{AssetClass, InstrumentSpec, Price, SizeHint, Symbol};
/// use rustrade_risk::{PositionSizer, SizingConfig};
///
/// let spec = InstrumentSpec::new(Symbol::new("BTCUSDT")?, AssetClass::CryptoPerp, 0.1, 0.001)?
///     .with_contract_value(0.001)?;
/// let sizer = PositionSizer::new(SizingConfig { margin: 500.0, leverage: 5.0, ..Default::default() })?;
/// let qty = sizer.size(SizeHint::Default, Price::new(50_000.0)?, &spec)?;
/// assert_eq!(qty.get(), 50.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionSizer {
    config: SizingConfig,
}

impl PositionSizer {
    /// A sizer under `config`; refuses an invalid one.
    pub fn new(config: SizingConfig) -> Result<Self, RiskError> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The configuration in force.
    pub fn config(&self) -> &SizingConfig {
        &self.config
    }

    /// The quantity for `hint` at `price`, before capping and snapping, without the account's
    /// funds (equity and cash sizing are refused as [`SizeRefusal::FundsUnknown`]).
    pub fn raw_quantity(
        &self,
        hint: SizeHint,
        price: Price,
        spec: &InstrumentSpec,
    ) -> Result<f64, SizeRefusal> {
        self.raw_quantity_with(hint, price, spec, Funds::UNKNOWN)
    }

    /// The quantity for `hint` at `price` given the account's `funds`, before capping and
    /// snapping (the formulas are on the type).
    pub fn raw_quantity_with(
        &self,
        hint: SizeHint,
        price: Price,
        spec: &InstrumentSpec,
        funds: Funds,
    ) -> Result<f64, SizeRefusal> {
        let price = price.get();
        let cv = spec.contract_value();
        let margin = self.config.margin;
        let hint = match hint {
            SizeHint::Default => self.config.basis.hint(),
            h => h,
        };
        match hint {
            SizeHint::Default => margin_quantity(margin, self.config.leverage, price, cv),
            SizeHint::EquityFraction(f) => {
                self.funds_quantity(f, "equity", funds.equity, price, cv)
            }
            SizeHint::CashFraction(f) => self.funds_quantity(f, "cash", funds.cash, price, cv),
            SizeHint::MarginFraction(f) => {
                if !(f.is_finite() && f > 0.0 && f <= 1.0) {
                    return Err(SizeRefusal::InvalidHint {
                        hint: "margin_fraction",
                        value: f,
                    });
                }
                margin_quantity(margin * f, self.config.leverage, price, cv)
            }
            SizeHint::Notional(n) => {
                if !is_positive(n) {
                    return Err(SizeRefusal::InvalidHint {
                        hint: "notional",
                        value: n,
                    });
                }
                margin_quantity(n, 1.0, price, cv)
            }
            SizeHint::Quantity(q) => {
                if !is_positive(price) {
                    return Err(SizeRefusal::NonPositivePrice { price });
                }
                if q.is_zero() {
                    return Err(SizeRefusal::InvalidHint {
                        hint: "quantity",
                        value: q.get(),
                    });
                }
                Ok(q.get())
            }
        }
    }

    /// `f × funds × leverage ÷ (price × cv × (1 + fee_rate))`, checking each input.
    fn funds_quantity(
        &self,
        f: f64,
        basis: &'static str,
        funds: Option<f64>,
        price: f64,
        cv: f64,
    ) -> Result<f64, SizeRefusal> {
        if !(f.is_finite() && f > 0.0 && f <= 1.0) {
            return Err(SizeRefusal::InvalidHint {
                hint: if basis == "equity" {
                    "equity_fraction"
                } else {
                    "cash_fraction"
                },
                value: f,
            });
        }
        let value = funds.ok_or(SizeRefusal::FundsUnknown { basis })?;
        if !is_positive(value) {
            return Err(SizeRefusal::NoFunds { basis, value });
        }
        margin_quantity(
            f * value,
            self.config.leverage,
            price * (1.0 + self.config.fee_rate),
            cv,
        )
    }

    /// The order quantity for `hint` at `price`, without the account's funds (see
    /// [`size_with`](Self::size_with)).
    pub fn size(
        &self,
        hint: SizeHint,
        price: Price,
        spec: &InstrumentSpec,
    ) -> Result<Quantity, SizeRefusal> {
        self.size_with(hint, price, spec, Funds::UNKNOWN)
    }

    /// The order quantity for `hint` at `price` given the account's `funds`: capped by
    /// `max_quantity` and `max_notional`, snapped down to the lot, and checked against the
    /// instrument's minimum quantity and notional. Never zero.
    pub fn size_with(
        &self,
        hint: SizeHint,
        price: Price,
        spec: &InstrumentSpec,
        funds: Funds,
    ) -> Result<Quantity, SizeRefusal> {
        let raw = self.raw_quantity_with(hint, price, spec, funds)?;
        let mut capped = raw;
        if let Some(max) = self.config.max_quantity {
            capped = capped.min(max);
        }
        if let Some(max) = self.config.max_notional {
            capped = capped.min(max / (price.get() * spec.contract_value()));
        }
        if !capped.is_finite() {
            return Err(SizeRefusal::NotFinite);
        }
        let qty = spec.round_qty_down(capped);
        if qty.is_zero() {
            return Err(SizeRefusal::Zero { raw });
        }
        check_minimums(qty, price, spec)?;
        Ok(qty)
    }
}

/// Checks the instrument's minimum quantity and notional for `qty` at `price`.
pub(crate) fn check_minimums(
    qty: Quantity,
    price: Price,
    spec: &InstrumentSpec,
) -> Result<(), SizeRefusal> {
    if spec.meets_min_notional(qty, price) {
        return Ok(());
    }
    if qty.get() + 1e-12 < spec.min_qty() {
        Err(SizeRefusal::BelowMinQuantity {
            quantity: qty.get(),
            min: spec.min_qty(),
        })
    } else {
        Err(SizeRefusal::BelowMinNotional {
            notional: spec.notional(qty, price),
            min: spec.min_notional(),
        })
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_positive(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

fn fraction(field: &'static str, f: f64) -> Result<(), RiskError> {
    if f.is_finite() && f > 0.0 && f <= 1.0 {
        Ok(())
    } else {
        Err(invalid(field, f, "must be in (0, 1]"))
    }
}

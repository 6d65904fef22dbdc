//! [`check_fill`]: the values a fill must carry before any driver's engine applies it.
//!
//! Core's types already refuse NaN and infinities; what they allow and a fill must not carry is
//! a price `<= 0` (a free or negative execution) and a quantity of zero. The engine applies this
//! check to every fill it is handed — from the backtest's simulated venue, paper trading and a
//! live exchange alike — and a driver that drops bad reports at its own boundary calls the same
//! function, so the rule exists once.

use rustrade_core::Fill;

use crate::FillField;

/// A fill value refused by [`check_fill`]: the field, the value and the rule it broke.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{field}: must be {} (got {value})", rule(.field))]
pub struct InvalidFill {
    /// The refused field.
    pub field: FillField,
    /// Its value.
    pub value: f64,
}

/// Checks a fill's numbers: price and quantity `> 0` and finite, fee finite (a rebate is a
/// negative fee). The first field that fails is returned.
///
/// ```
/// use rustrade_core::Fill;
/// use rustrade_engine::{FillField, check_fill};
///
/// let fill: Fill = serde_json::from_str(r#"{"fill_id":"1","order_id":"9","client_id":null,
///   "symbol":"BTCUSDT","side":"buy","price":0.0,"quantity":1.0,"fee":0.0,"fee_asset":"USDT",
///   "liquidity":"taker","time":0}"#)?;
/// let err = check_fill(&fill).unwrap_err();
/// assert_eq!(err.field, FillField::Price);
/// assert_eq!(err.to_string(), "price: must be > 0 and finite (got 0)");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[inline]
pub fn check_fill(fill: &Fill) -> Result<(), InvalidFill> {
    let (price, quantity, fee) = (fill.price.get(), fill.quantity.get(), fill.fee.get());
    // One test for the usual good fill: a NaN or infinite value makes the sum non-finite, so
    // a fill passing it passes every test below (a sum that merely overflows goes the long way
    // and passes there).
    if price > 0.0 && quantity > 0.0 && (price + quantity + fee.abs()).is_finite() {
        return Ok(());
    }
    check_each(fill)
}

/// [`check_fill`] field by field, in its order.
#[inline(never)]
fn check_each(fill: &Fill) -> Result<(), InvalidFill> {
    let positive = |field, value: f64| {
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(InvalidFill { field, value })
        }
    };
    positive(FillField::Price, fill.price.get())?;
    positive(FillField::Quantity, fill.quantity.get())?;
    let fee = fill.fee.get();
    if fee.is_finite() {
        Ok(())
    } else {
        Err(InvalidFill {
            field: FillField::Fee,
            value: fee,
        })
    }
}

/// The rule `field` is held to.
fn rule(field: &FillField) -> &'static str {
    match field {
        FillField::Fee => "finite",
        _ => "> 0 and finite",
    }
}

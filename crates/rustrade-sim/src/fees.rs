//! [`FeeModel`]: what each simulated fill costs.
//!
//! # Formula
//!
//! For a fill of `qty` at `price` on an instrument with contract value `cv`:
//!
//! ```text
//! notional = qty × |price| × cv
//! fee      = notional × rate + fixed_per_fill,   rate = maker_rate (resting fill) | taker_rate
//! ```
//!
//! A fill is *maker* when the order was already resting at the venue before the price reached it
//! (see the fill rules in [`crate::SimVenue`]); everything that crosses on arrival, every market
//! order and every triggered stop or take-profit is *taker*. A negative `maker_rate` is a rebate.
//! Fees are charged in the venue's quote asset and reduce cash on every fill, on both legs of a
//! round trip.

use rustrade_core::Liquidity;

use crate::error::{SimError, check_range};

/// Maker/taker percentage fees plus a fixed amount per fill.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FeeModel {
    /// Fraction of notional charged on maker fills (`0.0002` = 2 bps); negative for a rebate.
    pub maker_rate: f64,
    /// Fraction of notional charged on taker fills.
    pub taker_rate: f64,
    /// Fixed amount in quote currency charged on every fill, whatever its size.
    pub fixed_per_fill: f64,
}

impl FeeModel {
    /// No fees at all.
    pub const ZERO: Self = Self {
        maker_rate: 0.0,
        taker_rate: 0.0,
        fixed_per_fill: 0.0,
    };

    /// Percentage fees with no fixed part.
    pub const fn rates(maker_rate: f64, taker_rate: f64) -> Self {
        Self {
            maker_rate,
            taker_rate,
            fixed_per_fill: 0.0,
        }
    }

    /// Adds a fixed charge per fill.
    pub const fn with_fixed(mut self, fixed_per_fill: f64) -> Self {
        self.fixed_per_fill = fixed_per_fill;
        self
    }

    /// Checks the rates lie in `[-0.01, 0.1]` (a 1 % rebate to a 10 % fee) and the fixed charge is
    /// finite and `>= 0`.
    pub fn validate(&self) -> Result<(), SimError> {
        check_range("fees.maker_rate", self.maker_rate, -0.01, 0.1)?;
        check_range("fees.taker_rate", self.taker_rate, -0.01, 0.1)?;
        check_range("fees.fixed_per_fill", self.fixed_per_fill, 0.0, f64::MAX)?;
        Ok(())
    }

    /// The fee for a fill of `notional` quote units with the given liquidity.
    #[inline]
    pub fn fee(&self, notional: f64, liquidity: Liquidity) -> f64 {
        let rate = match liquidity {
            Liquidity::Maker => self.maker_rate,
            Liquidity::Taker => self.taker_rate,
        };
        notional.abs() * rate + self.fixed_per_fill
    }
}

impl Default for FeeModel {
    fn default() -> Self {
        Self::ZERO
    }
}

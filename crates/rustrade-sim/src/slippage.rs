//! [`SlippageModel`]: how far a taker fill lands from the reference price.
//!
//! # Formula
//!
//! Slippage applies to *taker* fills only; a resting (maker) fill executes at its own price. With
//! `bps` from the model and `s = +1` for a buy, `-1` for a sell:
//!
//! ```text
//! fill_price = reference × (1 + s × bps / 10_000)
//! FixedBps(b):                       bps = b
//! VolumeScaled { base_bps, impact_bps }:
//!                                    bps = base_bps + impact_bps × qty / volume
//!                                    (qty / volume taken as 1 when the event has no volume)
//! ```
//!
//! The venue then bounds the result: a marketable limit never fills beyond its limit price, and a
//! fill against a candle never leaves the bar's `[low, high]` (the bar proves nothing traded
//! outside it). Slipped prices are not snapped to the instrument's tick: the model stands for
//! an average over many fills.

use crate::error::{SimError, check_range};

/// A slippage model for taker fills.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlippageModel {
    /// Fill exactly at the reference price.
    #[default]
    None,
    /// A fixed adverse move in basis points.
    FixedBps {
        /// Basis points, `>= 0`.
        bps: f64,
    },
    /// A fixed part plus a part proportional to the order's share of the event's volume.
    VolumeScaled {
        /// Basis points charged on every taker fill, `>= 0`.
        base_bps: f64,
        /// Basis points per unit of `qty / volume`, `>= 0`.
        impact_bps: f64,
    },
}

impl SlippageModel {
    /// Checks every parameter is finite and within `[0, 10_000]` bps.
    pub fn validate(&self) -> Result<(), SimError> {
        match *self {
            Self::None => {}
            Self::FixedBps { bps } => {
                check_range("slippage.bps", bps, 0.0, 10_000.0)?;
            }
            Self::VolumeScaled {
                base_bps,
                impact_bps,
            } => {
                check_range("slippage.base_bps", base_bps, 0.0, 10_000.0)?;
                check_range("slippage.impact_bps", impact_bps, 0.0, 10_000.0)?;
            }
        }
        Ok(())
    }

    /// Basis points of adverse slippage for a taker fill of `qty` against an event of `volume`.
    #[inline]
    pub fn bps(&self, qty: f64, volume: f64) -> f64 {
        match *self {
            Self::None => 0.0,
            Self::FixedBps { bps } => bps,
            Self::VolumeScaled {
                base_bps,
                impact_bps,
            } => {
                let share = if volume > 0.0 { qty / volume } else { 1.0 };
                base_bps + impact_bps * share
            }
        }
    }

    /// The reference price moved against a taker of `side_sign` (`+1` buy, `-1` sell).
    #[inline]
    pub fn apply(&self, reference: f64, side_sign: f64, qty: f64, volume: f64) -> f64 {
        let bps = self.bps(qty, volume);
        if bps == 0.0 {
            reference
        } else {
            reference * (1.0 + side_sign * bps / 10_000.0)
        }
    }
}

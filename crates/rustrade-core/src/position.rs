//! [`Position`]: a signed holding in one instrument with its entry price and PnL.

use crate::{InstrumentSpec, Side};

/// Quantities smaller than this are treated as zero when no instrument is at hand.
pub const QTY_EPSILON: f64 = 1e-9;

/// A signed position: `quantity > 0` is long, `< 0` short.
///
/// Flatness is judged against a tolerance (half a lot via [`Position::is_flat_in`], or
/// [`QTY_EPSILON`]), never by `== 0.0`, because sums of fills in binary floating point leave dust.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Signed size in base units.
    pub quantity: f64,
    /// Volume-weighted average entry price of the open size (0 when flat).
    pub avg_entry: f64,
    /// PnL realised so far on this symbol, net of fees.
    pub realised_pnl: f64,
    /// PnL of the open size at the last mark price.
    pub unrealised_pnl: f64,
}

impl Position {
    /// No position.
    pub const FLAT: Self = Self {
        quantity: 0.0,
        avg_entry: 0.0,
        realised_pnl: 0.0,
        unrealised_pnl: 0.0,
    };

    /// A position of `quantity` (signed) entered at `avg_entry`, with no PnL yet.
    pub const fn new(quantity: f64, avg_entry: f64) -> Self {
        Self {
            quantity,
            avg_entry,
            realised_pnl: 0.0,
            unrealised_pnl: 0.0,
        }
    }

    /// Flat within [`QTY_EPSILON`].
    pub fn is_flat(&self) -> bool {
        self.quantity.abs() < QTY_EPSILON
    }

    /// Flat within half a lot of `spec`.
    pub fn is_flat_in(&self, spec: &InstrumentSpec) -> bool {
        spec.is_dust(self.quantity)
    }

    /// Long (and not flat).
    pub fn is_long(&self) -> bool {
        self.quantity >= QTY_EPSILON
    }

    /// Short (and not flat).
    pub fn is_short(&self) -> bool {
        self.quantity <= -QTY_EPSILON
    }

    /// Side that holds the position (`Buy` for long), `None` when flat.
    pub fn side(&self) -> Option<Side> {
        if self.is_long() {
            Some(Side::Buy)
        } else if self.is_short() {
            Some(Side::Sell)
        } else {
            None
        }
    }

    /// Side of the order that closes the position, `None` when flat.
    pub fn close_side(&self) -> Option<Side> {
        self.side().map(Side::opposite)
    }

    /// Absolute size.
    pub fn abs_quantity(&self) -> f64 {
        self.quantity.abs()
    }

    /// PnL of the open size at `mark`: `quantity × (mark − avg_entry) × contract_value`.
    pub fn unrealised_at(&self, mark: f64, contract_value: f64) -> f64 {
        if self.is_flat() {
            0.0
        } else {
            self.quantity * (mark - self.avg_entry) * contract_value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AssetClass, Symbol};

    #[test]
    fn flat_constant_and_sides() {
        assert!(Position::FLAT.is_flat());
        assert_eq!(Position::FLAT.close_side(), None);
        let long = Position::new(2.0, 100.0);
        assert!(long.is_long() && !long.is_short());
        assert_eq!(long.close_side(), Some(Side::Sell));
        let short = Position::new(-1.0, 100.0);
        assert_eq!(short.close_side(), Some(Side::Buy));
        assert_eq!(short.side(), Some(Side::Sell));
    }

    #[test]
    fn flatness_is_judged_in_lots_not_exact_zero() {
        let dust = Position::new(0.1 + 0.2 - 0.3, 1.0);
        assert_ne!(dust.quantity, 0.0);
        assert!(dust.is_flat());
        let spec = InstrumentSpec::new(
            Symbol::new("X").unwrap(),
            AssetClass::CryptoSpot,
            0.01,
            0.001,
        )
        .unwrap();
        assert!(Position::new(0.0004, 1.0).is_flat_in(&spec));
        assert!(!Position::new(0.0006, 1.0).is_flat_in(&spec));
    }

    #[test]
    fn unrealised_uses_contract_value() {
        let p = Position::new(-2.0, 100.0);
        assert_eq!(p.unrealised_at(90.0, 0.5), 10.0);
        assert_eq!(Position::FLAT.unrealised_at(90.0, 1.0), 0.0);
    }

    #[test]
    fn serde_round_trip() {
        let p = Position {
            quantity: -3.0,
            avg_entry: 101.0,
            realised_pnl: 5.5,
            unrealised_pnl: -1.0,
        };
        let back: Position = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}

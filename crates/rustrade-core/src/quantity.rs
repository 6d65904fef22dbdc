//! [`Quantity`]: a finite, non-negative amount.

use crate::ValueError;

/// A finite, non-negative quantity in base units (contracts, coins, shares).
///
/// Direction lives in [`Side`](crate::Side) or in a position's signed size, never in the sign of
/// a quantity.
///
/// ```
/// use rustrade_core::Quantity;
/// assert_eq!(Quantity::new(0.25)?.get(), 0.25);
/// assert!(Quantity::new(-1.0).is_err());
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Default)]
pub struct Quantity(f64);

impl Quantity {
    /// Zero.
    pub const ZERO: Self = Self(0.0);

    /// Validates `value` as a quantity (finite, `>= 0`).
    pub fn new(value: f64) -> Result<Self, ValueError> {
        Self::named("quantity", value)
    }

    /// Like [`Quantity::new`] but names `field` in the error.
    #[inline]
    pub fn named(field: &'static str, value: f64) -> Result<Self, ValueError> {
        if !value.is_finite() {
            Err(ValueError::NotFinite { field, value })
        } else if value < 0.0 {
            Err(ValueError::Negative { field, value })
        } else {
            Ok(Self(value + 0.0))
        }
    }

    /// The raw value.
    pub const fn get(self) -> f64 {
        self.0
    }

    /// Whether the quantity is exactly zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0.0
    }

    /// `self - other`, floored at zero.
    pub fn saturating_sub(self, other: Self) -> Self {
        Self((self.0 - other.0).max(0.0))
    }

    /// The smaller of two quantities.
    pub fn min(self, other: Self) -> Self {
        if other.0 < self.0 { other } else { self }
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl std::hash::Hash for Quantity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl std::ops::Add for Quantity {
    type Output = Self;
    /// Sum of two finite non-negative values; an overflow to infinity saturates at `f64::MAX`.
    fn add(self, rhs: Self) -> Self {
        Self((self.0 + rhs.0).min(f64::MAX))
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::fmt::Debug for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Quantity({})", self.0)
    }
}

impl TryFrom<f64> for Quantity {
    type Error = ValueError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Quantity> for f64 {
    fn from(q: Quantity) -> Self {
        q.0
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_negative_and_non_finite() {
        assert!(matches!(
            Quantity::named("volume", -0.1),
            Err(ValueError::Negative {
                field: "volume",
                ..
            })
        ));
        assert!(matches!(
            Quantity::named("volume", f64::NAN),
            Err(ValueError::NotFinite {
                field: "volume",
                ..
            })
        ));
        assert!(Quantity::new(f64::INFINITY).is_err());
        assert_eq!(Quantity::new(-0.0).unwrap().get().to_bits(), 0f64.to_bits());
    }

    #[test]
    fn arithmetic_stays_valid() {
        let a = Quantity::new(3.0).unwrap();
        let b = Quantity::new(5.0).unwrap();
        assert_eq!(a.saturating_sub(b), Quantity::ZERO);
        assert_eq!((a + b).get(), 8.0);
        assert_eq!(a.min(b), a);
        let big = Quantity::new(f64::MAX).unwrap();
        assert!((big + big).get().is_finite());
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let q = Quantity::new(0.003).unwrap();
        let back: Quantity = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
        assert_eq!(back, q);
        assert!(serde_json::from_str::<Quantity>("-1").is_err());
    }
}

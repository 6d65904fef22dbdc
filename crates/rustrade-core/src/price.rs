//! [`Price`]: a finite price.

use crate::ValueError;

/// A finite price in the quote currency. NaN and infinities cannot be represented.
///
/// Prices may be zero or negative (spreads, some futures), so sign checks belong to the users that
/// need them (the sizer refuses a price `<= 0`). `-0.0` is normalised to `0.0` so equal prices
/// hash alike.
///
/// ```
/// use rustrade_core::Price;
/// let p = Price::new(101.5)?;
/// assert_eq!(p.get(), 101.5);
/// assert!(Price::new(f64::NAN).is_err());
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Default)]
pub struct Price(f64);

impl Price {
    /// Zero.
    pub const ZERO: Self = Self(0.0);

    /// Validates `value` as a price (finite).
    pub fn new(value: f64) -> Result<Self, ValueError> {
        Self::named("price", value)
    }

    /// Like [`Price::new`] but names `field` in the error, for validating a struct's field.
    #[inline]
    pub fn named(field: &'static str, value: f64) -> Result<Self, ValueError> {
        if value.is_finite() {
            Ok(Self(value + 0.0))
        } else {
            Err(ValueError::NotFinite { field, value })
        }
    }

    /// Validates a strictly positive price, naming `field` in the error.
    pub fn positive(field: &'static str, value: f64) -> Result<Self, ValueError> {
        let p = Self::named(field, value)?;
        if value > 0.0 {
            Ok(p)
        } else {
            Err(ValueError::NotPositive { field, value })
        }
    }

    /// The raw value.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl Eq for Price {}

impl PartialOrd for Price {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Price {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl std::hash::Hash for Price {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl std::fmt::Display for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::fmt::Debug for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Price({})", self.0)
    }
}

impl TryFrom<f64> for Price {
    type Error = ValueError;
    fn try_from(v: f64) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Price> for f64 {
    fn from(p: Price) -> Self {
        p.0
    }
}

impl serde::Serialize for Price {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_finite_naming_the_field() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = Price::named("open", v).unwrap_err();
            assert!(matches!(err, ValueError::NotFinite { field: "open", .. }));
            assert!(err.to_string().starts_with("open: must be finite"), "{err}");
        }
        assert_eq!(Price::new(-3.0).unwrap().get(), -3.0);
    }

    #[test]
    fn positive_rejects_zero_and_negative() {
        assert!(matches!(
            Price::positive("limit_price", 0.0),
            Err(ValueError::NotPositive {
                field: "limit_price",
                ..
            })
        ));
        assert!(Price::positive("limit_price", -1.0).is_err());
        assert!(Price::positive("limit_price", 0.5).is_ok());
    }

    #[test]
    fn negative_zero_is_normalised() {
        assert_eq!(Price::new(-0.0).unwrap().get().to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let p = Price::new(123.25).unwrap();
        let back: Price = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        // JSON cannot carry NaN, but other formats can: the deserializer validates.
        assert!(serde_json::from_str::<Price>("null").is_err());
        assert!(serde_json::from_str::<Price>("1e999").is_err());
    }
}

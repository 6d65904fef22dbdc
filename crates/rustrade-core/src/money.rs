//! [`Money`]: a finite signed amount of a currency (fees, PnL, balances).

use crate::ValueError;

/// A finite signed amount in some currency. Fees may be negative (maker rebates).
#[derive(Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Money(f64);

impl Money {
    /// Zero.
    pub const ZERO: Self = Self(0.0);

    /// Validates `value` (finite), naming `field` in the error.
    pub fn named(field: &'static str, value: f64) -> Result<Self, ValueError> {
        if value.is_finite() {
            Ok(Self(value + 0.0))
        } else {
            Err(ValueError::NotFinite { field, value })
        }
    }

    /// Validates `value` (finite).
    pub fn new(value: f64) -> Result<Self, ValueError> {
        Self::named("amount", value)
    }

    /// The raw value.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::fmt::Debug for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Money({})", self.0)
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_any_sign() {
        assert_eq!(Money::new(-0.5).unwrap().get(), -0.5);
        let e = Money::named("fee", f64::NAN).unwrap_err();
        assert!(e.to_string().starts_with("fee: must be finite"));
        let m = Money::new(1.25).unwrap();
        let back: Money = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}

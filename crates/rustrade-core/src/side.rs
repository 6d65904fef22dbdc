//! [`Side`]: buy or sell.

/// Direction of an order or fill.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy (increases a position).
    Buy,
    /// Sell (decreases a position).
    Sell,
}

impl Side {
    /// The other side.
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// `+1.0` for a buy, `-1.0` for a sell: the sign a fill of this side adds to a position.
    pub const fn sign(self) -> f64 {
        match self {
            Self::Buy => 1.0,
            Self::Sell => -1.0,
        }
    }

    /// Upper-case wire name (`BUY`/`SELL`), as most venues spell it.
    pub const fn as_wire(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opposite_and_sign() {
        assert_eq!(Side::Buy.opposite(), Side::Sell);
        assert_eq!(Side::Sell.opposite().opposite(), Side::Sell);
        assert_eq!(Side::Buy.sign(), 1.0);
        assert_eq!(Side::Sell.sign(), -1.0);
        assert_eq!(Side::Sell.as_wire(), "SELL");
    }

    #[test]
    fn serde_round_trip() {
        for s in [Side::Buy, Side::Sell] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Side>(&json).unwrap(), s);
        }
        assert_eq!(serde_json::to_string(&Side::Buy).unwrap(), "\"buy\"");
    }
}

//! [`Capabilities`]: the set of venue features the capability gate checks, as a bitset.

use rustrade_core::Capability;

/// Every capability this crate knows, in bit order.
const KNOWN: [Capability; 12] = Capability::ALL;

/// A set of [`Capability`] values, `Copy` and allocation-free, built once per venue from
/// `ExchangeClient::supports` and handed to every gate evaluation.
///
/// A capability this crate does not know (core's enum is non-exhaustive) is never contained, so
/// an order needing it is refused rather than sent blind.
///
/// ```
/// use rustrade_core::Capability;
/// use rustrade_risk::Capabilities;
///
/// let caps = Capabilities::from_fn(|c| matches!(c, Capability::MarketOrders | Capability::LimitOrders));
/// assert!(caps.contains(Capability::LimitOrders));
/// assert!(!caps.contains(Capability::PostOnly));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(u16);

impl Capabilities {
    /// No capability at all.
    pub const NONE: Self = Self(0);

    /// Every capability this crate knows.
    pub fn all() -> Self {
        Self::from_fn(|_| true)
    }

    /// The capabilities for which `supports` answers `true` (e.g. `|c| client.supports(c)`).
    pub fn from_fn(supports: impl Fn(Capability) -> bool) -> Self {
        KNOWN
            .iter()
            .filter(|&&c| supports(c))
            .fold(Self::NONE, |set, &c| set.with(c))
    }

    /// This set plus `capability`.
    #[must_use]
    pub fn with(self, capability: Capability) -> Self {
        match bit(capability) {
            Some(b) => Self(self.0 | b),
            None => self,
        }
    }

    /// This set without `capability`.
    #[must_use]
    pub fn without(self, capability: Capability) -> Self {
        match bit(capability) {
            Some(b) => Self(self.0 & !b),
            None => self,
        }
    }

    /// Whether `capability` is in the set.
    pub fn contains(self, capability: Capability) -> bool {
        bit(capability).is_some_and(|b| self.0 & b != 0)
    }

    /// The capabilities in the set, in a fixed order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        KNOWN.into_iter().filter(move |&c| self.contains(c))
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter().fold(Self::NONE, Self::with)
    }
}

fn bit(capability: Capability) -> Option<u16> {
    KNOWN
        .iter()
        .position(|&c| c == capability)
        .map(|i| 1u16 << i)
}

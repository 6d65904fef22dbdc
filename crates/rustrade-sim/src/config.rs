//! [`SimConfig`]: everything that shapes a simulated venue, validated in one place.

use std::collections::BTreeSet;

use rustrade_core::{Asset, Capability, Venue};

use crate::error::{SimError, check_range};
use crate::{FeeModel, LatencyModel, SlippageModel};

/// Configuration of a [`SimVenue`](crate::SimVenue). Build it with [`SimConfig::default`] and the
/// `with_*` methods (or struct update syntax); [`SimVenue::new`](crate::SimVenue::new) validates
/// it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimConfig {
    /// Venue name reported in market events and by the paper exchange.
    pub venue: Venue,
    /// The cash asset; fees and funding are charged in it.
    pub quote_asset: Asset,
    /// Cash at start, finite and `>= 0`.
    pub initial_cash: f64,
    /// Let orders submitted with zero latency act on the last seen price (a candle's close)
    /// instead of the next event's open. Off by default: it assumes a decision can be made and
    /// executed at the very price it was computed from.
    pub trade_on_close: bool,
    /// Largest share of an event's volume (on each side) our fills may take, in `(0, 1]`;
    /// `None` for no cap. Orders beyond it fill partly and rest.
    pub participation: Option<f64>,
    /// Fees per fill.
    pub fees: FeeModel,
    /// Slippage of taker fills.
    pub slippage: SlippageModel,
    /// When orders reach the venue.
    pub latency: LatencyModel,
    /// Refuse an order that would raise gross exposure above `max_leverage × equity`
    /// (`InsufficientFunds`); `None` for no check.
    pub max_leverage: Option<f64>,
    /// What the venue supports; orders needing anything else are rejected `Unsupported`.
    pub capabilities: BTreeSet<Capability>,
    /// Seed of the venue's random generator (latency draws).
    pub seed: u64,
}

impl SimConfig {
    /// Every capability the simulated venue can offer.
    pub fn all_capabilities() -> BTreeSet<Capability> {
        Capability::ALL.into_iter().collect()
    }

    /// Sets the starting cash.
    pub fn with_initial_cash(mut self, cash: f64) -> Self {
        self.initial_cash = cash;
        self
    }

    /// Sets the fee model.
    pub fn with_fees(mut self, fees: FeeModel) -> Self {
        self.fees = fees;
        self
    }

    /// Sets the slippage model.
    pub fn with_slippage(mut self, slippage: SlippageModel) -> Self {
        self.slippage = slippage;
        self
    }

    /// Sets the latency model.
    pub fn with_latency(mut self, latency: LatencyModel) -> Self {
        self.latency = latency;
        self
    }

    /// Turns `trade_on_close` on or off.
    pub fn with_trade_on_close(mut self, on: bool) -> Self {
        self.trade_on_close = on;
        self
    }

    /// Caps fills at `rate` of each event's volume.
    pub fn with_participation(mut self, rate: f64) -> Self {
        self.participation = Some(rate);
        self
    }

    /// Removes a capability (a venue without stop orders, without post-only, ...).
    pub fn without(mut self, capability: Capability) -> Self {
        self.capabilities.remove(&capability);
        self
    }

    /// Checks every field; the error names the field and the value.
    pub fn validate(&self) -> Result<(), SimError> {
        check_range("initial_cash", self.initial_cash, 0.0, f64::MAX)?;
        if let Some(rate) = self.participation {
            check_range("participation", rate, f64::MIN_POSITIVE, 1.0)?;
        }
        if let Some(lev) = self.max_leverage {
            check_range("max_leverage", lev, f64::MIN_POSITIVE, 1_000.0)?;
        }
        self.fees.validate()?;
        self.slippage.validate()?;
        self.latency.validate()?;
        Ok(())
    }
}

impl Default for SimConfig {
    /// Venue `sim`, 10 000 USDT, no fees, slippage or latency, no participation cap, every
    /// capability, seed 0.
    fn default() -> Self {
        Self {
            venue: Venue::new("sim").expect("\"sim\" is a valid venue name"),
            quote_asset: Asset::new("USDT").expect("\"USDT\" is a valid asset code"),
            initial_cash: 10_000.0,
            trade_on_close: false,
            participation: None,
            fees: FeeModel::ZERO,
            slippage: SlippageModel::None,
            latency: LatencyModel::Zero,
            max_leverage: None,
            capabilities: Self::all_capabilities(),
            seed: 0,
        }
    }
}

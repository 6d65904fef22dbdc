//! [`Brains`]: the registered brains, by index, with what each one's orders and fills did.
//!
//! # Invariants
//!
//! - The table is fixed at construction: one entry per configured brain, in config order, so a
//!   [`BrainId`] is an index into it for the engine's whole life (and across a restore, which
//!   refuses other brains).
//! - Statistics only count up; each is moved by the one engine rule that counts it (an order
//!   placed, an entry refused, a fill applied, a round trip closed).

use crate::BrainId;

/// Per-brain attribution: what a brain's orders and fills did.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct BrainStats {
    /// Orders placed for the brain (entries, exits and legs).
    pub orders_placed: u64,
    /// Entries refused by the gates or the order rules.
    pub refusals: u64,
    /// Fills applied.
    pub fills: u64,
    /// Round trips closed.
    pub trades: u64,
    /// Round trips closed with a positive net.
    pub wins: u64,
    /// Round trips closed with a negative net.
    pub losses: u64,
    /// Realised PnL, net of fees of both legs.
    pub realised_pnl: f64,
    /// Fees paid.
    pub fees: f64,
}

/// The brain table; serialised as the list of `{name, stats}` in brain order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Brains(Vec<BrainState>);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct BrainState {
    name: String,
    stats: BrainStats,
}

impl Brains {
    /// One entry per name, in order, with zero statistics (names are checked by the config).
    pub(crate) fn new(names: &[String]) -> Self {
        Self(
            names
                .iter()
                .map(|n| BrainState {
                    name: n.clone(),
                    stats: BrainStats::default(),
                })
                .collect(),
        )
    }

    /// The id of the brain registered as `name`.
    pub(crate) fn id(&self, name: &str) -> Option<BrainId> {
        self.0
            .iter()
            .position(|b| b.name == name)
            .and_then(|i| u32::try_from(i).ok())
            .map(BrainId)
    }

    pub(crate) fn name(&self, brain: BrainId) -> Option<&str> {
        self.0.get(brain.index()).map(|b| b.name.as_str())
    }

    /// The names, in brain order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|b| b.name.as_str())
    }

    pub(crate) fn stats(&self, brain: BrainId) -> Option<BrainStats> {
        self.0.get(brain.index()).map(|b| b.stats)
    }

    /// Whether `brain` is registered.
    #[inline]
    pub(crate) fn contains(&self, brain: BrainId) -> bool {
        brain.index() < self.0.len()
    }

    /// Counts an order placed for a registered `brain`.
    #[inline]
    pub(crate) fn placed(&mut self, brain: BrainId) {
        let stats = &mut self.0[brain.index()].stats;
        stats.orders_placed = stats.orders_placed.saturating_add(1);
    }

    /// Counts an entry refused for a registered `brain`.
    #[inline]
    pub(crate) fn refused(&mut self, brain: BrainId) {
        let stats = &mut self.0[brain.index()].stats;
        stats.refusals = stats.refusals.saturating_add(1);
    }

    /// Counts a fill applied for a registered `brain`, with its fee and realised PnL.
    #[inline]
    pub(crate) fn filled(&mut self, brain: BrainId, fee: f64, realised: f64) {
        let stats = &mut self.0[brain.index()].stats;
        stats.fills = stats.fills.saturating_add(1);
        stats.fees += fee;
        stats.realised_pnl += realised;
    }

    /// Counts a round trip closed by a registered `brain`, won or lost by its net PnL.
    #[inline]
    pub(crate) fn closed_trade(&mut self, brain: BrainId, net_pnl: f64) {
        let stats = &mut self.0[brain.index()].stats;
        stats.trades = stats.trades.saturating_add(1);
        if net_pnl > 0.0 {
            stats.wins = stats.wins.saturating_add(1);
        } else if net_pnl < 0.0 {
            stats.losses = stats.losses.saturating_add(1);
        }
    }
}

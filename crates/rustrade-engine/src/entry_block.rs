//! Why new entries are refused while exits and protective orders still go.
//!
//! # Rules
//!
//! - Each [`EntryBlock`] is raised and cleared on its own; entries are refused while any is
//!   raised, with the label of the first raised block in declaration order (the operator's
//!   pause first). Exits, protective legs and engine-triggered exits are never blocked.
//! - [`EntryBlock::Operator`] and [`EntryBlock::Drift`] are decisions that outlive a restart:
//!   they are in the snapshot and replayed from the journal. The others describe the bot's
//!   surroundings at this moment (a feed, a store); the driver raises and clears them from what
//!   it observes, so a restart starts with them clear.
//! - Every change is journalled ([`crate::EngineEvent::EntryBlock`], or
//!   [`crate::EngineEvent::EntriesPaused`] for the operator's pause).
//! - A stale market event (older than [`crate::EngineConfig::max_event_age`] when the brain's
//!   decision arrives) refuses that one entry with the label `stale_event`; it raises nothing.

use rustrade_core::Timestamp;

use crate::{Engine, EngineEvent};

/// One reason new entries are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryBlock {
    /// The operator paused entries ([`Engine::set_entries_paused`]).
    Operator,
    /// The venue's position differed from ours and the drift policy is
    /// [`DriftPolicy::HaltEntries`]: refused until [`Engine::acknowledge_drift`].
    Drift,
    /// Fill routing is down: fills would not reach the engine, so new exposure would go
    /// untracked.
    FillRouting,
    /// Market data has been silent beyond the bot's silence timeout.
    MarketData,
    /// The state store refused a write: a new order could not be journalled before it is sent.
    Store,
}

impl EntryBlock {
    /// Every block, in the order their labels take precedence.
    pub const ALL: [Self; 5] = [
        Self::Operator,
        Self::Drift,
        Self::FillRouting,
        Self::MarketData,
        Self::Store,
    ];

    /// The refusal label of entries refused for this reason (stable, for metrics and alerts).
    pub fn label(self) -> &'static str {
        match self {
            Self::Operator => "entries_paused",
            Self::Drift => "drift_unacknowledged",
            Self::FillRouting => "fill_routing_down",
            Self::MarketData => "market_data_silent",
            Self::Store => "store_unwritable",
        }
    }

    /// A sentence for the refusal record and health.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Operator => "new entries are paused by the operator; exits are still allowed",
            Self::Drift => {
                "the venue's position differed from the bot's; entries wait for the operator to acknowledge"
            }
            Self::FillRouting => "fill routing is down; entries wait until fills flow again",
            Self::MarketData => "market data is silent; entries wait until it flows again",
            Self::Store => "the state store cannot write; entries wait until it can",
        }
    }

    /// Whether the block is kept across a restart (in the snapshot and replayed).
    pub fn is_persistent(self) -> bool {
        matches!(self, Self::Operator | Self::Drift)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl std::fmt::Display for EntryBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The set of raised [`EntryBlock`]s (a bit set: `Copy`, no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryBlocks(u8);

impl EntryBlocks {
    /// Whether `block` is raised.
    pub fn contains(self, block: EntryBlock) -> bool {
        self.0 & block.bit() != 0
    }

    /// Whether no block is raised.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raised block whose label a refusal carries (see the module rules).
    pub fn first(self) -> Option<EntryBlock> {
        EntryBlock::ALL.into_iter().find(|b| self.contains(*b))
    }

    /// The raised blocks, in precedence order.
    pub fn iter(self) -> impl Iterator<Item = EntryBlock> {
        EntryBlock::ALL
            .into_iter()
            .filter(move |b| self.contains(*b))
    }

    pub(crate) fn set(&mut self, block: EntryBlock, raised: bool) -> bool {
        let before = self.0;
        if raised {
            self.0 |= block.bit();
        } else {
            self.0 &= !block.bit();
        }
        before != self.0
    }
}

/// What the engine does when the venue reports a position that differs from its own (a manual
/// trade, a fill the bot never heard of) after catch-up has applied every fill it could find.
/// The venue's position is adopted in every case: the engine never trades against a position
/// it knows to be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftPolicy {
    /// Adopt, and refuse new entries on every symbol ([`EntryBlock::Drift`]) until the operator
    /// acknowledges ([`Engine::acknowledge_drift`]). Exits still go.
    #[default]
    HaltEntries,
    /// Adopt, attribute the difference to the brain holding the largest position, and go on.
    Adopt,
    /// Adopt, then close the whole position on the drifted symbol with reduce-only exits.
    Flatten,
}

impl Engine {
    /// Raises or clears one entry block at `now`; journalled when it changes. Returns whether it
    /// changed.
    pub fn set_entry_block(&mut self, block: EntryBlock, raised: bool, now: Timestamp) -> bool {
        if !self.risk.set_block(block, raised) {
            return false;
        }
        self.out.event(if block == EntryBlock::Operator {
            EngineEvent::EntriesPaused {
                paused: raised,
                time: now,
            }
        } else {
            EngineEvent::EntryBlock {
                block,
                raised,
                time: now,
            }
        });
        true
    }

    /// The raised entry blocks.
    pub fn entry_blocks(&self) -> EntryBlocks {
        self.risk.blocks()
    }

    /// The operator's acknowledgement of a position drift: clears [`EntryBlock::Drift`].
    /// Returns whether entries were waiting for it.
    pub fn acknowledge_drift(&mut self, now: Timestamp) -> bool {
        self.set_entry_block(EntryBlock::Drift, false, now)
    }
}

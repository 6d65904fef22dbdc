//! Degraded mode: the entry blocks the bot raises from what it observes around the engine.
//!
//! The engine owns the rule (entries refused with a typed reason while a block is raised, exits
//! and protective orders never); the services only report what they see:
//!
//! - **fill routing**: raised when the fill stream's run ends (error, end of stream, circuit
//!   open), cleared once it is connected again and the missed fills are caught up;
//! - **market data**: raised when a market source fails or stays silent beyond
//!   `market_silence_timeout`, cleared by the next event, before any brain sees it;
//! - **store**: raised when a journal write fails, cleared by the next write that succeeds.
//!
//! Each block is mirrored in one bit of [`Driver::observed_blocks`], so reporting an unchanged
//! condition costs an atomic load, not an engine step.

use std::sync::atomic::Ordering;

use rustrade_engine::EntryBlock;

use crate::driver::Driver;

impl Driver {
    /// Reports that `block`'s condition holds (`raised`) or has cleared, and raises or clears
    /// the engine's block when that changes it.
    pub(crate) async fn report_condition(&self, block: EntryBlock, raised: bool) {
        if self.note_block(block, raised).is_some() {
            self.step(move |e, now| e.set_entry_block(block, raised, now))
                .await;
        }
    }

    /// Records `block` as raised or cleared in the mirror; `Some(raised)` when that changed it
    /// (the caller then tells the engine).
    pub(crate) fn note_block(&self, block: EntryBlock, raised: bool) -> Option<bool> {
        let bit = 1u8 << (block as u8);
        let before = if raised {
            self.observed_blocks.fetch_or(bit, Ordering::AcqRel)
        } else {
            self.observed_blocks.fetch_and(!bit, Ordering::AcqRel)
        };
        ((before & bit != 0) != raised).then_some(raised)
    }

    /// Whether this driver holds `block` raised.
    pub(crate) fn holds_block(&self, block: EntryBlock) -> bool {
        self.observed_blocks.load(Ordering::Acquire) & (1u8 << (block as u8)) != 0
    }
}

//! Two minimal brains that measure the framework rather than a strategy: [`Hold`] never trades,
//! [`Periodic`] opens a position every `period` events and closes it half a period later.
//!
//! They are what the benchmarks replay ("a hold brain" and "a brain trading every 10 candles")
//! and what the end-to-end tests use, so their behaviour is part of this crate's contract:
//! `Periodic` counts the events it sees (per brain, across symbols) starting at 0; at count
//! `k`, it buys when `k % period == 0` and it is flat, and closes when
//! `k % period == period / 2`.

use std::sync::atomic::{AtomicU64, Ordering};

use rustrade_core::{Brain, BrainError, BrainHealth, Decision, MarketEvent, Position, SizeHint};

/// Never trades. Allocates nothing.
#[derive(Debug)]
pub struct Hold {
    name: &'static str,
}

impl Hold {
    /// A hold brain named `hold`.
    pub fn new() -> Self {
        Self { name: "hold" }
    }

    /// A hold brain with another name (for several in one run).
    pub fn named(name: &'static str) -> Self {
        Self { name }
    }
}

impl Default for Hold {
    fn default() -> Self {
        Self::new()
    }
}

#[rustrade_core::async_trait]
impl Brain for Hold {
    fn name(&self) -> &str {
        self.name
    }

    #[inline]
    fn on_event(&self, _event: &MarketEvent, _position: &Position) -> Result<Decision, BrainError> {
        Ok(Decision::hold())
    }
}

/// Buys every `period` events and closes half a period later (see the module doc).
#[derive(Debug)]
pub struct Periodic {
    name: String,
    period: u64,
    size: SizeHint,
    seen: AtomicU64,
    trades: AtomicU64,
}

impl Periodic {
    /// A periodic brain named `periodic-{period}` with the default size; `period` is raised to at
    /// least 2.
    pub fn new(period: u64) -> Self {
        Self {
            name: format!("periodic-{period}"),
            period: period.max(2),
            size: SizeHint::Default,
            seen: AtomicU64::new(0),
            trades: AtomicU64::new(0),
        }
    }

    /// Sizes entries with `size` instead of the risk config's default.
    pub fn with_size(mut self, size: SizeHint) -> Self {
        self.size = size;
        self
    }

    /// Renames the brain.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

#[rustrade_core::async_trait]
impl Brain for Periodic {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_event(&self, _event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        let k = self.seen.fetch_add(1, Ordering::Relaxed);
        let phase = k % self.period;
        Ok(if phase == 0 && position.is_flat() {
            self.trades.fetch_add(1, Ordering::Relaxed);
            Decision::buy(1.0).with_size_hint(self.size)
        } else if phase == self.period / 2 && !position.is_flat() {
            Decision::close()
        } else {
            Decision::hold()
        })
    }

    async fn health(&self) -> BrainHealth {
        BrainHealth::ok().with_events(
            self.seen.load(Ordering::Relaxed),
            self.trades.load(Ordering::Relaxed),
        )
    }
}

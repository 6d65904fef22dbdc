//! The step protocol: every input reaches the engine here, is journalled, then executed (see
//! the [module doc](super)).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustrade_core::{MetricsSink as _, Position, Timestamp};
use rustrade_engine::{Engine, EngineEvent};

use super::{Batch, Driver, EngineSlot, FollowUp, lock};
use crate::metrics::names;
use crate::services::validate_report;

impl Driver {
    /// Marks the engine with `event` unless an earlier service already did (first sight of a
    /// newer event per symbol), after handing it to the market hook, and returns `brain`'s
    /// position for the brain call. Journals and executes only when marking produced outputs
    /// (an emulated stop fired).
    ///
    /// Lock order: the engine lock (which also guards the per-symbol marks), then whatever the
    /// hook locks (a paper venue); nothing locks them the other way round.
    pub(crate) async fn mark_and_position(
        &self,
        event: &rustrade_core::MarketEvent,
        brain: rustrade_engine::BrainId,
    ) -> Position {
        let batch = {
            let mut guard = lock(&self.engine);
            let EngineSlot {
                engine,
                last_marked,
            } = &mut *guard;
            let Some(engine) = engine.as_mut() else {
                return Position::FLAT;
            };
            // Checked and marked under the engine lock, so no brain decides on an event before
            // the hook and the engine have seen it.
            match last_marked.get_mut(&event.symbol) {
                Some(t) if event.time <= *t => {
                    return engine.brain_position(brain, &event.symbol);
                }
                Some(t) => *t = event.time,
                None => {
                    last_marked.insert(event.symbol, event.time);
                }
            }
            if let Some(hook) = self.market_hook.get() {
                hook(event);
            }
            self.apply_venue_reports(engine);
            engine.handle_market(event);
            if engine.pending_events() == 0 && engine.pending_commands() == 0 {
                // Nothing to journal or execute: no time is needed.
                return engine.brain_position(brain, &event.symbol);
            }
            let now = self.now();
            self.drain(engine, now)
        };
        self.complete(batch).await;
        self.read(|e| e.brain_position(brain, &event.symbol))
            .unwrap_or(Position::FLAT)
    }
    /// One engine step: `input`, then journal, then execute, then feed outcomes back.
    pub(crate) async fn step<R>(
        &self,
        input: impl FnOnce(&mut Engine, Timestamp) -> R,
    ) -> Option<R> {
        self.step_with_progress(None, input).await
    }
    /// [`step`](Self::step) for a brain's decision: `progress`, the brain's market progress
    /// through the event it decided on, is written in the batch of the decision's records.
    pub(crate) async fn step_with_progress<R>(
        &self,
        progress: Option<crate::progress::Entry>,
        input: impl FnOnce(&mut Engine, Timestamp) -> R,
    ) -> Option<R> {
        let now = self.now();
        let (out, batch) = {
            let mut guard = lock(&self.engine);
            let engine = guard.engine.as_mut()?;
            self.apply_venue_reports(engine);
            let out = input(engine, now);
            (out, self.drain_with_progress(engine, now, progress))
        };
        self.complete(batch).await;
        Some(out)
    }
    /// Applies fills from the venue (its stream or a catch-up), each exactly once, in one step.
    ///
    /// This is the one place the rule "has this fill been applied?" is decided (see
    /// [`store::applied_fills`](crate::store::applied_fills)): a fill the engine's window
    /// recalls is a duplicate (the engine reports it); one it does not recall is looked up in
    /// the store's durable record first, and one found there is reported to the engine as
    /// applied before. Only the rest are applied, and their records are written with the
    /// step's journal records, in one batch. The window is checked again inside the step, so a
    /// copy applied by a concurrent step while the store was asked is still caught.
    ///
    /// If the store cannot be read, nothing is applied and the error is returned: the fills
    /// stay behind the engine's fill cursor, where the next catch-up lists them again.
    pub(crate) async fn apply_fills(
        &self,
        fills: Vec<rustrade_core::Fill>,
    ) -> Result<(), rustrade_core::StoreError> {
        let mut before = std::collections::BTreeSet::new();
        if let Some(store) = self.store() {
            let missed: Vec<rustrade_core::FillId> = self
                .read(|e| {
                    fills
                        .iter()
                        .filter(|f| !e.recalls_fill(&f.fill_id))
                        .map(|f| f.fill_id)
                        .collect()
                })
                .unwrap_or_default();
            for id in missed {
                match crate::store::applied_fills::is_recorded(store.as_ref(), &id).await {
                    Ok(true) => {
                        before.insert(id);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        self.counters.store_errors.fetch_add(1, Ordering::Relaxed);
                        self.metrics.counter(names::STORE_ERRORS, &[], 1);
                        tracing::error!(fill_id = %id, error = %e, "applied-fill record unreadable; fills left for the next catch-up");
                        return Err(e);
                    }
                }
            }
        }
        self.step(move |engine, now| {
            for fill in &fills {
                if before.contains(&fill.fill_id) {
                    engine.handle_fill_applied_before(fill, now);
                } else {
                    engine.handle_fill(fill, fill.time);
                }
            }
        })
        .await;
        Ok(())
    }
    /// Journals and executes `batch`, then feeds every command's outcome back until none is left.
    pub(super) async fn complete(&self, batch: Batch) {
        let mut queue = VecDeque::new();
        self.finish(batch, &mut queue).await;
        let synchronous_reports = self.venue_reports.get().is_some();
        loop {
            let follow = queue.pop_front();
            if follow.is_none() && !synchronous_reports {
                break;
            }
            let now = self.now();
            let batch = {
                let mut guard = lock(&self.engine);
                let Some(engine) = guard.engine.as_mut() else {
                    break;
                };
                match follow {
                    Some(FollowUp::Accepted(c, o)) => engine.handle_accepted(c, o, now),
                    Some(FollowUp::Unknown(c)) => engine.handle_place_unknown(c, now),
                    Some(FollowUp::Rejected(c, r)) => engine.handle_rejected(c, r, now),
                    Some(FollowUp::Cancelled(c, o)) => engine.handle_cancelled(Some(c), o, now),
                    Some(FollowUp::Block(b, raised)) => {
                        engine.set_entry_block(b, raised, now);
                    }
                    None => {}
                }
                let applied = self.apply_venue_reports(engine);
                if follow.is_none() && applied == 0 {
                    break;
                }
                self.drain(engine, now)
            };
            self.finish(batch, &mut queue).await;
        }
    }
    /// Hands the simulated venue's queued reports to the engine, in order; returns how many.
    /// Does nothing unless [`set_venue_reports`](Self::set_venue_reports) was called.
    pub(super) fn apply_venue_reports(&self, engine: &mut Engine) -> usize {
        let Some(queue) = self.venue_reports.get() else {
            return 0;
        };
        let mut queue = lock(queue);
        let mut applied = 0;
        while let Some(report) = queue.try_next_report() {
            applied += 1;
            match validate_report(&report) {
                Ok(()) => engine.handle_report(&report),
                Err(e) => self.report_dropped(e.label(), &e),
            }
        }
        applied
    }
    pub(super) fn drain(&self, engine: &mut Engine, now: Timestamp) -> Batch {
        self.drain_with_progress(engine, now, None)
    }
    fn drain_with_progress(
        &self,
        engine: &mut Engine,
        now: Timestamp,
        progress: Option<crate::progress::Entry>,
    ) -> Batch {
        #[cfg(debug_assertions)]
        if let Err(e) = engine.check_invariants() {
            panic!("{e}");
        }
        let first_seq = engine.journal_seq() + 1;
        // Sized up front: events are large, and growing the buffer would move them again.
        let mut events = Vec::with_capacity(engine.pending_events());
        while let Some(e) = engine.poll_event() {
            events.push(e);
        }
        let mut commands = Vec::with_capacity(engine.pending_commands());
        while let Some(c) = engine.poll_command() {
            commands.push(c);
        }
        let mut pnl = Vec::new();
        for e in &events {
            if let EngineEvent::TradeClosed { symbol, .. } = e {
                pnl.push((*symbol, engine.position(symbol).realised_pnl));
            }
        }
        let events = Arc::new(events);
        let durable_at = if self.store().is_some() && !events.is_empty() {
            let snapshot = self
                .journal
                .snapshot_due(engine.journal_seq())
                .then(|| Box::new(engine.snapshot(now)));
            // Queued under the engine lock: steps reach the store in the engine's order.
            self.journal
                .enqueue(first_seq, Arc::clone(&events), snapshot, now, progress)
        } else {
            if let Some((brain, _)) = progress {
                // Nothing to journal: the progress waits for the next batch.
                self.journal.progress.mark_dirty(brain);
            }
            0
        };
        Batch {
            durable_at,
            events,
            commands,
            pnl,
        }
    }
}

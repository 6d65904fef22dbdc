//! [`Outbox`]: the engine's two output queues (journal events, venue commands) and the journal
//! sequence number.
//!
//! # Invariants
//!
//! - `journal_seq` is the number of events handed out over the engine's whole life (a restored
//!   engine continues its snapshot's count): polling or taking events is the only way it moves
//!   forward, and replay sets it to the record it has just applied.
//! - Events and commands leave in the order they were pushed.

use std::collections::VecDeque;

use crate::{Command, EngineEvent};

/// The output queues of an engine and the count of events handed out.
#[derive(Debug)]
pub(crate) struct Outbox {
    commands: VecDeque<Command>,
    events: VecDeque<EngineEvent>,
    /// Journal events handed out so far: the sequence number of the newest one.
    journal_seq: u64,
}

/// Where the queues stood at one moment, to look at or drop what was pushed after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutboxMark {
    events: usize,
    commands: usize,
}

impl Outbox {
    pub(crate) fn new() -> Self {
        Self {
            commands: VecDeque::with_capacity(16),
            events: VecDeque::with_capacity(32),
            journal_seq: 0,
        }
    }

    /// Queues a journal event.
    #[inline(always)]
    pub(crate) fn event(&mut self, event: EngineEvent) {
        self.events.push_back(event);
    }

    /// Queues a venue command.
    #[inline(always)]
    pub(crate) fn command(&mut self, command: Command) {
        self.commands.push_back(command);
    }

    #[inline]
    pub(crate) fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    #[inline]
    pub(crate) fn poll_event(&mut self) -> Option<EngineEvent> {
        let event = self.events.pop_front();
        self.journal_seq += u64::from(event.is_some());
        event
    }

    #[inline]
    pub(crate) fn take_events(&mut self, into: &mut VecDeque<EngineEvent>) {
        self.journal_seq += self.events.len() as u64;
        hand_over(&mut self.events, into);
    }

    #[inline]
    pub(crate) fn take_commands(&mut self, into: &mut VecDeque<Command>) {
        hand_over(&mut self.commands, into);
    }

    #[inline]
    pub(crate) fn pending_commands(&self) -> usize {
        self.commands.len()
    }

    #[inline]
    pub(crate) fn pending_events(&self) -> usize {
        self.events.len()
    }

    #[inline]
    pub(crate) fn journal_seq(&self) -> u64 {
        self.journal_seq
    }

    /// The journal record `seq` has been applied by replay: the count follows it.
    pub(crate) fn replayed(&mut self, seq: u64) {
        self.journal_seq = seq;
    }

    /// Where the queues stand now.
    pub(crate) fn mark(&self) -> OutboxMark {
        OutboxMark {
            events: self.events.len(),
            commands: self.commands.len(),
        }
    }

    /// The events pushed since `mark`.
    pub(crate) fn events_since(&self, mark: OutboxMark) -> impl Iterator<Item = &EngineEvent> {
        self.events.iter().skip(mark.events)
    }

    /// Drops every event and command pushed since `mark`.
    pub(crate) fn rewind(&mut self, mark: OutboxMark) {
        self.commands.truncate(mark.commands);
        self.events.truncate(mark.events);
    }

    /// Drops every waiting output (the count of events handed out stays).
    pub(crate) fn clear(&mut self) {
        self.commands.clear();
        self.events.clear();
    }

    /// The waiting outputs and the count, for a snapshot.
    pub(crate) fn parts(&self) -> (&VecDeque<Command>, &VecDeque<EngineEvent>, u64) {
        (&self.commands, &self.events, self.journal_seq)
    }

    /// Replaces the waiting outputs and the count with a snapshot's.
    pub(crate) fn restore(
        &mut self,
        commands: &VecDeque<Command>,
        events: &VecDeque<EngineEvent>,
        journal_seq: u64,
    ) {
        self.commands.clone_from(commands);
        self.events.clone_from(events);
        self.journal_seq = journal_seq;
    }
}

/// Moves all of `from` to the back of `into`, swapping the buffers when `into` is empty so no
/// element is moved and both allocations are kept.
#[inline]
fn hand_over<T>(from: &mut VecDeque<T>, into: &mut VecDeque<T>) {
    if into.is_empty() {
        std::mem::swap(from, into);
    } else {
        into.extend(from.drain(..));
    }
}

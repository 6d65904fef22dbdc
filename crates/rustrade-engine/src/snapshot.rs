//! [`EngineSnapshot`]: the whole engine state, versioned and serialisable, so a stopped bot
//! resumes exactly where it was.
//!
//! # Invariants
//!
//! - A snapshot holds positions (per brain and net), marks, live and recently retired orders,
//!   brackets and OCO groups, the risk state, the client-id sequence, the remembered fill ids,
//!   per-brain statistics and any outputs not yet polled. Restoring it under the same config and
//!   feeding the same inputs gives the same outputs as the engine it was taken from.
//! - Restore refuses a snapshot of an unknown version, another bot id, other brains (by name and
//!   order) or other instruments, naming what differs. It also refuses one whose contents
//!   disagree with that identity (an id sequence of another prefix, an order or bracket of an
//!   unknown brain or symbol), so a corrupted file is an error at restore, never a panic later.
//! - Risk reservations are taken again for entries still live and unfilled, oldest first.

use std::collections::{BTreeMap, VecDeque};

use rustrade_core::{ClientOrderId, Symbol, Timestamp};
use rustrade_risk::EntryRequest;

use crate::brackets::Brackets;
use crate::brains::Brains;
use crate::fill_memory::FillMemory;
use crate::gate::{RiskDesk, RiskDeskSnapshot};
use crate::positions::SymbolState;
use crate::{
    ClientIdSequence, Command, Engine, EngineConfig, EngineError, EngineEvent, OrderBook, OrderRole,
};

/// Version written by [`Engine::snapshot`]. [`Engine::restore`] also accepts every older
/// version and migrates it: version 1 lacks the journal position, which restores as 0.
pub const ENGINE_SNAPSHOT_VERSION: u32 = 2;

/// The serialisable state of an [`Engine`]. Opaque: store it (for example as JSON) and hand it
/// back to [`Engine::restore`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EngineSnapshot {
    /// Format version ([`ENGINE_SNAPSHOT_VERSION`]).
    pub version: u32,
    /// When it was taken (the time of the last input the driver passed).
    pub taken_at: Timestamp,
    /// The journal sequence number of the newest event handed out before it was taken: the
    /// snapshot covers journal records `1..=journal_seq`, and a restart replays the rest.
    #[serde(default)]
    pub journal_seq: u64,
    bot_id: String,
    brains: Brains,
    symbols: BTreeMap<Symbol, SymbolState>,
    orders: OrderBook,
    brackets: Brackets,
    ids: ClientIdSequence,
    risk: RiskDeskSnapshot,
    fills_seen: FillMemory,
    #[serde(default)]
    exit_retries: crate::exit_retry::ExitRetries,
    commands: VecDeque<Command>,
    events: VecDeque<EngineEvent>,
    /// The account's cash (see [`Engine::handle_balance`]); absent when never reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cash: Option<f64>,
}

impl Engine {
    /// The whole state at `now`. Take it after draining the outputs (unpolled outputs are kept
    /// in it, so nothing is lost either way).
    pub fn snapshot(&self, now: Timestamp) -> EngineSnapshot {
        let (commands, events, journal_seq) = self.out.parts();
        let (symbols, fills_seen, cash) = self.positions.snapshot();
        EngineSnapshot {
            version: ENGINE_SNAPSHOT_VERSION,
            taken_at: now,
            journal_seq,
            bot_id: self.config.bot_id.clone(),
            brains: self.brains.clone(),
            symbols,
            orders: self.orders.book().clone(),
            brackets: self.brackets.clone(),
            ids: self.ids.clone(),
            risk: self.risk.snapshot(),
            fills_seen,
            exit_retries: self.exit_retries.clone(),
            commands: commands.clone(),
            events: events.clone(),
            cash,
        }
    }

    /// Rebuilds an engine from `snapshot` under `config` at `now` (risk sessions and cooldowns
    /// that ended while stopped are honoured). Instrument specs and policies come from `config`.
    pub fn restore(
        config: EngineConfig,
        snapshot: &EngineSnapshot,
        now: Timestamp,
    ) -> Result<Self, EngineError> {
        if snapshot.version == 0 || snapshot.version > ENGINE_SNAPSHOT_VERSION {
            return Err(EngineError::Snapshot {
                field: "version",
                reason: format!(
                    "version {} cannot be restored (this build reads 1 to {ENGINE_SNAPSHOT_VERSION})",
                    snapshot.version
                ),
            });
        }
        if snapshot.bot_id != config.bot_id {
            return Err(EngineError::Snapshot {
                field: "bot_id",
                reason: format!(
                    "snapshot of {:?}, config {:?}",
                    snapshot.bot_id, config.bot_id
                ),
            });
        }
        let names: Vec<&str> = snapshot.brains.names().collect();
        if names != config.brains.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(EngineError::Snapshot {
                field: "brains",
                reason: format!("snapshot has {names:?}, config {:?}", config.brains),
            });
        }
        check_references(snapshot, &config)?;
        let mut engine = Self::new(config, now)?;
        engine.positions.restore(
            &snapshot.symbols,
            &snapshot.fills_seen,
            snapshot.cash,
            snapshot.taken_at,
        )?;
        engine.risk = RiskDesk::restore(&engine.config, &snapshot.risk, now)?;
        engine.brains.clone_from(&snapshot.brains);
        engine.orders.restore(&snapshot.orders);
        engine.brackets.clone_from(&snapshot.brackets);
        engine.ids = snapshot.ids.clone();
        engine.exit_retries = snapshot.exit_retries.clone();
        engine
            .out
            .restore(&snapshot.commands, &snapshot.events, snapshot.journal_seq);
        engine.retake_reservations(now);
        Ok(engine)
    }

    /// Takes the risk reservations of the live, unfilled entries again, oldest first.
    pub(crate) fn retake_reservations(&mut self, now: Timestamp) {
        let mut entries: Vec<(Timestamp, ClientOrderId, EntryRequest)> = self
            .orders
            .live()
            .filter(|o| o.role == OrderRole::Entry && o.filled.is_zero())
            .filter_map(|o| {
                let state = self.positions.get(&o.symbol())?;
                let price = o.order.limit_price.or(state.mark())?;
                Some((
                    o.created,
                    o.order.client_id,
                    EntryRequest {
                        symbol: o.symbol(),
                        side: o.order.side,
                        quantity: o.order.quantity,
                        price,
                        contract_value: state.spec().contract_value(),
                    },
                ))
            })
            .collect();
        entries.sort_by_key(|(created, cid, _)| (*created, *cid));
        let open: Vec<_> = self.positions.open_exposures().collect();
        self.orders.retake(
            entries.into_iter().map(|(_, cid, r)| (cid, r)),
            open.into_iter(),
            now,
            &mut self.risk,
        );
    }
}

/// Checks that what the snapshot refers to exists under `config`: the id sequence issues the
/// config's bot id, and every tracked order and bracket belongs to a configured brain and
/// instrument (the engine indexes its brain table and symbol map with them).
fn check_references(snapshot: &EngineSnapshot, config: &EngineConfig) -> Result<(), EngineError> {
    if snapshot.ids.prefix() != config.bot_id {
        return Err(EngineError::Snapshot {
            field: "ids",
            reason: format!(
                "client ids prefixed {:?}, config bot id {:?}",
                snapshot.ids.prefix(),
                config.bot_id
            ),
        });
    }
    let brains = config.brains.len();
    let known = |symbol: &Symbol| config.instruments.iter().any(|i| i.symbol() == *symbol);
    let orders = snapshot.orders.live().chain(snapshot.orders.retired());
    for o in orders {
        if o.brain.index() >= brains || !known(&o.symbol()) {
            return Err(EngineError::Snapshot {
                field: "orders",
                reason: format!(
                    "order {} belongs to {} on {}, config has {brains} brains and {:?}",
                    o.order.client_id,
                    o.brain,
                    o.symbol(),
                    config
                        .instruments
                        .iter()
                        .map(|i| i.symbol())
                        .collect::<Vec<_>>()
                ),
            });
        }
    }
    for b in snapshot.brackets.values() {
        if b.brain.index() >= brains || !known(&b.symbol) {
            return Err(EngineError::Snapshot {
                field: "brackets",
                reason: format!(
                    "bracket of {} belongs to {} on {}, config has {brains} brains",
                    b.entry, b.brain, b.symbol
                ),
            });
        }
    }
    Ok(())
}

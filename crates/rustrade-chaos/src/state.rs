//! [`StoredState`]: the bot's stored state read back while the bot is down, in the layout
//! the facade documents (`journal/<seq>-<time>` records, `engine/snapshot`, `engine/genesis`).

use rustrade_core::{Symbol, Timestamp};
use rustrade_engine::{Engine, EngineConfig, EngineEvent, EngineSnapshot, JournalRecord};

use crate::{ChaosError, StateLocation};

/// Everything the state file holds that the invariants read.
#[derive(Debug)]
pub struct StoredState {
    /// Journal records in sequence order.
    pub records: Vec<JournalRecord>,
    /// The newest snapshot, if any.
    pub snapshot: Option<EngineSnapshot>,
    /// When the engine's history began, if recorded.
    pub genesis: Option<Timestamp>,
}

/// The numbers the invariants compare, per symbol, from one engine.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineView {
    /// Per symbol: quantity, realised PnL, fees paid, session net, session wins, losses.
    pub symbols: Vec<(Symbol, [f64; 6])>,
    /// Client order id sequence the next order gets.
    pub next_sequence: u64,
}

impl EngineView {
    /// The view of `engine` over `symbols`.
    pub fn of(engine: &Engine, symbols: &[Symbol]) -> Self {
        let symbols = symbols
            .iter()
            .map(|s| {
                let ledger = engine.ledger(s).copied().unwrap_or_default();
                let risk = engine.symbol_risk(s);
                let session = risk.map_or([0.0; 3], |r| {
                    [
                        r.session_pnl.net(),
                        f64::from(r.session_pnl.wins()),
                        f64::from(r.session_pnl.losses()),
                    ]
                });
                (
                    *s,
                    [
                        ledger.quantity,
                        ledger.realised_pnl,
                        ledger.fees_paid,
                        session[0],
                        session[1],
                        session[2],
                    ],
                )
            })
            .collect();
        Self {
            symbols,
            next_sequence: engine.next_sequence(),
        }
    }

    /// Whether two views agree on every symbol (to a relative 1e-9 on money); the id
    /// sequence may differ, since a restored engine also skips ids past its store's epoch.
    pub fn agrees(&self, other: &Self) -> bool {
        self.symbols.len() == other.symbols.len()
            && self
                .symbols
                .iter()
                .zip(&other.symbols)
                .all(|(a, b)| a.0 == b.0 && a.1.iter().zip(&b.1).all(|(x, y)| close(*x, *y)))
    }
}

/// Whether two amounts agree to a relative 1e-9 (absolute 1e-9 near zero).
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

impl StoredState {
    /// Nothing read yet.
    pub fn empty() -> Self {
        Self {
            records: Vec::new(),
            snapshot: None,
            genesis: None,
        }
    }

    /// Reads the state at `location` (the bot must be down: the store takes its lock).
    pub async fn load(location: &StateLocation) -> Result<Self, ChaosError> {
        let mut state = Self::empty();
        state.refresh(location).await?;
        Ok(state)
    }

    /// Reads the state at `location` again, decoding only the journal records written since
    /// the last read: committed records never change, so the ones already held are kept (all
    /// are read again if any is gone).
    pub async fn refresh(&mut self, location: &StateLocation) -> Result<(), ChaosError> {
        let bad = |reason: String| ChaosError::StateFile {
            path: location.to_string(),
            reason,
        };
        let store = location.open().await.map_err(bad)?;
        let mut keyed: Vec<(u64, String)> = Vec::new();
        for key in store
            .list("journal/")
            .await
            .map_err(|e| bad(e.to_string()))?
        {
            let seq = key
                .strip_prefix("journal/")
                .and_then(|rest| rest.split('-').next())
                .and_then(|s| s.parse::<u64>().ok());
            if let Some(seq) = seq {
                keyed.push((seq, key));
            }
        }
        keyed.sort_unstable();
        let held: Vec<u64> = self.records.iter().map(|r| r.seq).collect();
        let keeps = keyed.len() >= held.len() && keyed.iter().zip(&held).all(|((a, _), b)| a == b);
        if !keeps {
            self.records.clear();
        }
        for (_, key) in keyed.iter().skip(self.records.len()) {
            let Some(bytes) = store.load(key).await.map_err(|e| bad(e.to_string()))? else {
                continue;
            };
            self.records
                .push(JournalRecord::decode(&bytes).map_err(|e| bad(format!("{key}: {e}")))?);
        }
        self.snapshot = match store
            .load("engine/snapshot")
            .await
            .map_err(|e| bad(e.to_string()))?
        {
            Some(bytes) => Some(
                serde_json::from_slice(&bytes).map_err(|e| bad(format!("engine/snapshot: {e}")))?,
            ),
            None => None,
        };
        self.genesis = match store
            .load("engine/genesis")
            .await
            .map_err(|e| bad(e.to_string()))?
        {
            Some(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| serde_json::from_value::<Timestamp>(v.get("started")?.clone()).ok()),
            None => None,
        };
        Ok(())
    }

    /// The engine a restart rebuilds: the snapshot plus the records after it, or the whole
    /// journal without a snapshot.
    pub fn restore(&self, config: &EngineConfig, now: Timestamp) -> Result<Option<Engine>, String> {
        match (&self.snapshot, self.genesis) {
            (Some(s), _) => Engine::resume(config.clone(), s, &self.records, now)
                .map(Some)
                .map_err(|e| e.to_string()),
            (None, Some(g)) => Engine::replay_records(config.clone(), g, &self.records, now)
                .map(Some)
                .map_err(|e| e.to_string()),
            (None, None) => Ok(None),
        }
    }

    /// The engine rebuilt from the whole journal alone (`None` when the journal does not reach
    /// back to record 1 or the genesis is missing).
    pub fn replay_all(
        &self,
        config: &EngineConfig,
        upto: u64,
        now: Timestamp,
    ) -> Option<Result<Engine, String>> {
        let genesis = self.genesis?;
        if self.records.first().is_some_and(|r| r.seq != 1) {
            return None;
        }
        let records = self.records.iter().take_while(|r| r.seq <= upto);
        Some(
            Engine::replay_records(config.clone(), genesis, records, now)
                .map_err(|e| e.to_string()),
        )
    }

    /// Every fill the journal says was applied, in order (fill id and symbol).
    pub fn applied_fills(&self) -> Vec<rustrade_core::Fill> {
        self.records
            .iter()
            .filter_map(|r| match &r.event {
                EngineEvent::FillApplied { fill, .. } => Some(*fill),
                _ => None,
            })
            .collect()
    }
}

//! Manual position overrides: applied now, or kept until the engine is installed.

use rustrade_core::{Position, Symbol};

use super::{Driver, lock};

impl Driver {
    /// A manual position override, applied now or, before start, once the engine is installed.
    pub(crate) async fn set_position(&self, symbol: Symbol, position: Position) {
        if !self.is_started() {
            lock(&self.pending_positions).insert(symbol, position);
            return;
        }
        let result = self
            .step(|e, now| e.set_position(&symbol, position, now))
            .await;
        if let Some(Err(e)) = result {
            tracing::error!(%symbol, error = %e, "set_position refused");
        }
    }
    /// Applies the overrides given before start.
    pub(crate) async fn apply_pending_positions(&self) {
        let pending = std::mem::take(&mut *lock(&self.pending_positions));
        for (symbol, position) in pending {
            self.set_position(symbol, position).await;
        }
    }
    /// The bot's net position: the engine's, or a pending override before start.
    pub(crate) fn position(&self, symbol: &Symbol) -> Position {
        self.read(|e| e.position(symbol)).unwrap_or_else(|| {
            lock(&self.pending_positions)
                .get(symbol)
                .copied()
                .unwrap_or(Position::FLAT)
        })
    }
}

//! [`BrokenExchange`]: any [`ExchangeClient`] with one of the kit's deliberate bugs
//! ([`Broken`]) put in front of it, so the kit can show it catches a real adapter that has it.
//!
//! - [`Broken::TimeoutIsRejection`]: a placement whose outcome is unknown (a timeout, a lost
//!   connection, a 5XX or `-1007`) is reported as rejected.
//! - [`Broken::SkipCatchUp`]: `fills_since` answers nothing.
//!
//! Every other call passes through unchanged; [`Broken::ForgetBreaker`] is the bot's, not the
//! client's, and changes nothing here.

use std::sync::Arc;

use rustrade_core::{
    Asset, Balance, Capability, ClientOrderId, ExchangeClient, ExchangeError, Fill, FillCursor,
    InstrumentSpec, OpenOrder, Order, OrderId, OrderState, Position, Symbol, Venue,
};

use crate::client::Broken;

/// `inner` with the bug `broken` (see the module doc).
pub struct BrokenExchange {
    inner: Arc<dyn ExchangeClient>,
    broken: Broken,
}

impl BrokenExchange {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ExchangeClient>, broken: Broken) -> Self {
        Self { inner, broken }
    }
}

impl std::fmt::Debug for BrokenExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokenExchange")
            .field("venue", &self.inner.venue())
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl ExchangeClient for BrokenExchange {
    fn venue(&self) -> Venue {
        self.inner.venue()
    }

    fn supports(&self, capability: Capability) -> bool {
        self.inner.supports(capability)
    }

    async fn instrument(&self, symbol: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        self.inner.instrument(symbol).await
    }

    async fn place_order(&self, order: &Order) -> Result<OrderId, ExchangeError> {
        match self.inner.place_order(order).await {
            Err(e) if self.broken == Broken::TimeoutIsRejection && e.is_outcome_unknown() => {
                Err(ExchangeError::Rejected {
                    reason: format!("broken adapter: {e}"),
                })
            }
            other => other,
        }
    }

    async fn cancel_order(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Result<(), ExchangeError> {
        self.inner.cancel_order(symbol, client_id, order_id).await
    }

    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, ExchangeError> {
        self.inner.cancel_all(symbol).await
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
        self.inner.open_orders(symbol).await
    }

    async fn position(&self, symbol: &Symbol) -> Result<Position, ExchangeError> {
        self.inner.position(symbol).await
    }

    async fn balance(&self, asset: &Asset) -> Result<Balance, ExchangeError> {
        self.inner.balance(asset).await
    }

    async fn close_position(&self, symbol: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        self.inner.close_position(symbol).await
    }

    async fn order_status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, ExchangeError> {
        self.inner.order_status(symbol, client_id).await
    }

    async fn fills_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, ExchangeError> {
        if self.broken == Broken::SkipCatchUp {
            return Ok(Vec::new());
        }
        self.inner.fills_since(symbol, cursor).await
    }

    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError> {
        self.inner.positions().await
    }

    fn check_client_id_prefix(&self, prefix: &str) -> Result<(), ExchangeError> {
        self.inner.check_client_id_prefix(prefix)
    }

    async fn find_order(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OpenOrder>, ExchangeError> {
        self.inner.find_order(symbol, client_id).await
    }
}

//! Tracked orders: the engine's view of our live orders, exposed through
//! [`BotHandle::tracked_orders`](crate::BotHandle::tracked_orders).
//!
//! With order tracking on ([`Bot::with_order_tracking`](crate::Bot::with_order_tracking)) and an
//! adapter that advertises [`Capability::OrderTracking`](rustrade_core::Capability::OrderTracking),
//! a service reconciles the engine's live orders with the venue's open orders every
//! `reconcile_interval`, and the handle reports them.

pub use rustrade_engine::{OrderRole, TrackedOrder};

//! [`Decision`]: what a brain wants done after seeing an event, and how to size it.

use crate::{OrderKind, Price, Quantity};

/// The direction of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Do nothing.
    Hold,
    /// Go long or add to a long; a buy while short closes the short (and, with
    /// [`Decision::with_reverse`], opens a long at the same time).
    Buy,
    /// Go short or add to a short; a sell while long closes the long (and, with
    /// [`Decision::with_reverse`], opens a short at the same time).
    Sell,
    /// Close the whole position (a no-op when flat).
    Close,
}

/// How large an entry should be. The risk layer's sizer turns it into a quantity snapped to lot,
/// then caps it.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum SizeHint {
    /// Use the configured margin × leverage.
    #[default]
    Default,
    /// This fraction (0..=1) of the configured margin, × leverage.
    MarginFraction(f64),
    /// This notional value in quote currency.
    Notional(f64),
    /// Exactly this quantity (still snapped to lot and capped).
    Quantity(Quantity),
    /// This fraction (0..=1) of the account's current equity, × leverage, affordable with the
    /// expected fee: `floor_lot(f × equity × leverage ÷ (price × contract_value × (1 + fee_rate)))`.
    /// Equity is cash plus the value of every open position at its mark, so the size compounds.
    EquityFraction(f64),
    /// This fraction (0..=1) of the account's available cash, × leverage, affordable with the
    /// expected fee: `floor_lot(f × cash × leverage ÷ (price × contract_value × (1 + fee_rate)))`.
    CashFraction(f64),
}

/// A brain's decision for one event. Build it with [`Decision::hold`], [`Decision::buy`],
/// [`Decision::sell`] or [`Decision::close`] and the `with_*` methods.
///
/// A hold carries no heap data; [`Decision::with_metadata`] is the only allocating builder.
///
/// ```
/// use rustrade_core::{Decision, OrderKind, Price, SizeHint};
/// let d = Decision::buy(0.8)
///     .with_stop(Price::new(95.0)?)
///     .with_take_profit(Price::new(110.0)?)
///     .with_size_hint(SizeHint::Notional(1_000.0))
///     .with_limit_price(Price::new(99.5)?);
/// assert_eq!(d.order_kind(), OrderKind::Limit);
/// assert!(Decision::hold().is_hold());
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    action: Action,
    confidence: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stop: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    take_profit: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trailing_stop: Option<Price>,
    #[serde(default)]
    size_hint: SizeHint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit_price: Option<Price>,
    #[serde(default = "market")]
    order_kind: OrderKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    reverse: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<Box<serde_json::Value>>,
}

fn market() -> OrderKind {
    OrderKind::Market
}

impl Decision {
    /// Do nothing.
    pub const fn hold() -> Self {
        Self::new(Action::Hold, 0.0)
    }

    /// Buy with `confidence` (clamped to 0..=1; NaN counts as 0).
    pub fn buy(confidence: f64) -> Self {
        Self::new(Action::Buy, clamp_confidence(confidence))
    }

    /// Sell with `confidence` (clamped to 0..=1; NaN counts as 0).
    pub fn sell(confidence: f64) -> Self {
        Self::new(Action::Sell, clamp_confidence(confidence))
    }

    /// Close the whole position. Exits are never blocked by the risk gates.
    pub const fn close() -> Self {
        Self::new(Action::Close, 1.0)
    }

    const fn new(action: Action, confidence: f64) -> Self {
        Self {
            action,
            confidence,
            stop: None,
            take_profit: None,
            trailing_stop: None,
            size_hint: SizeHint::Default,
            limit_price: None,
            order_kind: OrderKind::Market,
            reverse: false,
            metadata: None,
        }
    }

    /// Attach a protective stop at `price`.
    pub fn with_stop(mut self, price: Price) -> Self {
        self.stop = Some(price);
        self
    }

    /// Attach a take-profit at `price`.
    pub fn with_take_profit(mut self, price: Price) -> Self {
        self.take_profit = Some(price);
        self
    }

    /// Attach a trailing stop that follows the best price at distance `offset`.
    pub fn with_trailing_stop(mut self, offset: Price) -> Self {
        self.trailing_stop = Some(offset);
        self
    }

    /// How to size the entry.
    pub fn with_size_hint(mut self, hint: SizeHint) -> Self {
        self.size_hint = hint;
        self
    }

    /// Enter with a limit order at `price` (turns a market request into a limit one).
    pub fn with_limit_price(mut self, price: Price) -> Self {
        self.limit_price = Some(price);
        if self.order_kind == OrderKind::Market {
            self.order_kind = OrderKind::Limit;
        }
        self
    }

    /// Request a specific order kind; the engine refuses it if the venue lacks the capability
    /// rather than silently downgrading it.
    pub fn with_order_kind(mut self, kind: OrderKind) -> Self {
        self.order_kind = kind;
        self
    }

    /// Let a buy while short (or a sell while long) reverse the position in one step: the engine
    /// closes the whole position, never blocked, and opens the other side at the same time, the
    /// opening part gated and sized like any entry from flat. Without it such a decision only
    /// closes. Ignored on a hold or a close.
    pub fn with_reverse(mut self) -> Self {
        self.reverse = true;
        self
    }

    /// Free-form data carried to signal subscribers and logs.
    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(Box::new(metadata));
        self
    }

    /// The action.
    #[inline]
    pub fn action(&self) -> Action {
        self.action
    }
    /// Confidence in 0..=1.
    #[inline]
    pub fn confidence(&self) -> f64 {
        self.confidence
    }
    /// Whether this is a hold.
    #[inline]
    pub fn is_hold(&self) -> bool {
        self.action == Action::Hold
    }
    /// Protective stop, if any.
    pub fn stop(&self) -> Option<Price> {
        self.stop
    }
    /// Take-profit, if any.
    pub fn take_profit(&self) -> Option<Price> {
        self.take_profit
    }
    /// Trailing-stop offset, if any.
    pub fn trailing_stop(&self) -> Option<Price> {
        self.trailing_stop
    }
    /// Sizing hint.
    pub fn size_hint(&self) -> SizeHint {
        self.size_hint
    }
    /// Limit price, if any.
    pub fn limit_price(&self) -> Option<Price> {
        self.limit_price
    }
    /// Requested order kind.
    pub fn order_kind(&self) -> OrderKind {
        self.order_kind
    }
    /// Whether a decision against the position reverses it (see [`Decision::with_reverse`]).
    #[inline]
    pub fn reverses(&self) -> bool {
        self.reverse
    }
    /// Metadata, if any.
    pub fn metadata(&self) -> Option<&serde_json::Value> {
        self.metadata.as_deref()
    }
}

impl Default for Decision {
    fn default() -> Self {
        Self::hold()
    }
}

fn clamp_confidence(c: f64) -> f64 {
    if c.is_nan() { 0.0 } else { c.clamp(0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors() {
        assert_eq!(Decision::hold().action(), Action::Hold);
        assert_eq!(Decision::default(), Decision::hold());
        assert_eq!(Decision::buy(0.7).confidence(), 0.7);
        assert_eq!(Decision::sell(2.0).confidence(), 1.0);
        assert_eq!(Decision::buy(f64::NAN).confidence(), 0.0);
        assert_eq!(Decision::buy(-1.0).confidence(), 0.0);
        assert_eq!(Decision::close().action(), Action::Close);
    }

    #[test]
    fn builders_compose() {
        let p = |v| Price::new(v).unwrap();
        let d = Decision::sell(0.5)
            .with_order_kind(OrderKind::PostOnly)
            .with_limit_price(p(101.0))
            .with_stop(p(105.0))
            .with_take_profit(p(90.0))
            .with_trailing_stop(p(2.0))
            .with_size_hint(SizeHint::MarginFraction(0.5))
            .with_reverse()
            .with_metadata(serde_json::json!({"why": "test"}));
        assert_eq!(d.order_kind(), OrderKind::PostOnly, "explicit kind kept");
        assert_eq!(d.limit_price(), Some(p(101.0)));
        assert_eq!(d.stop(), Some(p(105.0)));
        assert_eq!(d.take_profit(), Some(p(90.0)));
        assert_eq!(d.trailing_stop(), Some(p(2.0)));
        assert_eq!(d.size_hint(), SizeHint::MarginFraction(0.5));
        assert_eq!(d.metadata().unwrap()["why"], "test");
        assert!(d.reverses() && !Decision::sell(0.5).reverses());
        let back: Decision = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn size_hints_round_trip() {
        for h in [
            SizeHint::Default,
            SizeHint::MarginFraction(0.25),
            SizeHint::Notional(100.0),
            SizeHint::Quantity(Quantity::new(3.0).unwrap()),
            SizeHint::EquityFraction(1.0),
            SizeHint::CashFraction(0.5),
        ] {
            let back: SizeHint = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
            assert_eq!(back, h);
        }
    }

    #[test]
    fn hold_is_small() {
        assert!(size_of::<Decision>() <= 128);
    }
}

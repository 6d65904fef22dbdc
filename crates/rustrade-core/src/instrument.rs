//! [`InstrumentSpec`]: how an instrument trades — tick, lot, minimums, contract value — and the
//! snapping and exact wire rendering of prices and quantities.
//!
//! # Invariants
//!
//! - `tick_size`, `lot_size` and `contract_value` are finite and `> 0`; `min_qty` and
//!   `min_notional` are finite and `>= 0`.
//! - A snapped value (`round_price`, `round_qty_down`) is the `f64` nearest to a whole multiple
//!   of the step, so rendering it with the step's precision is exact: `0.1` lot × 3 renders `"0.3"`.
//! - `round_qty_down(q) <= q` for every valid `q`.

use crate::{Price, Quantity, Symbol, ValueError};

/// What kind of instrument it is; drives risk presets and PnL conventions.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AssetClass {
    /// Perpetual swap on a crypto venue (margin, leverage, funding).
    CryptoPerp,
    /// Spot crypto pair.
    CryptoSpot,
    /// Foreign exchange.
    Fx,
    /// Dated future.
    Future,
    /// Stock or ETF.
    Equity,
    /// Anything else.
    Other,
}

/// Trading rules of one instrument.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawSpec", into = "RawSpec")]
pub struct InstrumentSpec {
    symbol: Symbol,
    asset_class: AssetClass,
    contract_value: f64,
    tick_size: f64,
    lot_size: f64,
    min_qty: f64,
    min_notional: f64,
    price_precision: u8,
    qty_precision: u8,
}

/// Largest number of decimals a step may need.
const MAX_PRECISION: u8 = 15;

impl InstrumentSpec {
    /// A spec with the given tick and lot, contract value 1, no minimums, and precisions derived
    /// from the tick and lot. Errors name the field and value.
    ///
    /// ```
    /// use rustrade_core::{AssetClass, InstrumentSpec, Symbol};
    /// let spec = InstrumentSpec::new(Symbol::new("BTCUSDT")?, AssetClass::CryptoPerp, 0.1, 0.001)?
    ///     .with_min_notional(5.0)?;
    /// let p = spec.round_price(30_000.06);
    /// assert_eq!(spec.render_price(p), "30000.1");
    /// assert_eq!(spec.render_qty(spec.round_qty_down(0.0039)), "0.003");
    /// # Ok::<(), rustrade_core::ValueError>(())
    /// ```
    pub fn new(
        symbol: Symbol,
        asset_class: AssetClass,
        tick_size: f64,
        lot_size: f64,
    ) -> Result<Self, ValueError> {
        positive("tick_size", tick_size)?;
        positive("lot_size", lot_size)?;
        Ok(Self {
            symbol,
            asset_class,
            contract_value: 1.0,
            tick_size,
            lot_size,
            min_qty: 0.0,
            min_notional: 0.0,
            price_precision: decimals_of(tick_size),
            qty_precision: decimals_of(lot_size),
        })
    }

    /// Sets the contract value (quote units per 1.0 of quantity per 1.0 of price), `> 0`.
    pub fn with_contract_value(mut self, v: f64) -> Result<Self, ValueError> {
        self.contract_value = positive("contract_value", v)?;
        Ok(self)
    }

    /// Sets the minimum order quantity, `>= 0`.
    pub fn with_min_qty(mut self, v: f64) -> Result<Self, ValueError> {
        self.min_qty = Quantity::named("min_qty", v)?.get();
        Ok(self)
    }

    /// Sets the minimum order notional (quantity × price × contract value), `>= 0`.
    pub fn with_min_notional(mut self, v: f64) -> Result<Self, ValueError> {
        self.min_notional = Quantity::named("min_notional", v)?.get();
        Ok(self)
    }

    /// Overrides the number of decimals rendered for prices (at most 15).
    pub fn with_price_precision(mut self, decimals: u8) -> Result<Self, ValueError> {
        self.price_precision = precision("price_precision", decimals)?;
        Ok(self)
    }

    /// Overrides the number of decimals rendered for quantities (at most 15).
    pub fn with_qty_precision(mut self, decimals: u8) -> Result<Self, ValueError> {
        self.qty_precision = precision("qty_precision", decimals)?;
        Ok(self)
    }

    /// The instrument's symbol.
    pub fn symbol(&self) -> Symbol {
        self.symbol
    }

    /// The asset class.
    pub fn asset_class(&self) -> AssetClass {
        self.asset_class
    }

    /// Contract value (1 for spot and most equities).
    pub fn contract_value(&self) -> f64 {
        self.contract_value
    }

    /// Price increment.
    pub fn tick_size(&self) -> f64 {
        self.tick_size
    }

    /// Quantity increment.
    pub fn lot_size(&self) -> f64 {
        self.lot_size
    }

    /// Minimum quantity per order.
    pub fn min_qty(&self) -> f64 {
        self.min_qty
    }

    /// Minimum notional per order.
    pub fn min_notional(&self) -> f64 {
        self.min_notional
    }

    /// Decimals rendered for prices.
    pub fn price_precision(&self) -> u8 {
        self.price_precision
    }

    /// Decimals rendered for quantities.
    pub fn qty_precision(&self) -> u8 {
        self.qty_precision
    }

    /// Snaps `price` to the nearest tick, ties away from zero.
    pub fn round_price(&self, price: f64) -> Price {
        let steps = nudge(price / self.tick_size).round();
        Price::new(clean(steps * self.tick_size, self.price_precision)).unwrap_or(Price::ZERO)
    }

    /// Floors `qty` to a whole number of lots; never returns more than `qty`.
    pub fn round_qty_down(&self, qty: f64) -> Quantity {
        if !(qty.is_finite() && qty > 0.0) {
            return Quantity::ZERO;
        }
        let mut steps = nudge(qty / self.lot_size).floor();
        let mut v = clean(steps * self.lot_size, self.qty_precision);
        if v > qty {
            steps -= 1.0;
            v = clean(steps * self.lot_size, self.qty_precision);
        }
        Quantity::new(v.max(0.0)).unwrap_or(Quantity::ZERO)
    }

    /// Rounds `qty` to the nearest lot (ties away from zero); for closing a known position size.
    pub fn round_qty(&self, qty: f64) -> Quantity {
        if !(qty.is_finite() && qty > 0.0) {
            return Quantity::ZERO;
        }
        let steps = nudge(qty / self.lot_size).round();
        Quantity::new(clean(steps * self.lot_size, self.qty_precision)).unwrap_or(Quantity::ZERO)
    }

    /// Notional value in quote currency: `qty × price × contract_value`.
    pub fn notional(&self, qty: Quantity, price: Price) -> f64 {
        qty.get() * price.get().abs() * self.contract_value
    }

    /// Whether an order of `qty` at `price` meets both the minimum quantity and minimum notional.
    pub fn meets_min_notional(&self, qty: Quantity, price: Price) -> bool {
        let tolerance = 1e-9 * self.min_notional.max(1.0);
        qty.get() > 0.0
            && qty.get() + 1e-12 >= self.min_qty
            && self.notional(qty, price) + tolerance >= self.min_notional
    }

    /// Whether `qty` is less than half a lot: what counts as flat for this instrument.
    pub fn is_dust(&self, qty: f64) -> bool {
        qty.abs() < self.lot_size / 2.0
    }

    /// Exact decimal text of a price for the wire, with `price_precision` decimals.
    pub fn render_price(&self, price: Price) -> String {
        render(price.get(), self.price_precision)
    }

    /// Exact decimal text of a quantity for the wire, with `qty_precision` decimals.
    pub fn render_qty(&self, qty: Quantity) -> String {
        render(qty.get(), self.qty_precision)
    }
}

/// Pushes a value that floating error left a hair below or above a whole step onto it.
fn nudge(steps: f64) -> f64 {
    let r = steps.round();
    if (steps - r).abs() <= 1e-9 * r.abs().max(1.0) {
        r
    } else {
        steps
    }
}

/// The `f64` nearest to `v` rounded to `decimals` places, without allocating.
///
/// `(v × 10^d).round()` is an integer below 2^53, and IEEE division by the exactly
/// representable `10^d` is correctly rounded, so the quotient is the `f64` nearest to the decimal
/// value. Past 2^53 every `f64` is already an integer multiple of the scaled step, so `v` stands.
fn clean(v: f64, decimals: u8) -> f64 {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let scale = POW10[usize::from(decimals.min(MAX_PRECISION))];
    let scaled = (v * scale).round();
    if scaled.abs() < 9_007_199_254_740_992.0 {
        scaled / scale + 0.0
    } else {
        v
    }
}

fn render(v: f64, decimals: u8) -> String {
    let text = format!("{:.*}", usize::from(decimals), v);
    // "-0.00" would be sent for a tiny negative; the wire wants "0.00".
    if text.starts_with('-') && text[1..].bytes().all(|b| b == b'0' || b == b'.') {
        text[1..].to_owned()
    } else {
        text
    }
}

/// Number of decimals needed to write `step` exactly (capped at 15).
fn decimals_of(step: f64) -> u8 {
    let mut scaled = step;
    for d in 0..MAX_PRECISION {
        if (scaled - scaled.round()).abs() <= 1e-9 * scaled.abs().max(1.0) {
            return d;
        }
        scaled *= 10.0;
    }
    MAX_PRECISION
}

fn positive(field: &'static str, v: f64) -> Result<f64, ValueError> {
    if !v.is_finite() {
        Err(ValueError::NotFinite { field, value: v })
    } else if v <= 0.0 {
        Err(ValueError::NotPositive { field, value: v })
    } else {
        Ok(v)
    }
}

fn precision(field: &'static str, d: u8) -> Result<u8, ValueError> {
    if d <= MAX_PRECISION {
        Ok(d)
    } else {
        Err(ValueError::OutOfRange {
            field,
            value: f64::from(d),
            min: 0.0,
            max: f64::from(MAX_PRECISION),
        })
    }
}

/// Serialised form; validated on the way in.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    symbol: Symbol,
    asset_class: AssetClass,
    #[serde(default = "one")]
    contract_value: f64,
    tick_size: f64,
    lot_size: f64,
    #[serde(default)]
    min_qty: f64,
    #[serde(default)]
    min_notional: f64,
    #[serde(default)]
    price_precision: Option<u8>,
    #[serde(default)]
    qty_precision: Option<u8>,
}

fn one() -> f64 {
    1.0
}

impl TryFrom<RawSpec> for InstrumentSpec {
    type Error = ValueError;
    fn try_from(r: RawSpec) -> Result<Self, Self::Error> {
        let mut s = Self::new(r.symbol, r.asset_class, r.tick_size, r.lot_size)?
            .with_contract_value(r.contract_value)?
            .with_min_qty(r.min_qty)?
            .with_min_notional(r.min_notional)?;
        if let Some(p) = r.price_precision {
            s = s.with_price_precision(p)?;
        }
        if let Some(q) = r.qty_precision {
            s = s.with_qty_precision(q)?;
        }
        Ok(s)
    }
}

impl From<InstrumentSpec> for RawSpec {
    fn from(s: InstrumentSpec) -> Self {
        Self {
            symbol: s.symbol,
            asset_class: s.asset_class,
            contract_value: s.contract_value,
            tick_size: s.tick_size,
            lot_size: s.lot_size,
            min_qty: s.min_qty,
            min_notional: s.min_notional,
            price_precision: Some(s.price_precision),
            qty_precision: Some(s.qty_precision),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(tick: f64, lot: f64) -> InstrumentSpec {
        InstrumentSpec::new(Symbol::new("X").unwrap(), AssetClass::Other, tick, lot).unwrap()
    }

    #[test]
    fn constructor_errors_name_the_field() {
        let s = Symbol::new("X").unwrap();
        let e = InstrumentSpec::new(s, AssetClass::Fx, 0.0, 1.0).unwrap_err();
        assert_eq!(e.to_string(), "tick_size: must be > 0 (got 0)");
        let e = InstrumentSpec::new(s, AssetClass::Fx, 0.1, f64::NAN).unwrap_err();
        assert!(e.to_string().starts_with("lot_size: must be finite"));
        let e = spec(0.1, 1.0).with_contract_value(-1.0).unwrap_err();
        assert!(e.to_string().starts_with("contract_value"));
        assert!(spec(0.1, 1.0).with_min_notional(-5.0).is_err());
        assert!(spec(0.1, 1.0).with_min_qty(f64::INFINITY).is_err());
        assert!(spec(0.1, 1.0).with_price_precision(16).is_err());
    }

    #[test]
    fn precision_follows_the_step() {
        assert_eq!(spec(0.01, 0.001).price_precision(), 2);
        assert_eq!(spec(0.01, 0.001).qty_precision(), 3);
        assert_eq!(spec(0.5, 1.0).price_precision(), 1);
        assert_eq!(spec(5.0, 100.0).price_precision(), 0);
        assert_eq!(spec(0.00001, 1e-8).qty_precision(), 8);
    }

    #[test]
    fn round_price_to_nearest_tick_ties_away_from_zero() {
        let s = spec(0.5, 1.0);
        assert_eq!(s.round_price(100.25).get(), 100.5);
        assert_eq!(s.round_price(100.24).get(), 100.0);
        assert_eq!(s.round_price(-100.25).get(), -100.5);
        let s = spec(0.01, 1.0);
        assert_eq!(s.render_price(s.round_price(0.125)), "0.13");
    }

    #[test]
    fn round_qty_down_floors_to_lot() {
        let s = spec(0.1, 0.001);
        assert_eq!(s.round_qty_down(0.0039).get(), 0.003);
        assert_eq!(s.round_qty_down(0.003).get(), 0.003);
        assert_eq!(s.round_qty_down(-1.0), Quantity::ZERO);
        assert_eq!(s.round_qty_down(f64::NAN), Quantity::ZERO);
        let s = spec(0.1, 0.1);
        assert_eq!(s.render_qty(s.round_qty_down(0.1 * 3.0)), "0.3");
        assert_eq!(s.round_qty(0.26).get(), 0.3);
    }

    #[test]
    fn wire_rendering_is_exact() {
        let s = spec(0.1, 0.1);
        let three_lots = Quantity::new(0.1 * 3.0).unwrap();
        assert_eq!(0.1 * 3.0, 0.30000000000000004);
        assert_eq!(s.render_qty(three_lots), "0.3");
        assert_eq!(s.render_price(Price::new(-0.0001).unwrap()), "0.0");
    }

    #[test]
    fn min_notional_uses_contract_value() {
        let s = spec(0.1, 0.001)
            .with_min_notional(5.0)
            .unwrap()
            .with_contract_value(0.5)
            .unwrap()
            .with_min_qty(0.002)
            .unwrap();
        let p = Price::new(1000.0).unwrap();
        assert!(s.meets_min_notional(Quantity::new(0.01).unwrap(), p));
        assert!(!s.meets_min_notional(Quantity::new(0.009).unwrap(), p));
        assert!(!s.meets_min_notional(Quantity::new(0.001).unwrap(), Price::new(1e6).unwrap()));
        assert!(!s.meets_min_notional(Quantity::ZERO, p));
    }

    #[test]
    fn serde_round_trip_validates() {
        let s = spec(0.01, 0.001).with_min_notional(10.0).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<InstrumentSpec>(&json).unwrap(), s);
        let bad = json.replace("\"tick_size\":0.01", "\"tick_size\":-1.0");
        let err = serde_json::from_str::<InstrumentSpec>(&bad).unwrap_err();
        assert!(err.to_string().contains("tick_size"), "{err}");
    }

    fn steps() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(1.0),
            Just(0.5),
            Just(0.1),
            Just(0.01),
            Just(0.001),
            Just(0.00001),
            Just(0.25),
            Just(5.0)
        ]
    }

    proptest! {
        #[test]
        fn snapped_values_render_and_parse_back_exactly(
            step in steps(), n in 0i64..10_000_000
        ) {
            let s = spec(step, step);
            let p = s.round_price(n as f64 * step);
            let text = s.render_price(p);
            prop_assert_eq!(text.parse::<f64>().unwrap(), p.get());
            let q = s.round_qty_down(n as f64 * step);
            let text = s.render_qty(q);
            prop_assert_eq!(text.parse::<f64>().unwrap(), q.get());
            prop_assert!(!text.contains('e'));
        }

        #[test]
        fn clean_equals_decimal_text_round_trip(n in -1_000_000_000i64..1_000_000_000, d in 0u8..=8) {
            // Snapped values: a whole number of steps times the step, as the rounding code makes.
            let v = n as f64 * 10f64.powi(-i32::from(d));
            let via_text: f64 = format!("{:.*}", usize::from(d), v).parse().unwrap();
            prop_assert_eq!(clean(v, d), via_text);
        }

        #[test]
        fn round_qty_down_never_exceeds_input(step in steps(), q in 0.0f64..1e7) {
            let s = spec(step, step);
            let r = s.round_qty_down(q);
            prop_assert!(r.get() <= q, "{} > {}", r.get(), q);
            prop_assert!(q - r.get() < step * (1.0 + 1e-6));
        }

        #[test]
        fn round_price_is_within_half_a_tick(step in steps(), p in -1e6f64..1e6) {
            let s = spec(step, 1.0);
            let r = s.round_price(p).get();
            prop_assert!((r - p).abs() <= step / 2.0 + 1e-6 * step.max(p.abs() * 1e-9));
        }
    }
}

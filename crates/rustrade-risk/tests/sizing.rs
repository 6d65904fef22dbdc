//! Acceptance tests of the position sizer.

mod common;

use common::{price, spec, sym};
use rustrade_core::{AssetClass, InstrumentSpec, Quantity, SizeHint};
use rustrade_risk::{PositionSizer, RiskError, SizeRefusal, SizingConfig, margin_quantity};

fn sizer(config: SizingConfig) -> PositionSizer {
    PositionSizer::new(config).unwrap()
}

fn margin_500_x5() -> SizingConfig {
    SizingConfig {
        margin: 500.0,
        leverage: 5.0,
        max_quantity: None,
        max_notional: None,
    }
}

#[test]
fn margin_times_leverage_over_price_times_contract_value() {
    let spec = spec("BTCUSDT").with_contract_value(0.001).unwrap();
    let qty = sizer(margin_500_x5())
        .size(SizeHint::Default, price(50_000.0), &spec)
        .unwrap();
    assert_eq!(qty.get(), 50.0);
    assert_eq!(margin_quantity(500.0, 5.0, 50_000.0, 0.001), Ok(50.0));
}

#[test]
fn a_quantity_cap_of_10_gives_10() {
    let spec = spec("BTCUSDT").with_contract_value(0.001).unwrap();
    let config = SizingConfig {
        max_quantity: Some(10.0),
        ..margin_500_x5()
    };
    let qty = sizer(config)
        .size(SizeHint::Default, price(50_000.0), &spec)
        .unwrap();
    assert_eq!(qty.get(), 10.0);
}

#[test]
fn a_notional_cap_bounds_the_notional() {
    let spec = spec("BTCUSDT").with_contract_value(0.001).unwrap();
    let config = SizingConfig {
        max_notional: Some(1_000.0),
        ..margin_500_x5()
    };
    // 1 000 / (50 000 × 0.001) = 20 contracts.
    let qty = sizer(config)
        .size(SizeHint::Default, price(50_000.0), &spec)
        .unwrap();
    assert_eq!(qty.get(), 20.0);
}

#[test]
fn degenerate_inputs_give_typed_refusals() {
    assert!(matches!(
        margin_quantity(500.0, 5.0, 0.0, 0.001),
        Err(SizeRefusal::NonPositivePrice { price }) if price == 0.0
    ));
    assert!(matches!(
        margin_quantity(500.0, 5.0, -1.0, 0.001),
        Err(SizeRefusal::NonPositivePrice { .. })
    ));
    assert!(matches!(
        margin_quantity(500.0, 5.0, 50_000.0, 0.0),
        Err(SizeRefusal::NonPositiveContractValue { .. })
    ));
    assert!(matches!(
        margin_quantity(500.0, 5.0, 50_000.0, -0.001),
        Err(SizeRefusal::NonPositiveContractValue { .. })
    ));
    assert!(matches!(
        margin_quantity(0.0, 5.0, 50_000.0, 0.001),
        Err(SizeRefusal::NonPositiveMargin { .. })
    ));
    assert!(matches!(
        margin_quantity(-500.0, 5.0, 50_000.0, 0.001),
        Err(SizeRefusal::NonPositiveMargin { .. })
    ));
    assert!(matches!(
        margin_quantity(500.0, 0.0, 50_000.0, 0.001),
        Err(SizeRefusal::NonPositiveLeverage { .. })
    ));
    assert!(matches!(
        margin_quantity(f64::NAN, 5.0, 50_000.0, 0.001),
        Err(SizeRefusal::NonPositiveMargin { .. })
    ));

    let s = sizer(margin_500_x5());
    let spec = spec("BTCUSDT");
    for p in [0.0, -1.0] {
        let err = s.size(SizeHint::Default, price(p), &spec).unwrap_err();
        assert!(matches!(err, SizeRefusal::NonPositivePrice { .. }), "{err}");
        assert_eq!(err.as_label(), "invalid_price");
    }
    let q = SizeHint::Quantity(Quantity::new(1.0).unwrap());
    assert!(matches!(
        s.size(q, price(0.0), &spec),
        Err(SizeRefusal::NonPositivePrice { .. })
    ));
}

#[test]
fn a_config_with_zero_margin_or_leverage_is_refused_naming_the_field() {
    let err = PositionSizer::new(SizingConfig {
        margin: 0.0,
        ..margin_500_x5()
    })
    .unwrap_err();
    assert_eq!(err.field(), "sizing.margin");
    assert_eq!(err.to_string(), "sizing.margin: must be > 0 (got 0)");
    let err = PositionSizer::new(SizingConfig {
        leverage: 0.0,
        ..margin_500_x5()
    })
    .unwrap_err();
    assert!(matches!(
        err,
        RiskError::InvalidConfig {
            field: "sizing.leverage",
            ..
        }
    ));
    let err = PositionSizer::new(SizingConfig {
        leverage: f64::INFINITY,
        ..margin_500_x5()
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "sizing.leverage: must be finite (got inf)");
    let err = PositionSizer::new(SizingConfig {
        max_quantity: Some(-1.0),
        ..margin_500_x5()
    })
    .unwrap_err();
    assert_eq!(err.field(), "sizing.max_quantity");
    let err = PositionSizer::new(SizingConfig {
        max_notional: Some(0.0),
        ..margin_500_x5()
    })
    .unwrap_err();
    assert_eq!(err.field(), "sizing.max_notional");
}

#[test]
fn notional_hint_is_snapped_down_to_the_lot() {
    let spec = spec("BTCUSDT");
    let qty = sizer(margin_500_x5())
        .size(SizeHint::Notional(100.0), price(30_000.0), &spec)
        .unwrap();
    assert_eq!(qty.get(), 0.003);
    assert_eq!(spec.render_qty(qty), "0.003");
}

#[test]
fn margin_fraction_and_explicit_quantity_hints() {
    let spec = spec("BTCUSDT");
    let s = sizer(margin_500_x5());
    // 0.5 × 500 × 5 / 25 000 = 0.05
    let qty = s
        .size(SizeHint::MarginFraction(0.5), price(25_000.0), &spec)
        .unwrap();
    assert_eq!(qty.get(), 0.05);
    let hint = SizeHint::Quantity(Quantity::new(0.12345).unwrap());
    assert_eq!(s.size(hint, price(25_000.0), &spec).unwrap().get(), 0.123);
}

#[test]
fn out_of_range_hints_are_refused() {
    let spec = spec("BTCUSDT");
    let s = sizer(margin_500_x5());
    for hint in [
        SizeHint::MarginFraction(0.0),
        SizeHint::MarginFraction(1.5),
        SizeHint::MarginFraction(f64::NAN),
        SizeHint::Notional(-100.0),
        SizeHint::Notional(f64::INFINITY),
        SizeHint::Quantity(Quantity::ZERO),
    ] {
        let err = s.size(hint, price(100.0), &spec).unwrap_err();
        assert!(
            matches!(err, SizeRefusal::InvalidHint { .. }),
            "{hint:?}: {err}"
        );
        assert_eq!(err.as_label(), "invalid_size_hint");
    }
}

#[test]
fn below_one_lot_is_no_order_not_a_zero_order() {
    let spec = spec("BTCUSDT");
    let err = sizer(margin_500_x5())
        .size(SizeHint::Notional(10.0), price(30_000.0), &spec)
        .unwrap_err();
    assert!(matches!(err, SizeRefusal::Zero { .. }), "{err}");
    assert_eq!(err.as_label(), "size_zero");
}

#[test]
fn minimum_quantity_and_notional_are_typed() {
    let s = sizer(margin_500_x5());
    let spec_q = spec("BTCUSDT").with_min_qty(0.01).unwrap();
    let err = s
        .size(SizeHint::Notional(100.0), price(30_000.0), &spec_q)
        .unwrap_err();
    assert_eq!(
        err,
        SizeRefusal::BelowMinQuantity {
            quantity: 0.003,
            min: 0.01
        }
    );
    let spec_n = spec("BTCUSDT").with_min_notional(100.0).unwrap();
    let err = s
        .size(SizeHint::Notional(100.0), price(30_000.0), &spec_n)
        .unwrap_err();
    assert!(
        matches!(err, SizeRefusal::BelowMinNotional { min, .. } if min == 100.0),
        "{err}"
    );
    assert_eq!(err.as_label(), "below_min_notional");
}

#[test]
fn an_overflowing_quantity_is_refused_not_sent() {
    let s = sizer(SizingConfig {
        margin: 1e308,
        leverage: 10.0,
        max_quantity: None,
        max_notional: None,
    });
    let spec = InstrumentSpec::new(sym("X"), AssetClass::Other, 0.01, 1.0).unwrap();
    assert_eq!(
        s.size(SizeHint::Default, price(1.0), &spec),
        Err(SizeRefusal::NotFinite)
    );
}

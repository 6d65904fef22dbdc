//! Acceptance tests of the position sizer.

mod common;

use common::{price, spec, sym};
use rustrade_core::{AssetClass, InstrumentSpec, Quantity, SizeHint};
use rustrade_risk::{
    Funds, PositionSizer, RiskError, SizeRefusal, SizingBasis, SizingConfig, margin_quantity,
};

fn sizer(config: SizingConfig) -> PositionSizer {
    PositionSizer::new(config).unwrap()
}

fn margin_500_x5() -> SizingConfig {
    SizingConfig {
        margin: 500.0,
        leverage: 5.0,
        max_quantity: None,
        max_notional: None,
        ..Default::default()
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
        ..Default::default()
    });
    let spec = InstrumentSpec::new(sym("X"), AssetClass::Other, 0.01, 1.0).unwrap();
    assert_eq!(
        s.size(SizeHint::Default, price(1.0), &spec),
        Err(SizeRefusal::NotFinite)
    );
}

fn funds(equity: f64, cash: f64) -> Funds {
    Funds {
        equity: Some(equity),
        cash: Some(cash),
    }
}

fn whole_units(symbol: &str) -> InstrumentSpec {
    InstrumentSpec::new(sym(symbol), AssetClass::Equity, 0.01, 1.0).unwrap()
}

#[test]
fn equity_fraction_sizing_is_affordable_with_the_fee_and_floored_to_whole_units() {
    let spec = whole_units("AAPL");
    let config = SizingConfig {
        basis: SizingBasis::EquityFraction(1.0),
        fee_rate: 0.002,
        ..SizingConfig::default()
    };
    let s = sizer(config);
    // 10 000 / (101 × 1.002) = 98.81... → 98 units.
    let qty = s
        .size_with(
            SizeHint::Default,
            price(101.0),
            &spec,
            funds(10_000.0, 4_000.0),
        )
        .unwrap();
    assert_eq!(qty.get(), 98.0);
    let cost = |q: f64| q * 101.0 * (1.0 + s.config().fee_rate);
    assert!(cost(qty.get()) <= 10_000.0 && cost(qty.get() + 1.0) > 10_000.0);
    // Half the cash instead, by hint: 0.5 × 4 000 / (101 × 1.002) = 19.76 → 19.
    let qty = s
        .size_with(
            SizeHint::CashFraction(0.5),
            price(101.0),
            &spec,
            funds(10_000.0, 4_000.0),
        )
        .unwrap();
    assert_eq!(qty.get(), 19.0);
    // The margin basis and its hints ignore the funds and the fee rate: today's sizing.
    let margin = sizer(SizingConfig {
        fee_rate: 0.002,
        ..SizingConfig::default()
    });
    let qty = margin
        .size_with(
            SizeHint::Default,
            price(10.0),
            &spec,
            funds(10_000.0, 4_000.0),
        )
        .unwrap();
    assert_eq!(qty.get(), 10.0);
}

#[test]
fn equity_sizing_compounds_with_equity() {
    let spec = whole_units("AAPL");
    let s = sizer(SizingConfig {
        basis: SizingBasis::EquityFraction(0.5),
        ..SizingConfig::default()
    });
    let at = |equity| {
        s.size_with(SizeHint::Default, price(10.0), &spec, funds(equity, 0.0))
            .unwrap()
            .get()
    };
    assert_eq!(
        (at(1_000.0), at(2_000.0), at(2_019.0)),
        (50.0, 100.0, 100.0)
    );
}

#[test]
fn funds_sizing_without_funds_or_with_none_left_is_refused_by_name() {
    let spec = whole_units("AAPL");
    let s = sizer(SizingConfig {
        basis: SizingBasis::EquityFraction(1.0),
        ..SizingConfig::default()
    });
    let err = s.size(SizeHint::Default, price(10.0), &spec).unwrap_err();
    assert_eq!(err, SizeRefusal::FundsUnknown { basis: "equity" });
    assert_eq!(err.as_label(), "funds_unknown");
    let err = s
        .size_with(
            SizeHint::CashFraction(1.0),
            price(10.0),
            &spec,
            funds(10.0, -5.0),
        )
        .unwrap_err();
    assert_eq!(
        err,
        SizeRefusal::NoFunds {
            basis: "cash",
            value: -5.0
        }
    );
    assert_eq!(
        err.to_string(),
        "cash of -5 leaves nothing to size an entry from"
    );
    let err = s
        .size_with(SizeHint::Default, price(10.0), &spec, funds(5.0, 5.0))
        .unwrap_err();
    assert_eq!(
        err.as_label(),
        "size_zero",
        "5 of equity buys no unit at 10"
    );
    for bad in [0.0, 1.5, f64::NAN] {
        let err = s
            .size_with(
                SizeHint::EquityFraction(bad),
                price(10.0),
                &spec,
                funds(1e4, 1e4),
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                SizeRefusal::InvalidHint {
                    hint: "equity_fraction",
                    ..
                }
            ),
            "{bad}: {err}"
        );
    }
}

#[test]
fn invalid_basis_or_fee_rate_is_a_config_error_naming_the_field() {
    for (config, field) in [
        (
            SizingConfig {
                basis: SizingBasis::EquityFraction(0.0),
                ..SizingConfig::default()
            },
            "sizing.basis.equity_fraction",
        ),
        (
            SizingConfig {
                basis: SizingBasis::CashFraction(1.01),
                ..SizingConfig::default()
            },
            "sizing.basis.cash_fraction",
        ),
        (
            SizingConfig {
                fee_rate: -0.1,
                ..SizingConfig::default()
            },
            "sizing.fee_rate",
        ),
        (
            SizingConfig {
                fee_rate: f64::INFINITY,
                ..SizingConfig::default()
            },
            "sizing.fee_rate",
        ),
    ] {
        let err = PositionSizer::new(config).unwrap_err();
        assert_eq!(err.field(), field, "{err}");
    }
}

#[test]
fn the_basis_round_trips_through_serde_and_defaults_to_margin() {
    let c: SizingConfig = serde_json::from_str(r#"{"margin": 100, "leverage": 1}"#).unwrap();
    assert_eq!(c, SizingConfig::default());
    let c = SizingConfig {
        basis: SizingBasis::EquityFraction(0.95),
        fee_rate: 0.001,
        ..SizingConfig::default()
    };
    let json = serde_json::to_string(&c).unwrap();
    assert!(
        json.contains(r#""basis":{"kind":"equity_fraction","fraction":0.95}"#),
        "{json}"
    );
    let back: SizingConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
}

proptest::proptest! {
    #[test]
    fn funds_sizing_is_affordable_with_its_fee_and_one_lot_more_is_not(
        equity in 1.0..1e7f64,
        fraction in 0.01..=1.0f64,
        px in 0.01..1e4f64,
        fee_rate in 0.0..0.01f64,
        lot in proptest::sample::select(vec![1.0, 0.1, 0.001]),
    ) {
        let spec = InstrumentSpec::new(sym("X"), AssetClass::Other, 0.0001, lot).unwrap();
        let s = sizer(SizingConfig {
            basis: SizingBasis::EquityFraction(fraction),
            fee_rate,
            ..SizingConfig::default()
        });
        let budget = fraction * equity;
        match s.size_with(SizeHint::Default, price(px), &spec, funds(equity, equity)) {
            Ok(q) => {
                let q = q.get();
                proptest::prop_assert!(q * px * (1.0 + fee_rate) <= budget * (1.0 + 1e-9));
                proptest::prop_assert!((q + lot) * px * (1.0 + fee_rate) > budget * (1.0 - 1e-9));
                proptest::prop_assert!((q / lot - (q / lot).round()).abs() < 1e-6);
            }
            Err(e) => {
                proptest::prop_assert_eq!(e.as_label(), "size_zero");
                proptest::prop_assert!(lot * px * (1.0 + fee_rate) > budget * (1.0 - 1e-9));
            }
        }
    }
}

//! Acceptance tests of the account-wide portfolio limits.

mod common;

use common::{at, price, sym, ts};
use rustrade_core::{Quantity, Side, Timestamp};
use rustrade_risk::{
    EntryRequest, OpenExposure, PortfolioConfig, PortfolioRefusal, PortfolioRisk, RiskError,
};

fn entry(symbol: &str, side: Side, qty: f64, px: f64) -> EntryRequest {
    EntryRequest {
        symbol: sym(symbol),
        side,
        quantity: Quantity::new(qty).unwrap(),
        price: price(px),
        contract_value: 1.0,
    }
}

fn open(symbol: &str, qty: f64, mark: f64) -> OpenExposure {
    OpenExposure {
        symbol: sym(symbol),
        quantity: qty,
        mark: price(mark),
        contract_value: 1.0,
    }
}

fn portfolio(config: PortfolioConfig) -> PortfolioRisk {
    PortfolioRisk::new(config, at(0)).unwrap()
}

#[test]
fn max_positions_counts_open_and_reserved_symbols_once() {
    let mut p = portfolio(PortfolioConfig {
        max_positions: Some(1),
        ..Default::default()
    });
    let positions = [open("BTCUSDT", 0.5, 100.0)];
    let err = p
        .check(&entry("ETHUSDT", Side::Buy, 1.0, 10.0), &positions, at(0))
        .unwrap_err();
    assert_eq!(err, PortfolioRefusal::MaxPositions { open: 1, max: 1 });
    assert_eq!(err.as_label(), "max_positions");
    // Adding to the open symbol does not add a position.
    assert!(
        p.check(&entry("BTCUSDT", Side::Buy, 1.0, 100.0), &positions, at(0))
            .is_ok()
    );
    // A flat entry in the list does not count; dust under QTY_EPSILON is flat.
    let positions = [open("BTCUSDT", 1e-12, 100.0)];
    let r = p
        .reserve(&entry("ETHUSDT", Side::Buy, 1.0, 10.0), &positions, at(0))
        .unwrap();
    assert_eq!(p.position_count(&positions), 1, "the reservation counts");
    assert!(
        p.reserve(&entry("ETHUSDT", Side::Sell, 1.0, 10.0), &positions, at(0))
            .is_ok(),
        "a second entry on a reserved symbol adds no position"
    );
    assert!(
        p.check(&entry("SOLUSDT", Side::Buy, 1.0, 10.0), &positions, at(0))
            .is_err()
    );
    assert!(p.release(r));
    assert!(!p.release(r), "a reservation is released once");
}

#[test]
fn a_released_reservation_lets_the_next_entry_pass() {
    let mut p = portfolio(PortfolioConfig {
        max_positions: Some(1),
        ..Default::default()
    });
    let first = p
        .reserve(&entry("BTCUSDT", Side::Buy, 1.0, 100.0), &[], at(0))
        .unwrap();
    assert!(matches!(
        p.reserve(&entry("ETHUSDT", Side::Buy, 1.0, 10.0), &[], at(1)),
        Err(PortfolioRefusal::MaxPositions { .. })
    ));
    // The BTC order was rejected by the venue: give its slot back.
    assert!(p.release(first));
    assert_eq!(p.reservations().count(), 0);
    assert!(
        p.reserve(&entry("ETHUSDT", Side::Buy, 1.0, 10.0), &[], at(2))
            .is_ok()
    );
}

#[test]
fn a_confirmed_reservation_is_counted_through_the_positions_once() {
    let mut p = portfolio(PortfolioConfig {
        max_gross_exposure: Some(250.0),
        ..Default::default()
    });
    let r = p
        .reserve(&entry("BTCUSDT", Side::Buy, 1.0, 100.0), &[], at(0))
        .unwrap();
    assert_eq!(p.exposure(&[]).unwrap(), (100.0, 100.0));
    // Filled: the position now carries the exposure.
    assert!(p.confirm(r));
    let positions = [open("BTCUSDT", 1.0, 100.0)];
    assert_eq!(p.exposure(&positions).unwrap(), (100.0, 100.0));
    assert!(
        p.check(&entry("ETHUSDT", Side::Buy, 1.0, 150.0), &positions, at(0))
            .is_ok()
    );
}

#[test]
fn gross_exposure_is_valued_at_mark() {
    let p = portfolio(PortfolioConfig {
        max_gross_exposure: Some(1_000.0),
        ..Default::default()
    });
    // Entered at 50, now marked at 90: 10 × 90 = 900 of exposure.
    let positions = [open("BTCUSDT", 10.0, 90.0)];
    assert!(
        p.check(&entry("ETHUSDT", Side::Buy, 1.0, 100.0), &positions, at(0))
            .is_ok()
    );
    let err = p
        .check(
            &entry("ETHUSDT", Side::Sell, 1.01, 100.0),
            &positions,
            at(0),
        )
        .unwrap_err();
    assert!(
        matches!(err, PortfolioRefusal::GrossExposure { exposure, max } if exposure > 1_000.0 && max == 1_000.0),
        "{err}"
    );
    assert_eq!(err.as_label(), "gross_exposure");
}

#[test]
fn net_exposure_cap_allows_hedges() {
    let p = portfolio(PortfolioConfig {
        max_net_exposure: Some(150.0),
        ..Default::default()
    });
    let positions = [open("BTCUSDT", 1.0, 100.0)];
    let err = p
        .check(&entry("ETHUSDT", Side::Buy, 1.0, 100.0), &positions, at(0))
        .unwrap_err();
    assert_eq!(
        err,
        PortfolioRefusal::NetExposure {
            exposure: 200.0,
            max: 150.0
        }
    );
    assert_eq!(err.as_label(), "net_exposure");
    assert!(
        p.check(&entry("ETHUSDT", Side::Sell, 2.0, 100.0), &positions, at(0))
            .is_ok()
    );
}

#[test]
fn an_unknown_exposure_fails_closed() {
    let p = portfolio(PortfolioConfig {
        max_gross_exposure: Some(1e9),
        max_positions: Some(5),
        ..Default::default()
    });
    let positions = [open("BTCUSDT", f64::NAN, 100.0)];
    let err = p
        .check(&entry("ETHUSDT", Side::Buy, 1.0, 100.0), &positions, at(0))
        .unwrap_err();
    assert_eq!(
        err,
        PortfolioRefusal::ExposureUnknown {
            symbol: sym("BTCUSDT")
        }
    );
    assert_eq!(err.as_label(), "exposure_unknown");
    let positions = [open("BTCUSDT", f64::MAX, 1e300)];
    assert!(
        p.check(&entry("ETHUSDT", Side::Buy, 1.0, 100.0), &positions, at(0))
            .is_err()
    );
}

#[test]
fn the_daily_latch_survives_recovery_within_the_day() {
    let mut p = PortfolioRisk::new(
        PortfolioConfig {
            daily_loss_limit: Some(-100.0),
            ..Default::default()
        },
        ts("2024-05-01T08:00:00Z"),
    )
    .unwrap();
    let e = entry("BTCUSDT", Side::Buy, 1.0, 100.0);
    p.record_realised(-60.0, ts("2024-05-01T09:00:00Z"))
        .unwrap();
    assert!(p.check(&e, &[], ts("2024-05-01T09:00:00Z")).is_ok());
    p.record_realised(-50.0, ts("2024-05-01T10:00:00Z"))
        .unwrap();
    assert!(p.is_latched(ts("2024-05-01T10:00:00Z")));
    p.record_realised(300.0, ts("2024-05-01T11:00:00Z"))
        .unwrap();
    assert_eq!(p.daily_pnl(), 190.0);
    let err = p.check(&e, &[], ts("2024-05-01T23:59:59Z")).unwrap_err();
    assert_eq!(
        err,
        PortfolioRefusal::DailyLoss {
            pnl: 190.0,
            limit: -100.0
        }
    );
    assert_eq!(err.as_label(), "daily_loss");

    let next_day = ts("2024-05-02T00:00:00Z");
    assert!(!p.is_latched(next_day));
    assert!(p.check(&e, &[], next_day).is_ok());
    p.tick(next_day);
    assert_eq!(p.daily_pnl(), 0.0);
}

#[test]
fn non_finite_realised_pnl_is_refused_and_changes_nothing() {
    let mut p = portfolio(PortfolioConfig {
        daily_loss_limit: Some(-100.0),
        ..Default::default()
    });
    p.record_realised(-10.0, at(0)).unwrap();
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = p.record_realised(v, at(1)).unwrap_err();
        assert!(matches!(
            err,
            RiskError::NotFinite {
                field: "net_pnl",
                ..
            }
        ));
    }
    p.record_realised(f64::MAX, at(1)).unwrap();
    let err = p.record_realised(f64::MAX, at(1)).unwrap_err();
    assert_eq!(err.field(), "portfolio.daily_pnl");
    assert_eq!(p.daily_pnl(), f64::MAX - 10.0);
}

#[test]
fn reservations_survive_the_day_boundary() {
    let mut p = portfolio(PortfolioConfig {
        max_positions: Some(1),
        ..Default::default()
    });
    p.reserve(&entry("BTCUSDT", Side::Buy, 1.0, 100.0), &[], at(0))
        .unwrap();
    let tomorrow = Timestamp::from_nanos(at(0).as_nanos() + 86_400_000_000_000);
    p.tick(tomorrow);
    assert_eq!(p.reservations().count(), 1);
}

#[test]
fn invalid_configs_name_the_field() {
    let cases = [
        (
            PortfolioConfig {
                max_positions: Some(0),
                ..Default::default()
            },
            "portfolio.max_positions",
        ),
        (
            PortfolioConfig {
                max_gross_exposure: Some(-1.0),
                ..Default::default()
            },
            "portfolio.max_gross_exposure",
        ),
        (
            PortfolioConfig {
                max_net_exposure: Some(f64::NAN),
                ..Default::default()
            },
            "portfolio.max_net_exposure",
        ),
        (
            PortfolioConfig {
                daily_loss_limit: Some(100.0),
                ..Default::default()
            },
            "portfolio.daily_loss_limit",
        ),
    ];
    for (config, field) in cases {
        let err = PortfolioRisk::new(config, at(0)).unwrap_err();
        assert_eq!(err.field(), field, "{err}");
    }
    let mut config = PortfolioConfig::default();
    config.boundary.utc_offset_secs = 90_000;
    let err = PortfolioRisk::new(config, at(0)).unwrap_err();
    assert_eq!(err.field(), "portfolio.boundary.utc_offset_secs");
}

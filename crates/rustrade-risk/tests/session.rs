//! Acceptance tests of the session PnL and its loss cap.

mod common;

use common::{at, ts};
use rustrade_core::Timestamp;
use rustrade_risk::{RiskError, SessionBoundary, SessionConfig, SessionPnl, TradeOutcome};

fn capped(cap: f64, now: Timestamp) -> SessionPnl {
    SessionPnl::new(
        SessionConfig {
            loss_cap: Some(cap),
            boundary: SessionBoundary::UTC_MIDNIGHT,
        },
        now,
    )
    .unwrap()
}

#[test]
fn net_is_gross_minus_both_legs_fees_and_the_cap_halts() {
    let now = ts("2024-05-01T12:00:00Z");
    let mut s = capped(-100.0, now);
    assert_eq!(s.record_close(20.0, 1.5, now).unwrap(), TradeOutcome::Win);
    assert_eq!(s.record_close(-50.0, 1.5, now).unwrap(), TradeOutcome::Loss);
    assert!(!s.is_halted(now), "net -33 is above the cap");
    assert_eq!(s.record_close(-80.0, 1.5, now).unwrap(), TradeOutcome::Loss);
    assert_eq!(s.net(), -114.5);
    assert_eq!(s.gross(), -110.0);
    assert_eq!(s.fees(), 4.5);
    assert_eq!((s.wins(), s.losses(), s.breakevens()), (1, 2, 0));
    assert!(s.is_halted(now));
}

#[test]
fn a_gross_profit_eaten_by_fees_is_a_loss() {
    let now = ts("2024-05-01T12:00:00Z");
    let mut s = capped(-100.0, now);
    assert_eq!(s.record_close(1.0, 3.0, now).unwrap(), TradeOutcome::Loss);
    assert_eq!(s.net(), -2.0);
    assert_eq!(
        s.record_close(1.5, 1.5, now).unwrap(),
        TradeOutcome::Breakeven
    );
    assert_eq!(
        s.record_close(2.0, -0.5, now).unwrap(),
        TradeOutcome::Win,
        "a rebate adds"
    );
    assert_eq!((s.wins(), s.losses(), s.breakevens()), (1, 1, 1));
}

#[test]
fn the_halt_holds_after_recovery_and_resets_exactly_at_the_boundary() {
    let now = ts("2024-05-01T12:00:00Z");
    let mut s = capped(-100.0, now);
    s.record_close(-150.0, 0.0, now).unwrap();
    s.record_close(500.0, 0.0, ts("2024-05-01T13:00:00Z"))
        .unwrap();
    assert!(s.net() > 0.0);
    assert!(
        s.is_halted(now),
        "a halt is not lifted by a recovery within the session"
    );

    let boundary = ts("2024-05-02T00:00:00Z");
    let just_before = Timestamp::from_nanos(boundary.as_nanos() - 1);
    s.tick(just_before);
    assert!(s.is_halted(just_before));
    assert_eq!(s.net(), 350.0);
    assert_eq!(s.session_end(), boundary);

    assert!(
        !s.is_halted(boundary),
        "no longer halted at the boundary itself"
    );
    s.tick(boundary);
    assert!(!s.is_halted(boundary));
    assert_eq!(s.net(), 0.0);
    assert_eq!(s.session_start(), boundary);
}

#[test]
fn a_close_recorded_after_the_boundary_starts_the_new_session() {
    let mut s = capped(-100.0, ts("2024-05-01T12:00:00Z"));
    s.record_close(-150.0, 0.0, ts("2024-05-01T12:00:00Z"))
        .unwrap();
    s.record_close(-10.0, 1.0, ts("2024-05-02T00:00:00Z"))
        .unwrap();
    assert_eq!(s.net(), -11.0);
    assert!(!s.is_halted(ts("2024-05-02T00:00:00Z")));
}

#[test]
fn an_offset_boundary_rolls_over_at_its_utc_instant() {
    // 17:00 at UTC-05:00 = 22:00 UTC.
    let boundary = SessionBoundary::new(17 * 3_600, -5 * 3_600).unwrap();
    let config = SessionConfig {
        loss_cap: Some(-10.0),
        boundary,
    };
    let mut s = SessionPnl::new(config, ts("2024-05-01T21:00:00Z")).unwrap();
    assert_eq!(s.session_start(), ts("2024-04-30T22:00:00Z"));
    s.record_close(-20.0, 0.0, ts("2024-05-01T21:00:00Z"))
        .unwrap();
    assert!(s.is_halted(ts("2024-05-01T21:59:59.999999999Z")));
    assert!(!s.is_halted(ts("2024-05-01T22:00:00Z")));
}

#[test]
fn non_finite_inputs_are_refused_and_change_nothing() {
    let now = ts("2024-05-01T12:00:00Z");
    let mut s = capped(-100.0, now);
    s.record_close(-20.0, 1.0, now).unwrap();
    let before = s.snapshot();
    let cases = [
        (f64::NAN, 1.0, "gross_pnl"),
        (f64::INFINITY, 1.0, "gross_pnl"),
        (1.0, f64::NAN, "fee"),
        (1.0, f64::NEG_INFINITY, "fee"),
        (f64::MAX, -f64::MAX, "net_pnl"),
    ];
    for (gross, fee, field) in cases {
        // Stamped after the boundary: a refused input must not even roll the session over.
        let err = s
            .record_close(gross, fee, ts("2024-05-03T00:00:00Z"))
            .unwrap_err();
        assert!(
            matches!(err, RiskError::NotFinite { field: f, .. } if f == field),
            "{err}"
        );
        assert_eq!(s.snapshot(), before);
    }
}

#[test]
fn invalid_configs_name_the_field_and_value() {
    let now = at(0);
    let err = SessionPnl::new(
        SessionConfig {
            loss_cap: Some(5.0),
            ..Default::default()
        },
        now,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "session.loss_cap: must be < 0 (a loss) (got 5)"
    );
    let err = SessionPnl::new(
        SessionConfig {
            loss_cap: Some(f64::NAN),
            ..Default::default()
        },
        now,
    )
    .unwrap_err();
    assert_eq!(err.field(), "session.loss_cap");
    let err = SessionBoundary::new(86_400, 0).unwrap_err();
    assert_eq!(err.field(), "session.boundary.time_of_day_secs");
    let err = SessionBoundary::new(0, -86_400).unwrap_err();
    assert_eq!(err.field(), "session.boundary.utc_offset_secs");
}

#[test]
fn boundaries_at_the_ends_of_time_do_not_overflow() {
    let b = SessionBoundary::new(86_399, -86_399).unwrap();
    for t in [Timestamp::MIN, Timestamp::MAX, Timestamp::EPOCH] {
        assert!(b.session_start(t) <= t);
        assert!(b.next_boundary(t) >= b.session_start(t));
    }
}

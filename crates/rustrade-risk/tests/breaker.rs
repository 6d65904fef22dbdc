//! Acceptance tests of the loss-streak circuit breaker.

mod common;

use std::time::Duration;

use common::at;
use rustrade_core::Timestamp;
use rustrade_risk::{BreakerConfig, CircuitBreaker, RiskError, TradeOutcome};

fn breaker(loss_limit: u32, window_s: u64, cooldown_s: u64) -> CircuitBreaker {
    CircuitBreaker::new(BreakerConfig {
        loss_limit,
        window: Duration::from_secs(window_s),
        cooldown: Duration::from_secs(cooldown_s),
        extend_on_loss: false,
    })
    .unwrap()
}

#[test]
fn losses_outside_the_window_do_not_trip() {
    let mut b = breaker(3, 3_600, 600);
    b.record_loss(at(0));
    b.record_loss(at(100));
    b.record_loss(at(3_700));
    assert!(!b.is_tripped(at(3_700)));
    assert_eq!(
        b.recent_losses(),
        1,
        "both earlier losses slid out of the window"
    );

    let mut b = breaker(3, 3_600, 600);
    b.record_loss(at(0));
    b.record_loss(at(1_000));
    b.record_loss(at(3_700));
    assert!(!b.is_tripped(at(3_700)));
    assert_eq!(
        b.recent_losses(),
        2,
        "only the first loss slid out of the window"
    );
}

#[test]
fn three_losses_inside_the_window_trip() {
    let mut b = breaker(3, 3_600, 600);
    b.record_loss(at(0));
    b.record_loss(at(100));
    b.record_loss(at(3_599));
    assert!(b.is_tripped(at(3_599)));
}

#[test]
fn a_loss_exactly_one_window_old_has_left_it() {
    let mut b = breaker(2, 3_600, 600);
    b.record_loss(at(0));
    b.record_loss(at(3_600));
    assert!(!b.is_tripped(at(3_600)));
}

#[test]
fn trip_cooldown_and_clearance() {
    let mut b = breaker(2, 3_600, 600);
    b.record_loss(at(0));
    assert!(!b.is_tripped(at(0)));
    b.record_loss(at(0));
    assert!(b.is_tripped(at(0)));
    assert_eq!(b.tripped_until(at(0)), Some(at(600)));

    assert_eq!(
        b.remaining_cooldown(at(300)),
        Some(Duration::from_secs(300))
    );

    // A win never clears it.
    b.record_win(at(310));
    b.record_outcome(TradeOutcome::Win, at(320));
    assert!(b.is_tripped(at(320)));

    b.tick(at(599));
    assert!(b.is_tripped(at(599)));

    b.tick(at(601));
    assert!(!b.is_tripped(at(601)));
    assert_eq!(b.remaining_cooldown(at(601)), None);
    assert_eq!(
        b.recent_losses(),
        0,
        "clearance also clears the loss history"
    );

    // A single new loss after clearance does not trip again.
    b.record_loss(at(602));
    assert!(!b.is_tripped(at(602)));
}

#[test]
fn a_loss_while_tripped_does_not_extend_the_cooldown_by_default() {
    let mut b = breaker(2, 3_600, 600);
    b.record_loss(at(0));
    b.record_loss(at(0));
    b.record_loss(at(500));
    assert_eq!(b.tripped_until(at(500)), Some(at(600)));
    b.tick(at(600));
    assert!(!b.is_tripped(at(600)));
    assert_eq!(
        b.recent_losses(),
        0,
        "a loss while tripped is not carried over"
    );
}

#[test]
fn a_loss_while_tripped_extends_the_cooldown_when_configured() {
    let mut b = CircuitBreaker::new(BreakerConfig {
        loss_limit: 2,
        window: Duration::from_secs(3_600),
        cooldown: Duration::from_secs(600),
        extend_on_loss: true,
    })
    .unwrap();
    b.record_loss(at(0));
    b.record_loss(at(0));
    b.record_loss(at(500));
    assert_eq!(b.tripped_until(at(500)), Some(at(1_100)));
    assert!(b.is_tripped(at(1_000)));
}

#[test]
fn wins_between_losses_do_not_reset_the_window_count() {
    let mut b = breaker(2, 3_600, 600);
    b.record_loss(at(0));
    b.record_win(at(10));
    b.record_outcome(TradeOutcome::Breakeven, at(20));
    b.record_outcome(TradeOutcome::Loss, at(30));
    assert!(b.is_tripped(at(30)));
}

#[test]
fn time_going_backwards_does_not_panic_and_counts_the_loss() {
    let mut b = breaker(2, 3_600, 600);
    b.record_loss(at(1_000));
    b.record_loss(at(0));
    assert!(b.is_tripped(at(0)));
    let mut b = breaker(1, 1, 1);
    b.record_loss(Timestamp::MAX);
    assert!(
        !b.is_tripped(Timestamp::MAX),
        "cooldown end saturates at the end of time"
    );
    b.record_loss(Timestamp::MIN);
}

#[test]
fn invalid_configs_name_the_field() {
    let ok = BreakerConfig::default();
    let cases = [
        (
            BreakerConfig {
                loss_limit: 0,
                ..ok
            },
            "breaker.loss_limit",
            "0",
        ),
        (
            BreakerConfig {
                window: Duration::ZERO,
                ..ok
            },
            "breaker.window",
            "0s",
        ),
        (
            BreakerConfig {
                cooldown: Duration::ZERO,
                ..ok
            },
            "breaker.cooldown",
            "0s",
        ),
    ];
    for (config, field, value) in cases {
        let err = CircuitBreaker::new(config).unwrap_err();
        match &err {
            RiskError::InvalidConfig {
                field: f, value: v, ..
            } => {
                assert_eq!((*f, v.as_str()), (field, value));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().starts_with(field), "{err}");
    }
}

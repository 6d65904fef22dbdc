//! Acceptance: backoff values, jitter bounds, and the circuit breaker's threshold.

mod common;

use std::time::Duration;

use common::{Scripted, Step, wait_until};
use rustrade_supervisor::{
    Backoff, CircuitBreakerPolicy, RestartPolicy, Supervisor, SupervisorConfig, TerminationReason,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn pre_jitter_delays_follow_the_documented_schedule() {
    let backoff = Backoff::new(ms(100), Duration::from_secs(5)).unwrap();
    assert_eq!(backoff.pre_jitter_delay(0), ms(100));
    assert_eq!(backoff.pre_jitter_delay(1), ms(200));
    assert_eq!(backoff.pre_jitter_delay(5), ms(3_200));
    assert_eq!(backoff.pre_jitter_delay(6), Duration::from_secs(5));
    assert_eq!(backoff.pre_jitter_delay(10), Duration::from_secs(5));
}

#[test]
fn attempt_100_with_a_60_s_cap_gives_60_s() {
    let backoff = Backoff::new(ms(100), Duration::from_secs(60)).unwrap();
    assert_eq!(backoff.pre_jitter_delay(100), Duration::from_secs(60));
    assert_eq!(backoff.pre_jitter_delay(u32::MAX), Duration::from_secs(60));
    assert_eq!(Backoff::default(), backoff);
}

#[test]
fn jittered_delays_lie_between_zero_and_the_pre_jitter_delay() {
    let backoff = Backoff::new(ms(100), Duration::from_secs(5)).unwrap();
    let mut rng = fastrand::Rng::with_seed(2024);
    for attempt in 0..=40 {
        let bound = backoff.pre_jitter_delay(attempt);
        let draws: Vec<Duration> = (0..500).map(|_| backoff.delay(attempt, &mut rng)).collect();
        assert!(draws.iter().all(|d| *d <= bound), "attempt {attempt}");
        // Full jitter uses the whole range, not a band near the bound.
        assert!(draws.iter().any(|d| *d < bound / 4), "attempt {attempt}");
        assert!(
            draws.iter().any(|d| *d > bound * 3 / 4),
            "attempt {attempt}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn with_three_failures_allowed_the_third_failure_opens_the_circuit() {
    let config = SupervisorConfig::default()
        .without_signal_handler()
        .with_circuit_breaker(CircuitBreakerPolicy::new(3, Duration::from_secs(60)).unwrap());
    let supervisor = Supervisor::new(config).unwrap();
    let service = Scripted::always("feed", RestartPolicy::OnFailure, Step::Fail("down".into()));
    supervisor.spawn(service.clone()).unwrap();

    let after_two = wait_until(&supervisor, "feed", Duration::from_secs(60), |s| {
        s.failures == 2
    })
    .await;
    assert_eq!(after_two.termination, None, "two failures keep it alive");

    let end = wait_until(&supervisor, "feed", Duration::from_secs(60), |s| {
        s.is_terminated()
    })
    .await;
    assert_eq!(end.termination, Some(TerminationReason::CircuitOpen));
    assert_eq!(end.failures, 3);
    assert_eq!(end.restarts, 2);
    assert_eq!(service.runs(), 3);
    assert_eq!(end.last_error.as_deref(), Some("down"));
}

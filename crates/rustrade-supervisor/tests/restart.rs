//! Acceptance: restart policies, backoff between restarts, circuit breaker, fatal errors.

mod common;

use std::time::Duration;

use common::{Scripted, Step, now, wait_until};
use rustrade_core::MemoryMetrics;
use rustrade_supervisor::{
    Backoff, CircuitBreakerPolicy, RestartPolicy, ServicePhase, ShutdownCause, Supervisor,
    SupervisorConfig, TerminationReason,
};
use std::sync::Arc;

const MINUTE: Duration = Duration::from_secs(60);

fn config() -> SupervisorConfig {
    SupervisorConfig::default().without_signal_handler()
}

#[tokio::test(start_paused = true)]
async fn on_failure_always_failing_backs_off_until_its_circuit_opens_then_stays_terminated() {
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5)).unwrap();
    let config = config()
        .with_backoff(backoff)
        .with_circuit_breaker(CircuitBreakerPolicy::new(6, 10 * MINUTE).unwrap());
    let metrics = Arc::new(MemoryMetrics::new());
    let supervisor = Supervisor::with_metrics(config, metrics.clone()).unwrap();
    let service = Scripted::new("feed", RestartPolicy::OnFailure, |run| {
        Step::Fail(format!("connect failed (run {run})"))
    });
    supervisor.spawn(service.clone()).unwrap();

    let end = wait_until(&supervisor, "feed", 10 * MINUTE, |s| s.is_terminated()).await;
    assert_eq!(end.termination, Some(TerminationReason::CircuitOpen));
    assert_eq!(end.failures, 6);
    assert_eq!(end.restarts, 5);
    assert_eq!(end.last_error.as_deref(), Some("connect failed (run 5)"));

    // Each restart waited a jittered delay within the backoff bound of its attempt, and the
    // delays were not all zero: the service really backed off.
    let starts = service.starts();
    assert_eq!(starts.len(), 6);
    let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    for (attempt, gap) in (0u32..).zip(&gaps) {
        assert!(
            *gap <= backoff.pre_jitter_delay(attempt),
            "attempt {attempt}: {gap:?}"
        );
    }
    assert!(gaps.iter().any(|g| !g.is_zero()), "gaps: {gaps:?}");

    // Terminated for good: no further run, however long we wait.
    tokio::time::sleep(30 * MINUTE).await;
    assert_eq!(service.runs(), 6);
    let later = supervisor.snapshot("feed").unwrap();
    assert_eq!(later.phase, ServicePhase::Terminated);
    assert_eq!(later.termination, Some(TerminationReason::CircuitOpen));

    assert_eq!(
        metrics.counter_value(r#"rustrade_service_restarts_total{service="feed"}"#),
        5
    );
    assert_eq!(
        metrics.counter_value(r#"rustrade_service_failures_total{service="feed"}"#),
        6
    );
    assert_eq!(
        metrics.counter_value(
            r#"rustrade_services_terminated_total{service="feed",reason="circuit_open"}"#
        ),
        1
    );
    assert_eq!(metrics.gauge_value("rustrade_services_active"), Some(0.0));
}

#[tokio::test(start_paused = true)]
async fn jittered_restart_delays_replay_exactly_with_the_same_seed() {
    async fn gaps(seed: u64) -> Vec<Duration> {
        let config = config()
            .with_seed(seed)
            .with_circuit_breaker(CircuitBreakerPolicy::new(8, 10 * MINUTE).unwrap());
        let supervisor = Supervisor::new(config).unwrap();
        let service = Scripted::always("feed", RestartPolicy::Always, Step::Fail("x".into()));
        supervisor.spawn(service.clone()).unwrap();
        supervisor.wait_until_all_terminated().await;
        let starts = service.starts();
        starts.windows(2).map(|w| w[1] - w[0]).collect()
    }
    let first = gaps(7).await;
    assert_eq!(first.len(), 7);
    assert_eq!(first, gaps(7).await);
    assert_ne!(first, gaps(8).await);
}

#[tokio::test(start_paused = true)]
async fn never_service_that_fails_terminates_as_failed() {
    let supervisor = Supervisor::new(config()).unwrap();
    let service = Scripted::always("once", RestartPolicy::Never, Step::Fail("bad input".into()));
    supervisor.spawn(service.clone()).unwrap();

    let end = wait_until(&supervisor, "once", MINUTE, |s| s.is_terminated()).await;
    assert_eq!(end.termination, Some(TerminationReason::Failed));
    assert_eq!(end.last_error.as_deref(), Some("bad input"));
    assert_eq!(end.restarts, 0);
    tokio::time::sleep(10 * MINUTE).await;
    assert_eq!(service.runs(), 1, "never restarted");
}

#[tokio::test(start_paused = true)]
async fn always_service_that_exits_cleanly_restarts_after_the_fixed_delay() {
    let delay = Duration::from_millis(750);
    let supervisor = Supervisor::new(config().with_clean_restart_delay(delay)).unwrap();
    let service = Scripted::always("poller", RestartPolicy::Always, Step::Complete);
    supervisor.spawn(service.clone()).unwrap();

    let waiting = wait_until(&supervisor, "poller", MINUTE, |s| {
        s.phase == ServicePhase::BackingOff
    })
    .await;
    assert_eq!(waiting.failures, 0);
    assert_eq!(waiting.last_error, None);

    let later = wait_until(&supervisor, "poller", MINUTE, |s| s.restarts >= 3).await;
    assert_eq!(later.termination, None);
    assert_eq!(later.failures, 0);
    let starts = service.starts();
    for w in starts.windows(2) {
        assert_eq!(
            w[1] - w[0],
            delay,
            "clean restarts wait exactly the fixed delay"
        );
    }

    let report = supervisor.shutdown().await;
    assert!(report.is_clean());
    assert_eq!(
        report.services[0].termination,
        Some(TerminationReason::Shutdown)
    );
}

#[tokio::test(start_paused = true)]
async fn on_failure_service_that_finishes_is_completed_not_failed() {
    let supervisor = Supervisor::new(config()).unwrap();
    let source = Scripted::new("replay", RestartPolicy::OnFailure, |run| {
        if run < 2 {
            Step::Fail("file locked".into())
        } else {
            Step::Complete
        }
    });
    supervisor.spawn(source.clone()).unwrap();

    supervisor.wait_until_all_terminated().await;
    let end = supervisor.snapshot("replay").unwrap();
    assert_eq!(end.termination, Some(TerminationReason::Completed));
    assert_eq!(end.restarts, 2);
    assert_eq!(end.failures, 2);
    assert_eq!(
        end.last_error.as_deref(),
        Some("file locked"),
        "history stays visible"
    );
    assert_eq!(source.runs(), 3);
}

#[tokio::test(start_paused = true)]
async fn fatal_error_terminates_even_an_always_service() {
    let supervisor = Supervisor::new(config()).unwrap();
    let service = Scripted::always(
        "user-stream",
        RestartPolicy::Always,
        Step::Fatal("bad api key".into()),
    );
    supervisor.spawn(service.clone()).unwrap();

    supervisor.wait_until_all_terminated().await;
    let end = supervisor.snapshot("user-stream").unwrap();
    assert_eq!(end.termination, Some(TerminationReason::Failed));
    assert_eq!(end.last_error.as_deref(), Some("bad api key"));
    tokio::time::sleep(10 * MINUTE).await;
    assert_eq!(service.runs(), 1);
}

/// Gaps between consecutive run starts of a service whose first six runs stay up two minutes and
/// then fail.
async fn gaps_after_long_runs(reset_after: Duration) -> Vec<Duration> {
    let supervisor = Supervisor::new(config().with_backoff_reset_after(reset_after)).unwrap();
    let service = Scripted::new("feed", RestartPolicy::OnFailure, |run| {
        if run < 6 {
            Step::FailAfter(2 * MINUTE, format!("dropped (run {run})"))
        } else {
            Step::Complete
        }
    });
    supervisor.spawn(service.clone()).unwrap();
    supervisor.wait_until_all_terminated().await;
    assert_eq!(
        supervisor.snapshot("feed").unwrap().termination,
        Some(TerminationReason::Completed)
    );
    let starts = service.starts();
    starts.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn a_run_longer_than_backoff_reset_after_resets_the_backoff() {
    let first_step = 2 * MINUTE + Backoff::DEFAULT_BASE;
    let reset = gaps_after_long_runs(MINUTE).await;
    assert_eq!(reset.len(), 6);
    assert!(reset.iter().all(|g| *g <= first_step), "{reset:?}");

    // Control: without the reset, later restarts draw from the grown delays.
    let grown = gaps_after_long_runs(10 * MINUTE).await;
    assert!(grown.iter().any(|g| *g > first_step), "{grown:?}");
}

#[tokio::test(start_paused = true)]
async fn run_until_shutdown_can_end_when_every_service_terminated_on_its_own() {
    let supervisor = Supervisor::new(config().stopping_when_all_terminated()).unwrap();
    supervisor
        .spawn(Scripted::always(
            "a",
            RestartPolicy::OnFailure,
            Step::Complete,
        ))
        .unwrap();
    supervisor
        .spawn(Scripted::always(
            "b",
            RestartPolicy::Never,
            Step::Fail("gone".into()),
        ))
        .unwrap();

    let started = now();
    let report = supervisor.run_until_shutdown().await.unwrap();
    assert_eq!(report.cause, ShutdownCause::AllTerminated);
    assert_eq!(now() - started, Duration::ZERO);
    let reasons: Vec<_> = report.services.iter().map(|s| s.termination).collect();
    assert_eq!(
        reasons,
        [
            Some(TerminationReason::Completed),
            Some(TerminationReason::Failed)
        ]
    );
    assert!(report.stopped.is_empty() && report.aborted.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_clean_exit_resets_the_backoff() {
    let delay = Duration::from_secs(1);
    let supervisor = Supervisor::new(config().with_clean_restart_delay(delay)).unwrap();
    // Four failures grow the backoff, a clean exit resets it, then failures start over.
    let service = Scripted::new("poller", RestartPolicy::Always, |run| match run {
        4 => Step::Complete,
        0..=8 => Step::Fail(format!("run {run}")),
        _ => Step::UntilCancelled,
    });
    supervisor.spawn(service.clone()).unwrap();
    wait_until(&supervisor, "poller", 10 * MINUTE, |s| s.restarts == 9).await;

    let starts = service.starts();
    let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps[4], delay, "the clean exit waits the fixed delay");
    let backoff = Backoff::default();
    for (attempt, gap) in (0u32..).zip(&gaps[5..]) {
        assert!(
            *gap <= backoff.pre_jitter_delay(attempt),
            "attempt {attempt}: {gaps:?}"
        );
    }
    supervisor.shutdown().await;
}

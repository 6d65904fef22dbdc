//! Acceptance: graceful drain with a bounded timeout, aborting what ignores cancellation, and the
//! accounting after shutdown (every service terminated, spawned = terminated, active = 0).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Scripted, Step, now, settle, wait_until};
use rustrade_core::MemoryMetrics;
use rustrade_supervisor::{
    CircuitBreakerPolicy, RestartPolicy, ServiceCounts, ServicePhase, ShutdownCause, Supervisor,
    SupervisorConfig, SupervisorError, TerminationReason,
};

const SECOND: Duration = Duration::from_secs(1);

fn config(timeout: Duration) -> SupervisorConfig {
    SupervisorConfig::default()
        .without_signal_handler()
        .with_shutdown_timeout(timeout)
}

#[tokio::test(start_paused = true)]
async fn a_service_ignoring_cancellation_delays_shutdown_at_most_the_timeout_then_is_aborted() {
    let timeout = 5 * SECOND;
    let supervisor = Supervisor::new(config(timeout)).unwrap();
    let stubborn = Scripted::always("stubborn", RestartPolicy::Always, Step::IgnoreCancel);
    let polite = Scripted::always("polite", RestartPolicy::Always, Step::SlowStop(2 * SECOND));
    supervisor.spawn(stubborn.clone()).unwrap();
    supervisor.spawn(polite.clone()).unwrap();
    wait_until(&supervisor, "stubborn", SECOND, |s| {
        s.phase == ServicePhase::Running
    })
    .await;

    let started = now();
    let report = supervisor.shutdown().await;
    let waited = now() - started;

    assert_eq!(waited, timeout, "waited exactly the timeout, not longer");
    assert_eq!(report.elapsed, timeout);
    assert_eq!(report.cause, ShutdownCause::Requested);
    assert_eq!(report.aborted, ["stubborn"]);
    assert_eq!(report.stopped, ["polite"]);
    assert!(!report.is_clean());
    let stubborn_end = supervisor.snapshot("stubborn").unwrap();
    assert_eq!(stubborn_end.phase, ServicePhase::Terminated);
    assert_eq!(stubborn_end.termination, Some(TerminationReason::Aborted));

    // The aborted run's future is dropped at its next poll point.
    settle().await;
    assert!(stubborn.was_dropped_mid_run());
    assert!(!polite.was_dropped_mid_run());
    assert_eq!(stubborn.runs(), 1);
}

#[tokio::test(start_paused = true)]
async fn services_that_stop_in_time_are_not_aborted_and_the_drain_ends_when_they_do() {
    let supervisor = Supervisor::new(config(10 * SECOND)).unwrap();
    let slow = Scripted::always("slow", RestartPolicy::Always, Step::SlowStop(3 * SECOND));
    supervisor.spawn(slow.clone()).unwrap();
    wait_until(&supervisor, "slow", SECOND, |s| {
        s.phase == ServicePhase::Running
    })
    .await;

    let report = supervisor.shutdown().await;
    assert_eq!(report.elapsed, 3 * SECOND);
    assert!(report.is_clean());
    assert_eq!(report.stopped, ["slow"]);
    assert!(!slow.was_dropped_mid_run());
}

#[tokio::test(start_paused = true)]
async fn a_zero_timeout_aborts_at_once() {
    let supervisor = Supervisor::new(config(Duration::ZERO)).unwrap();
    supervisor
        .spawn(Scripted::always(
            "stubborn",
            RestartPolicy::Always,
            Step::IgnoreCancel,
        ))
        .unwrap();
    wait_until(&supervisor, "stubborn", SECOND, |s| {
        s.phase == ServicePhase::Running
    })
    .await;

    let report = supervisor.shutdown().await;
    assert_eq!(report.elapsed, Duration::ZERO);
    assert_eq!(report.aborted, ["stubborn"]);
}

#[tokio::test(start_paused = true)]
async fn after_shutdown_every_service_is_terminated_and_the_counts_balance() {
    let metrics = Arc::new(MemoryMetrics::new());
    let config = config(5 * SECOND)
        .with_circuit_breaker(CircuitBreakerPolicy::new(2, Duration::from_secs(60)).unwrap());
    let supervisor = Arc::new(Supervisor::with_metrics(config, metrics.clone()).unwrap());
    let services = [
        Scripted::always("running", RestartPolicy::Always, Step::UntilCancelled),
        Scripted::always("finite", RestartPolicy::OnFailure, Step::Complete),
        Scripted::always(
            "broken",
            RestartPolicy::OnFailure,
            Step::Fail("refused".into()),
        ),
        Scripted::new("backing-off", RestartPolicy::Always, |run| {
            if run == 0 {
                Step::Fail("first try fails".into())
            } else {
                Step::UntilCancelled
            }
        }),
        Scripted::always("slow", RestartPolicy::Always, Step::SlowStop(SECOND)),
        Scripted::always("stubborn", RestartPolicy::Always, Step::IgnoreCancel),
    ];
    for service in &services {
        supervisor.spawn(service.clone()).unwrap();
    }
    assert_eq!(
        supervisor.counts(),
        ServiceCounts {
            spawned: 6,
            terminated: 0,
            active: 6
        }
    );
    wait_until(&supervisor, "broken", Duration::from_secs(60), |s| {
        s.is_terminated()
    })
    .await;
    wait_until(&supervisor, "finite", SECOND, |s| s.is_terminated()).await;
    assert_eq!(supervisor.counts().active, 4);
    assert_eq!(metrics.gauge_value("rustrade_services_active"), Some(4.0));

    // Shut down through the token, as a host handle does, while `run_until_shutdown` waits.
    let token = supervisor.cancel_token().clone();
    let runner = {
        let supervisor = Arc::clone(&supervisor);
        tokio::spawn(async move { supervisor.run_until_shutdown().await })
    };
    tokio::time::sleep(SECOND).await;
    token.cancel();
    let report = runner.await.unwrap().unwrap();
    assert_eq!(report.cause, ShutdownCause::Requested);

    let snapshots = supervisor.lifecycle_snapshots().await;
    assert!(
        snapshots
            .iter()
            .all(|s| s.phase == ServicePhase::Terminated)
    );
    assert!(snapshots.iter().all(|s| s.termination.is_some()));
    let reasons: Vec<_> = snapshots
        .iter()
        .map(|s| (s.name.as_str(), s.termination.unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("running", TerminationReason::Shutdown),
            ("finite", TerminationReason::Completed),
            ("broken", TerminationReason::CircuitOpen),
            ("backing-off", TerminationReason::Shutdown),
            ("slow", TerminationReason::Shutdown),
            ("stubborn", TerminationReason::Aborted),
        ]
    );
    assert_eq!(report.services, snapshots);

    let counts = supervisor.counts();
    assert_eq!(counts.spawned, counts.terminated);
    assert_eq!(counts.active, 0);
    assert_eq!(metrics.counter_value("rustrade_services_spawned_total"), 6);
    assert_eq!(
        metrics.counter_total("rustrade_services_terminated_total"),
        6
    );
    assert_eq!(metrics.gauge_value("rustrade_services_active"), Some(0.0));

    // Nothing comes back to life afterwards.
    tokio::time::sleep(Duration::from_secs(3_600)).await;
    assert_eq!(supervisor.counts().active, 0);
    assert_eq!(services[0].runs(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_service_backing_off_stops_at_once_on_shutdown() {
    // A long fixed delay keeps it in BackingOff when shutdown arrives.
    let supervisor =
        Supervisor::new(config(5 * SECOND).with_clean_restart_delay(Duration::from_secs(3_600)))
            .unwrap();
    supervisor
        .spawn(Scripted::always(
            "poller",
            RestartPolicy::Always,
            Step::Complete,
        ))
        .unwrap();
    wait_until(&supervisor, "poller", SECOND, |s| {
        s.phase == ServicePhase::BackingOff
    })
    .await;

    let report = supervisor.shutdown().await;
    assert_eq!(report.elapsed, Duration::ZERO);
    assert_eq!(report.stopped, ["poller"]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_twice_reports_the_same_final_states() {
    let supervisor = Supervisor::new(config(SECOND)).unwrap();
    supervisor
        .spawn(Scripted::always(
            "a",
            RestartPolicy::Always,
            Step::UntilCancelled,
        ))
        .unwrap();
    let first = supervisor.shutdown().await;
    let second = supervisor.shutdown().await;
    assert_eq!(first.services, second.services);
    assert_eq!(second.elapsed, Duration::ZERO);
    assert_eq!(supervisor.counts().terminated, 1);
}

#[tokio::test(start_paused = true)]
async fn spawn_is_refused_after_shutdown_for_duplicates_and_for_bad_names() {
    let supervisor = Supervisor::new(config(SECOND)).unwrap();
    let svc = |name: &str| Scripted::always(name, RestartPolicy::Always, Step::UntilCancelled);
    supervisor.spawn(svc("feed")).unwrap();

    assert_eq!(
        supervisor.spawn(svc("feed")),
        Err(SupervisorError::DuplicateService {
            name: "feed".into()
        })
    );
    let blank = supervisor.spawn(svc("  ")).unwrap_err();
    assert_eq!(
        blank.to_string(),
        r#"service name "  ": must not be empty or blank"#
    );
    let control = supervisor.spawn(svc("fe\ned")).unwrap_err();
    assert!(matches!(
        control,
        SupervisorError::InvalidServiceName { .. }
    ));

    supervisor.shutdown().await;
    let late = supervisor.spawn(svc("late")).unwrap_err();
    assert_eq!(
        late,
        SupervisorError::ShuttingDown {
            name: "late".into()
        }
    );
    assert_eq!(
        supervisor.counts().spawned,
        1,
        "refused services are not counted"
    );
}

#[test]
fn spawn_outside_a_runtime_is_refused() {
    let supervisor = Supervisor::new(config(SECOND)).unwrap();
    let err = supervisor
        .spawn(Scripted::always(
            "feed",
            RestartPolicy::Always,
            Step::Complete,
        ))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"service "feed": not started, no tokio runtime is running on this thread"#
    );
}

#[test]
fn invalid_config_is_refused_naming_the_field() {
    let err = Supervisor::new(config(SECOND).with_clean_restart_delay(Duration::ZERO)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid supervisor configuration: clean_restart_delay: must be > 0 (got 0ns)"
    );
}

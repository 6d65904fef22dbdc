//! Acceptance: a panicking service is contained, recorded and restarted; siblings are unaffected.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Scripted, Step, wait_until};
use rustrade_core::MemoryMetrics;
use rustrade_supervisor::{
    RestartPolicy, ServicePhase, Supervisor, SupervisorConfig, TerminationReason,
};

const MINUTE: Duration = Duration::from_secs(60);

fn config() -> SupervisorConfig {
    SupervisorConfig::default().without_signal_handler()
}

#[tokio::test(start_paused = true)]
async fn panicking_service_is_restarted_with_its_message_visible_and_its_sibling_unaffected() {
    let metrics = Arc::new(MemoryMetrics::new());
    let supervisor = Supervisor::with_metrics(config(), metrics.clone()).unwrap();
    let feed = Scripted::new("feed", RestartPolicy::OnFailure, |run| {
        if run == 0 {
            Step::Panic(format!("index out of bounds in run {run}"))
        } else {
            Step::UntilCancelled
        }
    });
    let sibling = Scripted::always("reaper", RestartPolicy::Always, Step::UntilCancelled);
    supervisor.spawn(feed.clone()).unwrap();
    supervisor.spawn(sibling.clone()).unwrap();

    let restarted = wait_until(&supervisor, "feed", MINUTE, |s| {
        s.restarts == 1 && s.phase == ServicePhase::Running
    })
    .await;
    assert_eq!(restarted.panics, 1);
    assert_eq!(restarted.failures, 1);
    assert_eq!(
        restarted.last_error.as_deref(),
        Some("panicked: index out of bounds in run 0")
    );
    assert_eq!(feed.runs(), 2);

    let other = supervisor.snapshot("reaper").unwrap();
    assert_eq!(other.phase, ServicePhase::Running);
    assert_eq!((other.restarts, other.failures, other.panics), (0, 0, 0));
    assert_eq!(other.last_error, None);
    assert_eq!(
        sibling.runs(),
        1,
        "the sibling's single run was never interrupted"
    );

    assert_eq!(
        metrics.counter_value(r#"rustrade_service_panics_total{service="feed"}"#),
        1
    );
    assert_eq!(
        metrics.counter_value(r#"rustrade_service_failures_total{service="feed"}"#),
        1
    );
    assert_eq!(metrics.counter_total("rustrade_service_panics_total"), 1);

    let report = supervisor.shutdown().await;
    assert!(report.is_clean());
    assert_eq!(report.stopped, ["feed", "reaper"]);
}

#[tokio::test(start_paused = true)]
async fn static_str_panic_payload_is_captured_too() {
    let supervisor = Supervisor::new(config()).unwrap();
    let service = Scripted::always("candles", RestartPolicy::Never, Step::PanicStatic("boom"));
    supervisor.spawn(service).unwrap();

    supervisor.wait_until_all_terminated().await;
    let end = supervisor.snapshot("candles").unwrap();
    assert_eq!(end.termination, Some(TerminationReason::Failed));
    assert_eq!(end.last_error.as_deref(), Some("panicked: boom"));
    assert_eq!(end.panics, 1);
}

#[tokio::test(start_paused = true)]
async fn a_service_that_keeps_panicking_opens_its_circuit() {
    let supervisor = Supervisor::new(config()).unwrap();
    let service = Scripted::new("brain-exec", RestartPolicy::Always, |run| {
        Step::Panic(format!("bug hit on run {run}"))
    });
    supervisor.spawn(service.clone()).unwrap();

    supervisor.wait_until_all_terminated().await;
    let end = supervisor.snapshot("brain-exec").unwrap();
    assert_eq!(end.termination, Some(TerminationReason::CircuitOpen));
    let allowed = supervisor.config().circuit_breaker.max_failures();
    assert_eq!(end.panics, allowed);
    assert_eq!(service.runs(), allowed);
    assert_eq!(
        end.last_error,
        Some(format!("panicked: bug hit on run {}", allowed - 1))
    );
}

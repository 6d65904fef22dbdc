//! Snapshots: phase, time in phase, and the restart cycle as a host observes it.

mod common;

use std::time::Duration;

use common::{Scripted, Step, now, wait_until};
use rustrade_supervisor::{
    RestartPolicy, ServiceError, ServicePhase, Supervisor, SupervisorConfig, TerminationReason,
    TradingService,
};
use std::sync::Arc;

const SECOND: Duration = Duration::from_secs(1);

fn config() -> SupervisorConfig {
    SupervisorConfig::default().without_signal_handler()
}

#[tokio::test(start_paused = true)]
async fn snapshots_report_time_in_phase_on_tokios_clock() {
    let supervisor = Supervisor::new(config()).unwrap();
    supervisor
        .spawn(Scripted::always(
            "feed",
            RestartPolicy::Always,
            Step::UntilCancelled,
        ))
        .unwrap();
    let running = wait_until(&supervisor, "feed", SECOND, |s| {
        s.phase == ServicePhase::Running
    })
    .await;
    let entered = running.since;

    tokio::time::sleep(90 * SECOND).await;
    let later = supervisor.lifecycle_snapshots().await.remove(0);
    assert_eq!(later.phase, ServicePhase::Running);
    assert_eq!(later.since, entered);
    assert_eq!(later.time_in_phase, now() - entered);
    assert!(later.time_in_phase >= 90 * SECOND);
    assert_eq!(later.policy, RestartPolicy::Always);
}

#[tokio::test(start_paused = true)]
async fn a_host_sees_backing_off_between_two_runs() {
    let delay = 2 * SECOND;
    let supervisor = Supervisor::new(config().with_clean_restart_delay(delay)).unwrap();
    let service = Scripted::new("poller", RestartPolicy::Always, |run| {
        if run == 0 {
            Step::Complete
        } else {
            Step::UntilCancelled
        }
    });
    supervisor.spawn(service.clone()).unwrap();

    let backing_off = wait_until(&supervisor, "poller", SECOND, |s| {
        s.phase == ServicePhase::BackingOff
    })
    .await;
    assert_eq!(backing_off.restarts, 0);
    assert_eq!(backing_off.termination, None);

    let running = wait_until(&supervisor, "poller", 2 * delay, |s| {
        s.phase == ServicePhase::Running && s.restarts == 1
    })
    .await;
    assert_eq!(running.since - backing_off.since, delay);
    assert_eq!(service.runs(), 2);
}

/// A service that fails with a core exchange error through `?`.
struct Login;

#[rustrade_supervisor::async_trait]
impl TradingService for Login {
    fn name(&self) -> &str {
        "user-stream"
    }

    async fn run(
        &self,
        _cancel: rustrade_supervisor::CancellationToken,
    ) -> Result<(), ServiceError> {
        let listen_key: Result<String, rustrade_core::ExchangeError> =
            Err(rustrade_core::ExchangeError::Auth("invalid api key".into()));
        let _key = listen_key?;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_fatal_core_error_propagated_with_question_mark_stops_the_service() {
    let supervisor = Supervisor::new(config()).unwrap();
    supervisor.spawn(Arc::new(Login)).unwrap();
    supervisor.wait_until_all_terminated().await;
    let end = supervisor.snapshot("user-stream").unwrap();
    assert_eq!(end.termination, Some(TerminationReason::Failed));
    assert_eq!(end.restarts, 0);
    assert_eq!(
        end.last_error.as_deref(),
        Some("exchange call failed: authentication failed: invalid api key")
    );
    assert_eq!(
        end.policy,
        RestartPolicy::OnFailure,
        "the trait's default policy"
    );
}

#[tokio::test(start_paused = true)]
async fn boxed_services_are_accepted_too() {
    let supervisor = Supervisor::new(config()).unwrap();
    let boxed: Box<dyn TradingService> = Box::new(Login);
    supervisor.spawn(Arc::from(boxed)).unwrap();
    supervisor.wait_until_all_terminated().await;
    assert_eq!(supervisor.counts().terminated, 1);
}

#[test]
fn the_supervisor_can_be_shared_across_threads() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Supervisor>();
    shared::<Arc<dyn TradingService>>();
    shared::<rustrade_supervisor::ServiceLifecycleSnapshot>();
}

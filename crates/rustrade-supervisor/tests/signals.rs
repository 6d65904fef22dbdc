//! OS signals start a drain when the supervisor handles them.
//!
//! This file is its own test binary, so the signals it sends to its own process reach no other
//! test. A listener is registered before each signal is sent, so the process never sees the
//! default action (termination).
#![cfg(unix)]

mod common;

use std::sync::Arc;

use common::{Scripted, Step, settle};
use rustrade_supervisor::{
    RestartPolicy, ShutdownCause, Supervisor, SupervisorConfig, TerminationReason,
};
use tokio::signal::unix::{SignalKind, signal};

fn send(sig: &str) {
    let status = std::process::Command::new("kill")
        .args(["-s", sig, &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

async fn drain_on(kind: SignalKind, name: &str) -> rustrade_supervisor::DrainReport {
    let mut guard = signal(kind).expect("listener installs");
    let supervisor = Arc::new(Supervisor::new(SupervisorConfig::default()).unwrap());
    supervisor
        .spawn(Scripted::always(
            "feed",
            RestartPolicy::Always,
            Step::UntilCancelled,
        ))
        .unwrap();
    let runner = {
        let supervisor = Arc::clone(&supervisor);
        tokio::spawn(async move { supervisor.run_until_shutdown().await })
    };
    settle().await;
    send(name);
    let report = runner.await.unwrap().unwrap();
    guard.recv().await;
    report
}

#[tokio::test(start_paused = true)]
async fn sigterm_and_sigint_start_a_drain() {
    let report = drain_on(SignalKind::terminate(), "TERM").await;
    assert_eq!(report.cause, ShutdownCause::Terminate);
    assert_eq!(
        report.services[0].termination,
        Some(TerminationReason::Shutdown)
    );

    let report = drain_on(SignalKind::interrupt(), "INT").await;
    assert_eq!(report.cause, ShutdownCause::Interrupt);
    assert!(report.is_clean());
}

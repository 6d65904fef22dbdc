//! The task that supervises one service: run, classify the outcome, restart or terminate.
//!
//! Each run executes in its own tokio task so that a panic unwinds that task only; the runner
//! sees it as a [`JoinError`] whose payload becomes the failure message.
//!
//! # Decision table (after a run ends, shutdown not requested)
//!
//! | outcome           | `Never`    | `OnFailure`          | `Always`                    |
//! | ----------------- | ---------- | -------------------- | --------------------------- |
//! | `Ok(())`          | completed  | completed            | restart after fixed delay   |
//! | retryable / panic | failed     | backoff, or circuit  | backoff, or circuit         |
//! | fatal error       | failed     | failed               | failed                      |
//!
//! "backoff" draws the delay for the current attempt, which counts consecutive failures: it is
//! reset by a clean exit and by a run that lasted at least `backoff_reset_after`.
//!
//! Once shutdown is requested, whatever the run returns, the service terminates with reason
//! `shutdown` (an error or panic while stopping is still recorded as its last error).

use std::any::Any;
use std::sync::Arc;

use tokio::task::JoinError;
use tokio_util::sync::CancellationToken;

use crate::circuit::FailureWindow;
use crate::registry::Registry;
use crate::slot::ServiceSlot;
use crate::{RestartPolicy, ServiceError, ServicePhase, TerminationReason, TradingService, clock};

/// How one run ended.
enum RunOutcome {
    Completed,
    Failed {
        message: String,
        fatal: bool,
        panicked: bool,
    },
    /// The run task was aborted: by a drain (the slot is then already terminated) or by the
    /// runtime shutting down.
    Aborted,
}

impl RunOutcome {
    fn of(joined: Result<Result<(), ServiceError>, JoinError>) -> Self {
        match joined {
            Ok(Ok(())) => Self::Completed,
            Ok(Err(e)) => Self::Failed {
                message: e.chain_message(),
                fatal: e.is_fatal(),
                panicked: false,
            },
            Err(e) if e.is_panic() => Self::Failed {
                message: format!("panicked: {}", panic_message(e.into_panic().as_ref())),
                fatal: false,
                panicked: true,
            },
            Err(_) => Self::Aborted,
        }
    }
}

/// Supervises `service` until it terminates. `seed` seeds this service's jitter generator.
pub(crate) async fn supervise(
    service: Arc<dyn TradingService>,
    slot: Arc<ServiceSlot>,
    registry: Arc<Registry>,
    cancel: CancellationToken,
    seed: u64,
) {
    let config = registry.config().clone();
    let policy = slot.policy();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut failures = FailureWindow::new(config.circuit_breaker);
    let mut attempt: u32 = 0;

    loop {
        if cancel.is_cancelled() {
            slot.terminate(TerminationReason::Shutdown, &registry);
            return;
        }
        let started = clock::now();
        let spawned = slot.start_run(|| {
            let service = Arc::clone(&service);
            let cancel = cancel.clone();
            tokio::spawn(async move { service.run(cancel).await })
        });
        let Some(mut run) = spawned else {
            return;
        };

        let joined = tokio::select! {
            biased;
            joined = &mut run => joined,
            () = cancel.cancelled() => {
                if slot.transition(ServicePhase::Stopping).is_err() {
                    return;
                }
                let joined = run.await;
                finish_after_cancel(&slot, RunOutcome::of(joined), &registry);
                return;
            }
        };
        slot.clear_run_task();
        let outcome = RunOutcome::of(joined);
        if cancel.is_cancelled() {
            finish_after_cancel(&slot, outcome, &registry);
            return;
        }
        if clock::now().saturating_duration_since(started) >= config.backoff_reset_after {
            attempt = 0;
        }

        let delay = match outcome {
            RunOutcome::Aborted => {
                slot.terminate(TerminationReason::Aborted, &registry);
                return;
            }
            RunOutcome::Completed if policy == RestartPolicy::Always => {
                tracing::info!(service = slot.name(), "service exited cleanly; restarting");
                attempt = 0;
                config.clean_restart_delay
            }
            RunOutcome::Completed => {
                tracing::info!(service = slot.name(), "service completed");
                slot.terminate(TerminationReason::Completed, &registry);
                return;
            }
            RunOutcome::Failed {
                message,
                fatal,
                panicked,
            } => {
                tracing::warn!(
                    service = slot.name(),
                    error = %message,
                    fatal,
                    panicked,
                    "service failed"
                );
                slot.record_failure(message, panicked, &registry);
                if fatal || policy == RestartPolicy::Never {
                    slot.terminate(TerminationReason::Failed, &registry);
                    return;
                }
                if failures.record_failure(clock::now()) {
                    tracing::error!(service = slot.name(), "circuit open; not restarting");
                    slot.terminate(TerminationReason::CircuitOpen, &registry);
                    return;
                }
                let delay = config.backoff.delay(attempt, &mut rng);
                attempt = attempt.saturating_add(1);
                delay
            }
        };

        if slot.transition(ServicePhase::BackingOff).is_err() {
            return;
        }
        tokio::select! {
            biased;
            () = cancel.cancelled() => {
                slot.terminate(TerminationReason::Shutdown, &registry);
                return;
            }
            () = tokio::time::sleep(delay) => {}
        }
        if slot.restart(&registry).is_err() {
            return;
        }
    }
}

/// Ends a service whose run returned after shutdown was requested.
fn finish_after_cancel(slot: &ServiceSlot, outcome: RunOutcome, registry: &Registry) {
    match outcome {
        RunOutcome::Aborted => {}
        RunOutcome::Completed => {
            slot.terminate(TerminationReason::Shutdown, registry);
        }
        RunOutcome::Failed {
            message, panicked, ..
        } => {
            tracing::warn!(
                service = slot.name(),
                error = %message,
                "service failed while stopping"
            );
            slot.record_failure(message, panicked, registry);
            slot.terminate(TerminationReason::Shutdown, registry);
        }
    }
}

/// The text of a panic payload: `panic!("...")` yields a `&str` or a `String`.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

//! Scripted services and polling helpers shared by the integration tests.
//!
//! Every test runs on tokio's paused clock: `sleep` advances virtual time instantly when the
//! runtime is otherwise idle, so waits of minutes take microseconds and never race.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustrade_supervisor::{
    CancellationToken, RestartPolicy, ServiceError, ServiceLifecycleSnapshot, Supervisor,
    TradingService, async_trait,
};
use tokio::time::Instant;

/// What one run of a [`Scripted`] service does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Return a retryable error with this message.
    Fail(String),
    /// Return a fatal error with this message.
    Fatal(String),
    /// Return `Ok(())` at once.
    Complete,
    /// Run this long (ignoring nothing: a cancellation ends it early with `Ok`), then fail.
    FailAfter(Duration, String),
    /// Panic with this message (a `String` payload).
    Panic(String),
    /// Panic with a `&'static str` payload.
    PanicStatic(&'static str),
    /// Wait for cancellation, then return `Ok(())`.
    UntilCancelled,
    /// Wait for cancellation, then take this long to clean up before returning.
    SlowStop(Duration),
    /// Never return, ignoring cancellation (yields to the runtime, so it can be aborted).
    IgnoreCancel,
}

/// A service whose every run follows a script indexed by run number (0-based).
pub struct Scripted {
    name: String,
    policy: RestartPolicy,
    script: Box<dyn Fn(u32) -> Step + Send + Sync>,
    runs: AtomicU32,
    starts: Mutex<Vec<Instant>>,
    dropped_mid_run: Arc<AtomicBool>,
}

impl Scripted {
    pub fn new(
        name: &str,
        policy: RestartPolicy,
        script: impl Fn(u32) -> Step + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            policy,
            script: Box::new(script),
            runs: AtomicU32::new(0),
            starts: Mutex::new(Vec::new()),
            dropped_mid_run: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Every run does `step`.
    pub fn always(name: &str, policy: RestartPolicy, step: Step) -> Arc<Self> {
        Self::new(name, policy, move |_| step.clone())
    }

    /// How many runs started.
    pub fn runs(&self) -> u32 {
        self.runs.load(Ordering::SeqCst)
    }

    /// When each run started, on tokio's clock.
    pub fn starts(&self) -> Vec<Instant> {
        self.starts.lock().unwrap().clone()
    }

    /// Whether a run's future was dropped before it returned (it was aborted).
    pub fn was_dropped_mid_run(&self) -> bool {
        self.dropped_mid_run.load(Ordering::SeqCst)
    }
}

/// Sets its flag when dropped unless disarmed: detects an aborted run future.
struct DropFlag {
    flag: Arc<AtomicBool>,
    armed: bool,
}

impl Drop for DropFlag {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl TradingService for Scripted {
    fn name(&self) -> &str {
        &self.name
    }

    fn restart_policy(&self) -> RestartPolicy {
        self.policy
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let run = self.runs.fetch_add(1, Ordering::SeqCst);
        self.starts.lock().unwrap().push(now());
        let mut guard = DropFlag {
            flag: Arc::clone(&self.dropped_mid_run),
            armed: true,
        };
        let result = match (self.script)(run) {
            Step::Fail(msg) => Err(ServiceError::retryable(msg)),
            Step::Fatal(msg) => Err(ServiceError::fatal(msg)),
            Step::Complete => Ok(()),
            Step::FailAfter(after, msg) => tokio::select! {
                () = cancel.cancelled() => Ok(()),
                () = tokio::time::sleep(after) => Err(ServiceError::retryable(msg)),
            },
            Step::Panic(msg) => panic!("{msg}"),
            Step::PanicStatic(msg) => std::panic::panic_any(msg),
            Step::UntilCancelled => {
                cancel.cancelled().await;
                Ok(())
            }
            Step::SlowStop(cleanup) => {
                cancel.cancelled().await;
                tokio::time::sleep(cleanup).await;
                Ok(())
            }
            Step::IgnoreCancel => loop {
                tokio::time::sleep(Duration::from_secs(3_600)).await;
            },
        };
        guard.armed = false;
        result
    }
}

/// tokio's (paused) clock.
// Tests measure supervisor timing on the same pausable clock the supervisor uses.
#[allow(clippy::disallowed_methods)]
pub fn now() -> Instant {
    Instant::now()
}

/// Polls (advancing virtual time 10 ms at a time) until `name`'s snapshot satisfies `done`, for at
/// most `limit` of virtual time. Panics with the last snapshot when the limit is reached.
pub async fn wait_until(
    supervisor: &Supervisor,
    name: &str,
    limit: Duration,
    done: impl Fn(&ServiceLifecycleSnapshot) -> bool,
) -> ServiceLifecycleSnapshot {
    let deadline = now() + limit;
    loop {
        let snapshot = supervisor.snapshot(name).expect("service is supervised");
        if done(&snapshot) {
            return snapshot;
        }
        assert!(
            now() < deadline,
            "condition not reached within {limit:?}; last snapshot: {snapshot:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Lets every ready task run without advancing time meaningfully.
pub async fn settle() {
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
}

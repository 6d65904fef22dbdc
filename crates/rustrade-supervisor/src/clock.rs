//! The one place the supervisor reads the clock.
//!
//! The supervisor measures time in phase and failure windows on tokio's clock, which a test can
//! pause and advance (`#[tokio::test(start_paused = true)]`), so every timing path is exercised
//! without real sleeps.

use tokio::time::Instant;

/// The current instant on tokio's (pausable) clock.
// Supervision is inherently about elapsed time; tokio's clock is the pausable one tests control.
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> Instant {
    Instant::now()
}

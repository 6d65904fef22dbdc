//! [`Clock`]: where the live bot reads the time it passes to the engine.
//!
//! The engine never reads a clock; the facade reads one at the edge and passes the time in. Tests
//! substitute a manual clock (`testkit::ManualClock`) so session rollovers and order TTLs happen
//! exactly when a test says.

use rustrade_core::Timestamp;

/// A source of the current UTC time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the live facade is the edge where wall-clock time enters the engine"
    )]
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_nanos(i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > Timestamp::from_secs(1_577_836_800).unwrap());
    }
}

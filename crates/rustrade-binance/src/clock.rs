//! [`ServerClock`]: the venue's clock as seen from here, for `timestamp` parameters.
//!
//! The offset is `server time − midpoint of the local request`, kept as the median of the last
//! few samples; a `-1021` ("timestamp outside recvWindow") clears the samples so the next
//! request measures afresh.

use std::sync::Mutex;

/// How many offset samples are kept.
const SAMPLES: usize = 5;

/// Local wall clock plus the measured offset to the venue's clock.
#[derive(Debug, Default)]
pub struct ServerClock {
    samples: Mutex<Vec<i64>>,
}

impl ServerClock {
    /// A clock with no samples yet (offset 0 until measured).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one measurement: local time before and after asking, and the venue's answer.
    pub fn record(&self, local_before_ms: i64, local_after_ms: i64, server_ms: i64) {
        let midpoint = local_before_ms + (local_after_ms - local_before_ms) / 2;
        let mut s = self.lock();
        if s.len() == SAMPLES {
            s.remove(0);
        }
        s.push(server_ms - midpoint);
    }

    /// Forgets every sample (the venue said our clock is off).
    pub fn reset(&self) {
        self.lock().clear();
    }

    /// Whether any measurement was made.
    pub fn is_synced(&self) -> bool {
        !self.lock().is_empty()
    }

    /// Server time minus local time, in ms (the median of the samples; 0 before any).
    pub fn offset_ms(&self) -> i64 {
        let mut s = self.lock().clone();
        if s.is_empty() {
            return 0;
        }
        s.sort_unstable();
        s[s.len() / 2]
    }

    /// The venue's time now, in epoch ms.
    pub fn now_ms(&self) -> i64 {
        wall_clock_ms() + self.offset_ms()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<i64>> {
        self.samples.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The local wall clock in epoch ms: the adapter is an edge of the system, where time is read.
#[allow(clippy::disallowed_methods)] // the venue's timestamps are wall-clock times
pub(crate) fn wall_clock_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_the_median_of_recent_samples() {
        let c = ServerClock::new();
        assert_eq!(c.offset_ms(), 0);
        assert!(!c.is_synced());
        c.record(1_000, 1_010, 3_005); // +2000
        c.record(1_000, 1_000, 1_500); // +500
        c.record(1_000, 1_000, 3_100); // +2100
        assert_eq!(c.offset_ms(), 2_000);
        for _ in 0..SAMPLES {
            c.record(0, 0, -7);
        }
        assert_eq!(c.offset_ms(), -7);
        c.reset();
        assert!(!c.is_synced());
        assert!((c.now_ms() - wall_clock_ms()).abs() < 1_000);
    }
}

//! The WebSocket plumbing both streams share: connecting, and the jittered exponential
//! [`Backoff`] between reconnection attempts.

use std::time::Duration;

use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use crate::BinanceError;

/// A client WebSocket connection.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `url`.
pub(crate) async fn open(url: &str, what: &str) -> Result<Ws, BinanceError> {
    let (ws, _) = connect_async(url)
        .await
        .map_err(|e| BinanceError::WebSocket {
            what: what.to_owned(),
            source: Box::new(e),
        })?;
    Ok(ws)
}

/// Tokio's clock now: connection age, silence and keep-alive deadlines are wall-time matters at
/// the edge (and follow paused time in tests).
#[allow(clippy::disallowed_methods)]
pub(crate) fn now_instant() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

/// Delays between reconnection attempts: doubling from `min` to `max`, each scaled by a seeded
/// random factor in [0.75, 1.25) so that many bots do not reconnect in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// First delay.
    pub min: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Seed of the jitter.
    pub seed: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            min: Duration::from_millis(500),
            max: Duration::from_secs(10),
            seed: 0x0b1a_0ce5,
        }
    }
}

/// The running state of a [`Backoff`].
#[derive(Debug)]
pub(crate) struct BackoffState {
    policy: Backoff,
    attempt: u32,
    rng: fastrand::Rng,
}

impl BackoffState {
    pub(crate) fn new(policy: Backoff) -> Self {
        let rng = fastrand::Rng::with_seed(policy.seed);
        Self {
            policy,
            attempt: 0,
            rng,
        }
    }

    /// The delay before the next attempt.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let base = self
            .policy
            .min
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.policy.max);
        self.attempt = self.attempt.saturating_add(1);
        base.mul_f64(0.75 + self.rng.f64() / 2.0)
    }

    /// Consecutive failed attempts so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }

    /// A connection succeeded: start again from `min`.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_to_the_cap_with_bounded_jitter() {
        let mut b = BackoffState::new(Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_millis(1_000),
            seed: 7,
        });
        let d: Vec<Duration> = (0..6).map(|_| b.next_delay()).collect();
        for (i, base) in [100u64, 200, 400, 800, 1_000, 1_000].iter().enumerate() {
            let lo = Duration::from_millis(base * 3 / 4);
            let hi = Duration::from_millis(base * 5 / 4);
            assert!(d[i] >= lo && d[i] < hi, "{i}: {:?}", d[i]);
        }
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(125));
        let mut again = BackoffState::new(Backoff {
            min: Duration::from_millis(100),
            max: Duration::from_millis(1_000),
            seed: 7,
        });
        assert_eq!(again.next_delay(), d[0], "seeded jitter is reproducible");
    }
}

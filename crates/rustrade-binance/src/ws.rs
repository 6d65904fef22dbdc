//! The WebSocket plumbing the streams share: connecting, the [`Link`] a user-data stream reads
//! its frames through, and the jittered exponential [`Backoff`] between reconnection attempts.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
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

/// A user-data connection that may be down: yields text frames, answers pings, and forgets the
/// socket when the connection ends, so the next read says it is not connected.
pub(crate) struct Link {
    ws: Option<Ws>,
    /// The stream's name in errors (`user stream`).
    what: &'static str,
}

impl Link {
    /// A link with no connection yet, named `what` in errors.
    pub(crate) fn new(what: &'static str) -> Self {
        Self { ws: None, what }
    }

    /// Reads from `ws` from now on.
    pub(crate) fn connect(&mut self, ws: Ws) {
        self.ws = Some(ws);
    }

    /// Drops the connection and returns the [`BinanceError::Closed`] telling why.
    pub(crate) fn close(&mut self, why: &str) -> BinanceError {
        self.ws = None;
        BinanceError::Closed(why.to_owned())
    }

    /// Whether a connection is open.
    pub(crate) fn is_connected(&self) -> bool {
        self.ws.is_some()
    }

    /// Drops the connection, if any.
    pub(crate) fn drop_connection(&mut self) {
        self.ws = None;
    }

    /// The next text frame. Pings are answered (the pong tungstenite queued is flushed) and other
    /// control frames skipped; the end of the connection, a close frame or a read error is an
    /// error naming the stream, after which the link is down.
    pub(crate) async fn next_text(&mut self) -> Result<Utf8Bytes, BinanceError> {
        loop {
            let Some(ws) = self.ws.as_mut() else {
                return Err(BinanceError::Closed(format!("{} not connected", self.what)));
            };
            match ws.next().await {
                None => return Err(self.close(&format!("{} connection ended", self.what))),
                Some(Err(e)) => {
                    self.ws = None;
                    return Err(BinanceError::WebSocket {
                        what: self.what.into(),
                        source: Box::new(e),
                    });
                }
                Some(Ok(Message::Text(t))) => return Ok(t),
                Some(Ok(Message::Ping(_))) => {
                    let _ = ws.flush().await;
                }
                Some(Ok(Message::Close(_))) => return Err(self.close("closed by the venue")),
                Some(Ok(_)) => {}
            }
        }
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("what", &self.what)
            .field("connected", &self.ws.is_some())
            .finish()
    }
}

/// Calls `open` on `stream` until it succeeds, sleeping the next delay of the stream's
/// [`BackoffState`] (`backoff` picks it out) before each try and starting again from the
/// shortest after a success; the last error once `max_attempts` consecutive tries failed.
/// Failures before that are logged as reconnections of `what` that failed.
pub(crate) async fn reconnect<S>(
    stream: &mut S,
    what: &str,
    backoff: fn(&mut S) -> &mut BackoffState,
    max_attempts: u32,
    mut open: impl AsyncFnMut(&mut S) -> Result<(), BinanceError>,
) -> Result<(), BinanceError> {
    loop {
        tokio::time::sleep(backoff(stream).next_delay()).await;
        match open(stream).await {
            Ok(()) => {
                backoff(stream).reset();
                return Ok(());
            }
            Err(e) if backoff(stream).attempts() >= max_attempts => return Err(e),
            Err(e) => tracing::warn!(error = %e, "binance {what}: reconnect failed"),
        }
    }
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

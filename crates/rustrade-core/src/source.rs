//! Streams from a venue: [`MarketSource`] (market data), [`FillSource`] (our executions) and
//! [`CandleSource`] (polled bars).
//!
//! Sources are pulled by one service each, so they take `&mut self`. `Ok(None)` means the source
//! has finished for good (a replayed file ran out); an error ends the current connection, and the
//! supervisor restarts the service, which calls `connect` again.

use std::time::Duration;

use crate::{Candle, ExchangeError, ExecutionReport, MarketEvent, Symbol, Timestamp};

/// A stream of market events.
///
/// ```
/// use rustrade_core::*;
/// use std::collections::VecDeque;
///
/// /// Replays a fixed list of events, then finishes.
/// struct Replay(VecDeque<MarketEvent>);
///
/// #[async_trait]
/// impl MarketSource for Replay {
///     fn name(&self) -> &str { "replay" }
///     async fn connect(&mut self, _symbols: &[Symbol]) -> Result<(), ExchangeError> { Ok(()) }
///     async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError> {
///         Ok(self.0.pop_front())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait MarketSource: Send {
    /// Name for logs and health.
    fn name(&self) -> &str;
    /// (Re)connects and subscribes to `symbols`.
    async fn connect(&mut self, symbols: &[Symbol]) -> Result<(), ExchangeError>;
    /// The next event; `Ok(None)` when the source has finished.
    async fn next_event(&mut self) -> Result<Option<MarketEvent>, ExchangeError>;
    /// Asks the source to start, at its next `connect`, right after `through`: for each listed
    /// symbol, the time of the newest event the bot finished with before it stopped. A source
    /// that can replay (a recorded stream) then delivers every event of a listed symbol newer
    /// than its time and returns `true`; one that cannot (a venue's live stream) returns `false`,
    /// the default, and delivers what it would have anyway. Called once, before the first
    /// `connect`, and only when the bot's state store holds progress for every listed symbol.
    fn resume_after(&mut self, through: &[(Symbol, Timestamp)]) -> bool {
        let _ = through;
        false
    }
}

/// A stream of execution reports about our orders (the venue's user stream).
///
/// ```
/// use rustrade_core::*;
///
/// /// A stream that never reports anything and ends at once.
/// struct Silent;
///
/// #[async_trait]
/// impl FillSource for Silent {
///     fn name(&self) -> &str { "silent" }
///     async fn connect(&mut self) -> Result<(), ExchangeError> { Ok(()) }
///     async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
///         Ok(None)
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait FillSource: Send {
    /// Name for logs and health.
    fn name(&self) -> &str;
    /// (Re)connects.
    async fn connect(&mut self) -> Result<(), ExchangeError>;
    /// The next report; `Ok(None)` when the stream has finished.
    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError>;
}

/// Closed bars fetched on demand (a REST klines endpoint). Polls may overlap; the poller
/// publishes each bar once.
///
/// ```
/// use rustrade_core::*;
/// use std::time::Duration;
///
/// /// Always answers with the same bars.
/// struct Fixed(Vec<Candle>);
///
/// #[async_trait]
/// impl CandleSource for Fixed {
///     fn interval(&self) -> Duration { Duration::from_secs(60) }
///     async fn fetch_candles(&self, _s: &Symbol, limit: usize) -> Result<Vec<Candle>, ExchangeError> {
///         Ok(self.0.iter().rev().take(limit).rev().copied().collect())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait CandleSource: Send + Sync {
    /// Bar interval.
    fn interval(&self) -> Duration;
    /// Up to `limit` most recent closed bars of `symbol`, oldest first.
    async fn fetch_candles(
        &self,
        symbol: &Symbol,
        limit: usize,
    ) -> Result<Vec<Candle>, ExchangeError>;
}

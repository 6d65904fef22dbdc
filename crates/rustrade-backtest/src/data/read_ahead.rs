//! Decoding a source on a second thread while the replay consumes it on the caller's thread.
//!
//! # Invariants
//!
//! - Same stream: [`ReadAhead`] yields exactly the items its source yields, in the same order,
//!   errors included (each after every event the source produced before it), and ends when the
//!   source first returns `None` (the source is never asked again after that).
//! - Bounded: the decoder thread fills batches of at most `events_per_batch` events and runs at
//!   most `batches` batches ahead of the consumer; consumed batches go back to the decoder to be
//!   refilled, so after the first few batches no event costs an allocation.
//! - Dropping a [`ReadAhead`] early stops the decoder thread at its next hand-off (after it
//!   fills the batch in progress, at most `events_per_batch` more events) and joins it; a source
//!   whose `next` never returns would keep the drop waiting, which no file source does.
//! - A panic in the source becomes one [`DataError::ReadAhead`] after every item the source
//!   yielded before it, and ends the stream; it is never re-raised on the caller's thread.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError, TrySendError};
use std::thread::JoinHandle;

use rustrade_core::MarketEvent;

use crate::DataError;

/// Default events per batch handed from the decoder thread (about 480 KiB): a hand-off is a
/// negligible share of a batch's work. With [`READ_AHEAD_BATCHES`], at most six batches exist at
/// once (those queued, the one being filled and the one being handed out), about 3 MiB.
pub const READ_AHEAD_EVENTS: usize = 4096;

/// Default number of batches the decoder thread may run ahead of the consumer.
pub const READ_AHEAD_BATCHES: usize = 4;

/// Whether reading ahead can overlap decoding with the replay here: true when the process may
/// run at least two threads at once ([`std::thread::available_parallelism`]).
pub fn read_ahead_pays() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// A batch of events the decoder produced, then the error the source yielded right after them,
/// if any.
struct Batch {
    events: Vec<MarketEvent>,
    error: Option<DataError>,
}

/// A source of events decoded ahead on its own thread; an iterator over the same items as the
/// source, in the same order.
///
/// ```no_run
/// # #[cfg(feature = "parquet")] {
/// use rustrade_backtest::data::{ParquetCandles, ParquetOptions, ReadAhead};
/// use rustrade_core::Symbol;
///
/// let opts = ParquetOptions::new(Symbol::new("BTCUSDT")?);
/// let events = ReadAhead::new(ParquetCandles::open("btc-1m.parquet", opts)?)?;
/// for event in events {
///     let event = event?; // the same error, at the same place, as without reading ahead
///     println!("{} {}", event.time, event.reference_price().get());
/// }
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ReadAhead {
    /// Filled batches from the decoder; `None` once the stream has ended.
    full: Option<Receiver<Batch>>,
    /// Consumed batches, emptied, back to the decoder.
    empty: Sender<Vec<MarketEvent>>,
    /// The batch being handed out and the position of its next event.
    current: Vec<MarketEvent>,
    pos: usize,
    /// The error to yield once `current` is handed out.
    error: Option<DataError>,
    decoder: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// Starts decoding `source` on a new thread, [`READ_AHEAD_EVENTS`] events a batch and up
    /// to [`READ_AHEAD_BATCHES`] batches ahead.
    pub fn new<I>(source: I) -> Result<Self, DataError>
    where
        I: Iterator<Item = Result<MarketEvent, DataError>> + Send + 'static,
    {
        Self::with_batches(source, READ_AHEAD_EVENTS, READ_AHEAD_BATCHES)
    }

    /// Starts decoding `source` on a new thread, `events_per_batch` events a batch and up to
    /// `batches` batches ahead (each at least 1). Fails only when the thread cannot be started.
    pub fn with_batches<I>(
        source: I,
        events_per_batch: usize,
        batches: usize,
    ) -> Result<Self, DataError>
    where
        I: Iterator<Item = Result<MarketEvent, DataError>> + Send + 'static,
    {
        Self::spawn(ByEvent(source), events_per_batch, batches)
    }

    /// Starts filling batches from `source` on a new thread.
    pub(crate) fn spawn<S: FillBatch>(
        source: S,
        events_per_batch: usize,
        batches: usize,
    ) -> Result<Self, DataError> {
        let events_per_batch = events_per_batch.max(1);
        let (full_tx, full) = mpsc::sync_channel(batches.max(1));
        let (empty, empty_rx) = mpsc::channel();
        let decoder = std::thread::Builder::new()
            .name("rustrade-read-ahead".to_owned())
            .spawn(move || decode(source, events_per_batch, &full_tx, &empty_rx))
            .map_err(|e| DataError::ReadAhead {
                reason: format!("cannot start the decoder thread: {e}"),
            })?;
        Ok(Self {
            full: Some(full),
            empty,
            current: Vec::new(),
            pos: 0,
            error: None,
            decoder: Some(decoder),
        })
    }

    /// Takes the next filled batch into `current`, recycling the consumed one; false once the
    /// decoder has finished (the source ended, or it panicked: then `error` says so).
    fn refill(&mut self) -> bool {
        let Some(full) = &self.full else {
            return false;
        };
        match receive(full) {
            Ok(batch) => {
                let mut used = std::mem::replace(&mut self.current, batch.events);
                used.clear();
                if used.capacity() > 0 {
                    // The decoder may have finished already; the buffer is then only dropped.
                    let _ = self.empty.send(used);
                }
                self.pos = 0;
                self.error = batch.error;
                true
            }
            Err(_) => {
                self.full = None;
                self.error = self.join();
                self.error.is_some()
            }
        }
    }

    /// Joins the decoder thread; its panic, if it panicked, as an error.
    fn join(&mut self) -> Option<DataError> {
        let panic = self.decoder.take()?.join().err()?;
        Some(panicked(panic.as_ref()))
    }
}

impl Iterator for ReadAhead {
    type Item = Result<MarketEvent, DataError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(&event) = self.current.get(self.pos) {
                self.pos += 1;
                return Some(Ok(event));
            }
            if let Some(error) = self.error.take() {
                return Some(Err(error));
            }
            if !self.refill() {
                return None;
            }
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Closing the channel makes the decoder's next hand-off fail, which ends it.
        self.full = None;
        // A panic of the source is dropped with the stream nobody reads any more.
        let _ = self.join();
    }
}

/// Failed hand-off attempts a thread spins through before it sleeps until the other side acts:
/// a batch is usually ready within microseconds, and waking a sleeping thread (a futex wake, an
/// inter-processor interrupt on a virtual machine) costs about as much as replaying a few
/// hundred events. Bounded, so a stalled source (a slow disk) costs tens of microseconds of
/// spinning per batch, not a busy core.
const SPINS: usize = 2048;

/// Between two failed hand-off attempts: a spin-loop hint; false once the thread should sleep.
#[inline]
fn keep_polling(attempt: usize) -> bool {
    std::hint::spin_loop();
    attempt < SPINS
}

/// The next batch, polling a while before sleeping.
fn receive(full: &Receiver<Batch>) -> Result<Batch, mpsc::RecvError> {
    let mut attempt = 0;
    loop {
        match full.try_recv() {
            Ok(batch) => return Ok(batch),
            Err(TryRecvError::Disconnected) => return Err(mpsc::RecvError),
            Err(TryRecvError::Empty) if keep_polling(attempt) => attempt += 1,
            Err(TryRecvError::Empty) => return full.recv(),
        }
    }
}

/// Hands `batch` to the consumer, polling a while before sleeping on a full channel; false once
/// the consumer is gone.
fn hand_over(full: &SyncSender<Batch>, mut batch: Batch) -> bool {
    let mut attempt = 0;
    loop {
        match full.try_send(batch) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) if keep_polling(attempt) => {
                batch = back;
                attempt += 1;
            }
            Err(TrySendError::Full(back)) => return full.send(back).is_ok(),
        }
    }
}

/// The error a panic of the decoder thread becomes.
fn panicked(panic: &(dyn Any + Send)) -> DataError {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown failure");
    DataError::ReadAhead {
        reason: format!("the source panicked: {what}"),
    }
}

/// A source that appends several events at a time to a batch: the decoder thread's side of a
/// [`ReadAhead`].
pub(crate) trait FillBatch: Send + 'static {
    /// Appends events to `out` until it holds `max`, or the source yields an error or ends.
    fn fill(&mut self, out: &mut Vec<MarketEvent>, max: usize) -> Filled;
}

/// How [`FillBatch::fill`] stopped.
pub(crate) enum Filled {
    /// `out` is full; the source may have more.
    Full,
    /// The source yielded this error after the events appended; it may have more after it.
    Error(DataError),
    /// The source ended.
    Ended,
}

/// Any event iterator, one `next` per event.
struct ByEvent<I>(I);

impl<I> FillBatch for ByEvent<I>
where
    I: Iterator<Item = Result<MarketEvent, DataError>> + Send + 'static,
{
    fn fill(&mut self, out: &mut Vec<MarketEvent>, max: usize) -> Filled {
        while out.len() < max {
            match self.0.next() {
                Some(Ok(event)) => out.push(event),
                Some(Err(e)) => return Filled::Error(e),
                None => return Filled::Ended,
            }
        }
        Filled::Full
    }
}

/// The decoder thread: fills batches from `source` and hands them over until the source ends
/// or the consumer is gone.
fn decode<S: FillBatch>(
    mut source: S,
    events_per_batch: usize,
    full: &SyncSender<Batch>,
    empty: &Receiver<Vec<MarketEvent>>,
) {
    loop {
        let mut events = match empty.try_recv() {
            Ok(events) => events,
            Err(TryRecvError::Empty) => Vec::with_capacity(events_per_batch),
            Err(TryRecvError::Disconnected) => return,
        };
        // After a panic the events appended before it are handed over, and the source is not
        // asked again, only dropped.
        let filled = std::panic::catch_unwind(AssertUnwindSafe(|| {
            source.fill(&mut events, events_per_batch)
        }));
        let (error, ended) = match filled {
            Ok(Filled::Full) => (None, false),
            Ok(Filled::Error(e)) => (Some(e), false),
            Ok(Filled::Ended) => (None, true),
            Err(panic) => (Some(panicked(panic.as_ref())), true),
        };
        if (!events.is_empty() || error.is_some()) && !hand_over(full, Batch { events, error }) {
            return;
        }
        if ended {
            return;
        }
    }
}

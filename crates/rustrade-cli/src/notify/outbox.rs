//! [`Outbox`]: one channel's bounded queue of notices between the bot and the channel's sender
//! task. Pushing never waits: when the queue is full the oldest non-critical notice is dropped
//! (the oldest critical one only when every queued notice is critical) and counted, and the
//! count goes out with the next message.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

use super::notice::Notice;

/// A bounded queue of notices for one channel.
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Mutex<State>,
    wake: Notify,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Notice>,
    /// Notices dropped because the queue was full, since the sender last took the count.
    dropped: u64,
    closed: bool,
}

impl Outbox {
    /// An empty queue holding at most `capacity` notices (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    /// Queues `notice` without waiting; `true` if another notice was dropped to make room.
    /// Ignored once the outbox is closed.
    pub(crate) fn push(&self, notice: Notice) -> bool {
        let dropped = {
            let mut s = lock(&self.state);
            if s.closed {
                return false;
            }
            let dropped = s.items.len() >= self.capacity;
            if dropped {
                let victim = s.items.iter().position(|n| !n.critical).unwrap_or(0);
                s.items.remove(victim);
                s.dropped += 1;
            }
            s.items.push_back(notice);
            dropped
        };
        self.wake.notify_one();
        dropped
    }

    /// The next notice, waiting for one; `None` once closed and empty.
    pub(crate) async fn next(&self) -> Option<Notice> {
        loop {
            let notified = self.wake.notified();
            {
                let mut s = lock(&self.state);
                if let Some(n) = s.items.pop_front() {
                    return Some(n);
                }
                if s.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Everything queued now, oldest first.
    pub(crate) fn drain(&self) -> Vec<Notice> {
        lock(&self.state).items.drain(..).collect()
    }

    /// How many notices were dropped since the last call.
    pub(crate) fn take_dropped(&self) -> u64 {
        std::mem::take(&mut lock(&self.state).dropped)
    }

    /// How many notices are queued.
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).items.len()
    }

    /// Refuses further notices; the sender finishes what is queued, then stops.
    pub(crate) fn close(&self) {
        lock(&self.state).closed = true;
        self.wake.notify_one();
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

//! Protective exits the venue refused, sent again with backoff until the position is flat.
//!
//! # Rule
//!
//! An exit the engine places to protect a position (a close after a refused leg, an emulated
//! stop or take-profit, an operator flatten, a drift flatten) is not given up when the venue
//! refuses it: the position would stay open with nothing protecting it. The refusal schedules
//! the same exit again after `exit_retry × 2^(attempts − 1)`, capped at `exit_retry_max`, so a
//! venue that keeps refusing (rate limited, or rejecting for good) is asked less and less often
//! and never hammered. The close a refused leg calls for is owed from the start: when another
//! exit already covers the position (so none is sent) and that exit then fails, the close is
//! still sent. The next timer tick or market event after the due time sends it
//! ([`Engine::handle_timer`](crate::Engine::handle_timer),
//! [`Engine::handle_market`](crate::Engine::handle_market)) when the brain still holds the
//! position and no exit of its own is working on it. What is owed shrinks by every exit fill
//! of the brain on the symbol, and the schedule ends when less than half a lot is owed or the
//! position is flat.
//!
//! A brain's own exit ([`ExitReason::Decision`]) is not retried: the brain decides again on its
//! next event, and may by then want something else.
//!
//! Every change follows a journalled venue report (a rejection, a fill), so a replayed journal
//! rebuilds the same schedule; the timer and market events only read it.

use std::time::Duration;

use rustrade_core::{ClientOrderId, SmallMap, Symbol, Timestamp};

use crate::{BrainId, Engine, ExitReason};

/// A refused protective exit waiting to be sent again.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExitRetry {
    /// Why the exit was placed (kept for the retried order).
    pub reason: ExitReason,
    /// The entry whose bracket the exit protects, if any.
    pub parent: Option<ClientOrderId>,
    /// The quantity still to close: the refused (or owed) exit's, less what exits have filled
    /// since.
    pub cap: f64,
    /// Refusals so far, in a row (0: owed, none refused yet).
    pub attempts: u32,
    /// When the next attempt may be sent.
    pub due: Timestamp,
}

/// The schedule of refused protective exits, at most one per brain and symbol, in key order
/// (a short list: one entry per position the venue keeps refusing to close). `pending` is
/// serialised as the list of `(key, retry)` pairs in key order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ExitRetries {
    pending: SmallMap<(BrainId, Symbol), ExitRetry>,
}

impl ExitRetries {
    /// Records a refusal of the exit for `(brain, symbol)` at `now` and schedules the next
    /// attempt; returns the retry as scheduled.
    pub(crate) fn refused(
        &mut self,
        key: (BrainId, Symbol),
        exit: (ExitReason, Option<ClientOrderId>, f64),
        backoff: (Duration, Duration),
        now: Timestamp,
    ) -> ExitRetry {
        let (reason, parent, cap) = exit;
        // An exit already owed keeps its quantity: the refused order was sent for it.
        let (attempts, cap) = self
            .pending
            .get(&key)
            .map_or((0, cap), |owed| (owed.attempts, owed.cap));
        let attempts = attempts + 1;
        let retry = ExitRetry {
            reason,
            parent,
            cap,
            attempts,
            due: now.saturating_add(delay(attempts, backoff)),
        };
        self.pending.insert(key, retry);
        retry
    }

    /// A protective close of `cap` for `(brain, symbol)` is owed from `now` on, whether or not
    /// one was sent: it is sent (again) whenever no exit is working on the position. Adds to
    /// what is already owed.
    pub(crate) fn owe(
        &mut self,
        key: (BrainId, Symbol),
        exit: (ExitReason, Option<ClientOrderId>, f64),
        now: Timestamp,
    ) {
        let (reason, parent, cap) = exit;
        if let Some(owed) = self.pending.get_mut(&key) {
            owed.cap += cap;
        } else {
            self.pending.insert(
                key,
                ExitRetry {
                    reason,
                    parent,
                    cap,
                    attempts: 0,
                    due: now,
                },
            );
        }
    }

    /// An exit of the brain on `symbol` filled `qty`: that much less is owed; the retry ends
    /// once less than `dust` (half a lot) is left.
    /// Inline down to the emptiness check: every exit fill asks, and almost always nothing is
    /// owed.
    #[inline(always)]
    pub(crate) fn exit_filled(&mut self, key: &(BrainId, Symbol), qty: f64, dust: f64) {
        if !self.pending.is_empty() {
            self.owed_exit_filled(key, qty, dust);
        }
    }

    #[inline(never)]
    fn owed_exit_filled(&mut self, key: &(BrainId, Symbol), qty: f64, dust: f64) {
        if let Some(owed) = self.pending.get_mut(key) {
            owed.cap -= qty;
            if owed.cap < dust {
                self.pending.remove(key);
            }
        }
    }

    /// The brain's position on `symbol` is flat: nothing left to protect.
    #[inline(always)]
    pub(crate) fn clear(&mut self, key: &(BrainId, Symbol)) {
        if !self.pending.is_empty() {
            self.clear_owed(key);
        }
    }

    #[inline(never)]
    fn clear_owed(&mut self, key: &(BrainId, Symbol)) {
        self.pending.remove(key);
    }

    /// The retries due at `now`, oldest key first.
    pub(crate) fn due(&self, now: Timestamp) -> Vec<((BrainId, Symbol), ExitRetry)> {
        self.pending
            .iter()
            .filter(|(_, r)| r.due <= now)
            .map(|(k, r)| (*k, *r))
            .collect()
    }

    /// Every scheduled retry.
    pub(crate) fn iter(&self) -> impl Iterator<Item = ((BrainId, Symbol), ExitRetry)> + '_ {
        self.pending.iter().map(|(k, r)| (*k, *r))
    }

    /// Whether nothing is scheduled.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

impl Engine {
    /// The refused protective exits waiting to be sent again, by brain and symbol: each is a
    /// position the venue has so far refused to close.
    pub fn exit_retries(&self) -> impl Iterator<Item = (BrainId, Symbol, ExitRetry)> + '_ {
        self.exit_retries.iter().map(|((b, s), r)| (b, s, r))
    }
}

/// `first × 2^(attempts − 1)`, capped at `max`.
fn delay(attempts: u32, (first, max): (Duration, Duration)) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(16);
    first.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_up_to_the_cap() {
        let b = (Duration::from_secs(1), Duration::from_secs(60));
        let secs: Vec<u64> = (1..=9).map(|a| delay(a, b).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay(u32::MAX, b), Duration::from_secs(60));
    }

    #[test]
    fn refusals_count_up_and_a_flat_position_clears_them() {
        let mut r = ExitRetries::default();
        let key = (BrainId(0), Symbol::new("BTCUSDT").unwrap());
        let b = (Duration::from_secs(1), Duration::from_secs(60));
        let at = |ms| Timestamp::from_millis(ms).unwrap();
        let t0 = at(1_000);
        let first = r.refused(key, (ExitReason::LegRejected, None, 1.0), b, t0);
        assert_eq!((first.attempts, first.due), (1, at(2_000)));
        let second = r.refused(key, (ExitReason::LegRejected, None, 1.0), b, t0);
        assert_eq!((second.attempts, second.due), (2, at(3_000)));
        assert!(r.due(at(2_999)).is_empty());
        assert_eq!(r.due(at(3_000)).len(), 1);
        r.clear(&key);
        assert!(r.is_empty());
    }
}

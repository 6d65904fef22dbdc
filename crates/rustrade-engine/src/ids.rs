//! Brain handles and the deterministic client-order-id sequence.
//!
//! # Invariants
//!
//! - A client order id is `"{prefix}-{brain}-{seq}"` (brain and sequence in base 36, see
//!   [`ClientOrderId::compose`]); the sequence is shared by all brains and strictly increases.
//! - The next sequence number is part of the engine snapshot, so an engine restored from its last
//!   snapshot never issues an id it issued before. A bot starting without a snapshot should start
//!   the sequence from a value no earlier run reached ([`crate::EngineConfig::first_sequence`],
//!   for example the start time in milliseconds).

use rustrade_core::{ClientOrderId, ClientOrderIdPrefix, ValueError};

/// Index of a registered brain (its position in [`crate::EngineConfig::brains`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct BrainId(pub u32);

impl BrainId {
    /// The index as `usize`, for slices.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl std::fmt::Display for BrainId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "brain#{}", self.0)
    }
}

/// A symbol's place among the engine's instruments (in symbol order), from
/// [`crate::Engine::symbol_slot`]. The instruments are fixed when the engine is built, so a slot
/// stays valid for the engine's life; a driver resolves it once and reads per event by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolSlot(pub(crate) u32);

/// Issues unique, deterministic client order ids.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "RawSequence", into = "RawSequence")]
pub struct ClientIdSequence {
    prefix: String,
    next: u64,
    /// The prefix validated once, so issuing an id does not check it again; `None` only for a
    /// deserialised prefix no id can be built from (issuing then fails as `compose` does).
    composer: Option<ClientOrderIdPrefix>,
    /// The last id issued, with its brain and sequence number: the next one for the same brain
    /// is usually its text with the number incremented, which costs less than composing it.
    last: Option<(BrainId, u64, ClientOrderId)>,
}

impl PartialEq for ClientIdSequence {
    /// Sequences are equal when they issue the same ids (the cached last id is not compared).
    fn eq(&self, other: &Self) -> bool {
        self.prefix == other.prefix && self.next == other.next
    }
}

impl Eq for ClientIdSequence {}

/// Serialised form of a [`ClientIdSequence`].
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct RawSequence {
    prefix: String,
    next: u64,
}

impl From<RawSequence> for ClientIdSequence {
    fn from(raw: RawSequence) -> Self {
        Self {
            composer: ClientOrderIdPrefix::new(&raw.prefix).ok(),
            prefix: raw.prefix,
            next: raw.next,
            last: None,
        }
    }
}

impl From<ClientIdSequence> for RawSequence {
    fn from(s: ClientIdSequence) -> Self {
        Self {
            prefix: s.prefix,
            next: s.next,
        }
    }
}

impl ClientIdSequence {
    /// A sequence with ids `"{prefix}-{brain}-{n}"` for `n = first, first + 1, ...`.
    ///
    /// The prefix is checked by composing the largest id the sequence can produce.
    pub fn new(prefix: &str, first: u64) -> Result<Self, ValueError> {
        ClientOrderId::compose(prefix, u32::MAX, u64::MAX)?;
        Ok(Self {
            prefix: prefix.to_owned(),
            next: first,
            composer: ClientOrderIdPrefix::new(prefix).ok(),
            last: None,
        })
    }

    /// The next id for `brain`; advances the sequence.
    pub fn issue(&mut self, brain: BrainId) -> ClientOrderId {
        let seq = self.next;
        self.next = self.next.saturating_add(1);
        let id = match self.last {
            // The id composed from `seq` is the last one's text with its number incremented,
            // unless the number gains a digit.
            Some((b, s, last)) if b == brain && s.checked_add(1) == Some(seq) => {
                last.with_next_sequence()
            }
            _ => None,
        };
        // The prefix was validated against the longest possible id in `new`.
        let id = id.unwrap_or_else(|| {
            match &self.composer {
                Some(c) => c.compose(brain.0, seq),
                None => ClientOrderId::compose(&self.prefix, brain.0, seq),
            }
            .expect("prefix validated against the longest id at construction")
        });
        self.last = Some((brain, seq, id));
        id
    }

    /// Moves the sequence past the one `id` carries, if `id` is one of ours; for rebuilding the
    /// sequence from a journal.
    pub fn observe(&mut self, id: &ClientOrderId) {
        let Some(rest) = id.as_str().strip_prefix(self.prefix.as_str()) else {
            return;
        };
        let Some(seq) = rest
            .rsplit('-')
            .next()
            .and_then(|s| u64::from_str_radix(s, 36).ok())
        else {
            return;
        };
        self.next = self.next.max(seq.saturating_add(1));
    }

    /// The sequence number the next id will carry.
    pub fn next_sequence(&self) -> u64 {
        self.next
    }

    /// The id prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_continue_after_a_copy() {
        let mut s = ClientIdSequence::new("bot", 1).unwrap();
        let a = s.issue(BrainId(0));
        let b = s.issue(BrainId(1));
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "bot-0-1");
        let mut restored = s.clone();
        assert_eq!(restored.issue(BrainId(0)), s.issue(BrainId(0)));
        assert_eq!(s.next_sequence(), 4);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"prefix":"bot","next":4}"#);
        let mut back: ClientIdSequence = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.issue(BrainId(2)), s.issue(BrainId(2)));
    }

    #[test]
    fn consecutive_ids_match_composed_ones() {
        let mut s = ClientIdSequence::new("bot", 30).unwrap();
        for n in 30..1_400u64 {
            let brain = BrainId(u32::from(n % 7 == 0));
            let id = s.issue(brain);
            assert_eq!(id, ClientOrderId::compose("bot", brain.0, n).unwrap());
        }
        let mut end = ClientIdSequence::new("bot", u64::MAX - 1).unwrap();
        for seq in [u64::MAX - 1, u64::MAX, u64::MAX] {
            assert_eq!(
                end.issue(BrainId(0)),
                ClientOrderId::compose("bot", 0, seq).unwrap()
            );
        }
    }

    #[test]
    fn bad_prefix_is_refused_naming_the_field() {
        let e = ClientIdSequence::new("has space", 1).unwrap_err();
        assert!(e.to_string().contains("client_order_id"), "{e}");
        assert!(ClientIdSequence::new(&"p".repeat(20), 1).is_err());
    }
}

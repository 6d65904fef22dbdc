//! [`IdHasher`]: a fast, deterministic hasher for lookup maps keyed by identifiers.
//!
//! Engine and venue keep lookup-only maps keyed by client order ids, venue order ids and fill
//! ids. SipHash's flooding resistance buys nothing for ids we generate or receive from our own
//! venue, and its rounds show up in profiles of the order path. This hasher takes eight bytes per
//! multiply-xor step and ends with an avalanche, so ids differing only in their last characters
//! (sequential ids) still spread over the low bits a table indexes by.
//!
//! Use it only for maps that are looked up, never iterated into output: iteration order of a
//! `HashMap` must not reach journals, reports or results.

use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-xor hasher over 8-byte words with the 64-bit MurmurHash3 finaliser.
#[derive(Debug, Clone, Copy)]
pub struct IdHasher(u64);

/// `BuildHasher` for [`IdHasher`]: `HashMap<OrderId, V, IdBuildHasher>`.
pub type IdBuildHasher = BuildHasherDefault<IdHasher>;

impl IdHasher {
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(Self::PRIME).rotate_left(29);
    }
}

impl Default for IdHasher {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // A multiply carries bits only upwards; the finaliser spreads every bit over the low ones.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, b: u8) {
        self.mix(u64::from(b) | 0x100);
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientOrderId;
    use std::collections::BTreeSet;
    use std::hash::BuildHasher;

    #[test]
    fn sequential_ids_spread_over_the_low_bits() {
        let b = IdBuildHasher::default();
        let buckets: BTreeSet<u64> = (0..4096u32)
            .map(|n| b.hash_one(ClientOrderId::new(&format!("rt-1-{n:x}")).unwrap()) & 4095)
            .collect();
        assert!(buckets.len() > 2000, "{} buckets", buckets.len());
    }

    #[test]
    fn ids_differing_in_any_byte_or_length_differ() {
        let b = IdBuildHasher::default();
        let h = |s: &str| b.hash_one(ClientOrderId::new(s).unwrap());
        let (a, c, d) = (h("rt-1-abcdefgh1"), h("rt-1-abcdefgh2"), h("rt-1-abcdefgh"));
        assert!(a != c && a != d && c != d);
        let mut x = IdHasher::default();
        x.write(b"a");
        let mut y = IdHasher::default();
        y.write(b"a\0");
        assert_ne!(x.finish(), y.finish());
    }

    #[test]
    fn deterministic_across_instances() {
        let b1 = IdBuildHasher::default();
        let b2 = IdBuildHasher::default();
        let id = ClientOrderId::new("bot-0-1").unwrap();
        assert_eq!(b1.hash_one(id), b2.hash_one(id));
    }
}

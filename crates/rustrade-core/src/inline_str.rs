//! Fixed-capacity inline ASCII strings: the storage behind every identifier newtype.
//!
//! Identifiers travel with every market event and order, so they are `Copy` and never touch the
//! heap. Unused bytes are zero, which makes the derived byte order equal to string order; the
//! length is stored so reading the text back is O(1).

use crate::ValueError;

/// An ASCII string of at most `N` bytes stored inline, zero padded.
///
/// Ordered as its text: bytes first (zero padding sorts a prefix before its extensions), then
/// length.
#[derive(Debug, Clone, Copy, Eq)]
pub(crate) struct InlineStr<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> InlineStr<N> {
    /// Validates `text` against `allowed` and the capacity, naming `field` in any error.
    pub(crate) fn new(
        field: &'static str,
        text: &str,
        allowed: impl Fn(u8) -> bool,
    ) -> Result<Self, ValueError> {
        let bad = |reason| ValueError::BadText {
            field,
            value: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(bad("must not be empty"));
        }
        let Ok(len) = u8::try_from(text.len()) else {
            return Err(bad(too_long_reason(N)));
        };
        if text.len() > N {
            return Err(bad(too_long_reason(N)));
        }
        // One pass checks and copies each byte (ids are short; this runs for every id a venue
        // or a journal hands over).
        let mut bytes = [0u8; N];
        let mut ok = true;
        for (to, &b) in bytes.iter_mut().zip(text.as_bytes()) {
            ok &= b.is_ascii() && allowed(b);
            *to = b;
        }
        if !ok {
            return Err(bad("holds a character outside the allowed set"));
        }
        Ok(Self { bytes, len })
    }

    /// [`Self::new`] for the printable ASCII class (`!` to `~`), checked eight bytes at a time:
    /// the same value for the same text, and for a bad text the error `new` builds.
    #[inline]
    pub(crate) fn new_graphic(field: &'static str, text: &str) -> Result<Self, ValueError> {
        let src = text.as_bytes();
        let len = src.len();
        if len == 0 || len > N.min(usize::from(u8::MAX)) {
            return Self::new(field, text, |b| b.is_ascii_graphic());
        }
        let mut bytes = [0u8; N];
        let mut bad = 0u64;
        // Whole words one by one, written out of a loop for the first (ids are short): a loop
        // of word copies compiles to a `memcpy` call.
        let mut at = 0;
        while at + 8 <= len {
            let w = le_word(&src[at..at + 8]);
            bad |= not_graphic(w);
            bytes[at..at + 8].copy_from_slice(&w.to_le_bytes());
            at += 8;
            if at + 8 > len {
                break;
            }
        }
        let rest = len - at;
        if rest > 0 {
            // The last partial word: the text's last eight bytes shifted down when it has them;
            // its high bytes are zero, like the padding, and are not checked.
            let w = match len.checked_sub(8) {
                Some(start) => le_word(&src[start..]) >> (8 * (8 - rest)),
                None => src.iter().rev().fold(0, |w, &b| (w << 8) | u64::from(b)),
            };
            bad |= not_graphic(w) & (u64::MAX >> (8 * (8 - rest)));
            match bytes.get_mut(at..at + 8) {
                Some(to) => to.copy_from_slice(&w.to_le_bytes()),
                None => bytes[at..len].copy_from_slice(&src[at..]),
            }
        }
        if bad != 0 {
            return Self::new(field, text, |b| b.is_ascii_graphic());
        }
        let len = u8::try_from(len).unwrap_or(u8::MAX);
        Ok(Self { bytes, len })
    }

    /// The zero-padded bytes and the length, for building a related identifier with
    /// [`Self::from_checked_ascii`].
    #[inline]
    pub(crate) fn to_parts(self) -> ([u8; N], usize) {
        (self.bytes, usize::from(self.len))
    }

    /// Wraps bytes the caller has already checked: `bytes[..len]` is ASCII text in the
    /// identifier's allowed set, `len <= N`, and the rest is zero.
    pub(crate) fn from_checked_ascii(bytes: [u8; N], len: usize) -> Self {
        debug_assert!(len <= N && bytes[..len].is_ascii() && bytes[len..].iter().all(|&b| b == 0));
        Self {
            bytes,
            // Callers build at most `N` bytes; saturating keeps `as_str` in bounds regardless.
            len: u8::try_from(len.min(N)).unwrap_or(u8::MAX),
        }
    }

    /// [`IdHasher`](crate::IdHasher) over the zero-padded eight-byte words that hold the text,
    /// then the length: no copy of a partial word, since the padding is part of the value.
    #[inline]
    pub(crate) fn fingerprint(&self) -> u64 {
        use std::hash::Hasher;
        let words = usize::from(self.len).div_ceil(8);
        let mut h = crate::IdHasher::default();
        let mut chunks = self.bytes.chunks_exact(8);
        for c in (&mut chunks).take(words) {
            h.write_u64(le_word(c));
        }
        if words * 8 > N - chunks.remainder().len() {
            h.write_u64(le_word(chunks.remainder()));
        }
        h.write_u64(u64::from(self.len));
        h.finish()
    }

    /// The text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        let bytes = &self.bytes[..usize::from(self.len)];
        debug_assert!(bytes.is_ascii());
        // SAFETY: `new` admits only ASCII text and `bytes` is exactly the copied prefix, so it is
        // valid UTF-8. Skipping the re-validation matters: this runs on every map lookup of a
        // symbol or order id.
        #[allow(unsafe_code)]
        unsafe {
            std::str::from_utf8_unchecked(bytes)
        }
    }
}

impl<const N: usize> PartialEq for InlineStr<N> {
    /// Same length and bytes. The padding is zero, so only the eight-byte words that hold the
    /// text are compared (a byte-array comparison of a 64-byte id is a `bcmp` call), and a text
    /// of at most eight bytes is one word compare.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        if self.len != other.len {
            return false;
        }
        if N >= 8 && self.len <= 8 {
            // Most symbols, venues and assets fit one word: one comparison, no loop.
            return le_word(&self.bytes[..8]) == le_word(&other.bytes[..8]);
        }
        let words = usize::from(self.len).div_ceil(8);
        let (mut a, mut b) = (self.bytes.chunks_exact(8), other.bytes.chunks_exact(8));
        for (x, y) in (&mut a).zip(&mut b).take(words) {
            if be_word(x) != be_word(y) {
                return false;
            }
        }
        words * 8 <= N - a.remainder().len() || a.remainder() == b.remainder()
    }
}

impl<const N: usize> PartialOrd for InlineStr<N> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for InlineStr<N> {
    /// Byte order, eight bytes per comparison (big-endian, so the first byte weighs most; a
    /// byte-wise `memcmp` call costs more than the whole comparison of an id), then length.
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Past the longer text both are zero padding: only the words up to it can differ.
        let words = usize::from(self.len.max(other.len)).div_ceil(8);
        let (mut a, mut b) = (self.bytes.chunks_exact(8), other.bytes.chunks_exact(8));
        for (x, y) in (&mut a).zip(&mut b).take(words) {
            let (x, y) = (be_word(x), be_word(y));
            if x != y {
                return x.cmp(&y);
            }
        }
        let rest = if words * 8 > N - a.remainder().len() {
            be_word(a.remainder()).cmp(&be_word(b.remainder()))
        } else {
            std::cmp::Ordering::Equal
        };
        rest.then(self.len.cmp(&other.len))
    }
}

/// The high bit of each byte of `w` that is not printable ASCII (`0x21..=0x7e`), and possibly
/// stray bits above a byte of `0x80` or more (which is flagged itself): zero exactly when all
/// eight bytes are printable.
#[inline]
fn not_graphic(w: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Below 0x80, adding 0x5f sets a byte's high bit from 0x21 up, adding 0x01 from 0x7f up.
    let from_21 = w.wrapping_add(0x5f5f_5f5f_5f5f_5f5f);
    let from_7f = w.wrapping_add(0x0101_0101_0101_0101);
    (w | !from_21 | from_7f) & HIGH
}

/// Up to eight bytes as a big-endian word (order follows the text), zero filled on the right.
#[inline]
fn be_word(bytes: &[u8]) -> u64 {
    u64::from_be_bytes(padded(bytes))
}

/// Up to eight bytes as a little-endian word, zero filled on the right.
#[inline]
fn le_word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(padded(bytes))
}

/// The first eight bytes of `bytes`, zero filled when there are fewer.
#[inline]
fn padded(bytes: &[u8]) -> [u8; 8] {
    let mut w = [0u8; 8];
    let n = bytes.len().min(8);
    w[..n].copy_from_slice(&bytes[..n]);
    w
}

fn too_long_reason(n: usize) -> &'static str {
    match n {
        16 => "longer than 16 bytes",
        24 => "longer than 24 bytes",
        32 => "longer than 32 bytes",
        36 => "longer than 36 bytes",
        48 => "longer than 48 bytes",
        64 => "longer than 64 bytes",
        _ => "longer than its capacity",
    }
}

/// Generates a public identifier newtype over [`InlineStr`] with the usual trait set. The last
/// argument is the byte predicate of the allowed characters, or `graphic` for printable ASCII
/// (validated eight bytes at a time by [`InlineStr::new_graphic`]).
macro_rules! inline_ident {
    (
        $(#[$meta:meta])*
        $name:ident, $cap:literal, $field:literal, graphic
    ) => {
        $crate::inline_str::inline_ident!(
            @define $(#[$meta])* $name, $cap, $field,
            |text| $crate::inline_str::InlineStr::new_graphic($field, text)
        );
    };
    (
        $(#[$meta:meta])*
        $name:ident, $cap:literal, $field:literal, $allowed:expr
    ) => {
        $crate::inline_str::inline_ident!(
            @define $(#[$meta])* $name, $cap, $field,
            |text| $crate::inline_str::InlineStr::new($field, text, $allowed)
        );
    };
    (
        @define $(#[$meta:meta])* $name:ident, $cap:literal, $field:literal, $build:expr
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct $name($crate::inline_str::InlineStr<$cap>);

        impl $name {
            /// Largest accepted length in bytes.
            pub const CAPACITY: usize = $cap;

            /// Validates and builds the identifier; the error names the field and the text.
            #[inline]
            pub fn new(text: &str) -> Result<Self, $crate::ValueError> {
                ($build)(text).map(Self)
            }

            /// The identifier as text.
            #[inline]
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// A well-mixed 64-bit hash of the text, for lookup tables keyed by ids: equal ids
            /// have equal fingerprints, and the value depends only on the text (the same on
            /// every run and platform). It is not the value [`std::hash::Hash`] feeds a hasher.
            #[inline]
            pub fn fingerprint(&self) -> u64 {
                self.0.fingerprint()
            }
        }

        impl std::hash::Hash for $name {
            #[inline]
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl PartialOrd for $name {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            #[inline]
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                // Zero padding makes byte order equal to string order.
                self.0.cmp(&other.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            #[inline]
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $name {
            #[inline]
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            #[inline]
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            #[inline]
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<$name> for &str {
            #[inline]
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::ValueError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use inline_ident;

#[cfg(test)]
mod tests {
    use super::*;

    fn alnum(b: u8) -> bool {
        b.is_ascii_alphanumeric()
    }

    #[test]
    fn round_trips_text_and_rejects_bad_input() {
        let s = InlineStr::<16>::new("f", "ABC123", alnum).unwrap();
        assert_eq!(s.as_str(), "ABC123");
        assert!(InlineStr::<16>::new("f", "", alnum).is_err());
        assert!(InlineStr::<4>::new("f", "ABCDE", alnum).is_err());
        let err = InlineStr::<16>::new("f", "A B", alnum).unwrap_err();
        assert!(err.to_string().contains("\"A B\""), "{err}");
    }

    #[test]
    fn byte_order_matches_string_order() {
        let a = InlineStr::<8>::new("f", "AB", alnum).unwrap();
        let b = InlineStr::<8>::new("f", "ABC", alnum).unwrap();
        assert!(a < b);
        assert_eq!("AB".cmp("ABC"), a.cmp(&b));
        // Texts around the eight-byte words and the remainder of a 36-byte capacity.
        let texts = [
            "a",
            "b",
            "Z",
            "0",
            "9",
            "aaaaaaa",
            "aaaaaaaa",
            "aaaaaaaaa",
            "aaaaaaab",
            "aaaaaaaa0",
            "backtest-0-1",
            "backtest-0-z",
            "backtest-0-10",
            "backtest-1-1",
            "backtest-0-zzzzzzzzzzzzzzzzzzzzzzzz",
            "backtest-0-zzzzzzzzzzzzzzzzzzzzzzzy",
            "backtest-0-zzzzzzzzzzzzzzzzzzzzzzz",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzy",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzA",
        ];
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        for x in texts {
            for y in texts {
                let (a, b) = (
                    InlineStr::<36>::new("f", x, allowed).unwrap(),
                    InlineStr::<36>::new("f", y, allowed).unwrap(),
                );
                assert_eq!(a.cmp(&b), x.cmp(y), "{x} vs {y}");
                assert_eq!(a.partial_cmp(&b), Some(x.cmp(y)));
                assert_eq!(a == b, x == y);
            }
        }
        equality_follows_the_text::<8>(&texts);
        equality_follows_the_text::<16>(&texts);
        equality_follows_the_text::<32>(&texts);
        equality_follows_the_text::<64>(&texts);
    }

    /// `==` on every pair of `texts` that fit `N` bytes equals `==` on the texts.
    fn equality_follows_the_text<const N: usize>(texts: &[&str]) {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        let fit: Vec<_> = texts.iter().filter(|t| t.len() <= N).collect();
        for x in &fit {
            for y in &fit {
                let a = InlineStr::<N>::new("f", x, allowed).unwrap();
                let b = InlineStr::<N>::new("f", y, allowed).unwrap();
                assert_eq!(a == b, x == y, "{x} vs {y} in {N} bytes");
            }
        }
    }

    #[test]
    fn fingerprints_follow_the_text_only() {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        let mut seen = std::collections::BTreeMap::new();
        for len in 1..=36 {
            for last in [b'a', b'b', b'Z'] {
                let mut text = "x".repeat(len - 1);
                text.push(char::from(last));
                let a = InlineStr::<36>::new("f", &text, allowed).unwrap();
                let b = InlineStr::<36>::new("f", &text, allowed).unwrap();
                assert_eq!(a.fingerprint(), b.fingerprint());
                assert_eq!(seen.insert(a.fingerprint(), text.clone()), None, "{text}");
            }
        }
        let short = InlineStr::<4>::new("f", "abcd", allowed).unwrap();
        assert_ne!(
            short.fingerprint(),
            InlineStr::<4>::new("f", "abc", allowed)
                .unwrap()
                .fingerprint()
        );
    }

    #[test]
    fn the_graphic_check_equals_the_byte_check() {
        let graphic = |b: u8| b.is_ascii_graphic();
        let mut state = 3u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 33
        };
        for _ in 0..20_000 {
            let len = (next() % 70) as usize;
            let text: String = (0..len)
                .map(|_| match next() % 8 {
                    0 => char::from((next() % 128) as u8),
                    1 => '\u{e9}',
                    _ => char::from(b'!' + (next() % 94) as u8),
                })
                .collect();
            let bytewise = InlineStr::<64>::new("f", &text, graphic);
            let wordwise = InlineStr::<64>::new_graphic("f", &text);
            match (bytewise, wordwise) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a.to_parts(), b.to_parts(), "{text:?}");
                    assert_eq!(a.as_str(), text);
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("{text:?}: {a:?} vs {b:?}"),
            }
            let short = InlineStr::<12>::new("f", &text, graphic).map(InlineStr::to_parts);
            let short_words = InlineStr::<12>::new_graphic("f", &text).map(InlineStr::to_parts);
            assert_eq!(format!("{short:?}"), format!("{short_words:?}"));
        }
        for b in 0..=127u8 {
            for at in [0, 3, 7, 8, 10] {
                let mut text = *b"abcdefghijk";
                text[at] = b;
                let text = std::str::from_utf8(&text).unwrap();
                assert_eq!(
                    InlineStr::<64>::new_graphic("f", text).is_ok(),
                    graphic(b),
                    "{b:#x} at {at}"
                );
            }
        }
    }

    #[test]
    fn errors_keep_their_precedence() {
        let reason = |text: &str| match InlineStr::<4>::new("f", text, alnum).unwrap_err() {
            ValueError::BadText { reason, .. } => reason,
            other => panic!("{other}"),
        };
        assert_eq!(reason(""), "must not be empty");
        assert_eq!(reason("ABCDE"), "longer than its capacity");
        assert_eq!(reason("A B!!"), "longer than its capacity");
        assert_eq!(
            reason("\u{e9}"),
            "holds a character outside the allowed set"
        );
        assert_eq!(
            reason("A\u{e9}"),
            "holds a character outside the allowed set"
        );
        assert_eq!(reason("A-"), "holds a character outside the allowed set");
        assert_eq!(reason(&"x".repeat(300)), "longer than its capacity");
        let long = InlineStr::<300>::new("f", &"x".repeat(256), alnum).unwrap_err();
        assert!(
            long.to_string().contains("longer than its capacity"),
            "{long}"
        );
    }
}

//! Fixed-capacity inline ASCII strings: the storage behind every identifier newtype.
//!
//! Identifiers travel with every market event and order, so they are `Copy` and never touch the
//! heap. Unused bytes are zero, which makes the derived byte order equal to string order; the
//! length is stored so reading the text back is O(1).

use crate::ValueError;

/// An ASCII string of at most `N` bytes stored inline, zero padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
        if text.len() > N || text.len() > usize::from(u8::MAX) {
            return Err(bad(too_long_reason(N)));
        }
        if !text.is_ascii() || !text.bytes().all(allowed) {
            return Err(bad("holds a character outside the allowed set"));
        }
        let mut bytes = [0u8; N];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        let len = u8::try_from(text.len()).map_err(|_| bad(too_long_reason(N)))?;
        Ok(Self { bytes, len })
    }

    /// Wraps bytes the caller has already checked: `bytes[..len]` is ASCII text in the
    /// identifier's allowed set, `len <= N`, and the rest is zero.
    pub(crate) fn from_checked_ascii(bytes: [u8; N], len: usize) -> Self {
        debug_assert!(len <= N && bytes[..len].is_ascii() && bytes[len..].iter().all(|&b| b == 0));
        Self {
            bytes,
            // Callers build at most 36 bytes; saturating keeps `as_str` in bounds regardless.
            len: u8::try_from(len.min(N)).unwrap_or(u8::MAX),
        }
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

/// Generates a public identifier newtype over [`InlineStr`] with the usual trait set.
macro_rules! inline_ident {
    (
        $(#[$meta:meta])*
        $name:ident, $cap:literal, $field:literal, $allowed:expr
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub struct $name($crate::inline_str::InlineStr<$cap>);

        impl $name {
            /// Largest accepted length in bytes.
            pub const CAPACITY: usize = $cap;

            /// Validates and builds the identifier; the error names the field and the text.
            pub fn new(text: &str) -> Result<Self, $crate::ValueError> {
                $crate::inline_str::InlineStr::new($field, text, $allowed).map(Self)
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                // Zero padding makes byte order equal to string order.
                self.0.cmp(&other.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<$name> for &str {
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
    }
}

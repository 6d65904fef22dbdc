//! Identifier newtypes: symbols, venues, assets, order and fill ids.
//!
//! All are validated ASCII, stored inline (`Copy`, no heap allocation when cloned), usable as map
//! keys, comparable with `&str`, and serialised as plain strings.

use crate::inline_str::inline_ident;

fn symbol_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.' | b':')
}

/// Characters exchanges accept in client order ids (Binance: `^[.A-Z:/a-z0-9_-]{1,36}$`).
fn client_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/')
}

inline_ident! {
    /// A tradable instrument's symbol as the venue spells it (`BTCUSDT`, `ETH-PERP`, `SPY`).
    ///
    /// At most 32 ASCII letters, digits or `- _ / . :`.
    ///
    /// ```
    /// use rustrade_core::Symbol;
    /// let s = Symbol::new("BTCUSDT")?;
    /// assert_eq!(s, "BTCUSDT");
    /// assert!(Symbol::new("BTC USDT").is_err());
    /// # Ok::<(), rustrade_core::ValueError>(())
    /// ```
    Symbol, 32, "symbol", symbol_char
}

inline_ident! {
    /// A venue (exchange or simulator) identifier, such as `binance` or `sim`.
    Venue, 16, "venue", symbol_char
}

inline_ident! {
    /// An asset or currency code (`USDT`, `BTC`, `BNB`), used for balances and fee currencies.
    Asset, 16, "asset", symbol_char
}

inline_ident! {
    /// The venue's identifier of an order, as returned when the order was accepted.
    OrderId, 64, "order_id", graphic
}

inline_ident! {
    /// The venue's identifier of one fill (trade id); used to apply each fill exactly once.
    FillId, 64, "fill_id", graphic
}

/// `next_decimal` for the venue-issued ids (their allowed set holds the digits).
macro_rules! next_decimal {
    ($ty:ident) => {
        impl $ty {
            /// The id with its trailing decimal number one higher (`sim-9` → `sim-10`, an id
            /// without trailing digits gets a `1`): what a venue numbering its ids in sequence
            /// issues next, built without checking the text again. `None` when the longer id
            /// does not fit.
            #[inline]
            pub fn next_decimal(&self) -> Option<Self> {
                let (mut bytes, len) = self.0.to_parts();
                let mut at = len;
                while at > 0 {
                    match bytes[at - 1] {
                        b'0'..=b'8' => {
                            bytes[at - 1] += 1;
                            // Digits changed to digits: still in the allowed set.
                            return Some(Self(crate::inline_str::InlineStr::from_checked_ascii(
                                bytes, len,
                            )));
                        }
                        b'9' => {
                            bytes[at - 1] = b'0';
                            at -= 1;
                        }
                        _ => break,
                    }
                }
                // Every trailing digit was a 9 (now 0), or there were none: a `1` goes in front.
                if len >= bytes.len() || len >= usize::from(u8::MAX) {
                    return None;
                }
                bytes.copy_within(at..len, at + 1);
                bytes[at] = b'1';
                Some(Self(crate::inline_str::InlineStr::from_checked_ascii(
                    bytes,
                    len + 1,
                )))
            }
        }
    };
}

next_decimal!(OrderId);
next_decimal!(FillId);

inline_ident! {
    /// Our identifier of an order, sent to the venue so that a retried or replayed placement is
    /// recognised instead of duplicated.
    ///
    /// Built deterministically by [`ClientOrderId::compose`] from the bot's prefix, the brain's
    /// index and a sequence number that is persisted, so a restart never reuses an id. At most 36
    /// characters (the common venue limit).
    ClientOrderId, 36, "client_order_id", client_id_char
}

impl ClientOrderId {
    /// Builds `"{prefix}-{brain}-{seq}"` with `brain` and `seq` in base 36.
    ///
    /// `prefix` should be short (the bot's tag); the result must fit 36 characters. To issue
    /// many ids under one prefix, [`ClientOrderIdPrefix`] validates the prefix once.
    ///
    /// ```
    /// use rustrade_core::ClientOrderId;
    /// let id = ClientOrderId::compose("demo", 1, 42)?;
    /// assert_eq!(id.as_str(), "demo-1-16");
    /// # Ok::<(), rustrade_core::ValueError>(())
    /// ```
    pub fn compose(prefix: &str, brain: u32, seq: u64) -> Result<Self, crate::ValueError> {
        match ClientOrderIdPrefix::checked(prefix)? {
            Some(p) => p.compose(brain, seq),
            None => Err(too_long(prefix, brain, seq)),
        }
    }
}

impl ClientOrderId {
    /// The id with its trailing base-36 number (the lower-case letters and digits after the
    /// last character outside `0-9a-z`) increased by one, or `None` when the id does not end
    /// in such a digit or the number would need one more digit.
    ///
    /// For an id composed from `seq < u64::MAX`, this is the id composed from `seq + 1`
    /// whenever that has as many digits, built without composing: for issuing consecutive ids.
    ///
    /// ```
    /// use rustrade_core::ClientOrderId;
    /// let id = ClientOrderId::compose("demo", 1, 35)?;
    /// assert_eq!(id.as_str(), "demo-1-z");
    /// assert_eq!(id.with_next_sequence(), None, "36 is `10`, one digit more");
    /// let id = ClientOrderId::compose("demo", 1, 36)?;
    /// assert_eq!(id.with_next_sequence(), Some(ClientOrderId::compose("demo", 1, 37)?));
    /// # Ok::<(), rustrade_core::ValueError>(())
    /// ```
    #[inline]
    pub fn with_next_sequence(&self) -> Option<Self> {
        let (mut bytes, len) = self.0.to_parts();
        for b in bytes[..len].iter_mut().rev() {
            match *b {
                b'0'..=b'8' | b'a'..=b'y' => {
                    *b += 1;
                    // Only base-36 digits changed, to base-36 digits: still in the allowed set.
                    return Some(Self(crate::inline_str::InlineStr::from_checked_ascii(
                        bytes, len,
                    )));
                }
                b'9' => {
                    *b = b'a';
                    return Some(Self(crate::inline_str::InlineStr::from_checked_ascii(
                        bytes, len,
                    )));
                }
                b'z' => *b = b'0',
                _ => return None,
            }
        }
        None
    }
}

/// A validated [`ClientOrderId`] prefix: composes ids exactly as [`ClientOrderId::compose`]
/// does, without checking the prefix's characters again for every id.
///
/// ```
/// use rustrade_core::{ClientOrderId, ClientOrderIdPrefix};
/// let prefix = ClientOrderIdPrefix::new("demo")?;
/// assert_eq!(prefix.compose(1, 42)?, ClientOrderId::compose("demo", 1, 42)?);
/// assert_eq!(prefix.as_str(), "demo");
/// assert!(ClientOrderIdPrefix::new("bad prefix").is_err());
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOrderIdPrefix {
    /// The prefix followed by `-`, zero padded.
    head: [u8; ClientOrderId::CAPACITY],
    /// Length of the prefix without the dash.
    len: usize,
}

impl ClientOrderIdPrefix {
    /// Longest prefix with which some id fits: `"{prefix}-0-0"` is 4 bytes longer.
    const MAX_LEN: usize = ClientOrderId::CAPACITY - 4;

    /// Validates `prefix` against the client order id's character set and checks that the
    /// shortest id under it fits 36 bytes. An empty prefix is allowed (ids then start with `-`).
    pub fn new(prefix: &str) -> Result<Self, crate::ValueError> {
        Self::checked(prefix)?.ok_or_else(|| crate::ValueError::BadText {
            field: "client_order_id",
            value: prefix.to_owned(),
            reason: "prefix leaves no room for an id in 36 bytes",
        })
    }

    /// The prefix, `None` when it is too long for any id, or the error of a character outside
    /// the allowed set.
    fn checked(prefix: &str) -> Result<Option<Self>, crate::ValueError> {
        if !prefix.bytes().all(client_id_char) {
            return Err(crate::ValueError::BadText {
                field: "client_order_id",
                value: prefix.to_owned(),
                reason: "holds a character outside the allowed set",
            });
        }
        let len = prefix.len();
        if len > Self::MAX_LEN {
            return Ok(None);
        }
        let mut head = [0u8; ClientOrderId::CAPACITY];
        head[..len].copy_from_slice(prefix.as_bytes());
        head[len] = b'-';
        Ok(Some(Self { head, len }))
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.head[..self.len]).unwrap_or_default()
    }

    /// Builds `"{prefix}-{brain}-{seq}"` with `brain` and `seq` in base 36; the same id and the
    /// same errors as [`ClientOrderId::compose`].
    #[inline]
    pub fn compose(&self, brain: u32, seq: u64) -> Result<ClientOrderId, crate::ValueError> {
        let (brain_digits, seq_digits) = (base36_len(u64::from(brain)), base36_len(seq));
        let len = self.len + 1 + brain_digits + 1 + seq_digits;
        let mut buf = self.head;
        if len > buf.len() {
            return Err(too_long(self.as_str(), brain, seq));
        }
        // Each number is written from its last digit backwards, straight into the id.
        let brain_end = self.len + 1 + brain_digits;
        write_base36(u64::from(brain), &mut buf[..brain_end]);
        buf[brain_end] = b'-';
        write_base36(seq, &mut buf[..len]);
        // The prefix passed the allowed set in `new`; dashes and base-36 digits are in it too,
        // so the text needs no second validation.
        Ok(ClientOrderId(
            crate::inline_str::InlineStr::from_checked_ascii(buf, len),
        ))
    }
}

fn too_long(prefix: &str, brain: u32, seq: u64) -> crate::ValueError {
    crate::ValueError::BadText {
        field: "client_order_id",
        value: format!("{prefix}-{brain}-{seq}"),
        reason: "longer than 36 bytes",
    }
}

/// Number of base-36 digits of `v` (at least one).
#[inline]
fn base36_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 36 {
        v /= 36;
        n += 1;
    }
    n
}

/// Writes `v` in base 36 (lower-case digits) so that its last digit ends `out`; `out` must hold
/// at least [`base36_len`] bytes.
#[inline]
fn write_base36(mut v: u64, out: &mut [u8]) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    for b in out.iter_mut().rev() {
        *b = DIGITS[(v % 36) as usize];
        v /= 36;
        if v == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_decimal_counts_the_trailing_number_up() {
        let next = |s: &str| {
            OrderId::new(s)
                .unwrap()
                .next_decimal()
                .map(|i| i.to_string())
        };
        assert_eq!(next("sim-0").as_deref(), Some("sim-1"));
        assert_eq!(next("sim-9").as_deref(), Some("sim-10"));
        assert_eq!(next("sim-1099").as_deref(), Some("sim-1100"));
        assert_eq!(next("sim-").as_deref(), Some("sim-1"));
        assert_eq!(next("9").as_deref(), Some("10"));
        assert_eq!(next("a9z").as_deref(), Some("a9z1"));
        assert_eq!(next(&"9".repeat(64)), None);
        assert_eq!(
            next(&"8".repeat(64)).unwrap(),
            format!("{}9", "8".repeat(63))
        );
        let mut id = FillId::new("f0").unwrap();
        for n in 1..=12_345u32 {
            id = id.next_decimal().unwrap();
            assert_eq!(id, FillId::new(&format!("f{n}")).unwrap());
        }
    }

    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn symbol_validates_and_compares_with_str() {
        let s = Symbol::new("BTCUSDT").unwrap();
        assert_eq!(s, "BTCUSDT");
        assert_eq!("BTCUSDT", s);
        assert_eq!(s.to_string(), "BTCUSDT");
        assert_eq!(format!("{s:?}"), "Symbol(\"BTCUSDT\")");
        for bad in ["", "BTC USDT", "BTC\u{e9}", &"X".repeat(33)] {
            let err = Symbol::new(bad).unwrap_err();
            assert!(err.to_string().starts_with("symbol:"), "{err}");
        }
        assert!(Symbol::new(&"X".repeat(32)).is_ok());
    }

    #[test]
    fn symbol_is_a_map_key_looked_up_by_str() {
        let mut h = HashMap::new();
        h.insert(Symbol::new("ETHUSDT").unwrap(), 1);
        assert_eq!(h.get("ETHUSDT"), Some(&1));
        let mut b = BTreeMap::new();
        b.insert(Symbol::new("B").unwrap(), 2);
        b.insert(Symbol::new("A").unwrap(), 1);
        assert_eq!(b.get("B"), Some(&2));
        assert_eq!(b.keys().next().unwrap(), "A");
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let s = Symbol::new("ETH-PERP").unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"ETH-PERP\"");
        assert_eq!(serde_json::from_str::<Symbol>(&json).unwrap(), s);
        let err = serde_json::from_str::<Symbol>("\"bad symbol\"").unwrap_err();
        assert!(err.to_string().contains("symbol"), "{err}");
        for ty in ["binance", "sim"] {
            let v = Venue::new(ty).unwrap();
            let back: Venue = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
            assert_eq!(back, v);
        }
        let o = OrderId::new("8389765432-abc").unwrap();
        assert_eq!(
            serde_json::from_str::<OrderId>(&serde_json::to_string(&o).unwrap()).unwrap(),
            o
        );
        let f = FillId::new("t-1").unwrap();
        assert_eq!(
            serde_json::from_str::<FillId>(&serde_json::to_string(&f).unwrap()).unwrap(),
            f
        );
        let a = Asset::new("USDT").unwrap();
        assert_eq!(
            serde_json::from_str::<Asset>(&serde_json::to_string(&a).unwrap()).unwrap(),
            a
        );
    }

    #[test]
    fn client_order_ids_are_deterministic_and_distinct() {
        let a = ClientOrderId::compose("bot", 0, 1).unwrap();
        let b = ClientOrderId::compose("bot", 0, 2).unwrap();
        let c = ClientOrderId::compose("bot", 1, 1).unwrap();
        assert_eq!(a, ClientOrderId::compose("bot", 0, 1).unwrap());
        assert_ne!(a, b);
        assert_ne!(a, c);
        let max = ClientOrderId::compose("abcdefgh", u32::MAX, u64::MAX).unwrap();
        assert!(max.as_str().len() <= 36);
        assert!(ClientOrderId::compose(&"p".repeat(30), 0, u64::MAX).is_err());
        assert!(ClientOrderId::compose("bad prefix", 0, 1).is_err());
    }

    #[test]
    fn a_prefix_composes_what_compose_does() {
        let long = "p".repeat(30);
        assert!(ClientOrderIdPrefix::new(&"q".repeat(32)).is_ok());
        let e = ClientOrderIdPrefix::new(&"q".repeat(33)).unwrap_err();
        assert!(e.to_string().contains("no room"), "{e}");
        let e = ClientOrderId::compose(&"q".repeat(40), 3, 4).unwrap_err();
        assert!(
            e.to_string().contains(&format!("{}-3-4", "q".repeat(40))),
            "{e}"
        );
        assert!(e.to_string().contains("longer than 36"), "{e}");
        for prefix in ["", "bot", "a.b:c/d_e-f", "abcdefgh", &long, &"q".repeat(32)] {
            let p = ClientOrderIdPrefix::new(prefix).unwrap();
            for (brain, seq) in [(0, 0), (1, 35), (35, 36), (7, 1_295), (u32::MAX, u64::MAX)] {
                let text = format!("{prefix}-{}-{}", radix36(brain.into()), radix36(seq));
                let expected = ClientOrderId::new(&text).map_err(|_| text.clone());
                let direct = ClientOrderId::compose(prefix, brain, seq);
                let composed = p.compose(brain, seq);
                match expected {
                    Ok(id) => {
                        assert_eq!(direct.unwrap(), id);
                        assert_eq!(composed.unwrap(), id);
                    }
                    Err(text) => {
                        let e = composed.unwrap_err().to_string();
                        assert_eq!(e, direct.unwrap_err().to_string());
                        assert!(e.contains("longer than 36"), "{e}");
                        assert!(e.contains(&format!("{prefix}-{brain}-{seq}")), "{e} {text}");
                    }
                }
            }
        }
        let e = ClientOrderIdPrefix::new("bad prefix").unwrap_err();
        assert_eq!(
            e.to_string(),
            ClientOrderId::compose("bad prefix", 0, 1)
                .unwrap_err()
                .to_string()
        );
    }

    #[test]
    fn the_next_sequence_is_what_compose_builds() {
        for prefix in ["bot", "b-1", "UP", ""] {
            for brain in [0, 7, 1_000] {
                for seq in (0..3_000u64).chain([36u64.pow(5) - 2, u64::MAX - 1, u64::MAX]) {
                    let id = ClientOrderId::compose(prefix, brain, seq).unwrap();
                    let Some(after) = seq.checked_add(1) else {
                        continue;
                    };
                    let next = Some(ClientOrderId::compose(prefix, brain, after).unwrap())
                        .filter(|n| n.as_str().len() == id.as_str().len());
                    assert_eq!(id.with_next_sequence(), next, "{id}");
                }
            }
        }
        for (text, next) in [
            ("a-9", Some("a-a")),
            ("a-z", None),
            ("zz", None),
            ("a-", None),
        ] {
            let id = ClientOrderId::new(text).unwrap();
            assert_eq!(
                id.with_next_sequence().map(|n| n.as_str().to_owned()),
                next.map(str::to_owned),
                "{text}"
            );
        }
        assert_eq!(
            ClientOrderId::new("x-Az").unwrap().with_next_sequence(),
            None
        );
    }

    fn radix36(mut v: u64) -> String {
        let mut digits = Vec::new();
        loop {
            digits.push(char::from_digit((v % 36) as u32, 36).unwrap());
            v /= 36;
            if v == 0 {
                break;
            }
        }
        digits.iter().rev().collect()
    }
}

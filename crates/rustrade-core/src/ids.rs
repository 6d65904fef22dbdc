//! Identifier newtypes: symbols, venues, assets, order and fill ids.
//!
//! All are validated ASCII, stored inline (`Copy`, no heap allocation when cloned), usable as map
//! keys, comparable with `&str`, and serialised as plain strings.

use crate::inline_str::inline_ident;

fn symbol_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'.' | b':')
}

fn id_char(b: u8) -> bool {
    b.is_ascii_graphic()
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
    OrderId, 64, "order_id", id_char
}

inline_ident! {
    /// The venue's identifier of one fill (trade id); used to apply each fill exactly once.
    FillId, 64, "fill_id", id_char
}

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
    /// `prefix` should be short (the bot's tag); the result must fit 36 characters.
    ///
    /// ```
    /// use rustrade_core::ClientOrderId;
    /// let id = ClientOrderId::compose("demo", 1, 42)?;
    /// assert_eq!(id.as_str(), "demo-1-16");
    /// # Ok::<(), rustrade_core::ValueError>(())
    /// ```
    pub fn compose(prefix: &str, brain: u32, seq: u64) -> Result<Self, crate::ValueError> {
        if !prefix.bytes().all(client_id_char) {
            return Err(crate::ValueError::BadText {
                field: "client_order_id",
                value: prefix.to_owned(),
                reason: "holds a character outside the allowed set",
            });
        }
        let mut buf = [0u8; 36];
        let mut len = 0usize;
        let mut push = |b: u8| {
            if len < buf.len() {
                buf[len] = b;
            }
            len += 1;
        };
        prefix.bytes().for_each(&mut push);
        push(b'-');
        push_base36(u64::from(brain), &mut push);
        push(b'-');
        push_base36(seq, &mut push);
        if len > buf.len() {
            return Err(crate::ValueError::BadText {
                field: "client_order_id",
                value: format!("{prefix}-{brain}-{seq}"),
                reason: "longer than 36 bytes",
            });
        }
        // The prefix passed the allowed set above; dashes and base-36 digits are in it too, so
        // the text needs no second validation (this runs once per order).
        Ok(Self(crate::inline_str::InlineStr::from_checked_ascii(
            buf, len,
        )))
    }
}

fn push_base36(mut v: u64, push: &mut impl FnMut(u8)) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut tmp = [0u8; 13];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = DIGITS[(v % 36) as usize];
        v /= 36;
        if v == 0 {
            break;
        }
    }
    tmp[i..].iter().for_each(|&b| push(b));
}

#[cfg(test)]
mod tests {
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
}

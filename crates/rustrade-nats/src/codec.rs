//! The wire format of a [`MarketEvent`] on a market-data subject: [`encode`] and [`decode`].
//!
//! A small binary layout, little-endian, led by a version byte so a consumer refuses what a
//! newer relay writes instead of misreading it:
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | [`WIRE_VERSION`] |
//! | 1 | kind: `1` candle, `2` quote, `3` trade |
//! | 1 + n | venue: length, then ASCII |
//! | 1 + n | symbol: length, then ASCII |
//! | 8 | event time, i64 nanoseconds since the Unix epoch |
//! | candle: 8 + 5 × 8 | open time (i64 ns), open, high, low, close, volume (f64) |
//! | quote: 4 × 8 | bid, ask, bid size, ask size (f64) |
//! | trade: 2 × 8 + 1 | price, quantity (f64), aggressor (`0` buy, `1` sell) |
//!
//! Floats travel as their IEEE-754 bits, so a decoded event equals the encoded one exactly.
//! Decoding goes through the core constructors, so a NaN, a high below the low or a bad symbol
//! is refused with [`NatsError::Malformed`] naming the subject and the reason; trailing bytes
//! are refused too. Nothing here panics on any input.

use rustrade_core::{
    Candle, MarketData, MarketEvent, Price, Quantity, Quote, Side, Symbol, Timestamp, Trade, Venue,
};

use crate::NatsError;

/// The format version this crate writes and reads.
pub const WIRE_VERSION: u8 = 1;

/// The largest encoded event: a candle with the longest venue and symbol.
pub const MAX_ENCODED_LEN: usize = 2 + 1 + 16 + 1 + 32 + 8 + 8 + 5 * 8;

/// Appends `event`'s encoding to `out`.
///
/// ```
/// use rustrade_core::{Candle, MarketEvent, Symbol, Timestamp, Venue};
/// let candle = Candle::new(Timestamp::EPOCH, 10.0, 12.0, 9.5, 11.0, 100.0)?;
/// let event = MarketEvent::candle(Venue::new("sim")?, Symbol::new("BTCUSDT")?, Timestamp::EPOCH, candle);
/// let mut bytes = Vec::new();
/// rustrade_nats::encode(&event, &mut bytes);
/// assert_eq!(rustrade_nats::decode("md.sim.BTCUSDT.candle", &bytes).unwrap(), event);
/// # Ok::<(), rustrade_core::ValueError>(())
/// ```
pub fn encode(event: &MarketEvent, out: &mut Vec<u8>) {
    out.reserve(MAX_ENCODED_LEN);
    out.push(WIRE_VERSION);
    out.push(match event.data {
        MarketData::Candle(_) => 1,
        MarketData::Quote(_) => 2,
        MarketData::Trade(_) => 3,
    });
    for text in [event.venue.as_str(), event.symbol.as_str()] {
        // Venues hold at most 16 bytes and symbols 32: the length fits a byte.
        out.push(u8::try_from(text.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(&event.time.as_nanos().to_le_bytes());
    match &event.data {
        MarketData::Candle(c) => {
            out.extend_from_slice(&c.open_time().as_nanos().to_le_bytes());
            for v in [c.open(), c.high(), c.low(), c.close()] {
                out.extend_from_slice(&v.get().to_le_bytes());
            }
            out.extend_from_slice(&c.volume().get().to_le_bytes());
        }
        MarketData::Quote(q) => {
            for v in [q.bid(), q.ask()] {
                out.extend_from_slice(&v.get().to_le_bytes());
            }
            for v in [q.bid_size(), q.ask_size()] {
                out.extend_from_slice(&v.get().to_le_bytes());
            }
        }
        MarketData::Trade(t) => {
            out.extend_from_slice(&t.price.get().to_le_bytes());
            out.extend_from_slice(&t.quantity.get().to_le_bytes());
            out.push(match t.aggressor {
                Side::Buy => 0,
                Side::Sell => 1,
            });
        }
    }
}

/// `event`'s encoding as a new buffer.
pub fn encode_to_vec(event: &MarketEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAX_ENCODED_LEN);
    encode(event, &mut out);
    out
}

/// Decodes one event that arrived on `subject` (named in the error when it is refused).
pub fn decode(subject: &str, bytes: &[u8]) -> Result<MarketEvent, NatsError> {
    decode_event(bytes).map_err(|reason| NatsError::Malformed {
        subject: subject.to_owned(),
        reason,
    })
}

fn decode_event(bytes: &[u8]) -> Result<MarketEvent, String> {
    let mut r = Reader { bytes, at: 0 };
    let version = r.u8("version")?;
    if version != WIRE_VERSION {
        let hint = if version == b'{' {
            " (a JSON text, not a rustrade market event)"
        } else {
            ""
        };
        return Err(format!(
            "unsupported wire version {version} (this build reads {WIRE_VERSION}){hint}"
        ));
    }
    let kind = r.u8("kind")?;
    let venue = Venue::new(r.text("venue")?).map_err(|e| e.to_string())?;
    let symbol = Symbol::new(r.text("symbol")?).map_err(|e| e.to_string())?;
    let time = Timestamp::from_nanos(r.i64("time")?);
    let data = match kind {
        1 => {
            let open_time = Timestamp::from_nanos(r.i64("open_time")?);
            let open = r.f64("open")?;
            let high = r.f64("high")?;
            let low = r.f64("low")?;
            let close = r.f64("close")?;
            let volume = r.f64("volume")?;
            MarketData::Candle(
                Candle::new(open_time, open, high, low, close, volume)
                    .map_err(|e| e.to_string())?,
            )
        }
        2 => {
            let bid = r.f64("bid")?;
            let ask = r.f64("ask")?;
            let bid_size = r.f64("bid_size")?;
            let ask_size = r.f64("ask_size")?;
            MarketData::Quote(Quote::new(bid, ask, bid_size, ask_size).map_err(|e| e.to_string())?)
        }
        3 => {
            let price = Price::named("price", r.f64("price")?).map_err(|e| e.to_string())?;
            let quantity =
                Quantity::named("quantity", r.f64("quantity")?).map_err(|e| e.to_string())?;
            let aggressor = match r.u8("aggressor")? {
                0 => Side::Buy,
                1 => Side::Sell,
                other => return Err(format!("aggressor: unknown side {other}")),
            };
            MarketData::Trade(Trade {
                price,
                quantity,
                aggressor,
            })
        }
        other => return Err(format!("unknown event kind {other}")),
    };
    if r.at != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the event",
            bytes.len() - r.at
        ));
    }
    Ok(MarketEvent {
        venue,
        symbol,
        time,
        data,
    })
}

/// A cursor over the payload; every read says which field ran out.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "truncated at {field}: needs {n} bytes at offset {}, payload has {}",
                self.at,
                self.bytes.len()
            ));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self, field: &str) -> Result<u8, String> {
        Ok(self.take(1, field)?[0])
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn i64(&mut self, field: &str) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.array(field)?))
    }

    fn f64(&mut self, field: &str) -> Result<f64, String> {
        Ok(f64::from_le_bytes(self.array(field)?))
    }

    fn text(&mut self, field: &str) -> Result<&'a str, String> {
        let n = usize::from(self.u8(field)?);
        let raw = self.take(n, field)?;
        std::str::from_utf8(raw).map_err(|_| format!("{field}: not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn venue() -> Venue {
        Venue::new("binance").unwrap()
    }

    fn candle_event() -> MarketEvent {
        let c = Candle::new(Timestamp::from_nanos(60), 10.0, 12.5, 9.25, 11.0, 3.5).unwrap();
        MarketEvent::candle(
            venue(),
            Symbol::new("BTCUSDT").unwrap(),
            Timestamp::from_nanos(120),
            c,
        )
    }

    fn reason(bytes: &[u8]) -> String {
        match decode("md.binance.BTCUSDT.candle", bytes) {
            Err(NatsError::Malformed { subject, reason }) => {
                assert_eq!(subject, "md.binance.BTCUSDT.candle");
                reason
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn a_nan_in_a_price_is_refused_naming_the_field() {
        let mut bytes = encode_to_vec(&candle_event());
        // close is the fourth price after the header, the time and the open time.
        let close_at = 2 + 1 + 7 + 1 + 7 + 8 + 8 + 3 * 8;
        bytes[close_at..close_at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
        let r = reason(&bytes);
        assert!(r.contains("close: must be finite"), "{r}");
    }

    #[test]
    fn json_text_with_nan_is_refused_as_not_an_event() {
        let r = reason(br#"{"close": NaN}"#);
        assert!(r.contains("unsupported wire version 123"), "{r}");
        assert!(r.contains("JSON"), "{r}");
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = encode_to_vec(&candle_event());
        for n in 0..bytes.len() {
            let r = reason(&bytes[..n]);
            assert!(r.contains("truncated at"), "{n}: {r}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(reason(&long), "1 trailing bytes after the event");
    }

    #[test]
    fn a_wrong_version_and_an_unknown_kind_are_refused() {
        let mut bytes = encode_to_vec(&candle_event());
        bytes[0] = 2;
        assert!(reason(&bytes).starts_with("unsupported wire version 2"));
        let mut bytes = encode_to_vec(&candle_event());
        bytes[1] = 9;
        assert_eq!(reason(&bytes), "unknown event kind 9");
    }

    #[test]
    fn an_inconsistent_bar_and_a_bad_symbol_are_refused() {
        let mut bytes = encode_to_vec(&candle_event());
        let high_at = 2 + 1 + 7 + 1 + 7 + 8 + 8 + 8;
        bytes[high_at..high_at + 8].copy_from_slice(&1.0f64.to_le_bytes());
        assert!(reason(&bytes).starts_with("high: "), "{}", reason(&bytes));
        let mut bytes = encode_to_vec(&candle_event());
        bytes[2 + 1 + 7 + 1] = b' ';
        assert!(reason(&bytes).starts_with("symbol: "), "{}", reason(&bytes));
    }

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            0.0..1e12f64,
            Just(0.0),
            Just(f64::MIN_POSITIVE),
            Just(1e300)
        ]
    }

    fn event() -> impl Strategy<Value = MarketEvent> {
        let text = "[A-Za-z0-9_./:-]{1,16}";
        let data = prop_oneof![
            (
                any::<i64>(),
                finite(),
                finite(),
                finite(),
                finite(),
                finite()
            )
                .prop_map(|(t, a, b, c, d, v)| {
                    let mut p = [a, b, c, d];
                    p.sort_by(f64::total_cmp);
                    // low, open, close, high from the sorted four.
                    MarketData::Candle(
                        Candle::new(Timestamp::from_nanos(t), p[1], p[3], p[0], p[2], v).unwrap(),
                    )
                }),
            (finite(), finite(), finite(), finite()).prop_map(|(a, b, s, t)| {
                MarketData::Quote(Quote::new(a.min(b), a.max(b), s, t).unwrap())
            }),
            (finite(), finite(), any::<bool>()).prop_map(|(p, q, buy)| {
                MarketData::Trade(Trade {
                    price: Price::new(p).unwrap(),
                    quantity: Quantity::new(q).unwrap(),
                    aggressor: if buy { Side::Buy } else { Side::Sell },
                })
            }),
        ];
        (text, text, any::<i64>(), data).prop_map(|(v, s, t, data)| MarketEvent {
            venue: Venue::new(&v).unwrap(),
            symbol: Symbol::new(&s).unwrap(),
            time: Timestamp::from_nanos(t),
            data,
        })
    }

    proptest! {
        #[test]
        fn round_trip_is_exact(e in event()) {
            let bytes = encode_to_vec(&e);
            prop_assert!(bytes.len() <= MAX_ENCODED_LEN);
            let back = decode("s", &bytes).unwrap();
            prop_assert_eq!(back, e);
            // Bit for bit, not merely equal as floats.
            prop_assert_eq!(encode_to_vec(&back), bytes);
        }

        #[test]
        fn arbitrary_bytes_decode_or_are_refused(
            bytes in proptest::collection::vec(any::<u8>(), 0..120)
        ) {
            let outcome = decode("s", &bytes);
            prop_assert!(
                matches!(outcome, Ok(_) | Err(NatsError::Malformed { .. })),
                "{outcome:?}"
            );
        }
    }
}

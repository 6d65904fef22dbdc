//! Parsers of Binance's JSON messages into core types. None panics, whatever the bytes; a bad
//! message is a [`ParseError`] naming the field and the value.

mod field;
mod market;
pub mod probe;
mod report;
mod usdm;
mod user;

pub(crate) use field::Obj;
pub use field::ParseError;
pub use market::{parse_kline_row, parse_market_message};
pub use usdm::{
    AccountUpdate, MarkPrice, UsdmUserMessage, parse_mark_price, parse_premium_index,
    parse_usdm_user_message,
};
pub use user::{UserMessage, parse_user_message};

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use rustrade_core::{Asset, Symbol, Timestamp, Venue};

    fn quote(_: &Symbol) -> Option<Asset> {
        None
    }

    /// Valid samples, for mutation.
    const SAMPLES: [&str; 4] = [
        r#"{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1,"T":2,"o":"1","c":"1","h":"1","l":"1","v":"1","x":true}}"#,
        r#"{"stream":"x@bookTicker","data":{"u":1,"s":"X","b":"1","B":"1","a":"2","A":"1"}}"#,
        r#"{"e":"trade","E":1,"s":"X","t":1,"p":"1","q":"1","T":1,"m":false}"#,
        r#"{"event":{"e":"executionReport","E":1,"s":"X","c":"a","S":"BUY","x":"TRADE","i":1,"l":"1","L":"1","n":"0","N":"B","T":1,"t":1,"m":true,"C":""}}"#,
    ];

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let v = Venue::new("binance").unwrap();
            let _ = super::parse_market_message(&bytes, v, Timestamp::EPOCH);
            let _ = super::parse_user_message(&bytes, &quote);
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let _ = super::parse_kline_row(&value, Symbol::new("X").unwrap(), v, Timestamp::MAX);
            }
        }

        #[test]
        fn mutated_samples_never_panic(which in 0usize..4, at in 0usize..400, byte in any::<u8>(), cut in 0usize..400) {
            let mut b = SAMPLES[which].as_bytes().to_vec();
            let at = at % b.len();
            b[at] = byte;
            b.truncate(cut.max(1));
            let v = Venue::new("binance").unwrap();
            let _ = super::parse_market_message(&b, v, Timestamp::EPOCH);
            let _ = super::parse_user_message(&b, &quote);
        }
    }
}

//! Market-stream messages (`kline`, `bookTicker`, `trade`, `aggTrade`), raw or wrapped as
//! combined-stream `{"stream","data"}`, and REST `klines` rows, into core [`MarketEvent`]s.
//!
//! A kline becomes a candle only when its `x` (closed) flag is true: an open bar is still
//! changing and is never published. The candle event's time is the bar's end (`T + 1 ms`, the
//! next bar's open). Spot's `bookTicker` carries no event time, so the caller's receive time is
//! used; the futures one (`"e":"bookTicker"`) is stamped with its transaction time `T`.

use rustrade_core::{
    Candle, MarketData, MarketEvent, Price, Quantity, Quote, Side, Symbol, Timestamp, Trade, Venue,
};
use serde_json::Value;

use super::{Obj, ParseError};

/// Parses one stream frame. `Ok(None)` for frames that carry no event: an open kline, a
/// subscription acknowledgement (`{"result":null,"id":1}`).
pub fn parse_market_message(
    bytes: &[u8],
    venue: Venue,
    received: Timestamp,
) -> Result<Option<MarketEvent>, ParseError> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|_| ParseError::new("<message>", None, "not JSON"))?;
    let root = Obj::root(&v)?;
    if root.get("result").is_some() || (root.get("id").is_some() && root.get("e").is_none()) {
        return Ok(None);
    }
    let (data, stream) = match root.get("data") {
        Some(d) => (d, root.get("stream").and_then(Value::as_str)),
        None => (&v, None),
    };
    parse_event(data, stream, venue, received)
}

fn parse_event(
    v: &Value,
    stream: Option<&str>,
    venue: Venue,
    received: Timestamp,
) -> Result<Option<MarketEvent>, ParseError> {
    let o = Obj::root(v)?;
    let kind = o.get("e").and_then(Value::as_str);
    // Spot's bookTicker has no event type; the futures one is typed and timed.
    let is_book = kind == Some("bookTicker")
        || (kind.is_none()
            && (stream.is_some_and(|sname| sname.ends_with("@bookTicker"))
                || (o.get("u").is_some() && o.get("b").is_some() && o.get("a").is_some())));
    let symbol = o.symbol("s")?;
    let event = |time, data| MarketEvent {
        venue,
        symbol,
        time,
        data,
    };
    if is_book {
        let quote = Quote::new(
            o.decimal("b")?,
            o.decimal("a")?,
            o.decimal("B")?,
            o.decimal("A")?,
        )
        .map_err(|e| o.bad(e.field_name_for_book(), "inconsistent quote"))?;
        let time = match (o.get("T"), o.get("E")) {
            (Some(_), _) => o.time_ms("T")?,
            (None, Some(_)) => o.time_ms("E")?,
            (None, None) => received,
        };
        return Ok(Some(event(time, MarketData::Quote(quote))));
    }
    match kind {
        Some("kline") => {
            let k = o.obj("k")?;
            if !k.bool("x")? {
                return Ok(None);
            }
            let close_time = k.time_ms("T")?;
            let candle = candle(&k, k.time_ms("t")?, ["o", "h", "l", "c", "v"])?;
            let end = close_time.saturating_add(std::time::Duration::from_millis(1));
            Ok(Some(event(end, MarketData::Candle(candle))))
        }
        Some("trade" | "aggTrade") => {
            let trade = Trade {
                price: Price::positive("p", o.decimal("p")?)
                    .map_err(|_| o.bad("p", "must be > 0"))?,
                quantity: Quantity::named("q", o.decimal("q")?)
                    .map_err(|_| o.bad("q", "must be >= 0"))?,
                // `m`: the buyer was the maker, so the seller took liquidity.
                aggressor: if o.bool("m")? { Side::Sell } else { Side::Buy },
            };
            Ok(Some(event(o.time_ms("T")?, MarketData::Trade(trade))))
        }
        _ => Err(o.bad("e", "unknown market event type")),
    }
}

/// One row of `GET /api/v3/klines` (`[openTime, o, h, l, c, v, closeTime, …]`) as a candle
/// event, or `None` while the bar is still open at `now`.
pub fn parse_kline_row(
    row: &Value,
    symbol: Symbol,
    venue: Venue,
    now: Timestamp,
) -> Result<Option<MarketEvent>, ParseError> {
    let Some(cells) = row.as_array().filter(|c| c.len() >= 7) else {
        return Err(ParseError::new(
            "klines[]",
            Some(row),
            "expected an array of 7+ cells",
        ));
    };
    let int = |i: usize, name: &'static str| {
        cells[i]
            .as_i64()
            .and_then(|ms| Timestamp::from_millis(ms).ok())
            .ok_or_else(|| ParseError::new(name, Some(&cells[i]), "expected a time in ms"))
    };
    let num = |i: usize, name: &'static str| {
        cells[i]
            .as_str()
            .and_then(super::field::parse_decimal)
            .ok_or_else(|| ParseError::new(name, Some(&cells[i]), "not a finite decimal"))
    };
    let close_time = int(6, "closeTime")?;
    if close_time >= now {
        return Ok(None);
    }
    let c = Candle::new(
        int(0, "openTime")?,
        num(1, "open")?,
        num(2, "high")?,
        num(3, "low")?,
        num(4, "close")?,
        num(5, "volume")?,
    )
    .map_err(|e| ParseError::new(e.field(), Some(row), "inconsistent candle"))?;
    let end = close_time.saturating_add(std::time::Duration::from_millis(1));
    Ok(Some(MarketEvent::candle(venue, symbol, end, c)))
}

fn candle(k: &Obj<'_>, open_time: Timestamp, f: [&str; 5]) -> Result<Candle, ParseError> {
    Candle::new(
        open_time,
        k.decimal(f[0])?,
        k.decimal(f[1])?,
        k.decimal(f[2])?,
        k.decimal(f[3])?,
        k.decimal(f[4])?,
    )
    .map_err(|e| {
        let name = match e.field() {
            "open" => "o",
            "high" => "h",
            "low" => "l",
            "close" => "c",
            _ => "v",
        };
        k.bad(name, "inconsistent candle")
    })
}

/// Which bookTicker field a quote error is about.
trait BookField {
    fn field_name_for_book(&self) -> &'static str;
}

impl BookField for rustrade_core::ValueError {
    fn field_name_for_book(&self) -> &'static str {
        match self.field() {
            "bid" => "b",
            "bid_size" => "B",
            "ask_size" => "A",
            _ => "a",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue() -> Venue {
        Venue::new("binance").unwrap()
    }

    const KLINE: &str = r#"{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0005","v":"1000","n":100,"x":true,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}"#;

    #[test]
    fn closed_kline_is_a_candle_open_one_is_nothing() {
        let e = parse_market_message(KLINE.as_bytes(), venue(), Timestamp::EPOCH)
            .unwrap()
            .unwrap();
        let c = e.as_candle().unwrap();
        assert_eq!(e.symbol.as_str(), "BNBBTC");
        assert_eq!(c.open_time().as_millis(), 1672515780000);
        assert_eq!(e.time.as_millis(), 1672515840000);
        assert_eq!(
            (c.open().get(), c.close().get(), c.volume().get()),
            (0.001, 0.002, 1000.0)
        );
        let open = KLINE.replace("\"x\":true", "\"x\":false");
        assert_eq!(
            parse_market_message(open.as_bytes(), venue(), Timestamp::EPOCH).unwrap(),
            None
        );
        let wrapped = format!(r#"{{"stream":"bnbbtc@kline_1m","data":{KLINE}}}"#);
        assert_eq!(
            parse_market_message(wrapped.as_bytes(), venue(), Timestamp::EPOCH).unwrap(),
            Some(e)
        );
    }

    #[test]
    fn book_ticker_and_trades() {
        let book = r#"{"stream":"bnbusdt@bookTicker","data":{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}"#;
        let t = Timestamp::from_millis(5).unwrap();
        let e = parse_market_message(book.as_bytes(), venue(), t)
            .unwrap()
            .unwrap();
        assert_eq!(e.time, t);
        let MarketData::Quote(q) = e.data else {
            panic!()
        };
        assert_eq!((q.bid().get(), q.ask_size().get()), (25.3519, 40.66));
        let trade = r#"{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}"#;
        let e = parse_market_message(trade.as_bytes(), venue(), t)
            .unwrap()
            .unwrap();
        let MarketData::Trade(tr) = e.data else {
            panic!()
        };
        assert_eq!(tr.aggressor, Side::Sell);
        assert_eq!(e.time.as_millis(), 1672515782136);
        let futures = r#"{"stream":"bnbusdt@bookTicker","data":{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}"#;
        let e = parse_market_message(futures.as_bytes(), venue(), t)
            .unwrap()
            .unwrap();
        assert_eq!(e.time.as_millis(), 1_568_014_460_891);
        assert!(matches!(e.data, MarketData::Quote(_)));
        let bad = futures.replace("\"T\":1568014460891", "\"T\":\"soon\"");
        let err = parse_market_message(bad.as_bytes(), venue(), t).unwrap_err();
        assert_eq!((err.field.as_str(), err.value.as_str()), ("T", "\"soon\""));
        let ack = br#"{"result":null,"id":1}"#;
        assert_eq!(parse_market_message(ack, venue(), t).unwrap(), None);
    }

    #[test]
    fn malformed_payloads_name_field_and_value() {
        let t = Timestamp::EPOCH;
        let cases = [
            (
                KLINE.replace("\"o\":\"0.0010\"", "\"o\":\"NaN\""),
                "k.o",
                "\"NaN\"",
            ),
            (
                KLINE.replace("\"x\":true", "\"x\":\"true\""),
                "k.x",
                "\"true\"",
            ),
            (
                KLINE.replace("\"t\":1672515780000,", ""),
                "k.t",
                "<missing>",
            ),
            (
                KLINE.replace("\"e\":\"kline\"", "\"e\":\"klines2\""),
                "e",
                "\"klines2\"",
            ),
            (
                KLINE.replace("\"h\":\"0.0025\"", "\"h\":\"0.0001\""),
                "k.h",
                "\"0.0001\"",
            ),
            (
                KLINE.replace("\"s\":\"BNBBTC\",\"k\"", "\"s\":7,\"k\""),
                "s",
                "7",
            ),
        ];
        for (text, field, value) in cases {
            let e = parse_market_message(text.as_bytes(), venue(), t).unwrap_err();
            assert_eq!((e.field.as_str(), e.value.as_str()), (field, value), "{e}");
        }
        let crossed = r#"{"u":1,"s":"X","b":"2","B":"1","a":"1","A":"1"}"#;
        let e = parse_market_message(crossed.as_bytes(), venue(), t).unwrap_err();
        assert_eq!(e.field, "a");
        assert!(parse_market_message(b"[1,2]", venue(), t).is_err());
        assert!(parse_market_message(b"\xff", venue(), t).is_err());
    }

    #[test]
    fn rest_kline_rows_skip_the_open_bar() {
        let row = serde_json::json!([
            1499040000000i64,
            "0.01634790",
            "0.80000000",
            "0.01575800",
            "0.01577100",
            "148976.11427815",
            1499644799999i64,
            "2434.19055334",
            308,
            "1756.87402397",
            "28.46694368",
            "0"
        ]);
        let s = Symbol::new("X").unwrap();
        let now = Timestamp::from_millis(1499644800000).unwrap();
        let e = parse_kline_row(&row, s, venue(), now).unwrap().unwrap();
        assert_eq!(e.time, now);
        let early = Timestamp::from_millis(1499644799999).unwrap();
        assert_eq!(parse_kline_row(&row, s, venue(), early).unwrap(), None);
        let mut bad = row.clone();
        bad[4] = serde_json::json!("inf");
        assert_eq!(
            parse_kline_row(&bad, s, venue(), now).unwrap_err().field,
            "close"
        );
        assert!(parse_kline_row(&serde_json::json!([1]), s, venue(), now).is_err());
    }
}

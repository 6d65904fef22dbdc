//! Market-data subjects: `md.<venue>.<symbol>.<kind>` ([`MarketSubject`]).
//!
//! A subject token may not hold `.`, `*`, `>` or whitespace. Venues and symbols may hold `.`
//! (`BTC.PERP`), so [`escape_token`] writes it as `%2E` (and `%` itself as `%25`, keeping the
//! mapping reversible); a token with a wildcard, whitespace, a control character or non-ASCII
//! text is refused. The same text always gives the same token, so every relay and consumer
//! agree on the subject without coordination.

use std::fmt;

use rustrade_core::{MarketData, MarketEvent, Symbol, Venue};

use crate::NatsError;

/// The first token of every market-data subject.
pub const SUBJECT_ROOT: &str = "md";

/// Which payload an event carries, the last token of its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A closed bar (`candle`).
    Candle,
    /// A top-of-book update (`quote`).
    Quote,
    /// A public trade (`trade`).
    Trade,
}

impl EventKind {
    /// The kind of `data`.
    pub fn of(data: &MarketData) -> Self {
        match data {
            MarketData::Candle(_) => Self::Candle,
            MarketData::Quote(_) => Self::Quote,
            MarketData::Trade(_) => Self::Trade,
        }
    }

    /// The subject token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Candle => "candle",
            Self::Quote => "quote",
            Self::Trade => "trade",
        }
    }

    /// The kind a subject token names.
    pub fn parse(token: &str) -> Option<Self> {
        match token {
            "candle" => Some(Self::Candle),
            "quote" => Some(Self::Quote),
            "trade" => Some(Self::Trade),
            _ => None,
        }
    }
}

/// The subject an event of `kind` for `symbol` on `venue` is published to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarketSubject {
    /// The venue.
    pub venue: Venue,
    /// The instrument.
    pub symbol: Symbol,
    /// The payload kind.
    pub kind: EventKind,
}

impl MarketSubject {
    /// The subject of `event`.
    pub fn of(event: &MarketEvent) -> Self {
        Self {
            venue: event.venue,
            symbol: event.symbol,
            kind: EventKind::of(&event.data),
        }
    }

    /// Parses `md.<venue>.<symbol>.<kind>`, undoing the escapes.
    pub fn parse(subject: &str) -> Result<Self, NatsError> {
        let bad = |reason: String| NatsError::Malformed {
            subject: subject.to_owned(),
            reason,
        };
        let mut tokens = subject.split('.');
        let (Some(root), Some(venue), Some(symbol), Some(kind), None) = (
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
        ) else {
            return Err(bad(format!(
                "expected {SUBJECT_ROOT}.<venue>.<symbol>.<kind>"
            )));
        };
        if root != SUBJECT_ROOT {
            return Err(bad(format!("does not start with {SUBJECT_ROOT}.")));
        }
        let venue =
            Venue::new(&unescape_token(venue).map_err(&bad)?).map_err(|e| bad(e.to_string()))?;
        let symbol =
            Symbol::new(&unescape_token(symbol).map_err(&bad)?).map_err(|e| bad(e.to_string()))?;
        let kind = EventKind::parse(kind).ok_or_else(|| {
            bad(format!(
                "unknown event kind {kind:?}; expected candle, quote or trade"
            ))
        })?;
        Ok(Self {
            venue,
            symbol,
            kind,
        })
    }
}

impl fmt::Display for MarketSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::with_capacity(64);
        text.push_str(SUBJECT_ROOT);
        text.push('.');
        push_escaped(&mut text, self.venue.as_str());
        text.push('.');
        push_escaped(&mut text, self.symbol.as_str());
        text.push('.');
        text.push_str(self.kind.as_str());
        f.write_str(&text)
    }
}

/// The filter matching every market-data subject of `venue`: `md.<venue>.>`.
pub fn venue_filter(venue: &Venue) -> String {
    let mut text = format!("{SUBJECT_ROOT}.");
    push_escaped(&mut text, venue.as_str());
    text.push_str(".>");
    text
}

/// The filter matching every kind of event for `symbol` on `venue`: `md.<venue>.<symbol>.*`.
pub fn symbol_filter(venue: &Venue, symbol: &Symbol) -> String {
    let mut text = format!("{SUBJECT_ROOT}.");
    push_escaped(&mut text, venue.as_str());
    text.push('.');
    push_escaped(&mut text, symbol.as_str());
    text.push_str(".*");
    text
}

/// `text` as one subject token: `.` becomes `%2E` and `%` becomes `%25`; empty text, `*`, `>`,
/// whitespace, control characters and non-ASCII are refused with an error naming `field`.
pub fn escape_token(field: &'static str, text: &str) -> Result<String, NatsError> {
    let refuse = |reason: String| NatsError::InvalidOption {
        field,
        value: text.to_owned(),
        reason,
    };
    if text.is_empty() {
        return Err(refuse("is empty".to_owned()));
    }
    for c in text.chars() {
        match c {
            '*' | '>' => return Err(refuse(format!("{c:?} is a subject wildcard"))),
            c if c.is_whitespace() || c.is_control() || !c.is_ascii() => {
                return Err(refuse(format!("{c:?} cannot appear in a subject")));
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(text.len() + 4);
    push_escaped(&mut out, text);
    Ok(out)
}

/// Appends `text` with `.` and `%` escaped. Venue and symbol characters (letters, digits,
/// `- _ / . :`) need nothing more, so this cannot fail for them.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '.' => out.push_str("%2E"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
}

/// The text [`escape_token`] made `token` from.
pub fn unescape_token(token: &str) -> Result<String, String> {
    let mut out = String::with_capacity(token.len());
    let mut rest = token;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3);
        match code {
            Some("2E") => out.push('.'),
            Some("25") => out.push('%'),
            _ => return Err(format!("bad escape in subject token {token:?}")),
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::{Candle, Timestamp};

    #[test]
    fn subjects_name_venue_symbol_and_kind() {
        let c = Candle::new(Timestamp::EPOCH, 1.0, 1.0, 1.0, 1.0, 0.0).unwrap();
        let e = MarketEvent::candle(
            Venue::new("binance").unwrap(),
            Symbol::new("BTCUSDT").unwrap(),
            Timestamp::EPOCH,
            c,
        );
        let s = MarketSubject::of(&e);
        assert_eq!(s.to_string(), "md.binance.BTCUSDT.candle");
        assert_eq!(
            MarketSubject::parse("md.binance.BTCUSDT.candle").unwrap(),
            s
        );
        assert_eq!(venue_filter(&e.venue), "md.binance.>");
        assert_eq!(symbol_filter(&e.venue, &e.symbol), "md.binance.BTCUSDT.*");
    }

    #[test]
    fn dots_are_escaped_reversibly_and_the_same_way_every_time() {
        let s = MarketSubject {
            venue: Venue::new("dex.v2").unwrap(),
            symbol: Symbol::new("BTC.PERP").unwrap(),
            kind: EventKind::Trade,
        };
        assert_eq!(s.to_string(), "md.dex%2Ev2.BTC%2EPERP.trade");
        assert_eq!(MarketSubject::parse(&s.to_string()).unwrap(), s);
        assert_eq!(escape_token("symbol", "a%b.c").unwrap(), "a%25b%2Ec");
        assert_eq!(unescape_token("a%25b%2Ec").unwrap(), "a%b.c");
        // Other symbol characters are legal subject characters and pass unchanged.
        assert_eq!(
            escape_token("symbol", "ETH-USD/T:1_x").unwrap(),
            "ETH-USD/T:1_x"
        );
    }

    #[test]
    fn wildcards_whitespace_and_empty_tokens_are_refused() {
        for bad in ["BTC*", "BTC>", "BTC USDT", "BTC\tX", "", "BTC\u{e9}"] {
            let e = escape_token("symbol", bad).unwrap_err();
            assert!(
                matches!(&e, NatsError::InvalidOption { field: "symbol", value, .. } if value == bad),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn malformed_subjects_are_refused_with_the_reason() {
        for (subject, reason) in [
            ("md.binance.BTCUSDT", "expected md.<venue>.<symbol>.<kind>"),
            ("xx.binance.BTCUSDT.candle", "does not start with md."),
            ("md.binance.BTCUSDT.book", "unknown event kind \"book\""),
            ("md.binance.BTC%2XUSDT.candle", "bad escape"),
        ] {
            let e = MarketSubject::parse(subject).unwrap_err();
            assert!(
                matches!(&e, NatsError::Malformed { subject: s, reason: r } if s == subject && r.contains(reason)),
                "{subject}: {e}"
            );
        }
    }
}

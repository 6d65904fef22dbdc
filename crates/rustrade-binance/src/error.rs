//! [`BinanceError`]: every way a Binance call can fail, with its source kept, and the mapping
//! onto core's [`ExchangeError`] at the trait boundary.
//!
//! The mapping keeps the recovery contract: an answer the venue did not give (timeout,
//! transport failure, HTTP 5XX, `-1007`, `-1000`/`-1001`/`-1006`) is *unknown outcome*, never a
//! rejection; `-2011`/`-2013` are definite "no such order"; `-2026` means the order existed and
//! was archived (cancelled or expired with no fill, long ago).

use std::time::Duration;

use rustrade_core::{ExchangeError, ValueError};

use crate::parse::ParseError;

/// Longest venue payload kept in an error message.
const MAX_PAYLOAD: usize = 512;

/// A failed Binance call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BinanceError {
    /// The venue answered with an error code (`{"code":-2010,"msg":"…"}`).
    #[error("binance error {code} (HTTP {status}): {msg}")]
    Api {
        /// HTTP status of the answer.
        status: u16,
        /// Binance's error code (negative).
        code: i64,
        /// Binance's message, verbatim.
        msg: String,
    },
    /// An HTTP error without a Binance error body (a 5XX from a gateway, a WAF 403, ...).
    #[error("HTTP {status} from binance: {body}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The body, truncated.
        body: String,
    },
    /// HTTP 429, or our own refusal while the venue's `Retry-After` is still running.
    #[error("rate limited by binance (retry after {retry_after:?})")]
    RateLimited {
        /// How long the venue asked us to wait.
        retry_after: Option<Duration>,
    },
    /// HTTP 418: this IP is banned; no request is sent until the ban ends.
    #[error("IP banned by binance for {remaining:?} more")]
    Banned {
        /// Time left on the ban.
        remaining: Duration,
    },
    /// No answer within the deadline; a state-changing request may have been carried out.
    #[error("no answer from binance within the deadline: {what}")]
    Timeout {
        /// Which request.
        what: String,
    },
    /// The connection failed (refused, reset, TLS); the request may have reached the venue.
    #[error("transport failure on {what}: {source}")]
    Transport {
        /// Which request.
        what: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// A WebSocket failure.
    #[error("websocket failure on {what}: {source}")]
    WebSocket {
        /// Which connection.
        what: String,
        /// The WebSocket library's error.
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// A venue answer that did not decode as the documented shape.
    #[error("could not decode {what}: {source} (payload: {payload})")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The payload, truncated.
        payload: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A venue message with a missing or bad field.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A value from the venue or from the caller failed core's validation.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The request cannot be expressed on Binance (an order kind, a flag, a hedge-mode account).
    #[error("not supported on binance: {0}")]
    Unsupported(String),
    /// The symbol is not listed (or not trading) at the venue.
    #[error("unknown symbol at binance: {0}")]
    UnknownSymbol(String),
    /// A call needs an API key but none is configured.
    #[error("{0} needs an API key, and none is configured")]
    NoCredentials(&'static str),
    /// Bad configuration (a key file, an URL).
    #[error("configuration: {0}")]
    Config(String),
    /// The stream ended (venue closed it, subscription terminated, server shutdown notice).
    #[error("stream closed: {0}")]
    Closed(String),
    /// A prefix of our client ids (the bot name) holds a character Binance refuses in client
    /// order ids.
    #[error(
        "{field} {prefix:?} holds {character:?}, which Binance refuses in client order ids \
         (it accepts only A-Z, a-z, 0-9, '_' and '-'): choose a name without it"
    )]
    ClientIdPrefix {
        /// Which setting (`bot name`, `close_id_prefix`).
        field: &'static str,
        /// The prefix, verbatim.
        prefix: String,
        /// Its first refused character.
        character: char,
    },
}

impl BinanceError {
    /// Binance's error code, if the venue sent one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A decode failure, keeping at most [`MAX_PAYLOAD`] bytes of the payload.
    pub(crate) fn decode(what: &'static str, payload: &[u8], source: serde_json::Error) -> Self {
        Self::Decode {
            what,
            payload: truncate(payload),
            source,
        }
    }
}

/// The text of a payload cut to [`MAX_PAYLOAD`] bytes on a character boundary.
pub(crate) fn truncate(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    if text.len() <= MAX_PAYLOAD {
        return text.into_owned();
    }
    let mut end = MAX_PAYLOAD;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl From<BinanceError> for ExchangeError {
    fn from(e: BinanceError) -> Self {
        let text = e.to_string();
        match e {
            BinanceError::Api { status, code, msg } => from_code(status, code, msg, text),
            BinanceError::Http { status, .. } if status >= 500 => Self::OutcomeUnknown(text),
            BinanceError::Http { .. } => Self::Rejected { reason: text },
            BinanceError::RateLimited { retry_after } => Self::RateLimited { retry_after },
            BinanceError::Banned { remaining } => Self::RateLimited {
                retry_after: Some(remaining),
            },
            BinanceError::Timeout { .. } => Self::Timeout(text),
            BinanceError::Transport { .. } | BinanceError::WebSocket { .. } => {
                Self::Transport(text)
            }
            BinanceError::Decode { what, payload, .. } => Self::Malformed {
                reason: format!("could not decode {what}"),
                payload,
            },
            BinanceError::Parse(p) => Self::Malformed {
                reason: p.to_string(),
                payload: String::new(),
            },
            BinanceError::Value(v) => Self::Value(v),
            BinanceError::Unsupported(what) => Self::Unsupported(what),
            BinanceError::UnknownSymbol(_) => Self::Rejected { reason: text },
            BinanceError::NoCredentials(_) => Self::Auth(text),
            BinanceError::Config(_) => Self::Rejected { reason: text },
            BinanceError::Closed(_) => Self::Closed(text),
            BinanceError::ClientIdPrefix { .. } => Self::Rejected { reason: text },
        }
    }
}

/// Binance's error codes onto core's kinds (`errors.md`).
fn from_code(status: u16, code: i64, msg: String, text: String) -> ExchangeError {
    match code {
        // Unknown error, internal error, unexpected answer, backend timeout: the request may
        // have been carried out.
        -1000 | -1001 | -1006 | -1007 => ExchangeError::OutcomeUnknown(text),
        // Too much request weight / too many orders.
        -1003 | -1015 => ExchangeError::RateLimited { retry_after: None },
        // Bad signature, bad key, IP or permission.
        -1002 | -1022 | -2014 | -2015 => ExchangeError::Auth(text),
        // No such order (cancel / query), or an archived one.
        -2011 | -2013 | -2026 => ExchangeError::UnknownOrder(text),
        _ if status >= 500 => ExchangeError::OutcomeUnknown(text),
        // -1013 filter failure, -1021 timestamp, -2010 new order rejected, -11xx bad params;
        // futures: -4116 duplicate client id, -2022 reduce-only refused, -5022 post-only would
        // take, -4164 under the minimum notional, -4120 conditional type on the order endpoint.
        _ => ExchangeError::Rejected {
            reason: format!("{code}: {msg}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: i64) -> ExchangeError {
        BinanceError::Api {
            status,
            code,
            msg: "m".into(),
        }
        .into()
    }

    #[test]
    fn codes_map_to_core_kinds() {
        assert!(matches!(api(400, -1007), ExchangeError::OutcomeUnknown(_)));
        assert!(matches!(api(400, -1001), ExchangeError::OutcomeUnknown(_)));
        assert!(matches!(api(503, -9999), ExchangeError::OutcomeUnknown(_)));
        assert!(matches!(api(400, -2013), ExchangeError::UnknownOrder(_)));
        assert!(matches!(api(400, -2011), ExchangeError::UnknownOrder(_)));
        assert!(matches!(api(400, -2026), ExchangeError::UnknownOrder(_)));
        assert!(matches!(api(401, -2015), ExchangeError::Auth(_)));
        assert!(matches!(api(400, -1022), ExchangeError::Auth(_)));
        assert!(matches!(api(429, -1003), ExchangeError::RateLimited { .. }));
        let e = api(400, -2010);
        assert_eq!(
            e,
            ExchangeError::Rejected {
                reason: "-2010: m".into()
            }
        );
        assert!(!e.is_retryable());
        for code in [-4116, -2022, -5022, -4164, -4120] {
            let e = api(400, code);
            assert!(
                matches!(&e, ExchangeError::Rejected { reason } if reason.starts_with(&code.to_string())),
                "{code}: {e}"
            );
            assert!(!e.is_retryable() && !e.is_outcome_unknown());
        }
        let http: ExchangeError = BinanceError::Http {
            status: 502,
            body: "bad gateway".into(),
        }
        .into();
        assert!(http.is_outcome_unknown());
        let t: ExchangeError = BinanceError::Timeout { what: "x".into() }.into();
        assert!(matches!(t, ExchangeError::Timeout(_)));
        let b: ExchangeError = BinanceError::Banned {
            remaining: Duration::from_secs(3),
        }
        .into();
        assert_eq!(
            b,
            ExchangeError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
    }

    #[test]
    fn payloads_are_truncated_on_char_boundaries() {
        let long = "é".repeat(600);
        let t = truncate(long.as_bytes());
        assert!(t.len() <= MAX_PAYLOAD + 3);
        assert!(t.ends_with('…'));
        assert_eq!(truncate(b"short"), "short");
    }
}

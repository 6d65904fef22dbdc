//! A minimal HTTP/1.1 client for the ops endpoint (`rustrade status`, tests): one request per
//! connection over plain TCP, `Connection: close`, the whole body read. Enough for a loopback
//! endpoint that this crate serves itself; not a general HTTP client.

use std::time::Duration;

use rustrade::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response: status code and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    /// The HTTP status code.
    pub(crate) status: u16,
    /// The `Content-Type` header, if any.
    pub(crate) content_type: Option<String>,
    /// The body.
    pub(crate) body: String,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// The endpoint is not an `http://host:port` URL.
    #[error("--endpoint: expected http://HOST:PORT (got {0:?})")]
    BadUrl(String),
    /// Connecting, writing or reading failed.
    #[error("{endpoint}: {why}")]
    Io {
        /// The endpoint.
        endpoint: String,
        /// What went wrong.
        why: String,
    },
    /// The answer was not HTTP.
    #[error("{endpoint}: not an HTTP response")]
    Malformed {
        /// The endpoint.
        endpoint: String,
    },
}

/// `host:port` of an `http://host:port[/]` URL.
pub(crate) fn authority(endpoint: &str) -> Result<&str, ClientError> {
    let rest = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| ClientError::BadUrl(endpoint.to_owned()))?;
    let host = rest.trim_end_matches('/');
    if host.is_empty() || host.contains('/') || !host.contains(':') {
        return Err(ClientError::BadUrl(endpoint.to_owned()));
    }
    Ok(host)
}

/// Sends `method path` to `endpoint` (with `token` as a bearer token) and reads the response,
/// giving up after `timeout`.
pub(crate) async fn request(
    endpoint: &str,
    method: &str,
    path: &str,
    token: Option<&Secret>,
    timeout: Duration,
) -> Result<Response, ClientError> {
    let host = authority(endpoint)?;
    let io = |e: std::io::Error| ClientError::Io {
        endpoint: endpoint.to_owned(),
        why: e.to_string(),
    };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host).await.map_err(io)?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n"
        );
        if let Some(t) = token {
            head.push_str("Authorization: Bearer ");
            head.push_str(t.expose());
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(io)?;
        Ok::<_, ClientError>(raw)
    };
    let raw = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| ClientError::Io {
            endpoint: endpoint.to_owned(),
            why: format!("no answer within {timeout:?}"),
        })??;
    parse(&raw).ok_or_else(|| ClientError::Malformed {
        endpoint: endpoint.to_owned(),
    })
}

/// Parses a complete HTTP/1.1 response (identity or chunked body).
fn parse(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut chunked = false;
    let mut content_type = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_owned());
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Some(Response {
        status,
        content_type,
        body: String::from_utf8(body).ok()?,
    })
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_identity_and_chunked_bodies() {
        let r = parse(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello").unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "hello"));
        assert_eq!(r.content_type.as_deref(), Some("text/plain"));
        let r = parse(
            b"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_str()), (503, "abcde"));
        assert!(parse(b"garbage").is_none());
    }

    #[test]
    fn endpoints_are_http_host_port() {
        assert_eq!(
            authority("http://127.0.0.1:9184/").unwrap(),
            "127.0.0.1:9184"
        );
        assert!(authority("https://x:1").is_err());
        assert!(authority("http://x").is_err());
        assert!(authority("http://x:1/path").is_err());
    }
}

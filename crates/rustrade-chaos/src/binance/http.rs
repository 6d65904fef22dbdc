//! A minimal HTTP/1.1 server for the front's REST side: keep-alive connections, requests whose
//! parameters travel in the query string (as the adapter sends them), and one thing a web
//! framework will not do on purpose — close a connection without answering, the shape of an
//! answer lost on the way back.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::rest::{self, HttpReply};
use crate::venue::{SharedVenue, lock};

/// Longest request head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Accepts connections on `listener` until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, venue: SharedVenue) {
    crate::server::accept_each(listener, venue, connection).await;
}

async fn connection(tcp: TcpStream, venue: SharedVenue) {
    let _ = tcp.set_nodelay(true);
    let (read, mut write) = tcp.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let Some(request) = read_request(&mut reader).await else {
            return;
        };
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((request.target.as_str(), ""));
        let reply = rest::route(
            &mut lock(&venue),
            &request.method,
            path,
            query,
            request.api_key.as_deref(),
        );
        let Some(reply) = reply else {
            return;
        };
        if write.write_all(&encode(&reply)).await.is_err() {
            return;
        }
    }
}

struct Head {
    method: String,
    target: String,
    api_key: Option<String>,
}

/// The next request's head (its body, if any, is read and ignored); `None` at the end of the
/// connection or on a malformed request.
async fn read_request<R: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<Head> {
    let mut line = String::new();
    if reader.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut api_key = None;
    let mut length = 0usize;
    let mut total = line.len();
    loop {
        let mut header = String::new();
        let n = reader.read_line(&mut header).await.ok()?;
        total += n;
        if n == 0 || total > MAX_HEAD {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("x-mbx-apikey") {
            api_key = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        }
    }
    if length > 0 {
        let mut body = vec![0; length.min(MAX_HEAD)];
        reader.read_exact(&mut body).await.ok()?;
    }
    Some(Head {
        method,
        target,
        api_key,
    })
}

fn encode(reply: &HttpReply) -> Vec<u8> {
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let kind = if reply.body.starts_with('<') {
        "text/html"
    } else {
        "application/json"
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n",
        reply.status,
        reply.body.len()
    );
    if let Some(secs) = reply.retry_after {
        head.push_str(&format!("Retry-After: {secs}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(reply.body.as_bytes());
    out
}

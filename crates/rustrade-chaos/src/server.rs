//! [`VenueServer`]: the [`ChaosVenue`](crate::ChaosVenue) on a loopback TCP port, serving the
//! [`wire`](crate::wire) protocol, one task per connection.
//!
//! It runs in the harness process, so it outlives every bot process it serves.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::ChaosError;
use crate::venue::{SharedVenue, lock};
use crate::wire::{Hello, Request, Role};

/// A running venue server; stops when dropped.
#[derive(Debug)]
pub struct VenueServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl VenueServer {
    /// Binds `127.0.0.1:0` and serves `venue` until dropped.
    pub async fn start(venue: SharedVenue) -> Result<Self, ChaosError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| ChaosError::io("bind the venue server", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ChaosError::io("read the venue server's address", e))?;
        let accept = tokio::spawn(accept_each(listener, venue, serve));
        Ok(Self { addr, accept })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for VenueServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Serves every connection `listener` accepts with `connection` on its own task, dropping the
/// tasks that finished, until the accepting task is aborted (its connections go with it).
pub(crate) async fn accept_each<F, Fut>(listener: TcpListener, venue: SharedVenue, connection: F)
where
    F: Fn(TcpStream, SharedVenue) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = tokio::task::JoinSet::new();
    while let Ok((tcp, _)) = listener.accept().await {
        connections.spawn(connection(tcp, venue.clone()));
        while connections.try_join_next().is_some() {}
    }
}

async fn serve(stream: TcpStream, venue: SharedVenue) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "nodelay not set");
    }
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let Ok(Some(first)) = lines.next_line().await else {
        return;
    };
    let Ok(hello) = serde_json::from_str::<Hello>(&first) else {
        tracing::warn!(line = first, "bad hello; connection closed");
        return;
    };
    match hello.role {
        Role::Rpc => {
            while let Ok(Some(line)) = lines.next_line().await {
                let served = match serde_json::from_str::<Request>(&line) {
                    Ok(request) => lock(&venue).serve(request),
                    Err(e) => {
                        tracing::warn!(error = %e, line, "bad request; connection closed");
                        return;
                    }
                };
                let Some(reply) = served else {
                    return;
                };
                let Ok(mut text) = serde_json::to_string(&reply) else {
                    return;
                };
                text.push('\n');
                if write.write_all(text.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
        Role::Fills | Role::Market | Role::Clock => {
            let (tx, mut rx) = mpsc::unbounded_channel();
            {
                let mut v = lock(&venue);
                match hello.role {
                    Role::Fills => v.subscribe_fills(tx),
                    Role::Market => v.subscribe_market(hello.pid, tx),
                    _ => v.subscribe_clock(tx),
                }
            }
            // Stream lines until the venue drops the subscription (a close fault) or the
            // client goes away; a muted subscription simply never yields.
            loop {
                tokio::select! {
                    line = rx.recv() => {
                        let Some(mut line) = line else { break };
                        line.push('\n');
                        if write.write_all(line.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                    read = lines.next_line() => {
                        if !matches!(read, Ok(Some(_))) {
                            break;
                        }
                    }
                }
            }
            let _ = write.shutdown().await;
        }
    }
}

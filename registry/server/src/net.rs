//! Connections: a cap on how many are open at once, and an idle timeout.
//!
//! Without them one peer could hold every file descriptor with sockets that
//! never send a byte and lock every other client out. A connection over the
//! cap is closed as soon as it is accepted (the client sees it reset and
//! gets UNAVAILABLE), with a warning in the log at most once a second. A
//! connection from which nothing was read for the idle timeout is closed;
//! the server's HTTP/2 keep-alive pings make a live peer answer well within
//! it, so only silent or dead peers are cut.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures::{Stream, StreamExt};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore},
    time::{Instant, Sleep},
};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

/// The connection settings of a server.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// How long a connection may stay silent before it is closed.
    pub idle_timeout: Duration,
}

/// An accepted connection that gives its place back when closed, and
/// closes itself once nothing was read from it for the idle timeout.
#[derive(Debug)]
pub struct Guarded {
    stream: TcpStream,
    idle: Pin<Box<Sleep>>,
    idle_timeout: Duration,
    _place: OwnedSemaphorePermit,
}

impl Connected for Guarded {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    let deadline = Instant::now() + self.idle_timeout;
                    self.idle.as_mut().reset(deadline);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the connection was idle for longer than --idle-timeout",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Milliseconds since the Unix epoch of the last "too many connections"
/// warning, to log it at most once a second.
static LAST_WARNING: AtomicU64 = AtomicU64::new(0);

fn warn_full(peer: Option<SocketAddr>, limit: usize) {
    let now = u64::try_from(crate::model::now_millis()).unwrap_or(0);
    let last = LAST_WARNING.load(Ordering::Relaxed);
    if now.saturating_sub(last) >= 1000
        && LAST_WARNING
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            peer = peer.map(|p| p.to_string()).unwrap_or_default(),
            limit = limit as u64,
            "connection refused: --max-connections reached"
        );
    }
}

/// The connections `listener` accepts, within `limits`.
pub fn incoming(
    listener: TcpListener,
    limits: ConnectionLimits,
) -> impl Stream<Item = io::Result<Guarded>> + Send + 'static {
    let places = Arc::new(Semaphore::new(limits.max_connections));
    TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .filter_map(move |accepted| {
            let places = places.clone();
            async move {
                let stream = match accepted {
                    Ok(stream) => stream,
                    Err(e) => return Some(Err(e)),
                };
                match places.try_acquire_owned() {
                    Ok(place) => Some(Ok(Guarded {
                        stream,
                        idle: Box::pin(tokio::time::sleep(limits.idle_timeout)),
                        idle_timeout: limits.idle_timeout,
                        _place: place,
                    })),
                    Err(_) => {
                        warn_full(stream.peer_addr().ok(), limits.max_connections);
                        drop(stream);
                        None
                    }
                }
            }
        })
}

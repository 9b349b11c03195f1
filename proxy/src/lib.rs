//! `sentinel-proxy`: the one program that runs on the parent instance between
//! the host sidecar and the enclave.
//!
//! Node has no vsock sockets, so in production the TypeScript sidecar talks to
//! a Unix socket (or a loopback TCP port) and this proxy carries the bytes to
//! `vsock:<enclave CID>:<port>`. It forwards opaque bytes in both directions
//! and parses nothing: the enclave validates every frame itself, so the proxy
//! adds no trust and holds nothing worth stealing. It lives outside `enclave/`
//! so the tree shows the trust boundary: nothing here is in the enclave image.
//!
//! Upstreams are addresses (`vsock:CID:PORT` or `unix:PATH`), so the
//! forwarding path is exercised locally through a Unix upstream exactly as it
//! runs over vsock. A failed accept backs off exponentially (5 ms doubling to
//! 1 s) instead of spinning.
#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};

pub use sentinel_accept::{accept_loop, Backoff};

/// How long connecting to the enclave may take before the host connection is dropped.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A byte stream in either direction.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// Where the proxy listens for the host: a Unix socket, or TCP on a loopback address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Unix(PathBuf),
    /// Loopback only: the proxy authenticates nobody, so anything that can
    /// reach it can talk to the enclave (which still checks every frame).
    Tcp(SocketAddr),
}

impl std::str::FromStr for ListenAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("listen address: expected unix:PATH".into());
            }
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = s.strip_prefix("tcp:") {
            let addr: SocketAddr = addr
                .parse()
                .map_err(|_| format!("listen address `{s}`: expected tcp:IP:PORT (e.g. tcp:127.0.0.1:5000)"))?;
            if !addr.ip().is_loopback() {
                return Err(format!(
                    "listen address `{s}`: TCP is allowed on loopback only (127.0.0.0/8, ::1); the proxy authenticates nobody"
                ));
            }
            return Ok(ListenAddr::Tcp(addr));
        }
        Err(format!("listen address `{s}`: expected unix:PATH or tcp:IP:PORT"))
    }
}

/// Where the enclave is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upstream {
    Unix(PathBuf),
    Vsock { cid: u32, port: u32 },
}

impl std::str::FromStr for Upstream {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("upstream: expected unix:PATH".into());
            }
            return Ok(Upstream::Unix(PathBuf::from(path)));
        }
        if let Some(rest) = s.strip_prefix("vsock:") {
            let (cid, port) = rest.split_once(':').ok_or("vsock upstream: expected vsock:CID:PORT")?;
            let cid = cid.parse().map_err(|_| "vsock upstream: CID must be a number")?;
            let port = port.parse().map_err(|_| "vsock upstream: PORT must be a number")?;
            return Ok(Upstream::Vsock { cid, port });
        }
        Err(format!("upstream `{s}`: expected unix:PATH or vsock:CID:PORT"))
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upstream::Unix(path) => write!(f, "unix:{}", path.display()),
            Upstream::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
        }
    }
}

impl Upstream {
    /// One connection to the enclave, within [`CONNECT_TIMEOUT`].
    pub async fn connect(&self) -> io::Result<Box<dyn Stream>> {
        match tokio::time::timeout(CONNECT_TIMEOUT, self.connect_now()).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, format!("connecting to {self} timed out"))),
        }
    }

    async fn connect_now(&self) -> io::Result<Box<dyn Stream>> {
        match self {
            Upstream::Unix(path) => Ok(Box::new(tokio::net::UnixStream::connect(path).await?)),
            #[cfg(target_os = "linux")]
            Upstream::Vsock { cid, port } => {
                let addr = tokio_vsock::VsockAddr::new(*cid, *port);
                Ok(Box::new(tokio_vsock::VsockStream::connect(addr).await?))
            }
            #[cfg(not(target_os = "linux"))]
            Upstream::Vsock { .. } => Err(io::Error::other("vsock needs Linux")),
        }
    }
}

/// The bound listening socket.
pub enum ProxyListener {
    Unix { listener: UnixListener, path: PathBuf },
    Tcp(TcpListener),
}

impl ProxyListener {
    /// Binds `addr`; a stale Unix socket file left by a previous run is replaced.
    pub async fn bind(addr: &ListenAddr) -> io::Result<Self> {
        match addr {
            ListenAddr::Unix(path) => {
                if path.exists() {
                    std::fs::remove_file(path)?;
                }
                Ok(ProxyListener::Unix { listener: UnixListener::bind(path)?, path: path.clone() })
            }
            ListenAddr::Tcp(addr) => Ok(ProxyListener::Tcp(TcpListener::bind(addr).await?)),
        }
    }

    pub async fn accept(&self) -> io::Result<Box<dyn Stream>> {
        match self {
            ProxyListener::Unix { listener, .. } => Ok(Box::new(listener.accept().await?.0)),
            ProxyListener::Tcp(listener) => {
                let (stream, _) = listener.accept().await?;
                // Requests are small and latency-bound.
                stream.set_nodelay(true)?;
                Ok(Box::new(stream))
            }
        }
    }

    /// `unix:PATH` or `tcp:IP:PORT` (with the port actually bound).
    pub fn describe(&self) -> String {
        match self {
            ProxyListener::Unix { path, .. } => format!("unix:{}", path.display()),
            ProxyListener::Tcp(listener) => match listener.local_addr() {
                Ok(addr) => format!("tcp:{addr}"),
                Err(_) => "tcp".to_string(),
            },
        }
    }
}

impl Drop for ProxyListener {
    fn drop(&mut self) {
        if let ProxyListener::Unix { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Accepts host connections until `shutdown` and pipes each to its own upstream connection.
pub async fn run_proxy(listener: ProxyListener, upstream: Upstream, shutdown: impl Future<Output = ()>) {
    accept_loop(
        || listener.accept(),
        shutdown,
        |client| {
            tokio::spawn(forward(client, upstream.clone()));
        },
    )
    .await
}

/// Pipes one host connection to a fresh enclave connection until either side closes.
pub async fn forward(mut client: Box<dyn Stream>, upstream: Upstream) {
    match upstream.connect().await {
        Ok(mut enclave) => {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut enclave).await;
        }
        // Dropping the client closes it: the sidecar sees ENCLAVE_UNAVAILABLE and retries.
        Err(e) => tracing::warn!(error = %e, %upstream, "proxy cannot reach the enclave"),
    }
}

//! One transport interface over two sockets: vsock in production, a Unix
//! socket locally (there is no vsock loopback outside an enclave).
//!
//! The server only sees [`Listener::accept`] and a byte stream, so the code
//! that parses host input is identical in both modes. [`accept_loop`] is the
//! one accept loop both servers use: failed accepts (e.g. `EMFILE`) back off
//! exponentially instead of spinning.
use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixListener;

pub use sentinel_accept::{accept_loop, Backoff};

/// A connected host stream.
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Connection for T {}

pub enum Listener {
    Unix {
        listener: UnixListener,
        path: PathBuf,
    },
    #[cfg(feature = "hardware")]
    Vsock(tokio_vsock::VsockListener),
}

impl Listener {
    /// Binds a Unix socket, replacing a stale socket file left by a previous run.
    pub fn bind_unix(path: &Path) -> io::Result<Self> {
        if path.exists() {
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        Ok(Listener::Unix { listener, path: path.to_path_buf() })
    }

    /// Binds vsock `port` on any CID (the parent instance connects to CID of the enclave).
    #[cfg(feature = "hardware")]
    pub fn bind_vsock(port: u32) -> io::Result<Self> {
        let addr = tokio_vsock::VsockAddr::new(tokio_vsock::VMADDR_CID_ANY, port);
        Ok(Listener::Vsock(tokio_vsock::VsockListener::bind(addr)?))
    }

    pub async fn accept(&self) -> io::Result<Box<dyn Connection>> {
        match self {
            Listener::Unix { listener, .. } => Ok(Box::new(listener.accept().await?.0)),
            #[cfg(feature = "hardware")]
            Listener::Vsock(listener) => Ok(Box::new(listener.accept().await?.0)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Listener::Unix { path, .. } => format!("unix:{}", path.display()),
            #[cfg(feature = "hardware")]
            Listener::Vsock(listener) => match listener.local_addr() {
                Ok(addr) => format!("vsock:{}:{}", addr.cid(), addr.port()),
                Err(_) => "vsock".to_string(),
            },
        }
    }
}

impl Drop for Listener {
    // Irrefutable without the `hardware` feature, which adds the vsock variant.
    #[allow(irrefutable_let_patterns)]
    fn drop(&mut self) {
        if let Listener::Unix { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

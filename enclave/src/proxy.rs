//! Proxy mode: the same binary, run on the parent instance, bridges the host
//! sidecar's Unix socket to the enclave's vsock port.
//!
//! Node has no vsock sockets, so in production the TypeScript sidecar keeps
//! talking to a Unix socket and this proxy carries the bytes to
//! `vsock:<enclave CID>:<port>`. It forwards opaque bytes in both directions
//! and parses nothing: the enclave validates every frame itself, so the
//! proxy adds no trust. Upstreams are addresses (`vsock:CID:PORT` or
//! `unix:PATH`), so the forwarding path is exercised locally through a Unix
//! upstream exactly as it runs over vsock.
use std::future::Future;
use std::io;
use std::path::PathBuf;

use crate::transport::{Connection, Listener};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Upstream {
    Unix(PathBuf),
    Vsock { cid: u32, port: u32 },
}

impl std::str::FromStr for Upstream {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix:") {
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

impl Upstream {
    async fn connect(&self) -> io::Result<Box<dyn Connection>> {
        match self {
            Upstream::Unix(path) => Ok(Box::new(tokio::net::UnixStream::connect(path).await?)),
            #[cfg(feature = "hardware")]
            Upstream::Vsock { cid, port } => {
                let addr = tokio_vsock::VsockAddr::new(*cid, *port);
                Ok(Box::new(tokio_vsock::VsockStream::connect(addr).await?))
            }
            #[cfg(not(feature = "hardware"))]
            Upstream::Vsock { .. } => Err(io::Error::other("this build has no vsock transport (feature `hardware`)")),
        }
    }
}

/// Accepts host connections until `shutdown` and pipes each to its own upstream connection.
pub async fn run_proxy(listener: Listener, upstream: Upstream, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let mut client = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "proxy accept failed");
                        continue;
                    }
                };
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    match upstream.connect().await {
                        Ok(mut enclave) => {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut enclave).await;
                        }
                        // Dropping the client closes it: the sidecar sees ENCLAVE_UNAVAILABLE and retries.
                        Err(e) => tracing::warn!(error = %e, ?upstream, "proxy cannot reach the enclave"),
                    }
                });
            }
        }
    }
}

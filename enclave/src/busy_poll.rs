//! Busy-poll serving: one OS thread per connection that spins on a
//! non-blocking socket instead of sleeping in epoll.
//!
//! For latency-bound callers (trading desks) on dedicated cores. A sleeping
//! thread must be woken by the kernel when a request arrives, and on a VM a
//! wake-up on another vCPU costs tens of microseconds, more than a signature.
//! Spinning trades a whole core per connection for not paying that. The
//! request handling is shared with `server.rs` (`frames.rs`: same decoder,
//! same error frames, same `Enclave::handle`) and so are the [`Limits`]; only
//! the waiting differs. After `idle_spin` without input the thread falls back
//! to a blocking read, so an idle connection does not burn a core forever.
//!
//! It runs over both transports: a Unix socket locally and vsock in the
//! enclave (feature `hardware`), where the enclave's vCPUs are dedicated to
//! it. Both are plain blocking sockets that can be switched to non-blocking
//! mode ([`SpinStream`]); the loop below is written once against that.
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_protocol::{encode_response, FrameDecoder, ResponseFrame};

use crate::enclave::Enclave;
use crate::frames::{answer_frames, Batch};
use crate::server::{Gates, Limits};
use crate::sessions::ConnectionSessions;
use crate::transport::Backoff;

/// How long the refusal of a connection over the cap may take to write.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_millis(50);

/// A connected blocking socket the busy-poll loop can spin on.
pub trait SpinStream: Read + Write + Send + 'static {
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()>;
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl SpinStream for UnixStream {
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        UnixStream::set_nonblocking(self, nonblocking)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        UnixStream::set_write_timeout(self, timeout)
    }
}

#[cfg(feature = "hardware")]
impl SpinStream for vsock::VsockStream {
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        vsock::VsockStream::set_nonblocking(self, nonblocking)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        vsock::VsockStream::set_write_timeout(self, timeout)
    }
}

/// The blocking listener of the busy-poll server.
pub enum BusyPollListener {
    Unix {
        listener: UnixListener,
        /// Removed on drop when set (a socket file this listener created).
        path: Option<PathBuf>,
    },
    #[cfg(feature = "hardware")]
    Vsock(vsock::VsockListener),
}

impl From<UnixListener> for BusyPollListener {
    fn from(listener: UnixListener) -> Self {
        BusyPollListener::Unix { listener, path: None }
    }
}

impl BusyPollListener {
    /// Binds a Unix socket, replacing a stale socket file; the file is removed on drop.
    pub fn bind_unix(path: &Path) -> io::Result<Self> {
        if path.exists() {
            std::fs::remove_file(path)?;
        }
        Ok(BusyPollListener::Unix { listener: UnixListener::bind(path)?, path: Some(path.to_path_buf()) })
    }

    /// Binds vsock `port` on any CID.
    #[cfg(feature = "hardware")]
    pub fn bind_vsock(port: u32) -> io::Result<Self> {
        Ok(BusyPollListener::Vsock(vsock::VsockListener::bind_with_cid_port(vsock::VMADDR_CID_ANY, port)?))
    }

    pub fn describe(&self) -> String {
        match self {
            BusyPollListener::Unix { listener, path } => match (path, listener.local_addr()) {
                (Some(path), _) => format!("unix:{}", path.display()),
                (None, Ok(addr)) => match addr.as_pathname() {
                    Some(p) => format!("unix:{}", p.display()),
                    None => "unix".to_string(),
                },
                (None, Err(_)) => "unix".to_string(),
            },
            #[cfg(feature = "hardware")]
            BusyPollListener::Vsock(listener) => match listener.local_addr() {
                Ok(addr) => format!("vsock:{}:{}", addr.cid(), addr.port()),
                Err(_) => "vsock".to_string(),
            },
        }
    }
}

impl Drop for BusyPollListener {
    #[allow(irrefutable_let_patterns)]
    fn drop(&mut self) {
        if let BusyPollListener::Unix { path: Some(path), .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Serves `listener` forever, one spinning thread per accepted connection, at
/// most `limits.max_connections` at once. Failed accepts back off (capped
/// exponential, as in the async server); this function never returns.
pub fn serve_busy_poll(listener: BusyPollListener, enclave: Arc<Enclave>, idle_spin: Duration, limits: Limits) {
    let gates = Gates::new(limits);
    let mut backoff = Backoff::for_accept();
    loop {
        let accepted = match &listener {
            BusyPollListener::Unix { listener, .. } => {
                listener.accept().map(|(s, _)| spawn_connection(s, &enclave, &gates, idle_spin))
            }
            #[cfg(feature = "hardware")]
            BusyPollListener::Vsock(listener) => {
                listener.accept().map(|(s, _)| spawn_connection(s, &enclave, &gates, idle_spin))
            }
        };
        match accepted {
            Ok(()) => backoff.reset(),
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "busy-poll accept failed");
                std::thread::sleep(delay);
            }
        }
    }
}

fn spawn_connection<S: SpinStream>(mut stream: S, enclave: &Arc<Enclave>, gates: &Gates, idle_spin: Duration) {
    let permit = match gates.admit_connection() {
        Ok(permit) => permit,
        Err(refusal) => {
            // The socket is still blocking here; bound the write so the accept loop cannot stall.
            let _ = stream.set_write_timeout(Some(REFUSAL_WRITE_TIMEOUT));
            let _ = stream.write_all(&refusal);
            return; // dropping the stream closes it
        }
    };
    let (enclave, gates) = (enclave.clone(), gates.clone());
    std::thread::spawn(move || {
        let _permit = permit; // released when the connection ends
        let _ = handle(stream, &enclave, &gates, idle_spin);
    });
}

fn handle<S: SpinStream>(mut stream: S, enclave: &Enclave, gates: &Gates, idle_spin: Duration) -> io::Result<()> {
    let mut decoder = FrameDecoder::new();
    let mut sessions = ConnectionSessions::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);
    // The log size that must be durable before `out` is written (strict sessions), 0: none.
    let mut hold = 0u64;
    stream.set_nonblocking(true)?;
    let mut last_input = Instant::now();
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if last_input.elapsed() > idle_spin {
                    // Idle: sleep in the kernel until the next request, then spin again.
                    stream.set_nonblocking(false)?;
                    let n = stream.read(&mut buf)?;
                    stream.set_nonblocking(true)?;
                    if n == 0 {
                        return Ok(());
                    }
                    n
                } else {
                    std::hint::spin_loop();
                    continue;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        last_input = Instant::now();
        decoder.push(&buf[..n]);
        loop {
            // Attestation too is answered inline (this thread owns a core anyway),
            // within the same in-flight cap as the async server.
            let batch = answer_frames(&mut decoder, &mut out, |frame, out| {
                let _permit = if Enclave::is_slow(&frame.request) {
                    match gates.admit_attestation(frame.id) {
                        Ok(permit) => Some(permit),
                        Err(busy) => {
                            out.extend(busy);
                            return;
                        }
                    }
                } else {
                    None
                };
                let response = enclave.handle_on(&mut sessions, frame.request);
                if let Some(size) = enclave.hold_until(&response) {
                    hold = hold.max(size);
                }
                out.extend(encode_response(&ResponseFrame { id: frame.id, response }))
            });
            // Strict sessions: the answers wait, spinning, for their records to be durable.
            if hold > 0 {
                let since = Instant::now();
                while enclave.audit_log().durable() < hold {
                    if since.elapsed() > crate::server::DURABLE_WAIT {
                        tracing::warn!(
                            hold,
                            "session answers withheld: their audit records were not acknowledged in time"
                        );
                        return Err(ErrorKind::TimedOut.into());
                    }
                    std::hint::spin_loop();
                }
                hold = 0;
            }
            write_all_spinning(&mut stream, &out)?;
            out.clear();
            match batch {
                Batch::Drained => break,
                Batch::Yield => continue,
                Batch::Close => return Ok(()),
            }
        }
    }
}

/// `write_all` on a non-blocking socket: spins while the host's buffer is full
/// (backpressure on this connection only).
fn write_all_spinning(stream: &mut impl Write, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match stream.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::Interrupted => std::hint::spin_loop(),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

//! Busy-poll serving: one OS thread per connection that spins on a
//! non-blocking socket instead of sleeping in epoll.
//!
//! For latency-bound callers (trading desks) on dedicated cores. A sleeping
//! thread must be woken by the kernel when a request arrives, and on a VM a
//! wake-up on another vCPU costs tens of microseconds, more than a signature.
//! Spinning trades a whole core per connection for not paying that. The
//! request handling is shared with `server.rs` (`frames.rs`: same decoder,
//! same error frames, same `Enclave::handle`); only the waiting differs. Unix sockets only: the
//! production vsock path keeps the async server. After `idle_spin` without
//! input the thread falls back to a blocking read, so an idle connection does
//! not burn a core forever.
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_protocol::{encode_response, FrameDecoder, ResponseFrame};

use crate::enclave::Enclave;
use crate::frames::answer_frames;

/// Serves `listener` forever, one spinning thread per accepted connection.
pub fn serve_busy_poll(listener: UnixListener, enclave: Arc<Enclave>, idle_spin: Duration) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept()?;
        let enclave = enclave.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &enclave, idle_spin);
        });
    }
}

fn handle(mut stream: UnixStream, enclave: &Enclave, idle_spin: Duration) -> std::io::Result<()> {
    let mut decoder = FrameDecoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);
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
        // Attestation too is answered inline: this thread owns a core anyway.
        let open = answer_frames(&mut decoder, &mut out, |frame, out| {
            out.extend(encode_response(&ResponseFrame { id: frame.id, response: enclave.handle(frame.request) }))
        });
        write_all_spinning(&mut stream, &out)?;
        out.clear();
        if !open {
            return Ok(());
        }
    }
}

/// `write_all` on a non-blocking socket: spins while the host's buffer is full
/// (backpressure on this connection only).
fn write_all_spinning(stream: &mut UnixStream, mut data: &[u8]) -> std::io::Result<()> {
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

//! Serving connections: frames in, responses out, one task pair per connection.
//!
//! Each connection is one task that reads a batch of frames, answers them in
//! arrival order and writes the answers in one go: no per-request task
//! hand-off, which is what keeps a round trip close to the cost of the
//! signature itself. A slow or dead host connection blocks only its own task
//! (while its answers cannot be written, it is not read either); other
//! connections never wait on it. Bad input gets an error frame; only a length
//! prefix over the cap closes the connection, since the stream cannot be
//! resynchronised after it. Attestation (milliseconds of P-384 work) runs on
//! the blocking pool so it does not stall the connection's other requests.
use std::future::Future;
use std::sync::Arc;

use sentinel_protocol::{encode_response, FrameDecoder, Request, RequestFrame, ResponseFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::enclave::Enclave;
use crate::frames::{answer_frames, error_frame};
use crate::transport::{Connection, Listener};

/// Slow-operation answers a connection may have queued.
const LATE_QUEUE: usize = 64;
const READ_BUFFER: usize = 64 * 1024;

/// Accepts connections until `shutdown` completes.
pub async fn serve(
    listener: Listener,
    enclave: Arc<Enclave>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(conn) => { tokio::spawn(handle_connection(conn, enclave.clone())); }
                // Transient accept errors (e.g. EMFILE) must not take the enclave down.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    }
}

async fn handle_connection(conn: Box<dyn Connection>, enclave: Arc<Enclave>) {
    let (mut reader, mut writer) = tokio::io::split(conn);
    // Only slow operations (attestation) answer through this queue; everything
    // else is answered inline, so a request costs no task hand-off.
    let (late_tx, mut late_rx) = mpsc::channel::<Vec<u8>>(LATE_QUEUE);
    let mut decoder = FrameDecoder::new();
    let mut buf = vec![0u8; READ_BUFFER];
    let mut out = Vec::with_capacity(READ_BUFFER);
    loop {
        tokio::select! {
            biased;
            read = reader.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                decoder.push(&buf[..n]);
                if !answer_frames(&mut decoder, &mut out, |frame, out| answer(frame, &enclave, &late_tx, out)) {
                    let _ = writer.write_all(&out).await;
                    break;
                }
            }
            Some(frame) = late_rx.recv() => out.extend_from_slice(&frame),
        }
        // One write per batch of requests. While the host does not read, this
        // waits, and so does reading from this connection: backpressure that
        // stays on this connection.
        if !out.is_empty() {
            if writer.write_all(&out).await.is_err() {
                break;
            }
            out.clear();
        }
    }
    let _ = writer.shutdown().await;
}

/// The async server's answer to one decoded request: attestation (milliseconds
/// of P-384 work) goes to the blocking pool and comes back through `late_tx`;
/// everything else is answered inline into `out`.
fn answer(frame: RequestFrame, enclave: &Arc<Enclave>, late_tx: &mpsc::Sender<Vec<u8>>, out: &mut Vec<u8>) {
    let id = frame.id;
    if !matches!(frame.request, Request::Attest { .. }) {
        out.extend(encode_response(&ResponseFrame { id, response: enclave.handle(frame.request) }));
        return;
    }
    let (enclave, late_tx) = (enclave.clone(), late_tx.clone());
    tokio::spawn(async move {
        let response = tokio::task::spawn_blocking(move || enclave.handle(frame.request)).await;
        let reply = match response {
            Ok(response) => encode_response(&ResponseFrame { id, response }),
            Err(_) => error_frame(id, "INTERNAL", "attestation task failed".into()),
        };
        let _ = late_tx.send(reply).await;
    });
}

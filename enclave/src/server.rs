//! Serving connections: frames in, responses out, one task pair per connection.
//!
//! Each connection is one task that reads a batch of frames, answers them in
//! arrival order and writes the answers in one go (or every `WRITE_AFTER`
//! while a batch of slow requests is answered): no per-request task
//! hand-off, which is what keeps a round trip close to the cost of the
//! signature itself. A slow or dead host connection blocks only its own task
//! (while its answers cannot be written, it is not read either); other
//! connections never wait on it. Bad input gets an error frame; only a length
//! prefix over the cap closes the connection, since the stream cannot be
//! resynchronised after it. Attestation (milliseconds of P-384 work) runs on
//! the blocking pool so it does not stall the connection's other requests.
//!
//! Resource limits on what the untrusted host can make the enclave hold
//! ([`Limits`]): connections open at once (one more is answered with one
//! `TOO_MANY_CONNECTIONS` error frame, id 0, and closed) and attestation
//! requests in flight across all connections (one more is answered with an
//! `ENCLAVE_BUSY` error frame carrying its request id; the connection stays
//! open). The busy-poll server applies the same limits.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sentinel_protocol::{encode_response, EnclaveErrorCode, FrameDecoder, RequestFrame, ResponseFrame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::enclave::Enclave;
use crate::frames::{answer_frames, error_frame, Batch};
use crate::sessions::ConnectionSessions;
use crate::transport::{accept_loop, Connection, Listener};

/// Slow-operation answers a connection may have queued.
const LATE_QUEUE: usize = 64;
const READ_BUFFER: usize = 64 * 1024;
/// How long the refusal of a connection over the cap may take to write.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_millis(50);
/// How long a session answer waits for its audit record to be durable (`--audit-strict-sessions`)
/// before the connection is closed instead: a signature never leaves without its record.
pub(crate) const DURABLE_WAIT: Duration = Duration::from_secs(10);

/// Caps on what the host can make the enclave hold at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Host connections served at once (`--max-connections`).
    pub max_connections: usize,
    /// `attest` requests being answered at once, over all connections (`--max-attestations-in-flight`).
    pub max_attestations_in_flight: usize,
}

impl Limits {
    pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
    pub const DEFAULT_MAX_ATTESTATIONS_IN_FLIGHT: usize = 8;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_attestations_in_flight: Self::DEFAULT_MAX_ATTESTATIONS_IN_FLIGHT,
        }
    }
}

/// The permits behind [`Limits`], shared by every connection of one server.
#[derive(Clone, Debug)]
pub(crate) struct Gates {
    limits: Limits,
    connections: Arc<Semaphore>,
    attestations: Arc<Semaphore>,
}

impl Gates {
    pub(crate) fn new(limits: Limits) -> Self {
        Gates {
            limits,
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            attestations: Arc::new(Semaphore::new(limits.max_attestations_in_flight)),
        }
    }

    /// A permit held for the life of one connection, or the refusal frame to send before closing it.
    pub(crate) fn admit_connection(&self) -> Result<OwnedSemaphorePermit, Vec<u8>> {
        self.connections.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!(limit = self.limits.max_connections, "refusing a connection: too many open");
            error_frame(
                0,
                EnclaveErrorCode::TooManyConnections.as_str(),
                format!("the enclave serves at most {} connections at once", self.limits.max_connections),
            )
        })
    }

    /// A permit held while one attestation is computed, or the `ENCLAVE_BUSY` answer for request `id`.
    pub(crate) fn admit_attestation(&self, id: u64) -> Result<OwnedSemaphorePermit, Vec<u8>> {
        self.attestations.clone().try_acquire_owned().map_err(|_| {
            error_frame(
                id,
                EnclaveErrorCode::EnclaveBusy.as_str(),
                format!(
                    "{} attestation requests are in flight (the limit); retry later",
                    self.limits.max_attestations_in_flight
                ),
            )
        })
    }
}

/// Accepts connections until `shutdown` completes, with the default [`Limits`].
pub async fn serve(
    listener: Listener,
    enclave: Arc<Enclave>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_with_limits(listener, enclave, Limits::default(), shutdown).await
}

/// Accepts connections until `shutdown` completes, enforcing `limits`.
pub async fn serve_with_limits(
    listener: Listener,
    enclave: Arc<Enclave>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let gates = Gates::new(limits);
    accept_loop(
        || listener.accept(),
        shutdown,
        |conn| match gates.admit_connection() {
            Ok(permit) => {
                tokio::spawn(handle_connection(conn, enclave.clone(), gates.clone(), permit));
            }
            Err(refusal) => {
                tokio::spawn(refuse(conn, refusal));
            }
        },
    )
    .await;
    Ok(())
}

/// Writes the refusal frame (bounded in time: a host that does not read gets
/// nothing) and closes. Holds no permit: refusals are cheap and short.
async fn refuse(mut conn: Box<dyn Connection>, refusal: Vec<u8>) {
    let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
        let _ = conn.write_all(&refusal).await;
        let _ = conn.shutdown().await;
    })
    .await;
}

async fn handle_connection(
    conn: Box<dyn Connection>,
    enclave: Arc<Enclave>,
    gates: Gates,
    permit: OwnedSemaphorePermit,
) {
    // Released when this task ends, i.e. when the connection is closed.
    let _permit = permit;
    let (mut reader, mut writer) = tokio::io::split(conn);
    // Only slow operations (attestation) answer through this queue; everything
    // else is answered inline, so a request costs no task hand-off.
    let (late_tx, mut late_rx) = mpsc::channel::<Vec<u8>>(LATE_QUEUE);
    let mut decoder = FrameDecoder::new();
    let mut sessions = ConnectionSessions::default();
    let mut buf = vec![0u8; READ_BUFFER];
    let mut out = Vec::with_capacity(READ_BUFFER);
    // The log size that must be durable before `out` is written (strict sessions), 0: none.
    let mut hold = 0u64;
    'serve: loop {
        tokio::select! {
            biased;
            read = reader.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                decoder.push(&buf[..n]);
                loop {
                    let batch = answer_frames(&mut decoder, &mut out, |frame, out| {
                        answer(frame, &enclave, &mut sessions, &gates, &late_tx, &mut hold, out)
                    });
                    if batch == Batch::Drained {
                        break;
                    }
                    // Part of a batch (or its end before closing) goes out now.
                    if !hold_for_durable(&enclave, std::mem::take(&mut hold)).await
                        || writer.write_all(&out).await.is_err()
                        || batch == Batch::Close
                    {
                        break 'serve;
                    }
                    out.clear();
                }
            }
            Some(frame) = late_rx.recv() => out.extend_from_slice(&frame),
        }
        // Strict sessions: the batch waits for its records (answers keep their order).
        if !hold_for_durable(&enclave, std::mem::take(&mut hold)).await {
            break;
        }
        // One write per batch of requests (or per WRITE_AFTER of answers). While the host does
        // not read, this waits, and so does reading from this connection: backpressure that
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

/// Waits until records `0..hold` are durable (at most [`DURABLE_WAIT`]); `false` when they are
/// not by then: the connection is closed with the batch unwritten.
async fn hold_for_durable(enclave: &Enclave, hold: u64) -> bool {
    if hold == 0 || enclave.audit_log().durable() >= hold {
        return true;
    }
    let held = tokio::time::timeout(DURABLE_WAIT, enclave.audit_log().wait_durable(hold)).await.is_ok();
    if !held {
        tracing::warn!(hold, "session answers withheld: their audit records were not acknowledged in time; closing");
    }
    held
}

/// The async server's answer to one decoded request: attestation and
/// configuration updates (milliseconds of P-384 work) go to the blocking pool, within the in-flight cap, and
/// comes back through `late_tx`; everything else is answered inline into `out`.
fn answer(
    frame: RequestFrame,
    enclave: &Arc<Enclave>,
    sessions: &mut ConnectionSessions,
    gates: &Gates,
    late_tx: &mpsc::Sender<Vec<u8>>,
    hold: &mut u64,
    out: &mut Vec<u8>,
) {
    let id = frame.id;
    if !Enclave::is_slow(&frame.request) {
        let response = enclave.handle_on(sessions, frame.request);
        if let Some(size) = enclave.hold_until(&response) {
            *hold = (*hold).max(size);
        }
        out.extend(encode_response(&ResponseFrame { id, response }));
        return;
    }
    let permit = match gates.admit_attestation(id) {
        Ok(permit) => permit,
        Err(busy) => {
            out.extend(busy);
            return;
        }
    };
    let (enclave, late_tx) = (enclave.clone(), late_tx.clone());
    tokio::spawn(async move {
        let response = tokio::task::spawn_blocking(move || {
            let _permit = permit; // held until the document is computed
            enclave.handle(frame.request)
        })
        .await;
        let reply = match response {
            Ok(response) => encode_response(&ResponseFrame { id, response }),
            Err(_) => error_frame(id, EnclaveErrorCode::Internal.as_str(), "attestation task failed".into()),
        };
        let _ = late_tx.send(reply).await;
    });
}

//! Resource limits on what the untrusted host can make the enclave hold:
//! connections open at once (`TOO_MANY_CONNECTIONS`, then closed) and
//! attestations in flight (`ENCLAVE_BUSY` with the request id), for the async
//! server and the busy-poll server. (The accept backoff is unit-tested in
//! `crates/accept`: it needs a listener whose accept fails.)
//!
//! Needs the simulator feature set: `cargo test -p sentinel-enclave --no-default-features --features simulator`.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentinel_enclave::{serve_with_limits, Enclave, Limits, Listener};
use sentinel_protocol::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::oneshot;

mod common;
use common::{error_code, read_response};

/// An enclave with the development configuration (attestation needs one).
fn enclave(dir: &std::path::Path) -> Arc<Enclave> {
    let enclave = common::simulated_enclave(dir, b"limits", "limits").0;
    common::install_dev_config(&enclave);
    enclave
}

struct Running {
    socket: std::path::PathBuf,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

async fn start(limits: Limits) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let enclave = enclave(dir.path());
    let socket = dir.path().join("enclave.sock");
    let listener = Listener::bind_unix(&socket).unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_with_limits(listener, enclave, limits, async {
        let _ = stopped.await;
    }));
    Running { socket, _stop: stop, _dir: dir }
}

async fn ping(stream: &mut UnixStream, id: u64) {
    stream
        .write_all(&encode_request(&RequestFrame { id, request: Request::Ping(PingArgs { payload: vec![] }) }))
        .await
        .unwrap();
    let f = tokio::time::timeout(Duration::from_secs(5), read_response(stream)).await.unwrap();
    assert_eq!((f.id, f.response), (id, Response::Pong(Pong { payload: vec![] })));
}

#[tokio::test]
async fn connections_over_the_cap_get_one_error_frame_then_close() {
    let enclave = start(Limits { max_connections: 2, ..Limits::default() }).await;
    let mut a = UnixStream::connect(&enclave.socket).await.unwrap();
    let mut b = UnixStream::connect(&enclave.socket).await.unwrap();
    ping(&mut a, 1).await;
    ping(&mut b, 2).await;

    let mut refused = UnixStream::connect(&enclave.socket).await.unwrap();
    let f = tokio::time::timeout(Duration::from_secs(5), read_response(&mut refused)).await.unwrap();
    assert_eq!((f.id, error_code(&f.response)), (0, "TOO_MANY_CONNECTIONS"));
    let Response::Error(ErrorAnswer { message, .. }) = &f.response else { unreachable!() };
    assert!(message.contains("at most 2 connections"), "{message}");
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), refused.read_to_end(&mut rest)).await.unwrap().unwrap();
    assert_eq!(n, 0, "nothing after the refusal: the enclave closed the connection");

    // The admitted connections are unaffected; closing one frees its slot.
    ping(&mut a, 3).await;
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = UnixStream::connect(&enclave.socket).await.unwrap();
        c.write_all(&encode_request(&RequestFrame { id: 4, request: Request::Ping(PingArgs { payload: vec![] }) }))
            .await
            .unwrap();
        let f = tokio::time::timeout(Duration::from_secs(5), read_response(&mut c)).await.unwrap();
        if f.response == (Response::Pong(Pong { payload: vec![] })) {
            break;
        }
        assert_eq!(error_code(&f.response), "TOO_MANY_CONNECTIONS");
        assert!(Instant::now() < deadline, "the closed connection's slot was never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn attestations_over_the_in_flight_cap_get_enclave_busy_with_their_ids() {
    let enclave = start(Limits { max_attestations_in_flight: 1, ..Limits::default() }).await;
    let mut s = UnixStream::connect(&enclave.socket).await.unwrap();
    // Twenty attestations in one write: they are decoded in one batch, before the first
    // (on the blocking pool) can finish, so exactly one is admitted.
    let mut burst = Vec::new();
    for id in 1..=20u64 {
        burst.extend(encode_request(&RequestFrame {
            id,
            request: Request::Attest(AttestArgs { nonce: vec![id as u8; 16] }),
        }));
    }
    // A ping after them is answered as usual, inline.
    burst.extend(encode_request(&RequestFrame { id: 99, request: Request::Ping(PingArgs { payload: vec![] }) }));
    s.write_all(&burst).await.unwrap();
    let mut documents = Vec::new();
    let mut busy = Vec::new();
    let mut pong = false;
    for _ in 0..21 {
        let f = tokio::time::timeout(Duration::from_secs(10), read_response(&mut s)).await.unwrap();
        match f.response {
            Response::Attestation { .. } => documents.push(f.id),
            Response::Pong { .. } => pong = f.id == 99,
            ref other => {
                assert_eq!(error_code(other), "ENCLAVE_BUSY", "id {}", f.id);
                busy.push(f.id);
            }
        }
    }
    assert!(pong);
    assert_eq!(documents, vec![1], "the first attestation is admitted");
    assert_eq!(busy, (2..=20).collect::<Vec<_>>(), "every other one is refused, with its own id");

    // The permit is released once the document is computed: the next request is served.
    s.write_all(&encode_request(&RequestFrame { id: 21, request: Request::Attest(AttestArgs { nonce: vec![7; 16] }) }))
        .await
        .unwrap();
    let f = tokio::time::timeout(Duration::from_secs(10), read_response(&mut s)).await.unwrap();
    assert_eq!(f.id, 21);
    assert!(matches!(f.response, Response::Attestation { .. }), "{:?}", f.response);
}

/// The in-flight cap is shared by all connections, not per connection.
#[tokio::test]
async fn the_attestation_cap_spans_connections() {
    let enclave = start(Limits { max_attestations_in_flight: 2, ..Limits::default() }).await;
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(UnixStream::connect(&enclave.socket).await.unwrap());
    }
    let mut burst = Vec::new();
    for id in 1..=4u64 {
        burst.extend(encode_request(&RequestFrame { id, request: Request::Attest(AttestArgs { nonce: vec![1; 16] }) }));
    }
    for c in &mut conns {
        c.write_all(&burst).await.unwrap();
    }
    let (mut documents, mut busy) = (0, 0);
    for c in &mut conns {
        for _ in 0..4 {
            let f = tokio::time::timeout(Duration::from_secs(10), read_response(c)).await.unwrap();
            match f.response {
                Response::Attestation { .. } => documents += 1,
                ref other => {
                    assert_eq!(error_code(other), "ENCLAVE_BUSY");
                    busy += 1
                }
            }
        }
    }
    assert_eq!(documents + busy, 12);
    assert!(busy >= 2, "3 connections x 4 attestations against a cap of 2: some must be refused");
    assert!(documents >= 2, "the cap admits up to 2 at once");
}

#[test]
fn busy_poll_enforces_the_connection_cap() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = enclave(dir.path());
    let path = dir.path().join("busy.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let limits = Limits { max_connections: 1, max_attestations_in_flight: 1 };
    std::thread::spawn(move || {
        sentinel_enclave::busy_poll::serve_busy_poll(listener.into(), enclave, Duration::from_millis(5), limits)
    });
    let read_frame = |s: &mut std::os::unix::net::UnixStream| {
        let mut header = [0u8; 4];
        s.read_exact(&mut header).unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
        s.read_exact(&mut body).unwrap();
        decode_response(&body).unwrap()
    };
    let mut first = std::os::unix::net::UnixStream::connect(&path).unwrap();
    first.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    first
        .write_all(&encode_request(&RequestFrame { id: 1, request: Request::Ping(PingArgs { payload: vec![] }) }))
        .unwrap();
    assert_eq!(read_frame(&mut first).response, Response::Pong(Pong { payload: vec![] }));

    let mut second = std::os::unix::net::UnixStream::connect(&path).unwrap();
    second.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let f = read_frame(&mut second);
    assert_eq!((f.id, error_code(&f.response)), (0, "TOO_MANY_CONNECTIONS"));
    let mut rest = Vec::new();
    assert_eq!(second.read_to_end(&mut rest).unwrap(), 0, "closed after the refusal");

    // The admitted connection still attests (inline on its thread, within the in-flight cap).
    first
        .write_all(&encode_request(&RequestFrame {
            id: 2,
            request: Request::Attest(AttestArgs { nonce: vec![2; 16] }),
        }))
        .unwrap();
    let f = read_frame(&mut first);
    assert_eq!(f.id, 2);
    assert!(matches!(f.response, Response::Attestation { .. }), "{:?}", f.response);
}

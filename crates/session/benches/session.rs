//! Cost of an attested session in the Rust core: the handshake (each side and
//! both together, authentication frame included) and the per-request framing
//! (seal + open of a 100-byte frame, one way and a full round trip). The
//! target is that a session round trip costs at most 1.10x an unauthenticated
//! one (~60 µs end to end), i.e. a few µs of framing. Same harness as
//! crates/signer/benches/sign.rs (the workspace has no criterion): prints one
//! JSON line; `BENCH_ITERATIONS` sets the frame iterations (handshakes run a
//! tenth as many).
//!   cargo bench -p sentinel-session --bench session
use std::hint::black_box;
use std::time::Instant;

use sentinel_session::{ClientSession, Initiator, Responder, ServerSession, SessionSecret};

const HASH: [u8; 32] = [0xa7; 32];
const NOW: u64 = 1_760_000_000_000_000;

fn per_op_ns(iterations: u32, mut op: impl FnMut(u32)) -> f64 {
    for i in 0..iterations / 10 {
        op(i);
    }
    let start = Instant::now();
    for i in 0..iterations {
        op(i);
    }
    start.elapsed().as_nanos() as f64 / f64::from(iterations)
}

/// Ephemeral bytes that differ per iteration (a real caller draws them from its CSPRNG).
fn entropy(i: u32, side: u8) -> [u8; 32] {
    let mut e = [side; 32];
    e[..4].copy_from_slice(&i.to_le_bytes());
    e
}

fn handshake(secret: &SessionSecret, i: u32) -> (ClientSession, ServerSession) {
    let (init, m1) = Initiator::new(&secret.public(), &HASH, entropy(i, 1)).expect("initiator");
    let (mut hs, m2) = Responder::respond(secret, &HASH, &m1, entropy(i, 2)).expect("respond");
    let client = init.finish(&m2).expect("finish");
    let (client, auth) = client.authenticate("desk-7", &[0x5a; 64]).expect("authenticate");
    hs.open_auth(&auth).expect("open_auth");
    (client, hs.establish("desk-7", NOW, 3_600_000_000).expect("establish"))
}

fn main() {
    let iterations: u32 = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
    let hs_iterations = (iterations / 10).max(100);
    let secret = SessionSecret::from_bytes([0x11; 32]);
    let public = secret.public();

    let client_start_ns = per_op_ns(hs_iterations, |i| {
        black_box(Initiator::new(black_box(&public), &HASH, entropy(i, 1)).expect("initiator"));
    });
    let msg1s: Vec<Vec<u8>> =
        (0..hs_iterations).map(|i| Initiator::new(&public, &HASH, entropy(i, 1)).expect("initiator").1).collect();
    let server_respond_ns = per_op_ns(hs_iterations, |i| {
        let m1 = &msg1s[i as usize % msg1s.len()];
        black_box(Responder::respond(&secret, &HASH, black_box(m1), entropy(i, 2)).expect("respond"));
    });
    let handshake_ns = per_op_ns(hs_iterations, |i| {
        black_box(handshake(&secret, i));
    });

    // One signing request per frame: 100 bytes, buffers reused as a connection task would.
    let (mut client, mut server) = handshake(&secret, 0);
    let request = [0x42u8; 100];
    let (mut wire, mut plain) = (Vec::with_capacity(256), Vec::with_capacity(256));
    let seal_open_100_ns = per_op_ns(iterations, |_| {
        wire.clear();
        client.seal(black_box(&request), &mut wire).expect("seal");
        plain.clear();
        server.open(black_box(&wire), &mut plain, NOW).expect("open");
        black_box(&plain);
    });
    let seal_100_only = {
        let (mut c, _) = handshake(&secret, 1);
        per_op_ns(iterations, |_| {
            wire.clear();
            c.seal(black_box(&request), &mut wire).expect("seal");
            black_box(&wire);
        })
    };
    let round_trip_100_ns = per_op_ns(iterations, |_| {
        wire.clear();
        client.seal(black_box(&request), &mut wire).expect("seal");
        plain.clear();
        server.open(&wire, &mut plain, NOW).expect("open");
        wire.clear();
        server.seal(black_box(&plain[..70]), &mut wire).expect("seal");
        plain.clear();
        client.open(&wire, &mut plain).expect("open");
        black_box(&plain);
    });
    // A 128 KiB transaction body (three Noise messages).
    let big = vec![0x42u8; 128 * 1024];
    let big_iterations = (iterations / 100).max(100);
    let seal_open_128k_ns = per_op_ns(big_iterations, |_| {
        wire.clear();
        client.seal(black_box(&big), &mut wire).expect("seal");
        plain.clear();
        server.open(&wire, &mut plain, NOW).expect("open");
        black_box(&plain);
    });
    println!(
        "{{\"client_start_ns\":{client_start_ns:.1},\"server_respond_ns\":{server_respond_ns:.1},\"handshake_both_sides_ns\":{handshake_ns:.1},\"seal_100_ns\":{seal_100_only:.1},\"seal_open_100_ns\":{seal_open_100_ns:.1},\"round_trip_100_70_ns\":{round_trip_100_ns:.1},\"seal_open_128k_ns\":{seal_open_128k_ns:.1},\"iterations\":{iterations},\"handshake_iterations\":{hs_iterations}}}"
    );
}

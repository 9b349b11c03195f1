//! The host as an attacker. The host relays every frame between clients and
//! the enclave, so it can change, replay, reorder, drop, inject and redirect
//! them. This test puts a relay between a client (`sentinel_client`, over a
//! Unix socket) and the enclave's Unix socket; the relay parses frames with
//! `FrameDecoder` and runs one attack per row. Each row records what the relay
//! did and what came back (a refusal code or a broken session), and asserts
//! that the attack got nothing signed: `Enclave::signatures_released` moved
//! only by the legitimate requests of the row, and no signature or signed
//! transaction answered an attacked request. The last row searches every byte
//! the relay carried for the plaintext of session requests and of an HPKE
//! import.
//!
//! `cargo test -p sentinel-enclave --no-default-features --features simulator --test hostile_host -- --nocapture`
//! prints the table.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentinel_client::{verify_evidence, Client, ClientError, Session, VerifiedEvidence};
use sentinel_config::{Alg, Credential, CredentialKind};
use sentinel_enclave::{serve, Enclave, Listener};
use sentinel_protocol::*;

mod common;
use common::{fresh_nonce, import_op, now_ms, now_us};

// ---------------------------------------------------------------- the enclave

struct Harness {
    enclave: Arc<Enclave>,
    root_der: Vec<u8>,
    socket: PathBuf,
    dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

/// An enclave with the development configuration, serving on a Unix socket.
fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, root_der) = common::simulated_enclave(dir.path(), b"hostile host image", "hostile");
    common::install_dev_config(&enclave);
    let socket = dir.path().join("enclave.sock");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = runtime.block_on(async { Listener::bind_unix(&socket) }).unwrap();
    runtime.spawn(serve(listener, enclave.clone(), std::future::pending::<()>()));
    Harness { enclave, root_der, socket, dir, _runtime: runtime }
}

impl Harness {
    /// A key of the development principal, made without the relay.
    fn key(&self, curve: Curve, purpose: KeyPurpose) -> String {
        let op = Operation::GenerateKey(GenerateKeyArgs { curve, purpose, label: "k".into() });
        match common::receipted(self.enclave.handle(common::stamped(&op))).0 {
            Response::KeyGenerated(k) => k.key_id,
            other => panic!("{other:?}"),
        }
    }

    fn direct(&self) -> Client<UnixStream> {
        connect(&self.socket)
    }

    fn signed(&self) -> u64 {
        self.enclave.signatures_released()
    }
}

fn connect(path: &Path) -> Client<UnixStream> {
    let stream = UnixStream::connect(path).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    Client::new(stream)
}

// ------------------------------------------------------------------ the relay

/// The relay's side of one client connection: the upstream connection(s) to
/// the enclave, the client, and everything carried.
struct Hop {
    up: UnixStream,
    other: Option<UnixStream>,
    enclave_socket: PathBuf,
    down: UnixStream,
    log: Arc<Mutex<Vec<u8>>>,
    /// Request frame bodies the client sent so far (before this one).
    seen: Vec<Vec<u8>>,
    held: Vec<Vec<u8>>,
}

fn read_body(stream: &mut UnixStream) -> Vec<u8> {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
    stream.read_exact(&mut body).unwrap();
    body
}

impl Hop {
    /// Sends a request body upstream (on `other` if asked) and returns the answer body.
    fn exchange_on(&mut self, other: bool, body: &[u8]) -> Vec<u8> {
        let frame = encode_frame(body);
        self.log.lock().unwrap().extend_from_slice(&frame);
        let stream = if other {
            if self.other.is_none() {
                let s = UnixStream::connect(&self.enclave_socket).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                self.other = Some(s);
            }
            self.other.as_mut().unwrap()
        } else {
            &mut self.up
        };
        stream.write_all(&frame).unwrap();
        let answer = read_body(stream);
        self.log.lock().unwrap().extend_from_slice(&answer);
        answer
    }

    fn exchange(&mut self, body: &[u8]) -> Vec<u8> {
        self.exchange_on(false, body)
    }

    fn deliver(&mut self, answer: &[u8]) {
        self.down.write_all(&encode_frame(answer)).unwrap();
    }

    fn forward(&mut self, body: &[u8]) {
        let answer = self.exchange(body);
        self.deliver(&answer);
    }

    fn forward_other(&mut self, body: &[u8]) {
        let answer = self.exchange_on(true, body);
        self.deliver(&answer);
    }
}

type Policy = Box<dyn FnMut(&mut Hop, Vec<u8>) + Send>;

struct Relay {
    socket: PathBuf,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    fn client(&self) -> Client<UnixStream> {
        connect(&self.socket)
    }

    fn carried(&self) -> Vec<u8> {
        self.log.lock().unwrap().clone()
    }
}

/// Starts a relay for one client connection that hands every request frame to `policy`.
fn relay(h: &Harness, name: &str, mut policy: Policy) -> Relay {
    let socket = h.dir.path().join(format!("relay-{name}.sock"));
    let listener = UnixListener::bind(&socket).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let enclave_socket = h.socket.clone();
    let thread_log = log.clone();
    std::thread::spawn(move || {
        let (down, _) = listener.accept().unwrap();
        let up = UnixStream::connect(&enclave_socket).unwrap();
        up.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = down.try_clone().unwrap();
        let mut hop =
            Hop { up, other: None, enclave_socket, down, log: thread_log, seen: Vec::new(), held: Vec::new() };
        let mut decoder = FrameDecoder::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            hop.log.lock().unwrap().extend_from_slice(&buf[..n]);
            decoder.push(&buf[..n]);
            while let Ok(Some(body)) = decoder.next_frame() {
                policy(&mut hop, body.clone());
                hop.seen.push(body);
            }
        }
    });
    Relay { socket, log }
}

fn pass() -> Policy {
    Box::new(|hop, body| hop.forward(&body))
}

/// A policy that rewrites request frames with `f` (which sees the request and what came before).
fn rewrite(mut f: impl FnMut(&mut RequestFrame, &[Vec<u8>]) + Send + 'static) -> Policy {
    Box::new(move |hop, body| {
        let mut frame = decode_request(&body).unwrap();
        f(&mut frame, &hop.seen);
        hop.forward(&encode_request(&frame)[FRAME_HEADER_BYTES..]);
    })
}

fn stamped_args(body: &[u8]) -> Option<StampedArgs> {
    match decode_request(body).ok()?.request {
        Request::Stamped(args) => Some(args),
        _ => None,
    }
}

fn is_session_frame(body: &[u8]) -> bool {
    matches!(decode_request(body).map(|f| f.request), Ok(Request::SessionFrame(_)))
}

// ------------------------------------------------------------------- the rows

struct Row {
    name: &'static str,
    attack: &'static str,
    result: String,
    expected: &'static str,
    /// Signatures released during the row beyond those the row's legitimate requests account for.
    unaccounted_signatures: i64,
    /// A signature or signed transaction reached the client in answer to an attacked request.
    signature_leaked: bool,
}

impl Row {
    fn ok(&self) -> bool {
        self.result.contains(self.expected) && self.unaccounted_signatures == 0 && !self.signature_leaked
    }
}

fn is_signature(r: &Response) -> bool {
    match r {
        Response::Signature(_) | Response::SignedTransaction(_) => true,
        Response::Receipted(r) => is_signature(&r.answer),
        _ => false,
    }
}

fn code_of(r: &Response) -> String {
    match r {
        Response::Error(e) => e.code.clone(),
        Response::Receipted(r) => code_of(&r.answer),
        other => format!("answer `{}`", other.wire_name()),
    }
}

fn err_code(e: &ClientError) -> String {
    sentinel_error::CodedError::code(e).to_string()
}

fn sign_op(key_id: &str, digest: [u8; 32]) -> Operation {
    Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: digest.to_vec() })
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).unwrap();
    out
}

fn evidence(client: &mut Client<UnixStream>, h: &Harness) -> VerifiedEvidence {
    let evidence = client.evidence().unwrap();
    let pcr0 = h.enclave.pcrs()[0][..].try_into().unwrap();
    verify_evidence(&evidence, &h.root_der, Some(pcr0), None, None, sentinel_evidence::UnixTime::from_millis(now_ms()))
        .unwrap()
}

fn open_session(client: &mut Client<UnixStream>, h: &Harness) -> Session {
    let v = evidence(client, h);
    Session::open(client, v.keys.session, v.attestation_hash, &common::client(), random()).unwrap()
}

/// One stamped request through a relay running `policy`, after `warmup` legitimate ones.
fn stamped_row(name: &'static str, attack: &'static str, expected: &'static str, warmup: usize, policy: Policy) -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(&h, name, policy);
    let mut client = relay.client();
    let cred = common::client();
    for i in 0..warmup {
        let (answer, _) = client.stamped(&cred, &sign_op(&key, [i as u8; 32]), now_us(), fresh_nonce()).unwrap();
        assert!(is_signature(&answer), "{name}: warm-up {answer:?}");
    }
    let before = h.signed();
    let (answer, _) = client.stamped(&cred, &sign_op(&key, [0xee; 32]), now_us(), fresh_nonce()).unwrap();
    Row {
        name,
        attack,
        result: code_of(&answer),
        expected,
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: is_signature(&answer),
    }
}

fn row_body_flip() -> Row {
    stamped_row(
        "stamped: body byte flipped",
        "flipped the last byte of the body (in the digest)",
        "STAMP_SIGNATURE_INVALID",
        0,
        rewrite(|f, _| {
            if let Request::Stamped(a) = &mut f.request {
                *a.body.last_mut().unwrap() ^= 0x01;
            }
        }),
    )
}

fn row_stamp_swapped() -> Row {
    stamped_row(
        "stamped: stamp signature swapped",
        "replaced the stamp's signature with the previous request's",
        "STAMP_SIGNATURE_INVALID",
        1,
        rewrite(|f, seen| {
            let previous = seen.iter().rev().find_map(|b| stamped_args(b));
            if let (Request::Stamped(a), Some(p)) = (&mut f.request, previous) {
                a.stamp.as_mut().unwrap().signature = p.stamp.unwrap().signature;
            }
        }),
    )
}

fn row_key_swapped(other_key: String) -> Policy {
    rewrite(move |f, _| {
        if let Request::Stamped(a) = &mut f.request {
            if let Ok(Operation::SignDigest(mut args)) = decode_body(&a.body) {
                args.key_id = other_key.clone();
                a.body = encode_body(&Operation::SignDigest(args));
            }
        }
    })
}

fn row_key_id_swapped() -> Row {
    // The other key is made in the row's enclave before the relay starts.
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let other = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(&h, "key-swap", row_key_swapped(other));
    let mut client = relay.client();
    let before = h.signed();
    let (answer, _) = client.stamped(&common::client(), &sign_op(&key, [1; 32]), now_us(), fresh_nonce()).unwrap();
    Row {
        name: "stamped: key_id swapped in the body",
        attack: "re-encoded the body with another key id of the same principal",
        result: code_of(&answer),
        expected: "STAMP_SIGNATURE_INVALID",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: is_signature(&answer),
    }
}

fn row_op_swapped() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let target = key.clone();
    let relay = relay(
        &h,
        "op-swap",
        rewrite(move |f, _| {
            if let Request::Stamped(a) = &mut f.request {
                a.body = encode_body(&sign_op(&target, [0x66; 32]));
            }
        }),
    );
    let mut client = relay.client();
    let before = h.signed();
    let list = Operation::ListKeys(ListKeysArgs {});
    let (answer, _) = client.stamped(&common::client(), &list, now_us(), fresh_nonce()).unwrap();
    Row {
        name: "stamped: op swapped in the body",
        attack: "replaced a stamped list_keys body with a sign_digest body",
        result: code_of(&answer),
        expected: "STAMP_SIGNATURE_INVALID",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: is_signature(&answer),
    }
}

fn row_replayed() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    // Forward the request, then send the same bytes again.
    let relay = relay(
        &h,
        "replay",
        Box::new(|hop, body| {
            hop.forward(&body);
            if stamped_args(&body).is_some() {
                hop.forward(&body);
            }
        }),
    );
    let mut client = relay.client();
    let before = h.signed();
    let (answer, _) = client.stamped(&common::client(), &sign_op(&key, [2; 32]), now_us(), fresh_nonce()).unwrap();
    assert!(is_signature(&answer), "the original request is served");
    let replay = client.read_frame().unwrap().response;
    Row {
        name: "stamped: stamp replayed",
        attack: "delivered a stamped request, then resent the same frame",
        result: code_of(&replay),
        expected: "STAMP_REPLAYED",
        unaccounted_signatures: h.signed() as i64 - before as i64 - 1,
        signature_leaked: is_signature(&replay),
    }
}

fn row_stale() -> Row {
    let h = harness();
    // A 500 ms window (version 2, signed by the admin), so the relay need hold the frame only briefly.
    let mut v2 = common::dev_config();
    v2.version = 2;
    v2.stamp_window_ms = 500;
    let update =
        Request::UpdateConfig(UpdateConfigArgs { signed_config: common::sign_config(&v2, &[&common::admin()]) });
    assert!(matches!(h.enclave.handle(update), Response::ConfigUpdated(_)));
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "stale",
        Box::new(|hop, body| {
            if stamped_args(&body).is_some() {
                std::thread::sleep(Duration::from_millis(900));
            }
            hop.forward(&body);
        }),
    );
    let mut client = relay.client();
    let before = h.signed();
    let (answer, _) = client.stamped(&common::client(), &sign_op(&key, [3; 32]), now_us(), fresh_nonce()).unwrap();
    Row {
        name: "stamped: stale timestamp",
        attack: "held a stamped request 900 ms past a 500 ms stamp window",
        result: code_of(&answer),
        expected: "STAMP_EXPIRED",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: is_signature(&answer),
    }
}

fn row_principal_renamed() -> Row {
    stamped_row(
        "stamped: principal renamed",
        "renamed the stamp's principal to `intruder`",
        "UNKNOWN_PRINCIPAL",
        0,
        rewrite(|f, _| {
            if let Request::Stamped(a) = &mut f.request {
                a.stamp.as_mut().unwrap().principal = "intruder".into();
            }
        }),
    )
}

fn row_body_swapped() -> Row {
    stamped_row(
        "stamped: bodies swapped",
        "put the previous stamped request's body under this request's stamp",
        "STAMP_SIGNATURE_INVALID",
        1,
        rewrite(|f, seen| {
            let previous = seen.iter().rev().find_map(|b| stamped_args(b));
            if let (Request::Stamped(a), Some(p)) = (&mut f.request, previous) {
                a.body = p.body;
            }
        }),
    )
}

fn row_stamp_stripped() -> Row {
    stamped_row(
        "stamped: stamp stripped",
        "removed the stamp from a stamped request",
        "STAMP_MISSING",
        0,
        rewrite(|f, _| {
            if let Request::Stamped(a) = &mut f.request {
                a.stamp = None;
            }
        }),
    )
}

fn row_no_stamp_raw() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let mut raw = h.direct();
    let before = h.signed();
    let body = encode_body(&sign_op(&key, [4; 32]));
    let answer = raw.call(Request::Stamped(StampedArgs { body, stamp: None })).unwrap();
    Row {
        name: "stamped: no stamp (raw socket)",
        attack: "the host sent its own sign_digest body, unstamped, on its own connection",
        result: code_of(&answer),
        expected: "STAMP_MISSING",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: is_signature(&answer),
    }
}

/// Session rows: a session through a relay whose policy sees every frame and
/// knows how many `session_frame`s came before (the first is the authentication).
fn session_policy(mut f: impl FnMut(&mut Hop, Vec<u8>, usize) + Send + 'static) -> Policy {
    let mut frames = 0usize;
    Box::new(move |hop, body| {
        if is_session_frame(&body) {
            frames += 1;
            f(hop, body, frames);
        } else {
            hop.forward(&body);
        }
    })
}

fn flip_session_frame(body: &[u8]) -> Vec<u8> {
    let mut frame = decode_request(body).unwrap();
    if let Request::SessionFrame(a) = &mut frame.request {
        a.frame[5] ^= 0x80;
    }
    encode_request(&frame)[FRAME_HEADER_BYTES..].to_vec()
}

fn row_session_bit_flip() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "flip",
        session_policy(
            |hop, body, n| if n == 2 { hop.forward(&flip_session_frame(&body)) } else { hop.forward(&body) },
        ),
    );
    let mut client = relay.client();
    let mut session = open_session(&mut client, &h);
    let before = h.signed();
    let first = session.call(&mut client, &sign_op(&key, [5; 32]), false);
    let second = session.call(&mut client, &sign_op(&key, [6; 32]), false);
    let leaked = matches!(&first, Ok((r, _)) if is_signature(r)) || matches!(&second, Ok((r, _)) if is_signature(r));
    Row {
        name: "session: ciphertext bit flip",
        attack: "flipped one bit of a request frame's ciphertext",
        result: format!(
            "{}, then {}",
            first.err().map(|e| err_code(&e)).unwrap_or_default(),
            second.err().map(|e| err_code(&e)).unwrap_or_default()
        ),
        expected: "SESSION_BROKEN, then UNKNOWN_SESSION",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: leaked,
    }
}

fn row_session_replay() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "session-replay",
        session_policy(|hop, body, n| {
            hop.forward(&body);
            if n == 2 {
                hop.forward(&body);
            }
        }),
    );
    let mut client = relay.client();
    let mut session = open_session(&mut client, &h);
    let before = h.signed();
    let (answer, _) = session.call(&mut client, &sign_op(&key, [7; 32]), false).unwrap();
    assert!(is_signature(&answer), "the original frame is served");
    let replay = client.read_frame().unwrap().response;
    Row {
        name: "session: frame replayed",
        attack: "delivered a request frame, then resent it",
        result: code_of(&replay),
        expected: "SESSION_BROKEN",
        unaccounted_signatures: h.signed() as i64 - before as i64 - 1,
        signature_leaked: is_signature(&replay),
    }
}

/// Seals two requests, sends them pipelined, and reads `answers` answers.
fn two_pipelined(client: &mut Client<UnixStream>, session: &mut Session, key: &str, answers: usize) -> Vec<Response> {
    let (_, a) = session.seal_request(&sign_op(key, [8; 32]), false).unwrap();
    let (_, b) = session.seal_request(&sign_op(key, [9; 32]), false).unwrap();
    client.send(a).unwrap();
    client.send(b).unwrap();
    (0..answers).map(|_| client.read_frame().unwrap().response).collect()
}

fn row_session_reorder() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "reorder",
        session_policy(|hop, body, n| match n {
            2 => hop.held.push(body),
            3 => {
                hop.forward(&body);
                let held = hop.held.pop().unwrap();
                hop.forward(&held);
            }
            _ => hop.forward(&body),
        }),
    );
    let mut client = relay.client();
    let mut session = open_session(&mut client, &h);
    let before = h.signed();
    let answers = two_pipelined(&mut client, &mut session, &key, 2);
    Row {
        name: "session: frames reordered",
        attack: "delivered the second request frame before the first",
        result: answers.iter().map(code_of).collect::<Vec<_>>().join(", then "),
        expected: "SESSION_BROKEN, then UNKNOWN_SESSION",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: answers.iter().any(is_signature),
    }
}

fn row_session_drop() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "drop",
        session_policy(|hop, body, n| {
            if n != 2 {
                hop.forward(&body)
            }
        }),
    );
    let mut client = relay.client();
    let mut session = open_session(&mut client, &h);
    let before = h.signed();
    let answers = two_pipelined(&mut client, &mut session, &key, 1);
    Row {
        name: "session: frame dropped",
        attack: "dropped a request frame, delivered the next",
        result: answers.iter().map(code_of).collect::<Vec<_>>().join(", then "),
        expected: "SESSION_BROKEN",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: answers.iter().any(is_signature),
    }
}

fn row_session_inject() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "inject",
        session_policy(|hop, body, n| {
            if n == 2 {
                let mut frame = decode_request(&body).unwrap();
                if let Request::SessionFrame(a) = &mut frame.request {
                    a.frame = random::<64>().to_vec();
                }
                frame.id = 999_999;
                let injected = encode_request(&frame)[FRAME_HEADER_BYTES..].to_vec();
                hop.forward(&injected);
            }
            hop.forward(&body);
        }),
    );
    let mut client = relay.client();
    let mut session = open_session(&mut client, &h);
    let before = h.signed();
    let (_, request) = session.seal_request(&sign_op(&key, [10; 32]), false).unwrap();
    client.send(request).unwrap();
    let answers: Vec<Response> = (0..2).map(|_| client.read_frame().unwrap().response).collect();
    Row {
        name: "session: random frame injected",
        attack: "injected a session_frame of 64 random bytes for the live session before the client's frame",
        result: answers.iter().map(code_of).collect::<Vec<_>>().join(", then "),
        expected: "SESSION_BROKEN, then UNKNOWN_SESSION",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: answers.iter().any(is_signature),
    }
}

fn row_garbage_injected() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "garbage",
        session_policy(|hop, body, n| {
            if n == 2 {
                let garbage = random::<40>();
                let answer = hop.exchange(&garbage);
                hop.deliver(&answer);
            }
            hop.forward(&body);
        }),
    );
    let mut client = relay.client();
    let mut session = open_session(&mut client, &h);
    let before = h.signed();
    let (_, request) = session.seal_request(&sign_op(&key, [11; 32]), false).unwrap();
    client.send(request).unwrap();
    let garbage = client.read_frame().unwrap().response;
    let own = session.open_answer(client.read_frame().unwrap().response).unwrap().answer;
    Row {
        name: "session: random bytes injected as a frame",
        attack: "injected a frame of 40 random bytes on the connection",
        result: format!("{}; the session continues", code_of(&garbage)),
        expected: "MALFORMED_FRAME",
        unaccounted_signatures: h.signed() as i64 - before as i64 - i64::from(is_signature(&own)),
        signature_leaked: is_signature(&garbage),
    }
}

fn row_other_session() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    // (from, to) session ids, set once both sessions are open.
    type Redirect = Arc<Mutex<Option<(Vec<u8>, Vec<u8>)>>>;
    let target: Redirect = Arc::new(Mutex::new(None));
    let t = target.clone();
    let relay = relay(
        &h,
        "other-session",
        rewrite(move |f, _| {
            if let (Request::SessionFrame(a), Some((from, to))) = (&mut f.request, t.lock().unwrap().clone()) {
                if a.session_id == from {
                    a.session_id = to;
                }
            }
        }),
    );
    let mut client = relay.client();
    let mut s1 = open_session(&mut client, &h);
    let mut s2 = open_session(&mut client, &h);
    *target.lock().unwrap() = Some((s1.id().to_vec(), s2.id().to_vec()));
    let before = h.signed();
    let moved = s1.call(&mut client, &sign_op(&key, [12; 32]), false);
    let victim = s2.call(&mut client, &sign_op(&key, [13; 32]), false);
    let leaked = matches!(&moved, Ok((r, _)) if is_signature(r)) || matches!(&victim, Ok((r, _)) if is_signature(r));
    Row {
        name: "session: frame moved to another session",
        attack: "relabelled session A's frame with session B's id (same connection)",
        result: format!(
            "{}; session B then: {}",
            moved.err().map(|e| err_code(&e)).unwrap_or_default(),
            victim.err().map(|e| err_code(&e)).unwrap_or_default()
        ),
        expected: "SESSION_BROKEN; session B then: UNKNOWN_SESSION",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: leaked,
    }
}

fn row_other_connection() -> Row {
    let h = harness();
    let key = h.key(Curve::Secp256k1, KeyPurpose::Raw);
    let relay = relay(
        &h,
        "other-connection",
        session_policy(|hop, body, n| if n == 2 { hop.forward_other(&body) } else { hop.forward(&body) }),
    );
    let mut client = relay.client();
    let mut session = open_session(&mut client, &h);
    let before = h.signed();
    let moved = session.call(&mut client, &sign_op(&key, [14; 32]), false);
    Row {
        name: "session: frame moved to another connection",
        attack: "sent a request frame over a second connection of its own",
        result: moved.as_ref().err().map(err_code).unwrap_or_else(|| "answered".into()),
        expected: "UNKNOWN_SESSION",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: matches!(&moved, Ok((r, _)) if is_signature(r)),
    }
}

fn row_other_attestation() -> Row {
    let h = harness();
    // The relay answers `evidence` with a genuine fresh `attest` document of the
    // same enclave (same keys and configuration, another hash) in place of the boot one.
    let relay = relay(
        &h,
        "other-attestation",
        Box::new(|hop, body| {
            let frame = decode_request(&body).unwrap();
            if !matches!(frame.request, Request::Evidence(_)) {
                return hop.forward(&body);
            }
            let attest = RequestFrame { id: 4242, request: Request::Attest(AttestArgs { nonce: vec![1; 16] }) };
            let Response::Attestation(Attestation { document }) =
                decode_response(&hop.exchange(&encode_request(&attest)[FRAME_HEADER_BYTES..])).unwrap().response
            else {
                panic!("attest")
            };
            let answer = decode_response(&hop.exchange(&body)).unwrap();
            let Response::Evidence(mut evidence) = answer.response else { panic!("evidence") };
            evidence.attestation_hash = <sha2::Sha256 as sha2::Digest>::digest(&document).to_vec();
            evidence.attestation = document;
            let forged = ResponseFrame { id: answer.id, response: Response::Evidence(evidence) };
            hop.deliver(&encode_response(&forged)[FRAME_HEADER_BYTES..]);
        }),
    );
    let mut client = relay.client();
    let before = h.signed();
    let v = evidence(&mut client, &h);
    let opened = Session::open(&mut client, v.keys.session, v.attestation_hash, &common::client(), random());
    Row {
        name: "session: handshake for another attestation hash",
        attack: "swapped the boot document in `evidence` for a fresh `attest` document (verifies, other hash)",
        result: opened.err().map(|e| err_code(&e)).unwrap_or_else(|| "opened".into()),
        expected: "SESSION_HANDSHAKE_FAILED",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: false,
    }
}

fn row_foreign_auth() -> Row {
    let h = harness();
    let mut host = h.direct();
    let before = h.signed();
    let v = evidence(&mut host, &h);
    let forged = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[0x66; 32]).unwrap();
    let opened = Session::open(&mut host, v.keys.session, v.attestation_hash, &forged, random());
    Row {
        name: "session: authentication by a non-configured key",
        attack: "the host ran its own handshake and signed the auth frame as dev-client with its own key",
        result: opened.err().map(|e| err_code(&e)).unwrap_or_else(|| "opened".into()),
        expected: "SESSION_AUTH_FAILED",
        unaccounted_signatures: h.signed() as i64 - before as i64,
        signature_leaked: false,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn row_capture() -> Row {
    let h = harness();
    let relay = relay(&h, "capture", pass());
    let mut client = relay.client();
    let cred = common::client();
    let v = evidence(&mut client, &h);
    let mut session = Session::open(&mut client, v.keys.session, v.attestation_hash, &cred, random()).unwrap();

    let digest: [u8; 32] = random();
    let message = b"capture check: personal message 7f3a9c".to_vec();
    let unsigned_tx = hex::decode(
        "02ef01808459682f008506fc23ac0082520894d8da6bf26964af9d7eed9e03e53415d37aa96045872386f26fc1000080c0",
    )
    .unwrap();
    let session_secret: [u8; 32] = [0x42; 32];
    let stamped_secret: [u8; 32] = [0x43; 32];
    let control: [u8; 32] = random();

    let mut answers = Vec::new();
    let mut call = |session: &mut Session, client: &mut Client<UnixStream>, op: Operation| {
        let (answer, _) = session.call(client, &op, true).unwrap();
        answers.push(answer.clone());
        answer
    };
    let gen =
        |purpose| Operation::GenerateKey(GenerateKeyArgs { curve: Curve::Secp256k1, purpose, label: "cap".into() });
    let Response::KeyGenerated(raw) = call(&mut session, &mut client, gen(KeyPurpose::Raw)) else { panic!() };
    let Response::KeyGenerated(eth) = call(&mut session, &mut client, gen(KeyPurpose::Ethereum)) else { panic!() };
    call(&mut session, &mut client, sign_op(&raw.key_id, digest));
    call(
        &mut session,
        &mut client,
        Operation::SignEthereumTransaction(SignEthereumTransactionArgs {
            key_id: eth.key_id.clone(),
            unsigned_tx: unsigned_tx.clone(),
        }),
    );
    call(
        &mut session,
        &mut client,
        Operation::SignPersonalMessage(SignPersonalMessageArgs { key_id: eth.key_id, message: message.clone() }),
    );
    let imported = call(
        &mut session,
        &mut client,
        import_op(&v.keys.import, "dev-client", "imported", "imported", &session_secret),
    );
    assert!(matches!(imported, Response::KeyGenerated(_)), "{imported:?}");
    // The stamped path: an HPKE import (the secret stays sealed) and a positive control
    // (a stamped digest travels in the clear, so the search must find it).
    let (imported, _) = client
        .stamped(
            &cred,
            &import_op(&v.keys.import, "dev-client", "stamped", "stamped", &stamped_secret),
            now_us(),
            fresh_nonce(),
        )
        .unwrap();
    assert!(matches!(imported, Response::KeyGenerated(_)), "{imported:?}");
    let (signed, _) = client.stamped(&cred, &sign_op(&raw.key_id, control), now_us(), fresh_nonce()).unwrap();
    assert!(is_signature(&signed));
    assert_eq!(answers.iter().filter(|a| is_signature(a)).count(), 3);

    let carried = relay.carried();
    assert!(contains(&carried, &control), "positive control: the relay's capture sees stamped bodies");
    let found: Vec<&str> = [
        ("digest", &digest[..]),
        ("transaction", &unsigned_tx[..]),
        ("message", &message[..]),
        ("session import secret", &session_secret[..]),
        ("stamped import secret", &stamped_secret[..]),
    ]
    .into_iter()
    .filter(|(_, needle)| contains(&carried, needle))
    .map(|(name, _)| name)
    .collect();
    Row {
        name: "capture: plaintext on the wire",
        attack: "recorded every byte relayed both ways; searched for session digest/tx/message and HPKE import secrets",
        result: if found.is_empty() {
            format!("none found in {} bytes (control found)", carried.len())
        } else {
            format!("FOUND: {}", found.join(", "))
        },
        expected: "none found",
        unaccounted_signatures: 0,
        signature_leaked: false,
    }
}

#[test]
fn the_host_cannot_get_anything_signed_by_tampering_with_frames() {
    let rows: Vec<fn() -> Row> = vec![
        row_body_flip,
        row_stamp_swapped,
        row_key_id_swapped,
        row_op_swapped,
        row_replayed,
        row_stale,
        row_principal_renamed,
        row_body_swapped,
        row_stamp_stripped,
        row_no_stamp_raw,
        row_session_bit_flip,
        row_session_replay,
        row_session_reorder,
        row_session_drop,
        row_session_inject,
        row_garbage_injected,
        row_other_session,
        row_other_connection,
        row_other_attestation,
        row_foreign_auth,
        row_capture,
    ];
    let rows: Vec<Row> = rows.into_iter().map(|row| row()).collect();
    println!("\n| name | attack | result |\n|---|---|---|");
    for r in &rows {
        let mark = if r.ok() { "" } else { "  <-- FAILED" };
        println!("| {} | {} | {}{mark} |", r.name, r.attack, r.result);
    }
    for r in &rows {
        assert!(r.result.contains(r.expected), "{}: expected `{}`, got `{}`", r.name, r.expected, r.result);
        assert_eq!(r.unaccounted_signatures, 0, "{}: the attack got something signed", r.name);
        assert!(!r.signature_leaked, "{}: a signature reached the client in answer to an attacked request", r.name);
    }
}

//! A native client of the enclave's attested sessions for Node: a class that
//! owns a blocking Unix socket to the enclave and does the Noise NK
//! handshake, the principal's authentication and every session frame in
//! Rust, so a latency-critical caller pays one synchronous N-API call per
//! request and no event loop turn. Blocking by design: `signDigest` holds the
//! JS thread for one round trip (tens of µs); callers that cannot block use
//! the TypeScript sidecar's asynchronous client instead.
//!
//! It trusts what the caller gives it: `sessionKey` and `attestationHash`
//! must come from an attestation document the caller verified (PCR0 and
//! configuration hash); the handshake then succeeds only with the enclave
//! instance that booted with that document. `fetchEvidence` reads both from
//! the enclave unverified, for local mode and benchmarks.
//!
//! Errors are thrown as JS `Error`s with a stable `code`: the enclave's own
//! codes (`UNKNOWN_KEY`, `SESSION_BROKEN`, ...), the session crate's, or
//! `SESSION_CLIENT_IO` (the socket failed; the client is then closed) and
//! `SESSION_CLOSED` (used after `close()`). No panic crosses the FFI: every
//! method runs its Rust part under `catch_unwind` (`INTERNAL`).
#![cfg_attr(test, allow(dead_code))]
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_config::{Credential, CredentialKind};
use sentinel_protocol::{
    decode_response, decode_session_answer, encode_body, encode_cbor, encode_request, DescribeArgs, EvidenceArgs,
    Operation, Request, RequestFrame, Response, SessionAnswer, SessionCloseArgs, SessionFrameArgs, SessionOpenArgs,
    SessionRequest, SignDigestArgs, MAX_FRAME_BYTES,
};
use sentinel_session::{ClientSession, Initiator};

const IO: &str = "SESSION_CLIENT_IO";
const CLOSED: &str = "SESSION_CLOSED";
const INVALID_ARGUMENT: &str = sentinel_error::INVALID_ARGUMENT;

/// A failure with its stable code (the enclave's codes are strings on the wire).
struct Failure {
    code: String,
    message: String,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Failure {
        Failure { code: code.to_string(), message: message.into() }
    }

    fn coded(e: &impl sentinel_error::CodedError) -> Failure {
        Failure::new(e.code(), e.message())
    }
}

/// Throws `failure` as the binding's other functions do (`lib.rs` `throw`).
fn throw(env: &Env, failure: Failure) -> Error {
    match env.throw_error(&failure.message, Some(&failure.code)) {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(failed) => failed,
    }
}

/// Runs the Rust part of a method: a panic becomes `INTERNAL`, never an abort.
fn guarded<T>(f: impl FnOnce() -> std::result::Result<T, Failure>) -> std::result::Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(Failure::new("INTERNAL", "session client: a panic was caught")))
}

/// One framed connection to the enclave (length-prefixed CBOR frames).
struct Wire {
    stream: UnixStream,
    body: Vec<u8>,
    next_id: u64,
    /// Spin on a non-blocking socket instead of sleeping in `read` (the client side of `--busy-poll`).
    spin: bool,
}

fn spin_read(stream: &mut UnixStream, mut buf: &mut [u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        match stream.read(buf) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn spin_write(stream: &mut UnixStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match stream.write(data) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::hint::spin_loop(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Wire {
    fn connect(path: &str, spin: bool) -> std::result::Result<Wire, Failure> {
        let stream = UnixStream::connect(path).map_err(|e| Failure::new(IO, format!("connect {path}: {e}")))?;
        stream.set_nonblocking(spin).map_err(|e| Failure::new(IO, format!("connect {path}: {e}")))?;
        Ok(Wire { stream, body: Vec::with_capacity(256), next_id: 1, spin })
    }

    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.spin {
            spin_write(&mut self.stream, data)
        } else {
            self.stream.write_all(data)
        }
    }

    fn read_exact(stream: &mut UnixStream, spin: bool, buf: &mut [u8]) -> std::io::Result<()> {
        if spin {
            spin_read(stream, buf)
        } else {
            stream.read_exact(buf)
        }
    }

    fn round_trip(&mut self, request: Request) -> std::result::Result<Response, Failure> {
        let id = self.next_id;
        self.next_id += 1;
        let frame = encode_request(&RequestFrame { id, request });
        self.write_all(&frame).map_err(|e| Failure::new(IO, format!("write: {e}")))?;
        let mut header = [0u8; 4];
        Wire::read_exact(&mut self.stream, self.spin, &mut header)
            .map_err(|e| Failure::new(IO, format!("read: {e}")))?;
        let len = u32::from_be_bytes(header) as usize;
        if len > MAX_FRAME_BYTES {
            return Err(Failure::new(IO, format!("answer frame of {len} bytes, at most {MAX_FRAME_BYTES}")));
        }
        self.body.resize(len, 0);
        Wire::read_exact(&mut self.stream, self.spin, &mut self.body)
            .map_err(|e| Failure::new(IO, format!("read: {e}")))?;
        let answer = decode_response(&self.body).map_err(|e| Failure::coded(&e))?;
        if answer.id != id {
            return Err(Failure::new(IO, format!("answer id {} for request {id}", answer.id)));
        }
        match answer.response {
            Response::Error(e) => Err(Failure { code: e.code, message: e.message }),
            other => Ok(other),
        }
    }
}

struct Open {
    wire: Wire,
    session_id: Vec<u8>,
    session: ClientSession,
    next_request: u64,
    sealed: Vec<u8>,
    plain: Vec<u8>,
}

impl Open {
    fn connect(
        path: &str,
        session_key: &[u8; 32],
        attestation_hash: &[u8; 32],
        credential: &Credential,
        spin: bool,
    ) -> std::result::Result<Open, Failure> {
        let mut wire = Wire::connect(path, spin)?;
        let mut ephemeral = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut *ephemeral).map_err(|e| Failure::new("INTERNAL", format!("randomness: {e}")))?;
        let (initiator, m1) =
            Initiator::new(session_key, attestation_hash, *ephemeral).map_err(|e| Failure::coded(&e))?;
        let opened = match wire.round_trip(Request::SessionOpen(SessionOpenArgs { handshake: m1 }))? {
            Response::SessionOpened(opened) => opened,
            other => return Err(unexpected("session_open", &other)),
        };
        let handshake = initiator.finish(&opened.handshake).map_err(|e| Failure::coded(&e))?;
        let signature = credential.sign(&handshake.auth_digest());
        let (session, auth) = handshake.authenticate(credential.id(), &signature).map_err(|e| Failure::coded(&e))?;
        let mut open = Open {
            wire,
            session_id: opened.session_id,
            session,
            next_request: 1,
            sealed: Vec::new(),
            plain: Vec::new(),
        };
        let answer = open.exchange_frame(auth)?;
        match answer.answer {
            Response::Authenticated(_) => Ok(open),
            Response::Error(e) => Err(Failure { code: e.code, message: e.message }),
            other => Err(unexpected("authentication", &other)),
        }
    }

    /// Sends one sealed frame and opens the answer.
    fn exchange_frame(&mut self, frame: Vec<u8>) -> std::result::Result<SessionAnswer, Failure> {
        let response = self
            .wire
            .round_trip(Request::SessionFrame(SessionFrameArgs { session_id: self.session_id.clone(), frame }))?;
        let Response::SessionFrame(answer) = response else { return Err(unexpected("session_frame", &response)) };
        self.plain.clear();
        self.session.open(&answer.frame, &mut self.plain).map_err(|e| Failure::coded(&e))?;
        decode_session_answer(&self.plain).map_err(|e| Failure::coded(&e))
    }

    fn request(&mut self, body: Vec<u8>, receipt: bool) -> std::result::Result<SessionAnswer, Failure> {
        let id = self.next_request;
        self.next_request += 1;
        let plaintext = encode_cbor(&SessionRequest { id, receipt, body });
        self.sealed.clear();
        self.session.seal(&plaintext, &mut self.sealed).map_err(|e| Failure::coded(&e))?;
        let frame = std::mem::take(&mut self.sealed);
        let answer = self.exchange_frame(frame)?;
        if answer.id != id {
            return Err(Failure::new("SESSION_BROKEN", format!("session answer {} for request {id}", answer.id)));
        }
        Ok(answer)
    }
}

fn unexpected(what: &str, response: &Response) -> Failure {
    Failure::new(IO, format!("{what}: unexpected answer `{}`", response.wire_name()))
}

fn bytes32(name: &str, value: &[u8]) -> std::result::Result<[u8; 32], Failure> {
    value
        .try_into()
        .map_err(|_| Failure::new(INVALID_ARGUMENT, format!("{name}: must be 32 bytes, found {}", value.len())))
}

/// Declares the TypeScript interface of `SessionClient.connect`'s options.
#[allow(dead_code)]
#[napi(object, object_to_js = false)]
pub struct SessionClientOptions {
    /// The enclave's X25519 session key (`session_key` of the verified attested key bundle).
    pub session_key: Buffer,
    /// SHA-256 of the verified boot attestation document.
    pub attestation_hash: Buffer,
    /// The principal's credential file (`client.key` JSON).
    pub credential: String,
    /// Spin on a non-blocking socket while waiting for an answer instead of
    /// sleeping (pairs with the enclave's `--busy-poll`; burns a core). Default false.
    pub busy_poll: Option<bool>,
}

/// An attested session with the enclave over a blocking Unix socket.
#[napi]
pub struct SessionClient {
    open: Option<Open>,
}

#[napi]
impl SessionClient {
    /// Connects, runs the handshake bound to `attestationHash` and authenticates as the credential's principal.
    #[napi(factory, ts_args_type = "socketPath: string, options: SessionClientOptions")]
    pub fn connect(env: &Env, socket_path: String, options: Object) -> Result<SessionClient> {
        let session_key: Buffer = options
            .get_named_property::<Buffer>("sessionKey")
            .map_err(|e| throw(env, Failure::new(INVALID_ARGUMENT, format!("options.sessionKey: {}", e.reason))))?;
        let attestation_hash: Buffer = options.get_named_property::<Buffer>("attestationHash").map_err(|e| {
            throw(env, Failure::new(INVALID_ARGUMENT, format!("options.attestationHash: {}", e.reason)))
        })?;
        let credential: String = options
            .get_named_property::<String>("credential")
            .map_err(|e| throw(env, Failure::new(INVALID_ARGUMENT, format!("options.credential: {}", e.reason))))?;
        let busy_poll = options
            .get_named_property::<Option<bool>>("busyPoll")
            .map_err(|e| throw(env, Failure::new(INVALID_ARGUMENT, format!("options.busyPoll: {}", e.reason))))?
            .unwrap_or(false);
        guarded(|| {
            let session_key = bytes32("options.sessionKey", &session_key)?;
            let attestation_hash = bytes32("options.attestationHash", &attestation_hash)?;
            let credential = Credential::from_json(&credential).map_err(|e| Failure::coded(&e))?;
            credential.expect_kind(CredentialKind::Client).map_err(|e| Failure::coded(&e))?;
            Open::connect(&socket_path, &session_key, &attestation_hash, &credential, busy_poll)
        })
        .map(|open| SessionClient { open: Some(open) })
        .map_err(|f| throw(env, f))
    }

    /// Reads the enclave's evidence WITHOUT verifying it (local mode and
    /// benchmarks): the boot attestation document, its hash, the attested key
    /// bundle and the session key in it. Verify `attestation` before trusting
    /// the session key in production.
    #[napi(
        ts_return_type = "{ attestation: Buffer; attestationHash: Buffer; attestedKeys: Buffer; sessionKey: Buffer; configHash: Buffer }"
    )]
    pub fn fetch_evidence<'env>(env: &'env Env, socket_path: String) -> Result<Object<'env>> {
        let fetched = guarded(|| {
            let mut wire = Wire::connect(&socket_path, false)?;
            let evidence = match wire.round_trip(Request::Evidence(EvidenceArgs {}))? {
                Response::Evidence(evidence) => *evidence,
                other => return Err(unexpected("evidence", &other)),
            };
            let keys = match wire.round_trip(Request::Describe(DescribeArgs {}))? {
                Response::Description(d) => d.attested_keys,
                other => return Err(unexpected("describe", &other)),
            };
            if keys.len() != 129 || keys[0] != 2 {
                return Err(Failure::new(IO, "describe: the attested key bundle is not 129 bytes of version 2"));
            }
            Ok((evidence, keys))
        })
        .map_err(|f| throw(env, f))?;
        let (evidence, keys) = fetched;
        let mut out = Object::new(env)?;
        out.set_named_property("attestation", BufferSlice::copy_from(env, &evidence.attestation)?)?;
        out.set_named_property("attestationHash", BufferSlice::copy_from(env, &evidence.attestation_hash)?)?;
        out.set_named_property("sessionKey", BufferSlice::copy_from(env, &keys[33..65])?)?;
        out.set_named_property("attestedKeys", BufferSlice::copy_from(env, &keys)?)?;
        out.set_named_property("configHash", BufferSlice::copy_from(env, &evidence.config_hash)?)?;
        Ok(out)
    }

    fn open(&mut self) -> std::result::Result<&mut Open, Failure> {
        self.open.as_mut().ok_or_else(|| Failure::new(CLOSED, "the session client is closed"))
    }

    /// Runs `f` on the open session; an I/O failure closes the client (the stream is out of step).
    fn with_open<T>(
        &mut self,
        f: impl FnOnce(&mut Open) -> std::result::Result<T, Failure>,
    ) -> std::result::Result<T, Failure> {
        let result = guarded(|| f(self.open()?));
        if let Err(failure) = &result {
            if failure.code == IO || failure.code == "INTERNAL" {
                self.open = None;
            }
        }
        result
    }

    /// Signs a 32-byte digest with a `raw` key of this principal (no receipt).
    /// Synchronous: blocks the JS thread for one round trip.
    #[napi(ts_return_type = "{ signature: Buffer; recoveryId: number | null }")]
    pub fn sign_digest<'env>(&mut self, env: &'env Env, key_id: String, digest: &[u8]) -> Result<Object<'env>> {
        let digest = digest.to_vec();
        let signature = self
            .with_open(|open| {
                let body = encode_body(&Operation::SignDigest(SignDigestArgs { key_id, digest }));
                match open.request(body, false)?.answer {
                    Response::Signature(s) => Ok(s),
                    Response::Error(e) => Err(Failure { code: e.code, message: e.message }),
                    other => Err(unexpected("sign_digest", &other)),
                }
            })
            .map_err(|f| throw(env, f))?;
        let mut out = Object::new(env)?;
        out.set_named_property("signature", BufferSlice::copy_from(env, &signature.signature)?)?;
        match signature.recovery_id {
            Some(v) => out.set_named_property("recoveryId", u32::from(v))?,
            None => out.set_named_property("recoveryId", Null)?,
        }
        Ok(out)
    }

    /// Any body operation (`{ op, ...args }`, as `encodeBody` takes it); the
    /// answer as `decodeResponse` shapes it (refusals are `{ type: 'error', code, message }`,
    /// not thrown), and the receipt (COSE_Sign1) when `wantReceipt`.
    #[napi(
        ts_args_type = "operation: import('./protocol').Operation, wantReceipt: boolean",
        ts_return_type = "{ answer: import('./protocol').Response; receipt: Buffer | null }"
    )]
    pub fn call<'env>(&mut self, env: &'env Env, operation: Unknown<'env>, want_receipt: bool) -> Result<Object<'env>> {
        let operation: Operation = env
            .from_js_value(operation)
            .map_err(|e| throw(env, Failure::new(INVALID_ARGUMENT, format!("operation: {}", e.reason))))?;
        let answer =
            self.with_open(|open| open.request(encode_body(&operation), want_receipt)).map_err(|f| throw(env, f))?;
        let mut out = Object::new(env)?;
        out.set_named_property("answer", env.to_js_value(&answer.answer)?)?;
        match answer.receipt {
            Some(receipt) => out.set_named_property("receipt", BufferSlice::copy_from(env, &receipt)?)?,
            None => out.set_named_property("receipt", Null)?,
        }
        Ok(out)
    }

    /// Ends the session (`session_close`) and the connection. Idempotent.
    #[napi]
    pub fn close(&mut self) {
        if let Some(mut open) = self.open.take() {
            let _ = guarded(|| {
                open.session.close();
                open.wire.round_trip(Request::SessionClose(SessionCloseArgs { session_id: open.session_id.clone() }))
            });
        }
    }

    /// Whether `close()` was called or the connection failed.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.open.is_none()
    }
}

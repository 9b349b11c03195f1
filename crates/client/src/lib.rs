//! A small blocking client of the enclave protocol (`crates/protocol`) over any
//! `Read + Write` stream (a `UnixStream` to the host's socket in practice).
//!
//! Decides: request ids (increasing, every answer's id is checked), how an
//! operation is stamped (`stamp_digest` over the exact body bytes, signed by
//! the principal's [`Credential`]), and how a session request is sealed and
//! its answer opened and matched. Trusts: nothing the stream says by itself.
//! The host between client and enclave is untrusted; what this crate believes
//! is only what it verified: an attestation document that chains to the root
//! the caller passed, carries the expected PCR0 and configuration hash
//! ([`verify_evidence`]), receipts checked against that document
//! ([`sentinel_evidence::ReceiptVerifier`]), and session answers that opened
//! under a Noise session bound to that document's session key and hash.
//! Answers to stamped requests are returned as received: check their receipt
//! before relying on them. Reads no clock and no entropy source: `now_us`,
//! stamp nonces and session ephemerals are arguments.
#![forbid(unsafe_code)]

use std::io::{Read, Write};

use sentinel_config::{stamp_digest, Credential, SignedConfig};
use sentinel_evidence::{AttestedKeys, ReceiptOptions, ReceiptVerifier, UnixTime, UserData};
use sentinel_protocol::{
    decode_response, decode_session_answer, encode_body, encode_cbor, encode_request, ErrorAnswer, Evidence,
    EvidenceArgs, FrameDecoder, Operation, Request, RequestFrame, Response, SessionCloseArgs, SessionFrameArgs,
    SessionOpenArgs, SessionRequest, Stamp, StampedArgs, UpdateConfigArgs,
};
use sentinel_session::{ClientSession, Initiator};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What can go wrong on the client's side. Enclave refusals keep the enclave's code.
#[derive(Debug)]
pub enum ClientError {
    /// The stream failed (or a read timed out).
    Io(std::io::Error),
    /// The stream ended before an answer.
    Closed,
    /// The answer was not a protocol frame.
    Protocol(sentinel_protocol::ProtocolError),
    /// An answer for another request (the host reordered, dropped or injected frames).
    IdMismatch { expected: u64, found: u64 },
    /// An answer of an unexpected type.
    Unexpected(String),
    /// The enclave answered with an `error` (outside any receipt or session).
    Refused(ErrorAnswer),
    /// The session failed on the client's side (an answer that did not open).
    Session(sentinel_session::Error),
    /// The evidence did not verify.
    Evidence(sentinel_evidence::Error),
    /// The evidence is inconsistent with itself or with what was expected.
    EvidenceMismatch(&'static str),
}

impl ClientError {
    /// The enclave's refusal code, when the enclave refused.
    pub fn refusal_code(&self) -> Option<&str> {
        match self {
            ClientError::Refused(e) => Some(&e.code),
            _ => None,
        }
    }
}

impl sentinel_error::CodedError for ClientError {
    fn code(&self) -> &'static str {
        match self {
            ClientError::Io(_) => "CLIENT_IO",
            ClientError::Closed => "CLIENT_CONNECTION_CLOSED",
            ClientError::Protocol(e) => sentinel_error::CodedError::code(e),
            ClientError::IdMismatch { .. } => "CLIENT_ID_MISMATCH",
            ClientError::Unexpected(_) => "CLIENT_UNEXPECTED_ANSWER",
            ClientError::Refused(e) => sentinel_protocol::EnclaveErrorCode::ALL
                .iter()
                .map(|c| c.as_str())
                .find(|c| *c == e.code)
                .unwrap_or("ENCLAVE_REFUSED"),
            ClientError::Session(e) => e.code(),
            ClientError::Evidence(e) => e.code(),
            ClientError::EvidenceMismatch(_) => "CLIENT_EVIDENCE_MISMATCH",
        }
    }

    fn message(&self) -> String {
        match self {
            ClientError::Io(e) => format!("stream: {e}"),
            ClientError::Closed => "stream: closed before an answer".into(),
            ClientError::Protocol(e) => sentinel_error::CodedError::message(e),
            ClientError::IdMismatch { expected, found } => format!("id: expected {expected}, found {found}"),
            ClientError::Unexpected(m) => m.clone(),
            ClientError::Refused(e) => format!("{}: {}", e.code, e.message),
            ClientError::Session(e) => e.message().to_string(),
            ClientError::Evidence(e) => e.message().to_string(),
            ClientError::EvidenceMismatch(m) => (*m).to_string(),
        }
    }
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", sentinel_error::CodedError::code(self), sentinel_error::CodedError::message(self))
    }
}

impl std::error::Error for ClientError {}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}

fn unexpected(what: &str, got: &Response) -> ClientError {
    match got {
        Response::Error(e) => ClientError::Refused(e.clone()),
        other => ClientError::Unexpected(format!("{what}: got `{}`", other.wire_name())),
    }
}

/// One connection to the enclave (through the host).
pub struct Client<S> {
    stream: S,
    decoder: FrameDecoder,
    next_id: u64,
    buf: Vec<u8>,
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S) -> Self {
        Client { stream, decoder: FrameDecoder::new(), next_id: 1, buf: vec![0; 64 * 1024] }
    }

    /// The underlying stream (e.g. to set a read timeout).
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Sends one request and reads its answer; the answer's id must be the request's.
    /// An `error` answer is returned as an answer, not as `Err`.
    pub fn call(&mut self, request: Request) -> Result<Response, ClientError> {
        let id = self.send(request)?;
        let frame = self.read_frame()?;
        if frame.id != id {
            return Err(ClientError::IdMismatch { expected: id, found: frame.id });
        }
        Ok(frame.response)
    }

    /// Sends one request without waiting for its answer (pipelining); returns its id.
    pub fn send(&mut self, request: Request) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.stream.write_all(&encode_request(&RequestFrame { id, request }))?;
        self.stream.flush()?;
        Ok(id)
    }

    /// Reads the next answer frame, whatever its id.
    pub fn read_frame(&mut self) -> Result<sentinel_protocol::ResponseFrame, ClientError> {
        loop {
            if let Some(body) = self.decoder.next_frame().map_err(ClientError::Protocol)? {
                return decode_response(&body).map_err(ClientError::Protocol);
            }
            let n = self.stream.read(&mut self.buf)?;
            if n == 0 {
                return Err(ClientError::Closed);
            }
            self.decoder.push(&self.buf[..n]);
        }
    }

    /// The boot attestation document and signed configuration in force (unverified: see [`verify_evidence`]).
    pub fn evidence(&mut self) -> Result<Evidence, ClientError> {
        match self.call(Request::Evidence(EvidenceArgs {}))? {
            Response::Evidence(e) => Ok(*e),
            other => Err(unexpected("evidence", &other)),
        }
    }

    /// Installs a signed configuration envelope.
    pub fn update_config(&mut self, signed: &[u8]) -> Result<sentinel_protocol::ConfigUpdated, ClientError> {
        match self.call(Request::UpdateConfig(UpdateConfigArgs { signed_config: signed.to_vec() }))? {
            Response::ConfigUpdated(u) => Ok(u),
            other => Err(unexpected("update_config", &other)),
        }
    }

    /// Installs a signed policy envelope (JSON) with the models its risk rules pin.
    pub fn update_policy(
        &mut self,
        signed: &[u8],
        models: &[Vec<u8>],
    ) -> Result<sentinel_protocol::PolicyUpdated, ClientError> {
        let args = sentinel_protocol::UpdatePolicyArgs {
            signed_policy: signed.to_vec(),
            models: models.iter().map(|m| sentinel_protocol::PolicyModel { onnx: m.clone() }).collect(),
        };
        match self.call(Request::UpdatePolicy(args))? {
            Response::PolicyUpdated(u) => Ok(u),
            other => Err(unexpected("update_policy", &other)),
        }
    }

    /// Sends `operation` stamped by `credential` and returns the inner answer
    /// (possibly an `error`: refusals carry receipts too) and the receipt.
    pub fn stamped(
        &mut self,
        credential: &Credential,
        operation: &Operation,
        now_us: u64,
        nonce: [u8; 16],
    ) -> Result<(Response, Vec<u8>), ClientError> {
        let args = stamped_request(credential, operation, now_us, nonce);
        match self.call(Request::Stamped(args))? {
            Response::Receipted(r) => Ok((*r.answer, r.receipt)),
            other => Err(unexpected("stamped", &other)),
        }
    }
}

/// The `stamped` request for `operation`: its body (`encode_body`) and the
/// principal's stamp over exactly those bytes (contract: stamp digest).
pub fn stamped_request(credential: &Credential, operation: &Operation, now_us: u64, nonce: [u8; 16]) -> StampedArgs {
    let body = encode_body(operation);
    let digest = stamp_digest(operation.wire_name(), &body, now_us, &nonce);
    let stamp = Stamp {
        principal: credential.id().to_string(),
        timestamp_us: now_us,
        nonce: nonce.to_vec(),
        signature: credential.sign(&digest),
    };
    StampedArgs { body, stamp: Some(stamp) }
}

/// A signed oversight command: the command's canonical CBOR and each signer's
/// signature over its digest (docs/oversight.md).
pub fn oversight_request(
    command: &sentinel_oversight::Command,
    signers: &[&Credential],
) -> sentinel_protocol::OversightArgs {
    let digest = command.digest();
    sentinel_protocol::OversightArgs {
        command: command.to_cbor(),
        signatures: signers
            .iter()
            .map(|c| sentinel_protocol::OversightSignature { signer: c.id().to_string(), signature: c.sign(&digest) })
            .collect(),
    }
}

/// A command with every optional field empty: fill the ones its action takes.
pub fn oversight_command(
    action: sentinel_oversight::Action,
    now_us: u64,
    nonce: [u8; 16],
) -> sentinel_oversight::Command {
    sentinel_oversight::Command::new(action, now_us, nonce.to_vec())
}

/// A `resume` of `scope` to `level` over the enclave's current `challenge`.
pub fn resume_command(
    scope: sentinel_oversight::Scope,
    level: sentinel_oversight::Level,
    challenge: [u8; 32],
    now_us: u64,
    nonce: [u8; 16],
) -> sentinel_oversight::Command {
    sentinel_oversight::Command {
        scope: Some(scope),
        level: Some(level),
        challenge: Some(challenge),
        ..oversight_command(sentinel_oversight::Action::Resume, now_us, nonce)
    }
}

/// Resumes an enclave's global scope to green (every enclave boots halted): asks `call` for
/// a fresh challenge, then sends the resume signed by `signers` over it. `call` is how the
/// caller reaches the enclave (`Enclave::handle` in process, [`Client::call`] over a socket).
/// Returns the enclave's answer: `oversight_status`, or the refusal (of either request).
pub fn resume_global(
    mut call: impl FnMut(Request) -> Response,
    signers: &[&Credential],
    now_us: u64,
    nonce: [u8; 16],
) -> Response {
    let challenge = match call(Request::OversightChallenge(sentinel_protocol::OversightChallengeArgs {})) {
        Response::OversightChallenge(c) => c.challenge,
        other => return other,
    };
    let Ok(challenge) = <[u8; 32]>::try_from(challenge.as_slice()) else {
        return Response::error(&sentinel_error::Internal(format!(
            "oversight_challenge: {} bytes, expected 32",
            challenge.len()
        )));
    };
    let command =
        resume_command(sentinel_oversight::Scope::Global, sentinel_oversight::Level::Green, challenge, now_us, nonce);
    call(Request::Oversight(oversight_request(&command, signers)))
}

/// An authenticated attested session. It lives on the connection that opened it
/// (the enclave refuses it on any other), so each call takes that client.
pub struct Session {
    id: Vec<u8>,
    channel: ClientSession,
    next_id: u64,
    principal: String,
    expires_at_us: u64,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session").field("principal", &self.principal).finish_non_exhaustive()
    }
}

impl Session {
    /// Opens a session to the enclave whose verified evidence carries
    /// `session_public_key` (the bundle's session key) and hashes to
    /// `attestation_hash`, and authenticates as `credential`. `ephemeral`: 32
    /// fresh bytes from a CSPRNG, used for nothing else.
    pub fn open<S: Read + Write>(
        client: &mut Client<S>,
        session_public_key: [u8; 32],
        attestation_hash: [u8; 32],
        credential: &Credential,
        ephemeral: [u8; 32],
    ) -> Result<Session, ClientError> {
        let (initiator, message) =
            Initiator::new(&session_public_key, &attestation_hash, ephemeral).map_err(ClientError::Session)?;
        let (id, reply) = match client.call(Request::SessionOpen(SessionOpenArgs { handshake: message }))? {
            Response::SessionOpened(o) => (o.session_id, o.handshake),
            other => return Err(unexpected("session_open", &other)),
        };
        let handshake = initiator.finish(&reply).map_err(ClientError::Session)?;
        let signature = credential.sign(&handshake.auth_digest());
        let (channel, frame) = handshake.authenticate(credential.id(), &signature).map_err(ClientError::Session)?;
        let mut session = Session { id, channel, next_id: 1, principal: String::new(), expires_at_us: 0 };
        let answer = client.call(Request::SessionFrame(SessionFrameArgs { session_id: session.id.clone(), frame }))?;
        let answer = session.open_answer(answer)?;
        match answer.answer {
            Response::Authenticated(a) if answer.id == 0 => {
                session.principal = a.principal;
                session.expires_at_us = a.expires_at_us;
                Ok(session)
            }
            other => Err(unexpected("session authentication", &other)),
        }
    }

    /// The enclave's handle for this session.
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// The principal the enclave authenticated.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// When the enclave ends the session (enclave clock, microseconds since the epoch).
    pub fn expires_at_us(&self) -> u64 {
        self.expires_at_us
    }

    /// Sends `operation` in the session; returns the answer and, if asked for, its receipt.
    pub fn call<S: Read + Write>(
        &mut self,
        client: &mut Client<S>,
        operation: &Operation,
        want_receipt: bool,
    ) -> Result<(Response, Option<Vec<u8>>), ClientError> {
        let (id, request) = self.seal_request(operation, want_receipt)?;
        let answer = self.open_answer(client.call(request)?)?;
        if answer.id != id {
            return Err(ClientError::IdMismatch { expected: id, found: answer.id });
        }
        Ok((answer.answer, answer.receipt))
    }

    /// Seals one request: its session-level id and the `session_frame` to send.
    pub fn seal_request(&mut self, operation: &Operation, want_receipt: bool) -> Result<(u64, Request), ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let plaintext = encode_cbor(&SessionRequest { id, receipt: want_receipt, body: encode_body(operation) });
        let mut frame = Vec::new();
        self.channel.seal(&plaintext, &mut frame).map_err(ClientError::Session)?;
        Ok((id, Request::SessionFrame(SessionFrameArgs { session_id: self.id.clone(), frame })))
    }

    /// Opens the enclave's answer to a `session_frame`.
    pub fn open_answer(&mut self, answer: Response) -> Result<sentinel_protocol::SessionAnswer, ClientError> {
        let frame = match answer {
            Response::SessionFrame(f) if f.session_id == self.id => f.frame,
            Response::SessionFrame(_) => {
                return Err(ClientError::Unexpected("session_frame: another session's id".into()))
            }
            // After a refused frame the enclave has closed the session: later
            // frames get UNKNOWN_SESSION.
            other => return Err(unexpected("session_frame", &other)),
        };
        let mut plaintext = Vec::new();
        self.channel.open(&frame, &mut plaintext).map_err(ClientError::Session)?;
        decode_session_answer(&plaintext).map_err(ClientError::Protocol)
    }

    /// Ends the session on both sides.
    pub fn close<S: Read + Write>(mut self, client: &mut Client<S>) -> Result<(), ClientError> {
        self.channel.close();
        match client.call(Request::SessionClose(SessionCloseArgs { session_id: self.id.clone() }))? {
            Response::SessionClosed(_) => Ok(()),
            other => Err(unexpected("session_close", &other)),
        }
    }
}

/// What [`verify_evidence`] established.
#[derive(Debug)]
pub struct VerifiedEvidence {
    /// Verifies receipts against the boot attestation document.
    pub receipts: ReceiptVerifier,
    /// The enclave's receipt, session and import keys, from the document.
    pub keys: AttestedKeys,
    /// SHA-256 of the document (what sessions bind and receipts carry).
    pub attestation_hash: [u8; 32],
    /// The configuration hash the document binds.
    pub config_hash: [u8; 32],
    /// The policy hash the document binds; `None` when no policy is installed.
    pub policy_hash: Option<[u8; 32]>,
}

/// Verifies `evidence`: the attestation document chains to `root_der` (judged
/// at `now`), carries `expected_pcr0`, `expected_config_hash` and
/// `expected_policy_hash` (each when given), and the rest of the evidence
/// agrees with it (its hash, the configuration and policy hashes it states,
/// and the signed configuration hashes to the bound configuration hash).
pub fn verify_evidence(
    evidence: &Evidence,
    root_der: &[u8],
    expected_pcr0: Option<[u8; 48]>,
    expected_config_hash: Option<[u8; 32]>,
    expected_policy_hash: Option<[u8; 32]>,
    now: UnixTime,
) -> Result<VerifiedEvidence, ClientError> {
    let options =
        ReceiptOptions { root_der, expected_pcr0, expected_config_hash, expected_policy_hash, now, allow_debug: false };
    let receipts = ReceiptVerifier::new(&evidence.attestation, &options).map_err(ClientError::Evidence)?;
    let attestation_hash: [u8; 32] = Sha256::digest(&evidence.attestation).into();
    if !bool::from(attestation_hash[..].ct_eq(&evidence.attestation_hash[..])) {
        return Err(ClientError::EvidenceMismatch("attestation_hash is not SHA-256 of the attestation document"));
    }
    let UserData { config_hash, policy_hash } = *receipts.user_data();
    if evidence.config_hash != config_hash {
        return Err(ClientError::EvidenceMismatch("config_hash differs from the document's user_data"));
    }
    if evidence.policy_hash.as_deref() != policy_hash.as_ref().map(|h| &h[..]) {
        return Err(ClientError::EvidenceMismatch("policy_hash differs from the document's user_data"));
    }
    let signed = SignedConfig::decode(&evidence.signed_config)
        .map_err(|_| ClientError::EvidenceMismatch("signed_config does not decode"))?;
    if signed.config_hash() != config_hash {
        return Err(ClientError::EvidenceMismatch("signed_config is not the configuration the document binds"));
    }
    let keys = *receipts.attested_keys();
    Ok(VerifiedEvidence { receipts, keys, attestation_hash, config_hash, policy_hash })
}

#[cfg(test)]
mod tests;

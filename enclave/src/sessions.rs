//! Attested sessions of one host connection.
//!
//! Sessions live in the connection that opened them and die with it: the
//! host cannot move a session to another connection, and a lost connection
//! means a new handshake. A slot is first a finished Noise handshake waiting
//! for its authentication frame (the principal's signature over the
//! handshake hash, checked against the configuration), then an open session.
//! Any frame that fails to decrypt or authenticate ends the session: after
//! tampering nothing in it is trusted.
use std::collections::HashMap;

use sentinel_config::Principal;
use sentinel_protocol::limits::{MAX_BODY_BYTES, MAX_SESSIONS_PER_CONNECTION};
use sentinel_protocol::{
    decode_body, decode_session_request, encode_cbor, AuditEntry, Authenticated, EnclaveError, EnclaveErrorCode,
    Response, SealedRecord, SessionAnswer, SessionClosed, SessionFrameAnswer, SessionOpened,
};
use sentinel_session::{ServerHandshake, ServerSession};

use crate::decide::Decided;
use crate::enclave::{now_us, Enclave, ReceiptInput};

/// Session ids are random 16-byte handles chosen by the enclave.
pub type SessionId = [u8; 16];

enum Slot {
    /// Handshake done; the next frame must authenticate a principal.
    Handshaken(ServerHandshake),
    /// `principal` as configured by configuration `version`; re-read when a newer one is installed.
    Open { session: ServerSession, principal: Principal, version: u64 },
}

#[derive(Default)]
pub struct ConnectionSessions {
    slots: HashMap<SessionId, Slot>,
    plaintext: Vec<u8>,
    sealed: Vec<u8>,
}

fn refuse(code: EnclaveErrorCode, message: impl Into<String>) -> Response {
    Response::error(&EnclaveError::new(code, message))
}

fn session_id(bytes: &[u8]) -> Result<SessionId, Response> {
    bytes.try_into().map_err(|_| refuse(EnclaveErrorCode::UnknownSession, "session_id: must be 16 bytes"))
}

impl ConnectionSessions {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(crate) fn open(&mut self, enclave: &Enclave, handshake: &[u8]) -> Response {
        let Some(installed) = enclave.installed() else {
            return refuse(EnclaveErrorCode::NotConfigured, "the enclave has no configuration yet");
        };
        if self.slots.len() >= MAX_SESSIONS_PER_CONNECTION {
            return refuse(
                EnclaveErrorCode::TooManySessions,
                format!("this connection already holds {MAX_SESSIONS_PER_CONNECTION} sessions"),
            );
        }
        // The current boot document, or the one a refresh just replaced (a client
        // may have verified it a moment before): the prologue names the document.
        let respond = |hash: &[u8; 32]| {
            sentinel_session::Responder::respond(&enclave.session_secret, hash, handshake, crate::random_bytes::<32>())
        };
        let answered = match (respond(&installed.attestation_hash), &installed.previous_attestation_hash) {
            (Err(_), Some(previous)) => respond(previous),
            (answered, _) => answered,
        };
        match answered {
            Ok((pending, reply)) => {
                let id = crate::random_bytes::<16>();
                self.slots.insert(id, Slot::Handshaken(pending));
                Response::SessionOpened(SessionOpened { session_id: id.to_vec(), handshake: reply })
            }
            Err(e) => refuse(
                EnclaveErrorCode::SessionHandshakeFailed,
                format!("handshake: {}", sentinel_error::CodedError::message(&e)),
            ),
        }
    }

    pub(crate) fn close(&mut self, id: &[u8]) -> Response {
        let id = match session_id(id) {
            Ok(id) => id,
            Err(refusal) => return refusal,
        };
        match self.slots.remove(&id) {
            Some(_) => Response::SessionClosed(SessionClosed { session_id: id.to_vec() }),
            None => refuse(EnclaveErrorCode::UnknownSession, "session_id: no such session on this connection"),
        }
    }

    pub(crate) fn frame(&mut self, enclave: &Enclave, id: &[u8], frame: &[u8]) -> Response {
        let id = match session_id(id) {
            Ok(id) => id,
            Err(refusal) => return refusal,
        };
        let Some(installed) = enclave.installed() else {
            return refuse(EnclaveErrorCode::NotConfigured, "the enclave has no configuration yet");
        };
        // Taken out while in use; put back only if the session is still good.
        let Some(slot) = self.slots.remove(&id) else {
            return refuse(EnclaveErrorCode::UnknownSession, "session_id: no such session on this connection");
        };
        let now = now_us();
        match slot {
            Slot::Handshaken(mut pending) => {
                let claim = match pending.open_auth(frame) {
                    Ok(claim) => claim,
                    Err(e) => {
                        return refuse(EnclaveErrorCode::SessionAuthFailed, sentinel_error::CodedError::message(&e))
                    }
                };
                let Some(principal) = installed.config.principal(&claim.principal) else {
                    // The name travelled encrypted; the refusal (in clear) does not repeat it.
                    return refuse(EnclaveErrorCode::SessionAuthFailed, "principal: not in the configuration");
                };
                if !principal.verify(&claim.digest, &claim.signature) {
                    return refuse(
                        EnclaveErrorCode::SessionAuthFailed,
                        "signature: does not verify with the principal's keys",
                    );
                }
                let lifetime_us = installed.config.session_max_lifetime_s.saturating_mul(1_000_000);
                let mut session = match pending.establish(&claim.principal, now, lifetime_us) {
                    Ok(session) => session,
                    Err(e) => {
                        return refuse(EnclaveErrorCode::SessionAuthFailed, sentinel_error::CodedError::message(&e))
                    }
                };
                let answer = SessionAnswer {
                    id: 0,
                    answer: Response::Authenticated(Authenticated {
                        principal: claim.principal,
                        expires_at_us: session.expires_at_us(),
                    }),
                    receipt: None,
                };
                let reply = self.seal(&mut session, &answer);
                let principal = principal.clone();
                match reply {
                    Ok(frame) => {
                        self.slots.insert(id, Slot::Open { session, principal, version: installed.config.version });
                        Response::SessionFrame(SessionFrameAnswer {
                            session_id: id.to_vec(),
                            frame,
                            audit: None,
                            sealed: None,
                        })
                    }
                    Err(refusal) => refusal,
                }
            }
            Slot::Open { mut session, mut principal, version } => {
                // A configuration update applies to open sessions too: the principal's
                // rights are re-read, and a principal the update removed loses its session.
                if version != installed.config.version {
                    match installed.config.principal(&principal.id) {
                        Some(current) => principal = current.clone(),
                        None => {
                            return refuse(
                                EnclaveErrorCode::SessionAuthFailed,
                                "principal: removed by a configuration update; the session is closed",
                            )
                        }
                    }
                }
                self.plaintext.clear();
                if let Err(e) = session.open(frame, &mut self.plaintext, now) {
                    let code = if sentinel_error::CodedError::code(&e) == EnclaveErrorCode::SessionExpired.as_str() {
                        EnclaveErrorCode::SessionExpired
                    } else {
                        EnclaveErrorCode::SessionBroken
                    };
                    return refuse(code, format!("{}; the session is closed", sentinel_error::CodedError::message(&e)));
                }
                let (answer, audit, sealed) = self.answer_request(enclave, &installed, &principal, now);
                match self.seal(&mut session, &answer) {
                    Ok(frame) => {
                        self.slots.insert(id, Slot::Open { session, principal, version: installed.config.version });
                        Response::SessionFrame(SessionFrameAnswer { session_id: id.to_vec(), frame, audit, sealed })
                    }
                    Err(refusal) => refusal,
                }
            }
        }
    }

    /// Decodes and decides one request of an open session (refusals travel inside the session),
    /// with the decision's audit record (which travels in clear, for the host to store).
    fn answer_request(
        &self,
        enclave: &Enclave,
        installed: &crate::enclave::Installed,
        principal: &Principal,
        now: u64,
    ) -> (SessionAnswer, Option<AuditEntry>, Option<Box<SealedRecord>>) {
        let request = match decode_session_request(&self.plaintext) {
            Ok(request) => request,
            Err(e) => {
                // Not a request at all (no id to answer, no body to digest): nothing was decided.
                let d = Decided::refused(EnclaveErrorCode::InvalidBody, format!("{}: {}", e.code(), e.message));
                return (SessionAnswer { id: 0, answer: d.response, receipt: None }, None, None);
            }
        };
        let mut input = ReceiptInput {
            request_id: crate::random_bytes::<16>(),
            principal: principal.id.clone(),
            op: String::new(),
            body: &request.body,
            now,
            stamp: None,
        };
        let decided = if request.body.len() > MAX_BODY_BYTES {
            Decided::refused(EnclaveErrorCode::PayloadTooLarge, format!("body: at most {MAX_BODY_BYTES} bytes"))
        } else {
            match decode_body(&request.body) {
                Ok(operation) => {
                    input.op = operation.wire_name().to_string();
                    if enclave.seals_keys()
                        && matches!(
                            operation,
                            sentinel_protocol::Operation::GenerateKey(_) | sentinel_protocol::Operation::ImportKey(_)
                        )
                    {
                        // Its sealed record would reach only the session's raw relay, which stores
                        // nothing: a key id must never be released that a restart would lose.
                        Decided::refused(
                            EnclaveErrorCode::SessionKeyCreationRefused,
                            "keys are sealed: create them with a stamped request (POST /v1/keys/generate), whose answer the host stores first",
                        )
                    } else {
                        enclave.decide(principal, operation)
                    }
                }
                Err(e) => Decided::refused(EnclaveErrorCode::InvalidBody, format!("{}: {}", e.code(), e.message)),
            }
        };
        if decided.hold.is_some() {
            // Held for approval: the pending answer and its receipt (always: the receipt's
            // request id is how the client follows it up with `approval_result`).
            return match enclave.answer(installed, &input, decided, principal) {
                Response::Receipted(r) => {
                    (SessionAnswer { id: request.id, answer: *r.answer, receipt: Some(r.receipt) }, r.audit, None)
                }
                other => (SessionAnswer { id: request.id, answer: other, receipt: None }, None, None),
            };
        }
        // Every decision is recorded; the receipt is made only when asked for.
        let appended = enclave.record_decision(&input, &decided);
        let receipt = request.receipt.then(|| enclave.receipt(installed, &input, &decided, appended.as_ref()));
        (SessionAnswer { id: request.id, answer: decided.response, receipt }, appended.map(|a| a.entry), decided.sealed)
    }

    fn seal(&mut self, session: &mut ServerSession, answer: &SessionAnswer) -> Result<Vec<u8>, Response> {
        let plaintext = encode_cbor(answer);
        self.sealed.clear();
        session
            .seal(&plaintext, &mut self.sealed)
            .map_err(|e| refuse(EnclaveErrorCode::SessionBroken, sentinel_error::CodedError::message(&e)))?;
        Ok(self.sealed.clone())
    }
}

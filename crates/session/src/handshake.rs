//! The two handshake messages (Noise NK, empty payloads) and the
//! authentication frame, for both sides. Each step consumes the previous
//! state, so a handshake cannot be replayed or resumed out of order in code.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use snow::params::NoiseParams;

use crate::channel::{sealed_len, Channel};
use crate::crypto::{Resolver, SessionSecret, KEY_LEN, TAG_LEN};
use crate::error::{err, Error, ErrorCode};
use crate::session::{ClientSession, ServerSession};
use crate::{auth, AUTH_DIGEST_TAG, HANDSHAKE_MESSAGE_LEN, MAX_AUTH_PLAINTEXT_LEN, PROLOGUE_TAG, PROTOCOL_NAME};

static PARAMS: LazyLock<NoiseParams> =
    LazyLock::new(|| PROTOCOL_NAME.parse().expect("PROTOCOL_NAME is a valid Noise protocol name"));

const PROLOGUE_LEN: usize = PROLOGUE_TAG.len() + 32;

/// `"sentinel/session/v1" || attestation_hash`: both sides mix it into the
/// handshake hash, so the handshake completes only if the client verified the
/// very attestation document this enclave instance booted with.
fn prologue(attestation_hash: &[u8; 32]) -> [u8; PROLOGUE_LEN] {
    let mut out = [0u8; PROLOGUE_LEN];
    out[..PROLOGUE_TAG.len()].copy_from_slice(PROLOGUE_TAG);
    out[PROLOGUE_TAG.len()..].copy_from_slice(attestation_hash);
    out
}

/// SHA-256(`"sentinel/session-auth/v1"` || handshake hash): what the principal signs.
fn auth_digest(handshake_hash: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(AUTH_DIGEST_TAG);
    h.update(handshake_hash);
    h.finalize().into()
}

fn failed(what: &str) -> Error {
    Error::new(ErrorCode::HandshakeFailed, what)
}

/// Finishes a snow handshake: the digest to sign and the transport channel.
fn split(state: snow::HandshakeState) -> Result<(Channel, [u8; 32]), Error> {
    if !state.is_handshake_finished() {
        return Err(failed("the handshake did not finish"));
    }
    let digest = auth_digest(state.get_handshake_hash());
    let transport = state.into_transport_mode().map_err(|_| failed("the handshake did not finish"))?;
    Ok((Channel::new(transport), digest))
}

/// The client before the enclave's answer: holds the ephemeral key of message 1.
pub struct Initiator {
    state: snow::HandshakeState,
}

impl Initiator {
    /// Starts a handshake with the enclave whose verified attestation document
    /// hashes to `attestation_hash` and carries `server_static_public` as the
    /// bundle's `session_key`. `ephemeral` must be 32 fresh bytes from a
    /// CSPRNG, used for nothing else (it becomes the X25519 ephemeral secret).
    /// Returns the state and message 1 (`HANDSHAKE_MESSAGE_LEN` bytes) for
    /// `session_open {handshake}`.
    pub fn new(
        server_static_public: &[u8; KEY_LEN],
        attestation_hash: &[u8; 32],
        ephemeral: [u8; KEY_LEN],
    ) -> Result<(Initiator, Vec<u8>), Error> {
        let prologue = prologue(attestation_hash);
        let mut state = snow::Builder::with_resolver(PARAMS.clone(), Box::new(Resolver::new(ephemeral)))
            .prologue(&prologue)
            .and_then(|b| b.remote_public_key(server_static_public))
            .and_then(|b| b.build_initiator())
            .map_err(|_| failed("could not set up the initiator"))?;
        let mut message = vec![0u8; HANDSHAKE_MESSAGE_LEN];
        match state.write_message(&[], &mut message) {
            Ok(HANDSHAKE_MESSAGE_LEN) => Ok((Initiator { state }, message)),
            _ => Err(failed("could not write handshake message 1")),
        }
    }

    /// Reads message 2 (`session_opened {handshake}`). Fails with
    /// `SESSION_HANDSHAKE_FAILED` when it is not from the holder of the
    /// session key or is damaged.
    pub fn finish(mut self, message: &[u8]) -> Result<ClientHandshake, Error> {
        if message.len() != HANDSHAKE_MESSAGE_LEN {
            return Err(failed(&format!(
                "handshake message 2 is {} bytes, {HANDSHAKE_MESSAGE_LEN} expected",
                message.len()
            )));
        }
        if self.state.read_message(message, &mut []).is_err() {
            return Err(failed("handshake message 2 did not verify (not from this enclave, or damaged)"));
        }
        let (channel, digest) = split(self.state)?;
        Ok(ClientHandshake { channel, digest })
    }
}

impl core::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Initiator { .. }")
    }
}

/// The client after the handshake, before it authenticated as a principal.
pub struct ClientHandshake {
    channel: Channel,
    digest: [u8; 32],
}

impl ClientHandshake {
    /// What the principal signs: SHA-256(`"sentinel/session-auth/v1"` ||
    /// Noise handshake hash). Unique to this session, so a signature is
    /// worthless in any other.
    pub fn auth_digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Seals the authentication frame (the first `session_frame` the client
    /// sends) and returns the session. `signature` is the principal's
    /// signature over [`Self::auth_digest`]. Fails with
    /// `SESSION_AUTH_MALFORMED` for an empty or over-long principal (over
    /// `MAX_PRINCIPAL_LEN` bytes) or signature (over `MAX_SIGNATURE_LEN`).
    pub fn authenticate(mut self, principal: &str, signature: &[u8]) -> Result<(ClientSession, Vec<u8>), Error> {
        let plaintext = auth::encode(principal, signature)?;
        let mut frame = Vec::with_capacity(plaintext.len() + TAG_LEN);
        self.channel.seal(&plaintext, &mut frame)?;
        Ok((ClientSession::new(self.channel), frame))
    }

    /// Seals `plaintext` as the authentication frame without checking it:
    /// only for the fuzz targets and tests that must reach the enclave's
    /// decoder with malformed maps (feature `fuzzing`, never in production).
    #[cfg(any(test, feature = "fuzzing"))]
    #[doc(hidden)]
    pub fn authenticate_raw(mut self, plaintext: &[u8]) -> Result<(ClientSession, Vec<u8>), Error> {
        let mut frame = Vec::new();
        self.channel.seal(plaintext, &mut frame)?;
        Ok((ClientSession::new(self.channel), frame))
    }
}

impl core::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ClientHandshake { .. }")
    }
}

/// The enclave's side of the handshake.
#[derive(Debug)]
pub struct Responder;

impl Responder {
    /// Answers message 1 with the enclave's static `session_key` secret and
    /// the hash of its boot attestation document. `ephemeral` must be 32
    /// fresh bytes from a CSPRNG, used for nothing else. Fails with
    /// `SESSION_HANDSHAKE_FAILED` when message 1 is malformed or was made for
    /// another key or attestation document. Returns the handshake and
    /// message 2 for `session_opened {handshake}`.
    pub fn respond(
        static_secret: &SessionSecret,
        attestation_hash: &[u8; 32],
        message: &[u8],
        ephemeral: [u8; KEY_LEN],
    ) -> Result<(ServerHandshake, Vec<u8>), Error> {
        if message.len() != HANDSHAKE_MESSAGE_LEN {
            return Err(failed(&format!(
                "handshake message 1 is {} bytes, {HANDSHAKE_MESSAGE_LEN} expected",
                message.len()
            )));
        }
        let prologue = prologue(attestation_hash);
        let resolver = Resolver::with_static(ephemeral, static_secret);
        let mut state = snow::Builder::with_resolver(PARAMS.clone(), Box::new(resolver))
            .prologue(&prologue)
            .and_then(|b| b.local_private_key(static_secret.secret()))
            .and_then(|b| b.build_responder())
            .map_err(|_| failed("could not set up the responder"))?;
        if state.read_message(message, &mut []).is_err() {
            return Err(failed(
                "handshake message 1 did not verify (made for another enclave key or attestation document, or damaged)",
            ));
        }
        let mut reply = vec![0u8; HANDSHAKE_MESSAGE_LEN];
        match state.write_message(&[], &mut reply) {
            Ok(HANDSHAKE_MESSAGE_LEN) => {}
            _ => return Err(failed("could not write handshake message 2")),
        }
        let (channel, digest) = split(state)?;
        Ok((ServerHandshake { channel, digest, auth: Auth::Awaiting }, reply))
    }
}

/// What the client claims in its authentication frame. The caller checks
/// `signature` over `digest` with `principal`'s configured keys; this crate
/// knows no principals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthClaim {
    /// The principal id the client claims to be (1 to `MAX_PRINCIPAL_LEN` bytes).
    pub principal: String,
    /// The claimed signature over `digest` (1 to `MAX_SIGNATURE_LEN` bytes).
    pub signature: Vec<u8>,
    /// This session's authentication digest (see [`ClientHandshake::auth_digest`]).
    pub digest: [u8; 32],
}

enum Auth {
    Awaiting,
    Claimed(String),
    Failed,
}

/// The enclave after the handshake, waiting for the authentication frame.
pub struct ServerHandshake {
    channel: Channel,
    digest: [u8; 32],
    auth: Auth,
}

impl ServerHandshake {
    /// This session's authentication digest (the same value the client signs).
    pub fn auth_digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Opens the authentication frame (the client's first `session_frame`).
    /// Works once: a second call, or any call after a failure, fails (the
    /// handshake is then good only for dropping). Codes: `SESSION_BROKEN`
    /// (did not decrypt), `SESSION_AUTH_MALFORMED` (decrypted, wrong shape or
    /// sizes, or a frame longer than an authentication frame can be),
    /// `SESSION_HANDSHAKE_FAILED` (called twice).
    pub fn open_auth(&mut self, frame: &[u8]) -> Result<AuthClaim, Error> {
        match self.auth {
            Auth::Awaiting => {}
            Auth::Claimed(_) => {
                self.auth = Auth::Failed;
                return err(ErrorCode::HandshakeFailed, "the authentication frame was already opened");
            }
            Auth::Failed => return err(ErrorCode::Broken, "the authentication failed earlier"),
        }
        self.auth = Auth::Failed;
        if frame.len() > sealed_len(MAX_AUTH_PLAINTEXT_LEN) {
            return err(
                ErrorCode::AuthMalformed,
                format!(
                    "authentication frame is {} bytes, at most {}",
                    frame.len(),
                    sealed_len(MAX_AUTH_PLAINTEXT_LEN)
                ),
            );
        }
        let mut plaintext = Vec::with_capacity(MAX_AUTH_PLAINTEXT_LEN);
        self.channel.open(frame, &mut plaintext)?;
        let (principal, signature) = auth::decode(&plaintext)?;
        self.auth = Auth::Claimed(principal.clone());
        Ok(AuthClaim { principal, signature, digest: self.digest })
    }

    /// The session, once the caller has verified the claim's signature for
    /// `principal`, which must be the claim's principal (otherwise, or
    /// without a successful [`Self::open_auth`], `SESSION_HANDSHAKE_FAILED`).
    /// The session expires at `now_us + lifetime_us` (microseconds since the
    /// Unix epoch, saturating).
    pub fn establish(self, principal: &str, now_us: u64, lifetime_us: u64) -> Result<ServerSession, Error> {
        match self.auth {
            Auth::Claimed(claimed) if claimed == principal => {
                Ok(ServerSession::new(self.channel, claimed, now_us.saturating_add(lifetime_us)))
            }
            Auth::Claimed(_) => err(ErrorCode::HandshakeFailed, "establish: the principal is not the one claimed"),
            _ => err(ErrorCode::HandshakeFailed, "establish: no authentication frame was opened"),
        }
    }
}

impl core::fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ServerHandshake { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciborium::Value;

    const HASH: [u8; 32] = [0xa7; 32];

    fn handshake() -> (ClientHandshake, ServerHandshake) {
        let secret = SessionSecret::from_bytes([0x11; 32]);
        let (init, m1) = Initiator::new(&secret.public(), &HASH, [0x22; 32]).unwrap();
        let (server, m2) = Responder::respond(&secret, &HASH, &m1, [0x33; 32]).unwrap();
        (init.finish(&m2).unwrap(), server)
    }

    fn cbor(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(v, &mut out).unwrap();
        out
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn malformed_auth_frames_are_refused_for_good() {
        let good_sig = Value::Bytes(vec![1; 64]);
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff],
            b"not cbor at all".to_vec(),
            cbor(&Value::Array(vec![text("principal"), good_sig.clone()])),
            cbor(&Value::Map(vec![(text("principal"), text("p"))])),
            cbor(&Value::Map(vec![(text("principal"), text("p")), (text("signature"), text("sig"))])),
            cbor(&Value::Map(vec![
                (text("principal"), Value::Bytes(b"p".to_vec())),
                (text("signature"), good_sig.clone()),
            ])),
            cbor(&Value::Map(vec![(text("principal"), text("p")), (text("principal"), text("q"))])),
            cbor(&Value::Map(vec![(text("signature"), good_sig.clone()), (text("signature"), good_sig.clone())])),
            cbor(&Value::Map(vec![
                (text("principal"), text("p")),
                (text("signature"), good_sig.clone()),
                (text("extra"), Value::Integer(1.into())),
            ])),
            cbor(&Value::Map(vec![(text("principal"), text("")), (text("signature"), good_sig.clone())])),
            cbor(&Value::Map(vec![(text("principal"), text("p")), (text("signature"), Value::Bytes(vec![]))])),
            cbor(&Value::Map(vec![
                (text("principal"), text(&"p".repeat(crate::MAX_PRINCIPAL_LEN + 1))),
                (text("signature"), good_sig.clone()),
            ])),
            cbor(&Value::Map(vec![
                (text("principal"), text("p")),
                (text("signature"), Value::Bytes(vec![1; crate::MAX_SIGNATURE_LEN + 1])),
            ])),
            // A good map followed by a byte.
            {
                let mut v =
                    cbor(&Value::Map(vec![(text("principal"), text("p")), (text("signature"), good_sig.clone())]));
                v.push(0);
                v
            },
            vec![0u8; MAX_AUTH_PLAINTEXT_LEN + 1],
        ];
        for (i, plaintext) in cases.iter().enumerate() {
            let (client, mut server) = handshake();
            let (_, frame) = client.authenticate_raw(plaintext).unwrap();
            let e = server.open_auth(&frame).unwrap_err();
            let expected = ErrorCode::AuthMalformed;
            assert_eq!(e.kind(), expected, "case {i}: {e}");
            assert_eq!(server.open_auth(&frame).unwrap_err().kind(), ErrorCode::Broken, "case {i}");
            assert_eq!(server.establish("p", 0, 1).unwrap_err().kind(), ErrorCode::HandshakeFailed, "case {i}");
        }
    }

    /// SHA-256("sentinel/session-auth/v1" || Noise handshake hash), the
    /// contract's formula, from both ends.
    #[test]
    fn auth_digest_is_the_contract_formula() {
        let secret = SessionSecret::from_bytes([0x11; 32]);
        let (mut init, m1) = Initiator::new(&secret.public(), &HASH, [0x22; 32]).unwrap();
        let (server, m2) = Responder::respond(&secret, &HASH, &m1, [0x33; 32]).unwrap();
        init.state.read_message(&m2, &mut []).unwrap();
        let h = init.state.get_handshake_hash().to_vec();
        assert_eq!(h.len(), 32);
        let expected: [u8; 32] =
            Sha256::new().chain_update(b"sentinel/session-auth/v1").chain_update(&h).finalize().into();
        assert_eq!(server.auth_digest(), expected);
        let (_, client_digest) = split(init.state).unwrap();
        assert_eq!(client_digest, expected);
    }

    #[test]
    fn keys_in_either_order_are_accepted() {
        let (client, mut server) = handshake();
        let map = Value::Map(vec![(text("signature"), Value::Bytes(vec![2; 64])), (text("principal"), text("p"))]);
        let (_, frame) = client.authenticate_raw(&cbor(&map)).unwrap();
        let claim = server.open_auth(&frame).unwrap();
        assert_eq!((claim.principal.as_str(), claim.signature.as_slice()), ("p", &[2u8; 64][..]));
    }
}

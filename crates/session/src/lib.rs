//! Attested sessions between a client and the enclave: the handshake and the
//! AEAD framing of both sides, pure (no I/O, no clock, no entropy source). It
//! decides whether a handshake reached the enclave instance whose attestation
//! document the client verified, which principal a session speaks for (given
//! the caller's verdict on a signature), and whether a frame is the next one
//! its peer sealed. It trusts the caller for the static secret, for 32 fresh
//! random bytes per handshake side, for `now_us`, and for checking the
//! principal's signature against the configuration.
//!
//! # Protocol
//! `Noise_NK_25519_AESGCM_SHA256` (snow 0.10; AES-256-GCM rather than
//! ChaChaPoly for its per-frame cost, see `src/crypto.rs`). The responder's
//! static key is the `session_key` of the attested key bundle; the prologue is
//! `"sentinel/session/v1" || attestation_hash`, so a handshake made for another
//! enclave key or attestation document fails at the enclave. Both handshake
//! messages have empty payloads ([`HANDSHAKE_MESSAGE_LEN`] bytes each):
//! `session_open {handshake: msg1}` → `session_opened {session_id, handshake:
//! msg2}`. The client's first `session_frame` is the authentication frame, the
//! CBOR map `{"principal": text, "signature": bstr}`, where the signature is the
//! principal's over SHA-256(`"sentinel/session-auth/v1"` || handshake hash):
//! unique per session, so it cannot be replayed into another. Every later frame
//! carries one plaintext of at most [`MAX_PLAINTEXT_LEN`] bytes; see
//! `src/channel.rs` for how a frame over 64 KiB spans several Noise messages.
//! Noise nonces are implicit counters: a frame opens only as the next frame its
//! peer sealed, and any failure kills the session for good.
//!
//! # Randomness
//! snow draws ephemeral keys from its resolver's RNG; its default resolver
//! reads the OS through `getrandom`. This crate builds snow without that
//! feature and installs its own resolver whose RNG hands out exactly the 32
//! bytes the caller passed to [`Initiator::new`] / [`Responder::respond`]
//! (a second draw is refused), so no randomness is hidden in the crate.
//!
//! # What the host (the relay) can and cannot do
//! It sees handshake messages, session ids, frame sizes and timing; it learns
//! neither plaintexts nor which principal a session authenticates (the
//! authentication frame is encrypted). It cannot complete a handshake as the
//! enclave (that needs the attested session secret), cannot authenticate as a
//! principal (the signature covers this session's handshake hash), and cannot
//! alter, replay, reorder, inject, truncate or splice frames, or move them
//! between sessions, without the next `open` failing. It can withhold or delay
//! frames, and dropping or damaging one kills the session (`SESSION_BROKEN`);
//! it can start handshakes of its own, which cost the enclave three X25519
//! operations each but never authenticate.
#![forbid(unsafe_code)]
#![deny(clippy::all)]

mod auth;
mod channel;
mod crypto;
mod error;
mod handshake;
mod session;

pub use channel::sealed_len;
pub use crypto::SessionSecret;
pub use error::{Error, ErrorCode};
pub use handshake::{AuthClaim, ClientHandshake, Initiator, Responder, ServerHandshake};
pub use session::{ClientSession, ServerSession};

/// The Noise protocol name.
pub const PROTOCOL_NAME: &str = "Noise_NK_25519_AESGCM_SHA256";
/// First part of the Noise prologue; the 32-byte attestation hash follows.
pub const PROLOGUE_TAG: &[u8] = b"sentinel/session/v1";
/// Domain separation tag of the authentication digest.
pub const AUTH_DIGEST_TAG: &[u8] = b"sentinel/session-auth/v1";
/// Length of each handshake message: an X25519 public key and a tag.
pub const HANDSHAKE_MESSAGE_LEN: usize = 32 + crypto::TAG_LEN;
/// Bytes a frame adds to a plaintext of under 65519 bytes (the Poly1305 tag);
/// [`sealed_len`] gives the exact length for any size.
pub const FRAME_OVERHEAD: usize = crypto::TAG_LEN;
/// Largest plaintext of one frame: room for the largest operation body
/// (a 128 KiB transaction plus its envelope) and its answer, while a sealed
/// frame stays far below the protocol's 1 MiB frame.
pub const MAX_PLAINTEXT_LEN: usize = 256 * 1024;
/// Largest frame [`ServerSession::open`] / [`ClientSession::open`] accepts.
pub const MAX_FRAME_LEN: usize = sealed_len(MAX_PLAINTEXT_LEN);
/// Longest principal id in an authentication frame, in bytes.
pub const MAX_PRINCIPAL_LEN: usize = 128;
/// Longest signature in an authentication frame (every algorithm in use has 64).
pub const MAX_SIGNATURE_LEN: usize = 128;
/// Largest authentication frame plaintext (the map with both fields at their caps is 281 bytes).
pub const MAX_AUTH_PLAINTEXT_LEN: usize = 512;

/// A handshake message was malformed or did not verify, or the handshake API was used out of order.
pub const SESSION_HANDSHAKE_FAILED: &str = ErrorCode::HandshakeFailed.as_str();
/// The authentication frame decrypted but is not a well-formed `{principal, signature}` map within the caps.
pub const SESSION_AUTH_MALFORMED: &str = ErrorCode::AuthMalformed.as_str();
/// A frame failed to decrypt, now or earlier: the session is dead.
pub const SESSION_BROKEN: &str = ErrorCode::Broken.as_str();
/// The server session outlived its lifetime.
pub const SESSION_EXPIRED: &str = ErrorCode::Expired.as_str();
/// A plaintext over [`MAX_PLAINTEXT_LEN`] or a frame over [`MAX_FRAME_LEN`].
pub const SESSION_FRAME_TOO_LARGE: &str = ErrorCode::FrameTooLarge.as_str();
/// The session was closed.
pub const SESSION_CLOSED: &str = ErrorCode::Closed.as_str();

//! Sentinel signing core.
//!
//! The one place where Sentinel turns secret keys into signatures. Two curves:
//! secp256k1 ECDSA through libsecp256k1 (RFC 6979 deterministic nonces, low-S
//! normalised output, recovery id; strict or plain verification) and Ed25519
//! through `ed25519-dalek`. Secret keys are opaque types that redact `Debug`
//! and are wiped on drop. Every failure is an [`Error`] with a stable code so
//! that bindings can forward it unchanged. Nothing here reads a clock, a file
//! or the environment. (The crate uses `std` only for libsecp256k1's one
//! process-wide context; nothing else depends on it.)
#![forbid(unsafe_code)]

pub mod ed25519;
mod error;
pub mod hazmat;
pub mod secp256k1;

pub use error::Error;

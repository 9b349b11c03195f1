//! The host <-> enclave wire protocol (spec: `docs/protocol.md`), defined once.
//!
//! The host is untrusted, so this crate is written for the enclave's side of
//! that boundary: every byte from the host goes through [`FrameDecoder`]
//! (bounded buffering, a hard frame-size cap) and [`decode_request`] (typed
//! structs decoded straight from the bytes, or a coded error that still
//! carries the request id when one could be read), and nothing here panics on
//! input. The same crate serves the host through the N-API binding, and its
//! tests generate the TypeScript types the host compiles against, so both ends
//! share one definition of every message, error code and limit.
#![forbid(unsafe_code)]

mod bytes;
mod codes;
mod decode;
mod error;
mod frame;
pub mod limits;
mod message;
mod result_hash;
#[cfg(test)]
mod typescript;
mod wire_json;

pub use codes::{EnclaveError, EnclaveErrorCode};
pub use error::{ProtocolError, ProtocolErrorCode};
pub use frame::{encode_frame, FrameDecoder, FRAME_HEADER_BYTES, MAX_FRAME_BYTES};
pub use message::*;
pub use result_hash::result_hash;
pub use wire_json::from_wire_json;

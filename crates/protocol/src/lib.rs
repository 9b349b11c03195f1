//! The host <-> enclave wire protocol (spec: `docs/protocol.md`).
//!
//! The host is untrusted, so this crate is written for the enclave's side of
//! that boundary: every byte from the host goes through [`FrameDecoder`]
//! (bounded buffering, a hard frame-size cap) and [`decode_request`] (a typed
//! message or a coded error that still carries the request id when one could
//! be read), and nothing here panics on input. The same codec serves the host
//! through the N-API binding, so both ends share one definition of the format.
#![forbid(unsafe_code)]

mod bytes;
mod error;
mod frame;
mod message;

pub use error::{ProtocolError, ProtocolErrorCode};
pub use frame::{encode_frame, FrameDecoder, FRAME_HEADER_BYTES, MAX_FRAME_BYTES};
pub use message::{
    decode_request, decode_response, encode_request, encode_response, Curve, Request, RequestFrame, Response,
    ResponseFrame, PROTOCOL_VERSION,
};

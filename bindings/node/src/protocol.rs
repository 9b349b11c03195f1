//! The host side of the enclave protocol: frame encoding and decoding for the
//! TypeScript sidecar, so the wire format has exactly one implementation
//! (`crates/protocol`). Thin: convert, call, convert back.
// napi-rs registers exports only outside `cfg(test)`, so the test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]
use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_error::InvalidArgument;
use sentinel_protocol::{limits, FrameDecoder as CoreDecoder, Request, RequestFrame};

use super::throw;

/// Encodes one request as a complete frame (length prefix included). The
/// request object is deserialized straight into the Rust `Request`, so this
/// binding knows no operation names; `id` is a non-negative safe integer.
#[napi(catch_unwind, ts_args_type = "id: number, request: import('./protocol').Request")]
pub fn encode_request<'env>(env: &'env Env, id: f64, request: Unknown<'env>) -> Result<BufferSlice<'env>> {
    if !((0.0..=9_007_199_254_740_991.0).contains(&id) && id.fract() == 0.0) {
        return Err(throw(env, InvalidArgument::new("id", "must be a non-negative safe integer")));
    }
    let request: Request =
        env.from_js_value(request).map_err(|e| throw(env, InvalidArgument::new("request", e.reason)))?;
    BufferSlice::copy_from(env, sentinel_protocol::encode_request(&RequestFrame { id: id as u64, request }))
}

/// Decodes one response frame body into `{ id, type, ...fields }` (bytes as Buffers).
#[napi(catch_unwind, ts_return_type = "import('./protocol').Response & { id: number }")]
pub fn decode_response<'env>(env: &'env Env, body: &[u8]) -> Result<Object<'env>> {
    let frame = sentinel_protocol::decode_response(body).map_err(|e| throw(env, e))?;
    let value = env.to_js_value(&frame.response)?;
    let mut object = Object::from_unknown(value)?;
    object.set_named_property("id", frame.id as f64)?;
    Ok(object)
}

/// The answer type each operation gets when it succeeds (`{ sign_digest: 'signature', ... }`).
#[napi(catch_unwind, ts_return_type = "import('./protocol').AnswerTypes")]
pub fn operation_answers(env: &Env) -> Result<Object<'_>> {
    let mut out = Object::new(env)?;
    for (op, answer) in Request::ANSWERS {
        out.set_named_property(op, *answer)?;
    }
    Ok(out)
}

/// Largest frame body (crates/protocol `limits`).
#[napi]
pub const MAX_FRAME_BYTES: u32 = limits::MAX_FRAME_BYTES as u32;
/// Largest attestation nonce.
#[napi]
pub const MAX_NONCE_BYTES: u32 = limits::MAX_NONCE_BYTES as u32;
/// Largest unsigned Ethereum transaction.
#[napi]
pub const MAX_TRANSACTION_BYTES: u32 = limits::MAX_TRANSACTION_BYTES as u32;
/// Longest key id.
#[napi]
pub const MAX_KEY_ID_BYTES: u32 = limits::MAX_KEY_ID_BYTES as u32;
/// Largest `ping` payload.
#[napi]
pub const MAX_PING_PAYLOAD_BYTES: u32 = limits::MAX_PING_PAYLOAD_BYTES as u32;

/// Splits a byte stream from the enclave into frame bodies.
#[napi]
pub struct FrameDecoder {
    inner: CoreDecoder,
}

#[napi]
impl FrameDecoder {
    #[napi(constructor)]
    pub fn new() -> Self {
        FrameDecoder { inner: CoreDecoder::new() }
    }

    /// Appends bytes read from the socket.
    #[napi]
    pub fn push(&mut self, chunk: &[u8]) {
        self.inner.push(chunk);
    }

    /// The next complete frame body, or `null` when more bytes are needed.
    /// Throws `FRAME_TOO_LARGE` (the connection must be dropped) or `EMPTY_FRAME`.
    #[napi(catch_unwind)]
    pub fn next<'env>(&mut self, env: &'env Env) -> Result<Option<BufferSlice<'env>>> {
        match self.inner.next_frame() {
            Ok(Some(body)) => BufferSlice::copy_from(env, body).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(throw(env, e)),
        }
    }

    /// Bytes received but not yet returned as frames.
    #[napi(getter)]
    pub fn buffered(&self) -> u32 {
        self.inner.buffered() as u32
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

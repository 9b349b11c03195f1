//! The host side of the enclave protocol: frame encoding and decoding for the
//! TypeScript sidecar, so the wire format has exactly one implementation
//! (`crates/protocol`). Thin: convert, call, convert back.
// napi-rs registers exports only outside `cfg(test)`, so the test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]
use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_error::InvalidArgument;
use sentinel_protocol::{
    limits, FrameDecoder as CoreDecoder, Operation, Request, RequestFrame, Response, Stamp, StampedArgs,
};

use super::{optional, throw};

/// Encodes one request as a complete frame (length prefix included). The
/// request object is deserialized straight into the Rust `Request`, so this
/// binding knows no operation names; `id` is a non-negative safe integer.
#[napi(catch_unwind, ts_args_type = "id: number, request: import('./protocol').Request")]
pub fn encode_request<'env>(env: &'env Env, id: f64, request: Unknown<'env>) -> Result<BufferSlice<'env>> {
    let id = safe_integer(env, "id", id)?;
    let request: Request =
        env.from_js_value(request).map_err(|e| throw(env, InvalidArgument::new("request", e.reason)))?;
    BufferSlice::copy_from(env, sentinel_protocol::encode_request(&RequestFrame { id, request }))
}

/// A `stamped` request's stamp with a number timestamp (`encodeStampedRequest`).
#[napi(object, object_to_js = false)]
pub struct StampFields {
    pub principal: String,
    /// µs since the Unix epoch: a non-negative safe integer.
    #[napi(js_name = "timestamp_us")]
    pub timestamp_us: f64,
    pub nonce: Uint8Array,
    pub signature: Uint8Array,
}

/// `encodeRequest(id, { op: 'stamped', body, stamp })` with the stamp's
/// fields read directly instead of through the generic request conversion
/// (the sidecar's hot path: one per stamped API request). Same frame bytes,
/// same `encode_request`; `id` and `timestamp_us` are non-negative safe integers.
#[napi(catch_unwind)]
pub fn encode_stamped_request<'env>(
    env: &'env Env,
    id: f64,
    body: &[u8],
    #[napi(ts_arg_type = "StampFields | null")] stamp: Option<Unknown<'env>>,
) -> Result<BufferSlice<'env>> {
    let id = safe_integer(env, "id", id)?;
    let stamp = match optional::<StampFields>(env, "stamp", stamp)? {
        None => None,
        Some(s) => Some(Stamp {
            principal: s.principal,
            timestamp_us: safe_integer(env, "stamp.timestamp_us", s.timestamp_us)?,
            nonce: s.nonce.to_vec(),
            signature: s.signature.to_vec(),
        }),
    };
    let request = Request::Stamped(StampedArgs { body: body.to_vec(), stamp });
    BufferSlice::copy_from(env, sentinel_protocol::encode_request(&RequestFrame { id, request }))
}

fn safe_integer(env: &Env, name: &str, value: f64) -> Result<u64> {
    if (0.0..=9_007_199_254_740_991.0).contains(&value) && value.fract() == 0.0 {
        Ok(value as u64)
    } else {
        Err(throw(env, InvalidArgument::new(name, "must be a non-negative safe integer")))
    }
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

/// Encodes an operation body `{op, ...args}`: the exact bytes a stamp signs
/// and a session frame carries (the `stamped` request's `body`).
#[napi(catch_unwind, ts_args_type = "operation: import('./protocol').Operation")]
pub fn encode_body<'env>(env: &'env Env, operation: Unknown<'env>) -> Result<BufferSlice<'env>> {
    let operation: Operation =
        env.from_js_value(operation).map_err(|e| throw(env, InvalidArgument::new("operation", e.reason)))?;
    BufferSlice::copy_from(env, sentinel_protocol::encode_body(&operation))
}

/// Decodes an operation body (what the enclave will read from these bytes).
#[napi(catch_unwind, ts_return_type = "import('./protocol').Operation")]
pub fn decode_body<'env>(env: &'env Env, body: &[u8]) -> Result<Unknown<'env>> {
    let operation = sentinel_protocol::decode_body(body).map_err(|e| throw(env, e))?;
    env.to_js_value(&operation)
}

/// The `op` of an operation body, reading nothing else: the name when the body
/// is a CBOR map whose first key is `op` with the text name of a known
/// operation, else `null` (never an unknown name). For routing; `decodeBody`
/// is the check.
#[napi(ts_return_type = "import('./protocol').Operation['op'] | null")]
pub fn body_operation_name(body: &[u8]) -> Option<&'static str> {
    sentinel_protocol::body_operation(body)
}

/// The `result_hash` a receipt records for an answer given as wire JSON (the
/// API's form: bytes as 0x-hex), or `null` for an answer without one (`error`);
/// `INVALID_ARGUMENT` for anything that is not an answer (`crates/protocol` `result_hash`).
#[napi(catch_unwind)]
pub fn result_hash<'env>(env: &'env Env, answer_json: String) -> Result<Option<BufferSlice<'env>>> {
    let answer: Response = sentinel_protocol::from_wire_json(&answer_json).map_err(|e| throw(env, e))?;
    sentinel_protocol::result_hash(&answer).map(|hash| BufferSlice::copy_from(env, hash)).transpose()
}

/// The answer type each body operation gets when it succeeds (`{ sign_digest: 'signature', ... }`).
#[napi(catch_unwind, ts_return_type = "import('./protocol').OperationAnswerTypes")]
pub fn body_operation_answers(env: &Env) -> Result<Object<'_>> {
    let mut out = Object::new(env)?;
    for (op, answer) in Operation::ANSWERS {
        out.set_named_property(op, *answer)?;
    }
    Ok(out)
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

/// Longest key label.
#[napi]
pub const MAX_LABEL_BYTES: u32 = limits::MAX_LABEL_BYTES as u32;
/// Largest operation body.
#[napi]
pub const MAX_BODY_BYTES: u32 = limits::MAX_BODY_BYTES as u32;
/// Largest `sign_ed25519` message.
#[napi]
pub const MAX_ED25519_MESSAGE_BYTES: u32 = limits::MAX_ED25519_MESSAGE_BYTES as u32;

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

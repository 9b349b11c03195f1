//! The host side of the enclave protocol: frame encoding and decoding for the
//! TypeScript sidecar, so the wire format has exactly one implementation
//! (`crates/protocol`). Thin: convert, call, convert back.
// napi-rs registers exports only outside `cfg(test)`, so the test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]
use napi::bindgen_prelude::*;
use napi_derive::napi;
use sentinel_protocol::{Curve, FrameDecoder as CoreDecoder, Request, RequestFrame};

use super::{throw, Coded};

impl Coded for sentinel_protocol::ProtocolError {
    fn code(&self) -> &'static str {
        sentinel_protocol::ProtocolError::code(self)
    }
    fn text(&self) -> String {
        self.message.clone()
    }
}

/// A coded error for a bad argument from the TypeScript side.
struct Arg(String);

impl Coded for Arg {
    fn code(&self) -> &'static str {
        "INVALID_ARGUMENT"
    }
    fn text(&self) -> String {
        self.0.clone()
    }
}

#[napi(object)]
pub struct RequestArgs {
    pub payload: Option<Buffer>,
    pub nonce: Option<Buffer>,
    pub curve: Option<String>,
    pub key_id: Option<String>,
    pub digest: Option<Buffer>,
    pub unsigned_tx: Option<Buffer>,
}

fn required<T>(env: &Env, value: Option<T>, name: &str, op: &str) -> Result<T> {
    value.ok_or_else(|| throw(env, Arg(format!("{name}: required for `{op}`"))))
}

/// Encodes one request as a complete frame (length prefix included).
/// `op` is a protocol operation name (`ping`, `describe`, `attest`, `generate_key`,
/// `sign_digest`, `sign_ethereum_transaction`); `id` a non-negative safe integer.
#[napi(catch_unwind)]
pub fn encode_request<'env>(
    env: &'env Env,
    id: f64,
    op: String,
    args: Option<RequestArgs>,
) -> Result<BufferSlice<'env>> {
    if !((0.0..=9_007_199_254_740_991.0).contains(&id) && id.fract() == 0.0) {
        return Err(throw(env, Arg("id: must be a non-negative safe integer".into())));
    }
    let a = args.unwrap_or(RequestArgs {
        payload: None,
        nonce: None,
        curve: None,
        key_id: None,
        digest: None,
        unsigned_tx: None,
    });
    let op_name = op.as_str();
    let request = match op_name {
        "ping" => Request::Ping { payload: a.payload.map(|b| b.to_vec()).unwrap_or_default() },
        "describe" => Request::Describe {},
        "attest" => Request::Attest { nonce: required(env, a.nonce, "nonce", op_name)?.to_vec() },
        "generate_key" => {
            let curve = match required(env, a.curve, "curve", op_name)?.as_str() {
                "secp256k1" => Curve::Secp256k1,
                "ed25519" => Curve::Ed25519,
                other => return Err(throw(env, Arg(format!("curve: `{other}` is not secp256k1 or ed25519")))),
            };
            Request::GenerateKey { curve }
        }
        "sign_digest" => Request::SignDigest {
            key_id: required(env, a.key_id, "keyId", op_name)?,
            digest: required(env, a.digest, "digest", op_name)?.to_vec(),
        },
        "sign_ethereum_transaction" => Request::SignEthereumTransaction {
            key_id: required(env, a.key_id, "keyId", op_name)?,
            unsigned_tx: required(env, a.unsigned_tx, "unsignedTx", op_name)?.to_vec(),
        },
        other => return Err(throw(env, Arg(format!("op: `{other}` is not a protocol operation")))),
    };
    BufferSlice::copy_from(env, sentinel_protocol::encode_request(&RequestFrame { id: id as u64, request }))
}

/// Decodes one response frame body into `{ id, type, ...fields }` (bytes as Buffers).
#[napi(catch_unwind, ts_return_type = "{ id: number; type: string; [field: string]: unknown }")]
pub fn decode_response<'env>(env: &'env Env, body: &[u8]) -> Result<Object<'env>> {
    let frame = sentinel_protocol::decode_response(body).map_err(|e| throw(env, e))?;
    let value = env.to_js_value(&frame.response)?;
    let mut object = Object::from_unknown(value)?;
    object.set_named_property("id", frame.id as f64)?;
    Ok(object)
}

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

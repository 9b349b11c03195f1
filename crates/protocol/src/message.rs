//! Messages: one CBOR map per frame, `{v, id, op, ...args}` for requests and
//! `{v, id, type, ...fields}` for responses.
//!
//! Flat maps keep frames small and readable in a CBOR dump. Decoding is
//! two-step so that a request with a bad body still yields its `id`: first
//! the envelope (`v`, `id`), then the typed body with unknown fields refused,
//! because a field the enclave silently ignored could be mistaken by a client
//! for a constraint the enclave enforced.
use ciborium::Value;
use serde::{Deserialize, Serialize};

use crate::error::{ProtocolError, ProtocolErrorCode};
use crate::frame::encode_frame;

pub const PROTOCOL_VERSION: u16 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Curve {
    Secp256k1,
    Ed25519,
}

/// What the host may ask of the enclave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Request {
    /// Liveness and round-trip measurement; the payload is echoed.
    Ping {
        #[serde(with = "crate::bytes")]
        payload: Vec<u8>,
    },
    /// Protocol version, enclave identity key and PCRs.
    Describe {},
    /// A fresh attestation document. The client chooses only the nonce; the
    /// enclave fills `user_data` with its own state.
    Attest {
        #[serde(with = "crate::bytes")]
        nonce: Vec<u8>,
    },
    /// Creates a key inside the enclave; only its public half leaves.
    GenerateKey { curve: Curve },
    SignDigest {
        key_id: String,
        #[serde(with = "crate::bytes")]
        digest: Vec<u8>,
    },
    SignEthereumTransaction {
        key_id: String,
        #[serde(with = "crate::bytes")]
        unsigned_tx: Vec<u8>,
    },
}

impl Request {
    pub const OPS: [&'static str; 6] =
        ["ping", "describe", "attest", "generate_key", "sign_digest", "sign_ethereum_transaction"];
}

/// What the enclave answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Response {
    Pong {
        #[serde(with = "crate::bytes")]
        payload: Vec<u8>,
    },
    Description {
        protocol_version: u16,
        module_id: String,
        #[serde(with = "crate::bytes")]
        identity_public_key: Vec<u8>,
        /// PCR0, PCR1, PCR2 (48 bytes each).
        pcrs: Vec<serde_bytes::ByteBuf>,
    },
    Attestation {
        #[serde(with = "crate::bytes")]
        document: Vec<u8>,
    },
    KeyGenerated {
        key_id: String,
        curve: Curve,
        #[serde(with = "crate::bytes")]
        public_key: Vec<u8>,
    },
    Signature {
        #[serde(with = "crate::bytes")]
        signature: Vec<u8>,
        recovery_id: Option<u8>,
    },
    SignedTransaction {
        #[serde(with = "crate::bytes")]
        raw: Vec<u8>,
    },
    Error {
        code: String,
        message: String,
    },
}

impl Response {
    pub const TYPES: [&'static str; 7] =
        ["pong", "description", "attestation", "key_generated", "signature", "signed_transaction", "error"];
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestFrame {
    pub id: u64,
    pub request: Request,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseFrame {
    pub id: u64,
    pub response: Response,
}

/// Encodes a request as a complete frame (length prefix included).
pub fn encode_request(frame: &RequestFrame) -> Vec<u8> {
    encode_message(frame.id, &frame.request)
}

/// Encodes a response as a complete frame (length prefix included).
pub fn encode_response(frame: &ResponseFrame) -> Vec<u8> {
    encode_message(frame.id, &frame.response)
}

fn encode_message<T: Serialize>(id: u64, body: &T) -> Vec<u8> {
    // Serialising our own enums into a Value cannot fail: every field is a CBOR-representable type.
    let Ok(Value::Map(fields)) = Value::serialized(body) else {
        unreachable!("messages serialise to CBOR maps");
    };
    let mut entries = Vec::with_capacity(fields.len() + 2);
    entries.push((Value::Text("v".into()), Value::Integer(PROTOCOL_VERSION.into())));
    entries.push((Value::Text("id".into()), Value::Integer(id.into())));
    entries.extend(fields);
    let mut body = Vec::new();
    ciborium::into_writer(&Value::Map(entries), &mut body).expect("writing to a Vec cannot fail");
    encode_frame(&body)
}

/// Decodes one request frame body (without the length prefix).
pub fn decode_request(body: &[u8]) -> Result<RequestFrame, ProtocolError> {
    let (id, rest) = decode_envelope(body, "op", &Request::OPS)?;
    let request = rest.deserialized::<Request>().map_err(|e| argument_error(id, e))?;
    Ok(RequestFrame { id, request })
}

/// Decodes one response frame body (without the length prefix).
pub fn decode_response(body: &[u8]) -> Result<ResponseFrame, ProtocolError> {
    let (id, rest) = decode_envelope(body, "type", &Response::TYPES)?;
    let response = rest.deserialized::<Response>().map_err(|e| argument_error(id, e))?;
    Ok(ResponseFrame { id, response })
}

fn argument_error(id: u64, e: ciborium::value::Error) -> ProtocolError {
    let mut err = ProtocolError::new(ProtocolErrorCode::InvalidArgument, format!("body: {e}"));
    err.request_id = Some(id);
    err
}

/// Reads `{v, id, <tag>, ...}`; returns the id and the map without `v` and `id`.
fn decode_envelope(body: &[u8], tag: &str, known: &[&str]) -> Result<(u64, Value), ProtocolError> {
    let malformed = |m: String| ProtocolError::new(ProtocolErrorCode::MalformedFrame, m);
    if body.is_empty() {
        return Err(ProtocolError::new(ProtocolErrorCode::EmptyFrame, "frame: zero-length body"));
    }
    let mut reader = body;
    let value: Value = ciborium::from_reader(&mut reader).map_err(|e| malformed(format!("frame: not CBOR: {e}")))?;
    if !reader.is_empty() {
        return Err(malformed(format!("frame: {} trailing bytes after the message", reader.len())));
    }
    let Value::Map(entries) = value else { return Err(malformed("frame: message is not a CBOR map".into())) };

    let mut version = None;
    let mut id = None;
    let mut tag_value = None;
    let mut rest = Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    for (key, value) in entries {
        let Value::Text(name) = &key else { return Err(malformed("frame: map keys must be text".into())) };
        let slot = match name.as_str() {
            "v" => &mut version,
            "id" => &mut id,
            _ => {
                if name == tag {
                    tag_value = Some(value.clone());
                }
                if !seen.insert(name.clone()) {
                    return Err(malformed(format!("frame: duplicate key `{name}`")));
                }
                rest.push((key, value));
                continue;
            }
        };
        if slot.is_some() {
            return Err(malformed(format!("frame: duplicate key `{name}`")));
        }
        *slot = Some(value);
    }

    let id = match id {
        Some(Value::Integer(i)) => {
            u64::try_from(i).map_err(|_| malformed("id: must be an unsigned 64-bit integer".into()))?
        }
        Some(_) => return Err(malformed("id: must be an unsigned 64-bit integer".into())),
        None => return Err(malformed("id: missing".into())),
    };
    let with_id = |code, message: String| {
        let mut err = ProtocolError::new(code, message);
        err.request_id = Some(id);
        err
    };
    match version {
        Some(Value::Integer(v)) if u16::try_from(v).ok() == Some(PROTOCOL_VERSION) => {}
        Some(_) => {
            return Err(with_id(
                ProtocolErrorCode::UnsupportedVersion,
                format!("v: only protocol version {PROTOCOL_VERSION} is supported"),
            ))
        }
        None => return Err(with_id(ProtocolErrorCode::MalformedFrame, "v: missing".into())),
    }
    match tag_value {
        Some(Value::Text(t)) if known.contains(&t.as_str()) => {}
        Some(Value::Text(t)) => {
            return Err(with_id(ProtocolErrorCode::UnknownOperation, format!("{tag}: `{t}` is not known")))
        }
        Some(_) => return Err(with_id(ProtocolErrorCode::MalformedFrame, format!("{tag}: must be text"))),
        None => return Err(with_id(ProtocolErrorCode::MalformedFrame, format!("{tag}: missing"))),
    }
    Ok((id, Value::Map(rest)))
}

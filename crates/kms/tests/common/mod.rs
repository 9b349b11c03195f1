//! Test helpers: a seeded RNG, the fixtures, and a fake KMS that makes `CiphertextForRecipient`
//! envelopes the way KMS describes them (built with the `cms` types, RSAES-OAEP SHA-256 and
//! AES-256-CBC), for keys the tests do not know in advance (the provider's ephemeral key).
#![allow(dead_code)]

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use sentinel_kms::{HttpRequest, HttpResponse, KmsError, KmsTransport};

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors/kms").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A DER ContentInfo(EnvelopedData) carrying `content` for the RSA key `spki_der`, as KMS makes it.
#[allow(unused_imports)]
pub use sentinel_kms::fake::envelope_for;

/// A request's JSON body.
pub fn body_json(request: &HttpRequest) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    B64.decode(text).unwrap()
}

pub fn response(status: u16, body: serde_json::Value) -> HttpResponse {
    HttpResponse { status, body: serde_json::to_vec(&body).unwrap() }
}

/// A scripted transport: records every request and answers with `answer(request)`.
pub struct Scripted<F> {
    pub requests: Vec<HttpRequest>,
    pub answer: F,
}

impl<F: FnMut(&HttpRequest) -> HttpResponse> KmsTransport for Scripted<F> {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, KmsError> {
        self.requests.push(request.clone());
        Ok((self.answer)(request))
    }
}

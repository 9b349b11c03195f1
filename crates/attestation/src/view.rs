//! The JavaScript-facing shapes, shared by the N-API and the WASM binding so
//! that both give byte-identical answers and neither holds logic: the result
//! view (camelCase, bytes as lowercase hex), the hex form of expectations, and
//! one entry point that does verify + optional check for a binding call.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::document::VerifiedDocument;
use crate::error::{Error, ErrorCode};
use crate::expect::Expectations;
use crate::time::UnixTime;
use crate::{verify_with, VerifyOptions, AWS_NITRO_ROOT_G1_DER};

/// `VerifiedDocument` as JS sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDocumentView {
    pub module_id: String,
    pub digest: String,
    /// A JS number (u64 would become a BigInt in N-API); exact below 2^53 ms.
    pub timestamp_ms: f64,
    /// Index (decimal string) → hex.
    pub pcrs: BTreeMap<String, String>,
    pub public_key: Option<String>,
    pub user_data: Option<String>,
    pub nonce: Option<String>,
    /// Leaf certificate, hex DER.
    pub certificate: String,
    /// SHA-256 of the trusted root, hex.
    pub root_fingerprint: String,
    /// `"aws-nitro"` or `"other"`.
    pub root_kind: &'static str,
}

impl VerifiedDocument {
    /// The JS view of this document.
    pub fn view(&self) -> VerifiedDocumentView {
        VerifiedDocumentView {
            module_id: self.module_id.clone(),
            digest: self.digest.clone(),
            timestamp_ms: self.timestamp_ms as f64,
            pcrs: self.pcrs.iter().map(|(i, v)| (i.to_string(), hex::encode(v))).collect(),
            public_key: self.public_key.as_ref().map(hex::encode),
            user_data: self.user_data.as_ref().map(hex::encode),
            nonce: self.nonce.as_ref().map(hex::encode),
            certificate: hex::encode(&self.certificate),
            root_fingerprint: hex::encode(self.root_fingerprint),
            root_kind: self.root_kind.as_str(),
        }
    }
}

/// Expectations as JS passes them: PCR index (decimal string) → hex, other
/// bytes as hex, age as a JS number.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectationsSpec {
    pub pcrs: Option<BTreeMap<String, String>>,
    pub nonce: Option<String>,
    pub user_data: Option<String>,
    pub public_key: Option<String>,
    pub max_age_ms: Option<f64>,
}

impl TryFrom<ExpectationsSpec> for Expectations {
    type Error = Error;

    fn try_from(spec: ExpectationsSpec) -> Result<Self, Error> {
        let invalid = |what: String| Error::new(ErrorCode::InvalidExpectation, what);
        let bytes = |name: &str, h: Option<String>| {
            h.map(|h| hex::decode(&h).map_err(|_| invalid(format!("expected {name} is not hex")))).transpose()
        };
        let mut pcrs = Vec::new();
        for (index, value) in spec.pcrs.unwrap_or_default() {
            let i = index.parse::<u8>().map_err(|_| invalid(format!("PCR index {index:?} is not a small integer")))?;
            pcrs.push((i, bytes(&format!("pcrs[{index}]"), Some(value))?.unwrap_or_default()));
        }
        let max_age_ms = spec
            .max_age_ms
            .map(|ms| {
                UnixTime::from_js_millis(ms)
                    .map(UnixTime::as_millis)
                    .map_err(|_| invalid(format!("maxAgeMs must be a non-negative integer, got {ms}")))
            })
            .transpose()?;
        Ok(Expectations {
            pcrs,
            nonce: bytes("nonce", spec.nonce)?,
            user_data: bytes("userData", spec.user_data)?,
            public_key: bytes("publicKey", spec.public_key)?,
            max_age_ms,
        })
    }
}

/// One binding call: `verifyAttestation(document, options)`.
#[derive(Clone, Debug, Default)]
pub struct VerifyRequest<'a> {
    /// Trusted root (DER); `None` = the embedded AWS Nitro Root-G1.
    pub root: Option<&'a [u8]>,
    /// Verification time, Unix ms as a JS number.
    pub at_ms: f64,
    pub allow_debug: bool,
    pub expect: Option<ExpectationsSpec>,
}

/// Verifies `document` as the request says and, if it carries expectations,
/// checks them at the same time.
pub fn verify_request(document: &[u8], request: VerifyRequest<'_>) -> Result<VerifiedDocumentView, Error> {
    let now = UnixTime::from_js_millis(request.at_ms)?;
    let expectations = request.expect.map(Expectations::try_from).transpose()?;
    let root = request.root.unwrap_or(AWS_NITRO_ROOT_G1_DER);
    let document = verify_with(document, root, now, &VerifyOptions { allow_debug: request.allow_debug })?;
    if let Some(expect) = &expectations {
        document.check(expect, now)?;
    }
    Ok(document.view())
}

//! The JavaScript-facing shapes, shared by the N-API and the WASM binding so
//! that both give byte-identical answers and neither holds logic: the result
//! view (camelCase, bytes as lowercase hex), the options object of
//! `verifyAttestation` (which each binding deserializes with its own serde
//! deserializer into [`AttestationOptions`], so the type rules and defaults are
//! this file's, not the bindings'), the hex form of expectations, and one entry
//! point that does verify + optional check for a binding call.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
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

/// The options object of `verifyAttestation` as JS passes it. `null` and
/// absent fields are unset; unset fields take the defaults of
/// [`verify_request`]. Unknown keys are ignored here (as JS options usually
/// are) but refused inside `expect`, where a misspelt key would silently check
/// nothing.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationOptions {
    /// Trusted root (DER, a `Uint8Array`); unset = the embedded AWS Nitro Root-G1.
    #[serde(default, deserialize_with = "optional_bytes")]
    pub root: Option<Vec<u8>>,
    /// Verification time, Unix ms (required: the verifier never reads a clock).
    pub at_ms: f64,
    /// Accept a debug-mode (all-zero PCR0) document; unset = no.
    #[serde(default)]
    pub allow_debug: Option<bool>,
    #[serde(default)]
    pub expect: Option<ExpectationsSpec>,
}

impl AttestationOptions {
    /// The request these options describe (borrowing the root).
    pub fn request(&self) -> VerifyRequest<'_> {
        VerifyRequest {
            root: self.root.as_deref(),
            at_ms: self.at_ms,
            allow_debug: self.allow_debug,
            expect: self.expect.clone(),
        }
    }
}

/// Expectations as JS passes them: PCR index (decimal string) → hex, other
/// bytes as hex, age as a JS number. Unknown keys are refused.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpectationsSpec {
    pub pcrs: Option<BTreeMap<String, String>>,
    pub nonce: Option<String>,
    pub user_data: Option<String>,
    pub public_key: Option<String>,
    pub max_age_ms: Option<f64>,
}

/// The JS names of [`ExpectationsSpec`]'s fields.
const EXPECTATION_KEYS: &[&str] = &["pcrs", "nonce", "userData", "publicKey", "maxAgeMs"];

/// Written out rather than derived with `deny_unknown_fields`, which would not
/// do: the WASM deserializer reads a struct's known fields only and never sees
/// an unknown one, so a misspelt key would check nothing there. Reading the
/// object as a map makes every deserializer walk all keys.
impl<'de> Deserialize<'de> for ExpectationsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = ExpectationsSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with pcrs, nonce, userData, publicKey or maxAgeMs")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ExpectationsSpec, A::Error> {
                let mut spec = ExpectationsSpec::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "pcrs" => spec.pcrs = map.next_value()?,
                        "nonce" => spec.nonce = map.next_value()?,
                        "userData" => spec.user_data = map.next_value()?,
                        "publicKey" => spec.public_key = map.next_value()?,
                        "maxAgeMs" => spec.max_age_ms = map.next_value()?,
                        other => return Err(de::Error::unknown_field(other, EXPECTATION_KEYS)),
                    }
                }
                Ok(spec)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// `null`, absent or bytes (a `Uint8Array`; an array of byte values also works).
fn optional_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
    struct Bytes;
    impl<'de> Visitor<'de> for Bytes {
        type Value = Option<Vec<u8>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a Uint8Array")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_byte_buf(self)
        }
        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
            Ok(Some(bytes.to_vec()))
        }
        fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
            Ok(Some(bytes))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64 * 1024));
            while let Some(b) = seq.next_element::<u8>()? {
                bytes.push(b);
            }
            Ok(Some(bytes))
        }
    }
    deserializer.deserialize_option(Bytes)
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
    /// Accept a debug-mode document; `None` = the default of [`VerifyOptions`] (no).
    pub allow_debug: Option<bool>,
    pub expect: Option<ExpectationsSpec>,
}

/// Verifies `document` as the request says and, if it carries expectations,
/// checks them at the same time.
pub fn verify_request(document: &[u8], request: VerifyRequest<'_>) -> Result<VerifiedDocumentView, Error> {
    let now = UnixTime::from_js_millis(request.at_ms)?;
    let expectations = request.expect.map(Expectations::try_from).transpose()?;
    let root = request.root.unwrap_or(AWS_NITRO_ROOT_G1_DER);
    let defaults = VerifyOptions::default();
    let options = VerifyOptions { allow_debug: request.allow_debug.unwrap_or(defaults.allow_debug) };
    let document = verify_with(document, root, now, &options)?;
    if let Some(expect) = &expectations {
        document.check(expect, now)?;
    }
    Ok(document.view())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(json: &str) -> Result<AttestationOptions, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn options_defaults_and_types() {
        let o = options(r#"{"atMs": 5}"#).unwrap();
        assert_eq!(o, AttestationOptions { at_ms: 5.0, ..Default::default() });
        assert_eq!(o.request().allow_debug, None);
        let o = options(r#"{"atMs": 5, "root": null, "allowDebug": null, "expect": null, "other": 1}"#).unwrap();
        assert_eq!(o, AttestationOptions { at_ms: 5.0, ..Default::default() });
        // (serde_json hands a string to a bytes visitor as its UTF-8; the JS
        // deserializers refuse a string root, which the conformance suite checks.)
        let o = options(r#"{"atMs": 5, "root": [1, 2], "allowDebug": true, "expect": {"nonce": "00"}}"#).unwrap();
        assert_eq!(o.root.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(o.allow_debug, Some(true));
        assert_eq!(o.expect.unwrap().nonce.as_deref(), Some("00"));
        for bad in [
            r#"{}"#,
            r#"{"atMs": "now"}"#,
            r#"{"atMs": 5, "allowDebug": 1}"#,
            r#"{"atMs": 5, "expect": {"pcrs": 5}}"#,
            r#"{"atMs": 5, "expect": {"pcrs": {"0": 5}}}"#,
            r#"{"atMs": 5, "expect": {"maxAgeMs": "1"}}"#,
            r#"{"atMs": 5, "expect": {"pcr": {"0": "00"}}}"#,
            r#"5"#,
        ] {
            assert!(options(bad).is_err(), "{bad}");
        }
    }
}

//! The JavaScript-facing shapes, shared by the N-API and the WASM binding so
//! that both give byte-identical answers and neither holds logic: the result
//! view (camelCase, bytes as lowercase hex), the options object of
//! `verifyAttestation` (which each binding deserializes with its own serde
//! deserializer into [`AttestationOptions`], so the type rules and defaults are
//! this file's, not the bindings'), the hex form of expectations, and one entry
//! point that does verify + optional check for a binding call; likewise the
//! options of `checkAttestation` and its entry point (the report itself is
//! report.rs's, already in its JS shape).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::document::VerifiedDocument;
use crate::error::{Error, ErrorCode};
use crate::expect::Expectations;
use crate::report::{check_attestation, AttestationReport, CheckExpectations};
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
/// nothing. (`Deserialize` is written out below, shared with
/// [`CheckAttestationOptions`].)
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttestationOptions {
    /// Trusted root (DER, a `Uint8Array`); unset = the embedded AWS Nitro Root-G1.
    pub root: Option<Vec<u8>>,
    /// Verification time, Unix ms (required: the verifier never reads a clock).
    pub at_ms: f64,
    /// Accept a debug-mode (all-zero PCR0) document; unset = no.
    pub allow_debug: Option<bool>,
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

/// The `expect` object of `checkAttestation` as JS passes it: PCR index
/// (decimal string) → hex, nonce and hashes as hex (`0x` optional), age as a
/// JS number. Unknown keys are refused.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckExpectationsSpec {
    pub pcrs: Option<BTreeMap<String, String>>,
    pub nonce: Option<String>,
    pub max_age_ms: Option<f64>,
    pub config_hash: Option<String>,
    pub policy_hash: Option<String>,
}

/// The JS names of [`CheckExpectationsSpec`]'s fields.
const CHECK_EXPECTATION_KEYS: &[&str] = &["pcrs", "nonce", "maxAgeMs", "configHash", "policyHash"];

/// Every key either `expect` object may hold.
#[derive(Default)]
struct ExpectFields {
    pcrs: Option<BTreeMap<String, String>>,
    nonce: Option<String>,
    user_data: Option<String>,
    public_key: Option<String>,
    max_age_ms: Option<f64>,
    config_hash: Option<String>,
    policy_hash: Option<String>,
}

/// Reads an `expect` object, refusing any key outside `keys`. Written out
/// rather than derived with `deny_unknown_fields`, which would not do: the
/// WASM deserializer reads a struct's known fields only and never sees an
/// unknown one, so a misspelt key would check nothing there. Reading the
/// object as a map makes every deserializer walk all keys. One visitor for
/// both objects (their keys differ), so the WASM builds carry one copy.
#[derive(Clone, Copy)]
struct ExpectVisitor {
    keys: &'static [&'static str],
    expecting: &'static str,
}

const EXPECT: ExpectVisitor =
    ExpectVisitor { keys: EXPECTATION_KEYS, expecting: "an object with pcrs, nonce, userData, publicKey or maxAgeMs" };
const CHECK_EXPECT: ExpectVisitor = ExpectVisitor {
    keys: CHECK_EXPECTATION_KEYS,
    expecting: "an object with pcrs, nonce, maxAgeMs, configHash or policyHash",
};

impl<'de> Visitor<'de> for ExpectVisitor {
    type Value = ExpectFields;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ExpectFields, A::Error> {
        let mut fields = ExpectFields::default();
        while let Some(key) = map.next_key::<String>()? {
            if !self.keys.contains(&key.as_str()) {
                return Err(de::Error::unknown_field(&key, self.keys));
            }
            match key.as_str() {
                "pcrs" => fields.pcrs = map.next_value()?,
                "nonce" => fields.nonce = map.next_value()?,
                "userData" => fields.user_data = map.next_value()?,
                "publicKey" => fields.public_key = map.next_value()?,
                "maxAgeMs" => fields.max_age_ms = map.next_value()?,
                "configHash" => fields.config_hash = map.next_value()?,
                _ => fields.policy_hash = map.next_value()?,
            }
        }
        Ok(fields)
    }
}

/// `expect`: `null`, absent or an object read by the visitor.
impl<'de> DeserializeSeed<'de> for ExpectVisitor {
    type Value = Option<ExpectFields>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        struct Optional(ExpectVisitor);
        impl<'de> Visitor<'de> for Optional {
            type Value = Option<ExpectFields>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0.expecting)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
                deserializer.deserialize_map(self.0).map(Some)
            }
        }
        deserializer.deserialize_option(Optional(self))
    }
}

impl From<ExpectFields> for ExpectationsSpec {
    fn from(f: ExpectFields) -> Self {
        Self {
            pcrs: f.pcrs,
            nonce: f.nonce,
            user_data: f.user_data,
            public_key: f.public_key,
            max_age_ms: f.max_age_ms,
        }
    }
}

impl From<ExpectFields> for CheckExpectationsSpec {
    fn from(f: ExpectFields) -> Self {
        Self {
            pcrs: f.pcrs,
            nonce: f.nonce,
            max_age_ms: f.max_age_ms,
            config_hash: f.config_hash,
            policy_hash: f.policy_hash,
        }
    }
}

impl<'de> Deserialize<'de> for ExpectationsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EXPECT).map(Self::from)
    }
}

impl<'de> Deserialize<'de> for CheckExpectationsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CHECK_EXPECT).map(Self::from)
    }
}

/// The options object of `verifyAttestation` or `checkAttestation` (they
/// differ in the keys `expect` may hold): `root`, `atMs` (required),
/// `allowDebug`, `expect`; `null` and absent are unset; other keys are
/// ignored. One visitor for both, so the WASM builds carry one copy.
#[derive(Default)]
struct OptionFields {
    root: Option<Vec<u8>>,
    at_ms: f64,
    allow_debug: Option<bool>,
    expect: Option<ExpectFields>,
}

struct OptionsVisitor(ExpectVisitor);

impl<'de> Visitor<'de> for OptionsVisitor {
    type Value = OptionFields;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with atMs and optionally root, allowDebug or expect")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OptionFields, A::Error> {
        let mut fields = OptionFields::default();
        let mut at_ms = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "root" => fields.root = map.next_value::<OptionalBytes>()?.0,
                "atMs" => at_ms = Some(map.next_value()?),
                "allowDebug" => fields.allow_debug = map.next_value()?,
                "expect" => fields.expect = map.next_value_seed(self.0)?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        fields.at_ms = at_ms.ok_or_else(|| de::Error::missing_field("atMs"))?;
        Ok(fields)
    }
}

impl<'de> Deserialize<'de> for AttestationOptions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let f = deserializer.deserialize_map(OptionsVisitor(EXPECT))?;
        Ok(Self { root: f.root, at_ms: f.at_ms, allow_debug: f.allow_debug, expect: f.expect.map(Into::into) })
    }
}

impl<'de> Deserialize<'de> for CheckAttestationOptions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let f = deserializer.deserialize_map(OptionsVisitor(CHECK_EXPECT))?;
        Ok(Self { root: f.root, at_ms: f.at_ms, allow_debug: f.allow_debug, expect: f.expect.map(Into::into) })
    }
}

/// `root`: see [`optional_bytes`].
struct OptionalBytes(Option<Vec<u8>>);

impl<'de> Deserialize<'de> for OptionalBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        optional_bytes(deserializer).map(Self)
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

fn invalid_expectation(what: String) -> Error {
    Error::new(ErrorCode::InvalidExpectation, what)
}

/// Hex of an expected value; `0x` is accepted when `prefixed` (checkAttestation).
fn expected_bytes(name: &str, text: &str, prefixed: bool) -> Result<Vec<u8>, Error> {
    let text = if prefixed { text.strip_prefix("0x").unwrap_or(text) } else { text };
    hex::decode(text).map_err(|_| invalid_expectation(format!("expected {name} is not hex")))
}

fn expected_pcrs(pcrs: Option<BTreeMap<String, String>>, prefixed: bool) -> Result<Vec<(u8, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    for (index, value) in pcrs.unwrap_or_default() {
        let i = index
            .parse::<u8>()
            .map_err(|_| invalid_expectation(format!("PCR index {index:?} is not a small integer")))?;
        out.push((i, expected_bytes(&format!("pcrs[{index}]"), &value, prefixed)?));
    }
    Ok(out)
}

fn expected_max_age(max_age_ms: Option<f64>) -> Result<Option<u64>, Error> {
    max_age_ms
        .map(|ms| {
            UnixTime::from_js_millis(ms)
                .map(UnixTime::as_millis)
                .map_err(|_| invalid_expectation(format!("maxAgeMs must be a non-negative integer, got {ms}")))
        })
        .transpose()
}

/// A 32-byte hash (`0x` optional).
fn expected_hash(name: &str, text: Option<String>) -> Result<Option<[u8; 32]>, Error> {
    text.map(|text| {
        let bytes = expected_bytes(name, &text, true)?;
        let len = bytes.len();
        <[u8; 32]>::try_from(bytes)
            .map_err(|_| invalid_expectation(format!("expected {name} must be 32 bytes, got {len}")))
    })
    .transpose()
}

impl TryFrom<ExpectationsSpec> for Expectations {
    type Error = Error;

    fn try_from(spec: ExpectationsSpec) -> Result<Self, Error> {
        let bytes = |name: &str, h: Option<String>| h.map(|h| expected_bytes(name, &h, false)).transpose();
        Ok(Expectations {
            pcrs: expected_pcrs(spec.pcrs, false)?,
            nonce: bytes("nonce", spec.nonce)?,
            user_data: bytes("userData", spec.user_data)?,
            public_key: bytes("publicKey", spec.public_key)?,
            max_age_ms: expected_max_age(spec.max_age_ms)?,
        })
    }
}

impl TryFrom<CheckExpectationsSpec> for CheckExpectations {
    type Error = Error;

    fn try_from(spec: CheckExpectationsSpec) -> Result<Self, Error> {
        Ok(CheckExpectations {
            pcrs: expected_pcrs(spec.pcrs, true)?,
            nonce: spec.nonce.map(|h| expected_bytes("nonce", &h, true)).transpose()?,
            max_age_ms: expected_max_age(spec.max_age_ms)?,
            config_hash: expected_hash("configHash", spec.config_hash)?,
            policy_hash: expected_hash("policyHash", spec.policy_hash)?,
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
    let document = verify_with(document, root, now, &verify_options(request.allow_debug))?;
    if let Some(expect) = &expectations {
        document.check(expect, now)?;
    }
    Ok(document.view())
}

/// `allowDebug` as [`VerifyOptions`]: unset = the default (no).
fn verify_options(allow_debug: Option<bool>) -> VerifyOptions {
    VerifyOptions { allow_debug: allow_debug.unwrap_or(VerifyOptions::default().allow_debug) }
}

/// The options object of `checkAttestation` as JS passes it: as
/// [`AttestationOptions`], with `checkAttestation`'s expectations (which add
/// Sentinel's configuration and policy hashes and leave out `userData` and
/// `publicKey`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckAttestationOptions {
    /// Trusted root (DER, a `Uint8Array`); unset = the embedded AWS Nitro Root-G1.
    pub root: Option<Vec<u8>>,
    /// Verification time, Unix ms (required).
    pub at_ms: f64,
    /// Accept a debug-mode (all-zero PCR0) document; unset = no.
    pub allow_debug: Option<bool>,
    pub expect: Option<CheckExpectationsSpec>,
}

/// One binding call: `checkAttestation(document, options)`. Only the
/// arguments can fail (`INVALID_TIME`, `INVALID_EXPECTATION`); whatever is
/// wrong with the document is in the report.
pub fn check_attestation_request(
    document: &[u8],
    options: CheckAttestationOptions,
) -> Result<AttestationReport, Error> {
    let now = UnixTime::from_js_millis(options.at_ms)?;
    let expect = options.expect.map(CheckExpectations::try_from).transpose()?.unwrap_or_default();
    let root = options.root.as_deref().unwrap_or(AWS_NITRO_ROOT_G1_DER);
    Ok(check_attestation(document, root, now, &verify_options(options.allow_debug), &expect))
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

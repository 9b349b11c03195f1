//! What `policyValidate` and `evaluatePolicy` share between the N-API build
//! (`policy.rs` here) and the WASM build (`bindings/wasm/src/policy.rs`
//! compiles this same file through `#[path]`): the JS argument shapes as
//! serde types (so both builds read them with their own serde deserializer
//! and refuse the same things with the same code) and the results as serde
//! views (bytes serialize as `Buffer` / `Uint8Array`). The policy work itself
//! is `sentinel-policy`'s: this file only picks the constructor a request
//! calls for and strings the crate's calls together, with a fresh state per
//! call (a dry run counts nothing).
use core::fmt;

use sentinel_error::{CodedError, InvalidArgument};
use sentinel_policy::{
    evaluate, parse_policy, ActivePolicy, Caller, Evaluation, OpKind, ParsedPolicy, PolicyError, PolicyRequest,
    PolicyState, RuleRecord, SignedPolicy, SignedPrices,
};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};

/// Every refusal of these functions: the crate's own error, passed through
/// unchanged (one conversion to JS in each binding).
#[derive(Debug)]
pub enum Failure {
    Policy(PolicyError),
    Eth(sentinel_eth::Error),
    Argument(InvalidArgument),
}

impl CodedError for Failure {
    fn code(&self) -> &'static str {
        match self {
            Failure::Policy(e) => e.code(),
            Failure::Eth(e) => e.code(),
            Failure::Argument(e) => e.code(),
        }
    }
    fn message(&self) -> String {
        match self {
            Failure::Policy(e) => e.message(),
            Failure::Eth(e) => e.message(),
            Failure::Argument(e) => e.message(),
        }
    }
}

impl From<PolicyError> for Failure {
    fn from(e: PolicyError) -> Self {
        Failure::Policy(e)
    }
}

impl From<sentinel_eth::Error> for Failure {
    fn from(e: sentinel_eth::Error) -> Self {
        Failure::Eth(e)
    }
}

impl From<InvalidArgument> for Failure {
    fn from(e: InvalidArgument) -> Self {
        Failure::Argument(e)
    }
}

/// Bytes that cross as `Buffer` (N-API) or `Uint8Array` (WASM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteView(pub Vec<u8>);

impl Serialize for ByteView {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

/// A policy version as a JS number: exact, since the crate caps integers at 2^53 - 1.
fn js_number(value: u64) -> f64 {
    value as f64
}

// --- policyValidate ------------------------------------------------------------

/// `policyValidate`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationView {
    pub policy_hash: ByteView,
    pub version: f64,
    pub name: String,
    /// The canonical JSON that `policyHash` hashes.
    pub canonical: String,
    /// How many rules the policy has.
    pub rules: u32,
}

/// Parses and validates a bare policy document.
pub fn validate(json: &str) -> Result<ValidationView, Failure> {
    let parsed = parse_policy(json.as_bytes())?;
    Ok(ValidationView {
        policy_hash: ByteView(parsed.hash.to_vec()),
        version: js_number(parsed.policy.version),
        name: parsed.policy.name.clone(),
        // Canonical JSON is built from parsed UTF-8 text; lossy never replaces anything here.
        canonical: String::from_utf8_lossy(&parsed.canonical).into_owned(),
        rules: parsed.policy.rules.len() as u32,
    })
}

// --- bare policy or signed envelope --------------------------------------------

/// The policy of a bare document or of an envelope (signatures not checked: dry run).
pub fn parse_any(json: &str) -> Result<ParsedPolicy, Failure> {
    Ok(SignedPolicy::from_policy_or_envelope(json.as_bytes())?.parsed)
}

/// An envelope of a bare document (unsigned) or the given envelope.
pub fn envelope_of(json: &str) -> Result<SignedPolicy, Failure> {
    Ok(SignedPolicy::from_policy_or_envelope(json.as_bytes())?)
}

// --- evaluatePolicy: arguments ----------------------------------------------------

/// `Uint8Array` / `Buffer`, or hex text (`0x` optional): the receipt options' type, reused.
pub use sentinel_evidence::BytesOrHex;

fn bytes_of(value: &BytesOrHex, name: &str) -> Result<Vec<u8>, InvalidArgument> {
    value.to_bytes().ok_or_else(|| InvalidArgument::new(name, "must be bytes or a hex string"))
}

/// Bytes only (`Uint8Array` / `Buffer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Uint8Array")
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
                Ok(Bytes(bytes.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
                Ok(Bytes(bytes))
            }
        }
        deserializer.deserialize_byte_buf(V)
    }
}

/// A JSON key the object does not have: refused (a misspelt option must not
/// silently mean "unset"). Written out rather than `deny_unknown_fields`
/// because the WASM deserializer reads only a struct's known fields.
fn unknown<E: de::Error>(key: &str, expected: &'static [&'static str]) -> E {
    E::unknown_field(key, expected)
}

/// `evaluatePolicy`'s `request` argument (`PolicyRequestInput`). `null` and absent are unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestSpec {
    pub op: String,
    pub principal: String,
    pub key_id: String,
    pub key_label: Option<String>,
    pub unsigned_tx: Option<BytesOrHex>,
    pub typed_data: Option<String>,
}

const REQUEST_KEYS: &[&str] = &["op", "principal", "keyId", "keyLabel", "unsignedTx", "typedData"];

impl<'de> Deserialize<'de> for RequestSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = RequestSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with op, principal, keyId, keyLabel, unsignedTx or typedData")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestSpec, A::Error> {
                let (mut op, mut principal, mut key_id) = (None, None, None);
                let mut spec = RequestSpec::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "op" => op = map.next_value::<Option<String>>()?,
                        "principal" => principal = map.next_value::<Option<String>>()?,
                        "keyId" => key_id = map.next_value::<Option<String>>()?,
                        "keyLabel" => spec.key_label = map.next_value()?,
                        "unsignedTx" => spec.unsigned_tx = map.next_value()?,
                        "typedData" => spec.typed_data = map.next_value()?,
                        other => return Err(unknown(other, REQUEST_KEYS)),
                    }
                }
                spec.op = op.ok_or_else(|| de::Error::missing_field("op"))?;
                spec.principal = principal.ok_or_else(|| de::Error::missing_field("principal"))?;
                spec.key_id = key_id.ok_or_else(|| de::Error::missing_field("keyId"))?;
                Ok(spec)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// `evaluatePolicy`'s `options` argument. `null` and absent are unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvaluateOptionsSpec {
    /// A signed price table (JSON), checked against the policy's `price_feed`.
    pub signed_prices: Option<String>,
    /// ONNX bytes of the models the policy's risk rules pin (refused by a
    /// `sentinel-policy` built without its `onnx` feature, as the bindings are).
    pub models: Option<Vec<Bytes>>,
}

const OPTION_KEYS: &[&str] = &["signedPrices", "models"];

impl<'de> Deserialize<'de> for EvaluateOptionsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = EvaluateOptionsSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with signedPrices or models")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EvaluateOptionsSpec, A::Error> {
                let mut spec = EvaluateOptionsSpec::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "signedPrices" => spec.signed_prices = map.next_value()?,
                        "models" => spec.models = map.next_value::<Option<ModelList>>()?.map(|m| m.0),
                        other => return Err(unknown(other, OPTION_KEYS)),
                    }
                }
                Ok(spec)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// `models`: an array of byte arrays.
struct ModelList(Vec<Bytes>);

impl<'de> Deserialize<'de> for ModelList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ModelList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of Uint8Array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut models = Vec::new();
                while let Some(model) = seq.next_element::<Bytes>()? {
                    models.push(model);
                }
                Ok(ModelList(models))
            }
        }
        deserializer.deserialize_seq(V)
    }
}

/// `nowMs` as the core's `now_us`: a finite, non-negative number of ms
/// (fractions kept to the microsecond) below 2^53 µs.
pub fn now_us(now_ms: f64) -> Result<u64, InvalidArgument> {
    let us = (now_ms * 1000.0).round();
    if !now_ms.is_finite() || !(0.0..=9_007_199_254_740_991.0).contains(&us) {
        return Err(InvalidArgument::new("nowMs", "must be a non-negative number of milliseconds"));
    }
    Ok(us as u64)
}

impl RequestSpec {
    /// The request the policy reads, decoded as the enclave decodes what it signs.
    pub fn to_request(&self) -> Result<PolicyRequest, Failure> {
        let caller = Caller {
            principal: &self.principal,
            key_id: &self.key_id,
            key_label: self.key_label.as_deref().unwrap_or(""),
        };
        let Some(op) = OpKind::from_wire_name(&self.op) else {
            return Err(InvalidArgument::new(
                "request.op",
                "must be sign_ethereum_transaction, sign_typed_data, sign_personal_message, sign_digest or sign_ed25519",
            )
            .into());
        };
        if self.unsigned_tx.is_some() && op != OpKind::Transaction {
            return Err(InvalidArgument::new("request.unsignedTx", "only for sign_ethereum_transaction").into());
        }
        if self.typed_data.is_some() && op != OpKind::TypedData {
            return Err(InvalidArgument::new("request.typedData", "only for sign_typed_data").into());
        }
        Ok(match op {
            OpKind::Transaction => {
                let Some(tx) = &self.unsigned_tx else {
                    return Err(
                        InvalidArgument::new("request.unsignedTx", "required for sign_ethereum_transaction").into()
                    );
                };
                let tx = sentinel_eth::decode_transaction(&bytes_of(tx, "request.unsignedTx")?)?;
                PolicyRequest::from_transaction(caller, &tx)?
            }
            OpKind::TypedData => {
                let Some(json) = &self.typed_data else {
                    return Err(InvalidArgument::new("request.typedData", "required for sign_typed_data").into());
                };
                PolicyRequest::from_typed_data(caller, json)?
            }
            OpKind::PersonalMessage => PolicyRequest::personal_message(caller),
            OpKind::Digest | OpKind::Ed25519Message => PolicyRequest::bare(op, caller),
        })
    }
}

// --- evaluatePolicy: answer -------------------------------------------------------

/// `evaluatePolicy`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationView {
    /// `allowed`, `denied` or `approval_required`.
    pub decision: &'static str,
    pub code: Option<&'static str>,
    pub policy_hash: ByteView,
    pub rules_evaluated: Vec<RuleRecord>,
    pub score_bps: Option<u16>,
}

/// Evaluates one request against a policy (bare or enveloped; signatures not
/// checked) at `now_ms`, from a fresh state: nothing is counted.
pub fn evaluate_once(
    policy_json: &str,
    request: &RequestSpec,
    now_ms: f64,
    options: &EvaluateOptionsSpec,
) -> Result<EvaluationView, Failure> {
    let now_us = now_us(now_ms)?;
    let request = request.to_request()?;
    let parsed = parse_any(policy_json)?;
    let models: Vec<Vec<u8>> = options.models.iter().flatten().map(|m| m.0.clone()).collect();
    let prices = match &options.signed_prices {
        None => None,
        Some(json) => Some(SignedPrices::from_json(json.as_bytes())?.verified_for(&parsed.policy)?),
    };
    let active = ActivePolicy::new(parsed, &models)?;
    let mut evaluation = Evaluation::default();
    evaluate(&active, &request, &PolicyState::new(), prices.as_ref(), now_us, &mut evaluation);
    Ok(EvaluationView {
        decision: evaluation.verdict.as_str(),
        code: evaluation.code,
        policy_hash: ByteView(active.hash().to_vec()),
        rules_evaluated: active.records(&evaluation),
        score_bps: evaluation.score_bps,
    })
}

//! The JSON editing form of a configuration (what `zcp config init` writes and
//! operators edit): the same fields as the CBOR document, public keys as
//! 0x-prefixed hex. It is read through the document's own decoder (the JSON
//! text becomes the CBOR value it stands for), so it is refused for the same
//! reasons, with the same codes and field paths; duplicate JSON keys are
//! refused too (a JSON parser would silently keep the last one).

use core::fmt;

use ciborium::value::Value;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::cbor;
use crate::document::{AdminKey, Configuration, KeysAllowed, MAX_CONFIG_BYTES};
use crate::envelope::{SignedConfig, SignerStatus};
use crate::error::{refuse, ConfigError, ConfigErrorCode as Code};

/// Deepest JSON nesting read (documents need 5).
const MAX_JSON_DEPTH: usize = 16;

impl Configuration {
    /// Reads the JSON editing form (public keys as `"0x..."` hex).
    pub fn from_json(json: &str) -> Result<Configuration, ConfigError> {
        // Generous bound on the text before parsing: hex doubles key bytes and
        // pretty-printing adds whitespace; the CBOR size is checked after.
        if json.len() > 4 * MAX_CONFIG_BYTES {
            return refuse(
                Code::TooLarge,
                format!("document: {} bytes of JSON, at most {} allowed", json.len(), 4 * MAX_CONFIG_BYTES),
            );
        }
        let mut de = serde_json::Deserializer::from_str(json);
        let JsonValue(value) = JsonValue::deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| ConfigError::new(Code::Malformed, format!("document (JSON): {e}")))?;
        let value = hex_to_bytes(value, "")?;
        let config = Configuration::from_value(&value)?;
        let size = config.encode().len();
        if size > MAX_CONFIG_BYTES {
            return refuse(
                Code::TooLarge,
                format!("document: {size} bytes of CBOR, at most {MAX_CONFIG_BYTES} allowed (MAX_CONFIG_BYTES)"),
            );
        }
        Ok(config)
    }

    /// The JSON editing form, pretty-printed, fields in document order.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&ConfigJson::from(self)).expect("JSON of plain data")
    }
}

/// The `public_key` fields of key maps hold hex text in JSON; everything else
/// maps one to one.
fn hex_to_bytes(value: Value, path: &str) -> Result<Value, ConfigError> {
    Ok(match value {
        Value::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let name = match &k {
                    Value::Text(t) => t.clone(),
                    _ => String::new(),
                };
                let child = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                let v = match (name.as_str(), v) {
                    ("public_key", Value::Text(hex)) => Value::Bytes(parse_hex(&hex, &child)?),
                    (_, v) => hex_to_bytes(v, &child)?,
                };
                out.push((k, v));
            }
            Value::Map(out)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| hex_to_bytes(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        other => other,
    })
}

fn parse_hex(text: &str, path: &str) -> Result<Vec<u8>, ConfigError> {
    text.strip_prefix("0x")
        .and_then(|digits| hex::decode(digits).ok())
        .ok_or_else(|| ConfigError::new(Code::Invalid, format!("{path}: expected \"0x\" followed by hex digits")))
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Any JSON value as the CBOR value it stands for, refusing duplicate keys.
struct JsonValue(Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor { depth: 0 })
    }
}

struct JsonVisitor {
    depth: usize,
}

struct Nested(usize);

impl<'de> de::DeserializeSeed<'de> for Nested {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(JsonVisitor { depth: self.0 }).map(|JsonValue(v)| v)
    }
}

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = JsonValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<JsonValue, E> {
        Ok(JsonValue(Value::Bool(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<JsonValue, E> {
        Ok(JsonValue(Value::from(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<JsonValue, E> {
        Ok(JsonValue(Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<JsonValue, E> {
        Ok(JsonValue(Value::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<JsonValue, E> {
        Ok(JsonValue(Value::Text(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<JsonValue, E> {
        Ok(JsonValue(Value::Text(v)))
    }
    fn visit_unit<E>(self) -> Result<JsonValue, E> {
        Ok(JsonValue(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonValue, A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Nested(self.depth + 1))? {
            items.push(item);
        }
        Ok(JsonValue(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonValue, A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let mut entries: Vec<(Value, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.iter().any(|(k, _)| matches!(k, Value::Text(t) if *t == key)) {
                return Err(de::Error::custom(format!("key `{key}` appears twice")));
            }
            let value = map.next_value_seed(Nested(self.depth + 1))?;
            entries.push((Value::Text(key), value));
        }
        Ok(JsonValue(Value::Map(entries)))
    }
}

#[derive(Serialize)]
struct ConfigJson {
    version: u64,
    admins: AdminsJson,
    principals: Vec<PrincipalJson>,
    stamp_window_ms: u64,
    session_max_lifetime_s: u64,
    /// Only when the document has the section (otherwise the admins' defaults apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    oversight: Option<OversightJson>,
}

#[derive(Serialize)]
struct OversightJson {
    overseers: Vec<AdminKeyJson>,
    resume_threshold: u64,
    approvers: Vec<AdminKeyJson>,
    approval_threshold: u64,
    approval_ttl_s: u64,
    max_pending: u64,
    heartbeat_interval_ms: u64,
    trip_consecutive_denials: u64,
    trip_risk_score_bps: u64,
}

#[derive(Serialize)]
struct AdminsJson {
    threshold: u64,
    keys: Vec<AdminKeyJson>,
}

#[derive(Serialize)]
struct AdminKeyJson {
    id: String,
    alg: &'static str,
    public_key: String,
}

#[derive(Serialize)]
struct KeyJson {
    alg: &'static str,
    public_key: String,
}

#[derive(Serialize)]
struct PrincipalJson {
    id: String,
    keys: Vec<KeyJson>,
    operations: Vec<&'static str>,
    keys_allowed: serde_json::Value,
    max_keys: u64,
}

fn admin_keys_json(keys: &[AdminKey]) -> Vec<AdminKeyJson> {
    keys.iter()
        .map(|a| AdminKeyJson {
            id: a.id.clone(),
            alg: a.public_key.alg().as_str(),
            public_key: hex0x(a.public_key.as_bytes()),
        })
        .collect()
}

impl From<&Configuration> for ConfigJson {
    fn from(c: &Configuration) -> Self {
        ConfigJson {
            version: c.version,
            admins: AdminsJson { threshold: c.admins.threshold, keys: admin_keys_json(&c.admins.keys) },
            principals: c
                .principals
                .iter()
                .map(|p| PrincipalJson {
                    id: p.id.clone(),
                    keys: p
                        .keys
                        .iter()
                        .map(|k| KeyJson { alg: k.alg().as_str(), public_key: hex0x(k.as_bytes()) })
                        .collect(),
                    operations: p.operations.iter().map(|o| o.as_str()).collect(),
                    keys_allowed: match &p.keys_allowed {
                        KeysAllowed::All => "all".into(),
                        KeysAllowed::Own => "own".into(),
                        KeysAllowed::Labels(labels) => labels.clone().into(),
                    },
                    max_keys: p.max_keys,
                })
                .collect(),
            stamp_window_ms: c.stamp_window_ms,
            session_max_lifetime_s: c.session_max_lifetime_s,
            oversight: c.oversight.as_ref().map(|o| OversightJson {
                overseers: admin_keys_json(&o.overseers),
                resume_threshold: o.resume_threshold,
                approvers: admin_keys_json(&o.approvers),
                approval_threshold: o.approval_threshold,
                approval_ttl_s: o.approval_ttl_s,
                max_pending: o.max_pending,
                heartbeat_interval_ms: o.heartbeat_interval_ms,
                trip_consecutive_denials: o.trip_consecutive_denials,
                trip_risk_score_bps: o.trip_risk_score_bps,
            }),
        }
    }
}

/// A document or a signed envelope, decoded for display (`zcp config show`).
#[derive(Clone, Debug)]
pub struct Inspection {
    pub configuration: Configuration,
    pub config_hash: [u8; 32],
    /// The envelope, when the bytes were one.
    pub signed: Option<SignedConfig>,
}

impl Inspection {
    /// Decodes `bytes` as a signed envelope (a map with a `config` field) or a
    /// document (anything else), with every check of either.
    pub fn new(bytes: &[u8]) -> Result<Inspection, ConfigError> {
        let is_envelope = matches!(
            cbor::decode_canonical(bytes, "input"),
            Ok(Value::Map(entries)) if entries.iter().any(|(k, _)| matches!(k, Value::Text(t) if t == "config"))
        );
        if is_envelope {
            let signed = SignedConfig::decode(bytes)?;
            let configuration = signed.configuration()?;
            Ok(Inspection { config_hash: signed.config_hash(), configuration, signed: Some(signed) })
        } else {
            let configuration = Configuration::decode(bytes)?;
            Ok(Inspection { config_hash: crate::config_hash(bytes), configuration, signed: None })
        }
    }

    /// `{kind, config_hash, version, signers?, quorum?, config}` as pretty JSON.
    /// Signers are checked against the document's own admins (the boot rule);
    /// an update is checked against the admins in force, which this cannot know.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Signer<'a> {
            admin: &'a str,
            status: &'static str,
            signature: String,
        }
        #[derive(Serialize)]
        struct Quorum {
            threshold: u64,
            valid: u64,
            met: bool,
        }
        #[derive(Serialize)]
        struct Out<'a> {
            kind: &'static str,
            config_hash: String,
            version: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            signers: Option<Vec<Signer<'a>>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            quorum: Option<Quorum>,
            config: ConfigJson,
        }
        let (signers, quorum) = match &self.signed {
            None => (None, None),
            Some(signed) => {
                let statuses = signed.signer_statuses(&self.configuration.admins);
                let valid = statuses.iter().filter(|(_, s)| *s == SignerStatus::Valid).count() as u64;
                let signers = signed
                    .signatures
                    .iter()
                    .zip(&statuses)
                    .map(|(sig, (_, status))| Signer {
                        admin: &sig.admin,
                        status: status.as_str(),
                        signature: hex0x(&sig.signature),
                    })
                    .collect();
                let threshold = self.configuration.admins.threshold;
                (Some(signers), Some(Quorum { threshold, valid, met: valid >= threshold }))
            }
        };
        let out = Out {
            kind: if self.signed.is_some() { "signed" } else { "document" },
            config_hash: hex0x(&self.config_hash),
            version: self.configuration.version,
            signers,
            quorum,
            config: ConfigJson::from(&self.configuration),
        };
        serde_json::to_string_pretty(&out).expect("JSON of plain data")
    }
}

//! The configuration document: who administers the enclave (admin keys and
//! the quorum that must sign a configuration), who may use it (principals,
//! their keys, operations, key permissions and quotas), two timing knobs, and
//! optionally who oversees it (the `oversight` section: kill switch and
//! approval queue, docs/oversight.md).
//! One decoder reads both the CBOR document and its JSON editing form, so
//! both are refused for the same reasons with the same codes and field paths.

use std::collections::{BTreeMap, BTreeSet};

use ciborium::value::Value;
use sha2::{Digest, Sha256};

use crate::cbor::{self, as_array, as_bytes, as_text, as_uint, map, text, Fields};
use crate::error::{refuse, ConfigError, ConfigErrorCode as Code};
use crate::keys::{Alg, PublicKey};

/// Largest configuration document, in bytes of canonical CBOR.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;
/// Most admin keys in `admins.keys`.
pub const MAX_ADMINS: usize = 16;
/// Most principals in `principals`.
pub const MAX_PRINCIPALS: usize = 1024;
/// Most keys one principal may hold (`principals[].keys`).
pub const MAX_KEYS_PER_PRINCIPAL: usize = 8;
/// Most labels in one principal's `keys_allowed` list.
pub const MAX_LABELS_PER_PRINCIPAL: usize = 64;
/// Most entries in one `operations` list. Only eight names exist and each may
/// appear once; the cap is larger so that an unknown or repeated name gets its
/// own refusal, and bounds the work before those checks.
pub const MAX_OPERATIONS: usize = 32;
/// Longest admin or principal id, in bytes.
pub const MAX_ID_BYTES: usize = 64;
/// Longest key label in `keys_allowed` (the protocol's `MAX_LABEL_BYTES`).
pub const MAX_LABEL_BYTES: usize = 64;
/// Largest `stamp_window_ms` (10 minutes): a longer window keeps more nonces alive.
pub const MAX_STAMP_WINDOW_MS: u64 = 600_000;
/// Largest `session_max_lifetime_s` (one day).
pub const MAX_SESSION_LIFETIME_S: u64 = 86_400;

/// An operation a principal may be permitted (its wire name in `operations`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    GenerateKey,
    ImportKey,
    SignDigest,
    SignEthereumTransaction,
    SignPersonalMessage,
    SignTypedData,
    SignEd25519,
    ListKeys,
}

impl Operation {
    /// Every operation, in the contract's order.
    pub const ALL: [Operation; 8] = [
        Operation::GenerateKey,
        Operation::ImportKey,
        Operation::SignDigest,
        Operation::SignEthereumTransaction,
        Operation::SignPersonalMessage,
        Operation::SignTypedData,
        Operation::SignEd25519,
        Operation::ListKeys,
    ];

    /// The wire name (`sign_digest`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::GenerateKey => "generate_key",
            Operation::ImportKey => "import_key",
            Operation::SignDigest => "sign_digest",
            Operation::SignEthereumTransaction => "sign_ethereum_transaction",
            Operation::SignPersonalMessage => "sign_personal_message",
            Operation::SignTypedData => "sign_typed_data",
            Operation::SignEd25519 => "sign_ed25519",
            Operation::ListKeys => "list_keys",
        }
    }

    /// The operation of a wire name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

/// Which keys a principal may use besides its own (`keys_allowed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeysAllowed {
    /// Every key in the enclave.
    All,
    /// Only keys it created or imported.
    Own,
    /// Keys carrying one of these labels, and its own.
    Labels(Vec<String>),
}

/// One admin: an id and the key whose signatures count toward the quorum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminKey {
    pub id: String,
    pub public_key: PublicKey,
}

/// The admins and how many of them must sign a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admins {
    pub threshold: u64,
    pub keys: Vec<AdminKey>,
}

impl Admins {
    /// The admin with this id.
    pub fn get(&self, id: &str) -> Option<&AdminKey> {
        self.keys.iter().find(|a| a.id == id)
    }
}

/// Who oversees the enclave (docs/oversight.md): the optional `oversight`
/// section of the configuration. Without one, [`Configuration::oversight`]
/// gives the admins as overseers and approvers, each with the admin threshold
/// (see [`Oversight::from_admins`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Oversight {
    /// Any one of them may halt, degrade, heartbeat and read the status.
    pub overseers: Vec<AdminKey>,
    /// Distinct overseer signatures a resume needs (over a fresh challenge).
    pub resume_threshold: u64,
    /// Who may approve or reject held requests.
    pub approvers: Vec<AdminKey>,
    /// Distinct approvers that release a held request.
    pub approval_threshold: u64,
    /// How long a held request waits for its approvals.
    pub approval_ttl_s: u64,
    /// Held requests at once (`APPROVAL_QUEUE_FULL` past it).
    pub max_pending: u64,
    /// 0: off. Otherwise the enclave halts itself (global, Red) when no signed
    /// heartbeat arrived for this long while it was not halted.
    pub heartbeat_interval_ms: u64,
    /// 0: off. Otherwise this many policy refusals in a row halt the principal.
    pub trip_consecutive_denials: u64,
    /// 0: off. Otherwise a risk score at or above this (basis points) halts the principal.
    pub trip_risk_score_bps: u64,
}

/// Defaults of the `oversight` section's tunables (also what applies without one).
pub const DEFAULT_APPROVAL_TTL_S: u64 = 300;
/// Default `max_pending`.
pub const DEFAULT_MAX_PENDING: u64 = 64;
/// Largest `approval_ttl_s` (one day).
pub const MAX_APPROVAL_TTL_S: u64 = 86_400;
/// Largest `max_pending`.
pub const MAX_PENDING_LIMIT: u64 = 4096;
/// Smallest non-zero `heartbeat_interval_ms`.
pub const MIN_HEARTBEAT_INTERVAL_MS: u64 = 10;
/// Largest `heartbeat_interval_ms` (one hour).
pub const MAX_HEARTBEAT_INTERVAL_MS: u64 = 3_600_000;
/// Most keys in `oversight.overseers` or `oversight.approvers`.
pub const MAX_OVERSIGHT_KEYS: usize = 16;
/// Largest `trip_consecutive_denials`.
pub const MAX_TRIP_CONSECUTIVE_DENIALS: u64 = 100_000;
/// Largest `trip_risk_score_bps` (10,000 basis points = 100 %).
pub const MAX_TRIP_RISK_SCORE_BPS: u64 = 10_000;

impl Oversight {
    /// What applies without an `oversight` section: the admins oversee and
    /// approve with their threshold; no heartbeat, no automatic trips.
    pub fn from_admins(admins: &Admins) -> Oversight {
        Oversight {
            overseers: admins.keys.clone(),
            resume_threshold: admins.threshold,
            approvers: admins.keys.clone(),
            approval_threshold: admins.threshold,
            approval_ttl_s: DEFAULT_APPROVAL_TTL_S,
            max_pending: DEFAULT_MAX_PENDING,
            heartbeat_interval_ms: 0,
            trip_consecutive_denials: 0,
            trip_risk_score_bps: 0,
        }
    }
}

/// A client identity and what it may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    /// Any of these keys may sign its stamps and session authentications.
    pub keys: Vec<PublicKey>,
    pub operations: Vec<Operation>,
    pub keys_allowed: KeysAllowed,
    /// How many keys it may create or import (`generate_key`, `import_key`).
    pub max_keys: u64,
}

impl Principal {
    /// Whether its `operations` list the operation with wire name `op`.
    pub fn may(&self, op: &str) -> bool {
        self.operations.iter().any(|o| o.as_str() == op)
    }

    /// Whether it may use a key labelled `key_label` that principal
    /// `key_owner` created: its own keys always, others per `keys_allowed`.
    pub fn may_use_key(&self, key_label: &str, key_owner: &str) -> bool {
        if key_owner == self.id {
            return true;
        }
        match &self.keys_allowed {
            KeysAllowed::All => true,
            KeysAllowed::Own => false,
            KeysAllowed::Labels(labels) => labels.iter().any(|l| l == key_label),
        }
    }

    /// Its key quota: creating or importing a key when it already owns
    /// `max_keys` is `KEY_QUOTA_EXCEEDED`.
    pub fn max_keys(&self) -> u64 {
        self.max_keys
    }

    /// Whether any of its keys verifies `signature` over `digest`.
    pub fn verify(&self, digest: &[u8; 32], signature: &[u8]) -> bool {
        self.keys.iter().any(|k| k.verify(digest, signature))
    }
}

/// The configuration document (docs/configuration.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configuration {
    /// Strictly increases with every update; at least 1.
    pub version: u64,
    pub admins: Admins,
    pub principals: Vec<Principal>,
    /// Stamps are accepted within `now ± stamp_window_ms`.
    pub stamp_window_ms: u64,
    /// Longest an attested session may stay open.
    pub session_max_lifetime_s: u64,
    /// The `oversight` section, if the document has one (encoded only then, so
    /// documents without one keep their hash). Use [`Configuration::oversight`].
    pub oversight: Option<Oversight>,
}

impl Configuration {
    /// The canonical CBOR bytes (what `config_hash` hashes and admins sign).
    pub fn encode(&self) -> Vec<u8> {
        cbor::encode_canonical(&self.to_value())
    }

    /// SHA-256 of [`Configuration::encode`].
    pub fn config_hash(&self) -> [u8; 32] {
        config_hash(&self.encode())
    }

    /// Decodes canonical CBOR bytes and checks every rule of the document.
    pub fn decode(bytes: &[u8]) -> Result<Configuration, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return refuse(
                Code::TooLarge,
                format!("document: {} bytes, at most {MAX_CONFIG_BYTES} allowed (MAX_CONFIG_BYTES)", bytes.len()),
            );
        }
        let value = cbor::decode_canonical(bytes, "document")?;
        Configuration::from_value(&value)
    }

    /// The oversight in force: the document's section, or the admins' defaults.
    pub fn oversight(&self) -> std::borrow::Cow<'_, Oversight> {
        match &self.oversight {
            Some(o) => std::borrow::Cow::Borrowed(o),
            None => std::borrow::Cow::Owned(Oversight::from_admins(&self.admins)),
        }
    }

    /// The principal with this id.
    pub fn principal(&self, id: &str) -> Option<&Principal> {
        self.principals.iter().find(|p| p.id == id)
    }

    /// Checks every rule a decoded document must satisfy; [`Configuration::decode`]
    /// runs it, and so should anyone who builds a document in code before signing it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bytes = self.encode();
        let decoded = Configuration::decode(&bytes)?;
        debug_assert_eq!(&decoded, self);
        Ok(())
    }

    pub(crate) fn to_value(&self) -> Value {
        let key = |alg: Alg, k: &PublicKey| {
            vec![("alg", text(alg.as_str())), ("public_key", Value::Bytes(k.as_bytes().to_vec()))]
        };
        let admin_keys = |keys: &[AdminKey]| {
            let items = keys
                .iter()
                .map(|a| {
                    let mut entries = vec![("id", text(&a.id))];
                    entries.extend(key(a.public_key.alg(), &a.public_key));
                    map(entries)
                })
                .collect();
            Value::Array(items)
        };
        let principals = self
            .principals
            .iter()
            .map(|p| {
                let keys_allowed = match &p.keys_allowed {
                    KeysAllowed::All => text("all"),
                    KeysAllowed::Own => text("own"),
                    KeysAllowed::Labels(labels) => Value::Array(labels.iter().map(|l| text(l)).collect()),
                };
                map(vec![
                    ("id", text(&p.id)),
                    ("keys", Value::Array(p.keys.iter().map(|k| map(key(k.alg(), k))).collect())),
                    ("operations", Value::Array(p.operations.iter().map(|o| text(o.as_str())).collect())),
                    ("keys_allowed", keys_allowed),
                    ("max_keys", Value::from(p.max_keys)),
                ])
            })
            .collect();
        let mut entries = vec![
            ("version", Value::from(self.version)),
            (
                "admins",
                map(vec![("threshold", Value::from(self.admins.threshold)), ("keys", admin_keys(&self.admins.keys))]),
            ),
            ("principals", Value::Array(principals)),
            ("stamp_window_ms", Value::from(self.stamp_window_ms)),
            ("session_max_lifetime_s", Value::from(self.session_max_lifetime_s)),
        ];
        // Only when present: a document without the section keeps its bytes and its hash.
        if let Some(o) = &self.oversight {
            entries.push((
                "oversight",
                map(vec![
                    ("overseers", admin_keys(&o.overseers)),
                    ("resume_threshold", Value::from(o.resume_threshold)),
                    ("approvers", admin_keys(&o.approvers)),
                    ("approval_threshold", Value::from(o.approval_threshold)),
                    ("approval_ttl_s", Value::from(o.approval_ttl_s)),
                    ("max_pending", Value::from(o.max_pending)),
                    ("heartbeat_interval_ms", Value::from(o.heartbeat_interval_ms)),
                    ("trip_consecutive_denials", Value::from(o.trip_consecutive_denials)),
                    ("trip_risk_score_bps", Value::from(o.trip_risk_score_bps)),
                ]),
            ));
        }
        map(entries)
    }

    /// Reads a document from its generic CBOR value (also the JSON form's path).
    pub(crate) fn from_value(value: &Value) -> Result<Configuration, ConfigError> {
        let mut fields = Fields::new(value, "")?;
        let version = as_uint(fields.take("version")?, "version")?;
        if version == 0 {
            return refuse(Code::Invalid, "version: must be at least 1");
        }
        let admins = read_admins(fields.take("admins")?)?;
        let principals_value = fields.take("principals")?;
        let items = as_array(principals_value, "principals", MAX_PRINCIPALS, "MAX_PRINCIPALS")?;
        let mut principals = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            principals.push(read_principal(item, &format!("principals[{i}]"))?);
        }
        let stamp_window_ms = as_uint(fields.take("stamp_window_ms")?, "stamp_window_ms")?;
        if !(1..=MAX_STAMP_WINDOW_MS).contains(&stamp_window_ms) {
            return refuse(
                Code::Invalid,
                format!("stamp_window_ms: {stamp_window_ms}, must be 1..={MAX_STAMP_WINDOW_MS} (MAX_STAMP_WINDOW_MS)"),
            );
        }
        let session_max_lifetime_s = as_uint(fields.take("session_max_lifetime_s")?, "session_max_lifetime_s")?;
        if !(1..=MAX_SESSION_LIFETIME_S).contains(&session_max_lifetime_s) {
            return refuse(
                Code::Invalid,
                format!(
                    "session_max_lifetime_s: {session_max_lifetime_s}, must be 1..={MAX_SESSION_LIFETIME_S} \
                     (MAX_SESSION_LIFETIME_S)"
                ),
            );
        }
        let oversight = fields.take_optional("oversight").map(read_oversight).transpose()?;
        fields.finish()?;

        check_unique_ids(principals.iter().map(|p| p.id.as_str()), "principals", "principal")?;
        // A key that two principals share would let a stamp made for one be
        // presented as the other's (the stamp digest does not name the principal).
        let mut owners: BTreeMap<(Alg, &[u8]), (usize, usize)> = BTreeMap::new();
        for (i, p) in principals.iter().enumerate() {
            for (j, k) in p.keys.iter().enumerate() {
                if let Some((pi, pj)) = owners.insert((k.alg(), k.normalized()), (i, j)) {
                    return refuse(
                        Code::DuplicateKey,
                        format!(
                            "principals[{i}].keys[{j}].public_key: the same key as principals[{pi}].keys[{pj}] \
                             (a key belongs to one principal)"
                        ),
                    );
                }
            }
        }
        Ok(Configuration { version, admins, principals, stamp_window_ms, session_max_lifetime_s, oversight })
    }
}

/// SHA-256 of canonical document bytes: the `config_hash` attestation
/// documents carry in `user_data` and admins sign.
pub fn config_hash(document_bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(document_bytes).into()
}

fn read_admins(value: &Value) -> Result<Admins, ConfigError> {
    let mut fields = Fields::new(value, "admins")?;
    let threshold = as_uint(fields.take("threshold")?, "admins.threshold")?;
    let keys_value = fields.take("keys")?;
    fields.finish()?;
    let keys = read_signer_keys(
        keys_value,
        &SignerList {
            path: "admins.keys",
            what: "admin",
            max: MAX_ADMINS,
            cap: "MAX_ADMINS",
            none: "at least one admin (nobody could ever sign an update)",
        },
    )?;
    check_threshold(threshold, keys.len(), "admins.threshold", "admin keys")?;
    Ok(Admins { threshold, keys })
}

/// A list of `{id, alg, public_key}` signers (admins, overseers, approvers)
/// and how to name it in refusals.
struct SignerList {
    /// Its field path (`admins.keys`, `oversight.overseers`).
    path: &'static str,
    /// One of them, for duplicate-id messages (`admin`, `overseer`).
    what: &'static str,
    max: usize,
    /// The name of `max`.
    cap: &'static str,
    /// Why an empty list is refused.
    none: &'static str,
}

/// Reads a signer list: each entry's id and key, ids unique, keys unique (one
/// signer must never count twice toward a threshold), at least one entry.
fn read_signer_keys(value: &Value, list: &SignerList) -> Result<Vec<AdminKey>, ConfigError> {
    let path = list.path;
    let items = as_array(value, path, list.max, list.cap)?;
    let mut keys = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut f = Fields::new(item, &format!("{path}[{i}]"))?;
        let id = read_id(f.take("id")?, &f.path_of("id"))?;
        let public_key = read_key_fields(&mut f)?;
        f.finish()?;
        keys.push(AdminKey { id, public_key });
    }
    check_unique_ids(keys.iter().map(|a| a.id.as_str()), path, list.what)?;
    let mut seen: BTreeMap<(Alg, &[u8]), usize> = BTreeMap::new();
    for (i, a) in keys.iter().enumerate() {
        if let Some(first) = seen.insert((a.public_key.alg(), a.public_key.normalized()), i) {
            return refuse(
                Code::DuplicateKey,
                format!("{path}[{i}].public_key: the same key as {path}[{first}] (one signer would count twice)"),
            );
        }
    }
    if keys.is_empty() {
        return refuse(Code::Invalid, format!("{path}: {}", list.none));
    }
    Ok(keys)
}

/// A threshold must be `1..=count`: 0 would need nobody, more than `count` could never be met.
fn check_threshold(threshold: u64, count: usize, path: &str, of: &str) -> Result<(), ConfigError> {
    if threshold == 0 || threshold > count as u64 {
        return refuse(
            Code::InvalidThreshold,
            format!("{path}: {threshold}, must be 1..={count} (the number of {of})"),
        );
    }
    Ok(())
}

/// The `oversight` section (docs/configuration.md, docs/oversight.md): every field required.
fn read_oversight(value: &Value) -> Result<Oversight, ConfigError> {
    let mut f = Fields::new(value, "oversight")?;
    let overseers = read_signer_keys(
        f.take("overseers")?,
        &SignerList {
            path: "oversight.overseers",
            what: "overseer",
            max: MAX_OVERSIGHT_KEYS,
            cap: "MAX_OVERSIGHT_KEYS",
            none: "at least one overseer (nobody could halt or resume the enclave)",
        },
    )?;
    let resume_threshold = as_uint(f.take("resume_threshold")?, "oversight.resume_threshold")?;
    check_threshold(resume_threshold, overseers.len(), "oversight.resume_threshold", "overseers")?;
    let approvers = read_signer_keys(
        f.take("approvers")?,
        &SignerList {
            path: "oversight.approvers",
            what: "approver",
            max: MAX_OVERSIGHT_KEYS,
            cap: "MAX_OVERSIGHT_KEYS",
            none: "at least one approver (no held request could ever be released)",
        },
    )?;
    let approval_threshold = as_uint(f.take("approval_threshold")?, "oversight.approval_threshold")?;
    check_threshold(approval_threshold, approvers.len(), "oversight.approval_threshold", "approvers")?;
    let mut ranged = |name: &str, min: u64, max: u64, cap: &str| -> Result<u64, ConfigError> {
        let path = format!("oversight.{name}");
        let n = as_uint(f.take(name)?, &path)?;
        if !(min..=max).contains(&n) {
            return refuse(Code::Invalid, format!("{path}: {n}, must be {min}..={max} ({cap})"));
        }
        Ok(n)
    };
    let approval_ttl_s = ranged("approval_ttl_s", 1, MAX_APPROVAL_TTL_S, "MAX_APPROVAL_TTL_S")?;
    let max_pending = ranged("max_pending", 1, MAX_PENDING_LIMIT, "MAX_PENDING_LIMIT")?;
    let trip_consecutive_denials =
        ranged("trip_consecutive_denials", 0, MAX_TRIP_CONSECUTIVE_DENIALS, "MAX_TRIP_CONSECUTIVE_DENIALS")?;
    let trip_risk_score_bps = ranged("trip_risk_score_bps", 0, MAX_TRIP_RISK_SCORE_BPS, "MAX_TRIP_RISK_SCORE_BPS")?;
    let heartbeat_interval_ms = as_uint(f.take("heartbeat_interval_ms")?, "oversight.heartbeat_interval_ms")?;
    if heartbeat_interval_ms != 0
        && !(MIN_HEARTBEAT_INTERVAL_MS..=MAX_HEARTBEAT_INTERVAL_MS).contains(&heartbeat_interval_ms)
    {
        return refuse(
            Code::Invalid,
            format!(
                "oversight.heartbeat_interval_ms: {heartbeat_interval_ms}, must be 0 (off) or \
                 {MIN_HEARTBEAT_INTERVAL_MS}..={MAX_HEARTBEAT_INTERVAL_MS} (MIN_HEARTBEAT_INTERVAL_MS, \
                 MAX_HEARTBEAT_INTERVAL_MS)"
            ),
        );
    }
    f.finish()?;
    Ok(Oversight {
        overseers,
        resume_threshold,
        approvers,
        approval_threshold,
        approval_ttl_s,
        max_pending,
        heartbeat_interval_ms,
        trip_consecutive_denials,
        trip_risk_score_bps,
    })
}

fn read_principal(value: &Value, path: &str) -> Result<Principal, ConfigError> {
    let mut f = Fields::new(value, path)?;
    let id = read_id(f.take("id")?, &f.path_of("id"))?;

    let keys_path = f.path_of("keys");
    let items = as_array(f.take("keys")?, &keys_path, MAX_KEYS_PER_PRINCIPAL, "MAX_KEYS_PER_PRINCIPAL")?;
    if items.is_empty() {
        return refuse(Code::Invalid, format!("{keys_path}: at least one key (a principal without keys cannot sign)"));
    }
    let mut keys = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let mut kf = Fields::new(item, &format!("{keys_path}[{j}]"))?;
        keys.push(read_key_fields(&mut kf)?);
        kf.finish()?;
    }

    let ops_path = f.path_of("operations");
    let items = as_array(f.take("operations")?, &ops_path, MAX_OPERATIONS, "MAX_OPERATIONS")?;
    let mut operations = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let item_path = format!("{ops_path}[{j}]");
        let name = as_text(item, &item_path)?;
        let Some(op) = Operation::from_name(name) else {
            let known: Vec<&str> = Operation::ALL.iter().map(|o| o.as_str()).collect();
            return refuse(
                Code::UnknownOperation,
                format!("{item_path}: `{}` is not an operation (known: {})", printable(name), known.join(", ")),
            );
        };
        if operations.contains(&op) {
            return refuse(Code::Invalid, format!("{item_path}: `{name}` listed twice"));
        }
        operations.push(op);
    }

    let allowed_path = f.path_of("keys_allowed");
    let keys_allowed = match f.take("keys_allowed")? {
        Value::Text(t) if t == "all" => KeysAllowed::All,
        Value::Text(t) if t == "own" => KeysAllowed::Own,
        Value::Text(t) => {
            return refuse(
                Code::Invalid,
                format!("{allowed_path}: `{}`, expected \"all\", \"own\" or a list of labels", printable(t)),
            )
        }
        value @ Value::Array(_) => {
            let items = as_array(value, &allowed_path, MAX_LABELS_PER_PRINCIPAL, "MAX_LABELS_PER_PRINCIPAL")?;
            let mut labels: Vec<String> = Vec::with_capacity(items.len());
            for (j, item) in items.iter().enumerate() {
                let item_path = format!("{allowed_path}[{j}]");
                let label = read_label(item, &item_path)?;
                if labels.contains(&label) {
                    return refuse(Code::Invalid, format!("{item_path}: `{label}` listed twice"));
                }
                labels.push(label);
            }
            KeysAllowed::Labels(labels)
        }
        _ => return refuse(Code::Invalid, format!("{allowed_path}: expected \"all\", \"own\" or a list of labels")),
    };
    let max_keys = as_uint(f.take("max_keys")?, &f.path_of("max_keys"))?;
    f.finish()?;

    let mut seen: BTreeSet<&[u8]> = BTreeSet::new();
    for (j, k) in keys.iter().enumerate() {
        if !seen.insert(k.normalized()) {
            return refuse(Code::DuplicateKey, format!("{keys_path}[{j}].public_key: listed twice"));
        }
    }
    Ok(Principal { id, keys, operations, keys_allowed, max_keys })
}

/// Reads `alg` and `public_key` from a key map.
fn read_key_fields(f: &mut Fields<'_>) -> Result<PublicKey, ConfigError> {
    let alg_path = f.path_of("alg");
    let name = as_text(f.take("alg")?, &alg_path)?;
    let Some(alg) = Alg::from_name(name) else {
        return refuse(
            Code::UnknownAlg,
            format!("{alg_path}: `{}` is not an algorithm (known: ed25519, p256, secp256k1)", printable(name)),
        );
    };
    let key_path = f.path_of("public_key");
    let bytes = as_bytes(f.take("public_key")?, &key_path)?;
    PublicKey::from_bytes(alg, bytes)
        .map_err(|problem| ConfigError::new(Code::InvalidKey, format!("{key_path}: {alg} key: {problem}")))
}

/// Ids: 1..=MAX_ID_BYTES bytes of `A-Z a-z 0-9 - _ . : @`, so they print
/// unambiguously in logs, receipts and error messages.
fn read_id(value: &Value, path: &str) -> Result<String, ConfigError> {
    let id = as_text(value, path)?;
    if id.len() > MAX_ID_BYTES {
        return refuse(Code::TooLarge, format!("{path}: {} bytes, at most {MAX_ID_BYTES} (MAX_ID_BYTES)", id.len()));
    }
    if !is_id(id) {
        return refuse(
            Code::Invalid,
            format!("{path}: `{}` must be 1..={MAX_ID_BYTES} characters of A-Z a-z 0-9 - _ . : @", printable(id)),
        );
    }
    Ok(id.to_string())
}

/// Whether `id` is a valid admin or principal id.
pub fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'@'))
}

/// Labels follow the protocol's key label rule: 1..=64 bytes of `A-Z a-z 0-9 - _ . : /`.
fn read_label(value: &Value, path: &str) -> Result<String, ConfigError> {
    let label = as_text(value, path)?;
    if label.len() > MAX_LABEL_BYTES {
        return refuse(
            Code::TooLarge,
            format!("{path}: {} bytes, at most {MAX_LABEL_BYTES} (MAX_LABEL_BYTES)", label.len()),
        );
    }
    let ok = !label.is_empty()
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'));
    if !ok {
        return refuse(
            Code::Invalid,
            format!("{path}: `{}` must be 1..={MAX_LABEL_BYTES} characters of A-Z a-z 0-9 - _ . : /", printable(label)),
        );
    }
    Ok(label.to_string())
}

fn check_unique_ids<'a>(ids: impl Iterator<Item = &'a str>, path: &str, what: &str) -> Result<(), ConfigError> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, id) in ids.enumerate() {
        if let Some(first) = seen.insert(id, i) {
            return refuse(
                Code::DuplicateId,
                format!("{path}[{i}].id: {what} `{id}` already defined at {path}[{first}]"),
            );
        }
    }
    Ok(())
}

/// A short, printable rendering of text from the document for error messages.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s.chars().take(64).flat_map(char::escape_debug).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

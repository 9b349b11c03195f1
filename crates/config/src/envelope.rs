//! The signed envelope `{config, signatures}` and the two trust decisions
//! made on it: the first configuration an enclave boots with (trusted on
//! first use, but only if a quorum of its own admins signed it) and every
//! later one (a strictly higher version, signed by a quorum of the admins
//! in force). Admins sign SHA-256("sentinel/config/v1" || config_hash), so
//! a signature over a configuration can never be mistaken for a stamp or a
//! session authentication, which hash under other tags.

use ciborium::value::Value;
use sha2::{Digest, Sha256};

use crate::cbor::{self, as_array, as_bytes, map, text, Fields};
use crate::credential::{Credential, CredentialKind};
use crate::document::{config_hash, is_id, printable, Admins, Configuration, MAX_ADMINS, MAX_CONFIG_BYTES};
use crate::error::{refuse, ConfigError, ConfigErrorCode as Code};

/// Domain separation tag of admin signatures over a configuration.
pub const CONFIG_SIGNATURE_DOMAIN: &[u8] = b"sentinel/config/v1";
/// Most signatures an envelope may carry (current and next admins of an update).
pub const MAX_SIGNATURES: usize = 2 * MAX_ADMINS;
/// Longest signature accepted in an envelope (every algorithm makes 64 bytes).
pub const MAX_SIGNATURE_BYTES: usize = 64;
/// Largest signed envelope: the document plus its signatures and framing.
pub const MAX_SIGNED_CONFIG_BYTES: usize = MAX_CONFIG_BYTES + 8 * 1024;

/// The digest an admin signs: SHA-256(`CONFIG_SIGNATURE_DOMAIN` || config_hash).
pub fn config_signing_digest(config_hash: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(CONFIG_SIGNATURE_DOMAIN);
    h.update(config_hash);
    h.finalize().into()
}

/// One admin's signature in an envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminSignature {
    /// The admin id (`admins.keys[].id`) whose key made the signature.
    pub admin: String,
    pub signature: Vec<u8>,
}

/// Why a signature in an envelope did or did not count toward a quorum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignerStatus {
    /// Made by that admin's key over this document.
    Valid,
    /// That admin exists but the signature does not verify.
    Invalid,
    /// No admin with that id in the admin set checked against.
    NotAnAdmin,
}

impl SignerStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            SignerStatus::Valid => "valid",
            SignerStatus::Invalid => "invalid",
            SignerStatus::NotAnAdmin => "not-an-admin",
        }
    }
}

/// Too few valid signatures of distinct admins: what counted, what is required, and the
/// signatures that did not count (`id (invalid)`, `id (not-an-admin)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumShortfall {
    pub valid: usize,
    pub required: u64,
    pub not_counted: Vec<String>,
}

impl QuorumShortfall {
    /// `"1 valid signature(s) of {whose} admins, 2 required; not counted: ..."`: the one wording
    /// of a missed quorum (configurations, policies, admin orders).
    pub fn describe(&self, whose: &str) -> String {
        format!("{} valid signature(s) of {whose} admins, {} required{}", self.valid, self.required, self.detail())
    }

    /// `"; not counted: a (invalid), b (not-an-admin)"`, or nothing.
    pub fn detail(&self) -> String {
        if self.not_counted.is_empty() {
            String::new()
        } else {
            format!("; not counted: {}", self.not_counted.join(", "))
        }
    }
}

/// The one quorum rule of every admin-signed envelope (configurations, policies).
impl Admins {
    /// How each signature over `digest` fares against these admins, in order.
    pub fn signer_statuses(&self, digest: &[u8; 32], signatures: &[AdminSignature]) -> Vec<(String, SignerStatus)> {
        signatures
            .iter()
            .map(|s| {
                let status = match self.get(&s.admin) {
                    None => SignerStatus::NotAnAdmin,
                    Some(a) if a.public_key.verify(digest, &s.signature) => SignerStatus::Valid,
                    Some(_) => SignerStatus::Invalid,
                };
                (s.admin.clone(), status)
            })
            .collect()
    }

    /// Whether `threshold` distinct admins signed validly (an id counts once however often it appears).
    pub fn quorum(&self, statuses: &[(String, SignerStatus)]) -> Result<(), QuorumShortfall> {
        let mut valid: Vec<&str> = Vec::new();
        for (id, status) in statuses {
            if *status == SignerStatus::Valid && !valid.contains(&id.as_str()) {
                valid.push(id);
            }
        }
        if valid.len() as u64 >= self.threshold {
            return Ok(());
        }
        Err(QuorumShortfall {
            valid: valid.len(),
            required: self.threshold,
            not_counted: statuses
                .iter()
                .filter(|(_, s)| *s != SignerStatus::Valid)
                .map(|(id, s)| format!("{id} ({})", s.as_str()))
                .collect(),
        })
    }
}

/// The signed envelope: canonical document bytes and admin signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedConfig {
    /// Canonical CBOR of the configuration document.
    pub config: Vec<u8>,
    pub signatures: Vec<AdminSignature>,
}

impl SignedConfig {
    /// An envelope of a valid document (decoded to check it) and signatures
    /// (ids well formed and distinct, signatures at most 64 bytes).
    pub fn new(config: Vec<u8>, signatures: Vec<AdminSignature>) -> Result<SignedConfig, ConfigError> {
        Configuration::decode(&config)?;
        let signed = SignedConfig { config, signatures };
        signed.check_signatures_shape()?;
        Ok(signed)
    }

    /// The canonical CBOR of the envelope.
    pub fn encode(&self) -> Vec<u8> {
        let signatures = self
            .signatures
            .iter()
            .map(|s| map(vec![("admin", text(&s.admin)), ("signature", Value::Bytes(s.signature.clone()))]))
            .collect();
        cbor::encode_canonical(&map(vec![
            ("config", Value::Bytes(self.config.clone())),
            ("signatures", Value::Array(signatures)),
        ]))
    }

    /// Decodes an envelope (canonical CBOR, like the document). The document
    /// inside is not decoded here: see [`SignedConfig::configuration`].
    pub fn decode(bytes: &[u8]) -> Result<SignedConfig, ConfigError> {
        if bytes.len() > MAX_SIGNED_CONFIG_BYTES {
            return refuse(
                Code::TooLarge,
                format!(
                    "signed configuration: {} bytes, at most {MAX_SIGNED_CONFIG_BYTES} allowed (MAX_SIGNED_CONFIG_BYTES)",
                    bytes.len()
                ),
            );
        }
        let value = cbor::decode_canonical(bytes, "signed configuration")?;
        let mut fields = Fields::new(&value, "signed")?;
        let config = as_bytes(fields.take("config")?, "signed.config")?.to_vec();
        let items = as_array(fields.take("signatures")?, "signed.signatures", MAX_SIGNATURES, "MAX_SIGNATURES")?;
        fields.finish()?;
        let mut signatures = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("signed.signatures[{i}]");
            let mut f = Fields::new(item, &path)?;
            let admin = cbor::as_text(f.take("admin")?, &f.path_of("admin"))?.to_string();
            let signature = as_bytes(f.take("signature")?, &f.path_of("signature"))?.to_vec();
            f.finish()?;
            signatures.push(AdminSignature { admin, signature });
        }
        let signed = SignedConfig { config, signatures };
        signed.check_signatures_shape()?;
        Ok(signed)
    }

    fn check_signatures_shape(&self) -> Result<(), ConfigError> {
        if self.signatures.len() > MAX_SIGNATURES {
            return refuse(
                Code::TooLarge,
                format!(
                    "signed.signatures: {} items, at most {MAX_SIGNATURES} allowed (MAX_SIGNATURES)",
                    self.signatures.len()
                ),
            );
        }
        for (i, s) in self.signatures.iter().enumerate() {
            if !is_id(&s.admin) {
                return refuse(
                    Code::Invalid,
                    format!("signed.signatures[{i}].admin: `{}` is not a valid admin id", printable(&s.admin)),
                );
            }
            if s.signature.len() > MAX_SIGNATURE_BYTES {
                return refuse(
                    Code::TooLarge,
                    format!(
                        "signed.signatures[{i}].signature: {} bytes, at most {MAX_SIGNATURE_BYTES} (MAX_SIGNATURE_BYTES)",
                        s.signature.len()
                    ),
                );
            }
            if let Some(first) = self.signatures[..i].iter().position(|o| o.admin == s.admin) {
                return refuse(
                    Code::DuplicateId,
                    format!("signed.signatures[{i}].admin: `{}` already signed at signed.signatures[{first}]", s.admin),
                );
            }
        }
        Ok(())
    }

    /// SHA-256 of the document bytes (not of the envelope).
    pub fn config_hash(&self) -> [u8; 32] {
        config_hash(&self.config)
    }

    /// The document, decoded and checked.
    pub fn configuration(&self) -> Result<Configuration, ConfigError> {
        Configuration::decode(&self.config)
    }

    /// Adds (or replaces) the signature of `credential`'s admin over this
    /// document. The admin need not be one of the document's own: an update
    /// is signed by the admins in force, who may be leaving.
    pub fn sign(&mut self, credential: &Credential) -> Result<(), ConfigError> {
        let signature = sign_document(&self.config, credential)?;
        match self.signatures.iter_mut().find(|s| s.admin == signature.admin) {
            Some(existing) => *existing = signature,
            None => {
                if self.signatures.len() == MAX_SIGNATURES {
                    return refuse(
                        Code::TooLarge,
                        format!("signed.signatures: already {MAX_SIGNATURES} signatures (MAX_SIGNATURES)"),
                    );
                }
                self.signatures.push(signature)
            }
        }
        Ok(())
    }

    /// How each signature fares against `admins`, in envelope order.
    pub fn signer_statuses(&self, admins: &Admins) -> Vec<(String, SignerStatus)> {
        admins.signer_statuses(&config_signing_digest(&self.config_hash()), &self.signatures)
    }

    /// Refuses unless `threshold` distinct admins of `admins` signed validly.
    /// Signatures by others are ignored (an update may carry the next admins'
    /// signatures too); `whose` names the admin set in the message.
    fn check_quorum(&self, admins: &Admins, whose: &str) -> Result<(), ConfigError> {
        admins
            .quorum(&self.signer_statuses(admins))
            .or_else(|short| refuse(Code::QuorumNotMet, format!("signed.signatures: {}", short.describe(whose))))
    }

    /// The boot decision (trust on first use): the envelope must carry
    /// `threshold` valid signatures of distinct admins of the document itself.
    pub fn verify_initial(bytes: &[u8]) -> Result<Configuration, ConfigError> {
        let signed = SignedConfig::decode(bytes)?;
        let config = signed.configuration()?;
        signed.check_quorum(&config.admins, "the configuration's own")?;
        Ok(config)
    }
}

impl Configuration {
    /// The update decision: `new_signed_bytes` must carry `threshold` valid
    /// signatures of distinct admins of `self` (the configuration in force),
    /// checked before the new document is even decoded, and a version
    /// strictly greater than `self.version`.
    pub fn verify_update(&self, new_signed_bytes: &[u8]) -> Result<Configuration, ConfigError> {
        let signed = SignedConfig::decode(new_signed_bytes)?;
        signed.check_quorum(&self.admins, "the current configuration's")?;
        let config = signed.configuration()?;
        if config.version <= self.version {
            return refuse(
                Code::Rollback,
                format!(
                    "version: {} is not greater than the current version {} (updates must strictly increase it)",
                    config.version, self.version
                ),
            );
        }
        Ok(config)
    }
}

/// An admin's signature over canonical document bytes (decoded first, so
/// only valid documents are ever signed). The credential must be an admin's.
pub fn sign_document(document_bytes: &[u8], credential: &Credential) -> Result<AdminSignature, ConfigError> {
    credential.expect_kind(CredentialKind::Admin)?;
    Configuration::decode(document_bytes)?;
    let digest = config_signing_digest(&config_hash(document_bytes));
    Ok(AdminSignature { admin: credential.id().to_string(), signature: credential.sign(&digest) })
}

//! The signed policy envelope and the one trust decision made on it: may the
//! enclave adopt this policy?
//!
//! Yes when a quorum of the configuration's admins (`admins.threshold`
//! distinct admins, valid signatures) signed SHA-256("sentinel/policy/v1" ||
//! policy_hash), and its version is strictly greater than the active policy's
//! (no rollback to a laxer policy an admin once signed). The domain tag keeps
//! a policy signature from ever being mistaken for a configuration signature
//! ("sentinel/config/v1") or anything else an admin key signs. It trusts only
//! the admin keys of the configuration in force, which the caller passes in.
//!
//! The envelope is JSON, read as strictly as the policy itself (duplicate
//! keys, floats and unknown fields refused): `{"policy": {...},
//! "signatures": [{"admin": "id", "signature": "0x.."}]}`. Signatures are over
//! the policy's canonical bytes, so the envelope may be formatted any way.
use sentinel_config::{AdminSignature, Admins, Credential, CredentialKind, SignerStatus, MAX_SIGNATURES};

use crate::document::{
    as_array, as_str, hex0x, index, invalid, parse_hex_bytes, parse_json, parse_policy, parsed_from_value, printable,
    write_json_string, Obj, ParsedPolicy, MAX_JSON_DEPTH, MAX_POLICY_BYTES,
};
use crate::error::{refuse, PolicyError, PolicyErrorCode as Code};

/// Domain separation tag of admin signatures over a policy.
pub const POLICY_SIGNATURE_DOMAIN: &[u8] = b"sentinel/policy/v1";
/// Largest signed envelope (JSON bytes): the policy plus signatures and framing.
pub const MAX_SIGNED_POLICY_BYTES: usize = MAX_POLICY_BYTES + 16 * 1024;

/// The digest an admin signs: SHA-256(`POLICY_SIGNATURE_DOMAIN` || policy_hash).
pub fn policy_signing_digest(policy_hash: &[u8; 32]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(POLICY_SIGNATURE_DOMAIN);
    h.update(policy_hash);
    h.finalize().into()
}

/// `{"policy": {...}, "signatures": [{"admin": "id", "signature": "0x..."}]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPolicy {
    pub parsed: ParsedPolicy,
    pub signatures: Vec<AdminSignature>,
}

impl SignedPolicy {
    /// An unsigned envelope of a policy document (JSON text).
    pub fn new(policy_json: &[u8]) -> Result<SignedPolicy, PolicyError> {
        Ok(SignedPolicy { parsed: parse_policy(policy_json)?, signatures: Vec::new() })
    }

    /// A policy JSON text as given: a signed envelope (`{"policy": {...},
    /// "signatures": [...]}`, told apart by its top-level `policy` key) is read
    /// as one; anything else as a bare document, in an unsigned envelope.
    /// Signatures are not checked (dry runs, offline tools).
    pub fn from_policy_or_envelope(json: &[u8]) -> Result<SignedPolicy, PolicyError> {
        /// Reads only the top-level keys; anything unparsable is left to the real parsers to refuse.
        #[derive(serde::Deserialize)]
        struct Peek {
            policy: Option<serde::de::IgnoredAny>,
        }
        match serde_json::from_slice::<Peek>(json) {
            Ok(Peek { policy: Some(_) }) => SignedPolicy::from_json(json),
            _ => SignedPolicy::new(json),
        }
    }

    /// Parses the envelope JSON (the policy inside is canonicalised and validated).
    /// Field paths in messages start at the envelope (`policy.rules[0].id`,
    /// `signatures[1].admin`).
    pub fn from_json(json: &[u8]) -> Result<SignedPolicy, PolicyError> {
        let value = parse_json(json, "signed policy", MAX_SIGNED_POLICY_BYTES, MAX_JSON_DEPTH + 1)?;
        let obj = Obj::new(&value, "", &["policy", "signatures"])?;
        let parsed = parsed_from_value(obj.req("policy")?, "policy")?;
        let list_path = obj.path("signatures");
        let items = as_array(obj.req("signatures")?, &list_path, MAX_SIGNATURES, "MAX_SIGNATURES")?;
        let mut signatures: Vec<AdminSignature> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = index(&list_path, i);
            let s = Obj::new(item, &path, &["admin", "signature"])?;
            let admin_path = s.path("admin");
            let admin = as_str(s.req("admin")?, &admin_path)?;
            if !sentinel_config::is_id(admin) {
                return invalid(&admin_path, format_args!("`{}` is not an admin id", printable(admin)));
            }
            if let Some(first) = signatures.iter().position(|o| o.admin == admin) {
                return refuse(
                    Code::DuplicateId,
                    format!("{admin_path}: `{admin}` already signed at {}", index(&list_path, first)),
                );
            }
            let sig_path = s.path("signature");
            let sig_hex = as_str(s.req("signature")?, &sig_path)?;
            let Some(signature) = parse_hex_bytes(sig_hex) else {
                return invalid(&sig_path, "expected \"0x\" followed by hex digits");
            };
            if signature.len() > sentinel_config::MAX_SIGNATURE_BYTES {
                return refuse(
                    Code::TooLarge,
                    format!(
                        "{sig_path}: {} bytes, at most {} (MAX_SIGNATURE_BYTES)",
                        signature.len(),
                        sentinel_config::MAX_SIGNATURE_BYTES
                    ),
                );
            }
            signatures.push(AdminSignature { admin: admin.to_string(), signature });
        }
        Ok(SignedPolicy { parsed, signatures })
    }

    /// The envelope JSON (policy as its canonical object, signatures as 0x-hex).
    /// It is itself canonical: keys sorted, no whitespace.
    pub fn to_json(&self) -> String {
        let mut out: Vec<u8> = Vec::with_capacity(self.parsed.canonical.len() + 64 + 160 * self.signatures.len());
        out.extend_from_slice(b"{\"policy\":");
        out.extend_from_slice(&self.parsed.canonical);
        out.extend_from_slice(b",\"signatures\":[");
        for (i, s) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"admin\":");
            write_json_string(&s.admin, &mut out);
            out.extend_from_slice(b",\"signature\":\"");
            out.extend_from_slice(hex0x(&s.signature).as_bytes());
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"]}");
        // Canonical bytes are UTF-8 by construction; the rest is ASCII.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Adds or replaces the signature of `credential`'s admin. Only admin
    /// credentials sign policies (a client credential is refused, `POLICY_INVALID`).
    pub fn sign(&mut self, credential: &Credential) -> Result<(), PolicyError> {
        credential.expect_kind(CredentialKind::Admin).map_err(|e| {
            PolicyError::new(Code::Invalid, format!("{} (policies are signed by admins): {}", e.code(), e.message()))
        })?;
        let signature = AdminSignature {
            admin: credential.id().to_string(),
            signature: credential.sign(&policy_signing_digest(&self.parsed.hash)),
        };
        match self.signatures.iter_mut().find(|s| s.admin == signature.admin) {
            Some(existing) => *existing = signature,
            None => {
                if self.signatures.len() >= MAX_SIGNATURES {
                    return refuse(
                        Code::TooLarge,
                        format!("signatures: already {MAX_SIGNATURES} signatures (MAX_SIGNATURES)"),
                    );
                }
                self.signatures.push(signature);
            }
        }
        Ok(())
    }

    /// How each signature fares against `admins`, in envelope order.
    pub fn signer_statuses(&self, admins: &Admins) -> Vec<(String, SignerStatus)> {
        admins.signer_statuses(&policy_signing_digest(&self.parsed.hash), &self.signatures)
    }

    /// The enclave's decision: a quorum of `admins` signed, and the version is strictly
    /// greater than `active_version` (when a policy is active). The quorum is
    /// checked first: an unsigned envelope learns nothing about the active version.
    pub fn verify(&self, admins: &Admins, active_version: Option<u64>) -> Result<(), PolicyError> {
        if let Err(short) = admins.quorum(&self.signer_statuses(admins)) {
            return refuse(Code::QuorumNotMet, format!("signatures: {}", short.describe("the configuration's")));
        }
        let version = self.parsed.policy.version;
        if let Some(active) = active_version {
            if version <= active {
                return refuse(
                    Code::Rollback,
                    format!(
                        "version: {version} is not greater than the active policy's version {active} \
                         (updates must strictly increase it)"
                    ),
                );
            }
        }
        Ok(())
    }
}

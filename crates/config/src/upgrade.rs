//! Admin orders about sealed state: upgrade approvals (enclaves of one image, PCR0, may hand their
//! sealing master key to enclaves of another, under one configuration) and key deletion orders
//! (the admin quorum deletes a key whoever owns it). Both are canonical CBOR documents with a
//! `type`, signed by the configuration's admins over a digest with a domain of their own.
//!
//! Attested key forwarding (docs/sealed-state.md) moves the master key only between enclaves that
//! attested the same PCR0 and configuration hash, unless an approval signed by `threshold` distinct
//! admins of that configuration names both images: `from_pcr0` (the sender's) and `to_pcr0` (the
//! receiver's). Both sides check it: the sender before it seals the key to the receiver, the receiver
//! before it accepts a key from a sender of another image. The document is canonical CBOR
//! `{type, from_pcr0, to_pcr0, config_hash, expires_at_us}`; admins sign
//! SHA-256(`UPGRADE_SIGNATURE_DOMAIN` || SHA-256(document)), a domain no configuration or policy
//! signature shares. Pure: the time to check expiry against is passed in.
use ciborium::value::Value;
use sha2::{Digest, Sha256};

use crate::cbor::{as_array, as_bytes, as_text, as_uint, decode_canonical, encode_canonical, map, text, Fields};
use crate::error::{ConfigError, ConfigErrorCode as Code};
use crate::{AdminSignature, Admins, Credential, CredentialKind, MAX_SIGNATURES, MAX_SIGNATURE_BYTES};

/// The `type` of an approval document.
pub const UPGRADE_APPROVAL_TYPE: &str = "sentinel/upgrade-approval/v1";
/// Domain of the digest admins sign over an approval.
pub const UPGRADE_SIGNATURE_DOMAIN: &[u8] = b"sentinel/upgrade-approval/v1\0";
/// Largest signed approval accepted.
pub const MAX_SIGNED_APPROVAL_BYTES: usize = 16 * 1024;

/// What the admins approve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeApproval {
    /// The image that may send its master key.
    pub from_pcr0: [u8; 48],
    /// The image that may receive it.
    pub to_pcr0: [u8; 48],
    /// The configuration both run.
    pub config_hash: [u8; 32],
    /// After this time (µs since the Unix epoch) the approval counts for nothing.
    pub expires_at_us: u64,
}

fn refuse<T>(code: Code, message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::new(code, message))
}

fn fixed<const N: usize>(value: &Value, path: &str) -> Result<[u8; N], ConfigError> {
    as_bytes(value, path)?.try_into().map_err(|_| ConfigError::new(Code::Invalid, format!("{path}: must be {N} bytes")))
}

impl UpgradeApproval {
    /// The canonical document bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode_canonical(&map(vec![
            ("type", text(UPGRADE_APPROVAL_TYPE)),
            ("from_pcr0", Value::Bytes(self.from_pcr0.to_vec())),
            ("to_pcr0", Value::Bytes(self.to_pcr0.to_vec())),
            ("config_hash", Value::Bytes(self.config_hash.to_vec())),
            ("expires_at_us", Value::from(self.expires_at_us)),
        ]))
    }

    fn decode(bytes: &[u8]) -> Result<Self, ConfigError> {
        let value = decode_canonical(bytes, "approval")?;
        let mut f = Fields::new(&value, "approval")?;
        if as_text(f.take("type")?, "approval.type")? != UPGRADE_APPROVAL_TYPE {
            return refuse(Code::Invalid, format!("approval.type: must be {UPGRADE_APPROVAL_TYPE:?}"));
        }
        let approval = UpgradeApproval {
            from_pcr0: fixed(f.take("from_pcr0")?, "approval.from_pcr0")?,
            to_pcr0: fixed(f.take("to_pcr0")?, "approval.to_pcr0")?,
            config_hash: fixed(f.take("config_hash")?, "approval.config_hash")?,
            expires_at_us: as_uint(f.take("expires_at_us")?, "approval.expires_at_us")?,
        };
        f.finish()?;
        Ok(approval)
    }

    /// The digest each admin signs.
    pub fn signing_digest(document: &[u8]) -> [u8; 32] {
        order_digest(UPGRADE_SIGNATURE_DOMAIN, document)
    }
}

/// SHA-256(`domain` || SHA-256(document)): what an admin signs over an order of one kind.
fn order_digest(domain: &[u8], document: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(domain);
    h.update(Sha256::digest(document));
    h.finalize().into()
}

/// Domain of the digest admins sign over a key deletion order.
pub const KEY_DELETION_SIGNATURE_DOMAIN: &[u8] = b"sentinel/key-deletion/v1\0";
/// The `type` of a key deletion order.
pub const KEY_DELETION_TYPE: &str = "sentinel/key-deletion/v1";

/// The admin quorum's order to delete one key (whoever owns it), under one configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDeletionOrder {
    pub key_id: String,
    pub config_hash: [u8; 32],
    /// After this time (µs since the Unix epoch) the order counts for nothing.
    pub expires_at_us: u64,
}

impl KeyDeletionOrder {
    /// The canonical document bytes.
    pub fn encode(&self) -> Vec<u8> {
        encode_canonical(&map(vec![
            ("type", text(KEY_DELETION_TYPE)),
            ("key_id", text(&self.key_id)),
            ("config_hash", Value::Bytes(self.config_hash.to_vec())),
            ("expires_at_us", Value::from(self.expires_at_us)),
        ]))
    }

    fn decode(bytes: &[u8]) -> Result<Self, ConfigError> {
        let value = decode_canonical(bytes, "order")?;
        let mut f = Fields::new(&value, "order")?;
        if as_text(f.take("type")?, "order.type")? != KEY_DELETION_TYPE {
            return refuse(Code::Invalid, format!("order.type: must be {KEY_DELETION_TYPE:?}"));
        }
        let order = KeyDeletionOrder {
            key_id: as_text(f.take("key_id")?, "order.key_id")?.to_string(),
            config_hash: fixed(f.take("config_hash")?, "order.config_hash")?,
            expires_at_us: as_uint(f.take("expires_at_us")?, "order.expires_at_us")?,
        };
        f.finish()?;
        Ok(order)
    }

    /// The order signed by `signers` (admin credentials), as bytes for `admin_delete_key`.
    pub fn signed(&self, signers: &[&Credential]) -> Result<Vec<u8>, ConfigError> {
        let mut signed = SignedUpgradeApproval { approval: self.encode(), signatures: Vec::new() };
        for s in signers {
            signed.sign_with_domain(s, KEY_DELETION_SIGNATURE_DOMAIN)?;
        }
        Ok(signed.encode())
    }

    /// The order, if `admins` reached their threshold over it and it has not expired at `now_us`.
    pub fn verify(bytes: &[u8], admins: &Admins, now_us: u64) -> Result<KeyDeletionOrder, ConfigError> {
        let signed = SignedUpgradeApproval::decode(bytes)?;
        signed.check_quorum(admins, KEY_DELETION_SIGNATURE_DOMAIN)?;
        let order = KeyDeletionOrder::decode(&signed.approval)?;
        if now_us > order.expires_at_us {
            return refuse(Code::Invalid, "order.expires_at_us: the order has expired");
        }
        Ok(order)
    }
}

/// An approval and its admin signatures, as one canonical CBOR map `{approval, signatures}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUpgradeApproval {
    pub approval: Vec<u8>,
    pub signatures: Vec<AdminSignature>,
}

impl SignedUpgradeApproval {
    pub fn new(approval: &UpgradeApproval) -> Self {
        SignedUpgradeApproval { approval: approval.encode(), signatures: Vec::new() }
    }

    /// Adds an admin's signature.
    pub fn sign(&mut self, credential: &Credential) -> Result<(), ConfigError> {
        self.sign_with_domain(credential, UPGRADE_SIGNATURE_DOMAIN)
    }

    fn sign_with_domain(&mut self, credential: &Credential, domain: &[u8]) -> Result<(), ConfigError> {
        credential.expect_kind(CredentialKind::Admin)?;
        let digest = order_digest(domain, &self.approval);
        self.signatures.retain(|s| s.admin != credential.id());
        self.signatures
            .push(AdminSignature { admin: credential.id().to_string(), signature: credential.sign(&digest) });
        Ok(())
    }

    fn check_quorum(&self, admins: &Admins, domain: &[u8]) -> Result<(), ConfigError> {
        let digest = order_digest(domain, &self.approval);
        admins.quorum(&admins.signer_statuses(&digest, &self.signatures)).or_else(|short| {
            refuse(Code::QuorumNotMet, format!("signatures: {}", short.describe("the configuration's")))
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let signatures = self
            .signatures
            .iter()
            .map(|s| Value::Array(vec![text(&s.admin), Value::Bytes(s.signature.clone())]))
            .collect();
        encode_canonical(&map(vec![
            ("approval", Value::Bytes(self.approval.clone())),
            ("signatures", Value::Array(signatures)),
        ]))
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() > MAX_SIGNED_APPROVAL_BYTES {
            return refuse(Code::TooLarge, format!("signed approval: at most {MAX_SIGNED_APPROVAL_BYTES} bytes"));
        }
        let value = decode_canonical(bytes, "signed approval")?;
        let mut f = Fields::new(&value, "")?;
        let approval = as_bytes(f.take("approval")?, "approval")?.to_vec();
        let items = as_array(f.take("signatures")?, "signatures", MAX_SIGNATURES, "MAX_SIGNATURES")?;
        f.finish()?;
        let mut signatures = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let path = format!("signatures[{i}]");
            let pair = as_array(item, &path, 2, "2")?;
            let [admin, signature] = pair else { return refuse(Code::Invalid, format!("{path}: [admin, signature]")) };
            let signature = as_bytes(signature, &path)?;
            if signature.len() > MAX_SIGNATURE_BYTES {
                return refuse(Code::TooLarge, format!("{path}: at most {MAX_SIGNATURE_BYTES} bytes"));
            }
            signatures
                .push(AdminSignature { admin: as_text(admin, &path)?.to_string(), signature: signature.to_vec() });
        }
        Ok(SignedUpgradeApproval { approval, signatures })
    }

    /// The approval, if `admins` (the configuration's) reached their threshold over it and it has
    /// not expired at `now_us`. Errors: `CONFIG_QUORUM_NOT_MET`, `CONFIG_INVALID` (expired, or a
    /// document that does not decode), `CONFIG_MALFORMED` / `CONFIG_NOT_CANONICAL`.
    pub fn verify(bytes: &[u8], admins: &Admins, now_us: u64) -> Result<UpgradeApproval, ConfigError> {
        let signed = SignedUpgradeApproval::decode(bytes)?;
        signed.check_quorum(admins, UPGRADE_SIGNATURE_DOMAIN)?;
        let approval = UpgradeApproval::decode(&signed.approval)?;
        if now_us > approval.expires_at_us {
            return refuse(Code::Invalid, "approval.expires_at_us: the approval has expired");
        }
        Ok(approval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{development_configuration, Alg};

    fn admin(seed: u8) -> Credential {
        Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[seed; 32]).unwrap()
    }

    fn approval() -> UpgradeApproval {
        UpgradeApproval { from_pcr0: [1; 48], to_pcr0: [2; 48], config_hash: [3; 32], expires_at_us: 1_000 }
    }

    fn admins() -> Admins {
        let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[9; 32]).unwrap();
        development_configuration(admin(1).public_key(), client.public_key()).admins
    }

    #[test]
    fn a_quorum_signed_approval_verifies_until_it_expires() {
        let mut signed = SignedUpgradeApproval::new(&approval());
        signed.sign(&admin(1)).unwrap();
        let bytes = signed.encode();
        assert_eq!(SignedUpgradeApproval::verify(&bytes, &admins(), 999).unwrap(), approval());
        let e = SignedUpgradeApproval::verify(&bytes, &admins(), 1_001).unwrap_err();
        assert_eq!((e.code(), e.message().contains("expired")), ("CONFIG_INVALID", true));
    }

    #[test]
    fn forged_or_tampered_approvals_are_refused() {
        // Signed by someone who is not an admin of the configuration.
        let mut forged = SignedUpgradeApproval::new(&approval());
        forged.sign(&admin(7)).unwrap();
        let e = SignedUpgradeApproval::verify(&forged.encode(), &admins(), 0).unwrap_err();
        assert_eq!(e.code(), "CONFIG_QUORUM_NOT_MET");
        // A genuine signature over another document.
        let mut signed = SignedUpgradeApproval::new(&approval());
        signed.sign(&admin(1)).unwrap();
        let other = UpgradeApproval { to_pcr0: [4; 48], ..approval() };
        signed.approval = other.encode();
        let e = SignedUpgradeApproval::verify(&signed.encode(), &admins(), 0).unwrap_err();
        assert_eq!(e.code(), "CONFIG_QUORUM_NOT_MET");
        // Not canonical, unknown fields, garbage.
        assert!(SignedUpgradeApproval::verify(&[0xff], &admins(), 0).is_err());
        let mut extra = SignedUpgradeApproval::new(&approval());
        extra.approval = encode_canonical(&map(vec![("type", text(UPGRADE_APPROVAL_TYPE)), ("x", Value::from(1))]));
        extra.sign(&admin(1)).unwrap();
        assert!(SignedUpgradeApproval::verify(&extra.encode(), &admins(), 0).is_err());
    }

    #[test]
    fn a_key_deletion_order_needs_the_quorum_and_its_own_domain() {
        let order = KeyDeletionOrder { key_id: "k-01".into(), config_hash: [3; 32], expires_at_us: 50 };
        let signed = order.signed(&[&admin(1)]).unwrap();
        assert_eq!(KeyDeletionOrder::verify(&signed, &admins(), 10).unwrap(), order);
        assert_eq!(KeyDeletionOrder::verify(&signed, &admins(), 51).unwrap_err().code(), "CONFIG_INVALID");
        let forged = order.signed(&[&admin(2)]).unwrap();
        assert_eq!(KeyDeletionOrder::verify(&forged, &admins(), 10).unwrap_err().code(), "CONFIG_QUORUM_NOT_MET");
        // An upgrade approval's signatures do not make a deletion order, nor the other way round.
        let mut approval = SignedUpgradeApproval::new(&approval());
        approval.approval = order.encode();
        approval.sign(&admin(1)).unwrap();
        assert_eq!(
            KeyDeletionOrder::verify(&approval.encode(), &admins(), 10).unwrap_err().code(),
            "CONFIG_QUORUM_NOT_MET"
        );
        assert!(SignedUpgradeApproval::verify(&signed, &admins(), 10).is_err());
    }

    #[test]
    fn the_signing_digest_is_domain_separated() {
        let doc = approval().encode();
        let mut h = Sha256::new();
        h.update(b"sentinel/upgrade-approval/v1\0");
        h.update(Sha256::digest(&doc));
        assert_eq!(UpgradeApproval::signing_digest(&doc), <[u8; 32]>::from(h.finalize()));
        assert_ne!(UpgradeApproval::signing_digest(&doc), crate::config_signing_digest(&crate::config_hash(&doc)));
    }
}

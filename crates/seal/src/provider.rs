//! Where the master key comes from, and what a configuration lineage is.
//!
//! A [`MasterKeyProvider`] answers one question at boot: which master key seals this enclave's
//! records, if any. Three kinds exist ([`SealingKind`]): AWS KMS with attestation (production: KMS
//! releases the key only to an enclave whose measurement its key policy names), a development key
//! file (local stack only: the host can read it, so nothing it seals is protected from the host),
//! and none (memory only: every key is ephemeral). Implementations do I/O and live in the enclave
//! program; this crate only names them, so every layer reports the same kind string.
//!
//! A lineage names the chain of configurations one admin quorum signed: the SHA-256, under a
//! domain label, of the first configuration's hash. Updates signed by the quorum in force keep it;
//! a configuration the host chose starts another, whose enclave cannot open the first one's records.
use sha2::{Digest, Sha256};

use crate::{Lineage, MasterKey, SealError};

/// Domain label of [`Lineage::of_first_configuration`].
const LINEAGE_LABEL: &[u8] = b"sentinel/lineage/v1\0";

/// Which provider sealed (or did not seal) an enclave's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SealingKind {
    /// AWS KMS with a `Recipient` (attestation document): production.
    AwsKms,
    /// A key file in the host's data directory (mode 0600): DEVELOPMENT only.
    Development,
    /// No sealing: keys live in enclave memory only and a restart loses them.
    None,
}

impl SealingKind {
    /// `aws-kms`, `development` or `none`: the string `describe`, health and `zcp up` show.
    pub const fn as_str(self) -> &'static str {
        match self {
            SealingKind::AwsKms => "aws-kms",
            SealingKind::Development => "development",
            SealingKind::None => "none",
        }
    }

    /// What a key's answer says about how it survives a restart.
    pub const fn key_storage(self) -> &'static str {
        match self {
            SealingKind::AwsKms => "sealed:aws-kms",
            SealingKind::Development => "sealed:development",
            SealingKind::None => "ephemeral",
        }
    }
}

/// A source of the master key, asked once at boot.
pub trait MasterKeyProvider: Send + Sync {
    fn kind(&self) -> SealingKind;
    /// The master key; `Ok(None)` only for [`SealingKind::None`].
    fn master_key(&self) -> Result<Option<MasterKey>, SealError>;
}

impl Lineage {
    /// The lineage a configuration installed on trust (the first one) starts.
    pub fn of_first_configuration(config_hash: &[u8; 32]) -> Lineage {
        let mut h = Sha256::new();
        h.update(LINEAGE_LABEL);
        h.update(config_hash);
        Lineage(h.finalize().into())
    }

    /// Lowercase hex, as answers and logs show it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lineage_is_a_labelled_hash_of_the_first_configuration() {
        let a = Lineage::of_first_configuration(&[1; 32]);
        assert_ne!(a, Lineage::of_first_configuration(&[2; 32]));
        // Not the configuration hash itself: a lineage cannot be mistaken for a configuration.
        assert_ne!(a.0, [1; 32]);
        let mut h = Sha256::new();
        h.update(b"sentinel/lineage/v1\0");
        h.update([1u8; 32]);
        assert_eq!(a.0, <[u8; 32]>::from(h.finalize()));
        assert_eq!(a.to_hex().len(), 64);
    }

    #[test]
    fn kinds_have_stable_names() {
        let kinds = [SealingKind::AwsKms, SealingKind::Development, SealingKind::None];
        let names: Vec<_> = kinds.iter().map(|k| (k.as_str(), k.key_storage())).collect();
        assert_eq!(
            names,
            [("aws-kms", "sealed:aws-kms"), ("development", "sealed:development"), ("none", "ephemeral")]
        );
    }
}

//! What a successful verification yields. Fields are private and only this
//! crate constructs the type, so holding a `VerifiedDocument` is proof that the
//! chain and signature were checked; the caller still has to compare the
//! contents with what it expects (see `expect.rs`) — a valid document from the
//! wrong enclave is still a valid document. The root's fingerprint and kind are
//! kept so tools can say plainly when a document chains to a development root.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::AWS_NITRO_ROOT_G1_DER;

/// Which root a document chained to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RootKind {
    /// The embedded AWS Nitro Enclaves Root-G1: real Nitro hardware.
    AwsNitro,
    /// Any other root the caller pinned (e.g. a development/simulator root).
    Other,
}

impl RootKind {
    /// `"aws-nitro"` or `"other"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AwsNitro => "aws-nitro",
            Self::Other => "other",
        }
    }

    pub(crate) fn of(root_der: &[u8]) -> Self {
        if root_der == AWS_NITRO_ROOT_G1_DER {
            Self::AwsNitro
        } else {
            Self::Other
        }
    }
}

/// SHA-256 of a DER certificate.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// An attestation document whose chain and COSE signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedDocument {
    pub(crate) module_id: String,
    pub(crate) digest: String,
    pub(crate) timestamp_ms: u64,
    pub(crate) pcrs: BTreeMap<u8, Vec<u8>>,
    pub(crate) certificate: Vec<u8>,
    pub(crate) cabundle: Vec<Vec<u8>>,
    pub(crate) public_key: Option<Vec<u8>>,
    pub(crate) user_data: Option<Vec<u8>>,
    pub(crate) nonce: Option<Vec<u8>>,
    pub(crate) root_fingerprint: [u8; 32],
    pub(crate) root_kind: RootKind,
}

impl VerifiedDocument {
    /// The enclave image's module id (e.g. `i-…-enc…`).
    pub fn module_id(&self) -> &str {
        &self.module_id
    }
    /// Always `"SHA384"`.
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// When the NSM produced the document, Unix ms.
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }
    /// All PCRs, index → 48-byte value.
    pub fn pcrs(&self) -> &BTreeMap<u8, Vec<u8>> {
        &self.pcrs
    }
    /// One PCR, if present.
    pub fn pcr(&self, index: u8) -> Option<&[u8]> {
        self.pcrs.get(&index).map(Vec::as_slice)
    }
    /// True when PCR0 is all zeros (enclave started in debug mode).
    pub fn is_debug_mode(&self) -> bool {
        self.pcr(0).is_some_and(|p| p.iter().all(|&b| b == 0))
    }
    /// The leaf certificate (DER) whose key signed the document.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }
    /// The CA bundle as shipped (DER, root first).
    pub fn cabundle(&self) -> &[Vec<u8>] {
        &self.cabundle
    }
    /// Opaque public key bytes, if set (may be PEM text).
    pub fn public_key(&self) -> Option<&[u8]> {
        self.public_key.as_deref()
    }
    /// User data, if set.
    pub fn user_data(&self) -> Option<&[u8]> {
        self.user_data.as_deref()
    }
    /// Nonce, if set.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_deref()
    }
    /// SHA-256 of the trusted root (DER) the chain was verified from.
    pub fn root_fingerprint(&self) -> &[u8; 32] {
        &self.root_fingerprint
    }
    /// Whether that root is the embedded AWS Nitro root.
    pub fn root_kind(&self) -> RootKind {
        self.root_kind
    }
}

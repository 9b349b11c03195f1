//! A simulated enclave for the tests: a `SimulatedNsm` (development root CA in
//! a temporary directory) that issues real attestation documents carrying an
//! [`AttestedKeys`] bundle and a [`UserData`], and the Ed25519 receipt key
//! whose public half is in that bundle.
#![allow(dead_code)]

use std::sync::Arc;

use sentinel_evidence::{
    sign_receipt, AttestedKeys, Decision, ReceiptClaims, ReceiptOptions, SigningKey, UnixTime, UserData,
};
use sentinel_nsm::pcr::pcrs_from_artifact;
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_nsm::{AttestationRequest, Pcr, PCR_COUNT};
use sha2::{Digest, Sha256};

/// 2026-01-01T00:00:00.123Z, when the test enclave boots.
pub const T0_MS: u64 = 1_767_225_600_123;

/// SHA-256 of a label: deterministic test bytes.
pub fn h(label: &str) -> [u8; 32] {
    Sha256::digest(label.as_bytes()).into()
}

pub struct Enclave {
    _dir: tempfile::TempDir,
    pub nsm: SimulatedNsm,
    pub receipt_key: SigningKey,
    pub keys: AttestedKeys,
    pub config_hash: [u8; 32],
    /// The boot attestation document (public_key = keys, user_data = config hash).
    pub document: Vec<u8>,
}

impl Enclave {
    /// An enclave image `image` whose receipt key is derived from `seed`.
    pub fn boot(seed: &str) -> Self {
        Self::boot_with_pcrs(seed, pcrs_from_artifact(b"sentinel test enclave"))
    }

    pub fn boot_with_pcrs(seed: &str, pcrs: [Pcr; PCR_COUNT]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let nsm = SimulatedNsm::open(dir.path(), pcrs, Arc::new(|| T0_MS)).unwrap();
        let receipt_key = SigningKey::from_bytes(&h(&format!("{seed}/receipt")));
        let keys = AttestedKeys {
            receipt: receipt_key.verifying_key().to_bytes(),
            session: h(&format!("{seed}/session")),
            import: h(&format!("{seed}/import")),
        };
        let config_hash = h(&format!("{seed}/config"));
        let mut enclave = Self { _dir: dir, nsm, receipt_key, keys, config_hash, document: Vec::new() };
        enclave.document = enclave.document_with(
            Some(keys.to_bytes().to_vec()),
            Some(UserData { config_hash }.to_bytes().to_vec()),
            T0_MS,
        );
        enclave
    }

    /// Another document of the same simulated module, with these fields.
    pub fn document_with(&self, public_key: Option<Vec<u8>>, user_data: Option<Vec<u8>>, at_ms: u64) -> Vec<u8> {
        self.nsm.attestation_at(&AttestationRequest { user_data, nonce: None, public_key }, at_ms).unwrap()
    }

    pub fn pcr0(&self) -> [u8; 48] {
        pcrs_from_artifact(b"sentinel test enclave")[0]
    }

    /// An allowed `sign_digest` answer naming this enclave's document and config.
    pub fn claims(&self) -> ReceiptClaims {
        ReceiptClaims {
            request_id: *b"req-0000-0000-01",
            timestamp_us: T0_MS * 1000 + 5_000_456,
            principal: "dev-client".into(),
            key_id: Some("key-1".into()),
            op: "sign_digest".into(),
            payload_hash: h("request body"),
            decision: Decision::Allowed,
            code: None,
            result_hash: Some(h("signature")),
            rules_evaluated: vec!["operation".into(), "key_access".into()],
            config_hash: self.config_hash,
            attestation_hash: Sha256::digest(&self.document).into(),
        }
    }

    /// A denied `sign_digest` answer.
    pub fn denied_claims(&self) -> ReceiptClaims {
        ReceiptClaims {
            decision: Decision::Denied,
            code: Some("OPERATION_NOT_ALLOWED".into()),
            result_hash: None,
            rules_evaluated: vec!["operation".into()],
            ..self.claims()
        }
    }

    pub fn sign(&self, claims: &ReceiptClaims) -> Vec<u8> {
        sign_receipt(claims, &self.receipt_key)
    }

    /// Options that accept this enclave's document a minute after boot.
    pub fn options(&self) -> ReceiptOptions<'_> {
        ReceiptOptions {
            root_der: self.nsm.root_der(),
            expected_pcr0: Some(self.pcr0()),
            expected_config_hash: Some(self.config_hash),
            now: UnixTime::from_millis(T0_MS + 60_000),
            allow_debug: false,
        }
    }
}

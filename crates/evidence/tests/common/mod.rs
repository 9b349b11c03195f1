//! A simulated enclave for the tests: a `SimulatedNsm` (development root CA in
//! a temporary directory) that issues real attestation documents carrying an
//! [`AttestedKeys`] bundle and a [`UserData`], and the Ed25519 receipt key
//! whose public half is in that bundle.
#![allow(dead_code)]

use std::sync::Arc;

use sentinel_evidence::{
    sign_receipt, AttestedKeys, Decision, ReceiptClaims, ReceiptOptions, RuleEvaluated, SigningKey, UnixTime, UserData,
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
    pub policy_hash: [u8; 32],
    /// The boot attestation document (public_key = keys, user_data = config and policy hashes).
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
            audit: SigningKey::from_bytes(&h(&format!("{seed}/audit"))).verifying_key().to_bytes(),
        };
        let config_hash = h(&format!("{seed}/config"));
        let policy_hash = h(&format!("{seed}/policy"));
        let mut enclave = Self { _dir: dir, nsm, receipt_key, keys, config_hash, policy_hash, document: Vec::new() };
        enclave.document = enclave.document_with(Some(keys.to_bytes().to_vec()), Some(enclave.user_data()), T0_MS);
        enclave
    }

    /// This enclave's `user_data`: its configuration and policy.
    pub fn user_data(&self) -> Vec<u8> {
        UserData { config_hash: self.config_hash, policy_hash: Some(self.policy_hash) }.to_bytes().to_vec()
    }

    /// Another document of the same simulated module, with these fields.
    pub fn document_with(&self, public_key: Option<Vec<u8>>, user_data: Option<Vec<u8>>, at_ms: u64) -> Vec<u8> {
        self.nsm.attestation_at(&AttestationRequest { user_data, nonce: None, public_key }, at_ms).unwrap()
    }

    pub fn pcr0(&self) -> [u8; 48] {
        pcrs_from_artifact(b"sentinel test enclave")[0]
    }

    /// An allowed `sign_digest` answer naming this enclave's document, config and policy
    /// (held for approval while its key was at Yellow, then released by two approvers).
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
            rules_evaluated: vec![
                rule("digests-per-minute", "rate_limit", "allow", Some("3"), Some("100"), Some("1m"), Some("key")),
                rule("market-hours", "time_window", "allow", None, None, None, Some("us_market")),
                rule("chains", "chain", "not_applicable", None, None, None, Some("not a transaction")),
            ],
            config_hash: self.config_hash,
            policy_hash: Some(self.policy_hash),
            attestation_hash: Sha256::digest(&self.document).into(),
            // Held for approval (the key was at Yellow) and released by two approvers.
            oversight_state: "yellow".into(),
            oversight_scope: "key:key-1".into(),
            approvals: vec!["alice".into(), "risk-desk".into()],
            audit_seq: Some(3),
            audit_checkpoint: None,
            key_storage: None,
        }
    }

    /// A `sign_digest` refused by the policy (the rate limit), everything green.
    pub fn denied_claims(&self) -> ReceiptClaims {
        ReceiptClaims {
            oversight_state: "green".into(),
            oversight_scope: "global".into(),
            approvals: vec![],
            audit_seq: None,
            audit_checkpoint: None,
            decision: Decision::Denied,
            code: Some("POLICY_DENIED".into()),
            result_hash: None,
            rules_evaluated: vec![
                rule("digests-per-minute", "rate_limit", "deny", Some("101"), Some("100"), Some("1m"), Some("key")),
                rule("market-hours", "time_window", "allow", None, None, None, Some("us_market")),
                rule("chains", "chain", "not_applicable", None, None, None, Some("not a transaction")),
            ],
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
            expected_policy_hash: Some(self.policy_hash),
            now: UnixTime::from_millis(T0_MS + 60_000),
            allow_debug: false,
        }
    }
}

/// One `rules_evaluated` entry.
pub fn rule(
    id: &str,
    rule_type: &str,
    result: &str,
    value: Option<&str>,
    limit: Option<&str>,
    window: Option<&str>,
    detail: Option<&str>,
) -> RuleEvaluated {
    RuleEvaluated {
        rule: id.into(),
        rule_type: rule_type.into(),
        result: result.into(),
        value: value.map(Into::into),
        limit: limit.map(Into::into),
        window: window.map(Into::into),
        detail: detail.map(Into::into),
    }
}

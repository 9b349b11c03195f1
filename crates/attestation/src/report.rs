//! Per-check verification reports, for a person reading the verdict (the
//! browser checker) rather than a program acting on it. [`verify_with`] stops
//! at the first failure and answers with one error; [`check_attestation`]
//! runs the same steps (the functions `verify_with` is built from) and
//! records each one as a named [`Check`], so an auditor sees for instance that
//! the signature verifies but the time lies outside the certificates'
//! validity window.
//!
//! A failure of `structure`, `chain` or `signature` is fatal: nothing the
//! document says can be believed, so the checks that read it are `not_run`.
//! A failure of `validity`, `debug_mode` or of an expectation is recorded and
//! the remaining checks still run. A check whose expectation the caller did
//! not give is `not_requested`. The failed check's `code` is the stable code
//! `verify_with` (or [`VerifiedDocument::check`]) would have returned, so the
//! first failure of a report is `verify_with`'s error.
//!
//! The report is already in its JavaScript shape (camelCase, bytes as hex) so
//! that the bindings only convert it. [`Checks`] is the builder, shared with
//! `sentinel-evidence`'s receipt report.
//!
//! [`verify_with`]: crate::verify_with

use sentinel_error::{Code, Coded};
use serde::Serialize;

use crate::document::{fingerprint, RootKind, VerifiedDocument};
use crate::error::{Error, ErrorCode};
use crate::expect::{bytes_check, check_freshness, check_pcrs, matches};
use crate::time::UnixTime;
use crate::view::VerifiedDocumentView;
use crate::{build_chain, chain, check_debug_mode, cose, decode, VerifyOptions};

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The check ran and passed.
    Pass,
    /// The check ran and failed (`code` says why).
    Fail,
    /// The caller gave no expectation for this check.
    NotRequested,
    /// An earlier check failed fatally, so this one had nothing to check.
    NotRun,
}

/// One named check of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id, e.g. `"validity"`.
    pub id: &'static str,
    /// Human label.
    pub label: &'static str,
    pub status: CheckStatus,
    /// One sentence: what was compared, or why it failed.
    pub detail: String,
    /// The stable error code when `status` is `Fail`.
    pub code: Option<&'static str>,
}

/// What a report says of one check whatever the document: id, label and the
/// details of the outcomes that carry no message of their own.
#[derive(Debug)]
pub struct CheckSpec {
    pub id: &'static str,
    pub label: &'static str,
    /// Detail of a pass.
    pub pass: &'static str,
    /// Detail of `not_requested` (empty for checks that always run).
    pub not_requested: &'static str,
}

/// Detail of every `not_run` check.
const NOT_RUN: &str = "Not run: an earlier check failed.";

/// The checks of a report, in the order they are added.
#[derive(Clone, Debug, Default)]
pub struct Checks(Vec<Check>);

impl Checks {
    fn push(&mut self, spec: &CheckSpec, status: CheckStatus, detail: String, code: Option<&'static str>) {
        self.0.push(Check { id: spec.id, label: spec.label, status, detail, code });
    }

    /// Records a pass with `detail` (instead of the spec's).
    pub fn pass_with(&mut self, spec: &CheckSpec, detail: &'static str) {
        self.push(spec, CheckStatus::Pass, detail.into(), None);
    }

    /// Records a failure.
    pub fn fail(&mut self, spec: &CheckSpec, code: &'static str, detail: &str) {
        self.push(spec, CheckStatus::Fail, detail.into(), Some(code));
    }

    /// Records that the caller asked for nothing.
    pub fn not_requested(&mut self, spec: &CheckSpec) {
        self.push(spec, CheckStatus::NotRequested, spec.not_requested.into(), None);
    }

    /// Records a step's outcome: pass (with the spec's detail) or fail (with
    /// the error's code and message). The step's value on a pass.
    pub fn record<T, K: Code>(&mut self, spec: &CheckSpec, result: Result<T, Coded<K>>) -> Option<T> {
        match result {
            Ok(value) => {
                self.pass_with(spec, spec.pass);
                Some(value)
            }
            Err(e) => {
                self.fail(spec, e.code(), e.message());
                None
            }
        }
    }

    /// Runs `step` on `input`, or records `not_run` when there is no input
    /// (a check it depends on failed).
    pub fn run<I, T, K: Code>(
        &mut self,
        spec: &CheckSpec,
        input: Option<I>,
        step: impl FnOnce(I) -> Result<T, Coded<K>>,
    ) -> Option<T> {
        match input {
            Some(input) => self.record(spec, step(input)),
            None => {
                self.push(spec, CheckStatus::NotRun, NOT_RUN.into(), None);
                None
            }
        }
    }

    /// As [`Checks::run`] when `requested`, else `not_requested`.
    pub fn expect<I, T, K: Code>(
        &mut self,
        spec: &CheckSpec,
        requested: bool,
        input: Option<I>,
        step: impl FnOnce(I) -> Result<T, Coded<K>>,
    ) -> Option<T> {
        if !requested {
            self.not_requested(spec);
            return None;
        }
        self.run(spec, input, step)
    }

    /// No check failed.
    pub fn ok(&self) -> bool {
        self.0.iter().all(|c| c.status != CheckStatus::Fail)
    }

    /// The first failed check, if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.0.iter().find(|c| c.status == CheckStatus::Fail)
    }

    /// The checks, in order.
    pub fn into_vec(self) -> Vec<Check> {
        self.0
    }
}

/// What the caller expects of the document in a report. Unset fields are
/// `not_requested`; setting nothing is allowed (unlike [`crate::Expectations`]:
/// a report says plainly what was not checked).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckExpectations {
    /// `(index, value)` pairs that must all match.
    pub pcrs: Vec<(u8, Vec<u8>)>,
    /// The nonce the caller sent to the enclave.
    pub nonce: Option<Vec<u8>>,
    /// The document's timestamp must be at most this old at `now` (and never
    /// more than [`crate::MAX_CLOCK_SKEW_MS`] in its future).
    pub max_age_ms: Option<u64>,
    /// Sentinel's `user_data` must attest this configuration hash…
    pub config_hash: Option<[u8; 32]>,
    /// …and this policy hash.
    pub policy_hash: Option<[u8; 32]>,
}

/// Sentinel's `user_data` as JS sees it (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDataView {
    pub config_hash: String,
    /// `null` when no policy is installed (32 zero bytes).
    pub policy_hash: Option<String>,
}

/// The report of [`check_attestation`], in its JS shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationReport {
    /// No check failed.
    pub ok: bool,
    /// The root is not the AWS Nitro Root-G1 (a development root).
    pub development: bool,
    /// SHA-256 of the root used, hex.
    pub root_fingerprint: String,
    /// Every check, always all of them, in the order of [`ATTESTATION_CHECKS`].
    pub checks: Vec<Check>,
    /// The decoded fields, when `structure` passed (even if a later check failed).
    pub document: Option<VerifiedDocumentView>,
    /// The document's `user_data` read as Sentinel's, when it is.
    pub user_data: Option<UserDataView>,
    #[serde(skip)]
    authentic: Option<VerifiedDocument>,
}

impl AttestationReport {
    /// The document when `structure`, `chain` and `signature` passed: its
    /// contents are what the enclave's NSM signed. It may still have failed
    /// `validity`, `debug_mode` or an expectation, so trust it only if
    /// [`AttestationReport::ok`]; `sentinel-evidence` reads the attested keys
    /// from it to go on checking a receipt.
    pub fn authentic_document(&self) -> Option<&VerifiedDocument> {
        self.authentic.as_ref()
    }
}

const STRUCTURE: CheckSpec = CheckSpec {
    id: "structure",
    label: "Document structure",
    pass: "A well-formed COSE_Sign1 (ES384) with every required payload field.",
    not_requested: "",
};
const CHAIN: CheckSpec = CheckSpec {
    id: "chain",
    label: "Certificate chain to the trusted root",
    pass: "The cabundle chains from the trusted root to the leaf (names, CA rules, signatures).",
    not_requested: "",
};
const VALIDITY: CheckSpec = CheckSpec {
    id: "validity",
    label: "Certificates valid at the time",
    pass: "Every certificate is valid at the verification time.",
    not_requested: "",
};
const SIGNATURE: CheckSpec = CheckSpec {
    id: "signature",
    label: "Document signature (ES384)",
    pass: "Signed by the leaf certificate's key.",
    not_requested: "",
};
const DEBUG_MODE: CheckSpec = CheckSpec {
    id: "debug_mode",
    label: "Not a debug-mode enclave",
    pass: "PCR0 is not all zeros.",
    not_requested: "",
};
const PCRS: CheckSpec = CheckSpec {
    id: "pcrs",
    label: "Expected PCRs",
    pass: "Every expected PCR matches.",
    not_requested: "No expected PCRs given.",
};
const NONCE: CheckSpec = CheckSpec {
    id: "nonce",
    label: "Expected nonce",
    pass: "The nonce matches.",
    not_requested: "No expected nonce given.",
};
const FRESHNESS: CheckSpec = CheckSpec {
    id: "freshness",
    label: "Freshness",
    pass: "The timestamp is within maxAgeMs of the verification time, not after it.",
    not_requested: "No maxAgeMs given.",
};
const CONFIG_HASH: CheckSpec = CheckSpec {
    id: "config_hash",
    label: "Sentinel configuration (user_data)",
    pass: "user_data attests the expected configuration and policy.",
    not_requested: "No expected configuration or policy hash given.",
};

/// The checks of an attestation report, in order.
pub const ATTESTATION_CHECKS: [&CheckSpec; 9] =
    [&STRUCTURE, &CHAIN, &VALIDITY, &SIGNATURE, &DEBUG_MODE, &PCRS, &NONCE, &FRESHNESS, &CONFIG_HASH];

/// Checks `document` against the trusted root at `now`, with `options` and
/// `expect`, and reports every check (see the module documentation). Never
/// fails: an invalid root is a failed `chain` check (`INVALID_TRUSTED_ROOT`).
pub fn check_attestation(
    document: &[u8],
    trusted_root_der: &[u8],
    now: UnixTime,
    options: &VerifyOptions,
    expect: &CheckExpectations,
) -> AttestationReport {
    let mut checks = Checks::default();
    let (cose, decoded) = checks.record(&STRUCTURE, decode(document, trusted_root_der)).unzip();
    let chain = checks.run(&CHAIN, decoded.as_ref(), |d| build_chain(trusted_root_der, d));
    checks.run(&VALIDITY, chain.as_ref(), |chain| chain::verify_validity(chain, now));
    let signed = checks.run(&SIGNATURE, cose.as_ref().zip(chain.as_ref()), |(cose, chain)| {
        cose::verify_signature(cose, chain.leaf_key())
    });
    let authentic = signed.and(decoded.as_ref());
    match authentic {
        Some(d) if d.is_debug_mode() && options.allow_debug => {
            checks.pass_with(&DEBUG_MODE, "PCR0 is all zeros (debug mode), allowed by allowDebug.")
        }
        _ => {
            checks.run(&DEBUG_MODE, authentic, |d| check_debug_mode(d, options));
        }
    }
    checks.expect(&PCRS, !expect.pcrs.is_empty(), authentic, |d| check_pcrs(d, &expect.pcrs));
    checks.expect(&NONCE, expect.nonce.is_some(), authentic, |d| {
        bytes_check(d.nonce(), expect.nonce.as_deref(), "nonce", ErrorCode::NonceMismatch)
    });
    checks.expect(&FRESHNESS, expect.max_age_ms.is_some(), authentic, |d| {
        check_freshness(d.timestamp_ms(), now, expect.max_age_ms)
    });
    let sentinel = expect.config_hash.is_some() || expect.policy_hash.is_some();
    checks.expect(&CONFIG_HASH, sentinel, authentic, |d| check_sentinel_user_data(d.user_data(), expect));

    let user_data = decoded.as_ref().and_then(|d| d.user_data()).and_then(sentinel_user_data);
    AttestationReport {
        ok: checks.ok(),
        development: RootKind::of(trusted_root_der) != RootKind::AwsNitro,
        root_fingerprint: hex::encode(fingerprint(trusted_root_der)),
        checks: checks.into_vec(),
        document: decoded.as_ref().map(VerifiedDocument::view),
        user_data: user_data.map(|(config, policy)| UserDataView {
            config_hash: hex::encode(config),
            policy_hash: policy.map(hex::encode),
        }),
        authentic: signed.and(decoded),
    }
}

/// Sentinel's `user_data`, `0x03 || config_hash (32) || policy_hash (32)`
/// with 32 zero bytes for "no policy": `(config_hash, policy_hash)`, or `None`
/// for any other bytes. The layout is defined by `sentinel_evidence::UserData`,
/// which this crate cannot use (sentinel-evidence depends on it, and a generic
/// Nitro verifier should not carry Sentinel's evidence formats); this is the
/// minimal slicing the report's `config_hash` check needs, and a test of
/// sentinel-evidence checks that the two agree on every length and version.
pub fn sentinel_user_data(bytes: &[u8]) -> Option<([u8; 32], Option<[u8; 32]>)> {
    let bytes: &[u8; 65] = bytes.try_into().ok()?;
    if bytes[0] != 0x03 {
        return None;
    }
    let (config, policy) = bytes[1..].split_at(32);
    let policy: [u8; 32] = policy.try_into().ok()?;
    Some((config.try_into().ok()?, (policy != [0; 32]).then_some(policy)))
}

/// The `config_hash` check: `user_data` is Sentinel's and attests the
/// expected configuration and policy hashes. Error: `USER_DATA_MISMATCH`.
fn check_sentinel_user_data(user_data: Option<&[u8]>, expect: &CheckExpectations) -> Result<(), Error> {
    let mismatch = |what: &str| Err(Error::new(ErrorCode::UserDataMismatch, what));
    let Some((config, policy)) = user_data.and_then(sentinel_user_data) else {
        return mismatch("user_data is not Sentinel's (0x03 || config_hash || policy_hash)");
    };
    if expect.config_hash.is_some_and(|want| !matches(Some(&config[..]), &want)) {
        return mismatch("the configuration hash in user_data is not the expected one");
    }
    match (expect.policy_hash, policy) {
        (Some(_), None) => mismatch("user_data attests no policy, not the expected one"),
        (Some(want), Some(policy)) if !matches(Some(&policy[..]), &want) => {
            mismatch("the policy hash in user_data is not the expected one")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_user_data_layout() {
        let mut bytes = [0u8; 65];
        bytes[0] = 3;
        bytes[1..33].copy_from_slice(&[7; 32]);
        assert_eq!(sentinel_user_data(&bytes), Some(([7; 32], None)));
        bytes[64] = 1;
        let mut policy = [0; 32];
        policy[31] = 1;
        assert_eq!(sentinel_user_data(&bytes), Some(([7; 32], Some(policy))));
        assert_eq!(sentinel_user_data(&bytes[..64]), None);
        bytes[0] = 2;
        assert_eq!(sentinel_user_data(&bytes), None);
    }

    #[test]
    fn checks_serialize_in_the_contract_shape() {
        let mut checks = Checks::default();
        checks.record(&CHAIN, Err::<(), _>(Error::new(ErrorCode::RootMismatch, "no")));
        checks.not_requested(&PCRS);
        checks.run(&NONCE, None::<()>, |_| Ok::<_, Error>(()));
        checks.record(&STRUCTURE, Ok::<_, Error>(()));
        assert!(!checks.ok());
        assert_eq!(checks.first_failure().unwrap().id, "chain");
        let json = serde_json::to_value(checks.into_vec()).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"id": "chain", "label": CHAIN.label, "status": "fail", "detail": "no", "code": "ROOT_MISMATCH"},
                {"id": "pcrs", "label": PCRS.label, "status": "not_requested", "detail": PCRS.not_requested, "code": null},
                {"id": "nonce", "label": NONCE.label, "status": "not_run", "detail": NOT_RUN, "code": null},
                {"id": "structure", "label": STRUCTURE.label, "status": "pass", "detail": STRUCTURE.pass, "code": null},
            ])
        );
    }
}

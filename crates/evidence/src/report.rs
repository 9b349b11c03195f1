//! The per-check report of a receipt (the browser checker's view of
//! [`verify_receipt`](crate::verify_receipt)): the same steps as
//! `ReceiptVerifier` (verify.rs), each recorded as a named check instead of
//! stopping at the first failure, with `sentinel-attestation`'s report of the
//! document as the first check.
//!
//! A check runs when what it reads is available: the document's key bundle,
//! `user_data` and PCR0 once the document is authentic (its `structure`,
//! `chain` and `signature` passed — a document outside its validity window
//! or in debug mode fails `document` but is still read, so an auditor sees
//! whether the receipt itself is right); the bindings once the receipt
//! decodes; the signature once the receipt decodes and the key bundle parses.
//! Otherwise it is `not_run`. `ok` is true exactly when `verify_receipt`
//! would accept the receipt.

use sentinel_attestation::report::{CheckSpec, Checks};
use sentinel_attestation::{check_attestation, Check, CheckExpectations, CheckStatus, VerifyOptions};
use serde::Serialize;

use crate::receipt::DecodedReceipt;
use crate::verify::{
    attestation_hash, check_attestation_hash, check_config_hash, check_expected_config, check_expected_policy,
    check_pcr0, check_policy_hash, read_attested_keys, read_user_data, ReceiptOptions,
};
use crate::view::ReceiptClaimsView;

/// The report of [`check_receipt`], in its JS shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptReport {
    /// No check failed: the receipt verifies (as with `verify_receipt`).
    pub ok: bool,
    /// The root is not the AWS Nitro Root-G1 (a development root).
    pub development: bool,
    /// Every check, always all of them, in the order of [`RECEIPT_CHECKS`].
    pub checks: Vec<Check>,
    /// The receipt's claims when it decodes; trusted only if `ok`.
    pub claims: Option<ReceiptClaimsView>,
}

const DOCUMENT: CheckSpec = CheckSpec {
    id: "document",
    label: "Attestation document",
    pass: "Every check of the document passed.",
    not_requested: "",
};
const PCR0: CheckSpec = CheckSpec {
    id: "pcr0",
    label: "Enclave image (PCR0)",
    pass: "PCR0 is the expected image.",
    not_requested: "No expected PCR0 given.",
};
const ATTESTED_KEYS: CheckSpec = CheckSpec {
    id: "attested_keys",
    label: "Attested keys (public_key)",
    pass: "public_key is Sentinel's key bundle.",
    not_requested: "",
};
const USER_DATA: CheckSpec = CheckSpec {
    id: "user_data",
    label: "Sentinel user_data",
    pass: "user_data holds the configuration and policy hashes.",
    not_requested: "",
};
const RECEIPT_STRUCTURE: CheckSpec = CheckSpec {
    id: "receipt_structure",
    label: "Receipt structure",
    pass: "A well-formed COSE_Sign1 (EdDSA) over canonical claims.",
    not_requested: "",
};
const ATTESTATION_BINDING: CheckSpec = CheckSpec {
    id: "attestation_binding",
    label: "Receipt names this document",
    pass: "attestation_hash is this document's SHA-256.",
    not_requested: "",
};
const CONFIG_BINDING: CheckSpec = CheckSpec {
    id: "config_binding",
    label: "Configuration",
    pass: "config_hash is the attested (and expected) configuration.",
    not_requested: "",
};
const POLICY_BINDING: CheckSpec = CheckSpec {
    id: "policy_binding",
    label: "Policy",
    pass: "policy_hash is the attested (and expected) policy.",
    not_requested: "",
};
const RECEIPT_SIGNATURE: CheckSpec = CheckSpec {
    id: "receipt_signature",
    label: "Receipt signature (Ed25519)",
    pass: "Signed by the attested receipt key.",
    not_requested: "",
};

/// The checks of a receipt report, in order.
pub const RECEIPT_CHECKS: [&CheckSpec; 9] = [
    &DOCUMENT,
    &PCR0,
    &ATTESTED_KEYS,
    &USER_DATA,
    &RECEIPT_STRUCTURE,
    &ATTESTATION_BINDING,
    &CONFIG_BINDING,
    &POLICY_BINDING,
    &RECEIPT_SIGNATURE,
];

/// Checks `receipt` against `attestation_document` as [`verify_receipt`]
/// does, and reports every check (see the module documentation). Never fails.
///
/// [`verify_receipt`]: crate::verify_receipt
pub fn check_receipt(receipt: &[u8], attestation_document: &[u8], options: &ReceiptOptions<'_>) -> ReceiptReport {
    let mut checks = Checks::default();
    let verify_options = VerifyOptions { allow_debug: options.allow_debug };
    let attestation = check_attestation(
        attestation_document,
        options.root_der,
        options.now,
        &verify_options,
        &CheckExpectations::default(),
    );
    match attestation.checks.iter().find(|c| c.status == CheckStatus::Fail) {
        Some(c) => checks.fail(&DOCUMENT, c.code.unwrap_or_default(), &format!("{}: {}", c.label, c.detail)),
        None => checks.pass_with(&DOCUMENT, DOCUMENT.pass),
    }
    let document = attestation.authentic_document();
    checks.expect(&PCR0, options.expected_pcr0.is_some(), document, |d| check_pcr0(d, options.expected_pcr0));
    let receipt_key = checks.run(&ATTESTED_KEYS, document, read_attested_keys).map(|(_, key)| key);
    let user_data = checks.run(&USER_DATA, document, read_user_data);
    let decoded = checks.record(&RECEIPT_STRUCTURE, DecodedReceipt::decode(receipt));
    let attestation_hash = attestation_hash(attestation_document);
    checks.run(&ATTESTATION_BINDING, decoded.as_ref(), |r| check_attestation_hash(&r.claims, &attestation_hash));
    let bound = decoded.as_ref().zip(user_data.as_ref());
    checks.run(&CONFIG_BINDING, bound, |(r, user_data)| {
        check_expected_config(user_data, options.expected_config_hash)?;
        check_config_hash(&r.claims, user_data)
    });
    checks.run(&POLICY_BINDING, bound, |(r, user_data)| {
        check_expected_policy(user_data, options.expected_policy_hash)?;
        check_policy_hash(&r.claims, user_data)
    });
    checks.run(&RECEIPT_SIGNATURE, decoded.as_ref().zip(receipt_key.as_ref()), |(r, key)| r.verify_signature(key));

    ReceiptReport {
        ok: checks.ok(),
        development: attestation.development,
        checks: checks.into_vec(),
        claims: decoded.map(|r| r.claims.view()),
    }
}

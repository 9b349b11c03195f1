//! Sentinel's evidence formats. Every answer of the enclave comes with a
//! *receipt*: claims about one decision (who asked what, allowed or denied,
//! under which configuration and policy, which policy rules said what, hash of
//! the result) signed with an Ed25519 key that lives only in the enclave. That
//! key is vouched for by the enclave's boot attestation document, whose
//! `public_key` is the *attested key bundle* ([`AttestedKeys`]) and whose
//! `user_data` holds the configuration and policy hashes ([`UserData`]); every
//! receipt names that document (`attestation_hash`), that configuration
//! (`config_hash`) and that policy (`policy_hash`). This crate decides whether a receipt
//! is genuine: it trusts only the root certificate and the expectations the
//! caller passes (via `sentinel-attestation`), never the host that delivered
//! the receipt. It is pure: no clock (the caller passes `now`), no I/O, no
//! randomness (signing takes the key), and it builds for wasm32 so the same
//! code runs in the enclave, in Node and in the browser. The format is
//! specified in docs/receipts.md.
//! [`check_receipt`] runs the verifier's steps and reports each one by name,
//! for a person reading the verdict (the browser checker).
//!
//! Which library does what (none of the encoding is hand-written):
//!
//! - `coset` 0.4.2 (the COSE library of crates/attestation): the COSE_Sign1
//!   envelope — building and signing it, parsing it, and the Sig_structure
//!   that is signed and verified (receipt.rs). This crate adds the checks
//!   that make the envelope strict (exact header bytes, attached payload,
//!   64-byte signature, deterministic encoding by re-encoding and comparing).
//! - `ciborium` 0.2.2: the claims map (claims.rs), encoded from a `Value`
//!   whose map entries are sorted by their encoded keys (RFC 8949 §4.2.1),
//!   decoded strictly and re-encoded to refuse non-canonical input.
//! - `ed25519-dalek` 2.2.0: signing, and `verify_strict` when verifying.
//! - `sentinel-attestation`: the attestation document and its chain.
#![forbid(unsafe_code)]
#![deny(clippy::all)]

mod claims;
mod error;
mod keys;
mod receipt;
mod report;
mod verify;
mod view;

pub use claims::{
    Decision, ReceiptClaims, RuleEvaluated, KEY_STORAGE_VALUES, MAX_APPROVALS, MAX_APPROVAL_ID_LEN,
    MAX_OVERSIGHT_SCOPE_LEN, MAX_RULES_EVALUATED, MAX_RULE_TEXT_LEN, MAX_TIMESTAMP_US, OVERSIGHT_STATES,
};
pub use error::{Error, ErrorCode};
pub use keys::{AttestedKeys, UserData};
pub use receipt::{sign_receipt, MAX_RECEIPT_LEN};
pub use report::{check_receipt, ReceiptReport, RECEIPT_CHECKS};
pub use verify::{
    decode_receipt_claims_unverified, verify_receipt, verify_receipt_with_key, ReceiptOptions, ReceiptVerifier,
    VerifiedReceipt,
};
pub use view::{
    attested_keys_request, check_receipt_request, decode_receipt_claims_request, verify_receipt_request,
    AttestedKeysView, BytesOrHex, CheckReceiptOptionsSpec, ReceiptClaimsView, ReceiptOptionsSpec, RuleEvaluatedView,
    VerifiedReceiptView,
};

/// The key types of `sign_receipt` and `verify_receipt_with_key`, at the
/// version this crate is built with.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
/// The types of the verifier's options and result, re-exported so callers
/// need no direct dependency on `sentinel-attestation`.
pub use sentinel_attestation::{RootKind, UnixTime};

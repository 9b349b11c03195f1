//! Verifying a receipt is two halves, each a short chain of named steps:
//!
//! 1. the attestation document ([`ReceiptVerifier::new`]): verify it against
//!    the caller's root (`sentinel-attestation`), check PCR0, read the
//!    attested key bundle (`public_key`) and `user_data`, check the
//!    configuration and policy hashes the caller expects;
//! 2. each receipt ([`ReceiptVerifier::verify`]): decode it, check that it
//!    names this very document (`attestation_hash`) and the configuration and
//!    policy the document attests (`config_hash`, `policy_hash`), and verify
//!    its signature with the attested receipt key.
//!
//! [`verify_receipt`] is both halves for one receipt; an SDK that checks many
//! receipts against one document keeps the [`ReceiptVerifier`] (or, having
//! verified the document itself, calls [`verify_receipt_with_key`]).
//! The binding checks compare claims before the signature is checked so that
//! a swapped document, configuration or policy gets its own code; nothing in the
//! claims is trusted before the signature verifies.
//!
//! Each step is a function of its inputs (below), so that the per-check
//! report of report.rs (`check_receipt`) runs the very same steps.

use ed25519_dalek::VerifyingKey;
use sentinel_attestation::{verify_with, RootKind, UnixTime, VerifiedDocument, VerifyOptions, PCR_LEN};
use subtle::ConstantTimeEq;

use crate::claims::ReceiptClaims;
use crate::error::{err, from_attestation, Error, ErrorCode};
use crate::keys::{AttestedKeys, UserData};
use crate::receipt::DecodedReceipt;

/// What the caller trusts and expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiptOptions<'a> {
    /// The root certificate (DER) the document must chain to: the AWS Nitro
    /// root for real enclaves, a simulator's dev root in local mode.
    pub root_der: &'a [u8],
    /// The enclave image the receipt must come from; `None` checks no image.
    pub expected_pcr0: Option<[u8; PCR_LEN]>,
    /// The configuration the receipt must have been given under; `None`
    /// checks only that the receipt and the document agree.
    pub expected_config_hash: Option<[u8; 32]>,
    /// The policy the receipt must have been decided under (the document's
    /// `user_data` must attest it, and the receipt's `policy_hash` must be
    /// it); `None` checks only that the receipt and the document agree
    /// (which includes both saying "no policy").
    pub expected_policy_hash: Option<[u8; 32]>,
    /// The time at which the document's certificate chain is judged.
    pub now: UnixTime,
    /// Accept a debug-mode document (all-zero PCR0).
    pub allow_debug: bool,
}

/// A receipt whose document, binding and signature all verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    claims: ReceiptClaims,
    root_kind: RootKind,
    attested_keys: AttestedKeys,
    pcr0: [u8; PCR_LEN],
}

impl VerifiedReceipt {
    /// The signed claims.
    pub fn claims(&self) -> &ReceiptClaims {
        &self.claims
    }
    /// The signed claims, by value.
    pub fn into_claims(self) -> ReceiptClaims {
        self.claims
    }
    /// Which root the document chained to (`Other` = a development root).
    pub fn root_kind(&self) -> RootKind {
        self.root_kind
    }
    /// The enclave's key bundle from the document.
    pub fn attested_keys(&self) -> &AttestedKeys {
        &self.attested_keys
    }
    /// The document's PCR0 (the enclave image).
    pub fn pcr0(&self) -> &[u8; PCR_LEN] {
        &self.pcr0
    }
}

/// An attestation document verified once, ready to verify receipts against.
#[derive(Clone, Debug)]
pub struct ReceiptVerifier {
    document: VerifiedDocument,
    attestation_hash: [u8; 32],
    attested_keys: AttestedKeys,
    receipt_key: VerifyingKey,
    user_data: UserData,
    pcr0: [u8; PCR_LEN],
}

impl ReceiptVerifier {
    /// Verifies the attestation document and reads what receipts are checked against.
    pub fn new(attestation_document: &[u8], options: &ReceiptOptions<'_>) -> Result<Self, Error> {
        let document = verify_document(attestation_document, options)?;
        let pcr0 = check_pcr0(&document, options.expected_pcr0)?;
        let (attested_keys, receipt_key) = read_attested_keys(&document)?;
        let user_data = read_user_data(&document)?;
        check_expected_config(&user_data, options.expected_config_hash)?;
        check_expected_policy(&user_data, options.expected_policy_hash)?;
        let attestation_hash = attestation_hash(attestation_document);
        Ok(Self { document, attestation_hash, attested_keys, receipt_key, user_data, pcr0 })
    }

    /// Verifies one receipt against the document.
    pub fn verify(&self, receipt: &[u8]) -> Result<VerifiedReceipt, Error> {
        let receipt = DecodedReceipt::decode(receipt)?;
        check_attestation_hash(&receipt.claims, &self.attestation_hash)?;
        check_config_hash(&receipt.claims, &self.user_data)?;
        check_policy_hash(&receipt.claims, &self.user_data)?;
        receipt.verify_signature(&self.receipt_key)?;
        Ok(VerifiedReceipt {
            claims: receipt.claims,
            root_kind: self.document.root_kind(),
            attested_keys: self.attested_keys,
            pcr0: self.pcr0,
        })
    }

    /// The verified document.
    pub fn document(&self) -> &VerifiedDocument {
        &self.document
    }
    /// The key bundle the document attests.
    pub fn attested_keys(&self) -> &AttestedKeys {
        &self.attested_keys
    }
    /// The document's `user_data`.
    pub fn user_data(&self) -> &UserData {
        &self.user_data
    }
    /// SHA-256 of the document bytes: what receipts name as `attestation_hash`.
    pub fn attestation_hash(&self) -> &[u8; 32] {
        &self.attestation_hash
    }
}

/// Verifies `receipt` against `attestation_document`: the document (chain to
/// `options.root_der`, PCR0), the key bundle and `user_data` it carries, the
/// receipt's binding to them (document, configuration, policy), and its
/// signature.
pub fn verify_receipt(
    receipt: &[u8],
    attestation_document: &[u8],
    options: &ReceiptOptions<'_>,
) -> Result<VerifiedReceipt, Error> {
    ReceiptVerifier::new(attestation_document, options)?.verify(receipt)
}

/// Decodes `receipt` and verifies its signature with `receipt_public_key`
/// (the `receipt` key of an [`AttestedKeys`] the caller took from a document
/// it verified itself). Checks none of `attestation_hash`, `config_hash` and
/// `policy_hash`: that is the caller's job (or use [`ReceiptVerifier`], which
/// does all three).
pub fn verify_receipt_with_key(receipt: &[u8], receipt_public_key: &[u8; 32]) -> Result<ReceiptClaims, Error> {
    let key = receipt_key(receipt_public_key)?;
    let receipt = DecodedReceipt::decode(receipt)?;
    receipt.verify_signature(&key)?;
    Ok(receipt.claims)
}

/// Decodes a receipt's claims WITHOUT verifying anything: for display and
/// debugging only. Error: `RECEIPT_MALFORMED`.
pub fn decode_receipt_claims_unverified(receipt: &[u8]) -> Result<ReceiptClaims, Error> {
    Ok(DecodedReceipt::decode(receipt)?.claims)
}

fn verify_document(document: &[u8], options: &ReceiptOptions<'_>) -> Result<VerifiedDocument, Error> {
    let verify_options = VerifyOptions { allow_debug: options.allow_debug };
    verify_with(document, options.root_der, options.now, &verify_options).map_err(from_attestation)
}

pub(crate) fn check_pcr0(document: &VerifiedDocument, expected: Option<[u8; PCR_LEN]>) -> Result<[u8; PCR_LEN], Error> {
    // The attestation crate guarantees PCR0 is present and PCR_LEN bytes.
    let pcr0: [u8; PCR_LEN] = document.pcr(0).and_then(|p| p.try_into().ok()).unwrap_or([0; PCR_LEN]);
    match expected {
        Some(want) if !bool::from(want.ct_eq(&pcr0)) => {
            err(ErrorCode::ReceiptPcr0Mismatch, "the document's PCR0 is not the expected enclave image")
        }
        _ => Ok(pcr0),
    }
}

pub(crate) fn read_attested_keys(document: &VerifiedDocument) -> Result<(AttestedKeys, VerifyingKey), Error> {
    let Some(bytes) = document.public_key() else {
        return err(ErrorCode::AttestedKeysMalformed, "public_key: the document carries no attested key bundle");
    };
    let keys = AttestedKeys::from_bytes(bytes)?;
    Ok((keys, receipt_key(&keys.receipt)?))
}

fn receipt_key(bytes: &[u8; 32]) -> Result<VerifyingKey, Error> {
    VerifyingKey::from_bytes(bytes).map_err(|_| {
        Error::new(ErrorCode::AttestedKeysMalformed, "public_key: the receipt key is not an Ed25519 public key")
    })
}

pub(crate) fn read_user_data(document: &VerifiedDocument) -> Result<UserData, Error> {
    let Some(bytes) = document.user_data() else {
        return err(ErrorCode::UserDataMalformed, "user_data: the document carries none");
    };
    UserData::from_bytes(bytes)
}

pub(crate) fn check_expected_config(user_data: &UserData, expected: Option<[u8; 32]>) -> Result<(), Error> {
    match expected {
        Some(want) if want != user_data.config_hash => err(
            ErrorCode::ReceiptConfigMismatch,
            "the document's configuration hash (user_data) is not the expected one",
        ),
        _ => Ok(()),
    }
}

pub(crate) fn check_expected_policy(user_data: &UserData, expected: Option<[u8; 32]>) -> Result<(), Error> {
    match expected {
        Some(want) if Some(want) != user_data.policy_hash => err(
            ErrorCode::ReceiptPolicyMismatch,
            match user_data.policy_hash {
                Some(_) => "the document's policy hash (user_data) is not the expected one",
                None => "the document attests no policy (user_data), not the expected one",
            },
        ),
        _ => Ok(()),
    }
}

/// The receipt names this very document: `attestation_hash` is SHA-256 of its bytes.
pub(crate) fn check_attestation_hash(claims: &ReceiptClaims, attestation_hash: &[u8; 32]) -> Result<(), Error> {
    if claims.attestation_hash != *attestation_hash {
        return err(
            ErrorCode::ReceiptAttestationMismatch,
            "attestation_hash is not SHA-256 of the attestation document given",
        );
    }
    Ok(())
}

/// The receipt's configuration is the one the document attests.
pub(crate) fn check_config_hash(claims: &ReceiptClaims, user_data: &UserData) -> Result<(), Error> {
    if claims.config_hash != user_data.config_hash {
        return err(
            ErrorCode::ReceiptConfigMismatch,
            "config_hash differs from the configuration hash in the document's user_data",
        );
    }
    Ok(())
}

/// The receipt's policy (or none) is the one the document attests.
pub(crate) fn check_policy_hash(claims: &ReceiptClaims, user_data: &UserData) -> Result<(), Error> {
    if claims.policy_hash != user_data.policy_hash {
        return err(
            ErrorCode::ReceiptPolicyMismatch,
            "policy_hash differs from the policy hash in the document's user_data",
        );
    }
    Ok(())
}

/// SHA-256 of the document's bytes: what a receipt names as `attestation_hash`.
/// Computed by `sentinel_attestation::fingerprint` (plain SHA-256 of the
/// bytes given) so that the browser build carries one copy of the hash.
pub(crate) fn attestation_hash(attestation_document: &[u8]) -> [u8; 32] {
    sentinel_attestation::fingerprint(attestation_document)
}

//! Verifier of AWS Nitro Enclaves attestation documents. Sentinel's answers
//! carry such a document as evidence of which enclave image (PCR0) produced
//! them, and a third party must be able to check it without trusting us: this
//! crate is that check, pure and clock-free so that the same code runs in Rust,
//! in Node (N-API) and in the browser (WASM). Verification is a short chain of
//! named steps (see [`verify_with`]); comparing the result with what the caller
//! expects is a separate, explicit step ([`VerifiedDocument::check`]) because a
//! valid document from the wrong enclave is still valid. For a person reading
//! the verdict, [`check_attestation`] runs the same steps and reports each one
//! ([`report`]).
#![forbid(unsafe_code)]
#![deny(clippy::all)]

mod cbor;
mod chain;
mod cose;
mod document;
mod error;
mod expect;
mod payload;
pub mod report;
mod time;
mod view;

pub use document::{fingerprint, RootKind, VerifiedDocument};
pub use error::{Error, ErrorCode};
pub use expect::{Expectations, MAX_CLOCK_SKEW_MS};
pub use payload::{MAX_CABUNDLE, MAX_CERTIFICATE, MAX_NONCE, MAX_PCRS, MAX_PUBLIC_KEY, MAX_USER_DATA, PCR_LEN};
pub use report::{check_attestation, AttestationReport, Check, CheckExpectations, CheckStatus};
pub use time::UnixTime;
pub use view::{
    check_attestation_request, verify_request, AttestationOptions, CheckAttestationOptions, CheckExpectationsSpec,
    ExpectationsSpec, VerifiedDocumentView, VerifyRequest,
};

use error::err;

/// AWS Nitro Enclaves Root-G1 (DER), as published by AWS.
pub const AWS_NITRO_ROOT_G1_DER: &[u8] = include_bytes!("aws_nitro_root_g1.der");

/// SHA-256 of [`AWS_NITRO_ROOT_G1_DER`].
pub const AWS_NITRO_ROOT_G1_SHA256: &str = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/// Largest document accepted, in bytes (real ones are 4–7 KiB).
pub const MAX_DOCUMENT_LEN: usize = 16 * 1024;

/// Policy knobs of [`verify_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Accept an all-zero PCR0 (enclave in debug mode, whose memory the host
    /// can read). Off by default: such a document proves nothing about secrets.
    pub allow_debug: bool,
}

/// [`verify_with`] with the default (production) options.
pub fn verify(document: &[u8], trusted_root_der: &[u8], now: UnixTime) -> Result<VerifiedDocument, Error> {
    verify_with(document, trusted_root_der, now, &VerifyOptions::default())
}

/// Verifies an attestation document against the caller's pinned root
/// certificate (DER) at time `now`: the steps below in order, stopping at the
/// first failure. [`report::check_attestation`] runs the same steps but
/// records every outcome instead of stopping.
pub fn verify_with(
    document: &[u8],
    trusted_root_der: &[u8],
    now: UnixTime,
    options: &VerifyOptions,
) -> Result<VerifiedDocument, Error> {
    let (cose, document) = decode(document, trusted_root_der)?;
    let chain = build_chain(trusted_root_der, &document)?;
    chain::verify_validity(&chain, now)?;
    cose::verify_signature(&cose, chain.leaf_key())?;
    check_debug_mode(&document, options)?;
    Ok(document)
}

/// Step `structure`: size cap, COSE_Sign1 envelope and header, payload
/// fields. The document returned is decoded, not verified: only
/// [`verify_with`] hands one out, after every step passed.
pub(crate) fn decode(document: &[u8], trusted_root_der: &[u8]) -> Result<(cose::CoseSign1, VerifiedDocument), Error> {
    if document.len() > MAX_DOCUMENT_LEN {
        return err(
            ErrorCode::DocumentTooLarge,
            format!("document is {} bytes, at most {MAX_DOCUMENT_LEN} allowed", document.len()),
        );
    }
    let cose = cose::decode(document)?;
    cose::check_header(&cose)?;
    let payload = payload::decode(cose.payload())?;
    let document = VerifiedDocument {
        module_id: payload.module_id,
        digest: payload.digest,
        timestamp_ms: payload.timestamp_ms,
        pcrs: payload.pcrs,
        certificate: payload.certificate,
        cabundle: payload.cabundle,
        public_key: payload.public_key,
        user_data: payload.user_data,
        nonce: payload.nonce,
        root_fingerprint: fingerprint(trusted_root_der),
        root_kind: RootKind::of(trusted_root_der),
    };
    Ok((cose, document))
}

/// Step `chain`: the path from the trusted root to the leaf (names, CA
/// constraints) and every certificate's signature by its issuer. Validity
/// at a time is the next step (`chain::verify_validity`).
pub(crate) fn build_chain(trusted_root_der: &[u8], document: &VerifiedDocument) -> Result<chain::Chain, Error> {
    let chain = chain::build(trusted_root_der, &document.cabundle, &document.certificate)?;
    chain::verify_signatures(&chain)?;
    Ok(chain)
}

/// Step `debug_mode`: an all-zero PCR0 only with `allow_debug`.
pub(crate) fn check_debug_mode(document: &VerifiedDocument, options: &VerifyOptions) -> Result<(), Error> {
    if document.is_debug_mode() && !options.allow_debug {
        return err(ErrorCode::DebugModeEnclave, "PCR0 is all zeros (debug-mode enclave)");
    }
    Ok(())
}

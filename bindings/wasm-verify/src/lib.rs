//! `@sentinel/verify-wasm`: what an auditor's browser page loads to check a
//! Sentinel attestation document. The same source file as the full WASM
//! binding's attestation module, compiled alone and optimised for size, so the
//! page does not download the signing core's precomputed tables.
#[path = "../../wasm/src/attestation.rs"]
mod attestation;

//! `@sentinel/verify-wasm`: what an auditor's browser page loads to check a
//! Sentinel attestation document and the receipts it vouches for. The same
//! source files as the full WASM binding's attestation and receipt modules,
//! compiled alone and optimised for size, so the page does not download the
//! signing core's precomputed tables.
#[path = "../../wasm/src/attestation.rs"]
mod attestation;
#[path = "../../wasm/src/receipt.rs"]
mod receipt;

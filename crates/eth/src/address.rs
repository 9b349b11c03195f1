//! Ethereum addresses: derivation from a public key, EIP-55 display.
//!
//! An address is the last 20 bytes of keccak256 of the 64-byte uncompressed
//! public key (without the 0x04 prefix). EIP-55 mixed case is the form shown
//! to humans and to policy rules because it carries a checksum that catches
//! transcription errors; the checksum itself comes from alloy.
use alloy_primitives::Address;
use sentinel_signer::secp256k1::PublicKey;

use crate::keccak256;

/// The 20-byte address of a secp256k1 public key.
pub fn address_from_public_key(pk: &PublicKey) -> [u8; 20] {
    let uncompressed = pk.to_uncompressed();
    let hash = keccak256(&uncompressed[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// `0x` followed by the EIP-55 mixed-case hex of `address`.
pub fn checksum_address(address: &[u8; 20]) -> String {
    Address::from(*address).to_checksum(None)
}

//! EIP-191 version 0x45 ("personal_sign") message hashing.
//!
//! Wallets prefix free-form messages so that a signed message can never be a
//! valid transaction or another protocol's payload. The length is the decimal
//! byte length of the message, as geth and every wallet write it.
use alloy_primitives::eip191_hash_message;

/// keccak256(`"\x19Ethereum Signed Message:\n"` + decimal length + message).
pub fn hash_personal_message(message: &[u8]) -> [u8; 32] {
    eip191_hash_message(message).0
}

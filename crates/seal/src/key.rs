//! The master key: 32 bytes from a provider (AWS KMS data key, the development sealing key, or
//! fresh for the memory-only provider). Never printed, zeroized on drop, compared in constant time
//! by the AEAD only (there is no equality on it).
use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// An AES-256 master key. `Debug` prints only that it is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// Takes the key bytes (the caller zeroizes its own copy).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(bytes)
    }

    /// The key bytes, for the HKDF inside this crate and for attested forwarding to a peer enclave
    /// (the only place they may leave, encrypted to that peer).
    pub fn hazmat_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

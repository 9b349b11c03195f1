//! The one error type of sealing. A record that does not authenticate has one code whatever went
//! wrong inside the ciphertext (a flipped bit, another master key), so the answer is no oracle;
//! what the clear header says is checked first and named exactly (another record, another lineage).
sentinel_error::error_codes! {
    /// Why a sealed record was refused.
    #[non_exhaustive]
    pub enum SealErrorCode {
        /// The bytes are not a sealed record of a version this build reads: bad magic, unknown
        /// version, a header that does not parse, lengths that do not add up (a truncated file).
        Malformed = "SEAL_RECORD_MALFORMED",
        /// The header names another record (kind, name or version) than the one asked for: a
        /// record stored under another name, or an older version served in place of the newer.
        Swapped = "SEAL_RECORD_SWAPPED",
        /// The record was sealed under another configuration lineage: a configuration the host
        /// chose cannot open the keys of another.
        LineageMismatch = "SEAL_LINEAGE_MISMATCH",
        /// The ciphertext or the header does not authenticate: modified bytes, or another master key.
        Modified = "SEAL_RECORD_MODIFIED",
        /// An argument is out of range (an empty or oversized name, an oversized plaintext).
        Invalid = "SEAL_ARGUMENT_INVALID",
        /// The master-key provider could not give the key (a development key file that is not
        /// 32 bytes or is readable by others, KMS refusing): the enclave does not start.
        MasterKeyUnavailable = "SEAL_MASTER_KEY_UNAVAILABLE",
    }
}

/// A refusal: [`SealErrorCode`] and a message naming the field (never key material or plaintext).
pub type SealError = sentinel_error::Coded<SealErrorCode>;

//! Every refusal of this crate carries a stable SCREAMING_SNAKE code (the
//! table in crates/audit/README.md, in the order of [`ErrorCode::ALL`]) and a
//! message naming what was wrong: which record, which checkpoint, which line.
//! Codes are the contract; messages may change.

sentinel_error::error_codes! {
    /// Why an input was refused or a log failed verification.
    #[non_exhaustive]
    pub enum ErrorCode {
        HashLength = "AUDIT_HASH_LENGTH",
        IndexOutOfRange = "AUDIT_INDEX_OUT_OF_RANGE",
        TreeSizeInvalid = "AUDIT_TREE_SIZE_INVALID",
        ProofLength = "AUDIT_PROOF_LENGTH",
        RootMismatch = "AUDIT_ROOT_MISMATCH",
        FrontierInvalid = "AUDIT_FRONTIER_INVALID",
        CheckpointMalformed = "AUDIT_CHECKPOINT_MALFORMED",
        NoteMalformed = "AUDIT_NOTE_MALFORMED",
        NoteTooLarge = "AUDIT_NOTE_TOO_LARGE",
        NoteTooManySignatures = "AUDIT_NOTE_TOO_MANY_SIGNATURES",
        NoteSignatureInvalid = "AUDIT_NOTE_SIGNATURE_INVALID",
        NoteUnverified = "AUDIT_NOTE_UNVERIFIED",
        VerifierKeyInvalid = "AUDIT_VERIFIER_KEY_INVALID",
        ProofMalformed = "AUDIT_PROOF_MALFORMED",
        RecordTooLarge = "AUDIT_RECORD_TOO_LARGE",
        RecordMalformed = "AUDIT_RECORD_MALFORMED",
        RecordNotCanonical = "AUDIT_RECORD_NOT_CANONICAL",
        RecordInvalid = "AUDIT_RECORD_INVALID",
        RecordModified = "AUDIT_RECORD_MODIFIED",
        RecordDeleted = "AUDIT_RECORD_DELETED",
        RecordReordered = "AUDIT_RECORD_REORDERED",
        RecordInserted = "AUDIT_RECORD_INSERTED",
        Truncated = "AUDIT_TRUNCATED",
        CheckpointSignatureInvalid = "AUDIT_CHECKPOINT_SIGNATURE_INVALID",
        CheckpointInconsistent = "AUDIT_CHECKPOINT_INCONSISTENT",
        TilePathInvalid = "AUDIT_TILE_PATH_INVALID",
        TileNotInTree = "AUDIT_TILE_NOT_IN_TREE",
        EntryTooLarge = "AUDIT_ENTRY_TOO_LARGE",
        EntryBundleMalformed = "AUDIT_ENTRY_BUNDLE_MALFORMED",
        KeyHistoryInvalid = "AUDIT_KEY_HISTORY_INVALID",
    }
}

/// A refusal: a stable [`ErrorCode`] plus a human-readable message.
pub type Error = sentinel_error::Coded<ErrorCode>;

/// Shorthand used across the crate.
pub(crate) fn err<T>(kind: ErrorCode, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::new(kind, message))
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// The README's table lists exactly `ErrorCode::ALL`, in order.
    #[test]
    fn readme_lists_every_code_in_order() {
        let readme = include_str!("../README.md");
        let listed: Vec<&str> =
            readme.lines().filter_map(|l| l.strip_prefix("| `AUDIT_")).map(|l| &l[..l.find('`').unwrap()]).collect();
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| &c.as_str()["AUDIT_".len()..]).collect();
        assert_eq!(listed, codes);
    }
}

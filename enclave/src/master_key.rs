//! The master-key providers the enclave program can be launched with (`--sealing`).
//!
//! `development` keeps the master key in a file of the host's data directory (mode 0600, made
//! on first use from the enclave's CSPRNG): whoever reads that file can open every sealed record,
//! so it exists for the local stack only and every layer labels it DEVELOPMENT. `none` seals
//! nothing: keys live in memory and a restart loses them. The production provider, AWS KMS with
//! an attestation `Recipient`, is `crates/kms` (not yet wired here: docs/sealed-state.md).
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sentinel_seal::{MasterKey, MasterKeyProvider, SealError, SealErrorCode, SealingKind};
use zeroize::Zeroizing;

fn unavailable(message: String) -> SealError {
    SealError::new(SealErrorCode::MasterKeyUnavailable, message)
}

/// The development provider: a 32-byte key file, created on first use.
pub struct DevelopmentKeyFile {
    pub path: PathBuf,
}

impl MasterKeyProvider for DevelopmentKeyFile {
    fn kind(&self) -> SealingKind {
        SealingKind::Development
    }

    fn master_key(&self) -> Result<Option<MasterKey>, SealError> {
        match std::fs::metadata(&self.path) {
            Ok(meta) => read_key_file(&self.path, meta.permissions().mode()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(&self.path).map(Some),
            Err(e) => Err(unavailable(format!("{}: {e}", self.path.display()))),
        }
    }
}

fn read_key_file(path: &Path, mode: u32) -> Result<MasterKey, SealError> {
    // Refused rather than fixed: a key others could read must be treated as disclosed.
    if mode & 0o077 != 0 {
        return Err(unavailable(format!(
            "{}: mode {:o} lets others read the sealing key; it must be 0600 (treat this key as disclosed)",
            path.display(),
            mode & 0o777
        )));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?);
    let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
        unavailable(format!("{}: a sealing key file holds exactly 32 bytes, found {}", path.display(), bytes.len()))
    })?;
    Ok(MasterKey::from_bytes(key))
}

fn create_key_file(path: &Path) -> Result<MasterKey, SealError> {
    let fail = |e: std::io::Error| unavailable(format!("{}: {e}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let key = Zeroizing::new(crate::random_bytes::<32>());
    // create_new: two enclaves racing on a fresh data directory cannot both write a key.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(fail)?;
    file.write_all(&key[..]).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(fail)?;
    tracing::warn!(path = %path.display(), "created a DEVELOPMENT sealing key: whoever reads this file can open every sealed key");
    Ok(MasterKey::from_bytes(*key))
}

/// No sealing: memory only.
pub struct NoSealing;

impl MasterKeyProvider for NoSealing {
    fn kind(&self) -> SealingKind {
        SealingKind::None
    }

    fn master_key(&self) -> Result<Option<MasterKey>, SealError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_key_is_made_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let provider = DevelopmentKeyFile { path: dir.path().join("sealing/master.key") };
        let first = provider.master_key().unwrap().unwrap();
        let meta = std::fs::metadata(&provider.path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 32);
        let again = provider.master_key().unwrap().unwrap();
        assert_eq!(first.hazmat_bytes(), again.hazmat_bytes());
        assert_eq!(format!("{first:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn a_key_file_others_can_read_or_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let provider = DevelopmentKeyFile { path: dir.path().join("master.key") };
        provider.master_key().unwrap();
        std::fs::set_permissions(&provider.path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = provider.master_key().unwrap_err();
        assert_eq!(e.code(), "SEAL_MASTER_KEY_UNAVAILABLE");
        assert!(e.message().contains("0600"), "{}", e.message());
        std::fs::set_permissions(&provider.path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&provider.path, [1u8; 31]).unwrap();
        assert!(provider.master_key().unwrap_err().message().contains("exactly 32 bytes"));
    }

    #[test]
    fn none_has_no_key() {
        assert_eq!(NoSealing.kind(), SealingKind::None);
        assert!(NoSealing.master_key().unwrap().is_none());
    }
}

//! Sealed state in the enclave: keys survive a restart as records only this enclave's
//! measurement (through its master key) and configuration lineage can open.
//!
//! A key is sealed the moment it is created (generated or imported), and its sealed record rides
//! out with the answer (`Receipted::sealed`, `SessionFrameAnswer::sealed`), outside the receipt
//! and outside session encryption, so the host stores it (atomically) before it relays the key id.
//! At boot the host hands the records back (`sealed_load`): the configuration record first, which
//! names the lineage of the configuration in force, then the keys. Every record is opened and
//! checked here; what fails is reported with its code and stays unusable, never re-created.
//! `sealed_load` closes once the first key operation is served, so a record cannot be brought
//! back later (a deleted key). The configuration itself always arrives signed (`--config`,
//! `update_config`): its sealed record only vouches for the lineage, and is accepted when it is
//! the configuration in force or one that the configuration in force updates (signed by its admin
//! quorum). Trusts: the master-key provider chosen at launch, and `sentinel-seal`.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{OnceLock, RwLock};

use sentinel_protocol::{
    Curve, EnclaveError, EnclaveErrorCode, KeyPurpose, Response, SealedLoaded, SealedRecord, SealedRefusal,
    SealedStateAnswer,
};
use sentinel_seal::{Lineage, MasterKey, MasterKeyProvider, RecordId, RecordKind, SealError, SealingKind};
use zeroize::Zeroizing;

use crate::enclave::Enclave;
use crate::keys::{Key, StoredKey};

/// The record name of the configuration in force.
const CONFIGURATION_NAME: &str = "current";
/// Version byte of a key record's plaintext layout.
const KEY_LAYOUT_V1: u8 = 1;

/// The enclave's sealing: its provider's kind and master key, and the lineage in force.
pub struct Sealing {
    kind: SealingKind,
    /// Set at boot by the provider, or once by attested forwarding (`src/forwarding.rs`).
    master: OnceLock<MasterKey>,
    lineage: RwLock<Option<Lineage>>,
    /// Set when the first key operation is served: `sealed_load` is refused from then on.
    load_closed: AtomicBool,
}

impl Sealing {
    /// Asks the provider for the master key (once, at boot).
    pub fn from_provider(provider: &dyn MasterKeyProvider) -> Result<Sealing, SealError> {
        let master = provider.master_key()?;
        Ok(Sealing::new(provider.kind(), master))
    }

    pub(crate) fn new(kind: SealingKind, master: Option<MasterKey>) -> Sealing {
        // A provider that says "none" has no key, and one that seals must have one.
        debug_assert_eq!(kind == SealingKind::None, master.is_none());
        let cell = OnceLock::new();
        if let Some(master) = master {
            let _ = cell.set(master);
        }
        Sealing { kind, master: cell, lineage: RwLock::new(None), load_closed: AtomicBool::new(false) }
    }

    /// Sealing of `kind` whose master key will come from a running enclave (attested forwarding):
    /// until it does, no key is created and no record is loaded (`SEALING_KEY_ABSENT`).
    pub fn awaiting_key(kind: SealingKind) -> Sealing {
        assert_ne!(kind, SealingKind::None, "there is no master key to forward without sealing");
        Sealing { kind, master: OnceLock::new(), lineage: RwLock::new(None), load_closed: AtomicBool::new(false) }
    }

    pub(crate) fn master(&self) -> Option<&MasterKey> {
        self.master.get()
    }

    /// Takes a forwarded master key and its lineage (once; `false` if one is already held).
    pub(crate) fn receive(&self, master: MasterKey, lineage: Lineage) -> bool {
        if self.master.set(master).is_err() {
            return false;
        }
        self.set_lineage(lineage);
        true
    }

    /// Takes the provider's master key when it arrives after boot (AWS KMS: `sealing_unlock`);
    /// the lineage stays the configuration's. `false` if one is already held.
    pub(crate) fn unlock(&self, master: MasterKey) -> bool {
        self.master.set(master).is_ok()
    }

    fn absent() -> EnclaveError {
        EnclaveError::new(
            EnclaveErrorCode::SealingKeyAbsent,
            "sealing: this enclave waits for its master key (attested forwarding, or `sealing_unlock` with AWS KMS)",
        )
    }

    /// No sealing: keys live in memory only (tests, and `--sealing none`).
    pub fn none() -> Sealing {
        Sealing::new(SealingKind::None, None)
    }

    pub fn kind(&self) -> SealingKind {
        self.kind
    }

    pub fn lineage(&self) -> Option<Lineage> {
        *self.lineage.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_lineage(&self, lineage: Lineage) {
        *self.lineage.write().unwrap_or_else(|p| p.into_inner()) = Some(lineage);
    }

    /// Called on every key operation; cheap once closed.
    pub(crate) fn close_load(&self) {
        if !self.load_closed.load(Ordering::Relaxed) {
            self.load_closed.store(true, Ordering::Relaxed);
        }
    }

    /// The sealed record of a key just created (`None` when sealing is `none`).
    pub(crate) fn seal_key(&self, key_id: &str, stored: &StoredKey) -> Result<Option<SealedRecord>, EnclaveError> {
        let plaintext = encode_key(stored);
        self.seal(RecordId { kind: RecordKind::Key, name: key_id.to_string(), version: 1 }, &plaintext)
    }

    pub(crate) fn seal(&self, id: RecordId, plaintext: &[u8]) -> Result<Option<SealedRecord>, EnclaveError> {
        if self.kind == SealingKind::None {
            return Ok(None);
        }
        let Some(master) = self.master.get() else { return Err(Sealing::absent()) };
        let lineage = self.lineage().ok_or_else(|| {
            EnclaveError::new(EnclaveErrorCode::NotConfigured, "sealing: no configuration lineage yet")
        })?;
        let record = sentinel_seal::seal(master, &lineage, &id, plaintext, crate::random_bytes::<32>())
            .map_err(|e| EnclaveError::new(EnclaveErrorCode::Internal, format!("sealing: {}", e.message())))?;
        Ok(Some(SealedRecord { kind: id.kind.as_str().to_string(), name: id.name, version: id.version, record }))
    }
}

/// A key record's plaintext: `1 | curve (1) | purpose (1) | secret (32) | u16 len + label | u16
/// len + owner`. A fixed binary layout written into a wiped buffer: a general encoder would leave
/// copies of the secret in its own allocations.
fn encode_key(stored: &StoredKey) -> Zeroizing<Vec<u8>> {
    let (curve, secret) = match &*stored.key {
        Key::Secp256k1 { secret, .. } => (0u8, secret.hazmat_sealing_bytes()),
        Key::Ed25519 { secret, .. } => (1u8, secret.hazmat_sealing_bytes()),
    };
    let purpose = match stored.purpose {
        KeyPurpose::Ethereum => 0u8,
        KeyPurpose::Raw => 1u8,
    };
    let mut out = Zeroizing::new(Vec::with_capacity(3 + 32 + 4 + stored.label.len() + stored.owner.len()));
    out.extend_from_slice(&[KEY_LAYOUT_V1, curve, purpose]);
    out.extend_from_slice(&secret[..]);
    for text in [&stored.label, &stored.owner] {
        out.extend_from_slice(&(text.len() as u16).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

fn decode_key(plaintext: &[u8]) -> Result<StoredKey, String> {
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let part = plaintext.get(*at..*at + n).ok_or("key record: truncated")?;
        *at += n;
        Ok(part)
    };
    let mut at = 0;
    let head = take(&mut at, 3)?;
    if head[0] != KEY_LAYOUT_V1 {
        return Err(format!("key record: layout version {} is not known", head[0]));
    }
    let curve = match head[1] {
        0 => Curve::Secp256k1,
        1 => Curve::Ed25519,
        other => return Err(format!("key record: curve {other} is not known")),
    };
    let purpose = match head[2] {
        0 => KeyPurpose::Ethereum,
        1 => KeyPurpose::Raw,
        other => return Err(format!("key record: purpose {other} is not known")),
    };
    let key = Key::from_secret(curve, take(&mut at, 32)?).map_err(|e| e.message)?;
    let mut text = |what: &str| -> Result<String, String> {
        let len = u16::from_be_bytes(take(&mut at, 2)?.try_into().expect("2 bytes")) as usize;
        String::from_utf8(take(&mut at, len)?.to_vec()).map_err(|_| format!("key record: {what} is not UTF-8"))
    };
    let (label, owner) = (text("label")?, text("owner")?);
    if at != plaintext.len() {
        return Err("key record: trailing bytes".into());
    }
    Ok(StoredKey { key, purpose, label, owner })
}

fn refusal(index: usize, id: Option<&RecordId>, code: &str, message: impl Into<String>) -> SealedRefusal {
    SealedRefusal {
        index: index as u64,
        kind: id.map(|i| i.kind.as_str().to_string()).unwrap_or_default(),
        name: id.map(|i| i.name.clone()).unwrap_or_default(),
        code: code.to_string(),
        message: message.into(),
    }
}

impl Enclave {
    /// `sealed_load`: opens each record; see the module doc.
    pub(crate) fn sealed_load(&self, records: &[Vec<u8>]) -> Response {
        let sealing = &self.sealing;
        if sealing.kind == SealingKind::None {
            return Response::error(&EnclaveError::new(
                EnclaveErrorCode::SealingDisabled,
                "sealing is `none`: keys live in memory only and no sealed record can be loaded",
            ));
        }
        let Some(master) = sealing.master.get() else { return Response::error(&Sealing::absent()) };
        if sealing.load_closed.load(Ordering::Relaxed) {
            return Response::error(&EnclaveError::new(
                EnclaveErrorCode::SealLoadClosed,
                "sealed_load: the enclave already served a key operation; sealed records load at boot only",
            ));
        }
        let Some(installed) = self.installed() else { return crate::enclave::not_configured() };
        // One at a time with configuration updates: the lineage must not change under a load.
        let _one = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let (mut loaded, mut refused) = (0u64, Vec::new());
        for (index, bytes) in records.iter().enumerate() {
            let (id, claimed) = match sentinel_seal::read_header(bytes) {
                Ok(header) => header,
                Err(e) => {
                    refused.push(refusal(index, None, e.code(), e.message()));
                    continue;
                }
            };
            let outcome = match id.kind {
                RecordKind::Configuration => self.load_configuration(master, &installed, &id, claimed, bytes),
                RecordKind::Key => self.load_key(master, &id, bytes),
                other => Err((
                    EnclaveErrorCode::SealRecordUnsupported.as_str().to_string(),
                    format!("sealed_load: `{}` records are not loaded (docs/sealed-state.md)", other.as_str()),
                )),
            };
            match outcome {
                Ok(()) => loaded += 1,
                Err((code, message)) => refused.push(refusal(index, Some(&id), &code, message)),
            }
        }
        Response::SealedLoaded(SealedLoaded {
            loaded,
            refused,
            keys: self.keys.len() as u64,
            lineage: sealing.lineage().map(|l| l.to_hex()),
        })
    }

    /// A configuration record: adopts its lineage when it is the configuration in force, or the
    /// one the configuration in force updates; never after keys exist under another lineage.
    fn load_configuration(
        &self,
        master: &MasterKey,
        installed: &crate::enclave::Installed,
        id: &RecordId,
        claimed: Lineage,
        bytes: &[u8],
    ) -> Result<(), (String, String)> {
        let conflict = |m: String| (EnclaveErrorCode::SealConfigConflict.as_str().to_string(), m);
        // Opened under the lineage its header claims: the AEAD proves an enclave holding this
        // master key sealed that configuration under that lineage.
        let opened = sentinel_seal::open(master, &claimed, id, bytes).map_err(seal_refusal)?;
        let signed = sentinel_config::SignedConfig::decode(&opened.plaintext)
            .map_err(|e| conflict(format!("sealed configuration: {}", e.message())))?;
        if signed.config_hash() != installed.config_hash {
            let sealed =
                signed.configuration().map_err(|e| conflict(format!("sealed configuration: {}", e.message())))?;
            sealed.verify_update(&installed.signed_config).map_err(|e| {
                conflict(format!(
                    "the configuration in force (version {}) is not the sealed one (version {}) nor an update its \
                     admin quorum signed: {}",
                    installed.config.version,
                    sealed.version,
                    e.message()
                ))
            })?;
        }
        if self.sealing.lineage() != Some(claimed) && !self.keys.is_empty() {
            return Err(conflict("the lineage cannot change once keys are held".into()));
        }
        self.sealing.set_lineage(claimed);
        Ok(())
    }

    fn load_key(&self, master: &MasterKey, id: &RecordId, bytes: &[u8]) -> Result<(), (String, String)> {
        let lineage = self.sealing.lineage().expect("set when the configuration was installed");
        let opened = sentinel_seal::open(master, &lineage, id, bytes).map_err(seal_refusal)?;
        let stored = decode_key(&opened.plaintext)
            .map_err(|m| (EnclaveErrorCode::SealRecordUnsupported.as_str().to_string(), m))?;
        self.keys.restore(&id.name, stored).map_err(|e| (e.code.as_str().to_string(), e.message))
    }

    /// `sealed_state`: the provider, the lineage, and the configuration record sealed now.
    pub(crate) fn sealed_state(&self) -> Response {
        let installed = self.installed();
        let configuration = match &installed {
            Some(i) => {
                let id = RecordId {
                    kind: RecordKind::Configuration,
                    name: CONFIGURATION_NAME.into(),
                    version: i.config.version,
                };
                match self.sealing.seal(id, &i.signed_config) {
                    Ok(record) => record.map(Box::new),
                    Err(e) => return Response::error(&e),
                }
            }
            None => None,
        };
        Response::SealedState(SealedStateAnswer {
            sealing: self.sealing.kind().as_str().to_string(),
            lineage: self.sealing.lineage().map(|l| l.to_hex()),
            configuration,
        })
    }
}

fn seal_refusal(e: SealError) -> (String, String) {
    (e.code().to_string(), e.message().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(curve: Curve) -> StoredKey {
        StoredKey { key: Key::generate(curve), purpose: KeyPurpose::Raw, label: "desk-1".into(), owner: "desk".into() }
    }

    #[test]
    fn key_records_round_trip_for_both_curves() {
        for curve in [Curve::Secp256k1, Curve::Ed25519] {
            let key = stored(curve);
            let back = decode_key(&encode_key(&key)).unwrap();
            assert_eq!(back.key.public_key(), key.key.public_key());
            assert_eq!((back.purpose, back.label.as_str(), back.owner.as_str()), (KeyPurpose::Raw, "desk-1", "desk"));
        }
    }

    #[test]
    fn damaged_key_plaintexts_are_refused_by_name() {
        let good = encode_key(&stored(Curve::Secp256k1)).to_vec();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() - 1].to_vec(), "truncated"),
            ([&good[..], &[0]].concat(), "trailing"),
            ([&[2u8][..], &good[1..]].concat(), "layout version"),
            ([&good[..1], &[9u8][..], &good[2..]].concat(), "curve"),
            ([&good[..2], &[9u8][..], &good[3..]].concat(), "purpose"),
        ];
        for (bytes, expect) in cases {
            let message = decode_key(&bytes).err().unwrap_or_else(|| panic!("{expect}: accepted"));
            assert!(message.contains(expect), "{expect}: {message}");
        }
    }

    #[test]
    fn no_sealing_seals_nothing() {
        let sealing = Sealing::none();
        sealing.set_lineage(Lineage([1; 32]));
        assert!(sealing.seal_key("k-1", &stored(Curve::Ed25519)).unwrap().is_none());
    }

    #[test]
    fn a_sealed_key_record_carries_no_plaintext_secret() {
        let sealing = Sealing::new(SealingKind::Development, Some(MasterKey::from_bytes([7; 32])));
        sealing.set_lineage(Lineage([1; 32]));
        let key = stored(Curve::Secp256k1);
        let Key::Secp256k1 { secret, .. } = &*key.key else { unreachable!() };
        let record = sealing.seal_key("k-1", &key).unwrap().unwrap();
        let secret = secret.hazmat_sealing_bytes();
        assert!(!record.record.windows(32).any(|w| w == &secret[..]));
        assert_eq!((record.kind.as_str(), record.name.as_str(), record.version), ("key", "k-1", 1));
    }
}

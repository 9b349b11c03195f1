//! The in-memory key store: keys are generated inside the enclave and never
//! leave it; only key ids and public keys do.
//!
//! Each key is boxed, so when the map grows only pointers move: the secret
//! bytes stay at one address for the key's life and are wiped once, on drop
//! (a map of inline keys would leave unwiped copies behind on every resize).
//! Each key keeps its public key, so every signature is verified against it
//! before release: a fault during signing (glitch, bit flip) can leak the
//! secret through one bad signature, so a signature that does not verify is
//! never returned.
use std::collections::HashMap;
use std::sync::RwLock;

use sentinel_protocol::limits::MAX_LABEL_BYTES;
use sentinel_protocol::{Curve, EnclaveError, EnclaveErrorCode, KeyInfo, KeyPurpose, Response, Signature};
use sentinel_signer::{ed25519, secp256k1};

pub enum Key {
    Secp256k1 { secret: secp256k1::SecretKey, public: secp256k1::PublicKey },
    Ed25519 { secret: ed25519::SecretKey, public: [u8; ed25519::PUBLIC_KEY_LENGTH] },
}

impl Key {
    pub fn generate(curve: Curve) -> Box<Key> {
        match curve {
            Curve::Secp256k1 => loop {
                // A random 32-byte string is out of range with probability ~2^-128; retry then.
                if let Ok(secret) = secp256k1::SecretKey::from_bytes(crate::random_bytes::<32>()) {
                    let public = secret.public_key();
                    return Box::new(Key::Secp256k1 { secret, public });
                }
            },
            Curve::Ed25519 => {
                let mut seed = crate::random_bytes::<32>();
                let secret = ed25519::SecretKey::from_slice(&seed).expect("32-byte seed");
                zeroize::Zeroize::zeroize(&mut seed);
                let public = secret.public_key();
                Box::new(Key::Ed25519 { secret, public })
            }
        }
    }

    /// A key from imported secret bytes (already decrypted inside the enclave).
    pub fn from_secret(curve: Curve, secret: &[u8]) -> Result<Box<Key>, EnclaveError> {
        let invalid =
            |_| EnclaveError::new(EnclaveErrorCode::InvalidImportedKey, "secret: not a valid key for this curve");
        match curve {
            Curve::Secp256k1 => {
                let secret = secp256k1::SecretKey::from_slice(secret).map_err(invalid)?;
                let public = secret.public_key();
                Ok(Box::new(Key::Secp256k1 { secret, public }))
            }
            Curve::Ed25519 => {
                let secret = ed25519::SecretKey::from_slice(secret).map_err(invalid)?;
                let public = secret.public_key();
                Ok(Box::new(Key::Ed25519 { secret, public }))
            }
        }
    }

    pub fn curve(&self) -> Curve {
        match self {
            Key::Secp256k1 { .. } => Curve::Secp256k1,
            Key::Ed25519 { .. } => Curve::Ed25519,
        }
    }

    /// SEC1 compressed (secp256k1) or the 32-byte Ed25519 key.
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            Key::Secp256k1 { public, .. } => public.to_compressed().to_vec(),
            Key::Ed25519 { public, .. } => public.to_vec(),
        }
    }

    /// Signs a 32-byte digest and verifies the signature before returning it.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Response {
        let (signature, recovery_id, verified) = match self {
            Key::Secp256k1 { secret, public } => {
                let sig = secret.sign_digest(digest);
                let verified = secp256k1::verify_strict(public, digest, &sig.bytes) == Ok(true);
                (sig.bytes.to_vec(), Some(sig.recovery_id), verified)
            }
            Key::Ed25519 { secret, public } => {
                let sig = secret.sign(digest);
                let verified = ed25519::verify(public, digest, &sig) == Ok(true);
                (sig.to_vec(), None, verified)
            }
        };
        if !verified {
            return self_check_failed();
        }
        Response::Signature(Signature { signature, recovery_id })
    }

    /// Signs a message with Ed25519 (pure, RFC 8032: the message itself, not a
    /// digest) and verifies the signature before returning it; `None` for a
    /// key of another curve.
    pub fn sign_ed25519(&self, message: &[u8]) -> Option<Response> {
        let Key::Ed25519 { secret, public } = self else { return None };
        let signature = secret.sign(message);
        if ed25519::verify(public, message, &signature) != Ok(true) {
            return Some(self_check_failed());
        }
        Some(Response::Signature(Signature { signature: signature.to_vec(), recovery_id: None }))
    }
}

pub(crate) fn self_check_failed() -> Response {
    tracing::error!("a signature failed verification before release; withheld");
    Response::error(&EnclaveError::new(
        EnclaveErrorCode::SignatureSelfCheckFailed,
        "signature: failed verification against the key before release; nothing was returned",
    ))
}

/// A key and what the enclave recorded about it at creation (never changed after).
pub struct StoredKey {
    pub key: Box<Key>,
    pub purpose: KeyPurpose,
    pub label: String,
    /// The principal that created or imported it.
    pub owner: String,
}

impl StoredKey {
    pub fn info(&self, key_id: &str) -> KeyInfo {
        KeyInfo {
            key_id: key_id.to_string(),
            curve: self.key.curve(),
            purpose: self.purpose,
            label: self.label.clone(),
            owner: self.owner.clone(),
            public_key: self.key.public_key(),
        }
    }
}

/// What a new key is: its purpose, label and owner (checked by [`KeyStore::insert`]).
pub struct NewKey<'a> {
    pub purpose: KeyPurpose,
    pub label: &'a str,
    pub owner: &'a str,
    /// The owner's quota from the configuration.
    pub owner_quota: usize,
}

pub struct KeyStore {
    keys: RwLock<HashMap<String, StoredKey>>,
    max_keys: usize,
}

fn refusal(code: EnclaveErrorCode, message: String) -> EnclaveError {
    EnclaveError::new(code, message)
}

/// Checks that `purpose` makes sense for `curve` and the label is well-formed.
pub fn check_new_key(curve: Curve, new: &NewKey<'_>) -> Result<(), EnclaveError> {
    if new.purpose == KeyPurpose::Ethereum && curve != Curve::Secp256k1 {
        return Err(refusal(EnclaveErrorCode::KeyPurposeMismatch, "purpose: `ethereum` keys are secp256k1".into()));
    }
    if new.label.is_empty()
        || new.label.len() > MAX_LABEL_BYTES
        || !new.label.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b))
    {
        return Err(refusal(
            EnclaveErrorCode::InvalidLabel,
            format!("label: 1 to {MAX_LABEL_BYTES} characters of A-Z a-z 0-9 - _ . : /"),
        ));
    }
    Ok(())
}

impl KeyStore {
    pub fn new(max_keys: usize) -> Self {
        KeyStore { keys: RwLock::new(HashMap::new()), max_keys }
    }

    /// Generates a key and returns its id (random, so ids reveal nothing about order or count).
    pub fn generate(&self, curve: Curve, new: &NewKey<'_>) -> Result<KeyInfo, EnclaveError> {
        check_new_key(curve, new)?;
        // Checked before the (slow) key generation and again under the write lock.
        self.check_room(&self.keys.read().unwrap_or_else(|p| p.into_inner()), new)?;
        self.insert(Key::generate(curve), new)
    }

    /// Stores a key made elsewhere in the enclave (an import), under the same checks.
    pub fn insert(&self, key: Box<Key>, new: &NewKey<'_>) -> Result<KeyInfo, EnclaveError> {
        check_new_key(key.curve(), new)?;
        let id = format!("k-{}", hex::encode(crate::random_bytes::<12>()));
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        self.check_room(&keys, new)?;
        let stored =
            StoredKey { key, purpose: new.purpose, label: new.label.to_string(), owner: new.owner.to_string() };
        let info = stored.info(&id);
        keys.insert(id, stored);
        Ok(info)
    }

    /// Puts back a key opened from its sealed record, under its own id. Quotas were checked when
    /// it was created; the enclave's cap still holds, and an id already held is refused.
    pub fn restore(&self, id: &str, stored: StoredKey) -> Result<(), EnclaveError> {
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if keys.contains_key(id) {
            return Err(refusal(EnclaveErrorCode::SealRecordDuplicate, format!("key `{id}`: already held")));
        }
        if keys.len() >= self.max_keys {
            return Err(refusal(
                EnclaveErrorCode::KeyLimitReached,
                format!("keys: this enclave already holds its maximum of {} keys", self.max_keys),
            ));
        }
        keys.insert(id.to_string(), stored);
        Ok(())
    }

    fn check_room(&self, keys: &HashMap<String, StoredKey>, new: &NewKey<'_>) -> Result<(), EnclaveError> {
        if keys.len() >= self.max_keys {
            return Err(refusal(
                EnclaveErrorCode::KeyLimitReached,
                format!("keys: this enclave already holds its maximum of {} keys", self.max_keys),
            ));
        }
        let owned = keys.values().filter(|k| k.owner == new.owner).count();
        if owned >= new.owner_quota {
            return Err(refusal(
                EnclaveErrorCode::KeyQuotaExceeded,
                format!("keys: principal `{}` already holds its quota of {} keys", new.owner, new.owner_quota),
            ));
        }
        Ok(())
    }

    /// Drops a key (its secret is wiped with it).
    pub fn remove(&self, id: &str) -> bool {
        self.keys.write().unwrap_or_else(|p| p.into_inner()).remove(id).is_some()
    }

    pub fn len(&self) -> usize {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` with the key, under the read lock (signing never blocks other signers).
    pub fn with_key<T>(&self, id: &str, f: impl FnOnce(&StoredKey) -> T) -> Option<T> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).get(id).map(f)
    }

    /// Every key id, in no particular order (a state snapshot takes them while decisions wait).
    pub(crate) fn ids(&self) -> Vec<String> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    /// Every key for which `visible` holds, sorted by id.
    pub fn list(&self, visible: impl Fn(&StoredKey) -> bool) -> Vec<KeyInfo> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<KeyInfo> = keys.iter().filter(|(_, k)| visible(k)).map(|(id, k)| k.info(id)).collect();
        out.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_key(owner: &str, quota: usize) -> NewKey<'_> {
        NewKey { purpose: KeyPurpose::Raw, label: "test", owner, owner_quota: quota }
    }

    #[test]
    fn the_cap_and_the_quota_are_enforced_with_their_codes() {
        let store = KeyStore::new(3);
        store.generate(Curve::Secp256k1, &new_key("a", 2)).unwrap();
        store.generate(Curve::Ed25519, &new_key("a", 2)).unwrap();
        let e = store.generate(Curve::Secp256k1, &new_key("a", 2)).unwrap_err();
        assert_eq!(e.code, EnclaveErrorCode::KeyQuotaExceeded);
        store.generate(Curve::Secp256k1, &new_key("b", 2)).unwrap();
        let e = store.generate(Curve::Secp256k1, &new_key("b", 2)).unwrap_err();
        assert_eq!(e.code, EnclaveErrorCode::KeyLimitReached);
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn purposes_and_labels_are_checked() {
        let store = KeyStore::new(3);
        let eth = NewKey { purpose: KeyPurpose::Ethereum, ..new_key("a", 9) };
        assert_eq!(store.generate(Curve::Ed25519, &eth).unwrap_err().code, EnclaveErrorCode::KeyPurposeMismatch);
        let info = store.generate(Curve::Secp256k1, &eth).unwrap();
        assert_eq!((info.purpose, info.owner.as_str(), info.label.as_str()), (KeyPurpose::Ethereum, "a", "test"));
        for label in ["", "has space", &"x".repeat(MAX_LABEL_BYTES + 1)] {
            let bad = NewKey { label, ..new_key("a", 9) };
            assert_eq!(store.generate(Curve::Secp256k1, &bad).unwrap_err().code, EnclaveErrorCode::InvalidLabel);
        }
        assert_eq!(store.list(|k| k.owner == "a").len(), 1);
        assert!(store.list(|k| k.owner == "b").is_empty());
    }

    #[test]
    fn keys_stay_in_place_while_the_map_grows() {
        // Growth must move pointers only: a key's secret is never copied to a new address.
        let store = KeyStore::new(10_000);
        let first = store.generate(Curve::Secp256k1, &new_key("a", 10_000)).unwrap().key_id;
        let address = |id: &str| store.with_key(id, |k| &*k.key as *const Key as usize).unwrap();
        let before = address(&first);
        for _ in 0..2_000 {
            store.generate(Curve::Ed25519, &new_key("a", 10_000)).unwrap();
        }
        assert_eq!(address(&first), before);
    }

    #[test]
    fn signatures_are_verified_before_release() {
        for curve in [Curve::Secp256k1, Curve::Ed25519] {
            let key = Key::generate(curve);
            let Response::Signature(sig) = key.sign_digest(&[9; 32]) else { panic!("no signature") };
            assert_eq!(sig.signature.len(), 64);
        }
        // A key whose stored public half does not match its secret (what a fault looks like
        // from the outside) never releases a signature.
        let Key::Secp256k1 { secret, .. } = *Key::generate(Curve::Secp256k1) else { unreachable!() };
        let Key::Secp256k1 { public: other, .. } = *Key::generate(Curve::Secp256k1) else { unreachable!() };
        let broken = Key::Secp256k1 { secret, public: other };
        let Response::Error(e) = broken.sign_digest(&[9; 32]) else { panic!("signature released") };
        assert_eq!(e.code, "SIGNATURE_SELF_CHECK_FAILED");
        let Key::Ed25519 { secret, .. } = *Key::generate(Curve::Ed25519) else { unreachable!() };
        let broken = Key::Ed25519 { secret, public: Key::generate(Curve::Ed25519).public_key().try_into().unwrap() };
        let Response::Error(e) = broken.sign_digest(&[9; 32]) else { panic!("signature released") };
        assert_eq!(e.code, "SIGNATURE_SELF_CHECK_FAILED");
    }
}

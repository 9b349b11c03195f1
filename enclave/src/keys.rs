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

use sentinel_protocol::{Curve, EnclaveError, EnclaveErrorCode, Response, Signature};
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
}

pub(crate) fn self_check_failed() -> Response {
    tracing::error!("a signature failed verification before release; withheld");
    Response::error(&EnclaveError::new(
        EnclaveErrorCode::SignatureSelfCheckFailed,
        "signature: failed verification against the key before release; nothing was returned",
    ))
}

pub struct KeyStore {
    keys: RwLock<HashMap<String, Box<Key>>>,
    max_keys: usize,
}

impl KeyStore {
    pub fn new(max_keys: usize) -> Self {
        KeyStore { keys: RwLock::new(HashMap::new()), max_keys }
    }

    /// Generates a key and returns its id (random, so ids reveal nothing about order or count)
    /// and public key, or `KEY_LIMIT_REACHED`.
    pub fn generate(&self, curve: Curve) -> Result<(String, Vec<u8>), EnclaveError> {
        // Checked before the (slow) key generation and again under the write lock.
        let full = || {
            EnclaveError::new(
                EnclaveErrorCode::KeyLimitReached,
                format!("keys: this enclave already holds its maximum of {} keys", self.max_keys),
            )
        };
        if self.len() >= self.max_keys {
            return Err(full());
        }
        let key = Key::generate(curve);
        let public_key = key.public_key();
        let id = format!("k-{}", hex::encode(crate::random_bytes::<12>()));
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= self.max_keys {
            return Err(full());
        }
        keys.insert(id.clone(), key);
        Ok((id, public_key))
    }

    pub fn len(&self) -> usize {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` with the key, under the read lock (signing never blocks other signers).
    pub fn with_key<T>(&self, id: &str, f: impl FnOnce(&Key) -> T) -> Option<T> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).get(id).map(|key| f(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_enforced_with_its_code() {
        let store = KeyStore::new(2);
        store.generate(Curve::Secp256k1).unwrap();
        store.generate(Curve::Ed25519).unwrap();
        let e = store.generate(Curve::Secp256k1).unwrap_err();
        assert_eq!(e.code, EnclaveErrorCode::KeyLimitReached);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn keys_stay_in_place_while_the_map_grows() {
        // Growth must move pointers only: a key's secret is never copied to a new address.
        let store = KeyStore::new(10_000);
        let (first, _) = store.generate(Curve::Secp256k1).unwrap();
        let address = |id: &str| store.with_key(id, |k| k as *const Key as usize).unwrap();
        let before = address(&first);
        for _ in 0..2_000 {
            store.generate(Curve::Ed25519).unwrap();
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

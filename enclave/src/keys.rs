//! The in-memory key store: keys are generated inside the enclave and never
//! leave it; only key ids and public keys do.
use std::collections::HashMap;
use std::sync::RwLock;

use sentinel_protocol::Curve;
use sentinel_signer::{ed25519, secp256k1};

pub enum Key {
    Secp256k1(secp256k1::SecretKey),
    Ed25519(ed25519::SecretKey),
}

impl Key {
    pub fn generate(curve: Curve) -> Key {
        match curve {
            Curve::Secp256k1 => loop {
                // A random 32-byte string is out of range with probability ~2^-128; retry then.
                if let Ok(key) = secp256k1::SecretKey::from_bytes(crate::random_bytes::<32>()) {
                    return Key::Secp256k1(key);
                }
            },
            Curve::Ed25519 => {
                let mut seed = crate::random_bytes::<32>();
                let key = ed25519::SecretKey::from_slice(&seed).expect("32-byte seed");
                zeroize::Zeroize::zeroize(&mut seed);
                Key::Ed25519(key)
            }
        }
    }

    pub fn curve(&self) -> Curve {
        match self {
            Key::Secp256k1(_) => Curve::Secp256k1,
            Key::Ed25519(_) => Curve::Ed25519,
        }
    }

    /// SEC1 compressed (secp256k1) or the 32-byte Ed25519 key.
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            Key::Secp256k1(k) => k.public_key().to_compressed().to_vec(),
            Key::Ed25519(k) => k.public_key().to_vec(),
        }
    }
}

#[derive(Default)]
pub struct KeyStore {
    keys: RwLock<HashMap<String, Key>>,
}

impl KeyStore {
    /// Generates a key and returns its id (random, so ids reveal nothing about order or count).
    pub fn generate(&self, curve: Curve) -> (String, Vec<u8>) {
        let key = Key::generate(curve);
        let public_key = key.public_key();
        let id = format!("k-{}", hex::encode(crate::random_bytes::<12>()));
        self.keys.write().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), key);
        (id, public_key)
    }

    /// Runs `f` with the key, under the read lock (signing never blocks other signers).
    pub fn with_key<T>(&self, id: &str, f: impl FnOnce(&Key) -> T) -> Option<T> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).get(id).map(f)
    }
}

//! Credential files: the secret half of a principal (`client.key`) or an
//! admin (`admin.key`), as JSON `{ "principal" | "admin": id, "alg",
//! "secret_key": "0x<64 hex>" }`. Signing is deterministic for every
//! algorithm (Ed25519 by construction, ECDSA with RFC 6979 nonces), so this
//! crate needs no randomness: a new credential is made from a 32-byte seed
//! the caller draws. Secrets print as `[REDACTED]` and are wiped on drop
//! (by the key types themselves, and the hex and byte copies made here).

use core::fmt;

use p256::ecdsa::signature::hazmat::PrehashSigner;
use sentinel_signer::{ed25519, secp256k1 as k1};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::document::{is_id, printable};
use crate::error::{refuse, ConfigError, ConfigErrorCode as Code};
use crate::keys::{Alg, PublicKey};

/// Whose credential: a principal's (signs stamps) or an admin's (signs configurations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    Client,
    Admin,
}

impl CredentialKind {
    /// `client` or `admin`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Client => "client",
            CredentialKind::Admin => "admin",
        }
    }

    /// The JSON field that carries the id (`principal` or `admin`).
    pub const fn id_field(self) -> &'static str {
        match self {
            CredentialKind::Client => "principal",
            CredentialKind::Admin => "admin",
        }
    }

    pub fn from_name(name: &str) -> Option<CredentialKind> {
        [CredentialKind::Client, CredentialKind::Admin].into_iter().find(|k| k.as_str() == name)
    }
}

enum Secret {
    Ed25519(ed25519::SecretKey),
    P256(p256::ecdsa::SigningKey),
    Secp256k1(k1::SecretKey),
}

/// A principal's or admin's secret key with its id.
pub struct Credential {
    kind: CredentialKind,
    id: String,
    alg: Alg,
    /// The 32 bytes of the file (what `to_json` writes back).
    secret_bytes: Zeroizing<[u8; 32]>,
    secret: Secret,
}

impl Credential {
    /// A credential whose secret key is `seed`: the Ed25519 seed, or the
    /// big-endian ECDSA scalar. A seed outside `[1, n-1]` of the curve
    /// (probability about 2^-32 for p256, 2^-128 for secp256k1) is refused
    /// with `CREDENTIAL_INVALID`: draw another.
    pub fn generate(kind: CredentialKind, id: &str, alg: Alg, seed: &[u8; 32]) -> Result<Credential, ConfigError> {
        if !is_id(id) {
            return refuse(
                Code::CredentialInvalid,
                format!("{}: `{}` must be 1..=64 characters of A-Z a-z 0-9 - _ . : @", kind.id_field(), printable(id)),
            );
        }
        let secret = secret_from_bytes(alg, seed)?;
        Ok(Credential { kind, id: id.to_string(), alg, secret_bytes: Zeroizing::new(*seed), secret })
    }

    /// Parses a credential file. Unknown fields, both or neither of
    /// `principal`/`admin`, bad hex and invalid scalars are `CREDENTIAL_INVALID`.
    pub fn from_json(json: &str) -> Result<Credential, ConfigError> {
        let file: CredentialFile = serde_json::from_str(json).map_err(|e| {
            // serde_json's messages name the field and position, never the value.
            ConfigError::new(Code::CredentialInvalid, format!("credential: {e}"))
        })?;
        let (kind, id) = match (file.principal, file.admin) {
            (Some(id), None) => (CredentialKind::Client, id),
            (None, Some(id)) => (CredentialKind::Admin, id),
            _ => {
                return refuse(Code::CredentialInvalid, "credential: exactly one of `principal` or `admin` is required")
            }
        };
        let Some(alg) = Alg::from_name(&file.alg) else {
            return refuse(
                Code::CredentialInvalid,
                format!("alg: `{}` is not an algorithm (known: ed25519, p256, secp256k1)", printable(&file.alg)),
            );
        };
        Credential::generate(kind, &id, alg, &file.secret_key.0)
    }

    /// The credential file (JSON, one line). Write it with mode 0600.
    pub fn to_json(&self) -> Zeroizing<String> {
        let mut hex = Zeroizing::new(String::with_capacity(66));
        hex.push_str("0x");
        for b in self.secret_bytes.iter() {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            hex.push(DIGITS[usize::from(b >> 4)] as char);
            hex.push(DIGITS[usize::from(b & 15)] as char);
        }
        let id = serde_json::to_string(&self.id).expect("JSON string");
        let mut out = Zeroizing::new(String::with_capacity(160));
        out.push_str(&format!(
            "{{\"{}\":{id},\"alg\":\"{}\",\"secret_key\":\"",
            self.kind.id_field(),
            self.alg.as_str()
        ));
        out.push_str(&hex);
        out.push_str("\"}");
        out
    }

    /// Refuses (`CREDENTIAL_INVALID`) a credential of the other kind: admins
    /// sign configurations, clients sign stamps.
    pub fn expect_kind(&self, kind: CredentialKind) -> Result<(), ConfigError> {
        if self.kind == kind {
            return Ok(());
        }
        let task = match kind {
            CredentialKind::Admin => "configurations are signed by admins",
            CredentialKind::Client => "stamps and sessions are signed by principals",
        };
        refuse(
            Code::CredentialInvalid,
            format!(
                "credential: `{}` is {} credential; {task}",
                self.id,
                match self.kind {
                    CredentialKind::Admin => "an admin",
                    CredentialKind::Client => "a client",
                }
            ),
        )
    }

    pub fn kind(&self) -> CredentialKind {
        self.kind
    }

    /// The principal or admin id.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The public key, in the form the configuration lists it (Ed25519: 32
    /// bytes; ECDSA: compressed SEC1, 33 bytes).
    pub fn public_key(&self) -> PublicKey {
        let bytes = match &self.secret {
            Secret::Ed25519(k) => k.public_key().to_vec(),
            Secret::P256(k) => k.verifying_key().to_encoded_point(true).as_bytes().to_vec(),
            Secret::Secp256k1(k) => k.public_key().to_compressed().to_vec(),
        };
        PublicKey::from_bytes(self.alg, &bytes).expect("the public key of a valid secret key is valid")
    }

    /// Signs a 32-byte digest: 64 bytes for every algorithm (Ed25519 over the
    /// digest as message; ECDSA `r || s` with an RFC 6979 nonce, low-S for
    /// secp256k1; p256 through `SigningKey::sign_prehash`).
    pub fn sign(&self, digest: &[u8; 32]) -> Vec<u8> {
        match &self.secret {
            Secret::Ed25519(k) => k.sign(digest).to_vec(),
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    k.sign_prehash(digest).expect("ECDSA over a 32-byte prehash with a valid key cannot fail");
                sig.to_bytes().to_vec()
            }
            Secret::Secp256k1(k) => k.sign_digest(digest).bytes.to_vec(),
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("kind", &self.kind)
            .field("id", &self.id)
            .field("alg", &self.alg)
            .field("secret_key", &"[REDACTED]")
            .finish()
    }
}

fn secret_from_bytes(alg: Alg, bytes: &[u8; 32]) -> Result<Secret, ConfigError> {
    let invalid = || ConfigError::new(Code::CredentialInvalid, format!("secret_key: not a valid {alg} secret key"));
    Ok(match alg {
        Alg::Ed25519 => Secret::Ed25519(ed25519::SecretKey::from_slice(bytes).map_err(|_| invalid())?),
        Alg::P256 => Secret::P256(p256::ecdsa::SigningKey::from_bytes(bytes.into()).map_err(|_| invalid())?),
        // `from_bytes` wipes its copy.
        Alg::Secp256k1 => Secret::Secp256k1(k1::SecretKey::from_bytes(*bytes).map_err(|_| invalid())?),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialFile {
    principal: Option<String>,
    admin: Option<String>,
    alg: String,
    secret_key: SecretHex,
}

/// `0x` + 64 lowercase or uppercase hex digits, decoded straight from the
/// borrowed JSON text into a buffer wiped on drop.
struct SecretHex(Zeroizing<[u8; 32]>);

impl<'de> Deserialize<'de> for SecretHex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = SecretHex;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"0x\" followed by 64 hex digits")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretHex, E> {
                let digits = v.strip_prefix("0x").ok_or_else(|| E::custom("secret_key: expected a 0x prefix"))?;
                let mut out = Zeroizing::new([0u8; 32]);
                hex::decode_to_slice(digits, &mut out[..])
                    .map_err(|_| E::custom("secret_key: expected \"0x\" followed by 64 hex digits"))?;
                Ok(SecretHex(out))
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

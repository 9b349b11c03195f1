//! The primitives snow runs on, wired here instead of through snow's default
//! resolver for three reasons: the ephemeral key comes from bytes the caller
//! passed in (the crate never reads an entropy source); the long-lived key
//! material (static secret copies, ephemeral secrets, transport keys) sits in
//! types that zeroize on drop, which snow's own wrappers do not; and snow is
//! then built without any crypto feature, so the only primitives linked are
//! the three below. They are the same pure-Rust crates snow's default resolver
//! wraps (curve25519-dalek, RustCrypto AES-GCM and SHA-256); the Noise
//! cacophony test vector of this exact protocol pins the wiring (tests below).
//!
//! Why AES-256-GCM and not ChaChaPoly: RustCrypto's Poly1305 (poly1305 0.8,
//! AVX2 backend) spends ~1.5 µs setting up each message, so sealing a 100-byte
//! frame cost 2-4 µs with ChaChaPoly against ~0.4 µs with AES-GCM (AES-NI and
//! CLMUL, detected at run time on x86_64, the enclave's target), and a round
//! trip is four such operations against a budget of ~6 µs
//! (benches/session.rs). On aarch64, aes 0.8 / polyval 0.6 use the ARMv8
//! instructions only with `--cfg aes_armv8 --cfg polyval_armv8` (otherwise
//! their constant-time software code).

use core::fmt;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce, Tag};
use curve25519_dalek::montgomery::MontgomeryPoint;
use sha2::{Digest, Sha256};
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::CryptoResolver;
use snow::types::{Cipher, Dh, Hash, Random};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Length of an X25519 key and of an AES-256-GCM key.
pub(crate) const KEY_LEN: usize = 32;
/// Length of the GCM tag.
pub(crate) const TAG_LEN: usize = 16;

/// The enclave's static X25519 secret: the private half of the `session_key`
/// in the attested key bundle. Built from 32 bytes the caller drew from a
/// CSPRNG (X25519 clamps any 32 bytes into a valid scalar). Redacted in
/// `Debug`, zeroized on drop, deliberately not `Clone`.
pub struct SessionSecret {
    secret: Zeroizing<[u8; KEY_LEN]>,
    public: [u8; KEY_LEN],
}

impl SessionSecret {
    /// The secret from 32 random bytes (the caller's copy is the caller's to wipe).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let secret = Zeroizing::new(bytes);
        let public = MontgomeryPoint::mul_base_clamped(*secret).to_bytes();
        Self { secret, public }
    }

    /// The X25519 public key: the `session_key` field of the attested key bundle.
    pub fn public(&self) -> [u8; KEY_LEN] {
        self.public
    }

    pub(crate) fn secret(&self) -> &[u8; KEY_LEN] {
        &self.secret
    }
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret { public: 0x")?;
        for b in self.public {
            write!(f, "{b:02x}")?;
        }
        f.write_str(", secret: <redacted> }")
    }
}

/// The resolver of one handshake: the wrappers below, and a
/// random source that holds exactly the 32 bytes of one ephemeral key. The
/// responder also hands over its static key pair so that snow's `set` does
/// not recompute the public half on every handshake.
pub(crate) struct Resolver {
    ephemeral: Zeroizing<[u8; KEY_LEN]>,
    known_static: Option<(Zeroizing<[u8; KEY_LEN]>, [u8; KEY_LEN])>,
}

impl Resolver {
    pub(crate) fn new(ephemeral: [u8; KEY_LEN]) -> Self {
        Self { ephemeral: Zeroizing::new(ephemeral), known_static: None }
    }

    pub(crate) fn with_static(ephemeral: [u8; KEY_LEN], secret: &SessionSecret) -> Self {
        Self { ephemeral: Zeroizing::new(ephemeral), known_static: Some((secret.secret.clone(), secret.public)) }
    }
}

impl CryptoResolver for Resolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(OneShotRng(Some(self.ephemeral.clone()))))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        match choice {
            DHChoice::Curve25519 => Some(Box::new(X25519 { known: self.known_static.clone(), ..X25519::default() })),
            _ => None,
        }
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        match choice {
            HashChoice::SHA256 => Some(Box::new(Sha256Hash(Sha256::new()))),
            _ => None,
        }
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        match choice {
            CipherChoice::AESGCM => Some(Box::new(AesGcm::default())),
            _ => None,
        }
    }
}

/// Yields the 32 bytes it was given once, then refuses: a Noise NK party
/// draws exactly one ephemeral key, and a second draw would be a bug to
/// surface rather than to answer with reused bytes.
struct OneShotRng(Option<Zeroizing<[u8; KEY_LEN]>>);

impl Random for OneShotRng {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        match self.0.take() {
            Some(bytes) if dest.len() == KEY_LEN => {
                dest.copy_from_slice(&bytes[..]);
                Ok(())
            }
            _ => Err(snow::Error::Rng),
        }
    }
}

/// X25519 over curve25519-dalek, as in snow's default resolver, plus a
/// zeroizing secret and a refusal of an all-zero shared secret (a low-order
/// public key from the peer: Noise allows either behaviour, refusing costs
/// one comparison and keeps both ends contributing).
#[derive(Default)]
struct X25519 {
    secret: Zeroizing<[u8; KEY_LEN]>,
    public: [u8; KEY_LEN],
    known: Option<(Zeroizing<[u8; KEY_LEN]>, [u8; KEY_LEN])>,
}

impl Dh for X25519 {
    fn name(&self) -> &'static str {
        "25519"
    }

    fn pub_len(&self) -> usize {
        KEY_LEN
    }

    fn priv_len(&self) -> usize {
        KEY_LEN
    }

    fn set(&mut self, privkey: &[u8]) {
        // snow passes exactly `priv_len` bytes.
        self.secret.copy_from_slice(&privkey[..KEY_LEN]);
        self.public = match &self.known {
            Some((secret, public)) if bool::from(secret.ct_eq(&*self.secret)) => *public,
            _ => MontgomeryPoint::mul_base_clamped(*self.secret).to_bytes(),
        };
    }

    fn generate(&mut self, rng: &mut dyn Random) -> Result<(), snow::Error> {
        rng.try_fill_bytes(&mut self.secret[..])?;
        self.public = MontgomeryPoint::mul_base_clamped(*self.secret).to_bytes();
        Ok(())
    }

    fn pubkey(&self) -> &[u8] {
        &self.public
    }

    fn privkey(&self) -> &[u8] {
        &self.secret[..]
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        let peer: [u8; KEY_LEN] = pubkey.get(..KEY_LEN).and_then(|p| p.try_into().ok()).ok_or(snow::Error::Dh)?;
        let shared = Zeroizing::new(MontgomeryPoint(peer).mul_clamped(*self.secret).to_bytes());
        if bool::from(shared.ct_eq(&[0u8; KEY_LEN])) {
            return Err(snow::Error::Dh);
        }
        out.get_mut(..KEY_LEN).ok_or(snow::Error::Dh)?.copy_from_slice(&shared[..]);
        Ok(())
    }
}

/// Noise's AESGCM: AES-256-GCM with the 96-bit nonce `0^32 || BE64(n)`. The
/// keyed instance lives as long as the cipher state (its AES key schedule is
/// zeroized on drop through aes' `zeroize` feature), so a frame costs no key
/// schedule.
struct AesGcm {
    aead: Aes256Gcm,
}

impl Default for AesGcm {
    fn default() -> Self {
        // Placeholder until snow calls `set`; snow never encrypts before that.
        Self { aead: Aes256Gcm::new(&Key::<Aes256Gcm>::default()) }
    }
}

fn noise_nonce(n: u64) -> Nonce<<Aes256Gcm as aes_gcm::AeadCore>::NonceSize> {
    let mut nonce = Nonce::default();
    nonce[4..].copy_from_slice(&n.to_be_bytes());
    nonce
}

impl Cipher for AesGcm {
    fn name(&self) -> &'static str {
        "AESGCM"
    }

    fn set(&mut self, key: &[u8; KEY_LEN]) {
        self.aead = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    }

    fn encrypt(&self, nonce: u64, authtext: &[u8], plaintext: &[u8], out: &mut [u8]) -> usize {
        // snow checks that `out` holds plaintext + tag and that a message stays
        // under 64 KiB; GCM refuses only plaintexts over 64 GiB.
        let len = plaintext.len();
        out[..len].copy_from_slice(plaintext);
        let tag = self
            .aead
            .encrypt_in_place_detached(&noise_nonce(nonce), authtext, &mut out[..len])
            .expect("a Noise message is far below GCM's length limit");
        out[len..len + TAG_LEN].copy_from_slice(&tag);
        len + TAG_LEN
    }

    fn decrypt(&self, nonce: u64, authtext: &[u8], ciphertext: &[u8], out: &mut [u8]) -> Result<usize, snow::Error> {
        let Some(len) = ciphertext.len().checked_sub(TAG_LEN) else { return Err(snow::Error::Decrypt) };
        let (body, tag) = ciphertext.split_at(len);
        let out = out.get_mut(..len).ok_or(snow::Error::Decrypt)?;
        out.copy_from_slice(body);
        // Verifies the tag (constant time) before it decrypts anything.
        self.aead
            .decrypt_in_place_detached(&noise_nonce(nonce), authtext, out, Tag::from_slice(tag))
            .map_err(|_| snow::Error::Decrypt)?;
        Ok(len)
    }
}

/// SHA-256 for the handshake transcript and HKDF (snow derives HMAC and HKDF
/// from these four operations).
struct Sha256Hash(Sha256);

impl Hash for Sha256Hash {
    fn name(&self) -> &'static str {
        "SHA256"
    }

    fn block_len(&self) -> usize {
        64
    }

    fn hash_len(&self) -> usize {
        32
    }

    fn reset(&mut self) {
        self.0 = Sha256::new();
    }

    fn input(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn result(&mut self, out: &mut [u8]) {
        out[..32].copy_from_slice(&self.0.finalize_reset());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn key(s: &str) -> [u8; KEY_LEN] {
        hex(s).try_into().unwrap()
    }

    /// RFC 7748 §6.1 (Alice's key pair).
    #[test]
    fn session_secret_public_is_x25519() {
        let secret = SessionSecret::from_bytes(key("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        assert_eq!(secret.public(), key("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
        let debug = format!("{secret:?}");
        assert!(debug.contains("8520f009") && debug.contains("<redacted>"));
        assert!(!debug.contains("77076d0a"));
    }

    /// The cacophony vector of Noise_NK_25519_AESGCM_SHA256 (as shipped in
    /// snow 0.10.0's tests/vectors/cacophony.txt), run through this crate's
    /// resolver: pins the X25519, AES-GCM (nonce layout, tag placement) and
    /// SHA-256 wrappers to the published bytes, in both handshake and
    /// transport messages, in both directions.
    #[test]
    fn cacophony_nk_vector() {
        let params: snow::params::NoiseParams = crate::PROTOCOL_NAME.parse().unwrap();
        let prologue = hex("4a6f686e2047616c74");
        let resp_static = key("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893");
        let resp_public = key("31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62");
        assert_eq!(SessionSecret::from_bytes(resp_static).public(), resp_public);
        let init_e = key("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
        let resp_e = key("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b");
        let messages = [
            ("4c756477696720766f6e204d69736573", "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c794475ab4d66d222457dd414bc5f296bc7b4078cc7d72af5192628b68bca7d28844b"),
            ("4d757272617920526f746862617264", "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884303c7d89310502baa8299520ba451624c3c0492e2698f8d457c32400b91fd8a"),
            ("462e20412e20486179656b", "304f70c37c93573099228016d54cb15213af94eb598d1b17df1153"),
            ("4361726c204d656e676572", "a1bf6c954529f29b31d8ae9f67d2c18dbd332aa1a0918690c6d80b"),
            ("4a65616e2d426170746973746520536179", "2e8f3e51888360b2b2d83a64dde9943c7dd3c5e84ac7c4b4e2d5cfc025b6c854d3"),
            ("457567656e2042f6686d20766f6e2042617765726b", "8498bf41212a8b87c9eeb408274c75b3558fd0530865b5a7932d4b3af812d85b3df27e6f33"),
        ];
        let secret = SessionSecret::from_bytes(resp_static);
        let mut init = snow::Builder::with_resolver(params.clone(), Box::new(Resolver::new(init_e)))
            .prologue(&prologue)
            .unwrap()
            .remote_public_key(&resp_public)
            .unwrap()
            .build_initiator()
            .unwrap();
        let mut resp = snow::Builder::with_resolver(params, Box::new(Resolver::with_static(resp_e, &secret)))
            .prologue(&prologue)
            .unwrap()
            .local_private_key(secret.secret())
            .unwrap()
            .build_responder()
            .unwrap();
        let mut buf = vec![0u8; 1024];
        let mut plain = vec![0u8; 1024];
        // Two handshake messages, then transport alternating initiator / responder.
        for (i, (payload, ciphertext)) in messages[..2].iter().enumerate() {
            let (w, r) = if i == 0 { (&mut init, &mut resp) } else { (&mut resp, &mut init) };
            let n = w.write_message(&hex(payload), &mut buf).unwrap();
            assert_eq!(buf[..n], hex(ciphertext)[..]);
            let m = r.read_message(&buf[..n], &mut plain).unwrap();
            assert_eq!(plain[..m], hex(payload)[..]);
        }
        let expected_h = hex("f8a87aa8add4fea6e33365b89637486c2f6564546ce29d1df9ce9abf78c507d7");
        assert_eq!(init.get_handshake_hash(), &expected_h[..]);
        assert_eq!(resp.get_handshake_hash(), &expected_h[..]);
        let mut init = init.into_transport_mode().unwrap();
        let mut resp = resp.into_transport_mode().unwrap();
        for (i, (payload, ciphertext)) in messages[2..].iter().enumerate() {
            let (w, r) = if i % 2 == 0 { (&mut init, &mut resp) } else { (&mut resp, &mut init) };
            let n = w.write_message(&hex(payload), &mut buf).unwrap();
            assert_eq!(buf[..n], hex(ciphertext)[..]);
            let m = r.read_message(&buf[..n], &mut plain).unwrap();
            assert_eq!(plain[..m], hex(payload)[..]);
        }
    }

    #[test]
    fn one_shot_rng_refuses_a_second_draw() {
        let mut rng = OneShotRng(Some(Zeroizing::new([9u8; KEY_LEN])));
        let mut out = [0u8; KEY_LEN];
        rng.try_fill_bytes(&mut out).unwrap();
        assert_eq!(out, [9u8; KEY_LEN]);
        assert!(rng.try_fill_bytes(&mut out).is_err());
        let mut short = OneShotRng(Some(Zeroizing::new([9u8; KEY_LEN])));
        assert!(short.try_fill_bytes(&mut [0u8; 16]).is_err());
    }

    #[test]
    fn low_order_peer_key_is_refused() {
        let mut dh = X25519::default();
        dh.set(&[5u8; KEY_LEN]);
        let mut out = [0u8; KEY_LEN];
        assert!(dh.dh(&[0u8; KEY_LEN], &mut out).is_err());
        let mut one = [0u8; KEY_LEN];
        one[0] = 1;
        assert!(dh.dh(&one, &mut out).is_err());
    }
}

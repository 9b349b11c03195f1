//! Hazardous helpers: RFC 6979 nonce candidates.
//!
//! Signing never calls this module; libsecp256k1 derives its own nonce. It
//! exists so tests can prove that the nonce libsecp256k1 used is the RFC 6979
//! one (including the retry candidates k1, k15 of section 3.2 step h), which
//! is what makes our signatures reproducible by any other RFC 6979 signer.
//! A nonce together with its signature reveals the secret key: never log or
//! return one outside tests and vector checks.
use rfc6979::HmacDrbg;
use sha2::Sha256;
use zeroize::Zeroize;

use crate::secp256k1::SecretKey;

const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc,
    0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

/// Big-endian `a - b` (caller guarantees `a >= b`).
fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0u16;
    for i in (0..32).rev() {
        let d = (a[i] as u16).wrapping_sub(b[i] as u16).wrapping_sub(borrow);
        out[i] = d as u8;
        borrow = (d >> 8) & 1;
    }
    out
}

fn in_range(k: &[u8; 32]) -> bool {
    k.iter().any(|b| *b != 0) && k.as_slice() < ORDER.as_slice()
}

/// Returns the `index`-th RFC 6979 (HMAC-SHA256) candidate nonce for
/// secp256k1, counting only candidates in `[1, n-1]`. `index = 0` is the nonce
/// a signer uses; later ones are what a signer that rejected earlier ones
/// (e.g. bitcoinjs' `checkSig`) would use.
pub fn hazmat_rfc6979_nonce(secret: &SecretKey, digest: &[u8; 32], index: u32) -> [u8; 32] {
    // bits2octets(h): for a 256-bit hash and 256-bit order this is h mod n.
    let h = if digest.as_slice() >= ORDER.as_slice() { sub_be(digest, &ORDER) } else { *digest };
    let mut x = secret.hazmat_secret_bytes();
    let mut drbg = HmacDrbg::<Sha256>::new(&x, &h, &[]);
    x.zeroize();
    let mut seen = 0;
    loop {
        let mut k = [0u8; 32];
        drbg.fill_bytes(&mut k);
        if in_range(&k) {
            if seen == index {
                return k;
            }
            seen += 1;
        }
        k.zeroize();
    }
}

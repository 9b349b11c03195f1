//! Signed-transaction decoding and signer recovery: the refusals. (The
//! positive side runs over every ethers vector in `ethers_vectors.rs`.)
mod common;

use common::unhex;
use sentinel_eth::{address_from_public_key, decode_signed_transaction, recover_transaction_signer, sign_transaction};
use sentinel_signer::secp256k1::SecretKey;

const KEY: [u8; 32] = [0x46; 32];
/// The demo's EIP-1559 sample: 0.01 ETH on chain 1.
const UNSIGNED_1559: &str =
    "02ef01808459682f008506fc23ac0082520894d8da6bf26964af9d7eed9e03e53415d37aa96045872386f26fc1000080c0";
/// The EIP-155 spec example (unsigned).
const UNSIGNED_155: &str = "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";

fn signed(unsigned_hex: &str) -> Vec<u8> {
    sign_transaction(&SecretKey::from_bytes(KEY).unwrap(), &unhex(unsigned_hex)).unwrap()
}

fn code(bytes: &[u8]) -> &'static str {
    recover_transaction_signer(bytes).unwrap_err().code()
}

#[test]
fn recovers_the_signer_of_both_families() {
    let me = address_from_public_key(&SecretKey::from_bytes(KEY).unwrap().public_key());
    for unsigned in [UNSIGNED_1559, UNSIGNED_155] {
        let (signer, tx) = recover_transaction_signer(&signed(unsigned)).unwrap();
        assert_eq!(signer, me);
        assert_eq!(tx.encode_unsigned(), unhex(unsigned));
    }
}

#[test]
fn refuses_unsigned_input() {
    assert_eq!(code(&unhex(UNSIGNED_1559)), "WRONG_FIELD_COUNT");
    // A 9-field unsigned EIP-155 list parses as legacy with v = chainId = 1.
    assert_eq!(code(&unhex(UNSIGNED_155)), "INVALID_SIGNATURE_V");
    assert_eq!(code(&[]), "EMPTY_INPUT");
}

#[test]
fn refuses_y_parity_above_one() {
    let mut tx = signed(UNSIGNED_1559);
    // Layout: 0x02, list header (2 bytes), 9 body fields, yParity, r (0xa0 + 32), s (0xa0 + 32).
    let y_at = tx.len() - 2 * 33 - 1;
    assert!(tx[y_at] == 0x80 || tx[y_at] == 0x01);
    tx[y_at] = 0x02;
    assert_eq!(code(&tx), "INVALID_SIGNATURE_V");
}

#[test]
fn refuses_high_s() {
    let mut tx = signed(UNSIGNED_1559);
    let n = unhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    let s_at = tx.len() - 32;
    assert_eq!(tx[s_at - 1], 0xa0, "s is a full 32-byte string in this sample");
    let s: Vec<u8> = tx[s_at..].to_vec();
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = n[i] as i16 - s[i] as i16 - borrow;
        borrow = i16::from(d < 0);
        tx[s_at + i] = (d + 256 * borrow) as u8;
    }
    // Flip y so that, were high-S accepted, the same key would recover.
    let y_at = tx.len() - 2 * 33 - 1;
    tx[y_at] = if tx[y_at] == 0x80 { 0x01 } else { 0x80 };
    assert_eq!(code(&tx), "SIGNATURE_HIGH_S");
}

#[test]
fn refuses_bad_legacy_v_and_zero_r() {
    let good = signed(UNSIGNED_155);
    // v = 37 or 38 for chain 1 sits right before r's 0xa0 header.
    let v_at = good.len() - 2 * 33 - 1;
    assert!(good[v_at] == 37 || good[v_at] == 38);
    let mut tx = good.clone();
    tx[v_at] = 29;
    assert_eq!(code(&tx), "INVALID_SIGNATURE_V");
    tx[v_at] = 36; // chain id 0
    assert_eq!(code(&tx), "INVALID_SIGNATURE_V");

    let mut zero_r = good.clone();
    zero_r[v_at + 2..v_at + 34].fill(0);
    // r = 0 padded to 32 bytes is a non-canonical integer before it is a bad signature.
    assert_eq!(code(&zero_r), "INTEGER_LEADING_ZERO");
    assert!(decode_signed_transaction(&good).is_ok());
}

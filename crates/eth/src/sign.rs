//! Signing an unsigned transaction into a raw signed transaction.
//!
//! The signer refuses to sign bytes it cannot fully decode, so a signature is
//! only ever produced over a transaction the policy engine could read. The
//! digest is keccak256 of the caller's bytes; strict decoding guarantees these
//! are the canonical encoding of the decoded struct. After signing, the public
//! key is recovered from the signature and compared with the signer's own, so
//! a fault (or a recovery id Ethereum cannot express) never leaves the
//! enclave as a transaction that would be attributed to some other address.
use alloy_primitives::keccak256;
use sentinel_signer::secp256k1::{recover_public_key, SecretKey};

use crate::error::{code, Error};
use crate::rlp::{put_u64, put_uint_be};
use crate::transaction::{decode_transaction, TxKind};

/// Decodes `unsigned` strictly, signs keccak256(`unsigned`) and returns the
/// raw signed transaction: legacy `v = 27 + y`, EIP-155
/// `v = chainId * 2 + 35 + y`, typed `yParity = y`.
pub fn sign_transaction(secret: &SecretKey, unsigned: &[u8]) -> Result<Vec<u8>, Error> {
    let tx = decode_transaction(unsigned)?;
    let digest = keccak256(unsigned).0;
    let sig = secret.sign_digest(&digest);
    if sig.recovery_id > 1 {
        // Only possible when r overflowed the group order (probability ~2^-128).
        return Err(Error::new(
            code::UNSUPPORTED_RECOVERY_ID,
            format!("signature: recovery id {} cannot be expressed in a transaction", sig.recovery_id),
        ));
    }
    let recovered = recover_public_key(&digest, &sig.bytes, sig.recovery_id)?;
    if recovered != secret.public_key() {
        return Err(Error::new(code::SIGNATURE_SELF_CHECK_FAILED, "signature: does not recover to the signing key"));
    }

    let y = u128::from(sig.recovery_id);
    let mut payload = tx.encode_body();
    match tx.kind {
        TxKind::Legacy => put_uint_be(&mut payload, &(27 + y).to_be_bytes()),
        // u128 holds u64::MAX * 2 + 36 without overflow.
        TxKind::Eip155 => {
            let v = u128::from(tx.chain_id.unwrap_or(0)) * 2 + 35 + y;
            put_uint_be(&mut payload, &v.to_be_bytes());
        }
        TxKind::Eip2930 | TxKind::Eip1559 => put_u64(&mut payload, y as u64),
    }
    put_uint_be(&mut payload, &sig.bytes[..32]);
    put_uint_be(&mut payload, &sig.bytes[32..]);
    Ok(tx.envelope(&payload))
}

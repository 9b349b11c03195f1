//! Signed transactions: strict decoding and signer recovery.
//!
//! The inverse of [`crate::sign_transaction`], for whoever has to check a
//! signed transaction without trusting its sender's description of it: the
//! demo, audit tooling, and later the policy engine when it is handed a
//! transaction signed elsewhere. The unsigned part is decoded by the same
//! strict code as unsigned input, so a signed transaction is accepted only if
//! stripping its signature leaves an acceptable unsigned one. The signature
//! must be low-S (EIP-2) and its `v` must name the transaction's own form:
//! 27/28 for pre-EIP-155 legacy, `chainId * 2 + 35 + y` with a non-zero chain
//! id for EIP-155, and a `yParity` of 0 or 1 for typed transactions.
use alloy_primitives::U256;
use sentinel_signer::secp256k1::{recover_public_key, verify_strict};

use crate::address::address_from_public_key;
use crate::error::{code, Error};
use crate::rlp::Item;
use crate::transaction::{
    decode_eip1559, decode_eip2930, decode_legacy, outer_list, Transaction, TxKind, EIP1559_FIELDS, EIP2930_FIELDS,
    MAX_TRANSACTION_BYTES,
};

const SIGNED_LEGACY_FIELDS: [&str; 9] = ["nonce", "gasPrice", "gasLimit", "to", "value", "data", "v", "r", "s"];
const SIGNED_EIP2930_FIELDS: [&str; 11] =
    ["chainId", "nonce", "gasPrice", "gasLimit", "to", "value", "data", "accessList", "yParity", "r", "s"];
const SIGNED_EIP1559_FIELDS: [&str; 12] = [
    "chainId",
    "nonce",
    "maxPriorityFeePerGas",
    "maxFeePerGas",
    "gasLimit",
    "to",
    "value",
    "data",
    "accessList",
    "yParity",
    "r",
    "s",
];

/// A decoded signed transaction: the unsigned transaction it commits to and its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTransaction {
    pub transaction: Transaction,
    /// `r || s`, each 32 bytes big-endian.
    pub signature: [u8; 64],
    pub recovery_id: u8,
}

impl SignedTransaction {
    /// The signer's address, recovered from the signature over
    /// [`Transaction::signing_hash`]. Fails for a signature that does not
    /// recover or is not low-S.
    pub fn signer(&self) -> Result<[u8; 20], Error> {
        let digest = self.transaction.signing_hash();
        let key = recover_public_key(&digest, &self.signature, self.recovery_id)?;
        // Recovery succeeds for high-S too; Ethereum (EIP-2) does not accept those.
        if !verify_strict(&key, &digest, &self.signature)? {
            return Err(Error::new(code::SIGNATURE_HIGH_S, "s: signature is not low-S (EIP-2)"));
        }
        Ok(address_from_public_key(&key))
    }
}

/// Decodes a raw signed legacy / EIP-155 / EIP-2930 / EIP-1559 transaction, strictly.
pub fn decode_signed_transaction(signed: &[u8]) -> Result<SignedTransaction, Error> {
    let Some(&first) = signed.first() else {
        return Err(Error::new(code::EMPTY_INPUT, "transaction: input is empty"));
    };
    if signed.len() > MAX_TRANSACTION_BYTES {
        return Err(Error::new(
            code::TRANSACTION_TOO_LARGE,
            format!("transaction: {} bytes exceeds the limit of {MAX_TRANSACTION_BYTES}", signed.len()),
        ));
    }
    match first {
        0x01 => {
            let items = signed_items(&signed[1..], "signed EIP-2930", &SIGNED_EIP2930_FIELDS)?;
            let (body, sig) = items.split_at(EIP2930_FIELDS.len());
            typed(decode_eip2930(body.to_vec())?, sig)
        }
        0x02 => {
            let items = signed_items(&signed[1..], "signed EIP-1559", &SIGNED_EIP1559_FIELDS)?;
            let (body, sig) = items.split_at(EIP1559_FIELDS.len());
            typed(decode_eip1559(body.to_vec())?, sig)
        }
        0xc0..=0xff => {
            let items = signed_items(signed, "signed legacy", &SIGNED_LEGACY_FIELDS)?;
            let (body, sig) = items.split_at(6);
            legacy(decode_legacy(body.to_vec())?, sig)
        }
        0x00..=0x7f => Err(Error::new(
            code::UNSUPPORTED_TRANSACTION_TYPE,
            format!("transaction: type 0x{first:02x} is not supported (only legacy, 0x01 and 0x02)"),
        )),
        _ => Err(Error::new(
            code::EXPECTED_LIST,
            "transaction: expected a type byte or an RLP list (legacy), found an RLP string",
        )),
    }
}

/// Decodes a signed transaction and recovers its signer's address.
pub fn recover_transaction_signer(signed: &[u8]) -> Result<([u8; 20], Transaction), Error> {
    let decoded = decode_signed_transaction(signed)?;
    let signer = decoded.signer()?;
    Ok((signer, decoded.transaction))
}

fn signed_items<'a>(buf: &'a [u8], kind: &str, names: &'static [&'static str]) -> Result<Vec<Item<'a>>, Error> {
    let items = outer_list(buf, kind, names)?;
    if items.len() != names.len() {
        return Err(Error::new(
            code::WRONG_FIELD_COUNT,
            format!("{kind} transaction: found {} fields, expected {}", items.len(), names.len()),
        ));
    }
    Ok(items)
}

fn rs(sig: &[Item<'_>]) -> Result<[u8; 64], Error> {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&sig[1].u256(&"r")?.to_be_bytes::<32>());
    out[32..].copy_from_slice(&sig[2].u256(&"s")?.to_be_bytes::<32>());
    Ok(out)
}

fn typed(transaction: Transaction, sig: &[Item<'_>]) -> Result<SignedTransaction, Error> {
    let y = sig[0].u64(&"yParity")?;
    if y > 1 {
        return Err(Error::new(code::INVALID_SIGNATURE_V, format!("yParity: must be 0 or 1, found {y}")));
    }
    Ok(SignedTransaction { transaction, signature: rs(sig)?, recovery_id: y as u8 })
}

fn legacy(mut transaction: Transaction, sig: &[Item<'_>]) -> Result<SignedTransaction, Error> {
    let v = sig[0].u256(&"v")?;
    let recovery_id = if v == U256::from(27u8) || v == U256::from(28u8) {
        (v.to::<u64>() - 27) as u8
    } else if v >= U256::from(37u8) {
        let chain_id = (v - U256::from(35u8)) / U256::from(2u8);
        let chain_id = u64::try_from(chain_id)
            .map_err(|_| Error::new(code::INTEGER_OVERFLOW, "v: implied chain id does not fit in 64 bits"))?;
        transaction.kind = TxKind::Eip155;
        transaction.chain_id = Some(chain_id);
        ((v - U256::from(35u8)) % U256::from(2u8)).to::<u64>() as u8
    } else {
        return Err(Error::new(
            code::INVALID_SIGNATURE_V,
            format!("v: must be 27, 28 or chainId * 2 + 35 + y with chainId >= 1, found {v}"),
        ));
    };
    Ok(SignedTransaction { transaction, signature: rs(sig)?, recovery_id })
}

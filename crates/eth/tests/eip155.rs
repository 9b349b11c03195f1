//! The worked example from the EIP-155 specification.
mod common;

use common::{read_json, unhex};
use sentinel_eth::{decode_transaction, sign_transaction, TxKind, U256};
use sentinel_signer::secp256k1::SecretKey;

#[test]
fn eip155_spec_example() {
    let v = read_json("eip155_spec_example.json");
    let secret = SecretKey::from_slice(&unhex(v["privateKey"].as_str().unwrap())).unwrap();
    let unsigned = unhex(v["signingData"].as_str().unwrap());

    let tx = decode_transaction(&unsigned).unwrap();
    assert_eq!(tx.kind, TxKind::Eip155);
    assert_eq!(tx.chain_id, Some(1));
    assert_eq!(tx.nonce, 9);
    assert_eq!(tx.gas_price, Some(U256::from(20_000_000_000u64)));
    assert_eq!(tx.gas_limit, 21000);
    assert_eq!(tx.value, U256::from(1_000_000_000_000_000_000u64));
    assert!(tx.data.is_empty());
    assert_eq!(tx.signing_hash().to_vec(), unhex(v["signingHash"].as_str().unwrap()));

    let raw = sign_transaction(&secret, &unsigned).unwrap();
    assert_eq!(raw, unhex(v["signedRawTx"].as_str().unwrap()));

    // Pull v, r, s back out of the signed list: the last three items.
    let r = U256::from_str_radix(v["r"].as_str().unwrap(), 10).unwrap();
    let s = U256::from_str_radix(v["s"].as_str().unwrap(), 10).unwrap();
    let tail = &raw[raw.len() - 67..];
    assert_eq!(tail[0], v["v"].as_u64().unwrap() as u8);
    assert_eq!(tail[1], 0xa0);
    assert_eq!(U256::from_be_slice(&tail[2..34]), r);
    assert_eq!(tail[34], 0xa0);
    assert_eq!(U256::from_be_slice(&tail[35..67]), s);

    let view = tx.view();
    assert_eq!(view.to.as_deref(), Some("0x3535353535353535353535353535353535353535"));
    assert_eq!(view.signing_hash, v["signingHash"].as_str().unwrap());
}

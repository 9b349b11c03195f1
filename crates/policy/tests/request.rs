//! `PolicyRequest` from transactions (ERC-20 calldata, chain, fees) and from
//! EIP-712 typed data (EIP-2612, DAI and Permit2 permits).
//!
//! Provenance of the data:
//! - ERC-20 calldata constants: viem 2.57.20 `encodeFunctionData({ abi: erc20Abi, ... })` (from this
//!   repository's node_modules), with the USDC transfer also built byte by byte below.
//! - Typed data documents and their `*_HASH`: viem 2.57.20 `hashTypedData`; ethers 6.17.0
//!   `TypedDataEncoder.hash` gives the same digests. Addresses are the real mainnet / Base / Optimism
//!   contracts (USDC, DAI, WETH, Permit2, Universal Router, UniswapX reactor); the Permit2 type strings
//!   are those of Uniswap/permit2 `src/libraries/PermitHash.sol`, the witness example that of the
//!   Permit2 documentation (`ExampleTrade`).
//! - Transactions: `test/vectors/ethereum/ethers_transaction.json.gz` (ethers.js, all 896 vectors) and
//!   `test/vectors/ethereum/eip155_spec_example.json` (EIP-155's own example); see test/vectors/README.md.
use std::io::Read;
use std::path::PathBuf;

use sentinel_eth::{decode_transaction, transaction_from_json, Address, Bytes, Transaction, TxKind, U256};
use sentinel_policy::{
    Asset, CallKind, Caller, Movement, MovementKind, OpKind, PolicyErrorCode, PolicyRequest, MAX_MOVEMENTS,
};
use serde_json::{json, Value};

const CALLER: Caller<'static> = Caller { principal: "agent-7", key_id: "key-1", key_label: "treasury" };

const USDC: &str = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
const USDC_BASE: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
const USDC_OPTIMISM: &str = "0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85";
const WETH: &str = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2";
const DAI: &str = "0x6B175474E89094C44Da98b954EedeAC495271d0F";
const PERMIT2: &str = "0x000000000022D473030F116dDEE9F6B43aC78BA3";
const UNIVERSAL_ROUTER: &str = "0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD";
const UNISWAPX_REACTOR: &str = "0x00000011F84B9aa48e5f8aA8B9897600006289Be";
const ONEINCH_ROUTER: &str = "0x111111125421cA6dc452d289314280a0f8842A65";
const VITALIK: &str = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045";
const BINANCE_14: &str = "0x28C6c06298d514Db089934071355E5743bf21d60";

// viem: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [VITALIK, 1000000000n] })
const TRANSFER_1000_USDC: &str = "0xa9059cbb000000000000000000000000d8da6bf26964af9d7eed9e03e53415d37aa96045000000000000000000000000000000000000000000000000000000003b9aca00";
// viem: transferFrom(BINANCE_14, VITALIK, 250000000n)
const TRANSFER_FROM_250_USDC: &str = "0x23b872dd00000000000000000000000028c6c06298d514db089934071355e5743bf21d60000000000000000000000000d8da6bf26964af9d7eed9e03e53415d37aa96045000000000000000000000000000000000000000000000000000000000ee6b280";
// viem: approve(PERMIT2, 2n ** 256n - 1n)
const APPROVE_PERMIT2_UNLIMITED: &str = "0x095ea7b3000000000000000000000000000000000022d473030f116ddee9f6b43ac78ba3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

// USDC_PERMIT: viem 2.57.20 hashTypedData = 0x904a8d1b843e5dce12a98592cb364003cdd88c8e831e541318b0ab0fe78feacf
const USDC_PERMIT: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Permit":[{"name":"owner","type":"address"},{"name":"spender","type":"address"},{"name":"value","type":"uint256"},{"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"}]},"primaryType":"Permit","domain":{"name":"USD Coin","version":"2","chainId":1,"verifyingContract":"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"},"message":{"owner":"0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045","spender":"0x111111125421cA6dc452d289314280a0f8842A65","value":"1000000000","nonce":0,"deadline":1767225600}}"#;
const USDC_PERMIT_HASH: &str = "0x904a8d1b843e5dce12a98592cb364003cdd88c8e831e541318b0ab0fe78feacf";
// DAI_PERMIT: viem 2.57.20 hashTypedData = 0xb5f4f4bd23660e9485ed9b207fef5987dcc287cb3bac80506c2c4a035fb5eea4
const DAI_PERMIT: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Permit":[{"name":"holder","type":"address"},{"name":"spender","type":"address"},{"name":"nonce","type":"uint256"},{"name":"expiry","type":"uint256"},{"name":"allowed","type":"bool"}]},"primaryType":"Permit","domain":{"name":"Dai Stablecoin","version":"1","chainId":1,"verifyingContract":"0x6B175474E89094C44Da98b954EedeAC495271d0F"},"message":{"holder":"0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045","spender":"0x111111125421cA6dc452d289314280a0f8842A65","nonce":3,"expiry":1767225600,"allowed":true}}"#;
const DAI_PERMIT_HASH: &str = "0xb5f4f4bd23660e9485ed9b207fef5987dcc287cb3bac80506c2c4a035fb5eea4";
// PERMIT2_SINGLE: viem 2.57.20 hashTypedData = 0x45d6d6d22678b6e78a99c832de9404335fc2ecd2c9c645ef512be09b7af22046
const PERMIT2_SINGLE: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"PermitSingle":[{"name":"details","type":"PermitDetails"},{"name":"spender","type":"address"},{"name":"sigDeadline","type":"uint256"}],"PermitDetails":[{"name":"token","type":"address"},{"name":"amount","type":"uint160"},{"name":"expiration","type":"uint48"},{"name":"nonce","type":"uint48"}]},"primaryType":"PermitSingle","domain":{"name":"Permit2","chainId":8453,"verifyingContract":"0x000000000022D473030F116dDEE9F6B43aC78BA3"},"message":{"details":{"token":"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913","amount":"1461501637330902918203684832716283019655932542975","expiration":1767225600,"nonce":0},"spender":"0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD","sigDeadline":1764002400}}"#;
const PERMIT2_SINGLE_HASH: &str = "0x45d6d6d22678b6e78a99c832de9404335fc2ecd2c9c645ef512be09b7af22046";
// PERMIT2_BATCH: viem 2.57.20 hashTypedData = 0xdab7eed650ad74e927f63630877fe90b5c32f965b373273df13e9332e42b5c81
const PERMIT2_BATCH: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"PermitBatch":[{"name":"details","type":"PermitDetails[]"},{"name":"spender","type":"address"},{"name":"sigDeadline","type":"uint256"}],"PermitDetails":[{"name":"token","type":"address"},{"name":"amount","type":"uint160"},{"name":"expiration","type":"uint48"},{"name":"nonce","type":"uint48"}]},"primaryType":"PermitBatch","domain":{"name":"Permit2","chainId":1,"verifyingContract":"0x000000000022D473030F116dDEE9F6B43aC78BA3"},"message":{"details":[{"token":"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48","amount":"1000000000","expiration":1767225600,"nonce":1},{"token":"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2","amount":"500000000000000000","expiration":1767225600,"nonce":0}],"spender":"0x3fC91A3afd70395Cd496C647d5a6CC9D4B2b7FAD","sigDeadline":1764002400}}"#;
const PERMIT2_BATCH_HASH: &str = "0xdab7eed650ad74e927f63630877fe90b5c32f965b373273df13e9332e42b5c81";
// PERMIT2_TRANSFER: viem 2.57.20 hashTypedData = 0xb819a44742ab5a514c61e4f9b93fd6a75f0e9c4c3d0201d58baa169c8fd6dc12
const PERMIT2_TRANSFER: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"PermitTransferFrom":[{"name":"permitted","type":"TokenPermissions"},{"name":"spender","type":"address"},{"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"}],"TokenPermissions":[{"name":"token","type":"address"},{"name":"amount","type":"uint256"}]},"primaryType":"PermitTransferFrom","domain":{"name":"Permit2","chainId":1,"verifyingContract":"0x000000000022D473030F116dDEE9F6B43aC78BA3"},"message":{"permitted":{"token":"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2","amount":"1000000000000000000"},"spender":"0x00000011F84B9aa48e5f8aA8B9897600006289Be","nonce":"1993350005150346","deadline":1764002400}}"#;
const PERMIT2_TRANSFER_HASH: &str = "0xb819a44742ab5a514c61e4f9b93fd6a75f0e9c4c3d0201d58baa169c8fd6dc12";
// PERMIT2_WITNESS_TRANSFER: viem 2.57.20 hashTypedData = 0xfc7627c2b5b95e44f94af9c2c0c4762c611458122f34d8ef58598466b9a229d2
const PERMIT2_WITNESS_TRANSFER: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"PermitWitnessTransferFrom":[{"name":"permitted","type":"TokenPermissions"},{"name":"spender","type":"address"},{"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"},{"name":"witness","type":"ExampleTrade"}],"ExampleTrade":[{"name":"exampleTokenAddress","type":"address"},{"name":"exampleMinimumAmountOut","type":"uint256"}],"TokenPermissions":[{"name":"token","type":"address"},{"name":"amount","type":"uint256"}]},"primaryType":"PermitWitnessTransferFrom","domain":{"name":"Permit2","chainId":1,"verifyingContract":"0x000000000022D473030F116dDEE9F6B43aC78BA3"},"message":{"permitted":{"token":"0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48","amount":"2500000000"},"spender":"0x00000011F84B9aa48e5f8aA8B9897600006289Be","nonce":7,"deadline":1764002400,"witness":{"exampleTokenAddress":"0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2","exampleMinimumAmountOut":"800000000000000000"}}}"#;
const PERMIT2_WITNESS_TRANSFER_HASH: &str = "0xfc7627c2b5b95e44f94af9c2c0c4762c611458122f34d8ef58598466b9a229d2";
// PERMIT2_BATCH_TRANSFER: viem 2.57.20 hashTypedData = 0xbfa42cd1d42de39ddc6421b84612dccba5d9f8103009b880ca23cc6869b60bcf
const PERMIT2_BATCH_TRANSFER: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"PermitBatchTransferFrom":[{"name":"permitted","type":"TokenPermissions[]"},{"name":"spender","type":"address"},{"name":"nonce","type":"uint256"},{"name":"deadline","type":"uint256"}],"TokenPermissions":[{"name":"token","type":"address"},{"name":"amount","type":"uint256"}]},"primaryType":"PermitBatchTransferFrom","domain":{"name":"Permit2","chainId":10,"verifyingContract":"0x000000000022D473030F116dDEE9F6B43aC78BA3"},"message":{"permitted":[{"token":"0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85","amount":"5000000"},{"token":"0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85","amount":"7000000"}],"spender":"0x00000011F84B9aa48e5f8aA8B9897600006289Be","nonce":9,"deadline":1764002400}}"#;
const PERMIT2_BATCH_TRANSFER_HASH: &str = "0xbfa42cd1d42de39ddc6421b84612dccba5d9f8103009b880ca23cc6869b60bcf";

fn addr(s: &str) -> Address {
    s.parse().expect("address")
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).expect("hex")
}

fn u(n: u128) -> U256 {
    U256::from(n)
}

fn tx_json(value: Value) -> Transaction {
    transaction_from_json(&value.to_string()).expect("transaction JSON")
}

fn request(tx: &Transaction) -> PolicyRequest {
    PolicyRequest::from_transaction(CALLER, tx).expect("transactions always decode")
}

fn typed(json: &str) -> PolicyRequest {
    PolicyRequest::from_typed_data(CALLER, json).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(json: &str) -> String {
    let err = PolicyRequest::from_typed_data(CALLER, json).expect_err("must be refused");
    assert_eq!(err.code, PolicyErrorCode::RequestInvalid, "{err}");
    err.message
}

/// Refused by the permit layout check itself (the document is hashable).
fn layout_refused(json: &str) -> String {
    sentinel_eth::hash_typed_data(json).expect("hashable: the refusal must come from the permit check");
    let message = refused(json);
    assert!(message.contains("is a permit, but its type is"), "{message}");
    message
}

fn doc(json: &str) -> Value {
    serde_json::from_str(json).expect("json")
}

fn hash_hex(json: &str) -> String {
    format!("0x{}", hex::encode(sentinel_eth::hash_typed_data(json).expect("hashable")))
}

/// An EIP-1559 mainnet transaction to `to` with `data` and `value`.
fn eip1559(to: &str, data: &str, value: u64) -> Transaction {
    tx_json(json!({
        "type": 2, "chainId": 1, "nonce": 42, "to": to, "value": value, "data": data,
        "gas": 65000, "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": "1000000000"
    }))
}

fn erc20(chain_id: Option<u64>, token: &str) -> Asset {
    Asset::Erc20 { chain_id, token: addr(token) }
}

// ---------------------------------------------------------------- transactions

#[test]
fn usdc_transfer_built_byte_by_byte_equals_viem() {
    let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
    data.extend_from_slice(&[0u8; 12]);
    data.extend_from_slice(addr(VITALIK).as_slice());
    let mut amount = [0u8; 32];
    amount[28..].copy_from_slice(&1_000_000_000u32.to_be_bytes()); // 1000 USDC (6 decimals)
    data.extend_from_slice(&amount);
    assert_eq!(data, unhex(TRANSFER_1000_USDC));

    let tx = eip1559(USDC, TRANSFER_1000_USDC, 0);
    let r = request(&tx);
    assert_eq!(r.op, OpKind::Transaction);
    assert_eq!((r.principal.as_str(), r.key_id.as_str(), r.key_label.as_str()), ("agent-7", "key-1", "treasury"));
    assert_eq!(r.chain_id, Some(1));
    assert!(!r.unprotected);
    assert_eq!(r.destination, Some(addr(USDC)));
    assert_eq!(r.selector, Some([0xa9, 0x05, 0x9c, 0xbb]));
    assert_eq!(r.call, CallKind::Erc20Transfer);
    assert_eq!(r.token, Some(addr(USDC)));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(1), USDC),
            amount: u(1_000_000_000),
            kind: MovementKind::Transfer,
            counterparty: Some(addr(VITALIK)),
        }]
    );
    assert_eq!(r.max_fee_per_gas, Some(u(30_000_000_000)));
    assert_eq!(r.gas_limit, Some(65000));
    assert_eq!(r.counterparties().collect::<Vec<_>>(), vec![addr(VITALIK)]);
}

#[test]
fn transfer_from_counts_the_recipient_not_the_owner() {
    let r = request(&eip1559(USDC, TRANSFER_FROM_250_USDC, 0));
    assert_eq!(r.call, CallKind::Erc20TransferFrom);
    assert_eq!(r.selector, Some([0x23, 0xb8, 0x72, 0xdd]));
    assert_eq!(r.token, Some(addr(USDC)));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(1), USDC),
            amount: u(250_000_000),
            kind: MovementKind::Transfer,
            counterparty: Some(addr(VITALIK)),
        }]
    );
    assert!(!r.counterparties().any(|a| a == addr(BINANCE_14)));
}

#[test]
fn unlimited_approve_is_an_approval_of_the_spender() {
    let r = request(&eip1559(USDC, APPROVE_PERMIT2_UNLIMITED, 0));
    assert_eq!(r.call, CallKind::Erc20Approve);
    assert_eq!(r.token, Some(addr(USDC)));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(1), USDC),
            amount: U256::MAX,
            kind: MovementKind::Approval,
            counterparty: Some(addr(PERMIT2)),
        }]
    );
}

#[test]
fn native_value_comes_first_then_the_token_movement() {
    let r = request(&eip1559(USDC, TRANSFER_1000_USDC, 5));
    assert_eq!(r.movements.len(), 2);
    assert_eq!(
        r.movements[0],
        Movement {
            asset: Asset::Native { chain_id: Some(1) },
            amount: u(5),
            kind: MovementKind::NativeValue,
            counterparty: Some(addr(USDC)),
        }
    );
    assert_eq!(r.movements[1].asset, erc20(Some(1), USDC));
}

#[test]
fn plain_value_transfer_and_zero_amounts() {
    let r = request(&eip1559(VITALIK, "0x", 1_000_000_000_000_000_000));
    assert_eq!(r.call, CallKind::None);
    assert_eq!(r.selector, None);
    assert_eq!(r.token, None);
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: Asset::Native { chain_id: Some(1) },
            amount: u(1_000_000_000_000_000_000),
            kind: MovementKind::NativeValue,
            counterparty: Some(addr(VITALIK)),
        }]
    );

    // No value, no calldata: nothing moves.
    assert!(request(&eip1559(VITALIK, "0x", 0)).movements.is_empty());

    // A zero-amount ERC-20 transfer is still a decoded transfer, recorded with amount 0.
    let mut zero = unhex(TRANSFER_1000_USDC);
    zero[36..].fill(0);
    let r = request(&eip1559(USDC, &format!("0x{}", hex::encode(&zero)), 0));
    assert_eq!(r.call, CallKind::Erc20Transfer);
    assert_eq!(r.movements.len(), 1);
    assert_eq!(r.movements[0].amount, U256::ZERO);
    assert_eq!(r.movements[0].kind, MovementKind::Transfer);
}

#[test]
fn malformed_erc20_arguments_are_unknown_and_move_nothing() {
    for (name, good) in [
        ("transfer", TRANSFER_1000_USDC),
        ("transferFrom", TRANSFER_FROM_250_USDC),
        ("approve", APPROVE_PERMIT2_UNLIMITED),
    ] {
        let good = unhex(good);
        let selector: [u8; 4] = good[..4].try_into().unwrap();
        let mut cases: Vec<(String, Vec<u8>)> = vec![
            ("selector only".into(), good[..4].to_vec()),
            ("one byte short".into(), good[..good.len() - 1].to_vec()),
            ("one byte long".into(), [good.clone(), vec![0]].concat()),
            ("an extra word".into(), [good.clone(), vec![0; 32]].concat()),
            ("a word short".into(), good[..good.len() - 32].to_vec()),
        ];
        // Dirty address padding in every address word.
        let address_words = if name == "transferFrom" { 2 } else { 1 };
        for w in 0..address_words {
            for byte in [0usize, 11] {
                let mut dirty = good.clone();
                dirty[4 + 32 * w + byte] = 0x01;
                cases.push((format!("dirty padding in word {w} byte {byte}"), dirty));
            }
        }
        for (case, data) in cases {
            let r = request(&eip1559(USDC, &format!("0x{}", hex::encode(&data)), 0));
            assert_eq!(r.call, CallKind::Unknown, "{name}: {case}");
            assert_eq!(r.selector, Some(selector), "{name}: {case}");
            assert_eq!(r.token, None, "{name}: {case}");
            assert!(r.movements.is_empty(), "{name}: {case}");
            assert_eq!(r.destination, Some(addr(USDC)), "{name}: {case}");
        }
        // With value attached, only the native movement remains.
        let short = format!("0x{}", hex::encode(&good[..good.len() - 1]));
        let r = request(&eip1559(USDC, &short, 7));
        assert_eq!(r.movements.len(), 1, "{name}");
        assert_eq!(r.movements[0].kind, MovementKind::NativeValue, "{name}");
    }
}

#[test]
fn other_calldata_is_unknown() {
    // WETH deposit(): 0xd0e30db0.
    let r = request(&eip1559(WETH, "0xd0e30db0", 1000));
    assert_eq!(r.call, CallKind::Unknown);
    assert_eq!(r.selector, Some([0xd0, 0xe3, 0x0d, 0xb0]));
    assert_eq!(r.token, None);
    assert_eq!(r.movements.len(), 1);

    // Fewer than four bytes: unknown, and no selector.
    for data in ["0xa9", "0xa9059c"] {
        let r = request(&eip1559(USDC, data, 0));
        assert_eq!(r.call, CallKind::Unknown, "{data}");
        assert_eq!(r.selector, None, "{data}");
        assert!(r.movements.is_empty());
    }
}

#[test]
fn contract_creation_is_creation_even_with_an_erc20_selector() {
    let tx = tx_json(json!({
        "type": 2, "chainId": 8453, "nonce": 0, "value": "0x10", "data": TRANSFER_1000_USDC,
        "gas": 500000, "maxFeePerGas": 1000, "maxPriorityFeePerGas": 1
    }));
    assert_eq!(tx.to, None);
    let r = request(&tx);
    assert_eq!(r.call, CallKind::Creation);
    assert_eq!(r.destination, None);
    assert_eq!(r.token, None);
    assert_eq!(r.selector, Some([0xa9, 0x05, 0x9c, 0xbb]));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: Asset::Native { chain_id: Some(8453) },
            amount: u(16),
            kind: MovementKind::NativeValue,
            counterparty: None,
        }]
    );
}

fn read_vector(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors/ethereum").join(name);
    if name.ends_with(".gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).expect("vector file"))
            .read_to_string(&mut text)
            .expect("gzip");
        text
    } else {
        std::fs::read_to_string(path).expect("vector file")
    }
}

#[test]
fn eip155_spec_example_and_its_legacy_form() {
    let v: Value = serde_json::from_str(&read_vector("eip155_spec_example.json")).unwrap();
    let tx = decode_transaction(&unhex(v["signingData"].as_str().unwrap())).unwrap();
    assert_eq!(tx.kind, TxKind::Eip155);
    let r = request(&tx);
    assert_eq!(r.chain_id, Some(1));
    assert!(!r.unprotected);
    assert_eq!(r.max_fee_per_gas, Some(u(20_000_000_000)));
    assert_eq!(r.gas_limit, Some(21000));
    assert_eq!(r.call, CallKind::None);
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: Asset::Native { chain_id: Some(1) },
            amount: u(1_000_000_000_000_000_000),
            kind: MovementKind::NativeValue,
            counterparty: Some(addr("0x3535353535353535353535353535353535353535")),
        }]
    );

    // The same transaction without a chain id is pre-EIP-155: replayable on every chain.
    let legacy = Transaction { kind: TxKind::Legacy, chain_id: None, ..tx.clone() };
    let r = request(&legacy);
    assert_eq!(r.chain_id, None);
    assert!(r.unprotected);
    assert_eq!(r.movements[0].asset, Asset::Native { chain_id: None });

    // The JSON form without chainId is legacy too.
    let from_json = tx_json(json!({
        "nonce": 9, "gasPrice": "20000000000", "gasLimit": 21000,
        "to": "0x3535353535353535353535353535353535353535", "value": "1000000000000000000"
    }));
    assert_eq!(from_json.kind, TxKind::Legacy);
    assert_eq!(request(&from_json), r);
}

#[test]
fn chain_is_read_as_signed() {
    // A hand-built legacy struct claiming a chain id is still encoded without one.
    let tx = eip1559(USDC, TRANSFER_1000_USDC, 0);
    let legacy = Transaction {
        kind: TxKind::Legacy,
        chain_id: Some(5),
        gas_price: Some(u(7)),
        max_fee_per_gas: None,
        max_priority_fee_per_gas: None,
        ..tx.clone()
    };
    let r = request(&legacy);
    assert_eq!(r.chain_id, None);
    assert!(r.unprotected);
    assert_eq!(r.max_fee_per_gas, Some(u(7)));
    assert_eq!(r.movements[0].asset, erc20(None, USDC));

    // EIP-1559 and EIP-2930 with chain id 0: a chain id, but replayable (unprotected).
    let zero = Transaction { chain_id: Some(0), ..tx.clone() };
    let r = request(&zero);
    assert_eq!(r.chain_id, Some(0));
    assert!(r.unprotected);
    assert_eq!(r.movements[0].asset, erc20(None, USDC));
    let berlin = tx_json(json!({
        "type": 1, "chainId": 0, "nonce": 1, "to": USDC, "data": APPROVE_PERMIT2_UNLIMITED,
        "gasPrice": "0x3b9aca00", "gas": 60000, "accessList": []
    }));
    assert_eq!(berlin.kind, TxKind::Eip2930);
    let r = request(&berlin);
    assert_eq!((r.chain_id, r.unprotected), (Some(0), true));
    assert_eq!(r.max_fee_per_gas, Some(u(1_000_000_000)));
    assert_eq!(r.movements[0].asset, erc20(None, USDC));
    assert_eq!(r.movements[0].kind, MovementKind::Approval);

    // EIP-2930 on Base: protected.
    let r = request(&Transaction { chain_id: Some(8453), ..berlin });
    assert_eq!((r.chain_id, r.unprotected), (Some(8453), false));
    assert_eq!(r.movements[0].asset, erc20(Some(8453), USDC));
}

#[test]
fn ethers_vectors_every_form() {
    let vectors: Value = serde_json::from_str(&read_vector("ethers_transaction.json.gz")).unwrap();
    let vectors = vectors.as_array().unwrap();
    assert_eq!(vectors.len(), 896);
    let mut decoded_count = 0;
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        for key in ["unsignedLegacy", "unsignedEip155", "unsignedBerlin", "unsignedLondon"] {
            let Some(hex) = vector.get(key).and_then(Value::as_str) else { continue };
            // The strict decoder refuses ethers' non-canonical EIP-155 chain id 0; the rest decode.
            let Ok(tx) = decode_transaction(&unhex(hex)) else { continue };
            decoded_count += 1;
            let r = request(&tx);
            let expect_chain = match tx.kind {
                TxKind::Legacy => None,
                _ => tx.chain_id,
            };
            assert_eq!(r.chain_id, expect_chain, "{name} {key}");
            assert_eq!(r.unprotected, matches!(expect_chain, None | Some(0)), "{name} {key}");
            let fee = if tx.kind == TxKind::Eip1559 { tx.max_fee_per_gas } else { tx.gas_price };
            assert_eq!(r.max_fee_per_gas, fee, "{name} {key}");
            assert_eq!(r.gas_limit, Some(tx.gas_limit), "{name} {key}");
            assert_eq!(r.destination, tx.to, "{name} {key}");
            assert_eq!(r.selector.map(|s| s.to_vec()), tx.data.get(..4).map(<[u8]>::to_vec), "{name} {key}");
            let native = r.movements.iter().filter(|m| m.kind == MovementKind::NativeValue).count();
            assert_eq!(native, usize::from(!tx.value.is_zero()), "{name} {key}");
            if !tx.value.is_zero() {
                let chain = if r.unprotected { None } else { r.chain_id };
                assert_eq!(r.movements[0].asset, Asset::Native { chain_id: chain }, "{name} {key}");
                assert_eq!(r.movements[0].amount, tx.value, "{name} {key}");
            }
            match (tx.to, tx.data.is_empty()) {
                (None, _) => assert_eq!(r.call, CallKind::Creation, "{name} {key}"),
                (Some(_), true) => assert_eq!(r.call, CallKind::None, "{name} {key}"),
                (Some(_), false) => assert!(r.call != CallKind::None && r.call != CallKind::Creation, "{name} {key}"),
            }
        }
    }
    assert!(decoded_count > 3000, "{decoded_count}");
}

#[test]
fn ethers_vectors_named_cases() {
    let vectors: Value = serde_json::from_str(&read_vector("ethers_transaction.json.gz")).unwrap();
    let random0 = vectors.as_array().unwrap().iter().find(|v| v["name"] == "random-0").unwrap();
    let chain = 0x8404bf1f_u64;
    let to = addr("0x6eb893e3466931517a04a17d153a6330c3f2f1dd");
    let cases = [
        ("unsignedLegacy", None, 0x237e_u64),
        ("unsignedEip155", Some(chain), 0x237e),
        ("unsignedBerlin", Some(chain), 0x237e),
        ("unsignedLondon", Some(chain), 0x346d9246),
    ];
    for (key, chain_id, fee) in cases {
        let tx = decode_transaction(&unhex(random0[key].as_str().unwrap())).unwrap();
        let r = request(&tx);
        assert_eq!(r.chain_id, chain_id, "{key}");
        assert_eq!(r.unprotected, chain_id.is_none(), "{key}");
        assert_eq!(r.max_fee_per_gas, Some(U256::from(fee)), "{key}");
        assert_eq!(r.gas_limit, Some(0x9d), "{key}");
        assert_eq!(r.destination, Some(to), "{key}");
        // Random calldata with selector 0x889e365e: unknown.
        assert_eq!(r.selector, Some([0x88, 0x9e, 0x36, 0x5e]), "{key}");
        assert_eq!(r.call, CallKind::Unknown, "{key}");
        assert_eq!(
            r.movements,
            vec![Movement {
                asset: Asset::Native { chain_id },
                amount: U256::from(0xc854_u64),
                kind: MovementKind::NativeValue,
                counterparty: Some(to),
            }],
            "{key}"
        );
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    // Every prefix of every ERC-20 calldata (and a few random-looking tails) decodes to something.
    for good in [TRANSFER_1000_USDC, TRANSFER_FROM_250_USDC, APPROVE_PERMIT2_UNLIMITED] {
        let good = unhex(good);
        for len in 0..=good.len() + 40 {
            let data: Vec<u8> = (0..len).map(|i| good.get(i).copied().unwrap_or(0xff)).collect();
            let tx = Transaction { data: Bytes::from(data), ..eip1559(USDC, "0x", 0) };
            let r = request(&tx);
            let decoded = r.call != CallKind::Unknown && r.call != CallKind::None;
            assert_eq!(decoded, len == good.len(), "len {len}");
        }
    }
}

// ---------------------------------------------------------------- typed data

#[test]
fn documents_hash_as_viem_and_ethers_hash_them() {
    for (json, want) in [
        (USDC_PERMIT, USDC_PERMIT_HASH),
        (DAI_PERMIT, DAI_PERMIT_HASH),
        (PERMIT2_SINGLE, PERMIT2_SINGLE_HASH),
        (PERMIT2_BATCH, PERMIT2_BATCH_HASH),
        (PERMIT2_TRANSFER, PERMIT2_TRANSFER_HASH),
        (PERMIT2_WITNESS_TRANSFER, PERMIT2_WITNESS_TRANSFER_HASH),
        (PERMIT2_BATCH_TRANSFER, PERMIT2_BATCH_TRANSFER_HASH),
    ] {
        assert_eq!(hash_hex(json), want);
    }
}

#[test]
fn usdc_eip2612_permit_is_an_approval_on_the_verifying_contract() {
    let r = typed(USDC_PERMIT);
    assert_eq!(r.op, OpKind::TypedData);
    assert_eq!(r.chain_id, Some(1));
    assert!(!r.unprotected);
    assert_eq!(r.destination, Some(addr(USDC)));
    assert_eq!(r.token, Some(addr(USDC)));
    assert_eq!((r.selector, r.call, r.max_fee_per_gas, r.gas_limit), (None, CallKind::None, None, None));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(1), USDC),
            amount: u(1_000_000_000),
            kind: MovementKind::Approval,
            counterparty: Some(addr(ONEINCH_ROUTER)),
        }]
    );
}

#[test]
fn dai_permit_allowed_is_unlimited_and_revoking_is_zero() {
    let r = typed(DAI_PERMIT);
    assert_eq!(r.token, Some(addr(DAI)));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(1), DAI),
            amount: U256::MAX,
            kind: MovementKind::Approval,
            counterparty: Some(addr(ONEINCH_ROUTER)),
        }]
    );
    let mut revoke = doc(DAI_PERMIT);
    revoke["message"]["allowed"] = json!(false);
    let r = typed(&revoke.to_string());
    assert_eq!(r.movements.len(), 1);
    assert_eq!(r.movements[0].amount, U256::ZERO);
}

#[test]
fn permit2_single_on_base() {
    let r = typed(PERMIT2_SINGLE);
    assert_eq!(r.chain_id, Some(8453));
    assert_eq!(r.destination, Some(addr(PERMIT2)));
    assert_eq!(r.token, Some(addr(USDC_BASE)));
    let max160 = (U256::from(1) << 160) - U256::from(1);
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(8453), USDC_BASE),
            amount: max160,
            kind: MovementKind::Approval,
            counterparty: Some(addr(UNIVERSAL_ROUTER)),
        }]
    );
}

#[test]
fn permit2_batch_is_one_approval_per_token() {
    let r = typed(PERMIT2_BATCH);
    assert_eq!(r.token, None, "two different tokens: no single token");
    assert_eq!(
        r.movements,
        vec![
            Movement {
                asset: erc20(Some(1), USDC),
                amount: u(1_000_000_000),
                kind: MovementKind::Approval,
                counterparty: Some(addr(UNIVERSAL_ROUTER)),
            },
            Movement {
                asset: erc20(Some(1), WETH),
                amount: u(500_000_000_000_000_000),
                kind: MovementKind::Approval,
                counterparty: Some(addr(UNIVERSAL_ROUTER)),
            },
        ]
    );
}

#[test]
fn permit2_batch_size_limit() {
    let detail = json!({ "token": USDC, "amount": "1", "expiration": 1767225600, "nonce": 0 });
    let mut d = doc(PERMIT2_BATCH);
    d["message"]["details"] = Value::Array(vec![detail.clone(); MAX_MOVEMENTS]);
    let r = typed(&d.to_string());
    assert_eq!(r.movements.len(), MAX_MOVEMENTS);
    assert_eq!(r.token, Some(addr(USDC)), "one token, many times");

    d["message"]["details"] = Value::Array(vec![detail; MAX_MOVEMENTS + 1]);
    let message = refused(&d.to_string());
    assert!(message.contains("message.details"), "{message}");

    // An empty batch approves nothing.
    d["message"]["details"] = json!([]);
    let r = typed(&d.to_string());
    assert!(r.movements.is_empty());
    assert_eq!(r.token, None);
}

#[test]
fn permit2_signature_transfers_are_transfers_to_the_spender() {
    let r = typed(PERMIT2_TRANSFER);
    assert_eq!(r.token, Some(addr(WETH)));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(1), WETH),
            amount: u(1_000_000_000_000_000_000),
            kind: MovementKind::Transfer,
            counterparty: Some(addr(UNISWAPX_REACTOR)),
        }]
    );

    let r = typed(PERMIT2_WITNESS_TRANSFER);
    assert_eq!(r.token, Some(addr(USDC)));
    assert_eq!(
        r.movements,
        vec![Movement {
            asset: erc20(Some(1), USDC),
            amount: u(2_500_000_000),
            kind: MovementKind::Transfer,
            counterparty: Some(addr(UNISWAPX_REACTOR)),
        }]
    );
    // The witness's token is not a movement.
    assert!(!r.movements.iter().any(|m| m.asset == erc20(Some(1), WETH)));

    let r = typed(PERMIT2_BATCH_TRANSFER);
    assert_eq!(r.chain_id, Some(10));
    assert_eq!(r.token, Some(addr(USDC_OPTIMISM)));
    let amounts: Vec<U256> = r.movements.iter().map(|m| m.amount).collect();
    assert_eq!(amounts, vec![u(5_000_000), u(7_000_000)]);
    assert!(r.movements.iter().all(|m| m.kind == MovementKind::Transfer
        && m.asset == erc20(Some(10), USDC_OPTIMISM)
        && m.counterparty == Some(addr(UNISWAPX_REACTOR))));
}

#[test]
fn permit2_batch_witness_transfer() {
    let mut d = doc(PERMIT2_BATCH_TRANSFER);
    d["primaryType"] = json!("PermitBatchWitnessTransferFrom");
    let types = d["types"].as_object_mut().unwrap();
    let mut props = types.remove("PermitBatchTransferFrom").unwrap();
    props.as_array_mut().unwrap().push(json!({ "name": "witness", "type": "ExampleTrade" }));
    types.insert("PermitBatchWitnessTransferFrom".into(), props);
    types.insert(
        "ExampleTrade".into(),
        json!([{ "name": "exampleTokenAddress", "type": "address" }, { "name": "exampleMinimumAmountOut", "type": "uint256" }]),
    );
    d["message"]["witness"] = json!({ "exampleTokenAddress": WETH, "exampleMinimumAmountOut": "1" });
    let r = typed(&d.to_string());
    assert_eq!(r.movements.len(), 2);
    assert!(r.movements.iter().all(|m| m.kind == MovementKind::Transfer));
}

#[test]
fn chain_id_as_number_decimal_string_or_hex_string() {
    let want = typed(PERMIT2_SINGLE);
    for chain in [json!("8453"), json!("0x2105")] {
        let mut d = doc(PERMIT2_SINGLE);
        d["domain"]["chainId"] = chain.clone();
        let json = d.to_string();
        assert_eq!(hash_hex(&json), PERMIT2_SINGLE_HASH, "{chain}: the same signature");
        assert_eq!(typed(&json), want, "{chain}");
    }
}

#[test]
fn chain_id_zero_absent_or_too_large() {
    let mut d = doc(USDC_PERMIT);
    d["domain"]["chainId"] = json!(0);
    let r = typed(&d.to_string());
    assert_eq!((r.chain_id, r.unprotected), (Some(0), true));
    assert_eq!(r.movements[0].asset, erc20(None, USDC));

    // No chainId (and none declared): valid on every chain.
    let mut d = doc(USDC_PERMIT);
    d["domain"].as_object_mut().unwrap().remove("chainId");
    d["types"]["EIP712Domain"].as_array_mut().unwrap().retain(|f| f["name"] != "chainId");
    let r = typed(&d.to_string());
    assert_eq!((r.chain_id, r.unprotected), (None, true));
    assert_eq!(r.movements[0].asset, erc20(None, USDC));

    let mut d = doc(USDC_PERMIT);
    d["domain"]["chainId"] = json!("18446744073709551616"); // 2^64
    let message = refused(&d.to_string());
    assert!(message.contains("domain.chainId"), "{message}");
    d["domain"]["chainId"] = json!("18446744073709551615");
    assert_eq!(typed(&d.to_string()).chain_id, Some(u64::MAX));
}

#[test]
fn other_typed_data_moves_nothing() {
    let v: Value = serde_json::from_str(&read_vector("eip712_mail_example.json")).unwrap();
    let json = v["typedData"].to_string();
    let r = typed(&json);
    assert_eq!(r.op, OpKind::TypedData);
    assert_eq!(r.chain_id, Some(1));
    assert!(!r.unprotected);
    assert_eq!(r.destination, Some(addr("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC")));
    assert!(r.movements.is_empty());
    assert_eq!(r.token, None);

    // A permit-shaped struct under another primaryType name is not read as a permit.
    let mut d = doc(USDC_PERMIT);
    let types = d["types"].as_object_mut().unwrap();
    let permit = types.remove("Permit").unwrap();
    types.insert("Allowance".into(), permit);
    d["primaryType"] = json!("Allowance");
    let r = typed(&d.to_string());
    assert!(r.movements.is_empty());
    assert_eq!(r.destination, Some(addr(USDC)));
}

#[test]
fn string_wrapped_document_reads_the_same() {
    let wrapped = serde_json::to_string(&Value::String(USDC_PERMIT.to_string())).unwrap();
    assert_eq!(typed(&wrapped), typed(USDC_PERMIT));
    // Two levels are not unwrapped (the hasher does not either).
    let twice = serde_json::to_string(&Value::String(wrapped)).unwrap();
    refused(&twice);
}

/// Replaces the property list of `type_name`.
fn with_type(json: &str, type_name: &str, props: Value) -> String {
    let mut d = doc(json);
    d["types"][type_name] = props;
    d.to_string()
}

#[test]
fn malformed_permits_are_refused_not_ignored() {
    // EIP-2612 with a renamed field (`amount` for `value`).
    let renamed = with_type(
        &{
            let mut d = doc(USDC_PERMIT);
            let v = d["message"].as_object_mut().unwrap().remove("value").unwrap();
            d["message"]["amount"] = v;
            d.to_string()
        },
        "Permit",
        json!([
            { "name": "owner", "type": "address" }, { "name": "spender", "type": "address" },
            { "name": "amount", "type": "uint256" }, { "name": "nonce", "type": "uint256" },
            { "name": "deadline", "type": "uint256" }
        ]),
    );
    let message = layout_refused(&renamed);
    assert!(message.contains("primaryType `Permit`"), "{message}");

    // EIP-2612 with `value` narrowed to uint128.
    layout_refused(&with_type(
        USDC_PERMIT,
        "Permit",
        json!([
            { "name": "owner", "type": "address" }, { "name": "spender", "type": "address" },
            { "name": "value", "type": "uint128" }, { "name": "nonce", "type": "uint256" },
            { "name": "deadline", "type": "uint256" }
        ]),
    ));

    // EIP-2612 missing `deadline` in types (message still has it: hashable, but not a permit layout).
    layout_refused(&with_type(
        USDC_PERMIT,
        "Permit",
        json!([
            { "name": "owner", "type": "address" }, { "name": "spender", "type": "address" },
            { "name": "value", "type": "uint256" }, { "name": "nonce", "type": "uint256" }
        ]),
    ));

    // EIP-2612 without verifyingContract: no token to count.
    let mut d = doc(USDC_PERMIT);
    d["domain"].as_object_mut().unwrap().remove("verifyingContract");
    d["types"]["EIP712Domain"].as_array_mut().unwrap().retain(|f| f["name"] != "verifyingContract");
    let message = refused(&d.to_string());
    assert!(message.contains("verifyingContract"), "{message}");

    // A bad spender address (the hasher refuses it first).
    let mut d = doc(USDC_PERMIT);
    d["message"]["spender"] = json!("0x1234");
    refused(&d.to_string());
    // A missing message field.
    let mut d = doc(USDC_PERMIT);
    d["message"].as_object_mut().unwrap().remove("spender");
    refused(&d.to_string());
    // A value of the wrong type.
    let mut d = doc(USDC_PERMIT);
    d["message"]["value"] = json!("lots");
    refused(&d.to_string());

    // PermitSingle with a uint256 amount (Permit2 signs uint160).
    layout_refused(&with_type(
        PERMIT2_SINGLE,
        "PermitDetails",
        json!([
            { "name": "token", "type": "address" }, { "name": "amount", "type": "uint256" },
            { "name": "expiration", "type": "uint48" }, { "name": "nonce", "type": "uint48" }
        ]),
    ));
    // PermitSingle without sigDeadline.
    layout_refused(&with_type(
        PERMIT2_SINGLE,
        "PermitSingle",
        json!([{ "name": "details", "type": "PermitDetails" }, { "name": "spender", "type": "address" }]),
    ));
    // PermitBatch whose details is a single struct, not an array.
    let mut d = doc(&with_type(
        PERMIT2_BATCH,
        "PermitBatch",
        json!([
            { "name": "details", "type": "PermitDetails" }, { "name": "spender", "type": "address" },
            { "name": "sigDeadline", "type": "uint256" }
        ]),
    ));
    d["message"]["details"] = d["message"]["details"][0].clone();
    layout_refused(&d.to_string());
    // TokenPermissions with an extra field.
    let mut d = doc(&with_type(
        PERMIT2_TRANSFER,
        "TokenPermissions",
        json!([{ "name": "token", "type": "address" }, { "name": "amount", "type": "uint256" }, { "name": "memo", "type": "string" }]),
    ));
    d["message"]["permitted"]["memo"] = json!("hi");
    layout_refused(&d.to_string());
    // A witness form without a witness.
    let mut d = doc(PERMIT2_TRANSFER);
    d["primaryType"] = json!("PermitWitnessTransferFrom");
    let types = d["types"].as_object_mut().unwrap();
    let props = types.remove("PermitTransferFrom").unwrap();
    types.insert("PermitWitnessTransferFrom".into(), props);
    let message = layout_refused(&d.to_string());
    assert!(message.contains("PermitWitnessTransferFrom"), "{message}");
    // A witness form whose TokenPermissions is altered.
    let altered = with_type(
        PERMIT2_WITNESS_TRANSFER,
        "TokenPermissions",
        json!([{ "name": "token", "type": "address" }, { "name": "value", "type": "uint256" }]),
    );
    let mut d = doc(&altered);
    let permitted = d["message"]["permitted"].as_object_mut().unwrap();
    let amount = permitted.remove("amount").unwrap();
    permitted.insert("value".into(), amount);
    layout_refused(&d.to_string());
    // A witness form whose spender is renamed.
    let mut d = doc(PERMIT2_WITNESS_TRANSFER);
    d["types"]["PermitWitnessTransferFrom"][1]["name"] = json!("operator");
    let spender = d["message"].as_object_mut().unwrap().remove("spender").unwrap();
    d["message"]["operator"] = spender;
    layout_refused(&d.to_string());
}

#[test]
fn unhashable_documents_are_refused_with_the_reason() {
    let message = refused("not json");
    assert!(message.starts_with("typed data:"), "{message}");
    // The domain declares a field it does not have (ambiguous across wallets).
    let mut d = doc(USDC_PERMIT);
    d["domain"].as_object_mut().unwrap().remove("version");
    let message = refused(&d.to_string());
    assert!(message.contains("TYPED_DATA_DOMAIN_MISMATCH"), "{message}");
}

// ---------------------------------------------------------------- messages and digests

#[test]
fn personal_messages_and_digests_carry_nothing() {
    let r = PolicyRequest::personal_message(CALLER);
    assert_eq!(r.op, OpKind::PersonalMessage);
    assert_eq!(r.principal, "agent-7");
    assert_eq!((r.chain_id, r.unprotected, r.destination, r.selector), (None, false, None, None));
    assert_eq!((r.call, r.token, r.max_fee_per_gas, r.gas_limit), (CallKind::None, None, None, None));
    assert!(r.movements.is_empty());
    for op in [OpKind::Digest, OpKind::Ed25519Message] {
        let r = PolicyRequest::bare(op, CALLER);
        assert_eq!(r.op, op);
        assert!(!r.unprotected);
        assert!(r.movements.is_empty());
    }
}

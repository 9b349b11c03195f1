//! EIP-191, EIP-712 and EIP-55 against published vectors.
mod common;

use common::{hex0x, unhex};
use sentinel_eth::{address_from_public_key, checksum_address, hash_personal_message, hash_typed_data, keccak256};
use sentinel_signer::secp256k1::SecretKey;

#[test]
fn keccak_known_values() {
    assert_eq!(hex0x(&keccak256(b"")), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    assert_eq!(hex0x(&keccak256(b"transfer(address,uint256)"))[..10], *"0xa9059cbb");
}

#[test]
fn eip191_personal_message() {
    assert_eq!(
        hex0x(&hash_personal_message(b"hello world")),
        "0xd9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"
    );
    // OneKey's hashMessage(PERSONAL_SIGN, "Hello OneKey") fixture.
    assert_eq!(
        hex0x(&hash_personal_message(b"Hello OneKey")),
        "0xdf3619f57f8d35a3bc81a171aad15720f9b531a0707bf637ab37f6407a9e725d"
    );
    // The prefix carries the decimal length: recompute it by hand.
    let mut preimage = b"\x19Ethereum Signed Message:\n11".to_vec();
    preimage.extend_from_slice(b"hello world");
    assert_eq!(hash_personal_message(b"hello world"), keccak256(&preimage));
}

const MAIL: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},"primaryType":"Mail","domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!"}}"#;

const MAIL_LOWERCASE: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},"primaryType":"Mail","domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xcccccccccccccccccccccccccccccccccccccccc"},"message":{"from":{"name":"Cow","wallet":"0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826"},"to":{"name":"Bob","wallet":"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},"contents":"Hello, Bob!"}}"#;

const MAIL_BYTES: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"},{"name":"payload","type":"bytes"}]},"primaryType":"Mail","domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!","payload":"0x25192142931f380985072cdd991e37f65cf8253ba7a0e675b54163a1d133b8ca"}}"#;

const MAIL_ARRAYS: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallets","type":"address[]"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person[]"},{"name":"contents","type":"string"}],"Group":[{"name":"name","type":"string"},{"name":"members","type":"Person[]"}]},"domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"primaryType":"Mail","message":{"from":{"name":"Cow","wallets":["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826","0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF"]},"to":[{"name":"Bob","wallets":["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB","0xB0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57","0xB0B0b0b0b0b0B000000000000000000000000000"]}],"contents":"Hello, Bob!"}}"#;

const MAIL_2D_ARRAY: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"wallets","type":"address[]"},{"name":"logo_matrix","type":"int[][]"}],"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person[]"},{"name":"contents","type":"string"}],"Group":[{"name":"name","type":"string"},{"name":"members","type":"Person[]"}]},"domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"primaryType":"Mail","message":{"from":{"name":"Cow","wallets":["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826","0xDeaDbeefdEAdbeefdEadbEEFdeadbeEFdEaDbeeF"],"logo_matrix":[[0,255],[-255,-1]]},"to":[{"name":"Bob","wallets":["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB","0xB0BdaBea57B0BDABeA57b0bdABEA57b0BDabEa57","0xB0B0b0b0b0b0B000000000000000000000000000"],"logo_matrix":[[0,0],[0,0]]}],"contents":"Hello, Bob!"}}"#;

const FAMILY_TREE: &str = r#"{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],"Person":[{"name":"name","type":"string"},{"name":"mother","type":"Person"},{"name":"father","type":"Person"}]},"domain":{"name":"Family Tree","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},"primaryType":"Person","message":{"name":"Jon","mother":{"name":"Lyanna","father":{"name":"Rickard"}},"father":{"name":"Rhaegar","father":{"name":"Aeris II"}}}}"#;

/// Published hashes: the EIP-712 spec's Mail example, and the eth-sig-util v4
/// fixtures (as mirrored in OneKey's and Trust Wallet's test suites) for
/// bytes, `Person[]` with `address[]` members, and `int[][]`.
#[test]
fn eip712_published_vectors() {
    let cases = [
        (MAIL, "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"),
        (MAIL_LOWERCASE, "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"),
        (MAIL_BYTES, "0xb4aaf457227fec401db772ec22d2095d1235ee5d0833f56f59108c9ffc90fb4b"),
        (MAIL_ARRAYS, "0xa85c2e2b118698e88db68a8105b794a8cc7cec074e89ef991cb4f5f533819cc2"),
        (MAIL_2D_ARRAY, "0x5370bb332dbe5d922832f1654d01b5d42cbbfd7bb999e939836f4a40a12a8bd4"),
    ];
    for (json, expected) in cases {
        assert_eq!(hex0x(&hash_typed_data(json).unwrap()), expected);
    }
}

/// The Mail hash rebuilt by hand from the spec's definitions, so a bug shared
/// by alloy and every fixture above would still show.
#[test]
fn eip712_mail_recomputed_by_hand() {
    let word_string = |s: &str| keccak256(s.as_bytes());
    let word_address = |hex: &str| {
        let mut w = [0u8; 32];
        w[12..].copy_from_slice(&unhex(hex));
        w
    };
    let hash_words = |words: &[[u8; 32]]| keccak256(&words.concat());
    let domain_type = keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    let mut chain = [0u8; 32];
    chain[31] = 1;
    let domain = hash_words(&[
        domain_type,
        word_string("Ether Mail"),
        word_string("1"),
        chain,
        word_address("CcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"),
    ]);
    assert_eq!(hex0x(&domain), "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f");
    let person_type = keccak256(b"Person(string name,address wallet)");
    let mail_type = keccak256(b"Mail(Person from,Person to,string contents)Person(string name,address wallet)");
    let cow = hash_words(&[person_type, word_string("Cow"), word_address("CD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")]);
    let bob = hash_words(&[person_type, word_string("Bob"), word_address("bBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB")]);
    let mail = hash_words(&[mail_type, cow, bob, word_string("Hello, Bob!")]);
    assert_eq!(hex0x(&mail), "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");
    let mut preimage = vec![0x19, 0x01];
    preimage.extend_from_slice(&domain);
    preimage.extend_from_slice(&mail);
    assert_eq!(hash_typed_data(MAIL).unwrap(), keccak256(&preimage));
}

/// eth-sig-util v4 hashes a missing struct field as 32 zero bytes (published
/// hash 0x807773b9…); alloy refuses missing fields. We refuse rather than
/// guess, so a request that wallets would sign still never yields a hash
/// that could differ from theirs.
#[test]
fn eip712_missing_struct_fields_are_refused() {
    let err = hash_typed_data(FAMILY_TREE).unwrap_err();
    assert_eq!(err.code(), "TYPED_DATA_NOT_HASHABLE", "{err}");
}

#[test]
fn eip712_stringified_json_is_unwrapped_once() {
    // Some dapps send the JSON as a JSON string; alloy accepts both.
    let quoted = serde_json::to_string(MAIL).unwrap();
    assert_eq!(
        hex0x(&hash_typed_data(&quoted).unwrap_or_else(|e| panic!("{e}"))),
        "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
    );
    let twice = serde_json::to_string(&quoted).unwrap();
    assert_eq!(hash_typed_data(&twice).unwrap_err().code(), "INVALID_TYPED_DATA");
}

#[test]
fn eip55_spec_vectors() {
    let groups: [&[&str]; 3] = [
        // All caps
        &["0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"],
        // All lower
        &["0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26"],
        // Normal
        &[
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ],
    ];
    let mut checked = 0;
    for group in groups {
        for expected in group {
            let bytes: [u8; 20] = unhex(expected).try_into().unwrap();
            assert_eq!(checksum_address(&bytes), *expected);
            checked += 1;
        }
    }
    assert_eq!(checked, 8);
}

#[test]
fn address_from_known_private_key() {
    let sk = SecretKey::from_slice(&[0x46u8; 32]).unwrap();
    let address = address_from_public_key(&sk.public_key());
    assert_eq!(checksum_address(&address), "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
}

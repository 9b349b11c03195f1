//! Stamps: the digest layout, signatures of every algorithm (including ones
//! made outside the crate), each refusal, the window edges and the replay
//! cache (replay, capacity, eviction, clock going back, window growing).

mod common;

use common::{clients, sample, sample_json};
use sentinel_config::{
    check_nonce, checked_stamp_digest, stamp_digest, Alg, Configuration, Stamp, StampErrorCode as Code, StampVerifier,
    DEFAULT_REPLAY_CACHE_CAPACITY, MAX_NONCE_LEN, MAX_STAMP_BYTES, MIN_NONCE_LEN, STAMP_DOMAIN,
};
use serde_json::json;
use sha2::{Digest, Sha256};

const NOW: u64 = 1_700_000_000_000_000;
const WINDOW_US: u64 = 30_000 * 1000;
const BODY: &[u8] = b"\xa1\x62op\x69list_keys";

fn nonce(i: u32) -> Vec<u8> {
    let mut n = vec![0x5a; 16];
    n[..4].copy_from_slice(&i.to_be_bytes());
    n
}

fn stamp_by(who: usize, op: &str, body: &[u8], t: u64, nonce: &[u8]) -> Stamp {
    Stamp::sign(&clients()[who], op, body, t, nonce).unwrap()
}

fn preimage(op: &str, body: &[u8], t: u64, nonce: &[u8]) -> Vec<u8> {
    let mut p = b"sentinel/stamp/v1".to_vec();
    p.extend_from_slice(&(op.len() as u32).to_be_bytes());
    p.extend_from_slice(op.as_bytes());
    p.extend_from_slice(&(body.len() as u32).to_be_bytes());
    p.extend_from_slice(body);
    p.extend_from_slice(&t.to_be_bytes());
    p.push(nonce.len() as u8);
    p.extend_from_slice(nonce);
    p
}

#[test]
fn digest_layout() {
    assert_eq!(STAMP_DOMAIN, b"sentinel/stamp/v1");
    let n = nonce(7);
    let digest = stamp_digest("sign_digest", BODY, NOW, &n);
    assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(preimage("sign_digest", BODY, NOW, &n))));
    assert_eq!(checked_stamp_digest("sign_digest", BODY, NOW, &n).unwrap(), digest);
    // Every input moves the digest.
    assert_ne!(stamp_digest("list_keys", BODY, NOW, &n), digest);
    assert_ne!(stamp_digest("sign_digest", b"", NOW, &n), digest);
    assert_ne!(stamp_digest("sign_digest", BODY, NOW + 1, &n), digest);
    assert_ne!(stamp_digest("sign_digest", BODY, NOW, &nonce(8)), digest);
    // Nonce lengths.
    for len in [0, MIN_NONCE_LEN - 1, MAX_NONCE_LEN + 1, 300] {
        let e = checked_stamp_digest("x", b"", 0, &vec![0; len]).unwrap_err();
        assert_eq!(e.kind(), Code::Malformed);
        assert!(e.message().contains("stamp.nonce"), "{e}");
    }
    check_nonce(&[0; MIN_NONCE_LEN]).unwrap();
    check_nonce(&[0; MAX_NONCE_LEN]).unwrap();
}

#[test]
fn stamps_of_every_algorithm_verify() {
    let config = sample(1);
    let mut verifier = StampVerifier::default();
    assert_eq!(verifier.capacity(), DEFAULT_REPLAY_CACHE_CAPACITY);
    for (who, id) in [(0, "app"), (1, "ops"), (2, "eth")] {
        let stamp = stamp_by(who, "list_keys", BODY, NOW, &nonce(who as u32));
        assert_eq!(stamp.signature.len(), 64);
        let principal = verifier.verify(&config, "list_keys", BODY, &stamp, NOW).unwrap();
        assert_eq!(principal.id, id);
    }
    assert_eq!(verifier.len(), 3);
}

#[test]
fn signatures_made_outside_the_crate_verify() {
    let config = sample(1);
    let mut verifier = StampVerifier::new(16);
    let body = b"\xa1\x62op\x69list_keys";
    let t = NOW;

    // Ed25519 with ed25519-dalek directly, over the digest as the message.
    let n = nonce(1);
    let key = ed25519_dalek::SigningKey::from_bytes(&[11; 32]);
    use ed25519_dalek::Signer as _;
    let sig = key.sign(&stamp_digest("list_keys", body, t, &n)).to_bytes().to_vec();
    let stamp = Stamp { principal: "app".into(), timestamp_us: t, nonce: n, signature: sig };
    verifier.verify(&config, "list_keys", body, &stamp, NOW).unwrap();

    // P-256: ECDSA-SHA256 over the preimage (the library hashes it) is ECDSA over the digest as prehash.
    let n = nonce(2);
    let key = p256::ecdsa::SigningKey::from_bytes(&[12u8; 32].into()).unwrap();
    let sig: p256::ecdsa::Signature = key.sign(&preimage("list_keys", body, t, &n));
    let stamp = Stamp { principal: "ops".into(), timestamp_us: t, nonce: n, signature: sig.to_bytes().to_vec() };
    verifier.verify(&config, "list_keys", body, &stamp, NOW).unwrap();

    // secp256k1: a high-S signature (n - s) is accepted (normalised before verifying).
    let n = nonce(3);
    let mut stamp = stamp_by(2, "list_keys", body, t, &n);
    let order = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    let s = stamp.signature[32..].to_vec();
    let mut high = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(order[i]) - i16::from(s[i]) - borrow;
        high[i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    assert!(high > s[..].try_into().unwrap(), "n - s of a low-S signature is high");
    stamp.signature[32..].copy_from_slice(&high);
    verifier.verify(&config, "list_keys", body, &stamp, NOW).unwrap();
}

#[test]
fn p256_signing_is_rfc6979() {
    // RFC 6979 A.2.5, P-256 with SHA-256, message "sample".
    let x = hex::decode("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721").unwrap();
    let credential = sentinel_config::Credential::generate(
        sentinel_config::CredentialKind::Client,
        "rfc",
        Alg::P256,
        &x.try_into().unwrap(),
    )
    .unwrap();
    let digest: [u8; 32] = Sha256::digest(b"sample").into();
    assert_eq!(
        hex::encode(credential.sign(&digest)),
        "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716\
         f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"
    );
    assert_eq!(
        hex::encode(credential.public_key().as_bytes()),
        // Compressed Ux (Uy = ...2299 is odd: prefix 03).
        "0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    );
}

#[test]
fn refusals_each_with_its_code() {
    let config = sample(1);
    let mut verifier = StampVerifier::new(16);
    let good = stamp_by(0, "list_keys", BODY, NOW, &nonce(1));
    let expect =
        |verifier: &mut StampVerifier, stamp: &Stamp, op: &str, body: &[u8], now: u64, code: Code, needle: &str| {
            let e = verifier.verify(&config, op, body, stamp, now).unwrap_err();
            assert_eq!(e.kind(), code, "{e}");
            assert!(e.message().contains(needle), "`{needle}` not in {e}");
            assert!(sentinel_error::is_well_formed_code(e.code()));
        };

    let mut short = good.clone();
    short.nonce.truncate(15);
    expect(&mut verifier, &short, "list_keys", BODY, NOW, Code::Malformed, "stamp.nonce: 15 bytes");
    let mut long_sig = good.clone();
    long_sig.signature.push(0);
    expect(&mut verifier, &long_sig, "list_keys", BODY, NOW, Code::Malformed, "stamp.signature: 65 bytes");

    let mut stranger = good.clone();
    stranger.principal = "nobody".into();
    expect(&mut verifier, &stranger, "list_keys", BODY, NOW, Code::UnknownPrincipal, "`nobody`");

    // Another principal's name on app's stamp: its key does not verify it.
    let mut relabelled = good.clone();
    relabelled.principal = "eth".into();
    expect(&mut verifier, &relabelled, "list_keys", BODY, NOW, Code::SignatureInvalid, "no key of `eth`");
    // Other op, other body, other time: the signature does not cover them.
    expect(&mut verifier, &good, "sign_digest", BODY, NOW, Code::SignatureInvalid, "stamp.signature");
    expect(&mut verifier, &good, "list_keys", b"\xa0", NOW, Code::SignatureInvalid, "stamp.signature");
    let mut later = good.clone();
    later.timestamp_us += 1;
    expect(&mut verifier, &later, "list_keys", BODY, NOW, Code::SignatureInvalid, "stamp.signature");
    let mut flipped = good.clone();
    flipped.signature[10] ^= 1;
    expect(&mut verifier, &flipped, "list_keys", BODY, NOW, Code::SignatureInvalid, "stamp.signature");

    // None of those consumed the nonce: the genuine stamp still verifies, once.
    assert_eq!(verifier.len(), 0);
    verifier.verify(&config, "list_keys", BODY, &good, NOW).unwrap();
    expect(&mut verifier, &good, "list_keys", BODY, NOW + 1, Code::Replayed, "already used by `app`");
    // Same nonce, new signature over another body: still a replay of the nonce.
    let other = stamp_by(0, "list_keys", b"\xa0", NOW, &nonce(1));
    expect(&mut verifier, &other, "list_keys", b"\xa0", NOW, Code::Replayed, "stamp.nonce");
    // The same nonce from another principal is its own.
    verifier.verify(&config, "list_keys", BODY, &stamp_by(2, "list_keys", BODY, NOW, &nonce(1)), NOW).unwrap();
}

#[test]
fn window_edges_are_inclusive_and_name_the_side() {
    let config = sample(1);
    let mut verifier = StampVerifier::new(64);
    let at = |t: u64, i: u32| stamp_by(1, "sign_digest", BODY, t, &nonce(i));
    verifier.verify(&config, "sign_digest", BODY, &at(NOW - WINDOW_US, 1), NOW).unwrap();
    verifier.verify(&config, "sign_digest", BODY, &at(NOW + WINDOW_US, 2), NOW).unwrap();
    let e = verifier.verify(&config, "sign_digest", BODY, &at(NOW - WINDOW_US - 1, 3), NOW).unwrap_err();
    assert_eq!(e.kind(), Code::Expired);
    assert!(e.message().contains("in the past") && e.message().contains("30000 ms window"), "{e}");
    let e = verifier.verify(&config, "sign_digest", BODY, &at(NOW + WINDOW_US + 1, 4), NOW).unwrap_err();
    assert_eq!(e.kind(), Code::Expired);
    assert!(e.message().contains("in the future"), "{e}");
    // Extremes do not overflow.
    verifier.verify(&config, "sign_digest", BODY, &at(0, 5), 0).unwrap();
    let e = verifier.verify(&config, "sign_digest", BODY, &at(u64::MAX, 6), NOW).unwrap_err();
    assert_eq!(e.kind(), Code::Expired);
    let e = verifier.verify(&config, "sign_digest", BODY, &at(0, 7), u64::MAX).unwrap_err();
    assert_eq!(e.kind(), Code::Expired);
}

#[test]
fn expired_nonces_are_evicted_and_live_ones_never_are() {
    let config = sample(1);
    let mut verifier = StampVerifier::new(2);
    let a = stamp_by(0, "list_keys", BODY, NOW, &nonce(1));
    let b = stamp_by(0, "list_keys", BODY, NOW + 1000, &nonce(2));
    let c = stamp_by(0, "list_keys", BODY, NOW + 2000, &nonce(3));
    verifier.verify(&config, "list_keys", BODY, &a, NOW).unwrap();
    verifier.verify(&config, "list_keys", BODY, &b, NOW).unwrap();
    // Full: refused, not evicted.
    let e = verifier.verify(&config, "list_keys", BODY, &c, NOW).unwrap_err();
    assert_eq!(e.kind(), Code::ReplayCacheFull, "{e}");
    assert!(e.message().contains("2 live nonces"), "{e}");
    // A replay of a live nonce says so even when the cache is full.
    assert_eq!(verifier.verify(&config, "list_keys", BODY, &a, NOW).unwrap_err().kind(), Code::Replayed);
    // At a's last valid instant it is still live (and still a replay).
    let edge = NOW + WINDOW_US;
    assert_eq!(verifier.verify(&config, "list_keys", BODY, &a, edge).unwrap_err().kind(), Code::Replayed);
    assert_eq!(verifier.verify(&config, "list_keys", BODY, &c, edge).unwrap_err().kind(), Code::ReplayCacheFull);
    // One microsecond later a has expired: evicted, which makes room for c; a itself is now expired.
    verifier.verify(&config, "list_keys", BODY, &c, edge + 1).unwrap();
    assert_eq!(verifier.len(), 2);
    assert_eq!(verifier.verify(&config, "list_keys", BODY, &a, edge + 1).unwrap_err().kind(), Code::Expired);
    // Much later everything has gone.
    let d = stamp_by(0, "list_keys", BODY, NOW + 10 * WINDOW_US, &nonce(4));
    verifier.verify(&config, "list_keys", BODY, &d, NOW + 10 * WINDOW_US).unwrap();
    assert_eq!(verifier.len(), 1);
    // A capacity of 0 refuses every stamp.
    let mut none = StampVerifier::new(0);
    assert!(none.is_empty());
    assert_eq!(none.verify(&config, "list_keys", BODY, &a, NOW).unwrap_err().kind(), Code::ReplayCacheFull);
}

#[test]
fn a_forgotten_nonce_is_never_accepted_again() {
    let config = sample(1);
    let mut verifier = StampVerifier::new(8);
    let old = stamp_by(0, "list_keys", BODY, NOW, &nonce(1));
    verifier.verify(&config, "list_keys", BODY, &old, NOW).unwrap();
    // Time passes; the entry is evicted.
    let later = NOW + 2 * WINDOW_US;
    verifier.verify(&config, "list_keys", BODY, &stamp_by(0, "list_keys", BODY, later, &nonce(2)), later).unwrap();
    assert_eq!(verifier.len(), 1);
    // The clock goes back to NOW: the window alone would accept the old stamp again.
    let e = verifier.verify(&config, "list_keys", BODY, &old, NOW).unwrap_err();
    assert_eq!(e.kind(), Code::Expired);
    assert!(e.message().contains("already forgotten"), "{e}");
    // An update widens the window to 10 minutes: the old stamp is within it, and still refused.
    let mut j = sample_json(2);
    j["stamp_window_ms"] = json!(600_000);
    let wide = Configuration::from_json(&j.to_string()).unwrap();
    assert_eq!(verifier.verify(&wide, "list_keys", BODY, &old, later).unwrap_err().kind(), Code::Expired);
    // A fresh stamp older than the eviction horizon but inside the new window: refused too (fail closed).
    let between = stamp_by(0, "list_keys", BODY, NOW - 1, &nonce(3));
    assert_eq!(verifier.verify(&wide, "list_keys", BODY, &between, later).unwrap_err().kind(), Code::Expired);
    let fresh = stamp_by(0, "list_keys", BODY, NOW + 1, &nonce(4));
    verifier.verify(&wide, "list_keys", BODY, &fresh, later).unwrap();
}

#[test]
fn cbor_form() {
    let stamp = stamp_by(2, "sign_digest", BODY, NOW, &nonce(9));
    let bytes = stamp.encode();
    assert_eq!(Stamp::decode(&bytes).unwrap(), stamp);
    // A map of four entries with byte strings for nonce and signature.
    let value: ciborium::Value = ciborium::de::from_reader(&bytes[..]).unwrap();
    let ciborium::Value::Map(entries) = value else { panic!() };
    let names: Vec<&str> = entries.iter().map(|(k, _)| k.as_text().unwrap()).collect();
    assert_eq!(names, ["principal", "timestamp_us", "nonce", "signature"]);
    assert!(entries[2].1.is_bytes() && entries[3].1.is_bytes());
    assert!(format!("{stamp:?}").contains("nonce: 0x"));

    let mut trailing = bytes.clone();
    trailing.push(0);
    let mut unknown = entries.clone();
    unknown.push((ciborium::Value::Text("extra".into()), ciborium::Value::Null));
    let mut as_array = entries.clone();
    as_array[2].1 = ciborium::Value::Array(stamp.nonce.iter().map(|b| ciborium::Value::from(*b)).collect());
    for bad in [
        trailing,
        bytes[..bytes.len() - 1].to_vec(),
        common::plain(&ciborium::Value::Map(unknown)),
        common::plain(&ciborium::Value::Map(as_array)),
        vec![0; MAX_STAMP_BYTES + 1],
    ] {
        assert_eq!(Stamp::decode(&bad).unwrap_err().kind(), Code::Malformed);
    }
}

#[test]
fn codes_are_stable() {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        codes,
        [
            "STAMP_MISSING",
            "STAMP_MALFORMED",
            "STAMP_EXPIRED",
            "UNKNOWN_PRINCIPAL",
            "STAMP_REPLAYED",
            "REPLAY_CACHE_FULL",
            "STAMP_SIGNATURE_INVALID"
        ]
    );
    assert_eq!(sentinel_config::codes::STAMP_MISSING, "STAMP_MISSING");
    assert_eq!(
        sentinel_config::codes::AUTHORIZATION,
        ["OPERATION_NOT_PERMITTED", "KEY_NOT_PERMITTED", "KEY_QUOTA_EXCEEDED"]
    );
}

#[test]
fn many_nonces() {
    // Thousands of entries with interleaved deadlines (timestamps spread over the window).
    let config = sample(1);
    let credential = &clients()[2]; // libsecp256k1: fast even in a debug build
    let mut verifier = StampVerifier::new(3000);
    for i in 0..3000u32 {
        let t = NOW - WINDOW_US + u64::from(i % 7) * WINDOW_US / 3;
        let s = Stamp::sign(credential, "list_keys", BODY, t, &nonce(i)).unwrap();
        verifier.verify(&config, "list_keys", BODY, &s, NOW).unwrap();
    }
    assert_eq!(verifier.len(), 3000);
    // Just past NOW the stamps dated NOW - WINDOW have expired (i % 7 == 0).
    let s = Stamp::sign(credential, "list_keys", BODY, NOW, &nonce(1_000_000)).unwrap();
    verifier.verify(&config, "list_keys", BODY, &s, NOW + 1).unwrap();
    assert_eq!(verifier.len(), 3000 - 429 + 1);
}

#[test]
fn stamps_another_verifier_accepted_are_remembered_by_their_replay_key() {
    // What a restarted enclave does with its predecessor's audit log: the replay key and the
    // timestamp of every accepted stamp still live.
    let config = sample(1);
    let mut before = StampVerifier::new(4);
    let stamp = stamp_by(0, "list_keys", BODY, NOW, &nonce(1));
    let principal = before.verify(&config, "list_keys", BODY, &stamp, NOW).unwrap().id.clone();

    let mut after = StampVerifier::new(2);
    let later = NOW + 1_000_000;
    assert!(after.remember(sentinel_config::replay_key(&principal, &nonce(1)), NOW, WINDOW_US, later));
    let e = after.verify(&config, "list_keys", BODY, &stamp, later).unwrap_err();
    assert_eq!(e.kind(), Code::Replayed);
    // Another nonce of the same principal is a new stamp.
    let fresh = stamp_by(0, "list_keys", BODY, later, &nonce(2));
    after.verify(&config, "list_keys", BODY, &fresh, later).unwrap();
    // An expired stamp is not kept (it would be refused as expired anyway); a full cache says so.
    assert!(after.remember([1; 32], NOW - 2 * WINDOW_US, WINDOW_US, later));
    assert_eq!(after.len(), 2);
    assert!(!after.remember([2; 32], NOW, WINDOW_US, later), "capacity 2 is full");
    // Then the caller refuses by date instead: nothing dated before the floor is accepted.
    after.raise_floor(later + 1);
    let dated = stamp_by(0, "list_keys", BODY, later, &nonce(3));
    assert_eq!(after.verify(&config, "list_keys", BODY, &dated, later).unwrap_err().kind(), Code::Expired);
}

#[test]
fn what_a_snapshot_keeps_of_the_replay_cache_refuses_the_same_stamps_after_a_restore() {
    let config = sample(1);
    let mut before = StampVerifier::new(8);
    let stamps: Vec<Stamp> = (0..3).map(|i| stamp_by(0, "list_keys", BODY, NOW - u64::from(i), &nonce(i))).collect();
    let mut principal = String::new();
    for s in &stamps {
        principal = before.verify(&config, "list_keys", BODY, s, NOW).unwrap().id.clone();
    }
    before.raise_floor(NOW - WINDOW_US / 2);
    let (mut remembered, floor) = before.remembered();
    remembered.sort_unstable();
    assert_eq!(remembered.len(), 3);
    assert_eq!(
        remembered.iter().map(|(key, _)| *key).collect::<Vec<_>>(),
        stamps
            .iter()
            .map(|s| sentinel_config::replay_key(&principal, &s.nonce))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>(),
        "every accepted stamp, by its replay key"
    );
    assert_eq!(floor, NOW - WINDOW_US / 2);

    let mut after = StampVerifier::new(8);
    for (key, timestamp) in &remembered {
        assert!(after.remember(*key, *timestamp, WINDOW_US, NOW + 1));
    }
    after.raise_floor(floor);
    let sorted = |v: &StampVerifier| {
        let (mut live, floor) = v.remembered();
        live.sort_unstable();
        (live, floor)
    };
    assert_eq!(sorted(&after), sorted(&before));
    for s in &stamps {
        assert_eq!(after.verify(&config, "list_keys", BODY, s, NOW + 1).unwrap_err().kind(), Code::Replayed);
    }
}

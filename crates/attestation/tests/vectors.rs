//! Every real document gives the verdict recorded in EXPECTED.json (derived by
//! an independent Python check), at a time inside its leaf validity window;
//! and the envelope variations real hardware may emit are accepted.

mod common;

use common::{hex, pem_der, unhex, vector, vectors};
use sentinel_attestation::{
    verify, verify_with, ErrorCode, RootKind, UnixTime, VerifyOptions, AWS_NITRO_ROOT_G1_DER, AWS_NITRO_ROOT_G1_SHA256,
};

const DEBUG_OK: VerifyOptions = VerifyOptions { allow_debug: true };

#[test]
fn every_document_gives_its_expected_verdict() {
    let all = vectors();
    assert_eq!(all.len(), 6);
    for v in &all {
        let lenient = verify_with(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at(), &DEBUG_OK);
        let strict = verify(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at());
        if !v.signature_valid() {
            assert_eq!(lenient.unwrap_err().kind(), ErrorCode::SignatureInvalid, "{}", v.file);
            assert_eq!(strict.unwrap_err().kind(), ErrorCode::SignatureInvalid, "{}", v.file);
            continue;
        }
        let doc = lenient.unwrap_or_else(|e| panic!("{}: {e}", v.file));
        assert_eq!(doc.timestamp_ms(), v.timestamp_ms(), "{}", v.file);
        assert_eq!(doc.digest(), "SHA384");
        assert_eq!(doc.pcrs().len(), 16, "{}", v.file);
        assert_eq!(doc.cabundle().len(), 4, "{}", v.file);
        assert_eq!(doc.root_kind(), RootKind::AwsNitro);
        assert_eq!(hex(doc.root_fingerprint()), AWS_NITRO_ROOT_G1_SHA256);
        assert_eq!(doc.is_debug_mode(), v.debug(), "{}", v.file);
        for field in v.expected["optional_fields_null"].as_array().into_iter().flatten() {
            let value = match field.as_str().unwrap() {
                "public_key" => doc.public_key(),
                "user_data" => doc.user_data(),
                "nonce" => doc.nonce(),
                other => panic!("unknown field {other}"),
            };
            assert!(value.is_none(), "{}: {field} should be null", v.file);
        }
        if let Some(prefix) = v.expected["nonce_hex_prefix"].as_str() {
            assert!(hex(doc.nonce().unwrap()).starts_with(prefix), "{}", v.file);
        }
        if v.debug() {
            assert_eq!(strict.unwrap_err().kind(), ErrorCode::DebugModeEnclave, "{}", v.file);
        } else {
            assert_eq!(strict.unwrap(), doc, "{}", v.file);
        }
    }
}

#[test]
fn qos_document_has_the_expected_pcrs_and_user_data() {
    let v = vector("qos_attestation-doc.bin");
    let doc = verify(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at()).unwrap();
    for i in 0..3u8 {
        let want = v.expected[format!("pcr{i}")].as_str().unwrap();
        assert_eq!(hex(doc.pcr(i).unwrap()), want);
    }
    assert_eq!(hex(doc.user_data().unwrap()), v.expected["user_data_hex"].as_str().unwrap());
    // public_key is opaque bytes holding PEM text.
    assert!(doc.public_key().unwrap().starts_with(b"-----BEGIN"));
    assert!(doc.nonce().is_none());
    let view = doc.view();
    assert_eq!(view.pcrs["0"], v.expected["pcr0"].as_str().unwrap());
    assert_eq!(view.root_kind, "aws-nitro");
    assert_eq!(view.timestamp_ms, v.timestamp_ms() as f64);
}

#[test]
fn qos_validity_window_as_recorded() {
    let v = vector("qos_attestation-doc.bin");
    let ok = UnixTime::from_secs(1_657_117_192);
    assert!(verify(&v.bytes, AWS_NITRO_ROOT_G1_DER, ok).is_ok());
    for bad in [UnixTime::from_secs(1_657_117_192 + 86_400), UnixTime::from_secs(1_657_117_192 - 86_400)] {
        let e = verify(&v.bytes, AWS_NITRO_ROOT_G1_DER, bad).unwrap_err();
        assert_eq!(e.code(), "CERTIFICATE_NOT_VALID_AT_TIME");
    }
}

#[test]
fn times_outside_the_leaf_window_are_rejected() {
    for v in vectors().iter().filter(|v| v.signature_valid()) {
        let (nb, na) = (v.not_before_ms(), v.not_after_ms());
        for (t, ok) in [(nb - 1, false), (nb, true), (na, true), (na + 1, false), (0, false), (u64::MAX, false)] {
            let r = verify_with(&v.bytes, AWS_NITRO_ROOT_G1_DER, UnixTime::from_millis(t), &DEBUG_OK);
            if ok {
                r.unwrap_or_else(|e| panic!("{} at {t}: {e}", v.file));
            } else {
                assert_eq!(r.unwrap_err().kind(), ErrorCode::CertificateNotValidAtTime, "{} at {t}", v.file);
            }
        }
    }
}

#[test]
fn wrong_trusted_root_is_rejected() {
    let v = vector("qos_attestation-doc.bin");
    // Another P-384 CA root (generated with openssl for this test; key discarded).
    let other = include_bytes!("data/other_p384_root.der");
    let e = verify(&v.bytes, other, v.at()).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::RootMismatch, "{e}");
    // A certificate that is not even P-384 (evervault's enclave TLS certificate).
    let tls = std::fs::read(common::vectors_dir().join("evervault_valid-certificate.der")).unwrap();
    assert_eq!(verify(&v.bytes, &tls, v.at()).unwrap_err().kind(), ErrorCode::InvalidTrustedRoot);
    // Garbage as root.
    assert_eq!(verify(&v.bytes, b"not a cert", v.at()).unwrap_err().kind(), ErrorCode::InvalidTrustedRoot);
    assert_eq!(verify(&v.bytes, &[], v.at()).unwrap_err().kind(), ErrorCode::InvalidTrustedRoot);
    // The document's own cabundle[1] as "root": not cabundle[0].
    let doc = verify(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at()).unwrap();
    let e = verify(&v.bytes, &doc.cabundle()[1], v.at()).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::RootMismatch);
}

#[test]
fn the_other_shipped_root_pems_are_the_aws_root() {
    for file in ["aws_nitro_root_g1.pem", "eternis_aws_root.pem", "evervault_nitro_root.pem"] {
        assert_eq!(pem_der(file), AWS_NITRO_ROOT_G1_DER, "{file}");
    }
}

/// The COSE signature is the last 96 bytes (`58 60 || r || s`).
fn signature_offset(doc: &[u8]) -> usize {
    let at = doc.len() - 96;
    assert_eq!(&doc[at - 2..at], &[0x58, 0x60]);
    at
}

const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

/// n - s, big-endian, 48 bytes.
fn negate(s: &[u8]) -> Vec<u8> {
    let n = unhex(P384_N);
    let mut out = vec![0u8; 48];
    let mut borrow = 0i16;
    for i in (0..48).rev() {
        let mut d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

#[test]
fn high_s_signatures_are_accepted() {
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v.signature_valid()) {
        let mut doc = v.bytes.clone();
        let at = signature_offset(&doc);
        let flipped = negate(&doc[at + 48..at + 96]);
        doc[at + 48..at + 96].copy_from_slice(&flipped);
        assert_ne!(doc, v.bytes);
        verify_with(&doc, AWS_NITRO_ROOT_G1_DER, v.at(), &DEBUG_OK).unwrap_or_else(|e| panic!("{}: {e}", v.file));
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn tag_18_and_indefinite_lengths_are_accepted() {
    let v = vector("qos_attestation-doc.bin");
    let at = v.at();
    // Tagged COSE_Sign1.
    let tagged = [&[0xd2][..], &v.bytes].concat();
    verify(&tagged, AWS_NITRO_ROOT_G1_DER, at).unwrap();
    // Indefinite-length outer array.
    assert_eq!(v.bytes[0], 0x84);
    let indefinite = [&[0x9f][..], &v.bytes[1..], &[0xff]].concat();
    verify(&indefinite, AWS_NITRO_ROOT_G1_DER, at).unwrap();
    // Indefinite-length (chunked) payload byte string: same content, same signature.
    // Layout: 84 | 44 a1 01 38 22 | a0 | 59 LL LL payload | 58 60 sig
    assert_eq!(&v.bytes[1..7], &[0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0]);
    assert_eq!(v.bytes[7], 0x59);
    let len = usize::from(u16::from_be_bytes([v.bytes[8], v.bytes[9]]));
    let payload = &v.bytes[10..10 + len];
    let (a, b) = payload.split_at(100);
    let mut chunked = v.bytes[..7].to_vec();
    chunked.extend([0x5f, 0x58, 100]);
    chunked.extend(a);
    chunked.extend([0x59]);
    chunked.extend(u16::try_from(b.len()).unwrap().to_be_bytes());
    chunked.extend(b);
    chunked.push(0xff);
    chunked.extend(&v.bytes[10 + len..]);
    verify(&chunked, AWS_NITRO_ROOT_G1_DER, at).unwrap();
}

#[test]
fn envelope_strictness() {
    let v = vector("qos_attestation-doc.bin");
    let at = v.at();
    let code = |doc: &[u8]| verify(doc, AWS_NITRO_ROOT_G1_DER, at).unwrap_err().kind();
    // Trailing bytes.
    assert_eq!(code(&[&v.bytes[..], &[0x00]].concat()), ErrorCode::TrailingBytes);
    // Other tag.
    assert_eq!(code(&[&[0xd1][..], &v.bytes].concat()), ErrorCode::InvalidCoseStructure);
    // Non-empty unprotected header, and one with a duplicate key.
    let with_unprotected = |map: &[u8]| [&v.bytes[..6], map, &v.bytes[7..]].concat();
    assert_eq!(code(&with_unprotected(&[0xa1, 0x04, 0x41, 0x00])), ErrorCode::InvalidUnprotectedHeader);
    assert_eq!(code(&with_unprotected(&[0xa2, 0x04, 0x00, 0x04, 0x00])), ErrorCode::DuplicateKey);
    // Other algorithm in the protected header (ES256 = -7), re-spelled.
    let es256 = [&[0x84, 0x43, 0xa1, 0x01, 0x26][..], &v.bytes[6..]].concat();
    assert_eq!(code(&es256), ErrorCode::InvalidProtectedHeader);
    // Empty input, truncation, too large.
    assert_eq!(code(&[]), ErrorCode::MalformedCbor);
    assert_eq!(code(&v.bytes[..v.bytes.len() - 1]), ErrorCode::MalformedCbor);
    assert_eq!(code(&vec![0u8; sentinel_attestation::MAX_DOCUMENT_LEN + 1]), ErrorCode::DocumentTooLarge);
    // Short signature.
    let at_sig = signature_offset(&v.bytes);
    let short = [&v.bytes[..at_sig - 2], &[0x58, 0x5f], &v.bytes[at_sig..v.bytes.len() - 1]].concat();
    assert_eq!(code(&short), ErrorCode::SignatureInvalid);
}

#[test]
fn embedded_root_fingerprint() {
    assert_eq!(hex(&sentinel_attestation::fingerprint(AWS_NITRO_ROOT_G1_DER)), AWS_NITRO_ROOT_G1_SHA256);
    assert_eq!(AWS_NITRO_ROOT_G1_SHA256, "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b");
    assert_eq!(common::expected()["root_der_sha256"], AWS_NITRO_ROOT_G1_SHA256);
    assert_eq!(pem_der("aws_nitro_root_g1.pem"), AWS_NITRO_ROOT_G1_DER);
}

#[test]
fn error_codes_are_unique_screaming_snake() {
    let codes: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let unique: std::collections::BTreeSet<_> = codes.iter().collect();
    assert_eq!(unique.len(), codes.len());
    for c in codes {
        assert!(c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'), "{c}");
    }
}

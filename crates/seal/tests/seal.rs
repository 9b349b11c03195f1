//! Sealed records: round trip, and every way the host could hand back something else.
use sentinel_seal::{
    open, read_header, seal, Lineage, MasterKey, RecordId, RecordKind, SealErrorCode, MAX_NAME_LEN, SEAL_MAGIC,
};

const MASTER: [u8; 32] = [0x42; 32];
const LINEAGE: Lineage = Lineage([0x11; 32]);

fn id(name: &str, version: u64) -> RecordId {
    RecordId { kind: RecordKind::Key, name: name.into(), version }
}

/// A deterministic "fresh" salt per call site (tests only; the enclave draws it from its CSPRNG).
fn salt(n: u8) -> [u8; 32] {
    [n; 32]
}

fn sealed(name: &str, version: u64, plaintext: &[u8]) -> Vec<u8> {
    seal(&MasterKey::from_bytes(MASTER), &LINEAGE, &id(name, version), plaintext, salt(version as u8)).unwrap()
}

fn code_of(bytes: &[u8], expected: &RecordId) -> SealErrorCode {
    open(&MasterKey::from_bytes(MASTER), &LINEAGE, expected, bytes).unwrap_err().kind()
}

#[test]
fn a_record_opens_to_its_plaintext_and_identity() {
    let bytes = sealed("k-1", 3, b"secret scalar");
    assert_eq!(&bytes[..8], SEAL_MAGIC);
    let opened = open(&MasterKey::from_bytes(MASTER), &LINEAGE, &id("k-1", 3), &bytes).unwrap();
    assert_eq!(opened.plaintext.as_slice(), b"secret scalar");
    assert_eq!((opened.id, opened.lineage), (id("k-1", 3), LINEAGE));
    assert_eq!(read_header(&bytes).unwrap(), (id("k-1", 3), LINEAGE));
    // The plaintext is nowhere in what the host stores.
    assert!(!bytes.windows(13).any(|w| w == b"secret scalar"));
}

#[test]
fn two_seals_of_the_same_record_differ_and_both_open() {
    let master = MasterKey::from_bytes(MASTER);
    let a = seal(&master, &LINEAGE, &id("k", 1), b"same", salt(1)).unwrap();
    let b = seal(&master, &LINEAGE, &id("k", 1), b"same", salt(2)).unwrap();
    assert_ne!(a, b);
    for bytes in [a, b] {
        assert_eq!(open(&master, &LINEAGE, &id("k", 1), &bytes).unwrap().plaintext.as_slice(), b"same");
    }
}

#[test]
fn every_modified_byte_is_refused() {
    let bytes = sealed("k-1", 1, &[7u8; 64]);
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut m = bytes.clone();
            m[i] ^= bit;
            let code = code_of(&m, &id("k-1", 1));
            // A changed header byte may make another (or no) identity; everything else must fail the AEAD.
            assert!(
                matches!(
                    code,
                    SealErrorCode::Modified
                        | SealErrorCode::Malformed
                        | SealErrorCode::Swapped
                        | SealErrorCode::LineageMismatch
                ),
                "byte {i}: {code:?}"
            );
            if i >= bytes.len() - 64 - 16 || (9..41).contains(&i) {
                assert_eq!(code, SealErrorCode::Modified, "byte {i} (salt or ciphertext)");
            }
        }
    }
}

#[test]
fn a_truncated_or_extended_record_is_refused() {
    let bytes = sealed("k-1", 1, b"0123456789");
    for len in 0..bytes.len() {
        let code = code_of(&bytes[..len], &id("k-1", 1));
        assert!(matches!(code, SealErrorCode::Malformed | SealErrorCode::Modified), "length {len}: {code:?}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(code_of(&longer, &id("k-1", 1)), SealErrorCode::Modified);
}

#[test]
fn a_record_served_under_another_name_or_version_is_swapped() {
    let other_key = sealed("k-2", 1, b"b");
    let e = open(&MasterKey::from_bytes(MASTER), &LINEAGE, &id("k-1", 1), &other_key).unwrap_err();
    assert_eq!(e.kind(), SealErrorCode::Swapped);
    assert!(e.message().contains("\"k-2\"") && e.message().contains("\"k-1\""), "{}", e.message());
    // An older version in place of the newer one (rollback of one record).
    assert_eq!(code_of(&sealed("k-1", 1, b"old"), &id("k-1", 2)), SealErrorCode::Swapped);
    // Another kind under the same name.
    let config = seal(
        &MasterKey::from_bytes(MASTER),
        &LINEAGE,
        &RecordId { kind: RecordKind::Configuration, name: "k-1".into(), version: 1 },
        b"c",
        salt(9),
    )
    .unwrap();
    assert_eq!(code_of(&config, &id("k-1", 1)), SealErrorCode::Swapped);
}

#[test]
fn a_header_rewritten_to_the_expected_identity_does_not_authenticate() {
    // The host renames k-2's record to k-1 by rewriting the clear header: same length, so the
    // framing stays valid and only the AEAD can tell.
    let bytes = sealed("k-2", 1, b"b");
    let at = bytes.windows(3).position(|w| w == b"k-2").unwrap();
    let mut renamed = bytes.clone();
    renamed[at + 2] = b'1';
    assert_eq!(read_header(&renamed).unwrap().0, id("k-1", 1));
    assert_eq!(code_of(&renamed, &id("k-1", 1)), SealErrorCode::Modified);
}

#[test]
fn another_lineage_or_master_key_cannot_open_it() {
    let bytes = sealed("k-1", 1, b"a");
    let host_chosen = Lineage([0x22; 32]);
    let e = open(&MasterKey::from_bytes(MASTER), &host_chosen, &id("k-1", 1), &bytes).unwrap_err();
    assert_eq!(e.kind(), SealErrorCode::LineageMismatch);
    // Rewriting the lineage in the clear header to the host's does not help either.
    let mut moved = bytes.clone();
    let at = moved.windows(32).position(|w| w == [0x11; 32]).unwrap();
    moved[at..at + 32].copy_from_slice(&[0x22; 32]);
    assert_eq!(
        open(&MasterKey::from_bytes(MASTER), &host_chosen, &id("k-1", 1), &moved).unwrap_err().kind(),
        SealErrorCode::Modified
    );
    let e = open(&MasterKey::from_bytes([0x43; 32]), &LINEAGE, &id("k-1", 1), &bytes).unwrap_err();
    assert_eq!(e.kind(), SealErrorCode::Modified);
}

#[test]
fn bad_arguments_and_foreign_bytes_name_what_is_wrong() {
    let master = MasterKey::from_bytes(MASTER);
    for name in [String::new(), "x".repeat(MAX_NAME_LEN + 1)] {
        let e = seal(&master, &LINEAGE, &id(&name, 1), b"a", salt(1)).unwrap_err();
        assert_eq!(e.kind(), SealErrorCode::Invalid);
        assert!(e.message().starts_with("name:"));
    }
    assert!(seal(&master, &LINEAGE, &id(&"x".repeat(MAX_NAME_LEN), u64::MAX), b"", salt(1)).is_ok());
    let mut v2 = sealed("k", 1, b"a");
    v2[8] = 2;
    assert!(open(&master, &LINEAGE, &id("k", 1), &v2).unwrap_err().message().contains("version"));
    assert!(open(&master, &LINEAGE, &id("k", 1), b"{\"json\": true, \"padding\": \"..........................\"}")
        .unwrap_err()
        .message()
        .contains("magic"));
}

#[test]
fn secrets_are_never_printed() {
    let master = MasterKey::from_bytes(MASTER);
    assert_eq!(format!("{master:?}"), "MasterKey(<redacted>)");
    let opened = open(&master, &LINEAGE, &id("k-1", 1), &sealed("k-1", 1, b"secret scalar")).unwrap();
    let shown = format!("{opened:?}");
    assert!(shown.contains("<redacted>") && !shown.contains("secret"), "{shown}");
}

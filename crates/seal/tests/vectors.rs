//! test/vectors/seal/v1.json: sealed records computed by another implementation
//! (scripts/seal-vector.py, pyca/cryptography). Sealing the same inputs gives the same bytes, and
//! they open: the format is what docs/sealed-state.md says, not only what this crate does.
use sentinel_seal::{open, seal, Lineage, MasterKey, RecordId, RecordKind};

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn kind(s: &str) -> RecordKind {
    match s {
        "key" => RecordKind::Key,
        "configuration" => RecordKind::Configuration,
        "policy" => RecordKind::Policy,
        "kill_switch" => RecordKind::KillSwitch,
        "counters" => RecordKind::Counters,
        "state" => RecordKind::State,
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn records_sealed_by_another_implementation_match_and_open() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../test/vectors/seal/v1.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(file["provenance"].as_str().unwrap().contains("not by crates/seal"));
    let master = MasterKey::from_bytes(bytes(&file["master_key"]).try_into().unwrap());
    let lineage = Lineage(bytes(&file["lineage"]).try_into().unwrap());
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 4);
    for v in vectors {
        let id = RecordId {
            kind: kind(v["kind"].as_str().unwrap()),
            name: v["name"].as_str().unwrap().into(),
            version: v["version"].as_str().unwrap().parse().unwrap(),
        };
        let plaintext = bytes(&v["plaintext"]);
        let expected = bytes(&v["sealed"]);
        let salt = bytes(&v["salt"]).try_into().unwrap();
        assert_eq!(seal(&master, &lineage, &id, &plaintext, salt).unwrap(), expected, "{id:?}");
        assert_eq!(open(&master, &lineage, &id, &expected).unwrap().plaintext.as_slice(), plaintext.as_slice());
    }
}

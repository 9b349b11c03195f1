//! The dev CA is created once per data directory and reused.
#![cfg(feature = "simulator")]

mod common;

use std::sync::Arc;

use common::{open_at, T0_MS};
use sentinel_nsm::simulator::{SimulatedNsm, DEV_CA_DIR};

#[test]
fn persists_across_opens_of_the_same_dir() {
    let dir = tempfile::tempdir().unwrap();
    let first = open_at(dir.path(), T0_MS);
    // A later open (even at a later time) loads the same CA.
    let second = open_at(dir.path(), T0_MS + 86_400_000);
    assert_eq!(first.root_der(), second.root_der());
    assert_eq!(first.intermediate_der(), second.intermediate_der());
    assert_eq!(first.ca_dir(), dir.path().join(DEV_CA_DIR));
}

#[test]
fn a_fresh_dir_gets_a_different_root() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (x, y) = (open_at(a.path(), T0_MS), open_at(b.path(), T0_MS));
    assert_ne!(x.root_der(), y.root_der());
    assert_ne!(x.intermediate_der(), y.intermediate_der());
}

#[test]
fn creates_the_data_dir_and_leaves_no_staging_dirs() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("nested").join("data");
    open_at(&data, T0_MS);
    let entries: Vec<String> =
        std::fs::read_dir(&data).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(entries, vec![DEV_CA_DIR.to_string()]);
    let mut files: Vec<String> = std::fs::read_dir(data.join(DEV_CA_DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["intermediate.der", "intermediate.key", "root.der", "root.key"]);
}

#[cfg(unix)]
#[test]
fn private_keys_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let mode = |name: &str| std::fs::metadata(nsm.ca_dir().join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("root.key"), 0o600);
    assert_eq!(mode("intermediate.key"), 0o600);
    assert_eq!(mode("."), 0o700);
}

#[test]
fn stored_files_hold_the_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    assert_eq!(std::fs::read(nsm.ca_dir().join("root.der")).unwrap(), nsm.root_der());
    assert_eq!(std::fs::read(nsm.ca_dir().join("intermediate.der")).unwrap(), nsm.intermediate_der());
    // The dev root is unmistakable: its subject names the development organisation.
    let root = nsm.root_der();
    for needle in [&b"sentinel-dev-root"[..], b"ZeroCopy Systems (development)"] {
        assert!(root.windows(needle.len()).any(|w| w == needle));
    }
}

#[test]
fn an_incomplete_ca_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    std::fs::remove_file(nsm.ca_dir().join("intermediate.key")).unwrap();
    let err = SimulatedNsm::open(dir.path(), [[0; 48]; 16], Arc::new(|| T0_MS)).unwrap_err();
    assert_eq!(err.code(), "SIMULATOR_CA_INVALID");
    assert!(err.message().contains("intermediate.key is missing"), "{}", err.message());
}

#[test]
fn a_key_that_does_not_match_its_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    std::fs::copy(nsm.ca_dir().join("intermediate.key"), nsm.ca_dir().join("root.key")).unwrap();
    let err = SimulatedNsm::open(dir.path(), [[0; 48]; 16], Arc::new(|| T0_MS)).unwrap_err();
    assert_eq!(err.code(), "SIMULATOR_CA_INVALID");

    std::fs::write(nsm.ca_dir().join("root.key"), b"not a key").unwrap();
    let err = SimulatedNsm::open(dir.path(), [[0; 48]; 16], Arc::new(|| T0_MS)).unwrap_err();
    assert_eq!(err.code(), "SIMULATOR_CA_INVALID");
}

#[test]
fn creation_needs_a_real_time() {
    let dir = tempfile::tempdir().unwrap();
    let err = SimulatedNsm::open(dir.path(), [[0; 48]; 16], Arc::new(|| 0)).unwrap_err();
    assert_eq!(err.code(), "INVALID_TIMESTAMP");
    assert!(!dir.path().join(DEV_CA_DIR).exists());
}

#[test]
fn debug_output_redacts_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let nsm = open_at(dir.path(), T0_MS);
    let key = std::fs::read(nsm.ca_dir().join("intermediate.key")).unwrap();
    let debug = format!("{nsm:?}");
    assert!(debug.contains("[REDACTED]"), "{debug}");
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!debug.contains(&hex[hex.len() - 40..]));
    assert!(!debug.contains(&format!("{:?}", &key[key.len() - 16..])));
}

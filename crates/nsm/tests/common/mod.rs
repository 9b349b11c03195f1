#![allow(dead_code)]
use std::path::Path;
use std::sync::Arc;

use sentinel_nsm::pcr::pcrs_from_artifact;
use sentinel_nsm::simulator::SimulatedNsm;

/// 2026-01-01T00:00:00.123Z
pub const T0_MS: u64 = 1_767_225_600_123;

pub fn open_at(dir: &Path, now_ms: u64) -> SimulatedNsm {
    SimulatedNsm::open(dir, pcrs_from_artifact(b"enclave binary"), Arc::new(move || now_ms)).unwrap()
}

//! The Sentinel enclave program, as a library so tests drive the same code the binary runs.
//!
//! The host is untrusted: everything it sends arrives as frames of the
//! protocol in `crates/protocol`, is decoded strictly, and is answered with a
//! response or an error frame, never a crash. Keys are created (or imported
//! with HPKE) here and live only in this process's memory; every operation on
//! them is authenticated here, by a principal's stamp or an attested session,
//! against the signed configuration, and decided in one place (`decide.rs`).
//! Attestation documents come from an [`sentinel_nsm::NsmProvider`] (the real
//! `/dev/nsm`, or the simulator in local mode) and bind the enclave's attested
//! keys and configuration hash, never bytes a client chose beyond the nonce.
//!
//! Only enclave code lives in this crate. The parent-instance side (the Unix/TCP
//! to vsock forwarder) is the separate `sentinel-proxy` crate in `proxy/`, so
//! the enclave image contains nothing that runs on the untrusted host.
//!
//! Exactly one NSM feature: `hardware` (the default; `/dev/nsm` and vsock, what
//! the EIF ships) or `simulator` (local mode:
//! `--no-default-features --features simulator`).
#![forbid(unsafe_code)]

#[cfg(all(feature = "hardware", feature = "simulator"))]
compile_error!(
    "sentinel-enclave: features `hardware` and `simulator` are exclusive; for local mode build with \
     `--no-default-features --features simulator`"
);
#[cfg(not(any(feature = "hardware", feature = "simulator")))]
compile_error!(
    "sentinel-enclave: enable exactly one of the features `hardware` (the default, production) or `simulator` \
     (local mode: `--no-default-features --features simulator`)"
);

pub mod audit;
pub mod busy_poll;
pub mod decide;
pub mod enclave;
mod forwarding;
mod frames;
pub mod keys;
pub mod kms_unlock;
pub mod master_key;
mod oversight;
mod policy;
mod resume;
pub mod sealing;
pub mod server;
pub mod sessions;
pub mod snapshot;
pub mod transport;

pub use enclave::{Enclave, EnclaveConfig};
pub use server::{serve, serve_with_limits, Limits};
pub use transport::{Backoff, Connection, Listener};

/// The runtime the enclave serves on: one thread that both polls the sockets
/// and runs the handlers, so answering a request involves no cross-thread
/// wake-up (the dominant cost of a round trip otherwise). Attestation work goes
/// to the blocking pool and does not stall it.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// The OS random source as a `rand_core` RNG (what HPKE sealing takes: `src/forwarding.rs`).
pub(crate) struct Entropy;

impl sentinel_import::rand_core::TryRng for Entropy {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from_le_bytes(random_bytes::<4>()))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from_le_bytes(random_bytes::<8>()))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        getrandom::fill(dst).expect("the OS random source is available");
        Ok(())
    }
}

impl sentinel_import::rand_core::TryCryptoRng for Entropy {}

/// Fills a buffer from the OS random source (in an enclave: the NSM-seeded kernel RNG).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the OS random source is available");
    out
}

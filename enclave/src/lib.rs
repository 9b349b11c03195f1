//! The Sentinel enclave program, as a library so tests drive the same code the binary runs.
//!
//! The host is untrusted: everything it sends arrives as frames of the
//! protocol in `crates/protocol`, is decoded strictly, and is answered with a
//! response or an error frame, never a crash. Keys are created here and live
//! only in this process's memory. Attestation documents come from an
//! [`sentinel_nsm::NsmProvider`] (the real `/dev/nsm`, or the simulator in
//! local mode) and bind the enclave's identity key and state, never bytes a
//! client chose beyond the nonce.
#![forbid(unsafe_code)]

pub mod busy_poll;
pub mod enclave;
mod frames;
pub mod keys;
pub mod proxy;
pub mod server;
pub mod transport;

pub use enclave::{Enclave, EnclaveConfig};
pub use proxy::{run_proxy, Upstream};
pub use server::serve;
pub use transport::{Connection, Listener};

/// The runtime the enclave serves on: one thread that both polls the sockets
/// and runs the handlers, so answering a request involves no cross-thread
/// wake-up (the dominant cost of a round trip otherwise). Attestation work goes
/// to the blocking pool and does not stall it.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

/// Fills a buffer from the OS random source (in an enclave: the NSM-seeded kernel RNG).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the OS random source is available");
    out
}

//! What the enclave's socket tests share: a simulator-backed enclave, and
//! reading one answer frame off a socket.
// Each test file uses a different subset.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::{decode_response, ErrorAnswer, Response, ResponseFrame};
use tokio::io::AsyncReadExt;
use tokio::net::UnixStream;

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// An enclave with the NSM simulator keeping its dev CA in `dir`; also returns the dev root (DER).
pub fn simulated_enclave(dir: &std::path::Path, image: &[u8], module_id: &str) -> (Arc<Enclave>, Vec<u8>) {
    let nsm = SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(image), Arc::new(now_ms)).unwrap();
    let root_der = nsm.root_der().to_vec();
    let enclave = Enclave::new(Arc::new(nsm), module_id.into(), &EnclaveConfig::default()).unwrap();
    (Arc::new(enclave), root_der)
}

/// Reads one length-prefixed answer frame.
pub async fn read_response(stream: &mut UnixStream) -> ResponseFrame {
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.unwrap();
    let mut body = vec![0u8; u32::from_be_bytes(header) as usize];
    stream.read_exact(&mut body).await.unwrap();
    decode_response(&body).unwrap()
}

/// The code of an `error` answer; panics on any other answer.
pub fn error_code(response: &Response) -> &str {
    match response {
        Response::Error(ErrorAnswer { code, .. }) => code,
        other => panic!("expected an error, got {other:?}"),
    }
}

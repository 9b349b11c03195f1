//! The enclave's authentication step on arbitrary input: the first byte picks
//! whether the rest is the frame itself (as a hostile relay would send it,
//! almost always a decryption failure) or the plaintext a client sealed (a
//! hostile client: reaches the CBOR decoder). It must never panic, a claim it
//! returns must be within the caps and carry this session's digest, and after
//! a refusal the handshake must stay refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_session::{Initiator, Responder, SessionSecret, MAX_PRINCIPAL_LEN, MAX_SIGNATURE_LEN};

const HASH: [u8; 32] = [0xa7; 32];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let secret = SessionSecret::from_bytes([0x11; 32]);
    let (init, m1) = Initiator::new(&secret.public(), &HASH, [0x22; 32]).expect("initiator");
    let (mut server, m2) = Responder::respond(&secret, &HASH, &m1, [0x33; 32]).expect("respond");
    let client = init.finish(&m2).expect("finish");
    let frame = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        match client.authenticate_raw(rest) {
            Ok((_, frame)) => frame,
            Err(_) => return,
        }
    };
    match server.open_auth(&frame) {
        Ok(claim) => {
            assert!(!claim.principal.is_empty() && claim.principal.len() <= MAX_PRINCIPAL_LEN);
            assert!(!claim.signature.is_empty() && claim.signature.len() <= MAX_SIGNATURE_LEN);
            assert_eq!(claim.digest, server.auth_digest());
            let session = server.establish(&claim.principal, 0, 1).expect("establish after a claim");
            assert_eq!(session.principal(), claim.principal);
        }
        Err(_) => {
            assert!(server.open_auth(&frame).is_err());
            assert!(server.establish("p", 0, 1).is_err());
        }
    }
});

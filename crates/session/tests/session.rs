//! End-to-end behaviour of both sides through the public API: the handshake,
//! the authentication claim, frames both ways, and every way a relay can
//! damage a session (each must fail and kill the session for good).

use sentinel_error::{is_well_formed_code, CodedError};
use sentinel_session::*;
use sha2::{Digest, Sha256};

const ATTESTATION_HASH: [u8; 32] = [0xa7; 32];
const NOW: u64 = 1_760_000_000_000_000;
const LIFETIME: u64 = 3_600_000_000;

/// Distinct deterministic "random" bytes per label (tests only).
fn bytes(label: &str) -> [u8; 32] {
    Sha256::digest(label.as_bytes()).into()
}

fn server_secret() -> SessionSecret {
    SessionSecret::from_bytes(bytes("server static"))
}

/// A full handshake; `tag` makes the ephemerals distinct per session.
fn open_pair(tag: &str) -> (ClientSession, ServerSession, [u8; 32]) {
    let secret = server_secret();
    let (init, msg1) =
        Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes(&format!("{tag} client e"))).expect("initiator");
    assert_eq!(msg1.len(), HANDSHAKE_MESSAGE_LEN);
    let (mut server_hs, msg2) =
        Responder::respond(&secret, &ATTESTATION_HASH, &msg1, bytes(&format!("{tag} server e"))).expect("respond");
    assert_eq!(msg2.len(), HANDSHAKE_MESSAGE_LEN);
    let client_hs = init.finish(&msg2).expect("finish");
    let digest = client_hs.auth_digest();
    assert_eq!(digest, server_hs.auth_digest());
    // The crate does not verify signatures; any bytes stand in for one here.
    let signature = [0x5a; 64];
    let (client, auth_frame) = client_hs.authenticate("desk-7", &signature).expect("authenticate");
    let claim = server_hs.open_auth(&auth_frame).expect("open_auth");
    assert_eq!(claim, AuthClaim { principal: "desk-7".into(), signature: signature.to_vec(), digest });
    let server = server_hs.establish("desk-7", NOW, LIFETIME).expect("establish");
    assert_eq!(server.principal(), "desk-7");
    assert_eq!(server.expires_at_us(), NOW + LIFETIME);
    (client, server, digest)
}

fn seal_c(c: &mut ClientSession, p: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    c.seal(p, &mut out).expect("seal");
    out
}

fn seal_s(s: &mut ServerSession, p: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    s.seal(p, &mut out).expect("seal");
    out
}

fn open_s(s: &mut ServerSession, frame: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    s.open(frame, &mut out, NOW).map(|()| out)
}

fn open_c(c: &mut ClientSession, frame: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    c.open(frame, &mut out).map(|()| out)
}

/// After a failure, a frame that would have been fine also fails, both ways.
fn assert_server_dead(s: &mut ServerSession, c: &mut ClientSession) {
    let next = seal_c(c, b"next");
    assert_eq!(open_s(s, &next).unwrap_err().code(), SESSION_BROKEN);
    assert_eq!(open_s(s, &next).unwrap_err().code(), SESSION_BROKEN);
    assert_eq!(s.seal(b"x", &mut Vec::new()).unwrap_err().code(), SESSION_BROKEN);
}

fn plaintext(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn many_frames_both_ways() {
    let (mut c, mut s, _) = open_pair("many");
    let mut wire = Vec::new();
    let mut plain = Vec::new();
    for i in 0..2000u32 {
        let request = plaintext(100 + (i as usize % 57), i as u8);
        wire.clear();
        c.seal(&request, &mut wire).unwrap();
        assert_eq!(wire.len(), request.len() + FRAME_OVERHEAD);
        plain.clear();
        s.open(&wire, &mut plain, NOW + u64::from(i)).unwrap();
        assert_eq!(plain, request);
        let answer = plaintext(70, !(i as u8));
        wire.clear();
        s.seal(&answer, &mut wire).unwrap();
        plain.clear();
        c.open(&wire, &mut plain).unwrap();
        assert_eq!(plain, answer);
    }
    // Pipelining: several frames in flight in one direction, opened in order.
    let frames: Vec<_> = (0..10).map(|i| seal_c(&mut c, &plaintext(i * 10, i as u8))).collect();
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(open_s(&mut s, f).unwrap(), plaintext(i * 10, i as u8));
    }
}

#[test]
fn sizes_around_the_noise_message_limit_and_the_cap() {
    let (mut c, mut s, _) = open_pair("sizes");
    for len in [0, 1, 65_518, 65_519, 65_520, 131_038, 131_072, 132_096, MAX_PLAINTEXT_LEN] {
        let p = plaintext(len, 3);
        let frame = seal_c(&mut c, &p);
        assert_eq!(frame.len(), sealed_len(len), "len {len}");
        assert_eq!(open_s(&mut s, &frame).unwrap(), p, "len {len}");
        let back = seal_s(&mut s, &p);
        assert_eq!(open_c(&mut c, &back).unwrap(), p, "len {len}");
    }
    assert_eq!(MAX_FRAME_LEN, sealed_len(MAX_PLAINTEXT_LEN));
}

#[test]
fn output_is_appended_and_untouched_on_failure() {
    let (mut c, mut s, _) = open_pair("append");
    let mut wire = b"head".to_vec();
    c.seal(b"body", &mut wire).unwrap();
    assert_eq!(&wire[..4], b"head");
    let mut out = b"prefix".to_vec();
    s.open(&wire[4..], &mut out, NOW).unwrap();
    assert_eq!(out, b"prefixbody");
    let mut bad = seal_c(&mut c, b"second");
    bad[0] ^= 1;
    s.open(&bad, &mut out, NOW).unwrap_err();
    assert_eq!(out, b"prefixbody");
}

#[test]
fn wrong_attestation_hash_fails_the_handshake() {
    let secret = server_secret();
    let (_, msg1) = Initiator::new(&secret.public(), &[0xa8; 32], bytes("e")).unwrap();
    let e = Responder::respond(&secret, &ATTESTATION_HASH, &msg1, bytes("se")).unwrap_err();
    assert_eq!(e.code(), SESSION_HANDSHAKE_FAILED);
}

#[test]
fn wrong_server_key_fails_the_handshake() {
    let secret = server_secret();
    let other = SessionSecret::from_bytes(bytes("another enclave"));
    // The client aims at `other`, the enclave holds `secret`.
    let (init, msg1) = Initiator::new(&other.public(), &ATTESTATION_HASH, bytes("e")).unwrap();
    let e = Responder::respond(&secret, &ATTESTATION_HASH, &msg1, bytes("se")).unwrap_err();
    assert_eq!(e.code(), SESSION_HANDSHAKE_FAILED);
    // A relay answering on its own with an enclave it controls: message 2
    // from the holder of `secret` does not finish a handshake aimed at `other`.
    let (init2, msg1b) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("e2")).unwrap();
    let (_, msg2) = Responder::respond(&secret, &ATTESTATION_HASH, &msg1b, bytes("se2")).unwrap();
    assert_eq!(init.finish(&msg2).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
    drop(init2);
}

#[test]
fn damaged_or_foreign_handshake_messages_fail() {
    let secret = server_secret();
    let (init, msg1) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("e")).unwrap();
    for len in [0, 47, 49, 96] {
        let m = vec![1u8; len];
        assert_eq!(
            Responder::respond(&secret, &ATTESTATION_HASH, &m, bytes("s")).unwrap_err().code(),
            SESSION_HANDSHAKE_FAILED
        );
    }
    for i in [0, 31, 32, 47] {
        let mut m = msg1.clone();
        m[i] ^= 0x80;
        assert_eq!(
            Responder::respond(&secret, &ATTESTATION_HASH, &m, bytes("s")).unwrap_err().code(),
            SESSION_HANDSHAKE_FAILED
        );
    }
    let (_, msg2) = Responder::respond(&secret, &ATTESTATION_HASH, &msg1, bytes("s")).unwrap();
    let mut bad = msg2.clone();
    bad[40] ^= 1;
    let (init_b, _) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("e")).unwrap();
    assert_eq!(init_b.finish(&bad).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
    assert_eq!(
        Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("e"))
            .unwrap()
            .0
            .finish(&msg2[..47])
            .unwrap_err()
            .code(),
        SESSION_HANDSHAKE_FAILED
    );
    // Message 2 of another client's handshake.
    let (_, other1) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("other")).unwrap();
    let (_, other2) = Responder::respond(&secret, &ATTESTATION_HASH, &other1, bytes("s2")).unwrap();
    assert_eq!(init.finish(&other2).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
}

#[test]
fn same_inputs_same_messages_no_hidden_randomness() {
    let secret = server_secret();
    let (_, a) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("e")).unwrap();
    let (_, b) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("e")).unwrap();
    assert_eq!(a, b);
    let (_, c) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("f")).unwrap();
    assert_ne!(a, c);
}

#[test]
fn tampered_frames_fail_and_poison() {
    // Every byte position of a short frame, and the tag.
    for i in 0..(20 + FRAME_OVERHEAD) {
        let (mut c, mut s, _) = open_pair("tamper");
        let mut f = seal_c(&mut c, &plaintext(20, 1));
        f[i] ^= 0x01;
        assert_eq!(open_s(&mut s, &f).unwrap_err().code(), SESSION_BROKEN, "byte {i}");
        assert_server_dead(&mut s, &mut c);
    }
    // Server to client.
    let (mut c, mut s, _) = open_pair("tamper back");
    let mut f = seal_s(&mut s, b"answer");
    f[2] ^= 0x40;
    assert_eq!(open_c(&mut c, &f).unwrap_err().code(), SESSION_BROKEN);
    let next = seal_s(&mut s, b"next");
    assert_eq!(open_c(&mut c, &next).unwrap_err().code(), SESSION_BROKEN);
    assert_eq!(c.seal(b"x", &mut Vec::new()).unwrap_err().code(), SESSION_BROKEN);
}

#[test]
fn replayed_frame_fails_and_poisons() {
    let (mut c, mut s, _) = open_pair("replay");
    let f = seal_c(&mut c, b"sign this");
    open_s(&mut s, &f).unwrap();
    assert_eq!(open_s(&mut s, &f).unwrap_err().code(), SESSION_BROKEN);
    assert_server_dead(&mut s, &mut c);
}

#[test]
fn reordered_frames_fail_and_poison() {
    let (mut c, mut s, _) = open_pair("reorder");
    let f1 = seal_c(&mut c, b"one");
    let f2 = seal_c(&mut c, b"two");
    assert_eq!(open_s(&mut s, &f2).unwrap_err().code(), SESSION_BROKEN);
    assert_eq!(open_s(&mut s, &f1).unwrap_err().code(), SESSION_BROKEN);
}

#[test]
fn dropped_frame_then_the_dropped_one_later_fail() {
    let (mut c, mut s, _) = open_pair("drop");
    let f1 = seal_c(&mut c, b"one");
    let f2 = seal_c(&mut c, b"two");
    let f3 = seal_c(&mut c, b"three");
    open_s(&mut s, &f1).unwrap();
    // f2 dropped by the relay: f3 fails, and so does f2 delivered late.
    assert_eq!(open_s(&mut s, &f3).unwrap_err().code(), SESSION_BROKEN);
    assert_eq!(open_s(&mut s, &f2).unwrap_err().code(), SESSION_BROKEN);
}

#[test]
fn injected_frames_fail_and_poison() {
    for len in [0, 1, 15, 16, 17, 116, 65_535, 65_536] {
        let (mut c, mut s, _) = open_pair("inject");
        let junk = vec![0x42; len];
        assert_eq!(open_s(&mut s, &junk).unwrap_err().code(), SESSION_BROKEN, "len {len}");
        assert_server_dead(&mut s, &mut c);
    }
    // The authentication frame re-sent as a data frame.
    let secret = server_secret();
    let (init, m1) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("ae")).unwrap();
    let (mut hs, m2) = Responder::respond(&secret, &ATTESTATION_HASH, &m1, bytes("as")).unwrap();
    let (mut c, auth) = init.finish(&m2).unwrap().authenticate("desk-7", &[1; 64]).unwrap();
    hs.open_auth(&auth).unwrap();
    let mut s = hs.establish("desk-7", NOW, LIFETIME).unwrap();
    assert_eq!(open_s(&mut s, &auth).unwrap_err().code(), SESSION_BROKEN);
    assert_server_dead(&mut s, &mut c);
}

#[test]
fn frames_from_another_session_fail() {
    let (mut c1, mut s1, d1) = open_pair("session one");
    let (mut c2, mut s2, d2) = open_pair("session two");
    assert_ne!(d1, d2, "the auth digest differs per session");
    let f = seal_c(&mut c1, b"for session one");
    assert_eq!(open_s(&mut s2, &f).unwrap_err().code(), SESSION_BROKEN);
    let back = seal_s(&mut s1, b"from session one");
    assert_eq!(open_c(&mut c2, &back).unwrap_err().code(), SESSION_BROKEN);
    // The right sessions are unaffected.
    assert_eq!(open_s(&mut s1, &f).unwrap(), b"for session one");
    assert_eq!(open_c(&mut c1, &back).unwrap(), b"from session one");
}

#[test]
fn a_relay_cannot_cut_or_glue_frames() {
    let chunk = 65_535;
    // Cut a two-chunk frame after its full chunk: refused.
    let (mut c, mut s, _) = open_pair("cut");
    let f = seal_c(&mut c, &plaintext(70_000, 9));
    assert!(f.len() > chunk);
    assert_eq!(open_s(&mut s, &f[..chunk]).unwrap_err().code(), SESSION_BROKEN);
    // A plaintext of exactly one full chunk still ends in a short (tag-only) chunk.
    let (mut c, mut s, _) = open_pair("exact");
    let f = seal_c(&mut c, &plaintext(65_519, 9));
    assert_eq!(f.len(), chunk + FRAME_OVERHEAD);
    assert_eq!(open_s(&mut s, &f[..chunk]).unwrap_err().code(), SESSION_BROKEN);
    // Glue two frames into one: refused.
    let (mut c, mut s, _) = open_pair("glue");
    let mut glued = seal_c(&mut c, b"first");
    glued.extend(seal_c(&mut c, b"second"));
    assert_eq!(open_s(&mut s, &glued).unwrap_err().code(), SESSION_BROKEN);
    // Split one frame into two: refused.
    let (mut c, mut s, _) = open_pair("split");
    let f = seal_c(&mut c, &plaintext(200, 1));
    assert_eq!(open_s(&mut s, &f[..100]).unwrap_err().code(), SESSION_BROKEN);
    // Swap the chunks of a multi-chunk frame: refused.
    let (mut c, mut s, _) = open_pair("swap");
    let f = seal_c(&mut c, &plaintext(2 * 65_519 + 10, 1));
    let mut swapped = f[chunk..2 * chunk].to_vec();
    swapped.extend_from_slice(&f[..chunk]);
    swapped.extend_from_slice(&f[2 * chunk..]);
    assert_eq!(open_s(&mut s, &swapped).unwrap_err().code(), SESSION_BROKEN);
}

#[test]
fn expiry() {
    let (mut c, mut s, _) = open_pair("expiry");
    let mut out = Vec::new();
    let f = seal_c(&mut c, b"just in time");
    s.open(&f, &mut out, NOW + LIFETIME - 1).unwrap();
    let f = seal_c(&mut c, b"too late");
    assert_eq!(s.open(&f, &mut out, NOW + LIFETIME).unwrap_err().code(), SESSION_EXPIRED);
    // For good, even if the clock steps back.
    assert_eq!(s.open(&f, &mut out, NOW).unwrap_err().code(), SESSION_EXPIRED);
    assert_eq!(s.seal(b"x", &mut out).unwrap_err().code(), SESSION_EXPIRED);
    // A lifetime that would overflow saturates.
    let secret = server_secret();
    let (init, m1) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes("x")).unwrap();
    let (mut hs, m2) = Responder::respond(&secret, &ATTESTATION_HASH, &m1, bytes("y")).unwrap();
    let (_, auth) = init.finish(&m2).unwrap().authenticate("p", &[1]).unwrap();
    hs.open_auth(&auth).unwrap();
    assert_eq!(hs.establish("p", NOW, u64::MAX).unwrap().expires_at_us(), u64::MAX);
}

#[test]
fn seal_after_expiry_time_is_allowed_until_an_open_notices() {
    let (mut c, mut s, _) = open_pair("late answer");
    let f = seal_c(&mut c, b"request");
    s.open(&f, &mut Vec::new(), NOW + LIFETIME - 1).unwrap();
    // The answer is sealed after the deadline passed: still delivered.
    let answer = seal_s(&mut s, b"answer");
    assert_eq!(open_c(&mut c, &answer).unwrap(), b"answer");
}

#[test]
fn close() {
    let (mut c, mut s, _) = open_pair("close");
    let f = seal_c(&mut c, b"x");
    s.close();
    assert_eq!(open_s(&mut s, &f).unwrap_err().code(), SESSION_CLOSED);
    assert_eq!(s.seal(b"x", &mut Vec::new()).unwrap_err().code(), SESSION_CLOSED);
    c.close();
    assert_eq!(c.seal(b"x", &mut Vec::new()).unwrap_err().code(), SESSION_CLOSED);
    assert_eq!(c.open(&f, &mut Vec::new()).unwrap_err().code(), SESSION_CLOSED);
}

#[test]
fn frame_size_caps() {
    let (mut c, mut s, _) = open_pair("caps");
    let mut out = Vec::new();
    let e = c.seal(&vec![0; MAX_PLAINTEXT_LEN + 1], &mut out).unwrap_err();
    assert_eq!(e.code(), SESSION_FRAME_TOO_LARGE);
    assert!(out.is_empty());
    // A too-large plaintext is the sender's mistake: the session goes on.
    let f = seal_c(&mut c, b"still fine");
    assert_eq!(open_s(&mut s, &f).unwrap(), b"still fine");
    // A too-large frame from the relay kills the receiving side.
    let e = s.open(&vec![0; MAX_FRAME_LEN + 1], &mut out, NOW).unwrap_err();
    assert_eq!(e.code(), SESSION_FRAME_TOO_LARGE);
    assert_server_dead(&mut s, &mut c);
}

#[test]
fn establish_needs_the_claimed_principal_after_open_auth() {
    let secret = server_secret();
    let start = |tag: &str| {
        let (init, m1) = Initiator::new(&secret.public(), &ATTESTATION_HASH, bytes(&format!("{tag}c"))).unwrap();
        let (hs, m2) = Responder::respond(&secret, &ATTESTATION_HASH, &m1, bytes(&format!("{tag}s"))).unwrap();
        (init.finish(&m2).unwrap(), hs)
    };
    // Without open_auth.
    let (_, hs) = start("a");
    assert_eq!(hs.establish("desk-7", NOW, LIFETIME).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
    // With another principal than the claimed one.
    let (client, mut hs) = start("b");
    let (_, auth) = client.authenticate("desk-7", &[1; 64]).unwrap();
    hs.open_auth(&auth).unwrap();
    assert_eq!(hs.establish("desk-8", NOW, LIFETIME).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
    // open_auth twice.
    let (client, mut hs) = start("c");
    let (_, auth) = client.authenticate("desk-7", &[1; 64]).unwrap();
    hs.open_auth(&auth).unwrap();
    assert_eq!(hs.open_auth(&auth).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
    assert_eq!(hs.establish("desk-7", NOW, LIFETIME).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
    // A damaged authentication frame.
    let (client, mut hs) = start("d");
    let (_, mut auth) = client.authenticate("desk-7", &[1; 64]).unwrap();
    auth[3] ^= 1;
    assert_eq!(hs.open_auth(&auth).unwrap_err().code(), SESSION_BROKEN);
    assert_eq!(hs.establish("desk-7", NOW, LIFETIME).unwrap_err().code(), SESSION_HANDSHAKE_FAILED);
    // Garbage and oversized authentication frames.
    let (_, mut hs) = start("e");
    assert_eq!(hs.open_auth(&[0u8; 40]).unwrap_err().code(), SESSION_BROKEN);
    let (_, mut hs) = start("f");
    assert_eq!(hs.open_auth(&[0u8; 4096]).unwrap_err().code(), SESSION_AUTH_MALFORMED);
    // The client refuses to send what the enclave would refuse.
    let (client, _) = start("g");
    assert_eq!(client.authenticate("", &[1; 64]).unwrap_err().code(), SESSION_AUTH_MALFORMED);
    let (client, _) = start("h");
    let long = "p".repeat(MAX_PRINCIPAL_LEN + 1);
    assert_eq!(client.authenticate(&long, &[1; 64]).unwrap_err().code(), SESSION_AUTH_MALFORMED);
}

#[test]
fn auth_digest_differs_per_session_and_per_attestation_document() {
    let (_, _, d1) = open_pair("d1");
    let (_, _, d2) = open_pair("d2");
    assert_ne!(d1, d2);
    // Same ephemerals on both sides reproduce the same handshake, hence the same digest.
    let (_, _, d1_again) = open_pair("d1");
    assert_eq!(d1, d1_again);
    // Another attestation hash changes it even with the same keys.
    let secret = server_secret();
    let other_hash = [0x01; 32];
    let (init, m1) = Initiator::new(&secret.public(), &other_hash, bytes("d1 client e")).unwrap();
    let (hs, m2) = Responder::respond(&secret, &other_hash, &m1, bytes("d1 server e")).unwrap();
    assert_ne!(init.finish(&m2).unwrap().auth_digest(), d1);
    assert_ne!(hs.auth_digest(), d1);
}

#[test]
fn codes() {
    let all = [
        SESSION_HANDSHAKE_FAILED,
        SESSION_AUTH_MALFORMED,
        SESSION_BROKEN,
        SESSION_EXPIRED,
        SESSION_FRAME_TOO_LARGE,
        SESSION_CLOSED,
    ];
    assert_eq!(ErrorCode::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), all);
    for code in all {
        assert!(is_well_formed_code(code), "{code}");
    }
    let secret = server_secret();
    let e = Responder::respond(&secret, &ATTESTATION_HASH, &[0; 3], bytes("s")).unwrap_err();
    let coded: &dyn CodedError = &e;
    assert_eq!(coded.code(), SESSION_HANDSHAKE_FAILED);
    assert!(!coded.message().is_empty());
    assert!(e.to_string().starts_with("SESSION_HANDSHAKE_FAILED: "));
}

#[test]
fn constants_match_the_contract() {
    assert_eq!(PROTOCOL_NAME, "Noise_NK_25519_AESGCM_SHA256");
    assert_eq!(PROLOGUE_TAG, b"sentinel/session/v1");
    assert_eq!(AUTH_DIGEST_TAG, b"sentinel/session-auth/v1");
    assert_eq!(HANDSHAKE_MESSAGE_LEN, 48);
    assert_eq!(sealed_len(0), 16);
    assert_eq!(sealed_len(100), 116);
    assert_eq!(sealed_len(65_518), 65_534);
    assert_eq!(sealed_len(65_519), 65_535 + 16);
    // A sealed frame fits the protocol's 1 MiB frame with room for its envelope.
    const { assert!(MAX_FRAME_LEN < (1 << 20) - 4096) };
}

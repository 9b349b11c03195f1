//! What the kill switch costs on the sign path, and how fast a halt takes
//! effect under load (issue #10), in one run, in process (`Enclave::handle`,
//! the code every transport calls).
//!
//! 1. **Check cost.** Stamped `sign_digest` requests (a fresh stamp each,
//!    answered with a signed receipt) with the switch Green and nothing else
//!    set, against the same requests while 1,000 other keys and 1,000 other
//!    principals are halted (every request then looks its key and principal
//!    up). Rows alternate in blocks so machine noise hits both alike. Also the
//!    check on its own: a `RwLock<KillSwitch>` read plus `effective()`, as
//!    `decide.rs` does it, per call.
//! 2. **Halt to effect.** Two signing threads (the machine has two cores) sign
//!    back to back; a halt is sent; reported are the time until the halt is
//!    acknowledged and the time from sending it to the last signature any
//!    thread received (negative: the last one came before the halt was sent).
//!    Repeated `BENCH_TRIALS` times (a quorum resume between trials).
//!
//! `BENCH_ITERATIONS` sets the requests per row (default 20,000). The last
//! stdout line is one JSON object.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sentinel_config::{Alg, Credential, CredentialKind};
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_oversight::{Action, Command, KillSwitch, Level, Scope};
use sentinel_protocol::{Curve, GenerateKeyArgs, KeyPurpose, Operation, Request, Response, SignDigestArgs};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

fn nonce() -> [u8; 16] {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let mut n = [0u8; 16];
    n[..8].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    n
}

fn command(action: Action) -> Command {
    sentinel_client::oversight_command(action, now_us(), nonce())
}

fn oversee(enclave: &Enclave, c: &Command, admin: &Credential) -> Response {
    enclave.handle(Request::Oversight(sentinel_client::oversight_request(c, &[admin])))
}

fn resume(enclave: &Enclave, admin: &Credential) {
    let answer = sentinel_client::resume_global(|r| enclave.handle(r), &[admin], now_us(), nonce());
    assert!(matches!(answer, Response::OversightStatus(_)), "{answer:?}");
}

fn halt(enclave: &Enclave, scope: Scope, admin: &Credential) {
    let c = Command { scope: Some(scope), level: Some(Level::Red), ..command(Action::Halt) };
    let r = oversee(enclave, &c, admin);
    assert!(matches!(r, Response::OversightStatus(_)), "{r:?}");
}

fn sign_request(client: &Credential, key_id: &str, i: u64) -> Request {
    let mut digest = [0x5a; 32];
    digest[..8].copy_from_slice(&i.to_be_bytes());
    let op = Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: digest.to_vec() });
    Request::Stamped(sentinel_client::stamped_request(client, &op, now_us(), nonce()))
}

fn is_signature(r: &Response) -> bool {
    matches!(r, Response::Receipted(r) if matches!(*r.answer, Response::Signature(_)))
}

/// Mean ns per call of `op` over `n` calls.
fn per_op_ns(n: u64, mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        op(i);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

fn main() {
    let iterations: u64 = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let trials: usize = std::env::var("BENCH_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    let admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0xad; 32]).expect("admin");
    let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[0xc1; 32]).expect("client");

    let make = |name: &str| {
        let nsm = SimulatedNsm::open(dir.path(), sentinel_nsm::pcr::pcrs_from_artifact(b"bench"), Arc::new(now_ms))
            .expect("simulator");
        let enclave = Arc::new(Enclave::new(Arc::new(nsm), name.into(), &EnclaveConfig::default()).expect("enclave"));
        let signed = sentinel_config::development_signed_configuration(&admin, &client).expect("dev config");
        let r = enclave
            .handle(Request::UpdateConfig(sentinel_protocol::UpdateConfigArgs { signed_config: signed.encode() }));
        assert!(matches!(r, Response::ConfigUpdated(_)), "{r:?}");
        let policy = sentinel_policy::development_signed_policy(&admin).expect("dev policy").to_json().into_bytes();
        let r = enclave.handle(Request::UpdatePolicy(sentinel_protocol::UpdatePolicyArgs {
            signed_policy: policy,
            models: Vec::new(),
        }));
        assert!(matches!(r, Response::PolicyUpdated(_)), "{r:?}");
        resume(&enclave, &admin);
        let op = Operation::GenerateKey(GenerateKeyArgs {
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Raw,
            label: "bench".into(),
        });
        let r = enclave.handle(Request::Stamped(sentinel_client::stamped_request(&client, &op, now_us(), nonce())));
        let Response::Receipted(r) = r else { panic!("generate_key") };
        let Response::KeyGenerated(k) = *r.answer else { panic!("generate_key") };
        (enclave, k.key_id)
    };

    // 1. The check's cost: green and empty vs 2,000 other scopes halted.
    let (plain, plain_key) = make("plain");
    let (crowded, crowded_key) = make("crowded");
    for i in 0..1000 {
        halt(&crowded, Scope::Key(format!("0x{i:016x}")), &admin);
        halt(&crowded, Scope::Principal(format!("agent-{i}")), &admin);
    }
    let block = (iterations / 10).max(1);
    let (mut plain_ns, mut crowded_ns) = (Vec::new(), Vec::new());
    for b in 0..10 {
        plain_ns.push(per_op_ns(block, |i| {
            assert!(is_signature(&plain.handle(sign_request(&client, &plain_key, b * block + i))));
        }));
        crowded_ns.push(per_op_ns(block, |i| {
            assert!(is_signature(&crowded.handle(sign_request(&client, &crowded_key, b * block + i))));
        }));
    }
    let (plain_ns, crowded_ns) = (median(plain_ns), median(crowded_ns));
    let mut switch = KillSwitch::boot(now_us(), 0);
    switch.set(Scope::Global, Level::Green, "bench".into(), vec![], now_us());
    let switch = RwLock::new(switch);
    let check_ns = per_op_ns(iterations * 10, |i| {
        let guard = switch.read().expect("lock");
        let e = guard.effective(Some(std::hint::black_box("0x00000000000000aa")), "dev-client", 1_000 + i);
        std::hint::black_box(e.level);
    });

    // 2. Halt to effect under load.
    let (loaded, loaded_key) = make("loaded");
    let (mut ack_us, mut last_us) = (Vec::new(), Vec::new());
    for trial in 0..trials {
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..2u64)
            .map(|w| {
                let (enclave, key, stop) = (loaded.clone(), loaded_key.clone(), stop.clone());
                // Each thread its own copy of the test principal's credential (fixed seed).
                let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[0xc1; 32])
                    .expect("client");
                std::thread::spawn(move || {
                    let mut last_signature: Option<Instant> = None;
                    let mut i = (trial as u64) << 40 | w << 32;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        if is_signature(&enclave.handle(sign_request(&client, &key, i))) {
                            last_signature = Some(Instant::now());
                        } else {
                            break; // refused: the halt is in effect for this thread
                        }
                    }
                    last_signature
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let sent = Instant::now();
        halt(&loaded, Scope::Global, &admin);
        let acknowledged = Instant::now();
        stop.store(true, Ordering::Relaxed);
        let last = workers.into_iter().filter_map(|w| w.join().expect("worker")).max();
        ack_us.push(acknowledged.duration_since(sent).as_secs_f64() * 1e6);
        last_us.push(match last {
            Some(t) if t >= sent => t.duration_since(sent).as_secs_f64() * 1e6,
            Some(t) => -(sent.duration_since(t).as_secs_f64() * 1e6),
            None => f64::NAN,
        });
        resume(&loaded, &admin);
    }
    let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
    println!("kill switch (in process, {iterations} stamped sign_digest per row, medians of 10 blocks)");
    println!("  sign path, switch green, nothing else set : {:>9.0} ns", plain_ns);
    println!(
        "  sign path, 1,000 keys + 1,000 principals halted elsewhere: {:>9.0} ns ({:.3}x)",
        crowded_ns,
        crowded_ns / plain_ns
    );
    println!(
        "  the check alone (RwLock read + effective) : {:>9.1} ns ({:.4}% of the sign path)",
        check_ns,
        100.0 * check_ns / plain_ns
    );
    println!("halt to effect under load (2 signing threads, {trials} trials)");
    println!(
        "  halt acknowledged after          : p50 {:>8.1} µs, max {:>8.1} µs",
        median(ack_us.clone()),
        max(&ack_us)
    );
    println!(
        "  last signature after halt sent   : p50 {:>8.1} µs, max {:>8.1} µs",
        median(last_us.clone()),
        max(&last_us)
    );
    println!(
        "{{\"sign_ns\":{plain_ns:.0},\"sign_crowded_ns\":{crowded_ns:.0},\"crowded_ratio\":{:.3},\"check_ns\":{check_ns:.1},\"check_share\":{:.5},\"halt_ack_us_p50\":{:.1},\"halt_ack_us_max\":{:.1},\"halt_to_last_signature_us_p50\":{:.1},\"halt_to_last_signature_us_max\":{:.1},\"trials\":{trials}}}",
        crowded_ns / plain_ns,
        check_ns / plain_ns,
        median(ack_us.clone()),
        max(&ack_us),
        median(last_us.clone()),
        max(&last_us)
    );
}

//! What the policy stage adds to a signature, in one run (issue #9: <= 10%,
//! model excluded).
//!
//! Two enclaves in this process, each behind its own Unix socket and
//! scheduled server, with the same configuration and the same kind of key:
//!
//! - **off**: `Enclave::unsafe_skip_policy_for_benchmarks` (simulator builds
//!   only): signs with no policy stage at all;
//! - **on**: a five-rule policy (chain, notional limit per transaction and per
//!   minute on native value, rate limit, contract deny list, time window) —
//!   the six rule types minus the risk model, which is measured on its own by
//!   `cargo bench -p sentinel-policy --bench risk`.
//!
//! Each row is a stamped `sign_ethereum_transaction` (an EIP-1559 transfer
//! that every rule applies to, so none is skipped), a fresh stamp per request,
//! answered with a signed receipt; rows alternate between the two enclaves in
//! blocks so that machine noise hits both alike. Also in process:
//! `Enclave::decide` of the same operation, on and off. `BENCH_ITERATIONS`
//! sets the requests per row (default 20,000). The last stdout line is one
//! JSON object.
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentinel_client::Client;
use sentinel_config::{Alg, Credential, CredentialKind, Principal};
use sentinel_enclave::{serve, Enclave, EnclaveConfig, Listener};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::{
    Curve, GenerateKeyArgs, KeyGenerated, KeyPurpose, Operation, Request, Response, SignEthereumTransactionArgs,
};

const POLICY: &str = r#"{
  "version": 1,
  "name": "bench-five-rules",
  "rules": [
    {"id": "mainnet-only", "type": "chain", "chain_ids": [1], "allow_unprotected": false},
    {"id": "eth-cap", "type": "notional_limit", "asset": "native:1", "per": "key",
     "per_transaction": "10000000000000000000",
     "windows": [{"window": "1m", "limit": "1000000000000000000000000"}]},
    {"id": "burst", "type": "rate_limit", "per": "key", "rate": {"count": 1000000, "per": "1s"}, "burst": 1000000, "cooldown_ms": 1000},
    {"id": "sanctioned", "type": "contract_list", "effect": "deny",
     "destinations": ["0x000000000000000000000000000000000000dead"], "tokens": [], "recipients": [], "selectors": []},
    {"id": "always", "type": "time_window", "preset": "crypto_24_7"}
  ]
}"#;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

struct Side {
    enclave: Arc<Enclave>,
    client: Client<UnixStream>,
    key_id: String,
    principal: Principal,
}

fn start(dir: &std::path::Path, name: &str, admin: &Credential, user: &Credential, policy_on: bool) -> Side {
    let nsm =
        SimulatedNsm::open(dir, sentinel_nsm::pcr::pcrs_from_artifact(b"bench"), Arc::new(now_ms)).expect("simulator");
    let enclave = Arc::new(Enclave::new(Arc::new(nsm), name.into(), &EnclaveConfig::default()).expect("enclave"));
    let signed = sentinel_config::development_signed_configuration(admin, user).expect("dev config");
    let Response::ConfigUpdated(_) =
        enclave.handle(Request::UpdateConfig(sentinel_protocol::UpdateConfigArgs { signed_config: signed.encode() }))
    else {
        panic!("update_config failed")
    };
    if policy_on {
        let mut policy = sentinel_policy::SignedPolicy::new(POLICY.as_bytes()).expect("policy");
        policy.sign(admin).expect("sign policy");
        let answer = enclave.handle(Request::UpdatePolicy(sentinel_protocol::UpdatePolicyArgs {
            signed_policy: policy.to_json().into_bytes(),
            models: Vec::new(),
        }));
        assert!(matches!(answer, Response::PolicyUpdated(_)), "{answer:?}");
    } else {
        enclave.unsafe_skip_policy_for_benchmarks();
    }
    resume(&enclave, admin);
    let principal = signed.configuration().expect("configuration").principal(user.id()).expect("principal").clone();
    let socket = dir.join(format!("{name}.sock"));
    let server = enclave.clone();
    let server_socket = socket.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = sentinel_enclave::runtime().expect("runtime");
        runtime.block_on(async move {
            let listener = Listener::bind_unix(&server_socket).expect("bind");
            ready_tx.send(()).expect("bench alive");
            serve(listener, server, std::future::pending()).await
        })
    });
    ready_rx.recv().expect("server started");
    let mut client = Client::new(UnixStream::connect(&socket).expect("connect"));
    let generate = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Ethereum,
        label: "bench".into(),
    });
    let (answer, _) = client.stamped(user, &generate, now_us(), nonce(u64::MAX)).expect("generate");
    let Response::KeyGenerated(KeyGenerated { key_id, .. }) = answer else { panic!("generate_key: {answer:?}") };
    Side { enclave, client, key_id, principal }
}

fn nonce(counter: u64) -> [u8; 16] {
    let mut n = [0u8; 16];
    n[..8].copy_from_slice(&counter.to_be_bytes());
    n[8..].copy_from_slice(&(std::process::id() as u64).to_be_bytes());
    n
}

/// An EIP-1559 transfer of 1 gwei on chain 1 to a fixed address.
fn transfer() -> Vec<u8> {
    sentinel_eth::encode_transaction_json(
        r#"{"type": 2, "chainId": 1, "nonce": 7, "maxPriorityFeePerGas": "0x3b9aca00", "maxFeePerGas": "0x2540be400",
            "gas": "0x5208", "to": "0x3535353535353535353535353535353535353535", "value": "0x3b9aca00", "data": "0x"}"#,
    )
    .expect("transaction")
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_secs_f64() * 1e6
}

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0xad; 32]).expect("admin");
    let user = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[0xc1; 32]).expect("client");
    let dir_off = tempfile::tempdir().expect("temp dir");
    let dir_on = tempfile::tempdir().expect("temp dir");
    let mut off = start(dir_off.path(), "off", &admin, &user, false);
    let mut on = start(dir_on.path(), "on", &admin, &user, true);
    let tx = transfer();

    let mut counter = 0u64;
    let mut round_trip = |side: &mut Side| -> Duration {
        counter += 1;
        let op = Operation::SignEthereumTransaction(SignEthereumTransactionArgs {
            key_id: side.key_id.clone(),
            unsigned_tx: tx.clone(),
        });
        let start = Instant::now();
        let (answer, _receipt) = side.client.stamped(&user, &op, now_us(), nonce(counter)).expect("stamped");
        let took = start.elapsed();
        assert!(matches!(answer, Response::SignedTransaction(_)), "{answer:?}");
        took
    };
    // Warm up both, then alternate blocks of 500.
    for _ in 0..1_000 {
        round_trip(&mut off);
        round_trip(&mut on);
    }
    let (mut off_rtt, mut on_rtt) = (Vec::with_capacity(iterations), Vec::with_capacity(iterations));
    while off_rtt.len() < iterations {
        for _ in 0..500 {
            off_rtt.push(round_trip(&mut off));
        }
        for _ in 0..500 {
            on_rtt.push(round_trip(&mut on));
        }
    }

    // In process: the decision alone (permission, key, policy, sign; no receipt, no transport).
    let decide = |side: &Side| -> Duration {
        let op = Operation::SignEthereumTransaction(SignEthereumTransactionArgs {
            key_id: side.key_id.clone(),
            unsigned_tx: tx.clone(),
        });
        let start = Instant::now();
        let decided = side.enclave.decide(&side.principal, op);
        let took = start.elapsed();
        assert!(matches!(decided.response, Response::SignedTransaction(_)), "{:?}", decided.response);
        took
    };
    let (mut off_decide, mut on_decide) = (Vec::with_capacity(iterations), Vec::with_capacity(iterations));
    while off_decide.len() < iterations {
        for _ in 0..500 {
            off_decide.push(decide(&off));
        }
        for _ in 0..500 {
            on_decide.push(decide(&on));
        }
    }

    let (rtt_off, rtt_on) = (median(off_rtt), median(on_rtt));
    let (decide_off, decide_on) = (median(off_decide), median(on_decide));
    println!(
        "sign_ethereum_transaction, policy off vs five-rule policy on, {iterations} requests per row (µs, median)"
    );
    println!("{:<44} {:>9} {:>9} {:>7}", "", "off", "on", "on/off");
    println!(
        "{:<44} {:>9.2} {:>9.2} {:>7.3}",
        "stamped round trip (receipt, Unix socket)",
        rtt_off,
        rtt_on,
        rtt_on / rtt_off
    );
    println!(
        "{:<44} {:>9.2} {:>9.2} {:>7.3}",
        "in-process decide (no receipt)",
        decide_off,
        decide_on,
        decide_on / decide_off
    );
    println!(
        "{{\"iterations\":{iterations},\"rtt_off_us\":{rtt_off:.3},\"rtt_on_us\":{rtt_on:.3},\"rtt_ratio\":{:.4},\"decide_off_us\":{decide_off:.3},\"decide_on_us\":{decide_on:.3},\"decide_ratio\":{:.4}}}",
        rtt_on / rtt_off,
        decide_on / decide_off
    );
}

/// The enclave boots halted (no durable kill-switch state): resume it with the admin's signature.
fn resume(enclave: &Enclave, admin: &Credential) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_micros() as u64;
    let answer = sentinel_client::resume_global(|r| enclave.handle(r), &[admin], now, *b"bench-resume-000");
    assert!(matches!(answer, Response::OversightStatus(_)), "{answer:?}");
}

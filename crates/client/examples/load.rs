//! Native load client for bench/api-load.mjs: stamped `sign_digest` requests
//! sent straight to the enclave's Unix socket with [`sentinel_client::Client`]
//! (no HTTP, no Node, no host API), to measure in the same run what the
//! enclave itself costs and sustains.
//!
//! Every request is what the HTTP sign route relays: `encode_body(sign_digest)`
//! stamped by the principal's credential with a fresh 16-byte nonce. The
//! stamps (the expensive, Ed25519 part of the client's work) are made before
//! the clock starts, split over the worker threads; inside the clock each
//! thread does `Client::call(stamped)` in a closed loop (one request in flight
//! per connection) and checks the answer is a receipted `signature`. The run
//! ends after `--duration-ms` or when a thread used up its share of the pool.
//! The receipt is not verified (the HTTP load generators do not verify either).
//!
//! ```text
//! cargo run --release -p sentinel-client --example load -- \
//!   --socket DATA_DIR/enclave.sock --credential DATA_DIR/client.key --key-id ID \
//!   --connections 16 --duration-ms 10000 --pool 200000
//! ```
//!
//! Prints one JSON object on stdout: requests, ok, errors (by code), elapsed_s,
//! throughput (ok answers per second), latency percentiles in µs, exhausted.
use std::collections::BTreeMap;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentinel_client::{stamped_request, Client};
use sentinel_config::Credential;
use sentinel_protocol::{Operation, Request, Response, SignDigestArgs, StampedArgs};
use sha2::{Digest, Sha256};

struct Args {
    socket: String,
    credential: String,
    key_id: String,
    connections: usize,
    duration: Duration,
    pool: usize,
    warmup: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("load: {msg}");
    eprintln!(
        "usage: load --socket PATH --credential FILE --key-id ID [--connections N] [--duration-ms MS] [--pool N] [--warmup N]"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        socket: String::new(),
        credential: String::new(),
        key_id: String::new(),
        connections: 1,
        duration: Duration::from_secs(10),
        pool: 100_000,
        warmup: 200,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = |v: String| v.parse::<u64>().unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")));
        match flag.as_str() {
            "--socket" => args.socket = value(),
            "--credential" => args.credential = value(),
            "--key-id" => args.key_id = value(),
            "--connections" => args.connections = number(value()) as usize,
            "--duration-ms" => args.duration = Duration::from_millis(number(value())),
            "--pool" => args.pool = number(value()) as usize,
            "--warmup" => args.warmup = number(value()) as usize,
            other => usage(&format!("unknown flag {other}")),
        }
    }
    if args.socket.is_empty() || args.credential.is_empty() || args.key_id.is_empty() {
        usage("--socket, --credential and --key-id are required");
    }
    if args.connections == 0 || args.pool < args.connections {
        usage("--connections must be >= 1 and --pool >= --connections");
    }
    args
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_micros() as u64
}

/// `count` stamped sign_digest requests; nonce = run tag ‖ thread ‖ counter (unique per principal).
fn stamps(credential: &Credential, key_id: &str, run_tag: u64, thread: usize, count: usize) -> Vec<StampedArgs> {
    (0..count)
        .map(|i| {
            let mut nonce = [0u8; 16];
            nonce[..8].copy_from_slice(&run_tag.to_be_bytes());
            nonce[8..10].copy_from_slice(&(thread as u16).to_be_bytes());
            nonce[10..].copy_from_slice(&(i as u64).to_be_bytes()[2..]);
            let digest: [u8; 32] = Sha256::digest(nonce).into();
            let op = Operation::SignDigest(SignDigestArgs { key_id: key_id.to_string(), digest: digest.to_vec() });
            stamped_request(credential, &op, now_us(), nonce)
        })
        .collect()
}

/// One answer: `Ok(())` for a receipted signature, else the refusal code.
fn check(answer: Result<Response, sentinel_client::ClientError>) -> Result<(), String> {
    match answer {
        Ok(Response::Receipted(r)) => match *r.answer {
            Response::Signature(_) => Ok(()),
            Response::Error(e) => Err(e.code),
            other => Err(format!("UNEXPECTED_{}", other.wire_name().to_uppercase())),
        },
        Ok(Response::Error(e)) => Err(e.code),
        Ok(other) => Err(format!("UNEXPECTED_{}", other.wire_name().to_uppercase())),
        Err(e) => Err(sentinel_error::CodedError::code(&e).to_string()),
    }
}

struct ThreadResult {
    latencies_ns: Vec<u64>,
    errors: BTreeMap<String, u64>,
    exhausted: bool,
}

fn main() {
    let args = parse_args();
    let json = std::fs::read_to_string(&args.credential)
        .unwrap_or_else(|e| usage(&format!("cannot read {}: {e}", args.credential)));
    let credential = Arc::new(Credential::from_json(&json).unwrap_or_else(|e| usage(&format!("credential: {e}"))));
    let run_tag =
        SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos() as u64 ^ u64::from(std::process::id());

    // Warm-up on one connection (not counted): the enclave's caches and this process's code paths.
    {
        let mut client = Client::new(
            UnixStream::connect(&args.socket).unwrap_or_else(|e| usage(&format!("connect {}: {e}", args.socket))),
        );
        for s in stamps(&credential, &args.key_id, run_tag, 0xffff, args.warmup) {
            if let Err(code) = check(client.call(Request::Stamped(s))) {
                eprintln!("load: warm-up request refused: {code}");
                std::process::exit(1);
            }
        }
    }

    // Stamps made before the clock starts, in parallel (they are the client's Ed25519 work).
    let per_thread = args.pool / args.connections;
    let made = Instant::now();
    let makers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(args.connections);
    let mut pools: Vec<Vec<StampedArgs>> = (0..args.connections).map(|_| Vec::new()).collect();
    std::thread::scope(|scope| {
        let chunks: Vec<_> = pools.chunks_mut(args.connections.div_ceil(makers)).enumerate().collect();
        for (c, chunk) in chunks {
            let credential = &credential;
            let key_id = &args.key_id;
            let base = c * args.connections.div_ceil(makers);
            scope.spawn(move || {
                for (j, pool) in chunk.iter_mut().enumerate() {
                    *pool = stamps(credential, key_id, run_tag, base + j, per_thread);
                }
            });
        }
    });
    eprintln!(
        "load: {} stamped requests made in {:.2} s ({} connection(s))",
        per_thread * args.connections,
        made.elapsed().as_secs_f64(),
        args.connections
    );

    let connections: Vec<UnixStream> = (0..args.connections)
        .map(|_| UnixStream::connect(&args.socket).unwrap_or_else(|e| usage(&format!("connect {}: {e}", args.socket))))
        .collect();
    let barrier = Arc::new(Barrier::new(args.connections + 1));
    let handles: Vec<_> = connections
        .into_iter()
        .zip(pools)
        .map(|(stream, pool)| {
            let barrier = barrier.clone();
            let duration = args.duration;
            std::thread::spawn(move || {
                let mut client = Client::new(stream);
                let mut result = ThreadResult {
                    latencies_ns: Vec::with_capacity(pool.len()),
                    errors: BTreeMap::new(),
                    exhausted: false,
                };
                let total = pool.len();
                barrier.wait();
                let start = Instant::now();
                for (i, s) in pool.into_iter().enumerate() {
                    if start.elapsed() >= duration {
                        break;
                    }
                    let t = Instant::now();
                    let outcome = check(client.call(Request::Stamped(s)));
                    result.latencies_ns.push(t.elapsed().as_nanos() as u64);
                    if let Err(code) = outcome {
                        *result.errors.entry(code).or_default() += 1;
                    }
                    if i + 1 == total {
                        result.exhausted = true;
                    }
                }
                (result, start.elapsed())
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let results: Vec<(ThreadResult, Duration)> = handles.into_iter().map(|h| h.join().expect("load thread")).collect();
    let elapsed = start.elapsed().as_secs_f64();

    let mut latencies: Vec<u64> = results.iter().flat_map(|(r, _)| r.latencies_ns.iter().copied()).collect();
    latencies.sort_unstable();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for (r, _) in &results {
        for (code, n) in &r.errors {
            *errors.entry(code.clone()).or_default() += n;
        }
    }
    let requests = latencies.len() as u64;
    let failed: u64 = errors.values().sum();
    let ok = requests - failed;
    let exhausted = results.iter().any(|(r, _)| r.exhausted);
    let at = |q: f64| {
        if latencies.is_empty() {
            f64::NAN
        } else {
            latencies[((latencies.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0
        }
    };
    let mean = if latencies.is_empty() {
        f64::NAN
    } else {
        latencies.iter().sum::<u64>() as f64 / latencies.len() as f64 / 1000.0
    };
    let errors_json: Vec<String> = errors.iter().map(|(c, n)| format!("\"{c}\":{n}")).collect();
    println!(
        "{{\"connections\":{},\"requests\":{},\"ok\":{},\"errors\":{{{}}},\"elapsed_s\":{:.4},\"throughput\":{:.1},\"latency_us\":{{\"p50\":{:.2},\"p90\":{:.2},\"p99\":{:.2},\"max\":{:.2},\"mean\":{:.2}}},\"exhausted\":{}}}",
        args.connections,
        requests,
        ok,
        errors_json.join(","),
        elapsed,
        ok as f64 / elapsed,
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        mean,
        exhausted
    );
}

//! Windowed state is exact under concurrent requests.
//!
//! The enclave holds the engine behind a mutex and calls `decide` (evaluate +
//! commit) under it. Here several threads send random request sequences
//! (random keys/principals, amounts and timestamps) to one
//! `Arc<Mutex<Engine>>`; every decision is logged under the lock with the
//! instant the counters used (`state.clock_us()` after the decision: the
//! monotone clock, `max(now_us, latest instant seen)`). Afterwards the
//! allowed requests are replayed with exact integer arithmetic:
//!
//! * notional: for every allowed request at `t`, the allowed amounts of its
//!   subject in the sliding window `(t - W, t]` sum to at most the limit (the
//!   maximum over all sliding windows is attained at one ending at an allowed
//!   request, so this covers every window);
//! * rate: for every two allowed requests of a subject at `a <= b`, the number
//!   of allowed requests in `[a, b]` is at most `burst + count * (b - a) / W`.
//!
//! Two clock modes: each thread stamps its requests with its own increasing
//! clock (so requests reach the engine out of timestamp order, and the
//! engine's monotone clock decides), or a shared clock read under the lock
//! (timestamps in decision order, checked against the raw timestamps).
use std::sync::{Arc, Barrier, Mutex};

use proptest::prelude::*;
use sentinel_policy::{parse_policy, ActivePolicy, Caller, Engine, Evaluation, PolicyRequest, Verdict};

const POLICY: &str = r#"{"version": 1, "name": "concurrency", "rules": [
  {"id": "key-short", "type": "notional_limit", "asset": "native:1", "windows": [{"window": "1s", "limit": "1000"}, {"window": "1m", "limit": "6000"}]},
  {"id": "key-hour", "type": "notional_limit", "asset": "native:1", "per_transaction": "700", "windows": [{"window": "1h", "limit": "15000"}]},
  {"id": "principal-minute", "type": "notional_limit", "asset": "native:1", "per": "principal", "windows": [{"window": "1m", "limit": "9000"}]},
  {"id": "key-rate", "type": "rate_limit", "rate": {"count": 5, "per": "1s"}, "burst": 3, "cooldown_ms": 150},
  {"id": "principal-rate", "type": "rate_limit", "per": "principal", "rate": {"count": 7, "per": "1s"}, "burst": 5}
]}"#;

/// (rule, per principal?, window µs, limit) of every notional window in `POLICY`.
const NOTIONAL: [(&str, bool, u64, u128); 4] = [
    ("key-short", false, 1_000_000, 1000),
    ("key-short", false, 60_000_000, 6000),
    ("key-hour", false, 3_600_000_000, 15000),
    ("principal-minute", true, 60_000_000, 9000),
];
/// (rule, per principal?, count, window µs, burst) of every rate limit in `POLICY`.
const RATES: [(&str, bool, u128, u128, u128); 2] =
    [("key-rate", false, 5, 1_000_000, 3), ("principal-rate", true, 7, 1_000_000, 5)];

const KEYS: [&str; 4] = ["key-0", "key-1", "key-2", "key-3"];
const PRINCIPAL_OF_KEY: [&str; 4] = ["agent-a", "agent-a", "agent-b", "agent-b"];
const START_US: u64 = 1_767_571_200_000_000; // 2026-01-05T00:00:00Z

#[derive(Clone, Debug)]
struct Item {
    key: usize,
    amount: u64,
    /// Microseconds after the previous item of this thread (or the shared clock's advance).
    dt_us: u64,
}

#[derive(Clone, Debug)]
struct Decision {
    key: usize,
    amount: u128,
    t: u64,
    allowed: bool,
}

fn item() -> impl Strategy<Value = Item> {
    (
        0..KEYS.len(),
        prop_oneof![0u64..=50, 0u64..=700, 600u64..=800],
        prop_oneof![0u64..=20_000, 0u64..=400_000, Just(0)],
    )
        .prop_map(|(key, amount, dt_us)| Item { key, amount, dt_us })
}

fn request(key: usize, amount: u64) -> PolicyRequest {
    let caller = Caller { principal: PRINCIPAL_OF_KEY[key], key_id: KEYS[key], key_label: "hot" };
    let json =
        format!(r#"{{"type":2,"chainId":1,"to":"0x1111111111111111111111111111111111111111","value":"{amount}"}}"#);
    let tx = sentinel_eth::transaction_from_json(&json).unwrap();
    PolicyRequest::from_transaction(caller, &tx).unwrap()
}

fn run(threads: Vec<Vec<Item>>, shared_clock: bool) -> Vec<Decision> {
    let parsed = parse_policy(POLICY.as_bytes()).unwrap();
    let active = Arc::new(ActivePolicy::new(parsed, &[]).unwrap());
    let engine = Arc::new(Mutex::new((Engine::new(active), START_US, Vec::<Decision>::new())));
    let barrier = Barrier::new(threads.len());
    std::thread::scope(|scope| {
        for items in &threads {
            let engine = engine.clone();
            let barrier = &barrier;
            scope.spawn(move || {
                let requests: Vec<PolicyRequest> = items.iter().map(|i| request(i.key, i.amount)).collect();
                let mut eval = Evaluation::default();
                let mut own_clock = START_US;
                barrier.wait();
                for (item, req) in items.iter().zip(&requests) {
                    own_clock += item.dt_us;
                    let mut guard = engine.lock().unwrap();
                    let (engine, shared, log) = &mut *guard;
                    let now = if shared_clock {
                        *shared += item.dt_us;
                        *shared
                    } else {
                        own_clock
                    };
                    engine.decide(req, now, &mut eval);
                    let t = engine.state.clock_us();
                    assert!(t >= now);
                    if shared_clock {
                        assert_eq!(t, now, "a shared clock read under the lock is monotone");
                    }
                    log.push(Decision {
                        key: item.key,
                        amount: u128::from(item.amount),
                        t,
                        allowed: eval.verdict == Verdict::Allow,
                    });
                    drop(guard);
                    std::thread::yield_now();
                }
            });
        }
    });
    let (_, _, log) = Arc::try_unwrap(engine).unwrap().into_inner().unwrap();
    log
}

fn subject(per_principal: bool, key: usize) -> &'static str {
    if per_principal {
        PRINCIPAL_OF_KEY[key]
    } else {
        KEYS[key]
    }
}

/// Checks the allowed set; returns a description of the first violation.
fn check(log: &[Decision]) -> Result<(), String> {
    for w in log.windows(2) {
        if w[1].t < w[0].t {
            return Err("counter clock went back".into());
        }
    }
    let allowed: Vec<&Decision> = log.iter().filter(|d| d.allowed).collect();
    for (rule, per_principal, window, limit) in NOTIONAL {
        for end in &allowed {
            let s = subject(per_principal, end.key);
            let total: u128 = allowed
                .iter()
                .filter(|d| subject(per_principal, d.key) == s && d.t <= end.t && end.t - d.t < window)
                .map(|d| d.amount)
                .sum();
            if total > limit {
                return Err(format!("{rule} ({s}): {total} > {limit} in the {window} us window ending at {}", end.t));
            }
        }
    }
    for (rule, per_principal, count, window, burst) in RATES {
        for first in &allowed {
            let s = subject(per_principal, first.key);
            for last in allowed.iter().filter(|d| subject(per_principal, d.key) == s && d.t >= first.t) {
                let n = allowed
                    .iter()
                    .filter(|d| subject(per_principal, d.key) == s && d.t >= first.t && d.t <= last.t)
                    .count() as u128;
                let elapsed = u128::from(last.t - first.t);
                if n * window > burst * window + count * elapsed {
                    return Err(format!(
                        "{rule} ({s}): {n} allowed in [{}, {}] > burst {burst} + {count}/{window}us * {elapsed}us",
                        first.t, last.t
                    ));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn no_cap_or_rate_exceeded_under_concurrency(
        threads in proptest::collection::vec(proptest::collection::vec(item(), 1..50), 2..5),
        shared_clock in any::<bool>(),
    ) {
        let log = run(threads, shared_clock);
        prop_assert!(!log.is_empty());
        if let Err(e) = check(&log) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The check itself catches an over-cap set (so a pass means something).
#[test]
fn checker_detects_violations() {
    let over_cap = vec![
        Decision { key: 0, amount: 600, t: START_US, allowed: true },
        Decision { key: 0, amount: 401, t: START_US + 999_999, allowed: true },
    ];
    assert!(check(&over_cap).unwrap_err().contains("key-short"));
    let over_rate: Vec<Decision> =
        (0..4).map(|i| Decision { key: 1, amount: 1, t: START_US + i, allowed: true }).collect();
    assert!(check(&over_rate).unwrap_err().contains("key-rate"));
}

/// A deterministic heavy run: 4 threads hammering 2 keys in the same few seconds, enough to hit
/// every cap and the rate limits many times; the replay must hold and many requests must be denied.
#[test]
fn hammer() {
    let threads: Vec<Vec<Item>> = (0..4)
        .map(|t| {
            (0..300)
                .map(|i| Item {
                    key: (t + i) % 2,
                    amount: ((i * 37 + t * 11) % 700) as u64,
                    dt_us: ((i * 7919) % 40_000) as u64,
                })
                .collect()
        })
        .collect();
    for shared in [false, true] {
        let log = run(threads.clone(), shared);
        check(&log).unwrap();
        let allowed = log.iter().filter(|d| d.allowed).count();
        assert!(allowed > 10 && allowed < log.len() / 2, "allowed {allowed} of {}", log.len());
    }
}

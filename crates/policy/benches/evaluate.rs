//! Policy evaluation cost and allocations.
//!
//! `cargo bench -p sentinel-policy --bench evaluate` (release profile). A
//! plain `Instant` loop (harness = false) with a counting global allocator.
//! The policy has six rules, one of each type: a notional limit (ERC-20, a
//! per-transaction cap and 1m/1h/1d windows), a rate limit, a contract allow
//! list, a chain rule, a us_market time window, and a risk score. The request
//! is an ERC-20 transfer that every rule allows, evaluated against a state
//! whose counters already exist (warm-up decisions created them), at instants
//! that advance so windows roll.
//!
//! Measured separately (each the median of several runs):
//! * `five_rules`: the five non-model rules (policy without the risk rule);
//!   asserted to allocate nothing per evaluation;
//! * `model_inference`: `RiskModel::score_bps` alone on precomputed features
//!   (tract allocates its tensors: reported, not asserted);
//! * `risk_features`: `RiskHistory::features` alone (no allocation, asserted);
//! * `six_rules`: all six through `evaluate`, model included;
//! * six rules excluding model inference, two ways: `five_rules +
//!   risk_features` (the work evaluate does besides `score_bps`, measured
//!   directly, no allocation: the figure the < 1 µs target is about), and
//!   `six_rules - model_inference` (the difference of two ~5 µs figures: it
//!   swings by hundreds of ns between runs, since inference time varies more
//!   than the rules cost, and it also charges the rules with what running
//!   tract in the same loop costs them in caches and predictors);
//! * `interleaved`: five-rule evaluate, features and inference as separate
//!   calls in one loop, to compare with `six_rules` (same work);
//! * `decide_five_rules`: evaluate + commit (counters updated) for the five
//!   rules, with its allocations per request.
//!
//! The last line is one JSON object for scripts.
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use sentinel_policy::{
    evaluate, parse_policy, ActivePolicy, Caller, Engine, Evaluation, PolicyRequest, RiskHistory, Verdict,
};

#[path = "../tests/support/stub_model.rs"]
mod stub_model;

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

const USDC: &str = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
const RECIPIENT: &str = "0x1111111111111111111111111111111111111111";
/// Monday 2026-01-05 15:00:00 UTC = 10:00 New York (inside us_market).
const START_US: u64 = 1_767_625_200_000_000;
/// Each evaluation is 10 ms later (the run stays inside market hours).
const STEP_US: u64 = 10_000;
const RUNS: usize = 7;

fn rules(model_sha256: Option<&str>) -> String {
    let mut rules = vec![
        format!(
            r#"{{"id":"usdc-cap","type":"notional_limit","asset":"erc20:1:{USDC}","per_transaction":"1000000000000","windows":[{{"window":"1m","limit":"100000000000000"}},{{"window":"1h","limit":"1000000000000000"}},{{"window":"1d","limit":"10000000000000000"}}]}}"#
        ),
        r#"{"id":"rate","type":"rate_limit","rate":{"count":1000000,"per":"1s"},"burst":1000000,"cooldown_ms":1000}"#
            .to_string(),
        format!(
            r#"{{"id":"payees","type":"contract_list","effect":"allow","tokens":["{USDC}"],"recipients":["{RECIPIENT}","0x2222222222222222222222222222222222222222"]}}"#
        ),
        r#"{"id":"chains","type":"chain","chain_ids":[1,8453]}"#.to_string(),
        r#"{"id":"hours","type":"time_window","preset":"us_market","holidays":["2026-07-03","2026-12-25"]}"#
            .to_string(),
    ];
    if let Some(sha) = model_sha256 {
        rules.push(format!(
            r#"{{"id":"risk","type":"risk_score","model_sha256":"0x{sha}","approve_at_bps":9999,"deny_at_bps":10000}}"#
        ));
    }
    format!(r#"{{"version":1,"name":"bench","rules":[{}]}}"#, rules.join(","))
}

fn engine(policy: &str, models: &[Vec<u8>]) -> Engine {
    let parsed = parse_policy(policy.as_bytes()).expect("bench policy");
    Engine::new(Arc::new(ActivePolicy::new(parsed, models).expect("activate")))
}

fn request() -> PolicyRequest {
    let data = format!("0xa9059cbb{:0>64}{:064x}", &RECIPIENT[2..], 1_000_000u64);
    let json = format!(
        r#"{{"type":2,"chainId":1,"to":"{USDC}","data":"{data}","gas":60000,"maxFeePerGas":"30000000000","maxPriorityFeePerGas":"1000000000"}}"#
    );
    let tx = sentinel_eth::transaction_from_json(&json).unwrap();
    let caller = Caller { principal: "agent-1", key_id: "key-1", key_label: "hot" };
    PolicyRequest::from_transaction(caller, &tx).unwrap()
}

struct Measured {
    ns: f64,
    allocs: f64,
}

/// Median over `RUNS` runs of `iters` calls of `f(i)`: ns and allocations per call.
fn measure(iters: u64, mut f: impl FnMut(u64)) -> Measured {
    for i in 0..iters / 10 {
        f(i);
    }
    let mut ns = Vec::new();
    let mut allocs = Vec::new();
    for run in 0..RUNS {
        let base = (run as u64 + 1) * iters;
        let a0 = allocations();
        let t0 = Instant::now();
        for i in 0..iters {
            f(base + i);
        }
        let elapsed = t0.elapsed();
        let a1 = allocations();
        ns.push(elapsed.as_nanos() as f64 / iters as f64);
        allocs.push((a1 - a0) as f64 / iters as f64);
    }
    ns.sort_by(|a, b| a.partial_cmp(b).unwrap());
    allocs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Measured { ns: ns[RUNS / 2], allocs: allocs[RUNS - 1] }
}

fn main() {
    let real = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/risk-v1.onnx")).ok();
    let (model_name, model_bytes) = match real {
        Some(bytes) => ("models/risk-v1.onnx", bytes),
        None => (
            "test stub (linear, tests/support/stub_model.rs; models/risk-v1.onnx absent)",
            stub_model::threshold_model(),
        ),
    };
    let sha = stub_model::sha256_hex(&model_bytes);
    let request = request();

    // Five rules, no model.
    let mut five = engine(&rules(None), &[]);
    let mut eval = Evaluation::default();
    for i in 0..16 {
        five.decide(&request, START_US + i * STEP_US, &mut eval);
        assert_eq!(eval.verdict, Verdict::Allow, "{:?}", five.active.records(&eval));
    }
    let warm = START_US + 16 * STEP_US;
    let five_rules = measure(1_000_000, |i| {
        evaluate(&five.active, black_box(&request), &five.state, None, warm + (i % 10_000) * STEP_US, &mut eval);
        black_box(&eval);
    });
    assert_eq!(eval.verdict, Verdict::Allow);
    assert_eq!(five_rules.allocs, 0.0, "evaluation of the five non-model rules allocated");

    // Features alone.
    let history = {
        let mut h = RiskHistory::new();
        for i in 0..16 {
            h.observe(&request, START_US + i * STEP_US);
        }
        h
    };
    let risk_features = measure(1_000_000, |i| {
        black_box(history.features(black_box(&request), warm + (i % 10_000) * STEP_US));
    });
    assert_eq!(risk_features.allocs, 0.0, "risk features allocated");

    // Six rules, model included.
    let mut six = engine(&rules(Some(&sha)), std::slice::from_ref(&model_bytes));
    for i in 0..16 {
        six.decide(&request, START_US + i * STEP_US, &mut eval);
    }
    let six_verdict = eval.verdict;
    let six_rules = measure(50_000, |i| {
        evaluate(&six.active, black_box(&request), &six.state, None, warm + (i % 10_000) * STEP_US, &mut eval);
        black_box(&eval);
    });
    let score = eval.score_bps;

    // Model inference alone.
    let model = six.active.models.first().expect("model loaded");
    let features = history.features(&request, warm);
    let model_inference = measure(50_000, |_| {
        black_box(model.score_bps(black_box(&features)).unwrap());
    });

    // The same work as the six-rule evaluation, as separate calls in one loop: five-rule
    // evaluate, features, inference. Compared with `six_rules`, it shows how much of
    // `six_rules - model_inference` is the model disturbing the rest (caches, branch predictors,
    // allocator) rather than rule work.
    let interleaved = measure(50_000, |i| {
        let now = warm + (i % 10_000) * STEP_US;
        evaluate(&five.active, black_box(&request), &five.state, None, now, &mut eval);
        let f = history.features(black_box(&request), now);
        black_box(model.score_bps(black_box(&f)).unwrap());
    });

    // evaluate + commit (five rules): counters move.
    let mut t = warm + 20_000 * STEP_US;
    let decide_five = measure(1_000_000, |_| {
        t += 1_000; // 1 ms apart: the rate bucket (1M/s) keeps up, windows roll
        five.decide(black_box(&request), t, &mut eval);
    });
    assert_eq!(eval.verdict, Verdict::Allow, "{:?}", five.active.records(&eval));

    let excl_model = six_rules.ns - model_inference.ns;
    let cross_check = five_rules.ns + risk_features.ns;
    println!("policy evaluation (median of {RUNS} runs; release profile)");
    println!("  five rules (notional 1m/1h/1d, rate, contract list, chain, us_market): {:8.1} ns/request, {} allocations/request", five_rules.ns, five_rules.allocs);
    println!("  risk features (RiskHistory::features):                                 {:8.1} ns/request, {} allocations/request", risk_features.ns, risk_features.allocs);
    println!(
        "  model inference alone ({model_name}): {:8.1} ns/request, {:.1} allocations/request",
        model_inference.ns, model_inference.allocs
    );
    println!("  six rules incl. model inference:                                       {:8.1} ns/request, {:.1} allocations/request (verdict {}, score {:?} bps)", six_rules.ns, six_rules.allocs, six_verdict.as_str(), score);
    println!("  six rules excluding model inference = six rules - inference:           {:8.1} ns/request", excl_model);
    println!("  six rules excluding model inference = five rules + features (direct):  {:8.1} ns/request (0 allocations)  <- the < 1 us figure", cross_check);
    println!("  five rules + features + inference as separate calls, one loop:         {:8.1} ns/request (compare: six rules {:.1})", interleaved.ns, six_rules.ns);
    println!("  decide (evaluate + commit), five rules, counters existing:             {:8.1} ns/request, {} allocations/request", decide_five.ns, decide_five.allocs);
    println!(
        "{{\"bench\":\"policy_evaluate\",\"model\":\"{}\",\"model_sha256\":\"{sha}\",\"five_rules_ns\":{:.1},\"five_rules_allocs\":{},\"risk_features_ns\":{:.1},\"risk_features_allocs\":{},\"model_inference_ns\":{:.1},\"model_inference_allocs\":{:.1},\"six_rules_including_model_ns\":{:.1},\"six_rules_including_model_allocs\":{:.1},\"six_rules_excluding_model_ns\":{:.1},\"six_rules_excluding_model_direct_ns\":{:.1},\"five_features_inference_interleaved_ns\":{:.1},\"decide_five_rules_ns\":{:.1},\"decide_five_rules_allocs\":{}}}",
        if model_name.starts_with("models/") { "risk-v1" } else { "test-stub" },
        five_rules.ns, five_rules.allocs, risk_features.ns, risk_features.allocs, model_inference.ns, model_inference.allocs,
        six_rules.ns, six_rules.allocs, excl_model, cross_check, interleaved.ns, decide_five.ns, decide_five.allocs
    );
}

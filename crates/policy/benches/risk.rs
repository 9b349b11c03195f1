//! Cost of the risk model per request, reported apart from the policy
//! evaluation (issue #9: "the model's inference time reported separately"):
//! `RiskHistory::features` (what the enclave computes from the decoded request
//! and the key's history) and `RiskModel::score_bps` (tract running
//! models/risk-v1.onnx), each as the median over many batches, plus heap
//! allocations per call counted by a counting allocator. `features` is timed
//! twice: before tract ever ran on the thread and after (see below). Prints one
//! JSON line.
//!   cargo bench -p sentinel-policy --bench risk
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sentinel_eth::{Address, U256};
use sentinel_policy::{Asset, Caller, Movement, MovementKind, OpKind, PolicyRequest, RiskHistory, RiskModel};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MODEL: &[u8] = include_bytes!("../../../models/risk-v1.onnx");
const T0_US: u64 = 1_767_625_200_000_000; // 2026-01-05T15:00:00Z

/// Median and 99th percentile of the per-call time (ns) over `batches` batches of `per_batch` calls.
fn timed(batches: usize, per_batch: u32, mut op: impl FnMut(u32)) -> (f64, f64) {
    for i in 0..per_batch * 10 {
        op(i);
    }
    let mut samples: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for i in 0..per_batch {
                op(i);
            }
            start.elapsed().as_nanos() as f64 / f64::from(per_batch)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (samples[samples.len() / 2], samples[samples.len() * 99 / 100])
}

fn allocations_per_call(calls: u32, mut op: impl FnMut(u32)) -> f64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for i in 0..calls {
        op(i);
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / f64::from(calls)
}

fn transfer(to: Address, wei: u64, fee_gwei: u64) -> PolicyRequest {
    let caller = Caller { principal: "agent", key_id: "key-1", key_label: "trading" };
    let mut request = PolicyRequest::bare(OpKind::Transaction, caller);
    request.chain_id = Some(1);
    request.destination = Some(to);
    request.movements.push(Movement {
        asset: Asset::Native { chain_id: Some(1) },
        amount: U256::from(wei),
        kind: MovementKind::NativeValue,
        counterparty: Some(to),
    });
    request.max_fee_per_gas = Some(U256::from(fee_gwei * 1_000_000_000));
    request
}

fn main() {
    let batches: usize = std::env::var("BENCH_BATCHES").ok().and_then(|v| v.parse().ok()).unwrap_or(201);
    let per_batch: u32 = std::env::var("BENCH_PER_BATCH").ok().and_then(|v| v.parse().ok()).unwrap_or(200);

    // A key with some history: 40 transfers to 8 recipients, one every 10 minutes.
    let mut history = RiskHistory::new();
    for i in 0..40u64 {
        let r = transfer(Address::repeat_byte((i % 8) as u8 + 1), 1_000_000_000_000_000_000 + i, 30);
        history.observe(&r, T0_US + i * 600_000_000);
    }
    let request = transfer(Address::repeat_byte(3), 1_200_000_000_000_000_000, 31);
    let now = T0_US + 40 * 600_000_000;
    let features = history.features(&request, now);
    let features_op = |i: u32| {
        black_box(history.features(black_box(&request), now + u64::from(i)));
    };

    // Features before tract ever ran on this thread...
    let (features_ns, features_p99_ns) = timed(batches, per_batch * 10, features_op);
    let load_start = Instant::now();
    let model = RiskModel::load(MODEL).expect("the committed model loads");
    let load_us = load_start.elapsed().as_secs_f64() * 1e6;
    // ...and after: tract's x86-64 AVX/AVX-512 kernels return without `vzeroupper`,
    // which leaves the thread's upper vector state dirty and slows every later
    // legacy-SSE instruction (all of Rust's f64 code in a baseline x86-64 build).
    let (features_after_tract_ns, _) = timed(batches, per_batch * 10, features_op);
    let (score_ns, score_p99_ns) = timed(batches, per_batch, |_| {
        black_box(model.score_bps(black_box(&features)).expect("scores"));
    });
    let features_allocs = allocations_per_call(1000, features_op);
    let score_allocs = allocations_per_call(1000, |_| {
        black_box(model.score_bps(black_box(&features)).expect("scores"));
    });
    let score = model.score_bps(&features).expect("scores");
    println!(
        "{{\"bench\":\"risk\",\"model_sha256\":\"{}\",\"batches\":{batches},\"per_batch\":{per_batch},\"load_us\":{load_us:.0},\"features_median_ns\":{features_ns:.1},\"features_p99_ns\":{features_p99_ns:.1},\"features_allocations_per_call\":{features_allocs},\"features_after_tract_median_ns\":{features_after_tract_ns:.1},\"score_median_ns\":{score_ns:.0},\"score_p99_ns\":{score_p99_ns:.0},\"score_allocations_per_call\":{score_allocs},\"sample_score_bps\":{score}}}",
        hex::encode(model.sha256)
    );
}

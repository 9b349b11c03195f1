//! Sealed snapshots of the policy state: a state built by a long run of real
//! decisions (notional limits in USD, a token and ETH, per key and per
//! principal, with several windows; rate limits per key and per principal with
//! breaches and a cooldown in force; a risk rule whose score depends on each
//! key's history) survives `to_snapshot` / `from_snapshot` exactly: the
//! restored state re-encodes to the same bytes, and an engine holding it
//! answers every later request as the original does, the risk scores included
//! (which a replay of the log's effects cannot rebuild).
#![cfg(feature = "onnx")]

use std::sync::Arc;

use sentinel_policy::{
    parse_policy, replay, ActivePolicy, Caller, Effect, Engine, Evaluation, PolicyErrorCode, PolicyRequest,
    PolicyState, PriceTable, POLICY_SNAPSHOT_VERSION,
};

#[path = "support/stub_model.rs"]
mod stub_model;

const USDC: &str = "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
/// 2026-01-05T00:00:00Z.
const START_S: u64 = 1_767_571_200;

/// A linear "risk model" that reads the history-dependent features: amount and fee log ratios,
/// new counterparty, velocity; bias 0.3 keeps every score inside (0, 1).
fn model() -> Vec<u8> {
    stub_model::linear_model(&[0.005, 0.125, 0.03125, 0.0, 0.0, 0.005, 0.0, 0.0, 0.0], 0.3)
}

fn policy_json() -> String {
    let model = stub_model::sha256_hex(&model());
    format!(
        r#"{{"version":1,"name":"snapshot","price_feed":{{"alg":"ed25519",
        "public_key":"0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","max_staleness_s":1000000000}},
        "rules":[
        {{"id":"usd-key","type":"notional_limit","asset":"usd","per_transaction":"5000",
          "windows":[{{"window":"1m","limit":"8000"}},{{"window":"1h","limit":"20000"}},{{"window":"1d","limit":"50000"}}]}},
        {{"id":"usdc-principal","type":"notional_limit","asset":"erc20:1:0x{USDC}","per":"principal",
          "windows":[{{"window":"1s","limit":"3000000000"}},{{"window":"1h","limit":"9000000000"}}]}},
        {{"id":"eth-key","type":"notional_limit","asset":"native:1",
          "windows":[{{"window":"1m","limit":"3000000000000000000"}},{{"window":"1d","limit":"10000000000000000000"}}]}},
        {{"id":"rate-key","type":"rate_limit","rate":{{"count":2,"per":"1m"}},"burst":3,"cooldown_ms":20000}},
        {{"id":"rate-principal","type":"rate_limit","per":"principal","rate":{{"count":5,"per":"1s"}},"burst":5,
          "cooldown_ms":1500,"scope":{{"keys":["k1","k2"]}}}},
        {{"id":"risk","type":"risk_score","model_sha256":"0x{model}","approve_at_bps":9000,"deny_at_bps":9500}}
        ]}}"#
    )
}

fn engine() -> Engine {
    let parsed = parse_policy(policy_json().as_bytes()).expect("policy");
    let active = Arc::new(ActivePolicy::new(parsed, &[model()]).expect("activate"));
    let mut engine = Engine::new(active);
    let prices = format!(
        r#"{{"timestamp_s":{START_S},"prices":[{{"asset":"native:1","usd":"3000","decimals":18}},
        {{"asset":"erc20:1:0x{USDC}","usd":"1.000001","decimals":6}}]}}"#
    );
    engine.prices = Some(PriceTable::from_json(prices.as_bytes()).expect("price table"));
    engine
}

#[path = "support/rng.rs"]
mod rng;
use rng::{random_gap, Rng};

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Wei to one of the destinations, with a fee cap in gwei.
    Eth(u64, u8, u64),
    /// USDC base units to one of the destinations.
    Usdc(u64, u8),
    Message,
}

const CALLERS: [(&str, &str); 4] = [("k1", "p1"), ("k2", "p1"), ("k3", "p2"), ("k1", "p2")];
/// Destinations; the last is never used by the run (a new counterparty for every key).
const DESTINATIONS: [&str; 4] = [
    "1111111111111111111111111111111111111111",
    "2222222222222222222222222222222222222222",
    "3333333333333333333333333333333333333333",
    "9999999999999999999999999999999999999999",
];

fn request(caller: (&str, &str), kind: Kind) -> PolicyRequest {
    let caller = Caller { principal: caller.1, key_id: caller.0, key_label: "hot" };
    let tx = match kind {
        Kind::Message => return PolicyRequest::personal_message(caller),
        Kind::Eth(wei, to, gwei) => format!(
            r#"{{"type":2,"chainId":1,"to":"0x{}","value":"{wei}","maxFeePerGas":"{}","maxPriorityFeePerGas":"1"}}"#,
            DESTINATIONS[usize::from(to)],
            gwei * 1_000_000_000
        ),
        Kind::Usdc(units, to) => format!(
            r#"{{"type":2,"chainId":1,"to":"0x{USDC}","value":"0","data":"0xa9059cbb{:0>64}{units:064x}"}}"#,
            DESTINATIONS[usize::from(to)]
        ),
    };
    let tx = sentinel_eth::transaction_from_json(&tx).expect("transaction");
    PolicyRequest::from_transaction(caller, &tx).expect("request")
}

fn random_kind(rng: &mut Rng) -> Kind {
    match rng.below(10) {
        0..=4 => Kind::Eth(rng.below(2_000_000_000_000_000_000), rng.below(3) as u8, 1 + rng.below(200)),
        5..=7 => Kind::Usdc(rng.below(2_500_000_000), rng.below(3) as u8),
        _ => Kind::Message,
    }
}

/// `steps` random decisions on `a`; each decision's effects and instant (a log).
fn run(a: &mut Engine, rng: &mut Rng, steps: usize, now: &mut u64) -> Vec<(Vec<Effect>, u64)> {
    let mut out = Evaluation::default();
    let mut log = Vec::new();
    for _ in 0..steps {
        *now += random_gap(rng);
        let caller = CALLERS[rng.below(CALLERS.len() as u64) as usize];
        a.decide(&request(caller, random_kind(rng)), *now, &mut out);
        log.push((out.effects.clone(), *now));
    }
    log
}

/// A's state after a long run, ending with a burst that starts `rate-key`'s cooldown for k3.
fn built() -> (Engine, Rng, u64, Vec<(Vec<Effect>, u64)>) {
    let mut rng = Rng(0x5eed_5a5a_0001);
    let mut a = engine();
    let mut now = START_S * 1_000_000 + 987;
    let mut log = run(&mut a, &mut rng, 1_200, &mut now);
    let mut out = Evaluation::default();
    let mut cooldown = false;
    for i in 0..8 {
        now += 1_000;
        a.decide(&request(("k3", "p2"), Kind::Eth(1_000 + i, 0, 30)), now, &mut out);
        cooldown |= out.effects.iter().any(|e| matches!(e, Effect::RateCooldown { rule, .. } if rule == "rate-key"));
        log.push((out.effects.clone(), now));
    }
    assert!(cooldown, "the burst started a cooldown");
    (a, rng, now, log)
}

fn restored(a: &Engine) -> Engine {
    let mut b = engine();
    b.state = PolicyState::from_snapshot(&a.state.to_snapshot()).expect("the snapshot is read back");
    b
}

/// Every caller and request kind at later instants: the same evaluation on both (verdict, code,
/// score, every rule's outcome, value, limit, window, detail); then a few decisions on both.
/// Returns how many evaluations found a cooldown in force and how many differed (when `expect_same`
/// is false, differences are counted instead of failing).
fn probe(a: &mut Engine, b: &mut Engine, rng: &mut Rng, mut now: u64, expect_same: bool) -> (usize, usize) {
    let kinds = [
        Kind::Eth(1, 0, 30),
        Kind::Eth(900_000_000_000_000_000, 1, 5),
        Kind::Eth(1_900_000_000_000_000_000, 3, 900),
        Kind::Usdc(1, 2),
        Kind::Usdc(2_000_000_000, 3),
        Kind::Message,
    ];
    let gaps = [0, 1, 16_667, 500_000, 1_000_000, 30_000_000, 61_000_000, 600_000_000, 3_600_000_000, 86_401_000_000];
    let (mut ea, mut eb) = (Evaluation::default(), Evaluation::default());
    let (mut in_cooldown, mut differed) = (0, 0);
    for gap in gaps {
        now += gap;
        for caller in CALLERS {
            for kind in kinds {
                let request = request(caller, kind);
                sentinel_policy::evaluate(&a.active, &request, &a.state, a.prices.as_ref(), now, &mut ea);
                sentinel_policy::evaluate(&b.active, &request, &b.state, b.prices.as_ref(), now, &mut eb);
                if expect_same {
                    assert_eq!(ea, eb, "probe {caller:?} {kind:?} at +{gap}");
                } else if ea != eb {
                    differed += 1;
                }
                in_cooldown += a
                    .active
                    .records(&ea)
                    .iter()
                    .filter(|r| r.detail.as_deref().is_some_and(|d| d.starts_with("in cooldown")))
                    .count();
            }
        }
        for _ in 0..6 {
            let caller = CALLERS[rng.below(CALLERS.len() as u64) as usize];
            let request = request(caller, random_kind(rng));
            a.decide(&request, now, &mut ea);
            b.decide(&request, now, &mut eb);
            if expect_same {
                assert_eq!(ea, eb, "decide {caller:?} at +{gap}");
            }
        }
    }
    (in_cooldown, differed)
}

#[test]
fn a_restored_state_re_encodes_to_the_same_bytes() {
    let (a, ..) = built();
    let bytes = a.state.to_snapshot();
    assert_eq!(bytes[0], POLICY_SNAPSHOT_VERSION);
    let b = restored(&a);
    assert_eq!(b.state.to_snapshot(), bytes);
    assert_eq!(b.state.clock_us(), a.state.clock_us());
    for rule in ["usd-key", "usdc-principal", "eth-key", "rate-key", "rate-principal"] {
        assert!(b.state.has_counters(rule), "{rule}");
    }
    // Deterministic: the same state again, and a state built by the same run on another engine.
    assert_eq!(a.state.to_snapshot(), bytes);
    assert_eq!(built().0.state.to_snapshot(), bytes);
}

#[test]
fn a_restored_engine_decides_as_the_original() {
    let (mut a, mut rng, now, _) = built();
    let mut b = restored(&a);
    let (in_cooldown, _) = probe(&mut a, &mut b, &mut rng, now, true);
    assert!(in_cooldown > 0, "the cooldown was in force for some probe");
    // And both continue a long run in step.
    let (mut ea, mut eb) = (Evaluation::default(), Evaluation::default());
    let mut now = a.state.clock_us();
    let mut scored = 0;
    for _ in 0..600 {
        now += random_gap(&mut rng);
        let caller = CALLERS[rng.below(CALLERS.len() as u64) as usize];
        let request = request(caller, random_kind(&mut rng));
        a.decide(&request, now, &mut ea);
        b.decide(&request, now, &mut eb);
        assert_eq!(ea, eb);
        scored += usize::from(ea.score_bps.is_some());
    }
    assert!(scored > 100);
    assert_eq!(a.state.to_snapshot(), b.state.to_snapshot());
}

/// What the snapshot adds over a replay of the log: the risk histories. An engine rebuilt from the
/// same decisions' effects has the same counters but scores differently (so the probe above would
/// notice a history lost in the snapshot).
#[test]
fn a_replayed_state_lacks_the_histories_the_snapshot_keeps() {
    let (mut a, mut rng, now, log) = built();
    let mut c = engine();
    for (effects, at) in &log {
        c.state.advance_clock(*at);
        for e in effects {
            assert!(replay(&c.active, &mut c.state, e, *at));
        }
    }
    let (_, differed) = probe(&mut a, &mut c, &mut rng, now, false);
    assert!(differed > 0, "the replayed state scores as the original: the probe cannot see histories");
}

#[test]
fn a_damaged_snapshot_is_refused() {
    let (a, ..) = built();
    let bytes = a.state.to_snapshot();
    for bad in [&bytes[..bytes.len() - 1], &[&bytes[..], &[0u8]].concat()[..], &[&[2u8][..], &bytes[1..]].concat()[..]]
    {
        let e = PolicyState::from_snapshot(bad).expect_err("refused");
        assert_eq!(e.code, PolicyErrorCode::SnapshotInvalid);
        assert_eq!(sentinel_error::CodedError::code(&e), "POLICY_SNAPSHOT_INVALID");
    }
}

#[test]
fn the_copy_a_snapshot_takes_is_the_state_with_or_without_its_histories() {
    let (a, ..) = built();
    assert_eq!(a.state.snapshot_copy(true).to_snapshot(), a.state.to_snapshot());
    let counters_only = a.state.snapshot_copy(false).to_snapshot();
    assert!(counters_only.len() < a.state.to_snapshot().len(), "the histories are left out");
    let back = sentinel_policy::PolicyState::from_snapshot(&counters_only).unwrap();
    assert_eq!(back.clock_us(), a.state.clock_us());
    for rule in ["usd-key", "usdc-principal", "eth-key", "rate-key", "rate-principal"] {
        assert!(back.has_counters(rule), "{rule}");
    }
    assert_eq!(back.snapshot_copy(true).to_snapshot(), counters_only);
}

//! Replaying commit's effects rebuilds the counters: a long run of decisions
//! on engine A (notional limits in USD and in a token, per key and per
//! principal; rate limits per key and per principal with breaches and
//! cooldowns; gaps from a microsecond to days, so windows roll and ring slots
//! are reused) lists its effects; replaying them into a fresh state of the
//! same policy (engine B) must leave B answering every later probe exactly as
//! A does. Also: effects survive their text form, dry runs list none, and an
//! effect for a rule that changed type is refused without touching the state.
use std::sync::Arc;

use sentinel_eth::U256;
use sentinel_policy::{
    evaluate, parse_policy, replay, ActivePolicy, Caller, Effect, Engine, Evaluation, PolicyRequest, PolicyState,
    PriceTable, Verdict,
};

const USDC: &str = "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
/// 2026-01-05T00:00:00Z.
const START_S: u64 = 1_767_571_200;

fn policy_json() -> String {
    format!(
        r#"{{"version":1,"name":"replay","price_feed":{{"alg":"ed25519",
        "public_key":"0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a","max_staleness_s":1000000000}},
        "rules":[
        {{"id":"usd-key","type":"notional_limit","asset":"usd","per_transaction":"5000",
          "windows":[{{"window":"1m","limit":"8000"}},{{"window":"1h","limit":"20000"}},{{"window":"1d","limit":"50000"}}]}},
        {{"id":"usd-tx","type":"notional_limit","asset":"usd","per_transaction":"4500"}},
        {{"id":"usdc-principal","type":"notional_limit","asset":"erc20:1:0x{USDC}","per":"principal",
          "windows":[{{"window":"1s","limit":"3000000000"}},{{"window":"1h","limit":"9000000000"}}]}},
        {{"id":"eth-key","type":"notional_limit","asset":"native:1",
          "windows":[{{"window":"1m","limit":"3000000000000000000"}},{{"window":"1d","limit":"10000000000000000000"}}]}},
        {{"id":"rate-key","type":"rate_limit","rate":{{"count":2,"per":"1m"}},"burst":3,"cooldown_ms":20000}},
        {{"id":"rate-principal","type":"rate_limit","per":"principal","rate":{{"count":5,"per":"1s"}},"burst":5,
          "cooldown_ms":1500,"scope":{{"keys":["k1","k2"]}}}}
        ]}}"#
    )
}

fn prices() -> PriceTable {
    let json = format!(
        r#"{{"timestamp_s":{START_S},"prices":[{{"asset":"native:1","usd":"3000","decimals":18}},
        {{"asset":"erc20:1:0x{USDC}","usd":"1.000001","decimals":6}}]}}"#
    );
    PriceTable::from_json(json.as_bytes()).expect("price table")
}

fn activate(json: &str) -> Arc<ActivePolicy> {
    Arc::new(ActivePolicy::new(parse_policy(json.as_bytes()).expect("policy"), &[]).expect("activate"))
}

fn engine() -> Engine {
    let mut engine = Engine::new(activate(&policy_json()));
    engine.prices = Some(prices());
    engine
}

#[path = "support/rng.rs"]
mod rng;
use rng::{random_gap, Rng};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Eth(u64),
    Usdc(u64),
    /// Native value on a chain with no price: the USD rule errors.
    OtherChain,
    Message,
}

const CALLERS: [(&str, &str); 4] = [("k1", "p1"), ("k2", "p1"), ("k3", "p2"), ("k1", "p2")];

fn request(caller: (&str, &str), kind: Kind) -> PolicyRequest {
    let caller = Caller { principal: caller.1, key_id: caller.0, key_label: "hot" };
    let tx = match kind {
        Kind::Message => return PolicyRequest::personal_message(caller),
        Kind::Eth(wei) => {
            format!(r#"{{"type":2,"chainId":1,"to":"0x1111111111111111111111111111111111111111","value":"{wei}"}}"#)
        }
        Kind::OtherChain => {
            r#"{"type":2,"chainId":5,"to":"0x1111111111111111111111111111111111111111","value":"7"}"#.to_string()
        }
        Kind::Usdc(units) => format!(
            r#"{{"type":2,"chainId":1,"to":"0x{USDC}","value":"0","data":"0xa9059cbb{:0>64}{units:064x}"}}"#,
            "2222222222222222222222222222222222222222"
        ),
    };
    let tx = sentinel_eth::transaction_from_json(&tx).expect("transaction");
    PolicyRequest::from_transaction(caller, &tx).expect("request")
}

fn random_kind(rng: &mut Rng) -> Kind {
    match rng.below(10) {
        0..=3 => Kind::Eth(rng.below(2_000_000_000_000_000_000)),
        4..=6 => Kind::Usdc(rng.below(2_500_000_000)),
        7 => Kind::OtherChain,
        _ => Kind::Message,
    }
}

/// What a run produced, for the coverage checks.
#[derive(Default)]
struct Seen {
    notional: usize,
    takes: usize,
    cooldowns: usize,
    denied: usize,
    in_cooldown: usize,
    window_exceeded: usize,
}

/// Runs `steps` random decisions on `a`, returning each decision's effects and instant.
fn run(a: &mut Engine, rng: &mut Rng, steps: usize, now: &mut u64, seen: &mut Seen) -> Vec<(Vec<Effect>, u64)> {
    let mut log = Vec::new();
    let mut out = Evaluation::default();
    for _ in 0..steps {
        *now += random_gap(rng);
        let caller = CALLERS[rng.below(CALLERS.len() as u64) as usize];
        let request = request(caller, random_kind(rng));
        a.decide(&request, *now, &mut out);
        for e in &out.effects {
            match e {
                Effect::Notional { .. } => seen.notional += 1,
                Effect::RateTake { .. } => seen.takes += 1,
                Effect::RateCooldown { .. } => seen.cooldowns += 1,
            }
        }
        if out.verdict != Verdict::Allow {
            seen.denied += 1;
        }
        for record in a.active.records(&out) {
            let detail = record.detail.unwrap_or_default();
            seen.in_cooldown += usize::from(detail.starts_with("in cooldown"));
            seen.window_exceeded += usize::from(detail.starts_with("window limit exceeded"));
        }
        if out.verdict != Verdict::Allow {
            assert!(
                out.effects.iter().all(|e| matches!(e, Effect::RateCooldown { .. })),
                "a denied request only starts cooldowns: {:?}",
                out.effects
            );
        }
        log.push((out.effects.clone(), *now));
    }
    log
}

fn replay_all(b: &mut Engine, log: &[(Vec<Effect>, u64)]) {
    for (effects, now) in log {
        b.state.advance_clock(*now);
        for e in effects {
            assert!(replay(&b.active, &mut b.state, e, *now), "replay refused {e:?}");
        }
    }
}

/// Every caller and request kind at each later instant: A and B must agree on the evaluation
/// (verdict, code, every rule's outcome, value, limit, window, detail), and on what deciding it
/// changes.
fn probe(a: &mut Engine, b: &mut Engine, rng: &mut Rng, mut now: u64) {
    let kinds = [
        Kind::Eth(1),
        Kind::Eth(900_000_000_000_000_000),
        Kind::Eth(1_900_000_000_000_000_000),
        Kind::Usdc(1),
        Kind::Usdc(2_000_000_000),
        Kind::OtherChain,
        Kind::Message,
    ];
    let gaps = [0, 1, 16_667, 500_000, 1_000_000, 30_000_000, 61_000_000, 600_000_000, 3_600_000_000, 86_401_000_000];
    let (mut ea, mut eb) = (Evaluation::default(), Evaluation::default());
    for gap in gaps {
        now += gap;
        for caller in CALLERS {
            for kind in kinds {
                let request = request(caller, kind);
                evaluate(&a.active, &request, &a.state, a.prices.as_ref(), now, &mut ea);
                evaluate(&b.active, &request, &b.state, b.prices.as_ref(), now, &mut eb);
                assert_eq!(ea, eb, "probe {caller:?} {kind:?} at +{gap}");
                assert!(ea.effects.is_empty(), "a dry run lists no effects");
            }
        }
        // Decide a few on both: the same changes, so the states stay in step.
        for _ in 0..6 {
            let caller = CALLERS[rng.below(CALLERS.len() as u64) as usize];
            let request = request(caller, random_kind(rng));
            a.decide(&request, now, &mut ea);
            b.decide(&request, now, &mut eb);
            assert_eq!(ea, eb, "decide {caller:?} at +{gap}");
        }
    }
}

#[test]
fn replayed_effects_rebuild_the_counters() {
    let mut rng = Rng(0x0005_eed0_f5e5_71e1);
    let mut seen = Seen::default();
    let mut a = engine();
    let mut now = START_S * 1_000_000 + 123;
    let log = run(&mut a, &mut rng, 1_500, &mut now, &mut seen);
    assert!(
        seen.notional > 100
            && seen.takes > 100
            && seen.cooldowns > 10
            && seen.in_cooldown > 10
            && seen.window_exceeded > 10
            && seen.denied > 100,
        "the run covers little: notional {} takes {} cooldowns {} in_cooldown {} window_exceeded {} denied {}",
        seen.notional,
        seen.takes,
        seen.cooldowns,
        seen.in_cooldown,
        seen.window_exceeded,
        seen.denied
    );
    let mut b = engine();
    replay_all(&mut b, &log);
    assert_eq!(a.state.clock_us(), b.state.clock_us());
    probe(&mut a, &mut b, &mut rng, now);
}

/// Replay from the middle of a run: B, rebuilt from the first half, then decides the second half
/// itself and must give the same answers and effects as A.
#[test]
fn a_rebuilt_engine_continues_the_run() {
    let mut rng = Rng(0x0dec_1de5);
    let mut seen = Seen::default();
    let mut a = engine();
    let mut now = START_S * 1_000_000;
    let log = run(&mut a, &mut rng, 700, &mut now, &mut seen);
    let mut b = engine();
    replay_all(&mut b, &log);
    let (mut ea, mut eb) = (Evaluation::default(), Evaluation::default());
    for _ in 0..700 {
        now += random_gap(&mut rng);
        let caller = CALLERS[rng.below(CALLERS.len() as u64) as usize];
        let request = request(caller, random_kind(&mut rng));
        a.decide(&request, now, &mut ea);
        b.decide(&request, now, &mut eb);
        assert_eq!(ea, eb);
    }
}

#[test]
fn effects_survive_their_text_form() {
    let mut rng = Rng(42);
    let mut a = engine();
    let mut now = START_S * 1_000_000;
    let log = run(&mut a, &mut rng, 300, &mut now, &mut Seen::default());
    let by_hand = [
        Effect::Notional { rule: "r".into(), subject: "k".into(), amount: U256::ZERO },
        Effect::Notional { rule: "r".into(), subject: "".into(), amount: U256::MAX },
        Effect::RateTake { rule: "rate".into(), subject: "p1".into() },
        Effect::RateCooldown { rule: "rate".into(), subject: "p1".into() },
    ];
    for e in log.iter().flat_map(|(e, _)| e).chain(&by_hand) {
        let value = e.value_text();
        assert_eq!(Effect::parse(e.op(), e.rule(), e.subject(), value.as_deref()).as_ref(), Some(e));
    }
    assert_eq!(by_hand[0].op(), "notional");
    assert_eq!(by_hand[1].value_text().as_deref(), Some(U256::MAX.to_string().as_str()));
    assert_eq!(by_hand[2].op(), "rate_take");
    assert_eq!(by_hand[3].op(), "rate_cooldown");
    assert_eq!(by_hand[3].value_text(), None);
    let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936"; // 2^256
    let refused: [(&str, &str, Option<&str>); 12] = [
        ("notional", "r", None),
        ("notional", "r", Some("")),
        ("notional", "r", Some("01")),
        ("notional", "r", Some("-1")),
        ("notional", "r", Some("+1")),
        ("notional", "r", Some("1.5")),
        ("notional", "r", Some(" 1")),
        ("notional", "r", Some(over)),
        ("notional", "", Some("1")),
        ("rate_take", "r", Some("1")),
        ("rate_cooldown", "r", Some("")),
        ("level", "r", Some("red")),
    ];
    for (op, rule, value) in refused {
        assert_eq!(Effect::parse(op, rule, "k", value), None, "{op} {rule:?} {value:?}");
    }
    assert_eq!(Effect::parse("notional", &"r".repeat(65), "k", Some("1")), None);
    assert_eq!(Effect::parse("Notional", "r", "k", Some("1")), None);
}

#[test]
fn dry_runs_list_no_effects() {
    let mut a = engine();
    let request = request(("k1", "p1"), Kind::Eth(1_000));
    let mut out = Evaluation::default();
    a.decide(&request, START_S * 1_000_000, &mut out);
    assert_eq!(out.verdict, Verdict::Allow);
    let rules: Vec<&str> = out.effects.iter().map(Effect::rule).collect();
    // Rule order; `usd-tx` has no windows and counts nothing; `usdc-principal` saw no USDC.
    assert_eq!(rules, ["usd-key", "eth-key", "rate-key", "rate-principal"]);
    assert_eq!(
        out.effects[1],
        Effect::Notional { rule: "eth-key".into(), subject: "k1".into(), amount: U256::from(1_000u32) }
    );
    evaluate(&a.active, &request, &a.state, a.prices.as_ref(), START_S * 1_000_000, &mut out);
    assert!(out.effects.is_empty());
}

/// An effect is applied with the current policy's rule of that id: one whose type changed (or
/// that is gone) refuses it and leaves the state alone, clock included.
#[test]
fn an_effect_for_a_rule_that_changed_type_is_refused() {
    let old = r#"{"version":1,"name":"t","rules":[
        {"id":"r","type":"notional_limit","asset":"native:1","windows":[{"window":"1m","limit":"10"}]},
        {"id":"q","type":"rate_limit","rate":{"count":1,"per":"1m"},"burst":1,"cooldown_ms":1000}]}"#;
    let new = r#"{"version":1,"name":"t","rules":[
        {"id":"q","type":"notional_limit","asset":"native:1","windows":[{"window":"1m","limit":"10"}]},
        {"id":"r","type":"rate_limit","rate":{"count":1,"per":"1m"},"burst":1,"cooldown_ms":1000}]}"#;
    let mut a = Engine::new(activate(old));
    let mut out = Evaluation::default();
    let now = START_S * 1_000_000;
    a.decide(&request(("k", "p"), Kind::Eth(6)), now, &mut out);
    a.decide(&request(("k", "p"), Kind::Eth(6)), now + 1, &mut out);
    let mut effects = vec![
        Effect::Notional { rule: "r".into(), subject: "k".into(), amount: U256::from(6u8) },
        Effect::RateTake { rule: "q".into(), subject: "k".into() },
    ];
    assert_eq!(out.effects, [Effect::RateCooldown { rule: "q".into(), subject: "k".into() }]);
    effects.extend(out.effects.iter().cloned());
    effects.push(Effect::Notional { rule: "gone".into(), subject: "k".into(), amount: U256::from(1u8) });

    let changed = activate(new);
    let mut state = PolicyState::new();
    for e in &effects {
        assert!(!replay(&changed, &mut state, e, now), "{e:?}");
    }
    assert_eq!(state.clock_us(), 0);
    assert!(!state.has_counters("r") && !state.has_counters("q") && !state.has_counters("gone"));

    // The same effects into the old policy are all applied.
    let same = activate(old);
    let mut state = PolicyState::new();
    for e in &effects[..3] {
        assert!(replay(&same, &mut state, e, now), "{e:?}");
    }
    assert_eq!(state.clock_us(), now);
    assert!(state.has_counters("r") && state.has_counters("q"));
}

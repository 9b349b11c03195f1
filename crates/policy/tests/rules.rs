//! Table-driven rule tests: one fixture file per rule type in
//! `test/vectors/policy/` (see its README for the format and what each file
//! covers). Every case parses its policy, activates it (loading the models it
//! names), then runs its steps through `Engine::decide` (evaluate + commit) at
//! the given instants and compares the verdict, code and per-rule records.
//!
//! Risk fixtures use `"model_sha256": "@threshold-stub"`, replaced here by
//! the SHA-256 of a hand-encoded linear ONNX model (tests/support/stub_model.rs)
//! whose scores are known by construction, and `"@risk-v1"` for the shipped
//! `models/risk-v1.onnx` (those cases are skipped, and say so, while the file
//! does not exist).
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sentinel_policy::{
    parse_policy, ActivePolicy, Caller, Engine, Evaluation, OpKind, PolicyRequest, PriceTable, Verdict,
};
use serde_json::{Map, Value};

#[path = "support/stub_model.rs"]
mod stub_model;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> Value {
    let path = repo_root().join("test/vectors/policy").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Models a fixture can name, by placeholder.
struct Models {
    threshold_stub: Vec<u8>,
    risk_v1: Option<Vec<u8>>,
}

impl Models {
    fn load() -> Models {
        Models {
            threshold_stub: stub_model::threshold_model(),
            risk_v1: std::fs::read(repo_root().join("models/risk-v1.onnx")).ok(),
        }
    }
    fn bytes(&self, name: &str) -> Option<&Vec<u8>> {
        match name {
            "@threshold-stub" => Some(&self.threshold_stub),
            "@risk-v1" => self.risk_v1.as_ref(),
            other => panic!("unknown model placeholder {other}"),
        }
    }
}

/// Replaces `"@..."` model placeholders in a policy with `0x` + the model's SHA-256, noting which were used.
fn substitute_models(value: &mut Value, models: &Models, used: &mut Vec<String>) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "model_sha256" {
                    if let Value::String(s) = v {
                        if s.starts_with('@') {
                            let bytes = models.bytes(s).ok_or_else(|| format!("{s} not available"))?;
                            if !used.contains(s) {
                                used.push(s.clone());
                            }
                            *v = Value::String(format!("0x{}", stub_model::sha256_hex(bytes)));
                        }
                    }
                } else {
                    substitute_models(v, models, used)?;
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                substitute_models(v, models, used)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn activate(policy: &Value, models: &Models, explicit: Option<&Value>) -> Result<Arc<ActivePolicy>, String> {
    let mut policy = policy.clone();
    let mut used = Vec::new();
    substitute_models(&mut policy, models, &mut used)?;
    let names: Vec<String> = match explicit {
        Some(list) => list.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        None => used,
    };
    let mut bytes = Vec::new();
    for name in &names {
        bytes.push(models.bytes(name).ok_or_else(|| format!("{name} not available"))?.clone());
    }
    let parsed =
        parse_policy(serde_json::to_string(&policy).unwrap().as_bytes()).map_err(|e| format!("policy refused: {e}"))?;
    ActivePolicy::new(parsed, &bytes).map(Arc::new).map_err(|e| format!("ACTIVATE:{}", e))
}

fn parse_instant(s: &str) -> u64 {
    let ts: jiff::Timestamp = s.parse().unwrap_or_else(|e| panic!("instant {s}: {e}"));
    u64::try_from(ts.as_microsecond()).expect("after 1970")
}

fn word_address(a: &str) -> String {
    let a = a.trim_start_matches("0x");
    assert_eq!(a.len(), 40, "address {a}");
    format!("{:0>64}", a.to_lowercase())
}

fn word_uint(n: &str) -> String {
    let v = sentinel_eth::U256::from_str_radix(n, 10).unwrap_or_else(|e| panic!("amount {n}: {e}"));
    format!("{v:064x}")
}

/// `{"call": "transfer", "to": .., "amount": ..}` etc. -> calldata hex.
fn erc20_calldata(call: &Map<String, Value>) -> String {
    let s = |k: &str| call.get(k).and_then(Value::as_str).unwrap_or_else(|| panic!("erc20.{k} missing"));
    match s("call") {
        "transfer" => format!("0xa9059cbb{}{}", word_address(s("to")), word_uint(s("amount"))),
        "approve" => format!("0x095ea7b3{}{}", word_address(s("spender")), word_uint(s("amount"))),
        "transferFrom" => {
            format!("0x23b872dd{}{}{}", word_address(s("from")), word_address(s("to")), word_uint(s("amount")))
        }
        other => panic!("erc20.call {other}"),
    }
}

fn build_request(step: &Map<String, Value>, caller: Caller<'_>) -> PolicyRequest {
    if let Some(tx) = step.get("transaction") {
        let mut tx = tx.as_object().expect("transaction object").clone();
        if let Some(call) = step.get("erc20") {
            tx.insert("data".into(), Value::String(erc20_calldata(call.as_object().unwrap())));
        }
        let json = serde_json::to_string(&tx).unwrap();
        let decoded =
            sentinel_eth::transaction_from_json(&json).unwrap_or_else(|e| panic!("transaction {json}: {e:?}"));
        return PolicyRequest::from_transaction(caller, &decoded).expect("from_transaction");
    }
    if let Some(typed) = step.get("typed_data") {
        let json = serde_json::to_string(typed).unwrap();
        return PolicyRequest::from_typed_data(caller, &json).unwrap_or_else(|e| panic!("typed data: {e}"));
    }
    match step.get("op").and_then(Value::as_str) {
        Some("sign_digest") => PolicyRequest::bare(OpKind::Digest, caller),
        Some("sign_ed25519") => PolicyRequest::bare(OpKind::Ed25519Message, caller),
        Some("sign_personal_message") => PolicyRequest::personal_message(caller),
        other => panic!("step has no transaction, typed_data or op ({other:?})"),
    }
}

fn verdict_name(v: Verdict) -> &'static str {
    v.as_str()
}

/// Compares one step's result with its `expect`; returns the mismatches.
fn check(active: &ActivePolicy, eval: &Evaluation, expect: &Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(v) = expect.get("verdict") {
        let want = v.as_str().unwrap();
        if verdict_name(eval.verdict) != want {
            problems.push(format!("verdict {} != {want}", verdict_name(eval.verdict)));
        }
    }
    if let Some(c) = expect.get("code") {
        let want = c.as_str();
        if eval.code != want {
            problems.push(format!("code {:?} != {want:?}", eval.code));
        }
    }
    if let Some(s) = expect.get("score_bps") {
        let want = s.as_u64().map(|n| n as u16);
        if eval.score_bps != want {
            problems.push(format!("score_bps {:?} != {want:?}", eval.score_bps));
        }
    }
    let records = active.records(eval);
    if records.len() != active.parsed.policy.rules.len() {
        problems.push(format!("{} records for {} rules", records.len(), active.parsed.policy.rules.len()));
    }
    if let Some(results) = expect.get("results") {
        for (rule, want) in results.as_object().unwrap() {
            let Some(record) = records.iter().find(|r| r.rule == *rule) else {
                problems.push(format!("no record for rule {rule}"));
                continue;
            };
            let want = want.as_object().unwrap();
            for (field, w) in want {
                let got: Option<&str> = match field.as_str() {
                    "result" => Some(&record.result),
                    "value" => record.value.as_deref(),
                    "limit" => record.limit.as_deref(),
                    "window" => record.window.as_deref(),
                    "detail" => {
                        let needle = w.as_str().unwrap();
                        if !record.detail.as_deref().unwrap_or("").contains(needle) {
                            problems.push(format!("{rule}.detail {:?} lacks {needle:?}", record.detail));
                        }
                        continue;
                    }
                    other => panic!("unknown expected field {other}"),
                };
                if got != w.as_str() {
                    problems.push(format!("{rule}.{field} {got:?} != {w}"));
                }
            }
        }
    }
    problems
}

struct Outcome {
    cases: usize,
    steps: usize,
    skipped: Vec<String>,
    failures: Vec<String>,
}

fn run_file(name: &str) -> Outcome {
    let doc = fixture(name);
    let models = Models::load();
    let mut out = Outcome { cases: 0, steps: 0, skipped: Vec::new(), failures: Vec::new() };
    for case in doc["cases"].as_array().expect("cases") {
        let case = case.as_object().unwrap();
        let case_name = case["name"].as_str().unwrap();
        let where_ = format!("{name}: {case_name}");
        if let Some(required) = case.get("requires_model").and_then(Value::as_str) {
            if models.bytes(required).is_none() {
                out.skipped.push(format!("{where_} (needs {required}: models/risk-v1.onnx not present)"));
                continue;
            }
        }
        out.cases += 1;
        let activated = activate(&case["policy"], &models, case.get("models"));
        if let Some(want) = case.get("expect_activation_error") {
            let want = want.as_str().unwrap();
            match activated {
                Err(e) if e.starts_with("ACTIVATE:") && e.contains(want) => {}
                other => out.failures.push(format!("{where_}: expected activation error {want}, got {other:?}")),
            }
            continue;
        }
        let active = match activated {
            Ok(a) => a,
            Err(e) => {
                out.failures.push(format!("{where_}: {e}"));
                continue;
            }
        };
        let mut engine = Engine::new(active);
        if let Some(prices) = case.get("prices") {
            let table = PriceTable::from_json(serde_json::to_string(prices).unwrap().as_bytes())
                .unwrap_or_else(|e| panic!("{where_}: prices: {e}"));
            engine.prices = Some(table);
        }
        let mut now: u64 = parse_instant(case.get("start").and_then(Value::as_str).unwrap_or("2026-01-05T15:00:00Z"));
        let mut eval = Evaluation::default();
        for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
            let step = step.as_object().unwrap();
            let step_name = step.get("note").and_then(Value::as_str).unwrap_or("");
            let here = format!("{where_}: step {i} {step_name}");
            if let Some(at) = step.get("at").and_then(Value::as_str) {
                now = parse_instant(at);
            }
            if let Some(d) = step.get("advance_us").and_then(Value::as_u64) {
                now += d;
            }
            if let Some(policy) = step.get("replace_policy") {
                match activate(policy, &models, None) {
                    Ok(a) => engine.replace_policy(a),
                    Err(e) => out.failures.push(format!("{here}: {e}")),
                }
                continue;
            }
            let caller_obj = step.get("caller").and_then(Value::as_object);
            let field = |k: &str, default: &'static str| -> String {
                caller_obj.and_then(|c| c.get(k)).and_then(Value::as_str).unwrap_or(default).to_string()
            };
            let (principal, key_id, label) =
                (field("principal", "agent-1"), field("key_id", "key-1"), field("label", "hot"));
            let caller = Caller { principal: &principal, key_id: &key_id, key_label: &label };
            let request = build_request(step, caller);
            let repeat = step.get("repeat").and_then(Value::as_u64).unwrap_or(1);
            for r in 0..repeat {
                engine.decide(&request, now, &mut eval);
                out.steps += 1;
                let expect = step.get("expect").and_then(Value::as_object).expect("expect");
                for p in check(&engine.active, &eval, expect) {
                    out.failures.push(format!("{here} (repeat {r}): {p}; records {:?}", engine.active.records(&eval)));
                }
            }
        }
    }
    out
}

fn run(name: &str) {
    let outcome = run_file(name);
    for s in &outcome.skipped {
        eprintln!("skipped: {s}");
    }
    eprintln!("{name}: {} cases, {} decisions, {} skipped", outcome.cases, outcome.steps, outcome.skipped.len());
    assert!(outcome.cases > 0, "{name}: no case ran");
    assert!(outcome.failures.is_empty(), "{name}:\n{}", outcome.failures.join("\n"));
}

#[test]
fn notional_limit() {
    run("notional_limit.json");
}

#[test]
fn rate_limit() {
    run("rate_limit.json");
}

#[test]
fn contract_list() {
    run("contract_list.json");
}

#[test]
fn chain() {
    run("chain.json");
}

#[test]
fn time_window() {
    run("time_window.json");
}

#[test]
fn risk_score() {
    run("risk_score.json");
}

#[test]
fn scope_and_verdict() {
    run("scope_and_verdict.json");
}

/// Evaluation is pure: evaluating twice without commit gives the same answer and leaves the state alone.
#[test]
fn evaluate_does_not_change_state() {
    let policy = r#"{"version":1,"name":"t","rules":[
        {"id":"cap","type":"notional_limit","asset":"native:1","windows":[{"window":"1m","limit":"10"}]},
        {"id":"rate","type":"rate_limit","rate":{"count":1,"per":"1m"},"burst":1,"cooldown_ms":1000}]}"#;
    let active = Arc::new(ActivePolicy::new(parse_policy(policy.as_bytes()).unwrap(), &[]).unwrap());
    let mut engine = Engine::new(active.clone());
    let caller = Caller { principal: "p", key_id: "k", key_label: "l" };
    let tx = sentinel_eth::transaction_from_json(
        r#"{"type":2,"chainId":1,"to":"0x1111111111111111111111111111111111111111","value":"6"}"#,
    )
    .unwrap();
    let request = PolicyRequest::from_transaction(caller, &tx).unwrap();
    let mut a = Evaluation::default();
    let mut b = Evaluation::default();
    sentinel_policy::evaluate(&active, &request, &engine.state, None, 1_000_000, &mut a);
    sentinel_policy::evaluate(&active, &request, &engine.state, None, 1_000_000, &mut b);
    assert_eq!(a, b);
    assert_eq!(a.verdict, Verdict::Allow);
    assert!(!engine.state.has_counters("cap"));
    engine.decide(&request, 1_000_000, &mut a);
    assert!(engine.state.has_counters("cap") && engine.state.has_counters("rate"));
    // Second request: window 6 + 6 > 10 and the bucket is empty.
    engine.decide(&request, 2_000_000, &mut a);
    assert_eq!(a.verdict, Verdict::Deny);
}

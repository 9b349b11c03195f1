//! The policy document: canonical JSON, every validation refusal (code and
//! field path), the signed envelope and its quorum, rollback, price tables
//! and USD conversion.

use sentinel_config::{AdminKey, AdminSignature, Admins, Alg, Credential, CredentialKind};
use sentinel_eth::{Address, U256};
use sentinel_policy::{
    canonical_json, development_policy_json, development_signed_policy, parse_policy, policy_hash,
    policy_signing_digest, price_signing_digest, Asset, AssetSelector, Date, ListEffect, PolicyError, PolicyErrorCode,
    PriceFeed, PriceTable, RuleKind, SignedPolicy, SignedPrices, Subject, TimeWindow, Window, MAX_LIST_ITEMS,
    MAX_POLICY_BYTES, MAX_RULES,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn code(e: &PolicyError) -> &'static str {
    e.code.as_str()
}

/// A policy with these rules (JSON text of each).
fn policy(rules: &[&str]) -> String {
    format!(r#"{{"version": 1, "name": "test", "rules": [{}]}}"#, rules.join(","))
}

/// A policy with a price feed and these rules.
fn policy_with_feed(rules: &[&str]) -> String {
    format!(
        r#"{{"version": 1, "name": "test", "price_feed": {{"alg": "secp256k1", "public_key": "{}", "max_staleness_s": 300}}, "rules": [{}]}}"#,
        hex0x(feed().public_key().as_bytes()),
        rules.join(",")
    )
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn feed() -> Credential {
    Credential::generate(CredentialKind::Client, "feed", Alg::Secp256k1, &[9; 32]).unwrap()
}

const ANY_TIME: &str = r#"{"id": "any-time", "type": "time_window", "preset": "crypto_24_7"}"#;

/// Asserts the refusal's code and that its message starts with `path: `.
#[track_caller]
fn refused(json: &str, expected_code: &str, path: &str) -> PolicyError {
    let e = parse_policy(json.as_bytes()).expect_err("should be refused");
    assert_eq!(code(&e), expected_code, "message: {}", e.message);
    assert!(e.message.starts_with(&format!("{path}: ")), "expected path `{path}`, message: {}", e.message);
    e
}

/// A rule refused with `rules[0].<field>`.
#[track_caller]
fn rule_refused(rule: &str, expected_code: &str, field: &str) -> PolicyError {
    let path = if field.is_empty() { "rules[0]".to_string() } else { format!("rules[0].{field}") };
    refused(&policy(&[rule]), expected_code, &path)
}

fn canon(json: &str) -> String {
    String::from_utf8(canonical_json(json.as_bytes()).unwrap()).unwrap()
}

fn malformed(json: &[u8]) -> PolicyError {
    let e = canonical_json(json).expect_err("should be refused");
    assert_eq!(code(&e), "POLICY_MALFORMED", "message: {}", e.message);
    e
}

fn rule_kind(json: &str) -> RuleKind {
    parse_policy(json.as_bytes()).unwrap().policy.rules.remove(0).kind
}

// ---------------------------------------------------------------------------
// Canonical JSON
// ---------------------------------------------------------------------------

#[test]
fn duplicate_keys_are_refused_at_any_depth() {
    let e = malformed(br#"{"a": 1, "a": 2}"#);
    assert!(e.message.contains("a: the key appears twice"), "{}", e.message);
    let e = malformed(br#"{"rules": [{"x": {"b": 1, "c": 2, "b": 1}}]}"#);
    assert!(e.message.contains("rules[0].x.b: the key appears twice"), "{}", e.message);
    // Same key written with an escape is the same key.
    malformed(br#"{"a": 1, "\u0061": 2}"#);
    // And through parse_policy the code is the same.
    let e = parse_policy(br#"{"version": 1, "version": 2, "name": "x", "rules": []}"#).unwrap_err();
    assert_eq!(code(&e), "POLICY_MALFORMED");
}

#[test]
fn floats_exponents_negatives_and_big_integers_are_refused() {
    for number in ["1.0", "0.5", "1e2", "1E2", "1e-2", "-1", "-0", "-0.0", "9007199254740992", "18446744073709551616"] {
        let e = malformed(format!(r#"{{"n": {number}}}"#).as_bytes());
        assert!(e.message.contains("n: "), "{number}: {}", e.message);
    }
    assert_eq!(canon(r#"{"n": 9007199254740991}"#), r#"{"n":9007199254740991}"#);
    assert_eq!(canon(r#"{"n": 0}"#), r#"{"n":0}"#);
    // Leading zeros are not JSON.
    malformed(br#"{"n": 01}"#);
}

#[test]
fn keys_are_sorted_and_whitespace_dropped() {
    let pretty =
        "{\n  \"b\": 1,\n  \"a\": { \"d\": true, \"c\": null },\n  \"aa\": [ 3, 2, \"x\" ],\n  \"A\": false\n}\n";
    assert_eq!(canon(pretty), r#"{"A":false,"a":{"c":null,"d":true},"aa":[3,2,"x"],"b":1}"#);
    // Canonical output is a fixed point.
    let once = canon(pretty);
    assert_eq!(canon(&once), once);
}

#[test]
fn rfc8785_string_example() {
    // RFC 8785 §3.2.2.2 / appendix example, without its numbers (policies hold no floats).
    let input = r#"{
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    assert_eq!(canon(input), "{\"literals\":[null,true,false],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

#[test]
fn rfc8785_sorting_by_utf16_code_units() {
    // RFC 8785 §3.2.3: the emoji (a surrogate pair, 0xD83D...) sorts before
    // U+FB33 in UTF-16 order although its UTF-8 bytes sort after.
    let input = r#"{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
    assert_eq!(canon(input), expected);
}

#[test]
fn string_escaping_matches_serde_json_and_jcs() {
    // Every ASCII character, DEL, a few non-ASCII ones and U+2028 (JCS writes
    // it literally, as serde_json does).
    let mut chars: Vec<char> = (0u8..=0x7f).map(char::from).collect();
    chars.extend(['\u{80}', 'é', '\u{2028}', '\u{2029}', '\u{feff}', '😀']);
    for c in chars {
        let s = c.to_string();
        let serde = serde_json::to_string(&s).unwrap();
        let doc = format!("[{serde}]");
        assert_eq!(canon(&doc), format!("[{serde}]"), "U+{:04X}", c as u32);
        // And the input form does not matter: \uXXXX escapes normalise.
        let escaped = format!("[\"\\u{:04x}\"]", c as u32);
        if (c as u32) < 0x10000 {
            assert_eq!(canon(&escaped), format!("[{serde}]"), "U+{:04X}", c as u32);
        }
    }
    // The short escapes JCS mandates.
    assert_eq!(canon(r#"["\u0008\u0009\u000a\u000c\u000d\u001f\u007f"]"#), "[\"\\b\\t\\n\\f\\r\\u001f\u{7f}\"]");
}

#[test]
fn non_utf8_lone_surrogates_and_trailing_text_are_refused() {
    let e = malformed(b"{\"a\": \"\xff\"}");
    assert!(e.message.contains("not UTF-8"), "{}", e.message);
    malformed(br#"{"a": "\ud800"}"#);
    malformed(br#"{"a": 1} x"#);
    malformed(br#"{"a": 1}{"b": 2}"#);
    malformed(b"");
    malformed(b"{\"a\": 1,}");
}

#[test]
fn nesting_is_capped_at_32() {
    let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
    assert_eq!(canon(&ok), ok);
    let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
    let e = malformed(deep.as_bytes());
    assert!(e.message.contains("nested deeper than 32"), "{}", e.message);
}

#[test]
fn size_is_capped() {
    let big = format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_POLICY_BYTES));
    let e = canonical_json(big.as_bytes()).unwrap_err();
    assert_eq!(code(&e), "POLICY_TOO_LARGE");
    let e = parse_policy(big.as_bytes()).unwrap_err();
    assert_eq!(code(&e), "POLICY_TOO_LARGE");
}

#[test]
fn formatting_does_not_change_the_hash() {
    let compact = r#"{"name":"t","rules":[{"id":"r","preset":"crypto_24_7","type":"time_window"}],"version":3}"#;
    let pretty = "{\n \"version\" : 3,\n \"rules\": [ { \"type\": \"time_window\", \"id\": \"r\", \"preset\": \"crypto_24_7\" } ],\n \"name\": \"t\"\n}";
    let a = parse_policy(compact.as_bytes()).unwrap();
    let b = parse_policy(pretty.as_bytes()).unwrap();
    assert_eq!(a.canonical, compact.as_bytes());
    assert_eq!(a, b);
    assert_eq!(a.hash, policy_hash(compact.as_bytes()));
    assert_eq!(a.policy.version, 3);
}

// ---------------------------------------------------------------------------
// Top-level validation
// ---------------------------------------------------------------------------

#[test]
fn top_level_refusals() {
    refused(r#"{"version": 1, "name": "t", "rules": [], "versionx": 2}"#, "POLICY_INVALID", "versionx");
    refused(r#"{"name": "t", "rules": []}"#, "POLICY_INVALID", "version");
    refused(r#"{"version": 0, "name": "t", "rules": []}"#, "POLICY_INVALID", "version");
    refused(r#"{"version": "1", "name": "t", "rules": []}"#, "POLICY_INVALID", "version");
    refused(r#"{"version": 1, "rules": []}"#, "POLICY_INVALID", "name");
    refused(r#"{"version": 1, "name": "", "rules": []}"#, "POLICY_INVALID", "name");
    refused(r#"{"version": 1, "name": "a\nb", "rules": []}"#, "POLICY_INVALID", "name");
    refused(&format!(r#"{{"version": 1, "name": "{}", "rules": []}}"#, "n".repeat(65)), "POLICY_TOO_LARGE", "name");
    refused(r#"{"version": 1, "name": "t"}"#, "POLICY_INVALID", "rules");
    refused(r#"{"version": 1, "name": "t", "rules": {}}"#, "POLICY_INVALID", "rules");
    refused(r#"{"version": 1, "name": "t", "rules": [], "price_feed": null}"#, "POLICY_INVALID", "price_feed");
    let e = parse_policy(b"[]").unwrap_err();
    assert_eq!((code(&e), e.message.starts_with("policy: expected an object")), ("POLICY_INVALID", true), "{e}");

    let many: Vec<String> = (0..=MAX_RULES)
        .map(|i| format!(r#"{{"id": "r{i}", "type": "time_window", "preset": "crypto_24_7"}}"#))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    refused(&policy(&many), "POLICY_TOO_LARGE", "rules");
    assert_eq!(parse_policy(policy(&many[..MAX_RULES]).as_bytes()).unwrap().policy.rules.len(), MAX_RULES);

    // A name may be any printable text, including non-ASCII.
    let p = parse_policy(r#"{"version": 7, "name": "Trésorerie – prod", "rules": []}"#.as_bytes()).unwrap();
    assert_eq!((p.policy.version, p.policy.name.as_str(), p.policy.rules.len()), (7, "Trésorerie – prod", 0));
}

#[test]
fn rule_ids_and_types() {
    let e = refused(&policy(&[ANY_TIME, ANY_TIME]), "POLICY_DUPLICATE_ID", "rules[1].id");
    assert!(e.message.contains("rules[0]"), "{}", e.message);
    rule_refused(r#"{"type": "time_window", "preset": "crypto_24_7"}"#, "POLICY_INVALID", "id");
    rule_refused(r#"{"id": "Upper", "type": "time_window", "preset": "crypto_24_7"}"#, "POLICY_INVALID", "id");
    rule_refused(r#"{"id": "a b", "type": "time_window", "preset": "crypto_24_7"}"#, "POLICY_INVALID", "id");
    rule_refused(r#"{"id": "", "type": "time_window", "preset": "crypto_24_7"}"#, "POLICY_INVALID", "id");
    rule_refused(
        &format!(r#"{{"id": "{}", "type": "time_window", "preset": "crypto_24_7"}}"#, "a".repeat(65)),
        "POLICY_TOO_LARGE",
        "id",
    );
    rule_refused(r#"{"id": "r", "preset": "crypto_24_7"}"#, "POLICY_INVALID", "type");
    rule_refused(r#"{"id": "r", "type": "velocity"}"#, "POLICY_INVALID", "type");
    rule_refused(r#""r""#, "POLICY_INVALID", "");
    // The id alphabet: a-z 0-9 . _ -, up to 64 bytes.
    let id = format!("a.b_c-9{}", "z".repeat(57));
    let p = parse_policy(
        policy(&[&format!(r#"{{"id": "{id}", "type": "time_window", "preset": "crypto_24_7"}}"#)]).as_bytes(),
    )
    .unwrap();
    assert_eq!(p.policy.rules[0].id, id);
}

#[test]
fn unknown_rule_field_names_its_path() {
    let bad =
        r#"{"id": "n", "type": "notional_limit", "asset": "native:1", "windowz": [{"window": "1d", "limit": "1"}]}"#;
    let e = refused(
        &policy(&[ANY_TIME, r#"{"id": "b", "type": "chain", "chain_ids": [1]}"#, bad]),
        "POLICY_INVALID",
        "rules[2].windowz",
    );
    assert!(e.message.starts_with("rules[2].windowz: unknown field"), "{}", e.message);
    // A field of another rule type is unknown too.
    rule_refused(r#"{"id": "c", "type": "chain", "chain_ids": [1], "burst": 3}"#, "POLICY_INVALID", "burst");
}

#[test]
fn scope_refusals() {
    let with_scope =
        |scope: &str| format!(r#"{{"id": "s", "type": "time_window", "preset": "crypto_24_7", "scope": {scope}}}"#);
    rule_refused(&with_scope(r#"{"key": ["k1"]}"#), "POLICY_INVALID", "scope.key");
    rule_refused(&with_scope(r#"{"keys": []}"#), "POLICY_INVALID", "scope.keys");
    rule_refused(&with_scope(r#"{"keys": "k1"}"#), "POLICY_INVALID", "scope.keys");
    rule_refused(&with_scope(r#"{"keys": ["k1", 2]}"#), "POLICY_INVALID", "scope.keys[1]");
    rule_refused(&with_scope(r#"{"keys": ["has space"]}"#), "POLICY_INVALID", "scope.keys[0]");
    rule_refused(&with_scope(r#"{"keys": ["k1", "k2", "k1"]}"#), "POLICY_DUPLICATE_ID", "scope.keys[2]");
    rule_refused(&with_scope(r#"{"labels": ["bad label"]}"#), "POLICY_INVALID", "scope.labels[0]");
    rule_refused(&with_scope(r#"{"principals": ["agent#1"]}"#), "POLICY_INVALID", "scope.principals[0]");
    rule_refused(&with_scope("[]"), "POLICY_INVALID", "scope");
    let many: Vec<String> = (0..=MAX_LIST_ITEMS).map(|i| format!("\"k{i}\"")).collect();
    rule_refused(&with_scope(&format!(r#"{{"keys": [{}]}}"#, many.join(","))), "POLICY_TOO_LARGE", "scope.keys");

    let p = parse_policy(
        policy(&[&with_scope(
            r#"{"keys": ["key_01H/abc"], "labels": ["treasury/hot"], "principals": ["agent-1@ops"]}"#,
        )])
        .as_bytes(),
    )
    .unwrap();
    let scope = &p.policy.rules[0].scope;
    assert_eq!(scope.keys.as_deref(), Some(&["key_01H/abc".to_string()][..]));
    assert_eq!(scope.labels.as_deref(), Some(&["treasury/hot".to_string()][..]));
    assert_eq!(scope.principals.as_deref(), Some(&["agent-1@ops".to_string()][..]));
    let p = parse_policy(policy(&[ANY_TIME]).as_bytes()).unwrap();
    assert_eq!(p.policy.rules[0].scope, Default::default());
}

// ---------------------------------------------------------------------------
// notional_limit
// ---------------------------------------------------------------------------

fn notional(fields: &str) -> String {
    format!(r#"{{"id": "n", "type": "notional_limit", {fields}}}"#)
}

#[test]
fn notional_limit_parses() {
    let token = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";
    let json = policy(&[&notional(&format!(
        r#""asset": "erc20:1:{token}", "per": "principal", "per_transaction": "1000000",
           "windows": [{{"window": "1h", "limit": "5000000"}}, {{"window": "1d", "limit": "115792089237316195423570985008687907853269984665640564039457584007913129639935"}}]"#
    ))]);
    let RuleKind::NotionalLimit(n) = rule_kind(&json) else { panic!() };
    let token: Address = token.parse().unwrap();
    assert_eq!(n.asset, AssetSelector::Erc20 { chain_id: 1, token });
    assert_eq!(n.per, Subject::Principal);
    assert_eq!(n.per_transaction, Some(U256::from(1_000_000u64)));
    assert_eq!(n.windows.len(), 2);
    assert_eq!((n.windows[0].window, n.windows[0].limit), (Window::Hour, U256::from(5_000_000u64)));
    assert_eq!((n.windows[1].window, n.windows[1].limit), (Window::Day, U256::MAX));

    // Defaults: per key; windows only.
    let RuleKind::NotionalLimit(n) =
        rule_kind(&policy(&[&notional(r#""asset": "native:8453", "windows": [{"window": "1s", "limit": "0"}]"#)]))
    else {
        panic!()
    };
    assert_eq!((n.asset, n.per, n.per_transaction), (AssetSelector::Native { chain_id: 8453 }, Subject::Key, None));
    assert_eq!(n.windows[0].limit, U256::ZERO);
}

#[test]
fn usd_amounts_are_micro_dollars_and_need_a_price_feed() {
    let rule = notional(
        r#""asset": "usd", "per_transaction": "250000.50", "windows": [{"window": "1d", "limit": "1000000"}, {"window": "1m", "limit": "0.000001"}]"#,
    );
    let RuleKind::NotionalLimit(n) = rule_kind(&policy_with_feed(&[&rule])) else { panic!() };
    assert_eq!(n.asset, AssetSelector::Usd);
    assert_eq!(n.per_transaction, Some(U256::from(250_000_500_000u64)));
    assert_eq!(n.windows[0].limit, U256::from(1_000_000_000_000u64));
    assert_eq!(n.windows[1].limit, U256::from(1u64));

    let e = refused(&policy(&[&rule]), "POLICY_INVALID", "rules[0].asset");
    assert!(e.message.contains("price_feed"), "{}", e.message);

    for bad in ["1.1234567", "1.", ".5", "01.5", "-1", "+1", "1,5", "1e3", " 1", ""] {
        rule_refused_feed(&notional(&format!(r#""asset": "usd", "per_transaction": "{bad}""#)), "per_transaction");
    }
}

#[track_caller]
fn rule_refused_feed(rule: &str, field: &str) {
    refused(&policy_with_feed(&[rule]), "POLICY_INVALID", &format!("rules[0].{field}"));
}

#[test]
fn notional_limit_refusals() {
    let w = r#""windows": [{"window": "1d", "limit": "1"}]"#;
    for asset in [
        "native:0",
        "native:01",
        "native:",
        "native:1:2",
        "native:x",
        "erc20:1:0x12",
        "erc20:1",
        "btc",
        "USD",
        "native:18446744073709551616",
    ] {
        rule_refused(&notional(&format!(r#""asset": "{asset}", {w}"#)), "POLICY_INVALID", "asset");
    }
    rule_refused(&notional(w), "POLICY_INVALID", "asset");
    rule_refused(&notional(&format!(r#""asset": "native:1", "per": "team", {w}"#)), "POLICY_INVALID", "per");
    for bad in ["-1", "01", "1.5", "1e18", "", " 1", "0x10"] {
        rule_refused(
            &notional(&format!(r#""asset": "native:1", "per_transaction": "{bad}""#)),
            "POLICY_INVALID",
            "per_transaction",
        );
    }
    // Amounts are strings, not numbers.
    rule_refused(&notional(r#""asset": "native:1", "per_transaction": 100"#), "POLICY_INVALID", "per_transaction");
    // 2^256 does not fit.
    rule_refused(
        &notional(
            r#""asset": "native:1", "per_transaction": "115792089237316195423570985008687907853269984665640564039457584007913129639936""#,
        ),
        "POLICY_INVALID",
        "per_transaction",
    );
    rule_refused(&notional(r#""asset": "native:1""#), "POLICY_INVALID", "per_transaction");
    rule_refused(&notional(r#""asset": "native:1", "windows": []"#), "POLICY_INVALID", "windows");
    rule_refused(
        &notional(r#""asset": "native:1", "windows": [{"window": "2m", "limit": "1"}]"#),
        "POLICY_INVALID",
        "windows[0].window",
    );
    rule_refused(
        &notional(r#""asset": "native:1", "windows": [{"window": "1m"}]"#),
        "POLICY_INVALID",
        "windows[0].limit",
    );
    rule_refused(
        &notional(r#""asset": "native:1", "windows": [{"window": "1m", "limit": "1", "cap": "2"}]"#),
        "POLICY_INVALID",
        "windows[0].cap",
    );
    rule_refused(
        &notional(
            r#""asset": "native:1", "windows": [{"window": "1m", "limit": "1"}, {"window": "1m", "limit": "2"}]"#,
        ),
        "POLICY_DUPLICATE_ID",
        "windows[1].window",
    );
    let five: Vec<String> =
        ["1s", "1m", "1h", "1d", "1d"].iter().map(|w| format!(r#"{{"window": "{w}", "limit": "1"}}"#)).collect();
    rule_refused(
        &notional(&format!(r#""asset": "native:1", "windows": [{}]"#, five.join(","))),
        "POLICY_TOO_LARGE",
        "windows",
    );
}

// ---------------------------------------------------------------------------
// rate_limit
// ---------------------------------------------------------------------------

fn rate(fields: &str) -> String {
    format!(r#"{{"id": "r", "type": "rate_limit", {fields}}}"#)
}

#[test]
fn rate_limit_parses_and_refuses() {
    let RuleKind::RateLimit(r) = rule_kind(&policy(&[&rate(
        r#""per": "principal", "rate": {"count": 10, "per": "1m"}, "burst": 20, "cooldown_ms": 86400000"#,
    )])) else {
        panic!()
    };
    assert_eq!(
        (r.subject, r.count, r.per, r.burst, r.cooldown_ms),
        (Subject::Principal, 10, Window::Minute, 20, 86_400_000)
    );
    let RuleKind::RateLimit(r) = rule_kind(&policy(&[&rate(r#""rate": {"count": 1, "per": "1s"}, "burst": 1"#)]))
    else {
        panic!()
    };
    assert_eq!((r.subject, r.cooldown_ms), (Subject::Key, 0));

    rule_refused(&rate(r#""rate": {"count": 0, "per": "1s"}, "burst": 1"#), "POLICY_INVALID", "rate.count");
    rule_refused(&rate(r#""rate": {"count": 4294967296, "per": "1s"}, "burst": 1"#), "POLICY_INVALID", "rate.count");
    rule_refused(&rate(r#""rate": {"count": 1, "per": "1w"}, "burst": 1"#), "POLICY_INVALID", "rate.per");
    rule_refused(&rate(r#""rate": {"count": 1, "per": "1s", "every": 2}, "burst": 1"#), "POLICY_INVALID", "rate.every");
    rule_refused(&rate(r#""rate": {"count": 1, "per": "1s"}, "burst": 0"#), "POLICY_INVALID", "burst");
    rule_refused(&rate(r#""rate": {"count": 1, "per": "1s"}"#), "POLICY_INVALID", "burst");
    rule_refused(&rate(r#""burst": 1"#), "POLICY_INVALID", "rate");
    rule_refused(
        &rate(r#""rate": {"count": 1, "per": "1s"}, "burst": 1, "cooldown_ms": 86400001"#),
        "POLICY_INVALID",
        "cooldown_ms",
    );
    rule_refused(&rate(r#""rate": {"count": 1, "per": "1s"}, "burst": 1, "per": "agent""#), "POLICY_INVALID", "per");
}

// ---------------------------------------------------------------------------
// contract_list
// ---------------------------------------------------------------------------

fn contracts(fields: &str) -> String {
    format!(r#"{{"id": "c", "type": "contract_list", {fields}}}"#)
}

#[test]
fn contract_list_parses_and_refuses() {
    let usdc = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";
    let RuleKind::ContractList(c) = rule_kind(&policy(&[&contracts(&format!(
        r#""effect": "allow", "tokens": ["{}"], "selectors": ["0xa9059cbb", "0x095EA7B3"], "recipients": []"#,
        usdc.to_uppercase().replace("0X", "0x")
    ))])) else {
        panic!()
    };
    assert_eq!(c.effect, ListEffect::Allow);
    assert_eq!(c.tokens, vec![usdc.parse::<Address>().unwrap()]);
    assert_eq!(c.selectors, vec![[0xa9, 0x05, 0x9c, 0xbb], [0x09, 0x5e, 0xa7, 0xb3]]);
    assert!(c.destinations.is_empty() && c.recipients.is_empty());

    rule_refused(&contracts(r#""effect": "maybe", "tokens": []"#), "POLICY_INVALID", "effect");
    rule_refused(&contracts(r#""tokens": ["0x0000000000000000000000000000000000000001"]"#), "POLICY_INVALID", "effect");
    rule_refused(&contracts(r#""effect": "deny", "destinations": ["0x12"]"#), "POLICY_INVALID", "destinations[0]");
    rule_refused(
        &contracts(r#""effect": "deny", "destinations": ["0000000000000000000000000000000000000001"]"#),
        "POLICY_INVALID",
        "destinations[0]",
    );
    rule_refused(&contracts(r#""effect": "deny", "selectors": ["0xa9059cb"]"#), "POLICY_INVALID", "selectors[0]");
    rule_refused(&contracts(r#""effect": "deny", "selectors": ["a9059cbb"]"#), "POLICY_INVALID", "selectors[0]");
    rule_refused(
        &contracts(r#""effect": "deny", "selectors": ["0xa9059cbb", "0xA9059CBB"]"#),
        "POLICY_DUPLICATE_ID",
        "selectors[1]",
    );
    rule_refused(
        &contracts(&format!(
            r#""effect": "deny", "recipients": ["{usdc}", "{}"]"#,
            usdc.to_uppercase().replace("0X", "0x")
        )),
        "POLICY_DUPLICATE_ID",
        "recipients[1]",
    );
    rule_refused(&contracts(r#""effect": "deny""#), "POLICY_INVALID", "destinations");
    rule_refused(&contracts(r#""effect": "deny", "tokens": [], "selectors": []"#), "POLICY_INVALID", "destinations");
}

// ---------------------------------------------------------------------------
// chain
// ---------------------------------------------------------------------------

#[test]
fn chain_rule_parses_and_refuses() {
    let chain = |fields: &str| format!(r#"{{"id": "ch", "type": "chain", {fields}}}"#);
    let RuleKind::Chain(c) = rule_kind(&policy(&[&chain(r#""chain_ids": [1, 8453]"#)])) else { panic!() };
    assert_eq!((c.chain_ids, c.allow_unprotected), (vec![1, 8453], false));
    let RuleKind::Chain(c) = rule_kind(&policy(&[&chain(r#""chain_ids": [1], "allow_unprotected": true"#)])) else {
        panic!()
    };
    assert!(c.allow_unprotected);

    rule_refused(&chain(r#""chain_ids": []"#), "POLICY_INVALID", "chain_ids");
    rule_refused(&chain(r#""allow_unprotected": true"#), "POLICY_INVALID", "chain_ids");
    rule_refused(&chain(r#""chain_ids": [1, 0]"#), "POLICY_INVALID", "chain_ids[1]");
    rule_refused(&chain(r#""chain_ids": ["1"]"#), "POLICY_INVALID", "chain_ids[0]");
    rule_refused(&chain(r#""chain_ids": [1, 10, 1]"#), "POLICY_DUPLICATE_ID", "chain_ids[2]");
    rule_refused(&chain(r#""chain_ids": [1], "allow_unprotected": "yes""#), "POLICY_INVALID", "allow_unprotected");
}

// ---------------------------------------------------------------------------
// time_window
// ---------------------------------------------------------------------------

fn window(fields: &str) -> String {
    format!(r#"{{"id": "t", "type": "time_window", {fields}}}"#)
}

#[test]
fn time_window_presets() {
    assert_eq!(rule_kind(&policy(&[ANY_TIME])), RuleKind::TimeWindow(TimeWindow::Crypto24x7));
    let RuleKind::TimeWindow(TimeWindow::UsMarket { holidays }) =
        rule_kind(&policy(&[&window(r#""preset": "us_market", "holidays": ["2026-12-25", "2028-02-29"]"#)]))
    else {
        panic!()
    };
    assert_eq!(holidays, vec![Date { year: 2026, month: 12, day: 25 }, Date { year: 2028, month: 2, day: 29 }]);
    let RuleKind::TimeWindow(TimeWindow::UsMarket { holidays }) =
        rule_kind(&policy(&[&window(r#""preset": "us_market""#)]))
    else {
        panic!()
    };
    assert!(holidays.is_empty());

    rule_refused(&window(r#""preset": "nyse""#), "POLICY_INVALID", "preset");
    rule_refused(&window(r#""preset": "us_market", "timezone": "UTC""#), "POLICY_INVALID", "timezone");
    rule_refused(&window(r#""preset": "us_market", "start": "09:00""#), "POLICY_INVALID", "start");
    rule_refused(&window(r#""preset": "crypto_24_7", "holidays": ["2026-12-25"]"#), "POLICY_INVALID", "holidays");
    rule_refused(&window(r#""preset": "us_market", "holidays": ["2026-02-30"]"#), "POLICY_INVALID", "holidays[0]");
    rule_refused(&window(r#""preset": "us_market", "holidays": ["2027-02-29"]"#), "POLICY_INVALID", "holidays[0]");
    rule_refused(&window(r#""preset": "us_market", "holidays": ["2026-1-05"]"#), "POLICY_INVALID", "holidays[0]");
    rule_refused(&window(r#""preset": "us_market", "holidays": ["0000-01-01"]"#), "POLICY_INVALID", "holidays[0]");
    rule_refused(
        &window(r#""preset": "us_market", "holidays": ["2026-12-25", "2026-07-03", "2026-12-25"]"#),
        "POLICY_DUPLICATE_ID",
        "holidays[2]",
    );
}

#[test]
fn time_window_custom() {
    let RuleKind::TimeWindow(TimeWindow::Custom { timezone, days, start_minute, end_minute, holidays }) = rule_kind(
        &policy(&[&window(
            r#""timezone": "europe/LONDON", "days": ["mon", "wed", "fri"], "start": "08:00", "end": "16:30", "holidays": ["2026-12-28"]"#,
        )]),
    ) else {
        panic!()
    };
    assert_eq!(timezone.name, "Europe/London");
    assert_eq!(days, [true, false, true, false, true, false, false]);
    assert_eq!((start_minute, end_minute), (480, 990));
    assert_eq!(holidays, vec![Date { year: 2026, month: 12, day: 28 }]);
    // Wrapping past midnight, and 24:00 as an end.
    let RuleKind::TimeWindow(TimeWindow::Custom { start_minute, end_minute, .. }) = rule_kind(&policy(&[&window(
        r#""timezone": "Asia/Tokyo", "days": ["sun"], "start": "22:00", "end": "02:00""#,
    )])) else {
        panic!()
    };
    assert_eq!((start_minute, end_minute), (1320, 120));
    let RuleKind::TimeWindow(TimeWindow::Custom { start_minute, end_minute, .. }) = rule_kind(&policy(&[&window(
        r#""timezone": "UTC", "days": ["sat", "sun"], "start": "00:00", "end": "24:00""#,
    )])) else {
        panic!()
    };
    assert_eq!((start_minute, end_minute), (0, 1440));
    // start == end: 24 hours from start (Friday 08:00 to Saturday 08:00).
    let RuleKind::TimeWindow(TimeWindow::Custom { start_minute, end_minute, .. }) =
        rule_kind(&policy(&[&window(r#""timezone": "UTC", "days": ["fri"], "start": "08:00", "end": "08:00""#)]))
    else {
        panic!()
    };
    assert_eq!((start_minute, end_minute), (480, 480));

    let custom = |tz: &str, days: &str, start: &str, end: &str| {
        window(&format!(r#""timezone": "{tz}", "days": {days}, "start": "{start}", "end": "{end}""#))
    };
    rule_refused(&custom("Mars/Olympus_Mons", r#"["mon"]"#, "09:00", "17:00"), "POLICY_INVALID", "timezone");
    rule_refused(&custom("EST5EDT,M3.2.0,M11.1.0", r#"["mon"]"#, "09:00", "17:00"), "POLICY_INVALID", "timezone");
    rule_refused(&custom("UTC", r#"["monday"]"#, "09:00", "17:00"), "POLICY_INVALID", "days[0]");
    rule_refused(&custom("UTC", r#"["Mon"]"#, "09:00", "17:00"), "POLICY_INVALID", "days[0]");
    rule_refused(&custom("UTC", r#"[]"#, "09:00", "17:00"), "POLICY_INVALID", "days");
    rule_refused(&custom("UTC", r#"["mon", "tue", "mon"]"#, "09:00", "17:00"), "POLICY_DUPLICATE_ID", "days[2]");
    rule_refused(&custom("UTC", r#"["mon"]"#, "25:00", "17:00"), "POLICY_INVALID", "start");
    rule_refused(&custom("UTC", r#"["mon"]"#, "9:30", "17:00"), "POLICY_INVALID", "start");
    rule_refused(&custom("UTC", r#"["mon"]"#, "09:60", "17:00"), "POLICY_INVALID", "start");
    rule_refused(&custom("UTC", r#"["mon"]"#, "09:00", "24:01"), "POLICY_INVALID", "end");
    rule_refused(&custom("UTC", r#"["mon"]"#, "24:00", "17:00"), "POLICY_INVALID", "start");
    rule_refused(&window(r#""days": ["mon"], "start": "09:00", "end": "17:00""#), "POLICY_INVALID", "timezone");
    rule_refused(&window(r#""timezone": "UTC", "start": "09:00", "end": "17:00""#), "POLICY_INVALID", "days");
    rule_refused(&window(r#""timezone": "UTC", "days": ["mon"], "end": "17:00""#), "POLICY_INVALID", "start");
}

// ---------------------------------------------------------------------------
// risk_score and price_feed
// ---------------------------------------------------------------------------

#[test]
fn risk_score_parses_and_refuses() {
    let risk = |fields: &str| format!(r#"{{"id": "risk", "type": "risk_score", {fields}}}"#);
    let hash = format!("0x{}", "Ab".repeat(32));
    let RuleKind::RiskScore(r) = rule_kind(&policy(&[&risk(&format!(
        r#""model_sha256": "{hash}", "approve_at_bps": 6000, "deny_at_bps": 8500"#
    ))])) else {
        panic!()
    };
    assert_eq!((r.model_sha256, r.approve_at_bps, r.deny_at_bps), ([0xab; 32], 6000, 8500));
    // Edges: 0 and 10000, equal thresholds.
    rule_kind(&policy(&[&risk(&format!(r#""model_sha256": "{hash}", "approve_at_bps": 0, "deny_at_bps": 0"#))]));
    rule_kind(&policy(&[&risk(&format!(
        r#""model_sha256": "{hash}", "approve_at_bps": 10000, "deny_at_bps": 10000"#
    ))]));

    let short = format!("0x{}", "ab".repeat(31));
    rule_refused(
        &risk(&format!(r#""model_sha256": "{short}", "approve_at_bps": 1, "deny_at_bps": 2"#)),
        "POLICY_INVALID",
        "model_sha256",
    );
    rule_refused(
        &risk(&format!(r#""model_sha256": "{}", "approve_at_bps": 1, "deny_at_bps": 2"#, "ab".repeat(32))),
        "POLICY_INVALID",
        "model_sha256",
    );
    rule_refused(
        &risk(&format!(r#""model_sha256": "{hash}", "approve_at_bps": 1, "deny_at_bps": 10001"#)),
        "POLICY_INVALID",
        "deny_at_bps",
    );
    rule_refused(
        &risk(&format!(r#""model_sha256": "{hash}", "approve_at_bps": 9000, "deny_at_bps": 8500"#)),
        "POLICY_INVALID",
        "approve_at_bps",
    );
    rule_refused(
        &risk(&format!(r#""model_sha256": "{hash}", "deny_at_bps": 8500"#)),
        "POLICY_INVALID",
        "approve_at_bps",
    );
}

#[test]
fn price_feed_parses_and_refuses() {
    let p = parse_policy(policy_with_feed(&[ANY_TIME]).as_bytes()).unwrap();
    let f = p.policy.price_feed.unwrap();
    assert_eq!((f.public_key.clone(), f.max_staleness_s), (feed().public_key(), 300));

    let key = hex0x(feed().public_key().as_bytes());
    let with_feed = |feed: &str| format!(r#"{{"version": 1, "name": "t", "price_feed": {feed}, "rules": []}}"#);
    refused(
        &with_feed(&format!(r#"{{"alg": "rsa", "public_key": "{key}", "max_staleness_s": 1}}"#)),
        "POLICY_INVALID",
        "price_feed.alg",
    );
    refused(
        &with_feed(&format!(r#"{{"alg": "ed25519", "public_key": "{key}", "max_staleness_s": 1}}"#)),
        "POLICY_INVALID",
        "price_feed.public_key",
    );
    refused(
        &with_feed(r#"{"alg": "secp256k1", "public_key": "0x02", "max_staleness_s": 1}"#),
        "POLICY_INVALID",
        "price_feed.public_key",
    );
    refused(
        &with_feed(r#"{"alg": "secp256k1", "public_key": "zz", "max_staleness_s": 1}"#),
        "POLICY_INVALID",
        "price_feed.public_key",
    );
    refused(
        &with_feed(&format!(r#"{{"alg": "secp256k1", "public_key": "{key}", "max_staleness_s": 0}}"#)),
        "POLICY_INVALID",
        "price_feed.max_staleness_s",
    );
    refused(
        &with_feed(&format!(r#"{{"alg": "secp256k1", "public_key": "{key}"}}"#)),
        "POLICY_INVALID",
        "price_feed.max_staleness_s",
    );
    refused(
        &with_feed(&format!(r#"{{"alg": "secp256k1", "public_key": "{key}", "max_staleness_s": 5, "url": "x"}}"#)),
        "POLICY_INVALID",
        "price_feed.url",
    );
}

// ---------------------------------------------------------------------------
// The signed envelope
// ---------------------------------------------------------------------------

fn admin(id: &str, alg: Alg, seed: u8) -> Credential {
    Credential::generate(CredentialKind::Admin, id, alg, &[seed; 32]).unwrap()
}

fn admins() -> (Vec<Credential>, Admins) {
    let creds = vec![admin("a1", Alg::Ed25519, 1), admin("a2", Alg::P256, 2), admin("a3", Alg::Secp256k1, 3)];
    let keys = creds.iter().map(|c| AdminKey { id: c.id().to_string(), public_key: c.public_key() }).collect();
    (creds, Admins { threshold: 2, keys })
}

fn versioned(version: u64) -> String {
    format!(r#"{{"version": {version}, "name": "prod", "rules": [{ANY_TIME}]}}"#)
}

#[test]
fn two_of_three_quorum() {
    let (creds, admins) = admins();
    let mut signed = SignedPolicy::new(versioned(2).as_bytes()).unwrap();
    let e = signed.verify(&admins, None).unwrap_err();
    assert_eq!(code(&e), "POLICY_QUORUM_NOT_MET");
    assert!(e.message.contains("0 valid signature(s)") && e.message.contains("2 required"), "{}", e.message);

    signed.sign(&creds[0]).unwrap();
    let e = signed.verify(&admins, None).unwrap_err();
    assert_eq!(code(&e), "POLICY_QUORUM_NOT_MET");
    assert!(e.message.starts_with("signatures: 1 valid signature(s)"), "{}", e.message);
    // Signing twice replaces, it does not count twice.
    signed.sign(&creds[0]).unwrap();
    assert_eq!(signed.signatures.len(), 1);
    assert_eq!(code(&signed.verify(&admins, None).unwrap_err()), "POLICY_QUORUM_NOT_MET");

    signed.sign(&creds[2]).unwrap();
    signed.verify(&admins, None).unwrap();
    signed.verify(&admins, Some(1)).unwrap();

    // Each signature is over policy_signing_digest(hash).
    let digest = policy_signing_digest(&signed.parsed.hash);
    assert!(creds[0].public_key().verify(&digest, &signed.signatures[0].signature));
}

#[test]
fn uncounted_signers_are_named() {
    let (creds, admins) = admins();
    let mut signed = SignedPolicy::new(versioned(2).as_bytes()).unwrap();
    signed.sign(&creds[1]).unwrap();
    // An outsider and a signature over another policy.
    signed.sign(&admin("x9", Alg::Ed25519, 9)).unwrap();
    let other = {
        let mut o = SignedPolicy::new(versioned(3).as_bytes()).unwrap();
        o.sign(&creds[0]).unwrap();
        o.signatures.remove(0)
    };
    signed.signatures.push(other);
    let e = signed.verify(&admins, None).unwrap_err();
    assert_eq!(code(&e), "POLICY_QUORUM_NOT_MET");
    assert!(e.message.contains("1 valid signature(s)"), "{}", e.message);
    assert!(e.message.contains("not counted: x9 (not-an-admin), a1 (invalid)"), "{}", e.message);

    // A garbage signature of the right length and of a wrong length.
    signed.signatures = vec![
        AdminSignature { admin: "a1".into(), signature: vec![0; 64] },
        AdminSignature { admin: "a2".into(), signature: vec![1; 3] },
    ];
    let e = signed.verify(&admins, None).unwrap_err();
    assert!(e.message.contains("a1 (invalid), a2 (invalid)"), "{}", e.message);
}

#[test]
fn rollback_is_refused_after_the_quorum() {
    let (creds, admins) = admins();
    let mut signed = SignedPolicy::new(versioned(5).as_bytes()).unwrap();
    // Unsigned: the quorum is the first refusal.
    assert_eq!(code(&signed.verify(&admins, Some(9)).unwrap_err()), "POLICY_QUORUM_NOT_MET");
    signed.sign(&creds[0]).unwrap();
    signed.sign(&creds[1]).unwrap();
    for active in [5, 6, u64::MAX] {
        let e = signed.verify(&admins, Some(active)).unwrap_err();
        assert_eq!(code(&e), "POLICY_ROLLBACK");
        assert!(e.message.starts_with("version: 5 is not greater than"), "{}", e.message);
    }
    signed.verify(&admins, Some(4)).unwrap();
    signed.verify(&admins, None).unwrap();
}

#[test]
fn envelope_json_round_trip() {
    let (creds, admins) = admins();
    let mut signed = SignedPolicy::new(versioned(2).as_bytes()).unwrap();
    signed.sign(&creds[0]).unwrap();
    signed.sign(&creds[1]).unwrap();
    let json = signed.to_json();
    assert!(json.starts_with(r#"{"policy":{"name":"prod","rules":[{"#), "{json}");
    assert_eq!(canonical_json(json.as_bytes()).unwrap(), json.as_bytes(), "the envelope is canonical");
    let back = SignedPolicy::from_json(json.as_bytes()).unwrap();
    assert_eq!(back, signed);
    back.verify(&admins, Some(1)).unwrap();

    // Any formatting of the envelope (and of the policy inside) is the same envelope.
    let pretty = format!(
        "{{\n  \"signatures\": [{}],\n  \"policy\": {}\n}}",
        signed
            .signatures
            .iter()
            .map(|s| format!("{{ \"signature\": \"{}\", \"admin\": \"{}\" }}", hex0x(&s.signature).to_uppercase().replace("0X", "0x"), s.admin))
            .collect::<Vec<_>>()
            .join(", "),
        "{ \"version\": 2, \"rules\": [ { \"type\": \"time_window\", \"preset\": \"crypto_24_7\", \"id\": \"any-time\" } ], \"name\": \"prod\" }"
    );
    assert_eq!(SignedPolicy::from_json(pretty.as_bytes()).unwrap(), signed);
    // Unsigned envelope.
    let empty = SignedPolicy::new(versioned(1).as_bytes()).unwrap();
    assert_eq!(SignedPolicy::from_json(empty.to_json().as_bytes()).unwrap(), empty);
}

#[test]
fn envelope_refusals() {
    let p = versioned(1);
    let sig = format!("0x{}", "11".repeat(64));
    let env = |sigs: &str| format!(r#"{{"policy": {p}, "signatures": [{sigs}]}}"#);
    let check = |json: &str, expected: &str, path: &str| {
        let e = SignedPolicy::from_json(json.as_bytes()).unwrap_err();
        assert_eq!(code(&e), expected, "{}", e.message);
        assert!(e.message.starts_with(&format!("{path}: ")), "expected {path}, got {}", e.message);
    };
    check(&format!(r#"{{"policy": {p}}}"#), "POLICY_INVALID", "signatures");
    check(r#"{"signatures": []}"#, "POLICY_INVALID", "policy");
    check(&format!(r#"{{"policy": {p}, "signatures": [], "note": "x"}}"#), "POLICY_INVALID", "note");
    check(&env(&format!(r#"{{"admin": "a1", "sig": "{sig}"}}"#)), "POLICY_INVALID", "signatures[0].sig");
    check(&env(&format!(r#"{{"admin": "a 1", "signature": "{sig}"}}"#)), "POLICY_INVALID", "signatures[0].admin");
    check(&env(r#"{"admin": "a1", "signature": "11"}"#), "POLICY_INVALID", "signatures[0].signature");
    check(
        &env(&format!(r#"{{"admin": "a1", "signature": "0x{}"}}"#, "11".repeat(65))),
        "POLICY_TOO_LARGE",
        "signatures[0].signature",
    );
    check(
        &env(&format!(r#"{{"admin": "a1", "signature": "{sig}"}}, {{"admin": "a1", "signature": "{sig}"}}"#)),
        "POLICY_DUPLICATE_ID",
        "signatures[1].admin",
    );
    let many: Vec<String> = (0..=sentinel_config::MAX_SIGNATURES)
        .map(|i| format!(r#"{{"admin": "a{i}", "signature": "{sig}"}}"#))
        .collect();
    check(&env(&many.join(",")), "POLICY_TOO_LARGE", "signatures");
    // The policy inside is validated with paths from the envelope.
    check(
        r#"{"policy": {"version": 1, "name": "t", "rules": [{"id": "X", "type": "chain", "chain_ids": [1]}]}, "signatures": []}"#,
        "POLICY_INVALID",
        "policy.rules[0].id",
    );
    check(r#"{"policy": [], "signatures": []}"#, "POLICY_INVALID", "policy");
    // Duplicate keys anywhere in the envelope are malformed.
    let e = SignedPolicy::from_json(format!(r#"{{"policy": {p}, "policy": {p}, "signatures": []}}"#).as_bytes())
        .unwrap_err();
    assert_eq!(code(&e), "POLICY_MALFORMED");
}

#[test]
fn only_admin_credentials_sign_policies() {
    let client = Credential::generate(CredentialKind::Client, "c1", Alg::Ed25519, &[4; 32]).unwrap();
    let mut signed = SignedPolicy::new(versioned(1).as_bytes()).unwrap();
    let e = signed.sign(&client).unwrap_err();
    assert_eq!(code(&e), "POLICY_INVALID");
    assert!(e.message.contains("CREDENTIAL_INVALID"), "{}", e.message);
    assert!(signed.signatures.is_empty());
}

#[test]
fn development_policy() {
    let json = development_policy_json();
    let parsed = parse_policy(json.as_bytes()).unwrap();
    assert_eq!(parsed.canonical, json.as_bytes(), "the embedded text is canonical");
    assert_eq!((parsed.policy.version, parsed.policy.name.as_str()), (1, "development"));
    assert_eq!(parsed.policy.rules.len(), 1);
    assert_eq!(parsed.policy.rules[0].id, "dev-any-time");
    assert_eq!(parsed.policy.rules[0].kind, RuleKind::TimeWindow(TimeWindow::Crypto24x7));

    let dev_admin = admin("dev-admin", Alg::Ed25519, 1);
    let signed = development_signed_policy(&dev_admin).unwrap();
    assert_eq!(signed.parsed, parsed);
    let admins =
        Admins { threshold: 1, keys: vec![AdminKey { id: "dev-admin".into(), public_key: dev_admin.public_key() }] };
    signed.verify(&admins, None).unwrap();
    let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[2; 32]).unwrap();
    assert_eq!(code(&development_signed_policy(&client).unwrap_err()), "POLICY_INVALID");
}

// ---------------------------------------------------------------------------
// Price tables
// ---------------------------------------------------------------------------

const USDC: &str = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";

fn table_json() -> String {
    format!(
        r#"{{"timestamp_s": 1764000000, "prices": [
            {{"asset": "native:1", "usd": "3012.55", "decimals": 18}},
            {{"asset": "erc20:1:{USDC}", "usd": "1.00", "decimals": 6}},
            {{"asset": "native:8453", "usd": "3012.55", "decimals": 18}}
        ]}}"#
    )
}

fn price_feed() -> PriceFeed {
    PriceFeed { public_key: feed().public_key(), max_staleness_s: 300 }
}

#[track_caller]
fn table_refused(json: &str, path: &str) {
    let e = PriceTable::from_json(json.as_bytes()).unwrap_err();
    assert_eq!(code(&e), "PRICES_INVALID", "{}", e.message);
    assert!(e.message.starts_with(&format!("{path}: ")), "expected {path}, got {}", e.message);
}

#[test]
fn price_table_parses() {
    let t = PriceTable::from_json(table_json().as_bytes()).unwrap();
    assert_eq!(t.timestamp_s, 1_764_000_000);
    assert_eq!(t.entries.len(), 3);
    assert_eq!((t.entries[0].chain_id, t.entries[0].token, t.entries[0].decimals), (1, None, 18));
    assert_eq!(t.entries[0].usd_micro, U256::from(3_012_550_000u64));
    assert_eq!(t.entries[1].token, Some(USDC.parse().unwrap()));
    assert_eq!(t.entries[1].usd_micro, U256::from(1_000_000u64));
}

#[test]
fn price_table_refusals() {
    let one = |entry: &str| format!(r#"{{"timestamp_s": 1, "prices": [{entry}]}}"#);
    table_refused(
        &format!(
            r#"{{"timestamp_s": 1, "prices": [{{"asset": "erc20:1:{USDC}", "usd": "1", "decimals": 6}}, {{"asset": "erc20:1:{}", "usd": "1", "decimals": 6}}]}}"#,
            USDC.to_uppercase().replace("0X", "0x")
        ),
        "prices[1].asset",
    );
    table_refused(&one(r#"{"asset": "usd", "usd": "1", "decimals": 6}"#), "prices[0].asset");
    table_refused(&one(r#"{"asset": "native:0", "usd": "1", "decimals": 6}"#), "prices[0].asset");
    table_refused(&one(r#"{"asset": "native:1", "usd": "1.0000001", "decimals": 6}"#), "prices[0].usd");
    table_refused(&one(r#"{"asset": "native:1", "usd": "0.000000", "decimals": 6}"#), "prices[0].usd");
    table_refused(&one(r#"{"asset": "native:1", "usd": 3000, "decimals": 6}"#), "prices[0].usd");
    table_refused(&one(r#"{"asset": "native:1", "usd": "1", "decimals": 78}"#), "prices[0].decimals");
    table_refused(&one(r#"{"asset": "native:1", "usd": "1"}"#), "prices[0].decimals");
    table_refused(&one(r#"{"asset": "native:1", "usd": "1", "decimals": 6, "source": "x"}"#), "prices[0].source");
    table_refused(r#"{"prices": []}"#, "timestamp_s");
    table_refused(r#"{"timestamp_s": 1, "prices": [], "x": 1}"#, "x");
    // Malformed JSON and floats are PRICES_INVALID too.
    for bad in
        [r#"{"timestamp_s": 1.5, "prices": []}"#, r#"{"timestamp_s": 1, "timestamp_s": 2, "prices": []}"#, "nope"]
    {
        assert_eq!(code(&PriceTable::from_json(bad.as_bytes()).unwrap_err()), "PRICES_INVALID", "{bad}");
    }
    // decimals 77 is the largest.
    PriceTable::from_json(one(r#"{"asset": "native:1", "usd": "1", "decimals": 77}"#).as_bytes()).unwrap();
}

#[test]
fn signed_prices_round_trip_and_verify() {
    let signed = SignedPrices::sign(table_json().as_bytes(), &feed()).unwrap();
    assert_eq!(signed.canonical, canonical_json(table_json().as_bytes()).unwrap());
    signed.verify(&price_feed()).unwrap();
    let json = signed.to_json();
    let back = SignedPrices::from_json(json.as_bytes()).unwrap();
    assert_eq!(back, signed);
    back.verify(&price_feed()).unwrap();
    assert!(feed().public_key().verify(&price_signing_digest(&back.canonical), &back.signature));

    // Reformatted: same table, same signature.
    let sig = hex0x(&signed.signature);
    let reformatted = format!("{{ \"table\": {}, \"signature\": \"{sig}\" }}", table_json());
    SignedPrices::from_json(reformatted.as_bytes()).unwrap().verify(&price_feed()).unwrap();

    // A changed price, another key: PRICES_SIGNATURE_INVALID.
    let tampered = reformatted.replace("3012.55", "1.00");
    let e = SignedPrices::from_json(tampered.as_bytes()).unwrap().verify(&price_feed()).unwrap_err();
    assert_eq!(code(&e), "PRICES_SIGNATURE_INVALID");
    let other = Credential::generate(CredentialKind::Client, "feed", Alg::Ed25519, &[9; 32]).unwrap();
    let e = signed.verify(&PriceFeed { public_key: other.public_key(), max_staleness_s: 300 }).unwrap_err();
    assert_eq!(code(&e), "PRICES_SIGNATURE_INVALID");

    // Envelope refusals are PRICES_INVALID.
    for bad in [
        format!(r#"{{"table": {}}}"#, table_json()),
        format!(r#"{{"table": {}, "signature": "zz"}}"#, table_json()),
        format!(r#"{{"table": {}, "signature": "{sig}", "by": "x"}}"#, table_json()),
        format!(r#"{{"table": {{"timestamp_s": 1}}, "signature": "{sig}"}}"#),
    ] {
        assert_eq!(code(&SignedPrices::from_json(bad.as_bytes()).unwrap_err()), "PRICES_INVALID", "{bad}");
    }
}

#[test]
fn usd_conversion_rounds_up() {
    let t = PriceTable::from_json(table_json().as_bytes()).unwrap();
    let eth = Asset::Native { chain_id: Some(1) };
    let usdc = Asset::Erc20 { chain_id: Some(1), token: USDC.parse().unwrap() };
    let wei = |n: u64| U256::from(n);
    let one_eth = U256::from(10u64).pow(U256::from(18u64));

    assert_eq!(t.usd_micro(&eth, U256::ZERO), Some(U256::ZERO));
    assert_eq!(t.usd_micro(&eth, one_eth), Some(U256::from(3_012_550_000u64)));
    // One wei is worth 3.01255e-9 micro-dollars: rounds up to 1.
    assert_eq!(t.usd_micro(&eth, wei(1)), Some(U256::from(1u64)));
    // 1 ETH + 1 wei: one micro-dollar more than 1 ETH.
    assert_eq!(t.usd_micro(&eth, one_eth + wei(1)), Some(U256::from(3_012_550_001u64)));
    // Exact: 1.5 USDC at 1.00 is 1_500_000 micro-dollars.
    assert_eq!(t.usd_micro(&usdc, U256::from(1_500_000u64)), Some(U256::from(1_500_000u64)));
    // Large amounts whose product exceeds 256 bits but whose value fits.
    let expected = {
        let scale = U256::from(10u64).pow(U256::from(12u64));
        let (q, r) = U256::MAX.div_rem(scale);
        if r.is_zero() {
            q
        } else {
            q + U256::from(1u64)
        }
    };
    // USDC at 1.00 with 6 decimals: one base unit is one micro-dollar, even at 2^256-1.
    assert_eq!(t.usd_micro(&usdc, U256::MAX), Some(U256::MAX));
    let big =
        PriceTable::from_json(br#"{"timestamp_s": 1, "prices": [{"asset": "native:1", "usd": "1", "decimals": 18}]}"#)
            .unwrap();
    assert_eq!(big.usd_micro(&eth, U256::MAX), Some(expected));
    // A value beyond 2^256-1 micro-dollars: None.
    let dear =
        PriceTable::from_json(br#"{"timestamp_s": 1, "prices": [{"asset": "native:1", "usd": "2", "decimals": 0}]}"#)
            .unwrap();
    assert_eq!(dear.usd_micro(&eth, U256::MAX), None);
    assert_eq!(dear.usd_micro(&eth, U256::from(5u64)), Some(U256::from(10_000_000u64)));

    // Unprotected and unknown assets are unpriced.
    assert_eq!(t.entry(&Asset::Native { chain_id: None }), None);
    assert_eq!(t.usd_micro(&Asset::Native { chain_id: None }, one_eth), None);
    assert_eq!(t.usd_micro(&Asset::Erc20 { chain_id: None, token: USDC.parse().unwrap() }, wei(1)), None);
    assert_eq!(t.usd_micro(&Asset::Native { chain_id: Some(10) }, one_eth), None);
    assert_eq!(t.usd_micro(&Asset::Erc20 { chain_id: Some(8453), token: USDC.parse().unwrap() }, wei(1)), None);
    assert_eq!(t.entry(&Asset::Native { chain_id: Some(8453) }).map(|e| e.chain_id), Some(8453));
}

#[test]
fn error_codes_are_the_documented_ones() {
    let codes: Vec<&str> = PolicyErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/policy.md")).unwrap();
    for c in codes.iter().chain(
        ["POLICY_DENIED", "POLICY_NO_MATCH", "POLICY_ERROR", "POLICY_APPROVAL_REQUIRED", "POLICY_NOT_INSTALLED"].iter(),
    ) {
        assert!(docs.contains(&format!("`{c}`")), "docs/policy.md does not list {c}");
    }
}

// ---------------------------------------------------------------------------
// docs/policy.md
// ---------------------------------------------------------------------------

fn policy_doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/policy.md")).unwrap()
}

/// Every ```json block of docs/policy.md is strict JSON, and each policy, rule,
/// scope, price feed, price table and envelope in it is accepted by the code.
#[test]
fn docs_json_examples_are_valid() {
    let doc = policy_doc();
    let mut blocks = 0;
    for block in doc.split("```json\n").skip(1) {
        let json = block.split("\n```").next().unwrap();
        blocks += 1;
        canonical_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{json}"));
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let has = |k: &str| value.get(k).is_some();
        let result = if has("version") {
            parse_policy(json.as_bytes()).map(drop)
        } else if has("id") && has("type") {
            parse_policy(policy_with_feed(&[json]).as_bytes()).map(drop)
        } else if has("keys") || has("principals") {
            let rule = format!(r#"{{"id": "s", "type": "time_window", "preset": "crypto_24_7", "scope": {json}}}"#);
            parse_policy(policy(&[&rule]).as_bytes()).map(drop)
        } else if has("max_staleness_s") {
            parse_policy(format!(r#"{{"version": 1, "name": "t", "price_feed": {json}, "rules": []}}"#).as_bytes())
                .map(drop)
        } else if has("timestamp_s") {
            PriceTable::from_json(json.as_bytes()).map(drop)
        } else if has("table") {
            SignedPrices::from_json(json.as_bytes()).map(drop)
        } else if has("signatures") {
            SignedPolicy::from_json(json.as_bytes()).map(drop)
        } else {
            // Result records.
            assert!(value.as_array().is_some_and(|records| records.iter().all(|r| r.get("rule").is_some())), "{json}");
            Ok(())
        };
        result.unwrap_or_else(|e| panic!("{e}\n{json}"));
    }
    assert!(blocks >= 15, "found {blocks} JSON blocks");
    // The complete example is the first block after its marker.
    let example = doc.split("<!-- example-policy -->\n```json\n").nth(1).unwrap().split("\n```").next().unwrap();
    let parsed = parse_policy(example.as_bytes()).unwrap();
    assert_eq!(parsed.policy.rules.len(), 8);
    let types: Vec<&str> = parsed.policy.rules.iter().map(|r| r.kind.type_name()).collect();
    for t in ["notional_limit", "rate_limit", "contract_list", "chain", "time_window", "risk_score"] {
        assert!(types.contains(&t), "the example lacks a {t} rule");
    }
}

#[test]
fn docs_hashes_are_the_computed_ones() {
    let doc = policy_doc();
    let parsed = parse_policy(development_policy_json().as_bytes()).unwrap();
    assert!(doc.contains(&format!("`{}`", String::from_utf8(parsed.canonical.clone()).unwrap())));
    assert!(doc.contains(&format!("`policy_hash` = `{}`", hex0x(&parsed.hash))), "policy_hash");
    assert!(doc.contains(&format!("signing digest = `{}`", hex0x(&policy_signing_digest(&parsed.hash)))), "digest");
}

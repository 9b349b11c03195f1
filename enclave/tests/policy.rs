//! The policy stage inside the enclave, in process: installing a signed
//! policy (quorum, no rollback, the hash in `user_data` and in receipts),
//! denials with every rule's result in the receipt, rate limits across
//! requests, dry runs that count nothing, and the price feed.
mod common;

use sentinel_attestation::UnixTime;
use sentinel_evidence::{verify_receipt, Decision, ReceiptOptions, UserData};
use sentinel_protocol::*;

use common::{error_code, receipted, stamped};

const POLICY_V2: &str = r#"{
  "version": 2,
  "name": "desk",
  "rules": [
    {"id": "mainnet", "type": "chain", "chain_ids": [1]},
    {"id": "eth-cap", "type": "notional_limit", "asset": "native:1", "per_transaction": "1000",
     "windows": [{"window": "1h", "limit": "2500"}]},
    {"id": "burst", "type": "rate_limit", "rate": {"count": 1, "per": "1h"}, "burst": 4, "cooldown_ms": 3600000}
  ]
}"#;

fn signed_policy(json: &str, signers: &[&sentinel_config::Credential]) -> Vec<u8> {
    let mut signed = sentinel_policy::SignedPolicy::new(json.as_bytes()).unwrap();
    for s in signers {
        signed.sign(s).unwrap();
    }
    signed.to_json().into_bytes()
}

fn update_policy(signed_policy: Vec<u8>) -> Request {
    Request::UpdatePolicy(UpdatePolicyArgs { signed_policy, models: vec![] })
}

fn transfer(value_wei: u64) -> Vec<u8> {
    sentinel_eth::encode_transaction_json(&format!(
        r#"{{"type": 2, "chainId": 1, "nonce": 1, "maxPriorityFeePerGas": "0x1", "maxFeePerGas": "0x2", "gas": "0x5208",
            "to": "0x3535353535353535353535353535353535353535", "value": "{value_wei:#x}", "data": "0x"}}"#
    ))
    .unwrap()
}

fn sign_tx(key_id: &str, unsigned_tx: Vec<u8>) -> Operation {
    Operation::SignEthereumTransaction(SignEthereumTransactionArgs { key_id: key_id.into(), unsigned_tx })
}

#[test]
fn a_signed_policy_decides_and_every_receipt_says_which_policy_and_which_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, root) = common::simulated_enclave(dir.path(), b"policy test image", "policy");
    common::install_dev_config(&enclave); // and the development policy (version 1)
    let config_hash = enclave.config_hash().unwrap();

    // Quorum and rollback.
    let stranger = sentinel_config::Credential::generate(
        sentinel_config::CredentialKind::Admin,
        "not-an-admin",
        sentinel_config::Alg::Ed25519,
        &[0x77; 32],
    )
    .unwrap();
    let r = enclave.handle(update_policy(signed_policy(POLICY_V2, &[&stranger])));
    assert_eq!(error_code(&r), "POLICY_QUORUM_NOT_MET");
    let r = enclave.handle(update_policy(signed_policy(
        &POLICY_V2.replace("\"version\": 2", "\"version\": 1"),
        &[&common::admin()],
    )));
    assert_eq!(error_code(&r), "POLICY_ROLLBACK");
    let Response::PolicyUpdated(updated) = enclave.handle(update_policy(signed_policy(POLICY_V2, &[&common::admin()])))
    else {
        panic!("update_policy")
    };
    assert_eq!(updated.version, 2);
    let policy_hash: [u8; 32] = updated.policy_hash.as_slice().try_into().unwrap();
    let r = enclave.handle(update_policy(signed_policy(POLICY_V2, &[&common::admin()])));
    assert_eq!(error_code(&r), "POLICY_ROLLBACK", "the same version again");

    // The evidence and the attestation document name the policy.
    let Response::Evidence(evidence) = enclave.handle(Request::Evidence(EvidenceArgs {})) else { panic!("evidence") };
    assert_eq!(evidence.policy_hash.as_deref(), Some(&policy_hash[..]));
    assert_eq!(evidence.policy_version, Some(2));
    assert_eq!(evidence.attestation_hash, updated.attestation_hash);
    let document =
        sentinel_attestation::verify(&evidence.attestation, &root, UnixTime::from_millis(common::now_ms())).unwrap();
    let user_data = UserData::from_bytes(document.user_data().unwrap()).unwrap();
    assert_eq!((user_data.config_hash, user_data.policy_hash), (config_hash, Some(policy_hash)));

    let options = ReceiptOptions {
        root_der: &root,
        expected_pcr0: None,
        expected_config_hash: Some(config_hash),
        expected_policy_hash: Some(policy_hash),
        now: UnixTime::from_millis(common::now_ms()),
        allow_debug: false,
    };
    let Response::KeyGenerated(KeyGenerated { key_id, .. }) =
        receipted(enclave.handle(stamped(&Operation::GenerateKey(GenerateKeyArgs {
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Ethereum,
            label: "desk".into(),
        }))))
        .0
    else {
        panic!("generate")
    };

    // Exactly at the per-transaction cap: allowed; every rule reported.
    let (answer, receipt) = receipted(enclave.handle(stamped(&sign_tx(&key_id, transfer(1000)))));
    assert!(matches!(answer, Response::SignedTransaction(_)), "{answer:?}");
    let claims = verify_receipt(&receipt, &evidence.attestation, &options).unwrap().claims().clone();
    assert_eq!(claims.decision, Decision::Allowed);
    assert_eq!(claims.policy_hash, Some(policy_hash));
    let results: Vec<(&str, &str)> =
        claims.rules_evaluated.iter().map(|r| (r.rule.as_str(), r.result.as_str())).collect();
    assert_eq!(results, [("mainnet", "allow"), ("eth-cap", "allow"), ("burst", "allow")]);

    // One wei over: denied by the cap, with its numbers; nothing signed, and not counted.
    let released = enclave.signatures_released();
    let (answer, receipt) = receipted(enclave.handle(stamped(&sign_tx(&key_id, transfer(1001)))));
    assert_eq!(error_code(&answer), "POLICY_DENIED");
    let claims = verify_receipt(&receipt, &evidence.attestation, &options).unwrap().claims().clone();
    assert_eq!((claims.decision, claims.code.as_deref()), (Decision::Denied, Some("POLICY_DENIED")));
    let cap = claims.rules_evaluated.iter().find(|r| r.rule == "eth-cap").unwrap();
    assert_eq!(cap.result, "deny");
    assert_eq!((cap.value.as_deref(), cap.limit.as_deref()), (Some("1001"), Some("1000")));
    assert_eq!(enclave.signatures_released(), released);

    // A dry run reports without counting: the 1h window holds 1000 of 2500.
    let dry = |op: &Operation| match enclave.handle(Request::PolicyDryRun(match stamped(op) {
        Request::Stamped(args) => args,
        _ => unreachable!(),
    })) {
        Response::PolicyEvaluation(e) => e,
        other => panic!("{other:?}"),
    };
    for _ in 0..3 {
        let e = dry(&sign_tx(&key_id, transfer(1000)));
        assert_eq!((e.decision.as_str(), e.code), ("allowed", None));
        assert_eq!(e.policy_hash.as_deref(), Some(&policy_hash[..]));
    }
    // Window: 1000 + 1000 = 2000 allowed; + 501 would be 2501 > 2500.
    assert!(matches!(
        receipted(enclave.handle(stamped(&sign_tx(&key_id, transfer(1000))))).0,
        Response::SignedTransaction(_)
    ));
    let (answer, receipt) = receipted(enclave.handle(stamped(&sign_tx(&key_id, transfer(501)))));
    assert_eq!(error_code(&answer), "POLICY_DENIED");
    let claims = verify_receipt(&receipt, &evidence.attestation, &options).unwrap().claims().clone();
    let cap = claims.rules_evaluated.iter().find(|r| r.rule == "eth-cap").unwrap();
    assert_eq!(
        (cap.value.as_deref(), cap.limit.as_deref(), cap.window.as_deref()),
        (Some("2501"), Some("2500"), Some("1h"))
    );
    assert!(matches!(
        receipted(enclave.handle(stamped(&sign_tx(&key_id, transfer(500))))).0,
        Response::SignedTransaction(_)
    ));

    // Rate: burst 4, three allowed so far (denials take no token): one more, then the bucket is empty.
    assert!(matches!(
        receipted(enclave.handle(stamped(&sign_tx(&key_id, transfer(0))))).0,
        Response::SignedTransaction(_)
    ));
    let (answer, receipt) = receipted(enclave.handle(stamped(&sign_tx(&key_id, transfer(0)))));
    assert_eq!(error_code(&answer), "POLICY_DENIED");
    let claims = verify_receipt(&receipt, &evidence.attestation, &options).unwrap().claims().clone();
    assert_eq!(claims.rules_evaluated.iter().find(|r| r.rule == "burst").unwrap().result, "deny");

    // Another chain: denied by the chain rule (and the cap's asset does not apply).
    let goerli = sentinel_eth::encode_transaction_json(
        r#"{"type": 2, "chainId": 5, "nonce": 1, "maxPriorityFeePerGas": "0x1", "maxFeePerGas": "0x2", "gas": "0x5208",
            "to": "0x3535353535353535353535353535353535353535", "value": "0x1", "data": "0x"}"#,
    )
    .unwrap();
    let e = dry(&sign_tx(&key_id, goerli));
    assert_eq!((e.decision.as_str(), e.code.as_deref()), ("denied", Some("POLICY_DENIED")));
    assert_eq!(e.rules_evaluated[0].result, "deny");
    assert_eq!(e.rules_evaluated[1].result, "not_applicable");

    // A message: only the rate rule applies, and it is in cooldown.
    let message =
        Operation::SignPersonalMessage(SignPersonalMessageArgs { key_id: key_id.clone(), message: b"hi".to_vec() });
    let e = dry(&message);
    assert_eq!(e.code.as_deref(), Some("POLICY_DENIED"));

    // Prices without a price feed in the policy: refused with a clear code.
    let r = enclave.handle(Request::UpdatePrices(UpdatePricesArgs {
        signed_prices: b"{\"table\":{\"timestamp_s\":1,\"prices\":[]},\"signature\":\"0x00\"}".to_vec(),
    }));
    let code = error_code(&r);
    assert!(
        code == "PRICE_FEED_NOT_CONFIGURED" || code == "PRICES_INVALID" || code == "PRICES_SIGNATURE_INVALID",
        "{code}"
    );
}

#[test]
fn a_policy_needs_a_configuration_and_survives_a_configuration_update() {
    let dir = tempfile::tempdir().unwrap();
    let (enclave, _root) = common::simulated_enclave(dir.path(), b"policy test image", "policy");
    let r = enclave.handle(common::install_dev_policy_request());
    assert_eq!(error_code(&r), "NOT_CONFIGURED");
    common::install_dev_config(&enclave);
    let (hash, version) = enclave.policy().unwrap();
    let mut v2 = common::dev_config();
    v2.version = 2;
    let updated = enclave.handle(Request::UpdateConfig(UpdateConfigArgs {
        signed_config: common::sign_config(&v2, &[&common::admin()]),
    }));
    assert!(matches!(updated, Response::ConfigUpdated(_)), "{updated:?}");
    assert_eq!(enclave.policy(), Some((hash, version)));
}

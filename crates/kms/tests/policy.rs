//! docs/kms-key-policy.json: valid JSON with only the fields KMS accepts; the enclave's role may
//! Decrypt / GenerateDataKey only under both attestation conditions; an explicit Deny refuses every
//! call that could return or take plaintext without an attested recipient; the administrators hold
//! no cryptographic action.
use serde_json::Value;

fn policy() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/kms-key-policy.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn actions(statement: &Value) -> Vec<&str> {
    statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect()
}

#[test]
fn the_key_policy_admits_only_the_attested_image() {
    let policy = policy();
    // KMS refuses key policies with other top-level fields (so the documentation lives in docs/kms.md).
    let keys: Vec<&str> = policy.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["Id", "Statement", "Version"]);
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 3);

    let allow = &statements[0];
    assert_eq!(allow["Effect"], "Allow");
    assert_eq!(actions(allow), ["kms:Decrypt", "kms:GenerateDataKey"]);
    let cond = &allow["Condition"]["StringEqualsIgnoreCase"];
    assert_eq!(cond["kms:RecipientAttestation:ImageSha384"], "REPLACE_WITH_PCR0_HEX");
    assert_eq!(cond["kms:RecipientAttestation:PCR0"], "REPLACE_WITH_PCR0_HEX");
    assert_eq!(allow["Condition"].as_object().unwrap().len(), 1);

    let deny = &statements[1];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Principal"]["AWS"], "*");
    for a in ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:Encrypt"] {
        assert!(actions(deny).contains(&a), "{a}");
    }
    assert_eq!(deny["Condition"]["Null"]["kms:RecipientAttestation:ImageSha384"], "true");

    let admin = &statements[2];
    assert_eq!(admin["Effect"], "Allow");
    for a in actions(admin) {
        for crypto in ["Decrypt", "Encrypt", "GenerateDataKey", "ReEncrypt", "GenerateRandom", "CreateGrant", "*"] {
            assert!(!a.contains(crypto), "administrator action {a}");
        }
    }
}

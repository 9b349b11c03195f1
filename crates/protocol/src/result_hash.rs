//! `result_hash`: what a receipt records about an answer, defined once.
//!
//! A receipt carries SHA-256 of the result so that a client can tell whether
//! the host relayed the enclave's answer unaltered (`docs/receipts.md`). The
//! enclave computes it here for every answer it receipts, and clients compute
//! it here too (the N-API `resultHash`, from the answer's wire JSON), so the
//! two cannot drift apart. Per answer type:
//!
//! - `signature`: the 64 signature bytes, then the recovery id as one byte when
//!   present (secp256k1);
//! - `signed_transaction`: the raw signed transaction;
//! - `key_generated`: the public key;
//! - `key_list`: `u64be(number of keys)`, then for each key in the answer's
//!   order `lp(key_id) ‖ lp(curve) ‖ lp(purpose) ‖ lp(label) ‖ lp(owner) ‖
//!   lp(public_key)`, where `lp(x) = u64be(byte length of x) ‖ x`, text as
//!   UTF-8 and `curve` / `purpose` as their wire names (`"secp256k1"`, `"raw"`);
//! - anything else (refusals included): none.
//!
//! The first three are the definitions receipts have always used; `key_list`
//! binds every field of every key and the order of the list.
use sha2::{Digest, Sha256};

use crate::{KeyInfo, Response};

/// The `result_hash` a receipt records for `answer`, or `None` for answers without one.
pub fn result_hash(answer: &Response) -> Option<[u8; 32]> {
    let mut h = Sha256::new();
    match answer {
        Response::Signature(s) => {
            h.update(&s.signature);
            if let Some(v) = s.recovery_id {
                h.update([v]);
            }
        }
        Response::SignedTransaction(t) => h.update(&t.raw),
        Response::KeyGenerated(k) => h.update(&k.public_key),
        Response::KeyList(list) => {
            h.update(length(list.keys.len()));
            for key in &list.keys {
                // Destructured in full: a field added to `KeyInfo` must be added here (and to the docs).
                let KeyInfo { key_id, curve, purpose, label, owner, public_key } = key;
                let fields = [
                    key_id.as_bytes(),
                    curve.as_str().as_bytes(),
                    purpose.as_str().as_bytes(),
                    label.as_bytes(),
                    owner.as_bytes(),
                    public_key.as_slice(),
                ];
                for field in fields {
                    prefixed(&mut h, field);
                }
            }
        }
        Response::Pong(_)
        | Response::Description(_)
        | Response::Attestation(_)
        | Response::Evidence(_)
        | Response::ConfigUpdated(_)
        | Response::PolicyUpdated(_)
        | Response::PricesUpdated(_)
        | Response::PolicyEvaluation(_)
        | Response::Receipted(_)
        | Response::SessionOpened(_)
        | Response::SessionFrame(_)
        | Response::SessionClosed(_)
        | Response::Authenticated(_)
        | Response::OversightStatus(_)
        | Response::OversightChallenge(_)
        | Response::ApprovalPending(_)
        | Response::ApprovalUpdated(_)
        | Response::ApprovalList(_)
        | Response::AuditRecords(_)
        | Response::AuditAcked(_)
        | Response::AuditResumeProgress(_)
        | Response::AuditResumed(_)
        | Response::KeyDeleted(_)
        | Response::SealedLoaded(_)
        | Response::SealedState(_)
        | Response::ForwardSent(_)
        | Response::ForwardAccepted(_)
        | Response::SealingUnlocked(_)
        | Response::SealedSnapshot(_)
        | Response::Error(_) => return None,
    }
    Some(h.finalize().into())
}

fn length(n: usize) -> [u8; 8] {
    // usize is at most 64 bits on every target this builds for.
    (n as u64).to_be_bytes()
}

fn prefixed(h: &mut Sha256, field: &[u8]) {
    h.update(length(field.len()));
    h.update(field);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    fn sha256(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    fn key(id: &str, public_key: u8) -> KeyInfo {
        KeyInfo {
            key_id: id.into(),
            curve: Curve::Secp256k1,
            purpose: KeyPurpose::Ethereum,
            label: "treasury".into(),
            owner: "desk".into(),
            public_key: vec![public_key; 33],
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Every answer type with a result hash, and a few without.
    fn answers() -> Vec<Response> {
        vec![
            Response::Signature(Signature { signature: vec![1; 64], recovery_id: Some(1) }),
            Response::Signature(Signature { signature: vec![2; 64], recovery_id: None }),
            Response::SignedTransaction(SignedTransaction { raw: vec![0x02, 0xf8, 0x6c] }),
            Response::KeyGenerated(KeyGenerated {
                key_id: "k1".into(),
                curve: Curve::Ed25519,
                purpose: KeyPurpose::Raw,
                label: "l".into(),
                public_key: vec![7; 32],
                storage: "sealed:development".into(),
            }),
            Response::KeyList(KeyList { keys: vec![key("k1", 2), key("k2", 3)] }),
            Response::KeyList(KeyList { keys: vec![] }),
        ]
    }

    #[test]
    fn existing_definitions_are_unchanged() {
        let sig = |recovery_id| Response::Signature(Signature { signature: vec![1; 64], recovery_id });
        assert_eq!(result_hash(&sig(Some(1))), Some(sha256(&[&[1; 64], &[1]])));
        assert_eq!(result_hash(&sig(Some(0))), Some(sha256(&[&[1; 64], &[0]])));
        assert_eq!(result_hash(&sig(None)), Some(sha256(&[&[1; 64]])));
        let raw = vec![0x02, 0xf8, 0x6c, 0x01];
        assert_eq!(
            result_hash(&Response::SignedTransaction(SignedTransaction { raw: raw.clone() })),
            Some(sha256(&[&raw]))
        );
        let generated = &answers()[3];
        assert_eq!(result_hash(generated), Some(sha256(&[&[7; 32]])));
    }

    #[test]
    fn key_list_is_the_documented_length_prefixed_encoding() {
        let one = Response::KeyList(KeyList { keys: vec![key("k1", 2)] });
        let mut preimage = vec![0, 0, 0, 0, 0, 0, 0, 1];
        for field in [&b"k1"[..], b"secp256k1", b"ethereum", b"treasury", b"desk", &[2; 33]] {
            preimage.extend_from_slice(&(field.len() as u64).to_be_bytes());
            preimage.extend_from_slice(field);
        }
        assert_eq!(result_hash(&one), Some(sha256(&[&preimage])));
        // The example in docs/receipts.md.
        assert_eq!(
            hex(&result_hash(&one).unwrap()),
            "969716f485ea0a4d048661c6c7f722b0db2d5b40f557e1c97090821c5dedefed"
        );
        // An empty list still has a hash (of eight zero bytes): a host cannot turn a list into "no keys".
        assert_eq!(result_hash(&Response::KeyList(KeyList { keys: vec![] })), Some(sha256(&[&[0; 8]])));
    }

    #[test]
    fn key_list_binds_order_and_every_field() {
        let list = |keys: Vec<KeyInfo>| result_hash(&Response::KeyList(KeyList { keys }));
        let base = list(vec![key("k1", 2), key("k2", 3)]);
        assert_ne!(base, list(vec![key("k2", 3), key("k1", 2)]), "order");
        assert_ne!(base, list(vec![key("k1", 2)]), "a key dropped");
        assert_ne!(base, list(vec![key("k1", 2), key("k2", 3), key("k3", 4)]), "a key added");
        let edits: [fn(&mut KeyInfo); 6] = [
            |k| k.key_id.push('x'),
            |k| k.curve = Curve::Ed25519,
            |k| k.purpose = KeyPurpose::Raw,
            |k| k.label.push('x'),
            |k| k.owner.push('x'),
            |k| k.public_key[32] ^= 1,
        ];
        for edit in edits {
            let mut second = key("k2", 3);
            edit(&mut second);
            assert_ne!(base, list(vec![key("k1", 2), second]));
        }
        // Length prefixes: moving bytes between adjacent fields changes the hash.
        let mut a = key("k1", 2);
        let mut b = key("k1", 2);
        (a.label, a.owner) = ("ab".into(), "c".into());
        (b.label, b.owner) = ("a".into(), "bc".into());
        assert_ne!(list(vec![a]), list(vec![b]));
    }

    #[test]
    fn answers_without_a_result_hash() {
        assert_eq!(
            result_hash(&Response::Error(ErrorAnswer { code: "UNKNOWN_KEY".into(), message: "m".into() })),
            None
        );
        assert_eq!(result_hash(&Response::Pong(Pong { payload: vec![1] })), None);
        assert_eq!(
            result_hash(&Response::Authenticated(Authenticated { principal: "p".into(), expires_at_us: 1 })),
            None
        );
    }

    #[test]
    fn cbor_and_wire_json_round_trips_give_the_same_hash() {
        for answer in answers() {
            let want = result_hash(&answer);
            assert!(want.is_some());
            let frame = encode_response(&ResponseFrame { id: 9, response: answer.clone() });
            let decoded = decode_response(&frame[FRAME_HEADER_BYTES..]).unwrap().response;
            assert_eq!(result_hash(&decoded), want);
            let json = wire_json(&answer);
            let parsed: Response = from_wire_json(&json).unwrap_or_else(|e| panic!("{json}: {e:?}"));
            assert_eq!(parsed, answer);
            assert_eq!(result_hash(&parsed), want);
        }
    }

    /// What `host/src/api/wire-json.ts` makes of an answer: bytes as 0x-hex, the rest as it is.
    fn wire_json(answer: &Response) -> String {
        fn convert(v: ciborium::Value) -> serde_json::Value {
            use ciborium::Value as C;
            use serde_json::Value as J;
            match v {
                C::Bytes(b) => J::String(format!("0x{}", hex(&b))),
                C::Text(t) => J::String(t),
                C::Integer(i) => J::Number(u64::try_from(i).unwrap().into()),
                C::Bool(b) => J::Bool(b),
                C::Null => J::Null,
                C::Array(a) => J::Array(a.into_iter().map(convert).collect()),
                C::Map(m) => J::Object(m.into_iter().map(|(k, v)| (k.into_text().unwrap(), convert(v))).collect()),
                other => panic!("{other:?}"),
            }
        }
        convert(ciborium::Value::serialized(answer).unwrap()).to_string()
    }

    #[test]
    fn wire_json_takes_hex_bytes_and_json_numbers_only() {
        let sig = r#"{"type":"signature","signature":"0x"#.to_owned() + &"ab".repeat(64) + r#"","recovery_id":1}"#;
        let parsed: Response = from_wire_json(&sig).unwrap();
        assert_eq!(parsed, Response::Signature(Signature { signature: vec![0xab; 64], recovery_id: Some(1) }));
        // Upper-case hex is the same bytes; field order does not matter; a missing recovery id is none.
        let upper = r#"{"recovery_id":null,"signature":"0xABAB","type":"signature"}"#;
        assert_eq!(
            from_wire_json::<Response>(upper).unwrap(),
            Response::Signature(Signature { signature: vec![0xab; 2], recovery_id: None })
        );
        let e = |json: &str| from_wire_json::<Response>(json).unwrap_err();
        for bad in [
            r#"{"type":"signature","signature":"abab","recovery_id":1}"#,
            r#"{"type":"signature","signature":"0xabc","recovery_id":1}"#,
            r#"{"type":"signature","signature":"0xzz","recovery_id":1}"#,
            r#"{"type":"signature","signature":[1,2],"recovery_id":1}"#,
            r#"{"type":"signature","signature":"0xab","recovery_id":"1"}"#,
            r#"{"type":"signature","signature":"0xab","recovery_id":1,"extra":0}"#,
            r#"{"type":"key_list"}"#,
            r#"{"type":"nope"}"#,
            "not json",
        ] {
            assert_eq!(e(bad).code, ProtocolErrorCode::InvalidArgument, "{bad}");
        }
        // u64 fields read JSON numbers (up to 2^53 - 1 is what the host writes as numbers).
        let evidence =
            r#"{"type":"config_updated","config_hash":"0x01","version":9007199254740991,"attestation_hash":"0x"}"#;
        assert_eq!(
            from_wire_json::<Response>(evidence).unwrap(),
            Response::ConfigUpdated(ConfigUpdated {
                config_hash: vec![1],
                version: 9_007_199_254_740_991,
                attestation_hash: vec![]
            })
        );
    }

    #[test]
    fn cbor_still_refuses_text_where_bytes_are_expected() {
        use ciborium::Value;
        let text = |field: &str| {
            Value::Map(vec![
                (Value::Text("type".into()), Value::Text("signature".into())),
                (Value::Text(field.into()), Value::Text("0xabab".into())),
                (Value::Text("recovery_id".into()), Value::Null),
            ])
        };
        // Nested answers go through serde's buffered (human-readable) path: still refused.
        let session_answer = Value::Map(vec![
            (Value::Text("id".into()), Value::Integer(1.into())),
            (Value::Text("answer".into()), text("signature")),
            (Value::Text("receipt".into()), Value::Null),
        ]);
        let mut bytes = Vec::new();
        ciborium::into_writer(&session_answer, &mut bytes).unwrap();
        assert_eq!(decode_session_answer(&bytes).unwrap_err().code, ProtocolErrorCode::InvalidArgument);
        // A top-level answer and a receipted one, too.
        let mut answer = Vec::new();
        ciborium::into_writer(&text("signature"), &mut answer).unwrap();
        assert!(ciborium::from_reader::<Response, _>(answer.as_slice()).is_err());
        let receipted = encode_response(&ResponseFrame {
            id: 3,
            response: Response::Receipted(Receipted {
                answer: Box::new(answers()[0].clone()),
                receipt: vec![1],
                audit: None,
                sealed: None,
            }),
        });
        let mut value: Value = ciborium::from_reader(&receipted[FRAME_HEADER_BYTES..]).unwrap();
        if let Value::Map(entries) = &mut value {
            for (k, v) in entries.iter_mut() {
                if k.as_text() == Some("answer") {
                    *v = text("signature");
                }
            }
        }
        let mut body = Vec::new();
        ciborium::into_writer(&value, &mut body).unwrap();
        assert_eq!(decode_response(&body).unwrap_err().code, ProtocolErrorCode::InvalidArgument);
    }
}

//! The attestation payload map, read field by field against the AWS Nitro
//! specification with the deviations real hardware shows: optional fields may
//! be CBOR null, and `public_key` is opaque bytes (it can hold PEM text).
//! Known fields must have their documented type and size; unknown text keys
//! are ignored so that a field AWS adds later does not break verification
//! (they are covered by the signature all the same).

use std::collections::BTreeMap;

use ciborium::value::Value;

use crate::cbor;
use crate::error::{err, Error, ErrorCode};

/// PCR values are SHA-384 digests.
pub const PCR_LEN: usize = 48;
/// PCR indexes are below this bound (the NSM has 32 PCRs).
pub const MAX_PCRS: usize = 32;
/// Cap of `user_data`, as documented by AWS.
pub const MAX_USER_DATA: usize = 512;
/// Cap of `nonce`, as documented by AWS.
pub const MAX_NONCE: usize = 512;
/// Cap of `public_key`, as documented by AWS.
pub const MAX_PUBLIC_KEY: usize = 1024;
/// Most CA certificates accepted in `cabundle` (real documents carry 4).
pub const MAX_CABUNDLE: usize = 8;
/// Cap of `certificate` and of each `cabundle` entry (DER), as documented by
/// AWS (`cert = bytes .size (1..1024)`; real ones are 530–800 bytes).
pub const MAX_CERTIFICATE: usize = 1024;

/// The payload fields after type and size checks.
pub(crate) struct Payload {
    pub module_id: String,
    pub digest: String,
    pub timestamp_ms: u64,
    pub pcrs: BTreeMap<u8, Vec<u8>>,
    pub certificate: Vec<u8>,
    pub cabundle: Vec<Vec<u8>>,
    pub public_key: Option<Vec<u8>>,
    pub user_data: Option<Vec<u8>>,
    pub nonce: Option<Vec<u8>>,
}

/// Decodes the payload byte string of the COSE_Sign1.
pub(crate) fn decode(bytes: &[u8]) -> Result<Payload, Error> {
    let Value::Map(entries) = cbor::decode_exact(bytes, "payload")? else {
        return err(ErrorCode::InvalidField, "payload must be a map");
    };
    let mut fields = BTreeMap::new();
    for (key, value) in entries {
        let Value::Text(key) = key else {
            return err(ErrorCode::InvalidField, "payload: map keys must be text");
        };
        fields.insert(key, value);
    }
    let mut take = |name: &'static str| fields.remove(name);

    let module_id = text(take("module_id"), "module_id")?;
    if module_id.is_empty() {
        return err(ErrorCode::InvalidField, "module_id must not be empty");
    }
    let digest = text(take("digest"), "digest")?;
    if digest != "SHA384" {
        return err(ErrorCode::UnsupportedDigest, format!("digest must be \"SHA384\", got {digest:?}"));
    }
    let timestamp_ms = match required(take("timestamp"), "timestamp")? {
        Value::Integer(i) => u64::try_from(i)
            .map_err(|_| Error::new(ErrorCode::InvalidField, "timestamp must be an unsigned integer"))?,
        _ => return err(ErrorCode::InvalidField, "timestamp must be an unsigned integer"),
    };
    if timestamp_ms == 0 {
        return err(ErrorCode::TimestampZero, "timestamp must be greater than 0");
    }
    let pcrs = pcrs(required(take("pcrs"), "pcrs")?)?;
    let certificate = certificate(required(take("certificate"), "certificate")?, "certificate")?;
    let cabundle = cabundle(required(take("cabundle"), "cabundle")?)?;
    let public_key = optional_bytes(take("public_key"), "public_key", MAX_PUBLIC_KEY)?;
    if public_key.as_ref().is_some_and(Vec::is_empty) {
        // AWS: public_key is 1..=1024 bytes when present.
        return err(ErrorCode::InvalidField, "public_key must not be empty (null or absent when unset)");
    }
    let user_data = optional_bytes(take("user_data"), "user_data", MAX_USER_DATA)?;
    let nonce = optional_bytes(take("nonce"), "nonce", MAX_NONCE)?;
    Ok(Payload { module_id, digest, timestamp_ms, pcrs, certificate, cabundle, public_key, user_data, nonce })
}

fn required(value: Option<Value>, name: &str) -> Result<Value, Error> {
    value.ok_or_else(|| Error::new(ErrorCode::MissingField, format!("payload has no {name}")))
}

fn text(value: Option<Value>, name: &str) -> Result<String, Error> {
    match required(value, name)? {
        Value::Text(t) => Ok(t),
        _ => err(ErrorCode::InvalidField, format!("{name} must be a text string")),
    }
}

/// A DER certificate: a byte string of 1..=[`MAX_CERTIFICATE`] bytes.
fn certificate(value: Value, name: &str) -> Result<Vec<u8>, Error> {
    match value {
        Value::Bytes(b) if b.len() > MAX_CERTIFICATE => err(
            ErrorCode::CertificateTooLarge,
            format!("{name} is {} bytes, at most {MAX_CERTIFICATE} allowed", b.len()),
        ),
        Value::Bytes(b) if !b.is_empty() => Ok(b),
        _ => err(ErrorCode::InvalidField, format!("{name} must be a non-empty byte string")),
    }
}

/// Absent and null both mean "not set".
fn optional_bytes(value: Option<Value>, name: &str, cap: usize) -> Result<Option<Vec<u8>>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bytes(b)) if b.len() > cap => {
            err(ErrorCode::FieldTooLarge, format!("{name} is {} bytes, at most {cap} allowed", b.len()))
        }
        Some(Value::Bytes(b)) => Ok(Some(b)),
        Some(_) => err(ErrorCode::InvalidField, format!("{name} must be a byte string or null")),
    }
}

fn pcrs(value: Value) -> Result<BTreeMap<u8, Vec<u8>>, Error> {
    let Value::Map(entries) = value else {
        return err(ErrorCode::InvalidField, "pcrs must be a map");
    };
    if entries.is_empty() || entries.len() > MAX_PCRS {
        return err(ErrorCode::InvalidField, format!("pcrs must have 1..={MAX_PCRS} entries, got {}", entries.len()));
    }
    let mut pcrs = BTreeMap::new();
    for (index, value) in entries {
        let index = cbor::as_i128(&index)
            .and_then(|i| u8::try_from(i).ok())
            .filter(|&i| usize::from(i) < MAX_PCRS)
            .ok_or_else(|| {
                Error::new(ErrorCode::InvalidField, format!("pcrs: index must be an integer < {MAX_PCRS}"))
            })?;
        match value {
            Value::Bytes(b) if b.len() == PCR_LEN => pcrs.insert(index, b),
            _ => return err(ErrorCode::InvalidField, format!("pcrs[{index}] must be a {PCR_LEN}-byte string")),
        };
    }
    if !pcrs.contains_key(&0) {
        return err(ErrorCode::MissingField, "pcrs has no PCR0");
    }
    Ok(pcrs)
}

fn cabundle(value: Value) -> Result<Vec<Vec<u8>>, Error> {
    let Value::Array(items) = value else {
        return err(ErrorCode::InvalidField, "cabundle must be an array");
    };
    if items.is_empty() || items.len() > MAX_CABUNDLE {
        return err(
            ErrorCode::InvalidField,
            format!("cabundle must have 1..={MAX_CABUNDLE} certificates, got {}", items.len()),
        );
    }
    items.into_iter().enumerate().map(|(i, v)| certificate(v, &format!("cabundle[{i}]"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(Value, Value)> {
        let t = |s: &str| Value::Text(s.into());
        vec![
            (t("module_id"), t("i-0-enc0")),
            (t("digest"), t("SHA384")),
            (t("timestamp"), Value::Integer(1_657_117_102_484u64.into())),
            (t("pcrs"), Value::Map(vec![(Value::Integer(0.into()), Value::Bytes(vec![7; PCR_LEN]))])),
            (t("certificate"), Value::Bytes(vec![0x30])),
            (t("cabundle"), Value::Array(vec![Value::Bytes(vec![0x30])])),
            (t("public_key"), Value::Null),
            (t("user_data"), Value::Bytes(vec![1, 2])),
        ]
    }

    fn with(key: &str, value: Option<Value>) -> Result<Payload, Error> {
        let mut map: Vec<_> = base().into_iter().filter(|(k, _)| *k != Value::Text(key.into())).collect();
        if let Some(v) = value {
            map.push((Value::Text(key.into()), v));
        }
        decode(&cbor::encode(&Value::Map(map)))
    }

    fn code(key: &str, value: Option<Value>) -> ErrorCode {
        with(key, value).err().expect("should fail").kind()
    }

    #[test]
    fn accepts_null_and_absent_optionals() {
        let p = decode(&cbor::encode(&Value::Map(base()))).unwrap();
        assert_eq!((p.public_key, p.user_data, p.nonce), (None, Some(vec![1, 2]), None));
        assert!(with("nonce", Some(Value::Bytes(vec![0; MAX_NONCE]))).is_ok());
        assert!(with("public_key", Some(Value::Bytes(b"-----BEGIN PUBLIC KEY-----".to_vec()))).is_ok());
        assert!(with("future_field", Some(Value::Bool(true))).is_ok());
    }

    #[test]
    fn timestamp_must_be_positive() {
        assert_eq!(code("timestamp", Some(Value::Integer(0.into()))), ErrorCode::TimestampZero);
        assert_eq!(with("timestamp", Some(Value::Integer(1.into()))).unwrap().timestamp_ms, 1);
    }

    #[test]
    fn certificates_are_at_most_1024_bytes() {
        let cert = |len: usize| Value::Bytes(vec![0x30; len]);
        assert_eq!(with("certificate", Some(cert(MAX_CERTIFICATE))).unwrap().certificate.len(), MAX_CERTIFICATE);
        assert_eq!(code("certificate", Some(cert(MAX_CERTIFICATE + 1))), ErrorCode::CertificateTooLarge);
        let bundle = |last: usize| Value::Array(vec![cert(500), cert(last)]);
        assert_eq!(with("cabundle", Some(bundle(MAX_CERTIFICATE))).unwrap().cabundle.len(), 2);
        assert_eq!(code("cabundle", Some(bundle(MAX_CERTIFICATE + 1))), ErrorCode::CertificateTooLarge);
    }

    #[test]
    fn rejects_bad_fields_with_codes() {
        use ErrorCode::*;
        assert_eq!(code("module_id", Some(Value::Text(String::new()))), InvalidField);
        assert_eq!(code("module_id", None), MissingField);
        assert_eq!(code("digest", Some(Value::Text("SHA256".into()))), UnsupportedDigest);
        assert_eq!(code("timestamp", Some(Value::Integer((-1).into()))), InvalidField);
        assert_eq!(code("timestamp", Some(Value::Float(1.0))), InvalidField);
        assert_eq!(code("public_key", Some(Value::Bytes(vec![]))), InvalidField);
        assert_eq!(code("certificate", Some(Value::Bytes(vec![]))), InvalidField);
        assert_eq!(code("cabundle", Some(Value::Array(vec![Value::Bytes(vec![])]))), InvalidField);
        assert_eq!(code("certificate", Some(Value::Text("x".into()))), InvalidField);
        assert_eq!(code("cabundle", Some(Value::Array(vec![]))), InvalidField);
        assert_eq!(code("cabundle", Some(Value::Array(vec![Value::Bytes(vec![1]); MAX_CABUNDLE + 1]))), InvalidField);
        assert_eq!(code("cabundle", None), MissingField);
        assert_eq!(code("user_data", Some(Value::Bytes(vec![0; MAX_USER_DATA + 1]))), FieldTooLarge);
        assert_eq!(code("nonce", Some(Value::Bytes(vec![0; MAX_NONCE + 1]))), FieldTooLarge);
        assert_eq!(code("public_key", Some(Value::Bytes(vec![0; MAX_PUBLIC_KEY + 1]))), FieldTooLarge);
        assert_eq!(code("public_key", Some(Value::Text("pem".into()))), InvalidField);
        let pcr = |i: i64, len: usize| (Value::Integer(i.into()), Value::Bytes(vec![1; len]));
        assert_eq!(code("pcrs", Some(Value::Map(vec![pcr(0, 32)]))), InvalidField);
        assert_eq!(code("pcrs", Some(Value::Map(vec![pcr(0, PCR_LEN), pcr(32, PCR_LEN)]))), InvalidField);
        assert_eq!(code("pcrs", Some(Value::Map(vec![pcr(0, PCR_LEN), pcr(-1, PCR_LEN)]))), InvalidField);
        assert_eq!(code("pcrs", Some(Value::Map(vec![pcr(1, PCR_LEN)]))), MissingField);
        assert_eq!(code("pcrs", Some(Value::Map(vec![]))), InvalidField);
        assert!(with("pcrs", Some(Value::Map((0..32).map(|i| pcr(i, PCR_LEN)).collect()))).is_ok());
        assert_eq!(code("pcrs", Some(Value::Map(vec![pcr(0, PCR_LEN), pcr(0, PCR_LEN)]))), DuplicateKey);
        let mut dup = base();
        dup.push(dup[0].clone());
        assert_eq!(decode(&cbor::encode(&Value::Map(dup))).err().unwrap().kind(), DuplicateKey);
        assert_eq!(decode(&[0xa0, 0x00]).err().unwrap().kind(), TrailingBytes);
        assert_eq!(decode(&[0x80]).err().unwrap().kind(), InvalidField);
    }
}

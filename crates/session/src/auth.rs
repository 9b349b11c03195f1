//! The plaintext of the authentication frame (the client's first transport
//! frame): the CBOR map `{"principal": text, "signature": bstr}`. Decoding is
//! strict about shape (exactly these two keys, each once, with these types,
//! nothing after the map) and sizes; it does not insist on canonical encoding
//! because nothing is signed over these bytes (the signature covers the
//! handshake digest).

use ciborium::Value;

use crate::error::{err, Error, ErrorCode};
use crate::{MAX_AUTH_PLAINTEXT_LEN, MAX_PRINCIPAL_LEN, MAX_SIGNATURE_LEN};

const PRINCIPAL: &str = "principal";
const SIGNATURE: &str = "signature";

/// Refuses an empty or over-long principal or signature.
pub(crate) fn check(principal: &str, signature: &[u8]) -> Result<(), Error> {
    if principal.is_empty() || principal.len() > MAX_PRINCIPAL_LEN {
        return err(
            ErrorCode::AuthMalformed,
            format!("principal is {} bytes, 1 to {MAX_PRINCIPAL_LEN} allowed", principal.len()),
        );
    }
    if signature.is_empty() || signature.len() > MAX_SIGNATURE_LEN {
        return err(
            ErrorCode::AuthMalformed,
            format!("signature is {} bytes, 1 to {MAX_SIGNATURE_LEN} allowed", signature.len()),
        );
    }
    Ok(())
}

/// The canonical encoding (keys in bytewise order, shortest heads).
pub(crate) fn encode(principal: &str, signature: &[u8]) -> Result<Vec<u8>, Error> {
    check(principal, signature)?;
    let map = Value::Map(vec![
        (Value::Text(PRINCIPAL.into()), Value::Text(principal.into())),
        (Value::Text(SIGNATURE.into()), Value::Bytes(signature.to_vec())),
    ]);
    let mut out = Vec::with_capacity(MAX_AUTH_PLAINTEXT_LEN);
    ciborium::ser::into_writer(&map, &mut out)
        .map_err(|_| Error::new(ErrorCode::AuthMalformed, "the authentication map did not encode"))?;
    Ok(out)
}

pub(crate) fn decode(plaintext: &[u8]) -> Result<(String, Vec<u8>), Error> {
    let malformed = |what: &str| err(ErrorCode::AuthMalformed, format!("authentication frame: {what}"));
    if plaintext.len() > MAX_AUTH_PLAINTEXT_LEN {
        return malformed("too large");
    }
    let mut rest = plaintext;
    let Ok(value) = ciborium::de::from_reader::<Value, _>(&mut rest) else {
        return malformed("not CBOR");
    };
    if !rest.is_empty() {
        return malformed("bytes after the map");
    }
    let Value::Map(entries) = value else { return malformed("not a map") };
    if entries.len() != 2 {
        return malformed("expected exactly the keys principal and signature");
    }
    let (mut principal, mut signature) = (None, None);
    for (key, value) in entries {
        match (key, value) {
            (Value::Text(k), Value::Text(p)) if k == PRINCIPAL && principal.is_none() => principal = Some(p),
            (Value::Text(k), Value::Bytes(s)) if k == SIGNATURE && signature.is_none() => signature = Some(s),
            _ => return malformed("expected principal (text) and signature (bytes), each once"),
        }
    }
    let (Some(principal), Some(signature)) = (principal, signature) else {
        return malformed("expected principal (text) and signature (bytes), each once");
    };
    check(&principal, &signature)?;
    Ok((principal, signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_canonical() {
        let bytes = encode("dev-client", &[7u8; 64]).unwrap();
        // a2 69 "principal" 6a "dev-client" 69 "signature" 58 40 ...
        assert_eq!(bytes[0], 0xa2);
        assert_eq!(&bytes[1..11], b"\x69principal");
        assert_eq!(decode(&bytes).unwrap(), ("dev-client".to_string(), vec![7u8; 64]));
    }

    #[test]
    fn caps() {
        assert!(encode("", &[1]).is_err());
        assert!(encode("p", &[]).is_err());
        assert!(encode(&"p".repeat(MAX_PRINCIPAL_LEN + 1), &[1]).is_err());
        assert!(encode("p", &[1; MAX_SIGNATURE_LEN + 1]).is_err());
        assert!(
            encode(&"p".repeat(MAX_PRINCIPAL_LEN), &[1; MAX_SIGNATURE_LEN]).unwrap().len() <= MAX_AUTH_PLAINTEXT_LEN
        );
    }
}

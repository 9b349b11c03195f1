//! Strict, streaming decoding of a message body straight into typed structs.
//!
//! A body is a CBOR map whose first three keys are, in order, `v`, `id` and
//! the tag (`op` for requests, `type` for responses); the tag picks the
//! argument struct, which `serde` fills from the remaining entries with
//! unknown and duplicate fields refused. Nothing is decoded into a generic
//! CBOR tree first, so a hostile 1 MiB frame costs about its own size in
//! memory, not tens of times that (a test bounds it), and a field of the
//! wrong shape is refused at its first byte.
//!
//! Two passes keep the error classification exact without shared state: the
//! first reads only the envelope (so a refusal can carry the request id), the
//! second decodes the whole message; a CBOR syntax error in the second is
//! `MALFORMED_FRAME`, a semantic one (wrong field type, missing or unknown
//! field) is `INVALID_ARGUMENT`, both with the id.
use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use crate::error::{ProtocolError, ProtocolErrorCode};
use crate::PROTOCOL_VERSION;

/// A message family whose variants are picked by one tag key.
pub trait Tagged: Sized {
    /// The tag key: `op` or `type`.
    const TAG: &'static str;
    /// Every tag value, in declaration order.
    const NAMES: &'static [&'static str];
    /// Decodes the arguments of variant `name` from the rest of the map.
    fn decode_body<'de, A: MapAccess<'de>>(name: &str, map: A) -> Result<Self, A::Error>;
}

/// Decodes one body into `(id, message)`.
pub(crate) fn decode<M: Tagged>(body: &[u8]) -> Result<(u64, M), ProtocolError> {
    if body.is_empty() {
        return Err(ProtocolError::new(ProtocolErrorCode::EmptyFrame, "frame: zero-length body"));
    }
    let envelope: Envelope<M> = ciborium::from_reader(body)
        .map_err(|e| ProtocolError::new(ProtocolErrorCode::MalformedFrame, format!("frame: {}", describe(&e))))?;
    let id = envelope.id;
    let refuse = |code, message: String| Err(ProtocolError::new(code, message).with_id(id));
    if envelope.version != u64::from(PROTOCOL_VERSION) {
        return refuse(
            ProtocolErrorCode::UnsupportedVersion,
            format!("v: only protocol version {PROTOCOL_VERSION} is supported"),
        );
    }
    if !M::NAMES.contains(&envelope.tag.as_str()) {
        return refuse(ProtocolErrorCode::UnknownOperation, format!("{}: `{}` is not known", M::TAG, envelope.tag));
    }

    let mut reader = body;
    let message: Message<M> = match ciborium::from_reader(&mut reader) {
        Ok(message) => message,
        Err(ciborium::de::Error::Semantic(_, message)) => {
            return refuse(ProtocolErrorCode::InvalidArgument, format!("{}: {message}", envelope.tag))
        }
        Err(e) => return refuse(ProtocolErrorCode::MalformedFrame, format!("frame: {}", describe(&e))),
    };
    if !reader.is_empty() {
        return refuse(ProtocolErrorCode::MalformedFrame, format!("frame: {} trailing bytes", reader.len()));
    }
    Ok((id, message.0))
}

/// Decodes an operation body: a map whose first key is the tag (no `v`, no
/// `id`: the body travels inside a frame that has them). One pass; a CBOR
/// syntax error is `MALFORMED_FRAME`, a semantic one `INVALID_ARGUMENT`.
pub(crate) fn decode_untagged_envelope<M: Tagged>(body: &[u8]) -> Result<M, ProtocolError> {
    if body.is_empty() {
        return Err(ProtocolError::new(ProtocolErrorCode::EmptyFrame, "body: zero bytes"));
    }
    let mut reader = body;
    let message: Body<M> = match ciborium::from_reader(&mut reader) {
        Ok(message) => message,
        Err(ciborium::de::Error::Semantic(_, message)) if message.starts_with(UNKNOWN_MARK) => {
            return Err(ProtocolError::new(
                ProtocolErrorCode::UnknownOperation,
                message[UNKNOWN_MARK.len()..].to_string(),
            ))
        }
        Err(ciborium::de::Error::Semantic(_, message)) => {
            return Err(ProtocolError::new(ProtocolErrorCode::InvalidArgument, format!("body: {message}")))
        }
        Err(e) => return Err(ProtocolError::new(ProtocolErrorCode::MalformedFrame, format!("body: {}", describe(&e)))),
    };
    if !reader.is_empty() {
        return Err(ProtocolError::new(
            ProtocolErrorCode::MalformedFrame,
            format!("body: {} trailing bytes", reader.len()),
        ));
    }
    Ok(message.0)
}

/// The tag of an operation body (`op`), read without decoding the rest:
/// `Some(name)` when `body` is a CBOR map whose first key is the text
/// `M::TAG` and whose value is text naming a variant of `M` (only known
/// names, so callers may use it as a bounded label); `None` otherwise. The
/// body may still fail [`decode_untagged_envelope`] later (its arguments are
/// not read): this is a peek for routing, not a check.
pub(crate) fn peek_untagged_tag<M: Tagged>(body: &[u8]) -> Option<&'static str> {
    ciborium::from_reader::<Peek<M>, _>(body).ok().and_then(|peek| peek.0)
}

struct Peek<M>(Option<&'static str>, PhantomData<M>);

impl<'de, M: Tagged> de::Deserialize<'de> for Peek<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PeekVisitor<M>(PhantomData<M>);
        impl<'de, M: Tagged> Visitor<'de> for PeekVisitor<M> {
            type Value = Peek<M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an operation map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Peek<M>, A::Error> {
                // Only the first entry is read; the rest of the map is left as it is.
                if map.next_key_seed(TextOnly(Named(&[M::TAG])))? != Some(Some(M::TAG)) {
                    return Ok(Peek(None, PhantomData));
                }
                let name = map.next_value_seed(TextOnly(Named(M::NAMES)))?;
                Ok(Peek(name, PhantomData))
            }
        }
        deserializer.deserialize_map(PeekVisitor(PhantomData))
    }
}

/// Text matched against a fixed list without allocating: the list's entry, or `None`.
struct Named(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Named {
    type Value = Option<&'static str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Named {
    type Value = Option<&'static str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().find(|name| **name == v).copied())
    }
}

const UNKNOWN_MARK: &str = "\u{0}unknown:";

struct Body<M>(M);

impl<'de, M: Tagged> de::Deserialize<'de> for Body<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BodyVisitor(PhantomData))
    }
}

struct BodyVisitor<M>(PhantomData<M>);

impl<'de, M: Tagged> Visitor<'de> for BodyVisitor<M> {
    type Value = Body<M>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an operation map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body<M>, A::Error> {
        expect_key(&mut map, M::TAG)?;
        let name = map.next_value::<String>().map_err(|_| de::Error::custom(format!("{}: must be text", M::TAG)))?;
        if !M::NAMES.contains(&name.as_str()) {
            return Err(de::Error::custom(format!("{UNKNOWN_MARK}{}: `{name}` is not known", M::TAG)));
        }
        M::decode_body(&name, TextKeys(map)).map(Body)
    }
}

fn describe<T: fmt::Debug>(e: &ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "truncated CBOR".into(),
        ciborium::de::Error::Syntax(at) => format!("invalid CBOR at byte {at}"),
        ciborium::de::Error::Semantic(_, message) => message.clone(),
        ciborium::de::Error::RecursionLimitExceeded => "CBOR nested too deeply".into(),
    }
}

/// First pass: `v`, `id` and the tag, nothing else read.
struct Envelope<M> {
    version: u64,
    id: u64,
    tag: String,
    _message: PhantomData<M>,
}

/// Second pass: the whole message.
struct Message<M>(M);

impl<'de, M: Tagged> de::Deserialize<'de> for Envelope<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor(PhantomData))
    }
}

impl<'de, M: Tagged> de::Deserialize<'de> for Message<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MessageVisitor(PhantomData))
    }
}

struct EnvelopeVisitor<M>(PhantomData<M>);
struct MessageVisitor<M>(PhantomData<M>);

/// Reads `v`, `id` and the tag, in that order.
fn read_envelope<'de, A: MapAccess<'de>>(map: &mut A, tag: &'static str) -> Result<(u64, u64, String), A::Error> {
    expect_key(map, "v")?;
    let version = map.next_value::<u64>().map_err(|_| de::Error::custom("v: must be an unsigned integer"))?;
    expect_key(map, "id")?;
    let id = map.next_value::<u64>().map_err(|_| de::Error::custom("id: must be an unsigned 64-bit integer"))?;
    expect_key(map, tag)?;
    let name = map.next_value::<String>().map_err(|_| de::Error::custom(format!("{tag}: must be text")))?;
    Ok((version, id, name))
}

fn expect_key<'de, A: MapAccess<'de>>(map: &mut A, want: &'static str) -> Result<(), A::Error> {
    match map.next_key_seed(TextKey)? {
        Some(key) if key == want => Ok(()),
        Some(key) => Err(de::Error::custom(format!("`{want}` must come next in the map, found `{key}`"))),
        None => Err(de::Error::custom(format!("{want}: missing"))),
    }
}

impl<'de, M: Tagged> Visitor<'de> for EnvelopeVisitor<M> {
    type Value = Envelope<M>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<M>, A::Error> {
        let (version, id, tag) = read_envelope(&mut map, M::TAG)?;
        Ok(Envelope { version, id, tag, _message: PhantomData })
    }
}

impl<'de, M: Tagged> Visitor<'de> for MessageVisitor<M> {
    type Value = Message<M>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message<M>, A::Error> {
        let (_, _, name) = read_envelope(&mut map, M::TAG)?;
        M::decode_body(&name, TextKeys(map)).map(Message)
    }
}

/// A map access whose keys must be CBOR text (serde's derived field visitors
/// would otherwise also take integers and byte strings as field names).
pub struct TextKeys<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TextKeys<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(TextOnly(seed))
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// A key read as text only.
struct TextKey;

impl<'de> DeserializeSeed<'de> for TextKey {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = String;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a text map key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
                Ok(v.to_owned())
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// Wraps a key seed so that whatever it asks for, the deserializer reads a text string.
struct TextOnly<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for TextOnly<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(StrOnly(deserializer))
    }
}

struct StrOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for StrOnly<D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_str(visitor)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use ciborium::Value;

    use crate::{body_operation, encode_body, Operation, SignDigestArgs};

    fn cbor(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(value, &mut out).unwrap();
        out
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn body_operation_reads_only_a_known_leading_op() {
        let body = encode_body(&Operation::SignDigest(SignDigestArgs { key_id: "k".into(), digest: vec![7; 32] }));
        assert_eq!(body_operation(&body), Some("sign_digest"));
        // Only the op is read: arguments the full decoder refuses do not matter, nor does a truncated rest.
        let bad_args =
            cbor(&Value::Map(vec![(text("op"), text("list_keys")), (text("extra"), Value::Integer(1.into()))]));
        assert!(crate::decode_body(&bad_args).is_err());
        assert_eq!(body_operation(&bad_args), Some("list_keys"));
        let mut truncated = body.clone();
        truncated.truncate(16); // the map head, `op` and `sign_digest`
        assert_eq!(body_operation(&truncated), Some("sign_digest"));
        // Indefinite-length maps are read too (the full decoder reads them the same way).
        let mut indefinite = vec![0xbf];
        indefinite.extend(cbor(&text("op")));
        indefinite.extend(cbor(&text("list_keys")));
        indefinite.push(0xff);
        assert_eq!(body_operation(&indefinite), Some("list_keys"));
    }

    #[test]
    fn body_operation_is_none_for_anything_else() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff, 0x00],
            vec![0xa1],
            cbor(&Value::Array(vec![text("op"), text("list_keys")])),
            cbor(&text("list_keys")),
            cbor(&Value::Map(vec![])),
            // An unknown op (never a label), op not text, key not text, op not first.
            cbor(&Value::Map(vec![(text("op"), text("format_disk"))])),
            cbor(&Value::Map(vec![(text("op"), Value::Bytes(b"list_keys".to_vec()))])),
            cbor(&Value::Map(vec![(text("op"), Value::Integer(1.into()))])),
            cbor(&Value::Map(vec![(Value::Integer(1.into()), text("list_keys"))])),
            cbor(&Value::Map(vec![(text("key_id"), text("k")), (text("op"), text("list_keys"))])),
            cbor(&Value::Map(vec![(text("opp"), text("list_keys"))])),
            cbor(&Value::Map(vec![(text("op"), text("list_keys_"))])),
        ];
        for body in cases {
            assert_eq!(body_operation(&body), None, "{body:02x?}");
        }
    }
}

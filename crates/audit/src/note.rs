//! C2SP `signed-note` (c2sp.org/signed-note) with Ed25519 (signature type
//! `0x01`): a text ending in a newline, a blank line, then signature lines
//! `— <key name> <base64(key ID ‖ signature)>\n` (em dash U+2014, space). The
//! key ID is the first four bytes, big-endian, of
//! `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`; a verifier key is the text
//! `<name>+<key ID as 8 hex digits>+<base64(0x01 ‖ public key)>`, the form
//! golang.org/x/mod/sumdb/note reads. Parsing follows the spec and Go's
//! `note.Open`: the whole note is valid UTF-8 without ASCII control characters
//! other than newline, the text is split from the signatures at the LAST blank
//! line, every signature line must be well formed (also those of unknown
//! keys), and at most [`MAX_SIGNATURES`] lines and [`MAX_NOTE_LEN`] bytes are
//! read. Verification ignores signatures of unknown keys (name and ID must
//! both match a known key), rejects the whole note if a known key's signature
//! fails, and needs at least one known signature that verifies.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{err, Error, ErrorCode};

/// Most bytes a note may have (text and signatures).
pub const MAX_NOTE_LEN: usize = 64 * 1024;
/// Most signature lines a note may carry (Go's `note.Open` cap; the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// The signature type byte of Ed25519.
pub const ED25519: u8 = 0x01;
const SIG_PREFIX: &str = "\u{2014} ";

/// Whether `name` is a valid key name: non-empty, no Unicode spaces, no `+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+') && !has_control(name)
}

fn has_control(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 && b != b'\n')
}

/// The key ID of an Ed25519 key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]`, big-endian.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(key.as_bytes());
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A named Ed25519 public key that verifies notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// The verifier for `key` under `name`. Error: `AUDIT_VERIFIER_KEY_INVALID`
    /// when the name is not a valid key name.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, Error> {
        if !is_valid_name(name) {
            return err(ErrorCode::VerifierKeyInvalid, "key name must be non-empty, without spaces or '+'");
        }
        Ok(Self { name: name.to_owned(), id: key_id(name, &key), key })
    }

    /// Parses `<name>+<8 hex digits>+<base64(0x01 ‖ key)>`, checking the ID
    /// against the key. Error: `AUDIT_VERIFIER_KEY_INVALID`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::new(ErrorCode::VerifierKeyInvalid, format!("verifier key: {why}"));
        // The key's base64 may itself contain '+': name and ID are the first two fields.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid("must be <name>+<hex id>+<base64 key>"));
        };
        if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid("key ID must be 8 lowercase hex digits"));
        }
        let id = u32::from_str_radix(id, 16).map_err(|_| invalid("key ID must be 8 hex digits"))?;
        let raw = decode_base64(key).ok_or_else(|| invalid("key is not canonical base64"))?;
        let Some((&ED25519, public)) = raw.split_first() else {
            return Err(invalid("only Ed25519 keys (type 0x01) are supported"));
        };
        let public: [u8; 32] = public.try_into().map_err(|_| invalid("an Ed25519 key is 32 bytes"))?;
        let public = VerifyingKey::from_bytes(&public).map_err(|_| invalid("not an Ed25519 public key"))?;
        let verifier = Self::new(name, public)?;
        if verifier.id != id {
            return Err(invalid("key ID does not match the name and key"));
        }
        Ok(verifier)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl core::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut raw = vec![ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, encode_base64(&raw))
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 §4) with padding. Written here rather than taken
/// from a crate: these few lines are all the notes need, and the browser
/// verifier (`@sentinel/verify-wasm`) carries every byte.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { BASE64[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// Standard base64 that must be canonical: padded to a multiple of four, `=`
/// only at the end, unused trailing bits zero (so each byte string has one spelling).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 4 != 0 {
        return None;
    }
    let pad = text.iter().rev().take_while(|c| **c == b'=').count();
    if pad > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (q, quad) in text.chunks(4).enumerate() {
        let last = q == text.len() / 4 - 1;
        let used = if last { 4 - pad } else { 4 };
        let mut n = 0u32;
        for (i, c) in quad[..used].iter().enumerate() {
            let v = BASE64.iter().position(|a| a == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        let bytes = used - 1;
        // Canonical: the bits past the last whole byte are zero.
        if n & ((1 << (8 * (3 - bytes))) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..=bytes]);
    }
    Some(out)
}

/// One signature line, verified or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

/// A parsed note: the text (ending in a newline) and its signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

fn malformed(why: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::NoteMalformed, format!("signed note: {why}"))
}

fn check_text(text: &str) -> Result<(), Error> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(malformed("text must be non-empty and end with a newline"));
    }
    if has_control(text) {
        return Err(malformed("text has an ASCII control character other than newline"));
    }
    Ok(())
}

impl Note {
    /// Parses a signed note (no signature is checked). Errors:
    /// `AUDIT_NOTE_TOO_LARGE`, `AUDIT_NOTE_TOO_MANY_SIGNATURES`, `AUDIT_NOTE_MALFORMED`.
    pub fn parse(note: &[u8]) -> Result<Self, Error> {
        if note.len() > MAX_NOTE_LEN {
            return err(ErrorCode::NoteTooLarge, format!("signed note: over {MAX_NOTE_LEN} bytes"));
        }
        let note = core::str::from_utf8(note).map_err(|_| malformed("not valid UTF-8"))?;
        if has_control(note) {
            return Err(malformed("has an ASCII control character other than newline"));
        }
        let split = note.rfind("\n\n").ok_or_else(|| malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&note[..=split], &note[split + 2..]);
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(malformed("signatures must be non-empty lines ending in a newline"));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return err(ErrorCode::NoteTooManySignatures, format!("signed note: over {MAX_SIGNATURES} signatures"));
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, line)| parse_signature(line).map_err(|why| malformed(format!("signature line {}: {why}", i + 1))))
            .collect::<Result<Vec<_>, _>>()?;
        check_text(text)?;
        Ok(Self { text: text.to_owned(), signatures })
    }

    /// The note as text: the text, a blank line, the signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            let mut raw = s.id.to_be_bytes().to_vec();
            raw.extend_from_slice(&s.signature);
            out.push_str(&format!("{SIG_PREFIX}{} {}\n", s.name, encode_base64(&raw)));
        }
        out
    }

    /// Checks the signatures against `keys` and returns the names of the keys
    /// whose signature verified. Signatures of unknown keys are ignored.
    /// Errors: `AUDIT_NOTE_SIGNATURE_INVALID` (a known key's signature does
    /// not verify), `AUDIT_NOTE_UNVERIFIED` (no known key signed).
    pub fn verify(&self, keys: &[VerifierKey]) -> Result<Vec<String>, Error> {
        let mut verified: Vec<String> = Vec::new();
        for s in &self.signatures {
            let Some(key) = keys.iter().find(|k| k.name == s.name && k.id == s.id) else { continue };
            let ok = <[u8; 64]>::try_from(s.signature.as_slice())
                .map(|sig| key.key.verify_strict(self.text.as_bytes(), &Signature::from_bytes(&sig)).is_ok())
                .unwrap_or(false);
            if !ok {
                return err(
                    ErrorCode::NoteSignatureInvalid,
                    format!("signed note: the signature of {} does not verify", s.name),
                );
            }
            if !verified.contains(&s.name) {
                verified.push(s.name.clone());
            }
        }
        if verified.is_empty() {
            return err(ErrorCode::NoteUnverified, "signed note: no signature by a known key");
        }
        Ok(verified)
    }
}

fn parse_signature(line: &str) -> Result<NoteSignature, &'static str> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or("must start with an em dash and a space")?;
    let (name, b64) = rest.split_once(' ').ok_or("must be <name> <base64>")?;
    if !is_valid_name(name) {
        return Err("invalid key name");
    }
    let raw = decode_base64(b64).ok_or("signature is not canonical base64")?;
    if raw.len() < 5 {
        return Err("signature too short");
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
        signature: raw[4..].to_vec(),
    })
}

/// Signs `text` as a one-signature note by `key` under `name`. Errors:
/// `AUDIT_NOTE_MALFORMED` (text empty, not newline-terminated, or with a
/// control character), `AUDIT_VERIFIER_KEY_INVALID` (invalid name),
/// `AUDIT_NOTE_TOO_LARGE`.
pub fn sign(text: &str, name: &str, key: &SigningKey) -> Result<String, Error> {
    check_text(text)?;
    let verifier = VerifierKey::new(name, key.verifying_key())?;
    let signature = key.sign(text.as_bytes()).to_bytes().to_vec();
    let note = Note {
        text: text.to_owned(),
        signatures: vec![NoteSignature { name: name.to_owned(), id: verifier.id, signature }],
    }
    .to_text();
    if note.len() > MAX_NOTE_LEN {
        return err(ErrorCode::NoteTooLarge, format!("signed note: over {MAX_NOTE_LEN} bytes"));
    }
    Ok(note)
}

/// Parses `note` and verifies it with `keys`; returns the verified text.
/// Errors: those of [`Note::parse`] and [`Note::verify`].
pub fn open(note: &[u8], keys: &[VerifierKey]) -> Result<String, Error> {
    let note = Note::parse(note)?;
    note.verify(keys)?;
    Ok(note.text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn sign_open_and_verifier_key_round_trip() {
        let k = key(1);
        let v = VerifierKey::new("example.com/log", k.verifying_key()).unwrap();
        assert_eq!(VerifierKey::parse(&v.to_string()).unwrap(), v);
        let note = sign("hello\n\nworld\n", "example.com/log", &k).unwrap();
        assert_eq!(open(note.as_bytes(), std::slice::from_ref(&v)).unwrap(), "hello\n\nworld\n");
        // Unknown signers are ignored, but one known signer is needed.
        let other = VerifierKey::new("other", key(2).verifying_key()).unwrap();
        assert_eq!(open(note.as_bytes(), std::slice::from_ref(&other)).unwrap_err().code(), "AUDIT_NOTE_UNVERIFIED");
        let cosigned = format!("{note}{}", &sign("hello\n\nworld\n", "other", &key(2)).unwrap()[14..]);
        assert_eq!(open(cosigned.as_bytes(), std::slice::from_ref(&v)).unwrap(), "hello\n\nworld\n");
        // A known key's bad signature rejects the note.
        let tampered = note.replacen("world", "World", 1);
        assert_eq!(
            open(tampered.as_bytes(), std::slice::from_ref(&v)).unwrap_err().code(),
            "AUDIT_NOTE_SIGNATURE_INVALID"
        );
        // Same name, other key ID: unknown, ignored.
        let impostor = sign("hello\n\nworld\n", "example.com/log", &key(3)).unwrap();
        assert_eq!(open(impostor.as_bytes(), std::slice::from_ref(&v)).unwrap_err().code(), "AUDIT_NOTE_UNVERIFIED");
    }

    #[test]
    fn base64_matches_the_base64_crate_and_is_canonical() {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine;
        let mut seen_padding = [0; 3];
        for len in 0..70usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + len * 11) as u8 ^ 0xa5).collect();
            let text = encode_base64(&bytes);
            assert_eq!(text, STANDARD.encode(&bytes));
            assert_eq!(decode_base64(&text).unwrap(), bytes);
            seen_padding[text.bytes().rev().take_while(|b| *b == b'=').count()] += 1;
        }
        assert!(seen_padding.iter().all(|n| *n > 0));
        // Every 2-character group: decodes here exactly when the crate decodes it and
        // re-encodes it to itself (non-zero trailing bits are refused).
        for a in BASE64 {
            for b in BASE64 {
                let text = format!("{}{}==", *a as char, *b as char);
                let canonical = STANDARD.decode(&text).ok().filter(|d| STANDARD.encode(d) == text);
                assert_eq!(decode_base64(&text), canonical, "{text}");
            }
        }
        for bad in
            ["A", "AA", "AAA", "A===", "AA=A", "====", "AAAA=", "AA==AAAA", "AB==", "AAB=", "AA-_", "AA A", "AAAA\n"]
        {
            assert_eq!(decode_base64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn verifier_keys_with_plus_in_base64_parse() {
        let mut seen = 0;
        for seed in 0..=255u8 {
            let v = VerifierKey::new("n", key(seed).verifying_key()).unwrap();
            let text = v.to_string();
            if text.matches('+').count() > 2 {
                seen += 1;
                assert_eq!(VerifierKey::parse(&text).unwrap(), v);
            }
        }
        assert!(seen > 0);
    }

    #[test]
    fn malformed_notes_are_refused() {
        let k = key(1);
        let note = sign("a\n", "n", &k).unwrap();
        for bad in [
            "a\n".to_string(),
            note.replace('\u{2014}', "-"),
            note.trim_end().to_string(),
            note.replace("a\n", "a\r\n"),
            format!("{note}\n"),
            note.replace(" n ", " n+x "),
        ] {
            assert_eq!(Note::parse(bad.as_bytes()).unwrap_err().code(), "AUDIT_NOTE_MALFORMED", "{bad:?}");
        }
        let many = format!("{note}{}", note[3..].repeat(MAX_SIGNATURES));
        assert_eq!(Note::parse(many.as_bytes()).unwrap_err().code(), "AUDIT_NOTE_TOO_MANY_SIGNATURES");
        assert_eq!(Note::parse(&vec![b'a'; MAX_NOTE_LEN + 1]).unwrap_err().code(), "AUDIT_NOTE_TOO_LARGE");
        assert_eq!(sign("no newline", "n", &k).unwrap_err().code(), "AUDIT_NOTE_MALFORMED");
        assert_eq!(sign("a\n", "has space", &k).unwrap_err().code(), "AUDIT_VERIFIER_KEY_INVALID");
        let v = VerifierKey::new("n", k.verifying_key()).unwrap().to_string();
        let wrong_id = format!("n+00000000+{}", v.splitn(3, '+').nth(2).unwrap());
        assert_eq!(VerifierKey::parse(&wrong_id).unwrap_err().code(), "AUDIT_VERIFIER_KEY_INVALID");
    }
}

//! Verification proves that *some* Nitro enclave produced a document; the
//! caller's expectations decide whether it is the *right* one and fresh. Byte
//! comparisons are constant-time (`subtle`) so a remote prober cannot learn a
//! PCR or nonce prefix by timing. An expectation that sets nothing, or sets an
//! empty value, is rejected outright: an empty expectation must never count as
//! a match, which is the classic way such checks fail open.

use subtle::ConstantTimeEq;

use crate::document::VerifiedDocument;
use crate::error::{err, Error, ErrorCode};
use crate::payload::MAX_PCRS;
use crate::time::UnixTime;

/// How far a document's timestamp may lie in the caller's future (clock skew).
pub const MAX_CLOCK_SKEW_MS: u64 = 60_000;

/// What the caller expects of a verified document. Unset fields are not checked,
/// but at least one must be set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    /// `(index, value)` pairs that must all match exactly.
    pub pcrs: Vec<(u8, Vec<u8>)>,
    /// The nonce the caller sent to the enclave.
    pub nonce: Option<Vec<u8>>,
    /// Expected `user_data`.
    pub user_data: Option<Vec<u8>>,
    /// Expected `public_key` (opaque bytes).
    pub public_key: Option<Vec<u8>>,
    /// The document's timestamp must be at most this old at `now`.
    pub max_age_ms: Option<u64>,
}

impl VerifiedDocument {
    /// Checks the document against `expect` at time `now`. The timestamp must
    /// never be more than [`MAX_CLOCK_SKEW_MS`] ahead of `now`; with
    /// `max_age_ms` it must also be no older than that.
    pub fn check(&self, expect: &Expectations, now: UnixTime) -> Result<(), Error> {
        let nothing_set = expect.pcrs.is_empty()
            && expect.nonce.is_none()
            && expect.user_data.is_none()
            && expect.public_key.is_none()
            && expect.max_age_ms.is_none();
        if nothing_set {
            return err(ErrorCode::EmptyExpectation, "expectations set nothing to check");
        }
        check_pcrs(self, &expect.pcrs)?;
        bytes_check(self.nonce(), expect.nonce.as_deref(), "nonce", ErrorCode::NonceMismatch)?;
        bytes_check(self.user_data(), expect.user_data.as_deref(), "user_data", ErrorCode::UserDataMismatch)?;
        bytes_check(self.public_key(), expect.public_key.as_deref(), "public_key", ErrorCode::PublicKeyMismatch)?;
        check_freshness(self.timestamp_ms(), now, expect.max_age_ms)
    }
}

// The steps of `check`, shared with the `pcrs`, `nonce` and `freshness`
// checks of a report (report.rs).

/// Every expected PCR equals the document's. An empty value or an index the
/// NSM does not have is an error of the expectation, never a match.
pub(crate) fn check_pcrs(document: &VerifiedDocument, pcrs: &[(u8, Vec<u8>)]) -> Result<(), Error> {
    for (index, want) in pcrs {
        if want.is_empty() {
            return err(ErrorCode::EmptyExpectation, format!("expected pcrs[{index}] is empty"));
        }
        if usize::from(*index) >= MAX_PCRS {
            return err(ErrorCode::InvalidExpectation, format!("expected PCR index {index} is not < {MAX_PCRS}"));
        }
        if !matches(document.pcr(*index), want) {
            return err(ErrorCode::PcrMismatch, format!("pcrs[{index}] does not match the expected value"));
        }
    }
    Ok(())
}

/// The timestamp is never more than [`MAX_CLOCK_SKEW_MS`] after `now` and,
/// with `max_age_ms`, no older than that at `now`.
pub(crate) fn check_freshness(timestamp_ms: u64, now: UnixTime, max_age_ms: Option<u64>) -> Result<(), Error> {
    let (ts, now) = (timestamp_ms, now.as_millis());
    if ts > now.saturating_add(MAX_CLOCK_SKEW_MS) {
        return err(ErrorCode::TimestampInFuture, format!("timestamp {ts} ms is after now {now} ms"));
    }
    if let Some(max_age) = max_age_ms {
        if ts < now.saturating_sub(max_age) {
            return err(
                ErrorCode::TimestampTooOld,
                format!("timestamp {ts} ms is older than {max_age} ms at {now} ms"),
            );
        }
    }
    Ok(())
}

/// An expected byte string (`None`: not checked) equals the document's.
pub(crate) fn bytes_check(
    actual: Option<&[u8]>,
    want: Option<&[u8]>,
    name: &str,
    code: ErrorCode,
) -> Result<(), Error> {
    match want {
        None => Ok(()),
        Some([]) => err(ErrorCode::EmptyExpectation, format!("expected {name} is empty")),
        Some(want) if matches(actual, want) => Ok(()),
        Some(_) if actual.is_none() => err(code, format!("document has no {name}")),
        Some(_) => err(code, format!("{name} does not match the expected value")),
    }
}

/// Constant-time in the contents (lengths are public).
pub(crate) fn matches(actual: Option<&[u8]>, want: &[u8]) -> bool {
    actual.is_some_and(|a| bool::from(a.ct_eq(want)))
}

//! Automatic trips: the enclave halts a principal by itself after
//! `trip_consecutive_denials` policy refusals in a row (an allowed request
//! resets the count), or on one risk score at or above `trip_risk_score_bps`.
//! Zero turns either off. The enclave applies a [`Trip`] as a Red halt of its
//! scope, by `enclave`.
//!
//! **Snapshot.** The per-principal counts of consecutive denials are state
//! (the thresholds are configuration): [`Trips::to_snapshot`] writes them for
//! the enclave's sealed snapshot and [`Trips::restore_denials`] reads them
//! back. The bytes are only ever stored encrypted and authenticated by the
//! enclave; reading them is strict all the same (`OVERSIGHT_MALFORMED`, never
//! a panic). Format version 1, integers big-endian:
//!
//! ```text
//! version:u8 (= 1)  count:u32  (principal_len:u32  principal:UTF-8  denials:u64 (>= 1))*
//! ```
//!
//! with the principals in strictly increasing bytewise order, so one set of
//! counts has one encoding and every accepted input is the encoding of the
//! counts it restores.

use std::collections::HashMap;

use crate::error::{OversightError, OversightErrorCode};
use crate::scope::Scope;

/// The format version [`Trips::to_snapshot`] writes (its first byte) and the only one
/// [`Trips::restore_denials`] reads.
pub const TRIPS_SNAPSHOT_VERSION: u8 = 1;

/// Fewest bytes one entry takes (an empty principal and its count).
const MIN_ENTRY: usize = 4 + 8;

/// A halt the enclave decided itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trip {
    pub scope: Scope,
    /// `trip: 5 consecutive policy denials` / `trip: risk score 9400 bps >= 9000`.
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Trips {
    consecutive_denials: u64,
    risk_score_bps: u64,
    denials: HashMap<String, u64>,
}

impl Trips {
    pub fn new(consecutive_denials: u64, risk_score_bps: u64) -> Trips {
        Trips { consecutive_denials, risk_score_bps, denials: HashMap::new() }
    }

    /// Whether any trip is configured (the enclave skips [`Trips::record`] otherwise).
    pub fn enabled(&self) -> bool {
        self.consecutive_denials > 0 || self.risk_score_bps > 0
    }

    /// Records one policy decision of `principal`: `policy_denied` for a policy refusal
    /// (denied, no match, error), `risk_score_bps` if a risk model scored it.
    pub fn record(&mut self, principal: &str, policy_denied: bool, risk_score_bps: Option<u32>) -> Option<Trip> {
        let denial_trip = if self.consecutive_denials == 0 {
            None
        } else if policy_denied {
            let count = self.denials.entry(principal.to_string()).or_insert(0);
            *count = count.saturating_add(1);
            if *count >= self.consecutive_denials {
                self.denials.remove(principal);
                Some(format!("trip: {} consecutive policy denials", self.consecutive_denials))
            } else {
                None
            }
        } else {
            self.denials.remove(principal);
            None
        };
        let risk_trip = match risk_score_bps {
            Some(score) if self.risk_score_bps > 0 && u64::from(score) >= self.risk_score_bps => {
                Some(format!("trip: risk score {score} bps >= {}", self.risk_score_bps))
            }
            _ => None,
        };
        // A risk spike names the request that caused it; it wins when both trip at once.
        risk_trip.or(denial_trip).map(|reason| Trip { scope: Scope::Principal(principal.to_string()), reason })
    }

    /// New thresholds (a new configuration); counts so far are kept.
    pub fn configure(&mut self, consecutive_denials: u64, risk_score_bps: u64) {
        self.consecutive_denials = consecutive_denials;
        self.risk_score_bps = risk_score_bps;
        if consecutive_denials == 0 {
            self.denials.clear();
        }
    }

    /// The consecutive policy denials counted for `principal` so far.
    pub fn denials(&self, principal: &str) -> u64 {
        self.denials.get(principal).copied().unwrap_or(0)
    }

    /// Forgets a principal's count (after its scope is resumed).
    pub fn reset(&mut self, principal: &str) {
        self.denials.remove(principal);
    }

    /// Every principal with a count of consecutive policy denials, and the count (at least 1), in
    /// no particular order.
    pub fn denial_counts(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.denials.iter().map(|(p, n)| (p.as_str(), *n))
    }

    /// The denial counts in the snapshot format (see the module documentation): the same counts
    /// always give the same bytes. The thresholds are not included.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut entries: Vec<(&str, u64)> = self.denial_counts().filter(|(_, n)| *n > 0).collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::with_capacity(5 + entries.iter().map(|(p, _)| MIN_ENTRY + p.len()).sum::<usize>());
        out.push(TRIPS_SNAPSHOT_VERSION);
        out.extend_from_slice(&length(entries.len()).to_be_bytes());
        for (principal, n) in entries {
            out.extend_from_slice(&length(principal.len()).to_be_bytes());
            out.extend_from_slice(principal.as_bytes());
            out.extend_from_slice(&n.to_be_bytes());
        }
        out
    }

    /// Replaces the denial counts with those of `bytes` ([`Trips::to_snapshot`]'s), read strictly:
    /// another version, truncated input, trailing bytes, a principal that is not UTF-8, out of
    /// order or twice, or a count of 0 is refused with `OVERSIGHT_MALFORMED` and changes nothing.
    /// The thresholds stay as configured; while the denial trip is off
    /// (`trip_consecutive_denials` 0) no count is kept, as [`Trips::configure`] does, so restore
    /// after configuring.
    pub fn restore_denials(&mut self, bytes: &[u8]) -> Result<(), OversightError> {
        let denials = read_denials(bytes)?;
        self.denials = if self.consecutive_denials == 0 { HashMap::new() } else { denials };
        Ok(())
    }
}

/// A count or length (far below 2^32: principals come from the configuration).
fn length(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 principals, each shorter than 4 GiB")
}

fn read_denials(bytes: &[u8]) -> Result<HashMap<String, u64>, OversightError> {
    let mut r = Reader { bytes, pos: 0 };
    let version = r.take::<1>("version")?[0];
    if version != TRIPS_SNAPSHOT_VERSION {
        return Err(malformed(format!(
            "trips snapshot: format version {version}; this build reads version {TRIPS_SNAPSHOT_VERSION}"
        )));
    }
    let n = r.u32("count")? as usize;
    if n.saturating_mul(MIN_ENTRY) > r.left() {
        return Err(r.fail(&format!("count: {n} entries cannot fit in the {} bytes left", r.left())));
    }
    let mut denials = HashMap::with_capacity(n);
    let mut previous: Option<&str> = None;
    for _ in 0..n {
        let len = r.u32("principal length")? as usize;
        let start = r.pos;
        let principal =
            std::str::from_utf8(r.slice(len, "principal")?).map_err(|_| fail_at(start, "principal: not UTF-8"))?;
        if previous.is_some_and(|p| p >= principal) {
            return Err(r.fail(&format!("principal {principal:?} out of order or twice")));
        }
        previous = Some(principal);
        let count = u64::from_be_bytes(r.take("denials")?);
        if count == 0 {
            return Err(r.fail(&format!("principal {principal:?}: a count of 0 is listed")));
        }
        denials.insert(principal.to_owned(), count);
    }
    if r.left() != 0 {
        return Err(r.fail(&format!("{} trailing bytes", r.left())));
    }
    Ok(denials)
}

fn malformed(message: String) -> OversightError {
    OversightError::new(OversightErrorCode::Malformed, message)
}

fn fail_at(pos: usize, what: &str) -> OversightError {
    malformed(format!("trips snapshot: {what} (at byte {pos})"))
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }
    fn fail(&self, what: &str) -> OversightError {
        fail_at(self.pos, what)
    }
    fn slice(&mut self, n: usize, what: &str) -> Result<&'a [u8], OversightError> {
        if n > self.left() {
            return Err(self.fail(&format!("{what}: truncated ({n} bytes needed, {} left)", self.left())));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }
    fn take<const N: usize>(&mut self, what: &str) -> Result<[u8; N], OversightError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(N, what)?);
        Ok(out)
    }
    fn u32(&mut self, what: &str) -> Result<u32, OversightError> {
        Ok(u32::from_be_bytes(self.take(what)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Trips after real decisions: p1 at 2 denials, p2 at 1, "" at 3, p3 reset by an allow.
    fn counted() -> Trips {
        let mut t = Trips::new(5, 0);
        for (p, denied) in [
            ("p1", true),
            ("p2", true),
            ("p3", true),
            ("p1", true),
            ("", true),
            ("", true),
            ("", true),
            ("p3", false),
            ("ünïcode", true),
        ] {
            assert_eq!(t.record(p, denied, None), None);
        }
        t
    }

    fn sorted(t: &Trips) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = t.denial_counts().map(|(p, n)| (p.to_owned(), n)).collect();
        v.sort();
        v
    }

    fn refused(bytes: &[u8]) -> String {
        let mut t = counted();
        let before = sorted(&t);
        let e = t.restore_denials(bytes).expect_err("refused");
        assert_eq!(e.code, OversightErrorCode::Malformed);
        assert_eq!(sorted(&t), before, "a refused snapshot changes nothing");
        e.message
    }

    /// Bytes of `(principal, count)` entries as given (order and counts unchecked).
    fn encode(version: u8, entries: &[(&[u8], u64)]) -> Vec<u8> {
        let mut out = vec![version];
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for (p, n) in entries {
            out.extend_from_slice(&(p.len() as u32).to_be_bytes());
            out.extend_from_slice(p);
            out.extend_from_slice(&n.to_be_bytes());
        }
        out
    }

    #[test]
    fn round_trip() {
        let a = counted();
        let bytes = a.to_snapshot();
        assert_eq!(
            bytes,
            encode(1, &[(b"", 3), (b"p1", 2), (b"p2", 1), ("ünïcode".as_bytes(), 1)]),
            "sorted bytewise, p3 (reset) absent"
        );
        let mut b = Trips::new(5, 0);
        b.restore_denials(&bytes).unwrap();
        assert_eq!(sorted(&b), sorted(&a));
        assert_eq!(b.to_snapshot(), bytes);
        // The restored counts carry on: p1's third, fourth and fifth denial trips.
        assert_eq!(b.record("p1", true, None), None);
        assert_eq!(b.record("p1", true, None), None);
        let trip = b.record("p1", true, None).expect("the fifth consecutive denial trips");
        assert_eq!(trip.reason, "trip: 5 consecutive policy denials");
        // Restoring replaces: counts not in the snapshot are gone.
        let mut c = Trips::new(5, 0);
        c.record("other", true, None);
        c.restore_denials(&bytes).unwrap();
        assert_eq!(c.denials("other"), 0);
        assert_eq!(c.denials(""), 3);
    }

    #[test]
    fn deterministic() {
        let mut a = Trips::new(9, 0);
        let mut b = Trips::new(9, 0);
        let names = ["z", "a", "m", "aa", "b", "ab"];
        for p in names {
            a.record(p, true, None);
        }
        for p in names.iter().rev() {
            b.record(p, true, None);
        }
        assert_eq!(a.to_snapshot(), b.to_snapshot());
        assert_eq!(Trips::default().to_snapshot(), vec![1, 0, 0, 0, 0]);
    }

    #[test]
    fn the_thresholds_are_configuration() {
        let bytes = counted().to_snapshot();
        // With the denial trip off, nothing is kept (as `configure(0, _)` does)...
        let mut off = Trips::new(0, 9000);
        off.restore_denials(&bytes).unwrap();
        assert_eq!(off.denial_counts().count(), 0);
        // ...but the bytes are still checked.
        assert!(off.restore_denials(&bytes[..bytes.len() - 1]).is_err());
        // A lower threshold than when counted: the next denial trips.
        let mut low = Trips::new(2, 0);
        low.restore_denials(&bytes).unwrap();
        assert!(low.record("", true, None).is_some());
    }

    #[test]
    fn malformed_snapshots_are_refused() {
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("nothing", vec![], "version: truncated"),
            ("version 0", encode(0, &[]), "format version 0"),
            ("version 2", encode(2, &[(b"p", 1)]), "format version 2"),
            ("no count", vec![1, 0, 0], "count: truncated"),
            ("trailing byte", [encode(1, &[(b"p", 1)]), vec![0]].concat(), "1 trailing bytes"),
            ("count beyond the input", [vec![1], u32::MAX.to_be_bytes().to_vec()].concat(), "cannot fit"),
            ("out of order", encode(1, &[(b"b", 1), (b"a", 1)]), "out of order"),
            ("twice", encode(1, &[(b"a", 1), (b"a", 2)]), "out of order or twice"),
            ("not UTF-8", encode(1, &[(b"\xff", 1)]), "not UTF-8"),
            ("count 0", encode(1, &[(b"a", 0)]), "a count of 0"),
            (
                "principal length beyond the input",
                {
                    let mut b = encode(1, &[(b"abc", 1)]);
                    b[8] = 200;
                    b
                },
                "principal: truncated",
            ),
        ];
        for (name, bytes, expected) in cases {
            let message = refused(&bytes);
            assert!(message.starts_with("trips snapshot: "), "{name}: {message}");
            assert!(message.contains(expected), "{name}: {message:?} does not say {expected:?}");
        }
        let bytes = counted().to_snapshot();
        for len in 0..bytes.len() {
            refused(&bytes[..len]);
        }
    }

    fn restores_canonically(bytes: &[u8]) -> Result<(), TestCaseError> {
        let mut t = Trips::new(3, 0);
        if t.restore_denials(bytes).is_ok() {
            prop_assert_eq!(t.to_snapshot(), bytes);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            restores_canonically(&bytes)?;
        }

        #[test]
        fn random_bodies_never_panic(n in 0u32..4, body in proptest::collection::vec(any::<u8>(), 0..256)) {
            restores_canonically(&[&[1u8][..], &n.to_be_bytes(), &body].concat())?;
        }

        #[test]
        fn changed_snapshots_never_panic(at in 0usize..64, x in 1u8..=255) {
            let mut bytes = counted().to_snapshot();
            let at = at % bytes.len();
            bytes[at] ^= x;
            restores_canonically(&bytes)?;
        }

        #[test]
        fn any_counts_round_trip(counts in proptest::collection::hash_map(".{0,12}", 1u64.., 0..20)) {
            let mut t = Trips::new(u64::MAX, 0);
            t.denials = counts.clone();
            let bytes = t.to_snapshot();
            let mut back = Trips::new(1, 0);
            back.restore_denials(&bytes).unwrap();
            prop_assert_eq!(&back.denials, &counts);
            prop_assert_eq!(back.to_snapshot(), bytes);
        }
    }
}

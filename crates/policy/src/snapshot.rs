//! A byte encoding of the whole [`PolicyState`], for sealed snapshots.
//!
//! The enclave seals a snapshot of its state from time to time, so that a
//! restart resumes from the snapshot plus the audit log's tail instead of
//! replaying the whole log (and, unlike a replay, keeps the keys' risk
//! histories; see the module documentation of `state.rs`). The bytes are only
//! ever stored encrypted and authenticated by the enclave (the host holds
//! ciphertext), so nobody else can write them; decoding is strict all the same
//! (a bug or a format change must fail closed, with
//! [`POLICY_SNAPSHOT_INVALID`](crate::PolicyErrorCode::SnapshotInvalid), never
//! a panic or a silently different state).
//!
//! **Format** (version 1). Integers are fixed-width big-endian; `str` is a
//! `u32` byte length and that many bytes of UTF-8; maps are a `u32` count and
//! their entries in strictly increasing bytewise order of their keys.
//!
//! ```text
//! snapshot  = version:u8 (= 1)  clock_us:u64  rules  histories
//! rules     = count:u32  (rule_id:str  rule)*
//! rule      = 0x00 asset per  count:u32 (subject:str  windows)*                  notional limit
//!           | 0x01 per  unit:u64  count:u32 (subject:str  level:u128  last_us:u64  cooldown_until_us:u64)*
//!                                                                                rate limit
//! asset     = 0x00 chain_id:u64 | 0x01 chain_id:u64 token:[u8; 20] | 0x02         native / erc20 / usd
//! per       = 0x00 (key) | 0x01 (principal)
//! windows   = mask:u8 (bit i: Window::ALL[i], 1s 1m 1h 1d; bits 4-7 zero)  ring per bit set, in that order
//! ring      = count:u8 (1..=61)  (bucket:u64  sum:[u8; 32])*                      occupied slots
//! histories = count:u32  (key_id:str  history)*
//! history   = flags:u8 (bit 0 amount EWMA, bit 1 fee EWMA; others zero)
//!             [amount_ewma:u64 (f64 bits)] [fee_ewma:u64 (f64 bits)]
//!             count:u32 (<= MAX_COUNTERPARTIES) address:[u8; 20]*                 strictly increasing
//!             count:u8 (<= 60) (second:u64  requests:u32)*                         velocity buckets
//! ```
//!
//! A ring lists its occupied slots only (an empty slot's bucket is
//! `u64::MAX`), in slot order; a slot's position is its bucket modulo 61, as
//! the engine places it, so two buckets in one position or out of order are
//! refused. A window whose ring has no occupied slot is written as absent
//! (either reads as zero). Likewise a velocity bucket is listed only when it
//! counted a request (`requests >= 1`), at position `second % 60`. A rate
//! bucket's `unit` is one of the four window lengths in microseconds; the
//! EWMAs are finite. The history of a key never seen is not part of the state.
//!
//! Deterministic: one state has one encoding, and every accepted input is the
//! encoding of the state it decodes to (a test re-encodes). Decoding allocates
//! only for entries whose bytes are present: a count is checked against the
//! bytes left before anything is reserved for it.
use std::collections::{BTreeSet, HashMap};

use sentinel_eth::{Address, U256};

use crate::error::{PolicyError, PolicyErrorCode};
use crate::features::{RiskHistory, MAX_COUNTERPARTIES, VELOCITY_BUCKETS};
use crate::rules::{AssetSelector, Subject, Window};
use crate::state::{Bucket, NotionalCounters, PolicyState, Ring, RuleState, Slot, RING_SLOTS};

/// The format version [`PolicyState::to_snapshot`] writes (its first byte) and the only one
/// [`PolicyState::from_snapshot`] reads.
pub const POLICY_SNAPSHOT_VERSION: u8 = 1;

const NOTIONAL: u8 = 0;
const RATE: u8 = 1;
const ASSET_NATIVE: u8 = 0;
const ASSET_ERC20: u8 = 1;
const ASSET_USD: u8 = 2;
const PER_KEY: u8 = 0;
const PER_PRINCIPAL: u8 = 1;
const HAS_AMOUNT_EWMA: u8 = 1;
const HAS_FEE_EWMA: u8 = 2;

/// Fewest bytes an entry can take, to check counts against the bytes left.
const MIN_RULE: usize = 4 + 1 + 1 + 1 + 4; // id, kind, asset (usd), per, no subjects
const MIN_NOTIONAL_SUBJECT: usize = 4 + 1; // name, mask
const RATE_SUBJECT: usize = 4 + 16 + 8 + 8; // name (empty), level, last_us, cooldown_until_us
const RING_SLOT: usize = 8 + 32;
const MIN_HISTORY: usize = 4 + 1 + 4 + 1; // key, flags, no counterparties, no velocity buckets
const ADDRESS: usize = 20;

impl PolicyState {
    /// A copy for a state snapshot, taken while decisions wait (the enclave encodes it once they
    /// go on). Without `histories`, the risk histories are left out: a policy with no
    /// `risk_score` rule never reads them, and they are the bulk of a busy state (about 760 bytes a key).
    pub fn snapshot_copy(&self, histories: bool) -> PolicyState {
        PolicyState {
            clock_us: self.clock_us,
            rules: self.rules.clone(),
            histories: if histories { self.histories.clone() } else { Default::default() },
            empty_history: Default::default(),
        }
    }

    /// The state's bytes in the snapshot format (see the module documentation of `snapshot.rs`):
    /// clock, every rule's counters and buckets, every key's risk history. The same state always
    /// gives the same bytes. For a sealed snapshot: the bytes are as sensitive as the state.
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(64));
        w.u8(POLICY_SNAPSHOT_VERSION);
        w.u64(self.clock_us);
        w.count(self.rules.len());
        for (id, rule) in sorted(&self.rules) {
            w.str(id);
            match rule {
                RuleState::Notional { asset, per, subjects } => {
                    w.u8(NOTIONAL);
                    match asset {
                        AssetSelector::Native { chain_id } => {
                            w.u8(ASSET_NATIVE);
                            w.u64(*chain_id);
                        }
                        AssetSelector::Erc20 { chain_id, token } => {
                            w.u8(ASSET_ERC20);
                            w.u64(*chain_id);
                            w.bytes(token.as_slice());
                        }
                        AssetSelector::Usd => w.u8(ASSET_USD),
                    }
                    w.per(*per);
                    w.count(subjects.len());
                    for (subject, counters) in sorted(subjects) {
                        w.str(subject);
                        w.windows(counters);
                    }
                }
                RuleState::Rate { per, unit, subjects } => {
                    w.u8(RATE);
                    w.per(*per);
                    w.u64(*unit);
                    w.count(subjects.len());
                    for (subject, bucket) in sorted(subjects) {
                        w.str(subject);
                        w.u128(bucket.level);
                        w.u64(bucket.last_us);
                        w.u64(bucket.cooldown_until_us);
                    }
                }
            }
        }
        w.count(self.histories.len());
        for (key, history) in sorted(&self.histories) {
            w.str(key);
            w.history(history);
        }
        w.0
    }

    /// Reads bytes [`to_snapshot`](PolicyState::to_snapshot) wrote, strictly: another version,
    /// truncated input, trailing bytes, an unknown tag, a value out of range or keys out of order
    /// are refused with `POLICY_SNAPSHOT_INVALID`, whose message names the field and byte offset.
    /// The state restored is the one encoded, exactly; counters of rules the policy in force no
    /// longer has are the caller's to drop ([`PolicyState::retain_for`]).
    pub fn from_snapshot(bytes: &[u8]) -> Result<PolicyState, PolicyError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u8("version")?;
        if version != POLICY_SNAPSHOT_VERSION {
            return Err(invalid(format!(
                "policy snapshot: format version {version}; this build reads version {POLICY_SNAPSHOT_VERSION}"
            )));
        }
        let clock_us = r.u64("clock_us")?;
        let n = r.count(MIN_RULE, "rules")?;
        let mut rules = HashMap::with_capacity(n);
        let mut previous: Option<&str> = None;
        for _ in 0..n {
            let id = r.key(&mut previous, "rules: rule id")?;
            let rule = r.rule().map_err(|e| within(e, &format!("rules[{id:?}]")))?;
            rules.insert(id.to_owned(), rule);
        }
        let n = r.count(MIN_HISTORY, "histories")?;
        let mut histories = HashMap::with_capacity(n);
        let mut previous: Option<&str> = None;
        for _ in 0..n {
            let key = r.key(&mut previous, "histories: key id")?;
            let history = r.history().map_err(|e| within(e, &format!("histories[{key:?}]")))?;
            histories.insert(key.to_owned(), history);
        }
        if r.pos != bytes.len() {
            return Err(r.fail(&format!("{} trailing bytes", bytes.len() - r.pos)));
        }
        Ok(PolicyState { clock_us, rules, histories, empty_history: RiskHistory::default() })
    }
}

/// A map's entries sorted by key (bytewise: `str`'s order).
fn sorted<V>(map: &HashMap<String, V>) -> Vec<(&str, &V)> {
    let mut entries: Vec<(&str, &V)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries
}

fn invalid(message: String) -> PolicyError {
    PolicyError::new(PolicyErrorCode::SnapshotInvalid, message)
}

fn fail_at(pos: usize, what: &str) -> PolicyError {
    invalid(format!("policy snapshot: {what} (at byte {pos})"))
}

/// `e` with `context` (the rule or key it was read for) after the `policy snapshot: ` prefix.
fn within(e: PolicyError, context: &str) -> PolicyError {
    let rest = e.message.strip_prefix("policy snapshot: ").unwrap_or(&e.message);
    invalid(format!("policy snapshot: {context}: {rest}"))
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u128(&mut self, v: u128) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    /// A count or length (the state's maps and strings are far below 2^32).
    fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("a policy state map or string of 2^32 or more entries"));
    }
    fn str(&mut self, s: &str) {
        self.count(s.len());
        self.bytes(s.as_bytes());
    }
    fn per(&mut self, per: Subject) {
        self.u8(match per {
            Subject::Key => PER_KEY,
            Subject::Principal => PER_PRINCIPAL,
        });
    }

    fn windows(&mut self, counters: &NotionalCounters) {
        let occupied = |ring: &Ring| ring.slots.iter().filter(|s| s.bucket != u64::MAX).count();
        let mut mask = 0u8;
        for (i, ring) in counters.windows.iter().enumerate() {
            if ring.as_deref().is_some_and(|ring| occupied(ring) > 0) {
                mask |= 1 << i;
            }
        }
        self.u8(mask);
        for ring in counters.windows.iter().flatten() {
            let n = occupied(ring);
            if n == 0 {
                continue;
            }
            self.u8(n as u8); // at most RING_SLOTS = 61
            for slot in ring.slots.iter().filter(|s| s.bucket != u64::MAX) {
                self.u64(slot.bucket);
                self.bytes(&slot.sum.to_be_bytes::<32>());
            }
        }
    }

    fn history(&mut self, h: &RiskHistory) {
        let mut flags = 0u8;
        if h.amount_ewma.is_some() {
            flags |= HAS_AMOUNT_EWMA;
        }
        if h.fee_ewma.is_some() {
            flags |= HAS_FEE_EWMA;
        }
        self.u8(flags);
        for ewma in [h.amount_ewma, h.fee_ewma].into_iter().flatten() {
            self.u64(ewma.to_bits());
        }
        // A BTreeSet iterates in ascending (bytewise) order.
        self.count(h.counterparties.len());
        for address in &h.counterparties {
            self.bytes(address.as_slice());
        }
        let counted = || h.bucket_count.iter().filter(|c| **c > 0).count();
        self.u8(counted() as u8); // at most VELOCITY_BUCKETS = 60
        for (second, count) in h.bucket_second.iter().zip(&h.bucket_count) {
            if *count > 0 {
                self.u64(*second);
                self.u32(*count);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn fail(&self, what: &str) -> PolicyError {
        fail_at(self.pos, what)
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], PolicyError> {
        let left = self.bytes.len() - self.pos;
        if n > left {
            return Err(self.fail(&format!("{what}: truncated ({n} bytes needed, {left} left)")));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], PolicyError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, PolicyError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, PolicyError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, PolicyError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }
    fn u128(&mut self, what: &str) -> Result<u128, PolicyError> {
        Ok(u128::from_be_bytes(self.array(what)?))
    }

    /// A `u32` count of entries of at least `min_size` bytes each, checked against the bytes left.
    fn count(&mut self, min_size: usize, what: &str) -> Result<usize, PolicyError> {
        let n = self.u32(what)? as usize;
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(min_size) > left {
            return Err(self.fail(&format!("{what}: {n} entries cannot fit in the {left} bytes left")));
        }
        Ok(n)
    }

    fn str(&mut self, what: &str) -> Result<&'a str, PolicyError> {
        let len = self.u32(what)? as usize;
        let start = self.pos;
        let bytes = self.take(len, what)?;
        std::str::from_utf8(bytes).map_err(|_| fail_at(start, &format!("{what}: not UTF-8")))
    }

    /// A map key, strictly after `previous` (which it becomes).
    fn key(&mut self, previous: &mut Option<&'a str>, what: &str) -> Result<&'a str, PolicyError> {
        let key = self.str(what)?;
        if previous.is_some_and(|p| p >= key) {
            return Err(self.fail(&format!("{what} {key:?} out of order or twice")));
        }
        *previous = Some(key);
        Ok(key)
    }

    fn per(&mut self) -> Result<Subject, PolicyError> {
        match self.u8("per")? {
            PER_KEY => Ok(Subject::Key),
            PER_PRINCIPAL => Ok(Subject::Principal),
            other => Err(self.fail(&format!("per: unknown tag {other}"))),
        }
    }

    fn rule(&mut self) -> Result<RuleState, PolicyError> {
        match self.u8("rule type")? {
            NOTIONAL => {
                let asset = match self.u8("asset")? {
                    ASSET_NATIVE => AssetSelector::Native { chain_id: self.u64("asset chain id")? },
                    ASSET_ERC20 => AssetSelector::Erc20 {
                        chain_id: self.u64("asset chain id")?,
                        token: Address::from(self.array::<ADDRESS>("asset token")?),
                    },
                    ASSET_USD => AssetSelector::Usd,
                    other => return Err(self.fail(&format!("asset: unknown tag {other}"))),
                };
                let per = self.per()?;
                let n = self.count(MIN_NOTIONAL_SUBJECT, "subjects")?;
                let mut subjects = HashMap::with_capacity(n);
                let mut previous: Option<&str> = None;
                for _ in 0..n {
                    let subject = self.key(&mut previous, "subject")?;
                    let counters = self.windows().map_err(|e| within(e, &format!("subjects[{subject:?}]")))?;
                    subjects.insert(subject.to_owned(), counters);
                }
                Ok(RuleState::Notional { asset, per, subjects })
            }
            RATE => {
                let per = self.per()?;
                let unit = self.u64("unit")?;
                if !Window::ALL.iter().any(|w| w.micros() == unit) {
                    return Err(self.fail(&format!("unit {unit} is not a window length in microseconds")));
                }
                let n = self.count(RATE_SUBJECT, "subjects")?;
                let mut subjects = HashMap::with_capacity(n);
                let mut previous: Option<&str> = None;
                for _ in 0..n {
                    let subject = self.key(&mut previous, "subject")?;
                    let bucket = Bucket {
                        level: self.u128("level")?,
                        last_us: self.u64("last_us")?,
                        cooldown_until_us: self.u64("cooldown_until_us")?,
                    };
                    subjects.insert(subject.to_owned(), bucket);
                }
                Ok(RuleState::Rate { per, unit, subjects })
            }
            other => Err(self.fail(&format!("rule type: unknown tag {other}"))),
        }
    }

    fn windows(&mut self) -> Result<NotionalCounters, PolicyError> {
        let mask = self.u8("window mask")?;
        if mask >> Window::ALL.len() != 0 {
            return Err(self.fail(&format!("window mask {mask:#04x} names a window that does not exist")));
        }
        let mut counters = NotionalCounters::default();
        for (i, window) in Window::ALL.iter().enumerate() {
            if mask & (1 << i) != 0 {
                let ring = self.ring().map_err(|e| within(e, &format!("window {}", window.as_str())))?;
                counters.windows[i] = Some(ring);
            }
        }
        Ok(counters)
    }

    fn ring(&mut self) -> Result<Box<Ring>, PolicyError> {
        let n = usize::from(self.u8("slot count")?);
        if n == 0 || n > RING_SLOTS {
            return Err(self.fail(&format!("{n} slots (1 to {RING_SLOTS})")));
        }
        let left = self.bytes.len() - self.pos;
        if n * RING_SLOT > left {
            return Err(self.fail(&format!("{n} slots cannot fit in the {left} bytes left")));
        }
        let mut ring = Box::new(Ring::new());
        let mut previous: Option<usize> = None;
        for _ in 0..n {
            let bucket = self.u64("bucket")?;
            if bucket == u64::MAX {
                return Err(self.fail("bucket u64::MAX (the empty slot's) listed"));
            }
            let position = (bucket % RING_SLOTS as u64) as usize;
            if previous.is_some_and(|p| p >= position) {
                return Err(self.fail(&format!("bucket {bucket} out of slot order or in an occupied slot")));
            }
            previous = Some(position);
            let sum = U256::from_be_bytes(self.array::<32>("sum")?);
            ring.slots[position] = Slot { bucket, sum };
        }
        Ok(ring)
    }

    fn history(&mut self) -> Result<RiskHistory, PolicyError> {
        let flags = self.u8("flags")?;
        if flags & !(HAS_AMOUNT_EWMA | HAS_FEE_EWMA) != 0 {
            return Err(self.fail(&format!("flags {flags:#04x}: unknown bits")));
        }
        let mut ewma = |flag: u8, what: &str| -> Result<Option<f64>, PolicyError> {
            if flags & flag == 0 {
                return Ok(None);
            }
            let x = f64::from_bits(self.u64(what)?);
            if !x.is_finite() {
                return Err(self.fail(&format!("{what} is not finite")));
            }
            Ok(Some(x))
        };
        let amount_ewma = ewma(HAS_AMOUNT_EWMA, "amount EWMA")?;
        let fee_ewma = ewma(HAS_FEE_EWMA, "fee EWMA")?;

        let n = self.count(ADDRESS, "counterparties")?;
        if n > MAX_COUNTERPARTIES {
            return Err(self.fail(&format!("{n} counterparties (at most {MAX_COUNTERPARTIES})")));
        }
        let mut counterparties = BTreeSet::new();
        let mut previous: Option<Address> = None;
        for _ in 0..n {
            let address = Address::from(self.array::<ADDRESS>("counterparty")?);
            if previous.is_some_and(|p| p >= address) {
                return Err(self.fail(&format!("counterparty {address} out of order or twice")));
            }
            previous = Some(address);
            counterparties.insert(address);
        }

        let n = usize::from(self.u8("velocity bucket count")?);
        if n > VELOCITY_BUCKETS {
            return Err(self.fail(&format!("{n} velocity buckets (at most {VELOCITY_BUCKETS})")));
        }
        let mut bucket_second = [0u64; VELOCITY_BUCKETS];
        let mut bucket_count = [0u32; VELOCITY_BUCKETS];
        let mut previous: Option<usize> = None;
        for _ in 0..n {
            let second = self.u64("velocity second")?;
            let count = self.u32("velocity count")?;
            if count == 0 {
                return Err(self.fail(&format!("velocity bucket of second {second} listed with no request")));
            }
            let position = (second % VELOCITY_BUCKETS as u64) as usize;
            if previous.is_some_and(|p| p >= position) {
                return Err(self.fail(&format!("velocity second {second} out of bucket order or in a used bucket")));
            }
            previous = Some(position);
            bucket_second[position] = second;
            bucket_count[position] = count;
        }
        Ok(RiskHistory { amount_ewma, fee_ewma, counterparties, bucket_second, bucket_count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn history(seed: u64) -> RiskHistory {
        let mut h = RiskHistory {
            amount_ewma: Some(f64::from_bits(0x4030_0000_0000_0001 ^ seed)),
            fee_ewma: if seed % 2 == 0 { None } else { Some(-0.0) },
            ..RiskHistory::default()
        };
        for i in 0..(seed % 5) {
            h.counterparties.insert(Address::repeat_byte((seed as u8).wrapping_add(i as u8 * 37)));
        }
        for s in [1_700_000_000 + seed, 1_700_000_059, 1_700_000_060 + seed] {
            let i = (s % VELOCITY_BUCKETS as u64) as usize;
            h.bucket_second[i] = s;
            h.bucket_count[i] = u32::MAX - (seed as u32);
        }
        h
    }

    /// A state with every kind of entry, edge values included.
    fn sample() -> PolicyState {
        let mut state = PolicyState { clock_us: 1_767_571_200_123_456, ..PolicyState::default() };
        let erc20 = AssetSelector::Erc20 { chain_id: u64::MAX, token: Address::repeat_byte(0xa0) };
        for (rule, asset, per) in [
            ("usd", AssetSelector::Usd, Subject::Key),
            ("eth", AssetSelector::Native { chain_id: 1 }, Subject::Principal),
            ("tok", erc20, Subject::Key),
        ] {
            for (n, subject) in ["k1", "", "ключ", "k2"].into_iter().enumerate() {
                let c = state.notional_mut(rule, asset, per, subject);
                for (i, window) in Window::ALL.into_iter().enumerate() {
                    if (n + i) % 3 == 0 {
                        continue;
                    }
                    for k in 0..[1, 2, 3, 5][n] {
                        c.add(window, 1_767_571_200_000_000 + k * 977_777, U256::from(k + 1));
                    }
                }
                c.add(Window::Day, 1_767_571_200_000_000, U256::MAX);
            }
        }
        // A full ring: 70 consecutive buckets wrap around the 61 slots.
        let c = state.notional_mut("usd", AssetSelector::Usd, Subject::Key, "ключ");
        for k in 0..70 {
            c.add(Window::Hour, 1_767_571_200_000_000 + k * 60_000_000, U256::from(k));
        }
        for (rule, per, window) in
            [("rate-k", Subject::Key, Window::Second), ("rate-p", Subject::Principal, Window::Day)]
        {
            for (n, subject) in ["p1", "p2"].into_iter().enumerate() {
                let b = state.bucket_mut(rule, per, window.micros(), subject, || Bucket {
                    level: u128::MAX - n as u128,
                    last_us: 17,
                    cooldown_until_us: u64::MAX,
                });
                b.last_us += n as u64;
            }
        }
        for (i, key) in ["k1", "k2", "k3"].into_iter().enumerate() {
            *state.history_mut(key) = history(i as u64);
        }
        state.history_mut("never-observed");
        state
    }

    fn refused(bytes: &[u8]) -> String {
        match PolicyState::from_snapshot(bytes) {
            Ok(_) => panic!("accepted {}", hex::encode(bytes)),
            Err(e) => {
                assert_eq!(e.code, PolicyErrorCode::SnapshotInvalid);
                e.message
            }
        }
    }

    #[test]
    fn round_trip_is_exact() {
        let state = sample();
        let bytes = state.to_snapshot();
        // A full ring is in it (70 buckets in a row wrap around the 61 slots).
        let counters = state.notional("usd", "ключ").unwrap();
        assert!(counters.windows.iter().flatten().any(|r| r.slots.iter().all(|s| s.bucket != u64::MAX)));
        assert_eq!(bytes[0], POLICY_SNAPSHOT_VERSION);
        let back = PolicyState::from_snapshot(&bytes).unwrap();
        assert_eq!(back.clock_us, state.clock_us);
        assert_eq!(back.rules, state.rules);
        assert_eq!(back.histories.len(), state.histories.len());
        for (key, h) in &state.histories {
            let b = &back.histories[key];
            assert_eq!(b.amount_ewma.map(f64::to_bits), h.amount_ewma.map(f64::to_bits));
            assert_eq!(b.fee_ewma.map(f64::to_bits), h.fee_ewma.map(f64::to_bits));
            assert_eq!(b.counterparties, h.counterparties);
            assert_eq!(b.bucket_second, h.bucket_second);
            assert_eq!(b.bucket_count, h.bucket_count);
        }
        assert_eq!(back.to_snapshot(), bytes);
        // -0.0 kept as such.
        assert_eq!(back.histories["k2"].fee_ewma.map(f64::to_bits), Some((-0.0f64).to_bits()));
    }

    #[test]
    fn empty_state_bytes() {
        let bytes = PolicyState::new().to_snapshot();
        // Version 1, clock 0, no rules, no histories.
        assert_eq!(hex::encode(&bytes), format!("01{}{}{}", "00".repeat(8), "00".repeat(4), "00".repeat(4)));
        assert_eq!(PolicyState::from_snapshot(&bytes).unwrap().to_snapshot(), bytes);
    }

    /// Builds inputs by hand.
    #[derive(Default)]
    struct B(Vec<u8>);

    impl B {
        fn v1() -> B {
            B(vec![POLICY_SNAPSHOT_VERSION]).u64(5)
        }
        fn u8(mut self, v: u8) -> B {
            self.0.push(v);
            self
        }
        fn u32(mut self, v: u32) -> B {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn u64(mut self, v: u64) -> B {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn raw(mut self, b: &[u8]) -> B {
            self.0.extend_from_slice(b);
            self
        }
        fn str(self, s: &[u8]) -> B {
            self.u32(s.len() as u32).raw(s)
        }
        /// A rate rule `id` with one subject.
        fn rate(self, id: &[u8], unit: u64, subject: &[u8]) -> B {
            self.str(id).u8(RATE).u8(PER_KEY).u64(unit).u32(1).str(subject).raw(&[0; 16]).u64(1).u64(0)
        }
        /// A notional rule `id` (usd, per key) with one subject whose 1m window has `slots`.
        fn notional(self, id: &[u8], slots: &[u64]) -> B {
            let mut b = self.str(id).u8(NOTIONAL).u8(ASSET_USD).u8(PER_KEY).u32(1).str(b"k").u8(0b10);
            b = b.u8(slots.len() as u8);
            for bucket in slots {
                b = b.u64(*bucket).raw(&[0; 32]);
            }
            b
        }
        /// One history `key` with these flags, EWMA bits, counterparties and velocity buckets.
        fn history(self, key: &[u8], flags: u8, ewmas: &[u64], cps: &[[u8; 20]], velocity: &[(u64, u32)]) -> B {
            let mut b = self.str(key).u8(flags);
            for e in ewmas {
                b = b.u64(*e);
            }
            b = b.u32(cps.len() as u32);
            for c in cps {
                b = b.raw(c);
            }
            b = b.u8(velocity.len() as u8);
            for (second, count) in velocity {
                b = b.u64(*second).u32(*count);
            }
            b
        }
    }

    fn ok(bytes: &[u8]) -> PolicyState {
        let state = PolicyState::from_snapshot(bytes).unwrap_or_else(|e| panic!("{e}: {}", hex::encode(bytes)));
        assert_eq!(state.to_snapshot(), bytes, "an accepted input is the encoding of its state");
        state
    }

    #[test]
    fn hand_built_inputs_are_read() {
        let minute = Window::Minute.micros();
        let b = B::v1().u32(2).notional(b"a", &[0, 1, 61 + 2, 60]).rate(b"b", minute, b"k").u32(1).history(
            b"k",
            3,
            &[1.5f64.to_bits(), 0.0f64.to_bits()],
            &[[1; 20], [2; 20]],
            &[(60, 1), (1, 9), (119, 2)],
        );
        let state = ok(&b.0);
        assert_eq!(state.clock_us(), 5);
        let ring = state.notional("a", "k").unwrap().windows[1].as_deref().unwrap();
        assert_eq!(ring.slots[0].bucket, 0);
        assert_eq!(ring.slots[2].bucket, 63);
        assert_eq!(ring.slots[60].bucket, 60);
        assert_eq!(ring.slots[3].bucket, u64::MAX);
        assert_eq!(state.bucket("b", "k").map(|(b, u)| (b.last_us, u)), Some((1, minute)));
        let h = state.history("k");
        assert_eq!(h.velocity(119_000_000), 3);
        assert_eq!(h.velocity(60_000_000), 12);
        assert!(h.knows_counterparty(&Address::repeat_byte(2)));
        assert_eq!(h.amount_ewma(), Some(1.5));
        // A history with nothing in it, a notional subject with no window, a rule with no subject.
        let b = B::v1()
            .u32(2)
            .str(b"n")
            .u8(NOTIONAL)
            .u8(ASSET_ERC20)
            .u64(1)
            .raw(&[7; 20])
            .u8(PER_PRINCIPAL)
            .u32(1)
            .str(b"")
            .u8(0)
            .str(b"r")
            .u8(RATE)
            .u8(PER_PRINCIPAL)
            .u64(Window::Day.micros())
            .u32(0)
            .u32(1)
            .history(b"", 0, &[], &[], &[]);
        ok(&b.0);
    }

    #[test]
    fn malformed_inputs_are_refused() {
        let minute = Window::Minute.micros();
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("nothing", vec![], "version: truncated"),
            ("version 0", B(vec![0]).u64(0).u32(0).u32(0).0, "format version 0"),
            ("version 2", B(vec![2]).u64(0).u32(0).u32(0).0, "format version 2"),
            ("trailing byte", B::v1().u32(0).u32(0).u8(0).0, "1 trailing bytes"),
            ("no histories count", B::v1().u32(0).0, "histories: truncated"),
            ("count beyond the input", B::v1().u32(u32::MAX).u32(0).0, "cannot fit"),
            (
                "rule ids out of order",
                B::v1().u32(2).rate(b"b", minute, b"k").rate(b"a", minute, b"k").u32(0).0,
                "out of order",
            ),
            (
                "rule id twice",
                B::v1().u32(2).rate(b"a", minute, b"k").rate(b"a", minute, b"k").u32(0).0,
                "out of order or twice",
            ),
            ("rule id not UTF-8", B::v1().u32(1).rate(b"\xff", minute, b"k").u32(0).0, "not UTF-8"),
            ("subject not UTF-8", B::v1().u32(1).rate(b"a", minute, b"\xc3").u32(0).0, "not UTF-8"),
            ("unit 0", B::v1().u32(1).rate(b"a", 0, b"k").u32(0).0, "unit 0"),
            ("unit not a window", B::v1().u32(1).rate(b"a", minute + 1, b"k").u32(0).0, "not a window length"),
            ("unknown rule type", B::v1().u32(1).str(b"a").u8(2).raw(&[0; 10]).0, "rule type: unknown tag 2"),
            (
                "unknown asset",
                B::v1().u32(1).str(b"a").u8(NOTIONAL).u8(3).u8(0).u32(0).u32(0).0,
                "asset: unknown tag 3",
            ),
            ("unknown per", B::v1().u32(1).str(b"a").u8(RATE).u8(2).u64(minute).u32(0).u32(0).0, "per: unknown tag 2"),
            ("empty ring", B::v1().u32(1).notional(b"a", &[]).u32(0).0, "0 slots"),
            ("62 slots", B::v1().u32(1).notional(b"a", &(0..62).collect::<Vec<_>>()).u32(0).0, "62 slots"),
            ("empty slot listed", B::v1().u32(1).notional(b"a", &[u64::MAX]).u32(0).0, "u64::MAX"),
            ("slots out of order", B::v1().u32(1).notional(b"a", &[2, 1]).u32(0).0, "out of slot order"),
            ("two buckets in one slot", B::v1().u32(1).notional(b"a", &[1, 62]).u32(0).0, "occupied slot"),
            (
                "window mask bit 4",
                B::v1().u32(1).str(b"a").u8(NOTIONAL).u8(ASSET_USD).u8(PER_KEY).u32(1).str(b"k").u8(0x10).u32(0).0,
                "does not exist",
            ),
            ("history flags", B::v1().u32(0).u32(1).history(b"k", 4, &[], &[], &[]).0, "unknown bits"),
            ("NaN EWMA", B::v1().u32(0).u32(1).history(b"k", 1, &[f64::NAN.to_bits()], &[], &[]).0, "not finite"),
            (
                "infinite EWMA",
                B::v1().u32(0).u32(1).history(b"k", 2, &[f64::INFINITY.to_bits()], &[], &[]).0,
                "not finite",
            ),
            ("EWMA missing", B::v1().u32(0).u32(1).history(b"k", 3, &[0], &[], &[]).0, "truncated"),
            ("counterparty twice", B::v1().u32(0).u32(1).history(b"k", 0, &[], &[[1; 20], [1; 20]], &[]).0, "twice"),
            (
                "counterparties out of order",
                B::v1().u32(0).u32(1).history(b"k", 0, &[], &[[2; 20], [1; 20]], &[]).0,
                "out of order",
            ),
            (
                "too many counterparties",
                B::v1()
                    .u32(0)
                    .u32(1)
                    .history(
                        b"k",
                        0,
                        &[],
                        &(0..=MAX_COUNTERPARTIES as u32)
                            .map(|i| {
                                let mut a = [0u8; 20];
                                a[16..].copy_from_slice(&i.to_be_bytes());
                                a
                            })
                            .collect::<Vec<_>>(),
                        &[],
                    )
                    .0,
                "4097 counterparties",
            ),
            ("velocity count 0", B::v1().u32(0).u32(1).history(b"k", 0, &[], &[], &[(3, 0)]).0, "no request"),
            (
                "velocity out of order",
                B::v1().u32(0).u32(1).history(b"k", 0, &[], &[], &[(3, 1), (2, 1)]).0,
                "out of bucket order",
            ),
            (
                "velocity bucket twice",
                B::v1().u32(0).u32(1).history(b"k", 0, &[], &[], &[(3, 1), (63, 1)]).0,
                "used bucket",
            ),
            (
                "61 velocity buckets",
                B::v1().u32(0).u32(1).history(b"k", 0, &[], &[], &(0..61).map(|s| (s, 1)).collect::<Vec<_>>()).0,
                "61 velocity buckets",
            ),
            (
                "history keys twice",
                B::v1().u32(0).u32(2).history(b"k", 0, &[], &[], &[]).history(b"k", 0, &[], &[], &[]).0,
                "twice",
            ),
        ];
        for (name, bytes, expected) in cases {
            let message = refused(&bytes);
            assert!(message.starts_with("policy snapshot: "), "{name}: {message}");
            assert!(message.contains(expected), "{name}: {message:?} does not say {expected:?}");
        }
        // The message names where: the rule, subject and window.
        let message = refused(&B::v1().u32(1).notional(b"usd-key", &[2, 1]).u32(0).0);
        assert!(message.contains(r#"rules["usd-key"]: subjects["k"]: window 1m: bucket 1"#), "{message}");
    }

    #[test]
    fn deterministic_whatever_the_insertion_order() {
        let a = sample();
        // The same entries inserted in another order (maps rebuilt in reverse key order).
        let mut b = PolicyState { clock_us: a.clock_us, ..PolicyState::default() };
        let mut rules: Vec<_> = a.rules.iter().collect();
        rules.sort_by(|x, y| y.0.cmp(x.0));
        for (id, rule) in rules {
            let rule = match rule {
                RuleState::Notional { asset, per, subjects } => {
                    let mut s: Vec<_> = subjects.iter().collect();
                    s.sort_by(|x, y| y.0.cmp(x.0));
                    let subjects = s.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    RuleState::Notional { asset: *asset, per: *per, subjects }
                }
                other => other.clone(),
            };
            b.rules.insert(id.clone(), rule);
        }
        let mut keys: Vec<_> = a.histories.keys().collect();
        keys.sort_by(|x, y| y.cmp(x));
        for key in keys {
            b.histories.insert(key.clone(), a.histories[key].clone());
        }
        assert_eq!(a.to_snapshot(), b.to_snapshot());
        assert_eq!(a.to_snapshot(), a.to_snapshot());
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample().to_snapshot();
        for len in 0..bytes.len() {
            refused(&bytes[..len]);
        }
    }

    #[test]
    fn single_byte_changes_never_panic() {
        let bytes = sample().to_snapshot();
        for i in 0..bytes.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut changed = bytes.clone();
                changed[i] ^= x;
                if let Ok(state) = PolicyState::from_snapshot(&changed) {
                    assert_eq!(state.to_snapshot(), changed, "byte {i} ^ {x:#x}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(state) = PolicyState::from_snapshot(&bytes) {
                prop_assert_eq!(state.to_snapshot(), bytes);
            }
        }

        /// Random bodies after a valid header, so decoding gets past the version.
        #[test]
        fn random_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), rules in 0u32..3) {
            let bytes = B::v1().u32(rules).raw(&body).0;
            if let Ok(state) = PolicyState::from_snapshot(&bytes) {
                prop_assert_eq!(state.to_snapshot(), bytes);
            }
        }

        /// Random splices of a valid snapshot: never a panic; accepted only if canonical.
        #[test]
        fn spliced_snapshots_never_panic(at in 0usize..4096, cut in 0usize..64, insert in proptest::collection::vec(any::<u8>(), 0..16)) {
            let mut bytes = sample().to_snapshot();
            let at = at % bytes.len();
            let end = (at + cut).min(bytes.len());
            bytes.splice(at..end, insert);
            if let Ok(state) = PolicyState::from_snapshot(&bytes) {
                prop_assert_eq!(state.to_snapshot(), bytes);
            }
        }
    }
}

//! The policy as typed data: what `document.rs` parses a policy JSON into and
//! what `evaluate.rs` reads. No parsing and no evaluation here, only the
//! shapes, so every other module agrees on them. Amounts are `U256` in the
//! asset's base units (wei, token units) or, for `usd`, micro-dollars.
use sentinel_eth::{Address, U256};

/// Most rules in one policy.
pub const MAX_RULES: usize = 64;
/// Most entries in one list of a rule (chain ids, addresses, selectors, holidays, scope ids).
pub const MAX_LIST_ITEMS: usize = 1024;
/// Most windows of one notional limit (one per length: 1s, 1m, 1h, 1d).
pub const MAX_WINDOWS: usize = 4;

/// A verified, typed policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Strictly increasing across updates (no rollback).
    pub version: u64,
    /// Human name, printable, 1..=64 bytes.
    pub name: String,
    /// Who signs price tables for `usd` notional limits (required when any rule uses `usd`).
    pub price_feed: Option<PriceFeed>,
    /// In document order; results are reported in this order.
    pub rules: Vec<Rule>,
}

/// The key that signs price tables and how old a table may be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceFeed {
    pub public_key: sentinel_config::PublicKey,
    /// A table older than this (now - timestamp > max) denies every `usd` rule; exactly at it is fine.
    pub max_staleness_s: u64,
}

/// One rule: an id (unique in the policy), who it applies to, and what it checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub scope: Scope,
    pub kind: RuleKind,
}

/// Which requests a rule applies to. Each present list must match (AND
/// across lists, OR within one); an absent list matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Key ids.
    pub keys: Option<Vec<String>>,
    /// Key labels.
    pub labels: Option<Vec<String>>,
    /// Principal (agent) ids.
    pub principals: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleKind {
    NotionalLimit(NotionalLimit),
    RateLimit(RateLimit),
    ContractList(ContractList),
    Chain(ChainRule),
    TimeWindow(TimeWindow),
    RiskScore(RiskScore),
}

impl RuleKind {
    /// The `type` name in JSON and in decision records.
    pub const fn type_name(&self) -> &'static str {
        match self {
            RuleKind::NotionalLimit(_) => "notional_limit",
            RuleKind::RateLimit(_) => "rate_limit",
            RuleKind::ContractList(_) => "contract_list",
            RuleKind::Chain(_) => "chain",
            RuleKind::TimeWindow(_) => "time_window",
            RuleKind::RiskScore(_) => "risk_score",
        }
    }
}

/// Whose counter a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// One counter per key id.
    Key,
    /// One counter per principal id.
    Principal,
}

/// A window length. Rolling windows are kept as 60 buckets of `len / 60`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Window {
    Second,
    Minute,
    Hour,
    Day,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::Second, Window::Minute, Window::Hour, Window::Day];

    /// `1s`, `1m`, `1h`, `1d`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Window::Second => "1s",
            Window::Minute => "1m",
            Window::Hour => "1h",
            Window::Day => "1d",
        }
    }

    pub fn from_name(name: &str) -> Option<Window> {
        Window::ALL.into_iter().find(|w| w.as_str() == name)
    }

    pub const fn micros(self) -> u64 {
        match self {
            Window::Second => 1_000_000,
            Window::Minute => 60_000_000,
            Window::Hour => 3_600_000_000,
            Window::Day => 86_400_000_000,
        }
    }
}

/// What a notional rule counts. One rule counts one asset (or USD), so amounts
/// of different assets are never added in one counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssetSelector {
    /// `native:<chain_id>`: the transaction's `value` on that chain.
    Native { chain_id: u64 },
    /// `erc20:<chain_id>:<token>`: ERC-20 amounts moved or approved on that token.
    Erc20 { chain_id: u64, token: Address },
    /// `usd`: every priced asset, converted with the signed price table (micro-dollars).
    Usd,
}

/// `notional_limit`: a per-transaction cap and rolling-window caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotionalLimit {
    pub asset: AssetSelector,
    pub per: Subject,
    /// Most one request may move (base units, or micro-USD).
    pub per_transaction: Option<U256>,
    /// Rolling caps, at most one per window length.
    pub windows: Vec<WindowLimit>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimit {
    pub window: Window,
    pub limit: U256,
}

/// `rate_limit`: a token bucket of `burst` tokens refilled at `count` per `per`;
/// a request takes one token; an empty bucket denies and starts a cooldown
/// of `cooldown_ms` during which every request of that subject is denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub subject: Subject,
    pub count: u32,
    pub per: Window,
    pub burst: u32,
    pub cooldown_ms: u64,
}

/// Allow or deny effect of a `contract_list` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `contract_list`: destinations (the transaction's `to`, or a typed-data
/// domain's `verifyingContract`), tokens (ERC-20 contracts whose calls and
/// permits were decoded), recipients (transfer recipients and approved
/// spenders) and function selectors.
///
/// A list is checked only against requests that have that attribute:
/// `destinations` when there is a destination, `tokens` when an ERC-20 call
/// or permit was decoded, `recipients` when there is a recipient or spender
/// (a native transfer's recipient is its `to`), `selectors` when calldata has
/// at least 4 bytes.
///
/// `allow`: every checked, non-empty list must contain the request's values
/// (all of them, for a permit naming several tokens); any miss denies; and a
/// call to a listed token whose calldata is not a known ERC-20 call
/// (`transfer`, `transferFrom`, `approve`) denies (unknown calldata to a
/// listed token is never allowed silently). If no list could be checked the
/// rule is not applicable.
/// `deny`: any value found in any list denies; otherwise the rule allows
/// (not applicable when no list could be checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractList {
    pub effect: Effect,
    pub destinations: Vec<Address>,
    pub tokens: Vec<Address>,
    pub recipients: Vec<Address>,
    pub selectors: Vec<[u8; 4]>,
}

/// `chain`: allowed chain ids. Requests without a chain id (pre-EIP-155
/// legacy transactions, typed data without `domain.chainId`) and chain id 0
/// are replayable on any chain: denied unless `allow_unprotected`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRule {
    pub chain_ids: Vec<u64>,
    pub allow_unprotected: bool,
}

/// A calendar date (in the window's time zone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i16,
    pub month: i8,
    pub day: i8,
}

/// `time_window`: when requests are allowed.
#[derive(Clone, Debug, PartialEq)]
pub enum TimeWindow {
    /// NYSE regular hours: Monday to Friday, 09:30 <= t < 16:00 America/New_York, minus `holidays`.
    UsMarket { holidays: Vec<Date> },
    /// Always open.
    Crypto24x7,
    /// `days` (index 0 = Monday) from `start_minute` (inclusive) to `end_minute`
    /// (exclusive) in `timezone`; `end <= start` wraps past midnight (the window
    /// belongs to the day it starts on). Minus `holidays`.
    Custom { timezone: TimeZoneName, days: [bool; 7], start_minute: u16, end_minute: u16, holidays: Vec<Date> },
}

// `jiff::tz::TimeZone` is not `Eq`; rules compare by zone name.
impl Eq for TimeWindow {}

/// An IANA time zone, resolved once when the policy is parsed.
#[derive(Clone, Debug)]
pub struct TimeZoneName {
    pub name: String,
    pub zone: jiff::tz::TimeZone,
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// `risk_score`: the ONNX model pinned by SHA-256 scores the request in basis
/// points (0..=10000); `score >= deny_at_bps` denies, `score >= approve_at_bps`
/// requires human approval, anything lower passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskScore {
    pub model_sha256: [u8; 32],
    pub approve_at_bps: u16,
    pub deny_at_bps: u16,
}

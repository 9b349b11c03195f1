//! Sentinel's policy engine: decides whether a decoded signing request may be
//! signed, and says why.
//!
//! Evaluation is a pure function of (policy, decoded request, state, now):
//! no clock, no I/O, no randomness; the enclave passes its clock in as
//! `now_us` and keeps the state. A policy is a JSON document signed by the
//! configuration's admin quorum ([`SignedPolicy`]), hashed over its canonical
//! form; its six rule types ([`RuleKind`]) each report a [`RuleResult`]. The
//! verdict: any deny wins, an evaluation error denies, a request no rule in
//! scope allowed is denied (default deny), and a risk score in the approval
//! band asks for a human. It trusts only the admin keys of the configuration
//! in force (for policies), the policy's price-feed key (for prices) and
//! model bytes whose SHA-256 the signed policy pins. [`commit`] lists the
//! counter changes it makes ([`Effect`], in the audit log) so that a
//! restarted enclave can rebuild its counters with [`replay`]; the whole
//! state also has a byte form for sealed snapshots
//! ([`PolicyState::to_snapshot`], [`PolicyState::from_snapshot`]).
//! docs/policy.md is the reference.
// `deny`, not `forbid`: risk.rs has the crate's one `unsafe` block (clearing the AVX upper state
// tract's kernels leave behind), allowed there by name.
#![deny(unsafe_code)]
#![deny(clippy::all)]

mod calldata;
mod decision;
mod dev;
mod document;
mod effects;
mod engine;
mod error;
mod features;
mod permits;
mod prices;
mod request;
#[cfg(feature = "onnx")]
mod risk;
#[cfg(not(feature = "onnx"))]
#[path = "risk_unavailable.rs"]
mod risk;
mod rules;
mod signed;
mod snapshot;
mod state;
mod time_window;

pub use decision::{Evaluation, Outcome, RuleRecord, RuleResult, Verdict};
pub use dev::{development_policy_json, development_signed_policy};
pub use document::{
    canonical_json, parse_policy, policy_hash, ParsedPolicy, MAX_COOLDOWN_MS, MAX_JSON_DEPTH, MAX_JSON_INTEGER,
    MAX_NAME_BYTES, MAX_POLICY_BYTES, MAX_RULE_ID_BYTES, USD_FRACTION_DIGITS,
};
pub use effects::{replay, Effect};
pub use engine::{commit, evaluate, ActivePolicy, Engine};
pub use error::{verdict_codes, PolicyError, PolicyErrorCode};
pub use features::{RiskFeatures, RiskHistory, FEATURE_COUNT, FEATURE_NAMES};
pub use prices::{
    price_signing_digest, sign_prices, PriceEntry, PriceTable, SignedPrices, MAX_PRICES_BYTES, MAX_PRICE_DECIMALS,
    PRICES_SIGNATURE_DOMAIN,
};
pub use request::{Asset, CallKind, Caller, Movement, MovementKind, OpKind, PolicyRequest, MAX_MOVEMENTS};
pub use risk::RiskModel;
// `ListEffect`: a `contract_list` rule's allow/deny (`rules::Effect`); the root's `Effect` is a
// committed counter change.
pub use rules::{
    AssetSelector, ChainRule, ContractList, Date, Effect as ListEffect, NotionalLimit, Policy, PriceFeed, RateLimit,
    RiskScore, Rule, RuleKind, Scope, Subject, TimeWindow, TimeZoneName, Window, WindowLimit, MAX_LIST_ITEMS,
    MAX_RULES, MAX_WINDOWS,
};
pub use signed::{policy_signing_digest, SignedPolicy, MAX_SIGNED_POLICY_BYTES, POLICY_SIGNATURE_DOMAIN};
pub use snapshot::POLICY_SNAPSHOT_VERSION;
pub use state::PolicyState;

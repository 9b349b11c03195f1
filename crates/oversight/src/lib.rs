//! Sentinel's kill switch and human oversight, as pure state machines: the
//! enclave program wraps them in locks and passes the clock in (`now_us`);
//! nothing here reads a clock, a random source or the network.
//!
//! - [`command`]: the signed oversight command (halt, resume, heartbeat,
//!   approve, reject, status, list) in canonical CBOR and its JSON editing
//!   form, and the digest its signers sign.
//! - [`mod@authorize`]: who may send which command (overseers, approvers), the
//!   quorums, the timestamp window and replay protection.
//! - [`switch`]: the Green / Yellow / Red state per scope (global, key,
//!   principal), the resume challenge and the heartbeat deadline.
//! - [`trips`]: automatic halts (consecutive policy denials, risk spikes),
//!   and the byte form of the denial counts for sealed snapshots.
//! - [`approvals`]: the queue of requests held for human approval.
#![deny(unsafe_code)]

pub mod approvals;
pub mod authorize;
pub mod command;
mod error;
pub mod replay;
pub mod scope;
pub mod switch;
pub mod trips;

pub use approvals::{Approval, ApprovalQueue, HeldRequest, HoldReason};
pub use authorize::{authorize, Authorized, SignatureEntry, MAX_COMMAND_SIGNATURES};
pub use command::{Action, Command, OVERSIGHT_DOMAIN};
pub use error::{OversightError, OversightErrorCode};
pub use replay::ReplayGuard;
pub use scope::{Effective, Level, Scope};
pub use switch::{KillSwitch, ScopeState, Status};
pub use trips::{Trip, Trips, TRIPS_SNAPSHOT_VERSION};

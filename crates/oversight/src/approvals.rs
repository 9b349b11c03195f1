//! The approval queue: requests held inside the enclave until a quorum of
//! approvers approved them (then they are released, signed), one approver
//! rejected them, they expired, or a halt of their scope dropped them. The
//! queue is bounded (`max_pending`); an expired entry is removed by
//! [`ApprovalQueue::expire`] (the enclave calls it before holding, listing and
//! approving) or when an approval for it arrives too late.

use std::collections::BTreeMap;

use crate::error::{OversightError, OversightErrorCode as Code};
use crate::scope::Scope;

/// Why a request is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldReason {
    /// The policy's verdict was `approval_required` (a risk score in the approval band).
    Policy,
    /// Its effective state is Yellow: every signing request needs approval.
    Yellow,
}

impl HoldReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            HoldReason::Policy => "policy_approval_required",
            HoldReason::Yellow => "yellow_state",
        }
    }
}

/// One held request; `payload` is what the enclave needs to finish it.
#[derive(Clone, Debug)]
pub struct HeldRequest<T> {
    pub request_id: [u8; 16],
    /// SHA-256 of the exact request body: what approvers sign (inside their command).
    pub request_digest: [u8; 32],
    pub principal: String,
    pub key_id: Option<String>,
    pub op: String,
    pub reason: HoldReason,
    pub held_at_us: u64,
    pub expires_at_us: u64,
    /// Distinct approvers so far, sorted.
    pub approvals: Vec<String>,
    pub payload: T,
}

impl<T> HeldRequest<T> {
    /// Whether a halt of `scope` covers this request.
    pub fn in_scope(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Global => true,
            Scope::Key(id) => self.key_id.as_deref() == Some(id.as_str()),
            Scope::Principal(id) => self.principal == *id,
        }
    }
}

/// The result of an approval that was accepted.
#[derive(Debug)]
pub enum Approval<T> {
    /// Still short of the threshold; the approvers so far.
    Pending { approvals: Vec<String> },
    /// The threshold is met: the request leaves the queue for the enclave to finish.
    Approved(HeldRequest<T>),
}

fn unknown(request_id: &[u8; 16]) -> OversightError {
    OversightError::new(
        Code::ApprovalUnknown,
        format!("request_id: no held request 0x{} (never held, or already finished)", hex::encode(request_id)),
    )
}

#[derive(Debug)]
pub struct ApprovalQueue<T> {
    capacity: usize,
    entries: BTreeMap<[u8; 16], HeldRequest<T>>,
}

// An expired entry travels back with its `APPROVAL_EXPIRED` error (a rare path), so the
// error side of `approve` and `reject` is as large as a held request.
#[allow(clippy::result_large_err)]
impl<T> ApprovalQueue<T> {
    pub fn new(capacity: usize) -> Self {
        ApprovalQueue { capacity, entries: BTreeMap::new() }
    }

    /// A new `max_pending` (entries already held stay).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Holds a request (`APPROVAL_QUEUE_FULL` at capacity; call [`Self::expire`] first).
    pub fn hold(&mut self, held: HeldRequest<T>) -> Result<(), OversightError> {
        if self.entries.len() >= self.capacity {
            return Err(OversightError::new(
                Code::ApprovalQueueFull,
                format!(
                    "approvals: {} requests are held, as many as max_pending ({}) allows; approve, reject or let some expire",
                    self.entries.len(),
                    self.capacity
                ),
            ));
        }
        if self.entries.contains_key(&held.request_id) {
            return Err(OversightError::new(
                Code::Malformed,
                format!("request_id: 0x{} is already held", hex::encode(held.request_id)),
            ));
        }
        self.entries.insert(held.request_id, held);
        Ok(())
    }

    /// Removes and returns the entries whose expiry is before `now_us`.
    pub fn expire(&mut self, now_us: u64) -> Vec<HeldRequest<T>> {
        self.remove_where(|held| held.expires_at_us < now_us)
    }

    /// Adds `approvers` (distinct, already authorized) to a held request. Errors:
    /// `APPROVAL_UNKNOWN`, `APPROVAL_DIGEST_MISMATCH`, and `APPROVAL_EXPIRED` (the
    /// entry is removed and returned in the error slot's companion: see the second value).
    pub fn approve(
        &mut self,
        request_id: &[u8; 16],
        request_digest: &[u8; 32],
        approvers: &[String],
        threshold: u64,
        now_us: u64,
    ) -> Result<Approval<T>, (OversightError, Option<HeldRequest<T>>)> {
        let held = self.live(request_id, request_digest, now_us)?;
        for approver in approvers {
            if let Err(at) = held.approvals.binary_search(approver) {
                held.approvals.insert(at, approver.clone());
            }
        }
        if (held.approvals.len() as u64) < threshold.max(1) {
            return Ok(Approval::Pending { approvals: held.approvals.clone() });
        }
        match self.entries.remove(request_id) {
            Some(held) => Ok(Approval::Approved(held)),
            None => Err((unknown(request_id), None)),
        }
    }

    /// Removes a held request on a rejection (same errors as [`Self::approve`]).
    pub fn reject(
        &mut self,
        request_id: &[u8; 16],
        request_digest: &[u8; 32],
        now_us: u64,
    ) -> Result<HeldRequest<T>, (OversightError, Option<HeldRequest<T>>)> {
        self.live(request_id, request_digest, now_us)?;
        self.entries.remove(request_id).ok_or_else(|| (unknown(request_id), None))
    }

    /// Removes and returns the entries a halt of `scope` covers.
    pub fn drain_scope(&mut self, scope: &Scope) -> Vec<HeldRequest<T>> {
        self.remove_where(|held| held.in_scope(scope))
    }

    /// The held request with this id, if it has not expired and `request_digest` is its digest.
    /// An expired one is removed and returned with `APPROVAL_EXPIRED`.
    fn live(
        &mut self,
        request_id: &[u8; 16],
        request_digest: &[u8; 32],
        now_us: u64,
    ) -> Result<&mut HeldRequest<T>, (OversightError, Option<HeldRequest<T>>)> {
        let expired = match self.entries.get(request_id) {
            None => return Err((unknown(request_id), None)),
            Some(held) => held.expires_at_us < now_us,
        };
        if expired {
            let held = self.entries.remove(request_id);
            let when = held.as_ref().map_or(0, |h| h.expires_at_us);
            return Err((
                OversightError::new(
                    Code::ApprovalExpired,
                    format!(
                        "request_id: 0x{} expired at {when} µs, before its approvals were complete",
                        hex::encode(request_id)
                    ),
                ),
                held,
            ));
        }
        match self.entries.get_mut(request_id) {
            Some(held) if held.request_digest == *request_digest => Ok(held),
            Some(held) => Err((
                OversightError::new(
                    Code::ApprovalDigestMismatch,
                    format!(
                        "request_digest: 0x{} is not the digest of held request 0x{} (0x{})",
                        hex::encode(request_digest),
                        hex::encode(request_id),
                        hex::encode(held.request_digest)
                    ),
                ),
                None,
            )),
            None => Err((unknown(request_id), None)),
        }
    }

    /// Removes and returns (by request id) the entries `pred` picks.
    fn remove_where(&mut self, pred: impl Fn(&HeldRequest<T>) -> bool) -> Vec<HeldRequest<T>> {
        let ids: Vec<[u8; 16]> = self.entries.values().filter(|h| pred(h)).map(|h| h.request_id).collect();
        ids.iter().filter_map(|id| self.entries.remove(id)).collect()
    }

    /// The held requests, by request id.
    pub fn iter(&self) -> impl Iterator<Item = &HeldRequest<T>> {
        self.entries.values()
    }
}

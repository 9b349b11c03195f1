//! The approval queue: the cap, approvals accumulating to the threshold,
//! digest mismatches, expiry, rejection and halts draining a scope.
// The queue's errors carry the expired entry (see `ApprovalQueue::approve`).
#![allow(clippy::result_large_err)]
mod common;

use common::NOW;
use sentinel_oversight::{Approval, ApprovalQueue, HeldRequest, HoldReason, OversightErrorCode as Code, Scope};

const TTL: u64 = 300_000_000;

fn held(id: u8, principal: &str, key_id: Option<&str>) -> HeldRequest<&'static str> {
    HeldRequest {
        request_id: [id; 16],
        request_digest: [id; 32],
        principal: principal.into(),
        key_id: key_id.map(String::from),
        op: "sign_digest".into(),
        reason: HoldReason::Policy,
        held_at_us: NOW,
        expires_at_us: NOW + TTL,
        approvals: vec![],
        payload: "body",
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn ids<T>(entries: &[HeldRequest<T>]) -> Vec<u8> {
    entries.iter().map(|h| h.request_id[0]).collect()
}

#[track_caller]
fn code_of<T, U: std::fmt::Debug>(
    result: Result<T, (sentinel_oversight::OversightError, Option<U>)>,
) -> (Code, Option<U>) {
    match result {
        Ok(_) => panic!("expected a refusal"),
        Err((e, entry)) => (e.code, entry),
    }
}

#[test]
fn hold_is_capped() {
    let mut queue = ApprovalQueue::new(2);
    assert!(queue.is_empty());
    queue.hold(held(1, "p", None)).unwrap();
    queue.hold(held(2, "p", None)).unwrap();
    let full = queue.hold(held(3, "p", None)).unwrap_err();
    assert_eq!(full.code, Code::ApprovalQueueFull);
    assert!(full.message.contains("max_pending (2)"), "{}", full.message);
    assert_eq!(queue.len(), 2);
    // The same id twice is refused too (ids are unique).
    queue.set_capacity(3);
    assert_eq!(queue.capacity(), 3);
    assert_eq!(queue.hold(held(1, "p", None)).unwrap_err().code, Code::Malformed);
    // Expired entries leave room.
    let mut short = held(3, "p", None);
    short.expires_at_us = NOW + 10;
    queue.hold(short).unwrap();
    assert_eq!(queue.hold(held(4, "p", None)).unwrap_err().code, Code::ApprovalQueueFull);
    assert_eq!(ids(&queue.expire(NOW + 10)), Vec::<u8>::new(), "expires strictly after its expiry");
    assert_eq!(ids(&queue.expire(NOW + 11)), vec![3]);
    queue.hold(held(4, "p", None)).unwrap();
    // A smaller capacity keeps what is held but takes no more.
    queue.set_capacity(1);
    assert_eq!(queue.len(), 3);
    assert_eq!(queue.hold(held(5, "p", None)).unwrap_err().code, Code::ApprovalQueueFull);
    assert_eq!(queue.iter().map(|h| h.request_id[0]).collect::<Vec<_>>(), vec![1, 2, 4]);
}

#[test]
fn approvals_accumulate_to_the_threshold_counting_each_approver_once() {
    let mut queue = ApprovalQueue::new(8);
    queue.hold(held(1, "p", Some("k-1"))).unwrap();
    let approve =
        |queue: &mut ApprovalQueue<_>, who: &[&str]| queue.approve(&[1; 16], &[1; 32], &names(who), 2, NOW + 5);
    match approve(&mut queue, &["bob"]).unwrap() {
        Approval::Pending { approvals } => assert_eq!(approvals, names(&["bob"])),
        other => panic!("{other:?}"),
    }
    match approve(&mut queue, &["bob", "bob"]).unwrap() {
        Approval::Pending { approvals } => assert_eq!(approvals, names(&["bob"])),
        other => panic!("{other:?}"),
    }
    assert_eq!(queue.iter().next().unwrap().approvals, names(&["bob"]));
    match approve(&mut queue, &["alice"]).unwrap() {
        Approval::Approved(entry) => {
            assert_eq!(entry.approvals, names(&["alice", "bob"]), "sorted");
            assert_eq!(entry.payload, "body");
            assert_eq!(entry.key_id.as_deref(), Some("k-1"));
        }
        other => panic!("{other:?}"),
    }
    assert!(queue.is_empty());
    assert_eq!(code_of(approve(&mut queue, &["carol"])).0, Code::ApprovalUnknown);

    // Several approvers in one command count together.
    queue.hold(held(1, "p", None)).unwrap();
    assert!(matches!(queue.approve(&[1; 16], &[1; 32], &names(&["z", "a", "z"]), 2, NOW), Ok(Approval::Approved(_))));
    // A threshold of one releases on the first approval.
    queue.hold(held(2, "p", None)).unwrap();
    assert!(matches!(queue.approve(&[2; 16], &[2; 32], &names(&["a"]), 1, NOW), Ok(Approval::Approved(_))));
}

#[test]
fn digest_mismatch_leaves_the_request_held() {
    let mut queue = ApprovalQueue::new(8);
    queue.hold(held(1, "p", None)).unwrap();
    let (code, entry) = code_of(queue.approve(&[1; 16], &[9; 32], &names(&["a"]), 1, NOW));
    assert_eq!((code, entry.is_none()), (Code::ApprovalDigestMismatch, true));
    let (code, _) = code_of(queue.reject(&[1; 16], &[9; 32], NOW));
    assert_eq!(code, Code::ApprovalDigestMismatch);
    assert_eq!(queue.len(), 1);
    assert!(queue.iter().next().unwrap().approvals.is_empty(), "a refused approval is not counted");
}

#[test]
fn approval_after_expiry_returns_the_entry() {
    let mut queue = ApprovalQueue::new(8);
    queue.hold(held(1, "p", None)).unwrap();
    queue.hold(held(2, "p", None)).unwrap();
    // At the expiry instant it still counts.
    assert!(matches!(queue.approve(&[1; 16], &[1; 32], &names(&["a"]), 2, NOW + TTL), Ok(Approval::Pending { .. })));
    let (code, entry) = code_of(queue.approve(&[1; 16], &[1; 32], &names(&["b"]), 2, NOW + TTL + 1));
    assert_eq!(code, Code::ApprovalExpired);
    let entry = entry.expect("the expired entry comes back");
    assert_eq!(entry.request_id, [1; 16]);
    assert_eq!(entry.approvals, names(&["a"]));
    assert_eq!(code_of(queue.approve(&[1; 16], &[1; 32], &names(&["b"]), 2, NOW)).0, Code::ApprovalUnknown);
    // Even with a wrong digest, an expired entry is reported expired.
    let (code, entry) = code_of(queue.reject(&[2; 16], &[0; 32], NOW + TTL + 1));
    assert_eq!((code, entry.map(|e| e.request_id)), (Code::ApprovalExpired, Some([2; 16])));
    assert!(queue.is_empty());
}

#[test]
fn reject_removes_the_request() {
    let mut queue = ApprovalQueue::new(8);
    queue.hold(held(1, "p", None)).unwrap();
    queue.approve(&[1; 16], &[1; 32], &names(&["a"]), 2, NOW).unwrap();
    let entry = queue.reject(&[1; 16], &[1; 32], NOW).unwrap();
    assert_eq!(entry.request_id, [1; 16]);
    assert_eq!(entry.approvals, names(&["a"]));
    assert!(queue.is_empty());
    assert_eq!(code_of(queue.reject(&[1; 16], &[1; 32], NOW)).0, Code::ApprovalUnknown);
}

#[test]
fn halts_drain_their_scope() {
    let mut queue = ApprovalQueue::new(8);
    queue.hold(held(1, "alice", Some("k-1"))).unwrap();
    queue.hold(held(2, "alice", Some("k-2"))).unwrap();
    queue.hold(held(3, "bob", Some("k-1"))).unwrap();
    queue.hold(held(4, "bob", None)).unwrap();
    queue.hold(held(5, "carol", None)).unwrap();
    assert_eq!(ids(&queue.drain_scope(&Scope::Key("k-1".into()))), vec![1, 3]);
    assert_eq!(ids(&queue.drain_scope(&Scope::Key("k-9".into()))), Vec::<u8>::new());
    assert_eq!(ids(&queue.drain_scope(&Scope::Principal("bob".into()))), vec![4]);
    assert_eq!(queue.len(), 2);
    assert_eq!(ids(&queue.drain_scope(&Scope::Global)), vec![2, 5]);
    assert!(queue.is_empty());
}

#[test]
fn hold_reasons_and_scope_membership() {
    assert_eq!(HoldReason::Policy.as_str(), "policy_approval_required");
    assert_eq!(HoldReason::Yellow.as_str(), "yellow_state");
    let entry = held(1, "alice", None);
    assert!(entry.in_scope(&Scope::Global));
    assert!(entry.in_scope(&Scope::Principal("alice".into())));
    assert!(!entry.in_scope(&Scope::Key("alice".into())));
}

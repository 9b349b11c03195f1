//! Who may send which command: halt, heartbeat and status need one overseer;
//! resume needs `resume_threshold` distinct overseers; approve and reject
//! need approvers (approvals accumulate in the queue, so one is enough per
//! command); list needs one overseer or approver. Every signer named must be
//! in its role and every signature must verify (a single forged or foreign
//! signature refuses the whole command: nobody can pad a quorum with noise).
//! The timestamp must be within the configuration's stamp window of the
//! enclave's clock, and the command's digest must not have been accepted
//! before ([`ReplayGuard`]); it is remembered only once everything else passed.
//!
//! Order of checks (cheap first, nothing remembered unless all pass): shape
//! (`OVERSIGHT_MALFORMED`; no signature at all is `OVERSIGHT_QUORUM_NOT_MET`),
//! timestamp (`OVERSIGHT_STALE`), replay (`OVERSIGHT_REPLAY`,
//! `OVERSIGHT_REPLAY_CACHE_FULL`), every signer in its role
//! (`OVERSIGHT_NOT_PERMITTED`), every signature
//! (`OVERSIGHT_SIGNATURE_INVALID`), the quorum (`OVERSIGHT_QUORUM_NOT_MET`).

use sentinel_config::{AdminKey, Oversight, PublicKey};

use crate::command::{Action, Command};
use crate::error::{OversightError, OversightErrorCode as Code};
use crate::replay::ReplayGuard;
use crate::scope::shown;

/// Most signatures one command may carry.
pub const MAX_COMMAND_SIGNATURES: usize = 16;

/// One signer's signature over [`Command::digest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureEntry {
    /// An overseer's or approver's id (`oversight.overseers[].id` / `approvers[].id`).
    pub signer: String,
    /// 64 bytes, the configured algorithm's signature over the digest.
    pub signature: Vec<u8>,
}

/// An accepted command: its distinct valid signers, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized {
    pub signers: Vec<String>,
    pub digest: [u8; 32],
}

/// Authorizes `command` signed by `signatures` under `oversight`, at `now_us`,
/// with timestamps accepted within `window_us`; records it in `replay` on success.
pub fn authorize(
    command: &Command,
    signatures: &[SignatureEntry],
    oversight: &Oversight,
    now_us: u64,
    window_us: u64,
    replay: &mut ReplayGuard,
) -> Result<Authorized, OversightError> {
    command.validate()?;
    if signatures.is_empty() {
        return Err(OversightError::new(Code::QuorumNotMet, "signatures: none; the command must be signed"));
    }
    if signatures.len() > MAX_COMMAND_SIGNATURES {
        return Err(OversightError::new(
            Code::Malformed,
            format!("signatures: {} entries, at most {MAX_COMMAND_SIGNATURES}", signatures.len()),
        ));
    }
    check_window(command.timestamp_us, now_us, window_us)?;
    let digest = command.digest();
    replay.check(&digest, now_us)?;

    let action = command.action;
    let (overseers, approvers): (&[AdminKey], &[AdminKey]) = match action {
        Action::Halt | Action::Resume | Action::Heartbeat | Action::Status => (&oversight.overseers, &[]),
        Action::Approve | Action::Reject => (&[], &oversight.approvers),
        Action::ListApprovals => (&oversight.overseers, &oversight.approvers),
    };
    let role = match action {
        Action::Approve | Action::Reject => "an approver",
        Action::ListApprovals => "an overseer or approver",
        _ => "an overseer",
    };
    // Every signer in its role first (no cryptography for a foreign name) ...
    let mut keys: Vec<Vec<&PublicKey>> = Vec::with_capacity(signatures.len());
    for (index, entry) in signatures.iter().enumerate() {
        let candidates: Vec<&PublicKey> =
            overseers.iter().chain(approvers).filter(|k| k.id == entry.signer).map(|k| &k.public_key).collect();
        if candidates.is_empty() {
            return Err(OversightError::new(
                Code::NotPermitted,
                format!(
                    "signatures[{index}].signer: {} is not {role} in the configuration, so may not sign {}",
                    shown(&entry.signer),
                    action.as_str()
                ),
            ));
        }
        keys.push(candidates);
    }
    // ... then every signature, duplicates included.
    for (index, (entry, candidates)) in signatures.iter().zip(&keys).enumerate() {
        if !candidates.iter().any(|key| key.verify(&digest, &entry.signature)) {
            return Err(OversightError::new(
                Code::SignatureInvalid,
                format!(
                    "signatures[{index}].signature: does not verify with {}'s configured key over the command digest",
                    shown(&entry.signer)
                ),
            ));
        }
    }
    let mut signers: Vec<String> = signatures.iter().map(|e| e.signer.clone()).collect();
    signers.sort();
    signers.dedup();
    let needed = match action {
        Action::Resume => oversight.resume_threshold.max(1),
        _ => 1,
    };
    if (signers.len() as u64) < needed {
        return Err(OversightError::new(
            Code::QuorumNotMet,
            format!(
                "signatures: {} distinct overseer(s) signed this resume, resume_threshold is {needed}",
                signers.len()
            ),
        ));
    }
    replay.insert(digest, command.timestamp_us.saturating_add(window_us));
    Ok(Authorized { signers, digest })
}

/// `|timestamp_us - now_us| <= window_us`, or `OVERSIGHT_STALE`.
fn check_window(timestamp_us: u64, now_us: u64, window_us: u64) -> Result<(), OversightError> {
    let window_ms = window_us / 1000;
    if timestamp_us > now_us && timestamp_us - now_us > window_us {
        return Err(OversightError::new(
            Code::Stale,
            format!(
                "command.timestamp_us: {} ms in the future (ahead of the enclave clock by more than the {window_ms} ms window)",
                (timestamp_us - now_us) / 1000
            ),
        ));
    }
    if now_us > timestamp_us && now_us - timestamp_us > window_us {
        return Err(OversightError::new(
            Code::Stale,
            format!(
                "command.timestamp_us: {} ms in the past (behind the enclave clock by more than the {window_ms} ms window)",
                (now_us - timestamp_us) / 1000
            ),
        ));
    }
    Ok(())
}

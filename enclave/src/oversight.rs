//! Human oversight in the enclave: the kill switch, its automatic trips, and
//! the approval queue (docs/oversight.md).
//!
//! The kill switch is a `RwLock<KillSwitch>`. The signing path holds a read
//! guard from its state check until the signature is made (`decide.rs`), and
//! a halt takes the write guard: once a halt is acknowledged, no request that
//! starts afterwards can be signed, and requests already past their check
//! have finished signing. The enclave boots Red globally: it keeps no durable
//! state, so it cannot know whether it was halted before a restart, and a
//! quorum of overseers must resume it over a fresh challenge.
//!
//! Requests that need a human (a policy verdict of `approval_required`, or a
//! Yellow scope) are held here with their decoded operation and principal;
//! when approvers reach the quorum the enclave decides them again in the
//! `Approved` mode (kill switch checked, policy re-evaluated and counted with
//! the approval standing in for the human) and signs. Every outcome of a held
//! request (released, refused, rejected, expired, dropped by a halt) gets a
//! receipt with the held request's id, kept for `approval_result` until the
//! approval window has passed once more.
use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock};

use sentinel_audit::RecordKind;
use sentinel_config::{Configuration, Principal};
use sentinel_oversight::{
    authorize, Action, Approval, ApprovalQueue, Command, Effective, HeldRequest, HoldReason, KillSwitch, Level,
    OversightError, OversightErrorCode, ReplayGuard, Scope, ScopeState, SignatureEntry, Trips,
};
use sentinel_protocol::{
    ApprovalList, ApprovalPending, ApprovalResultArgs, ApprovalUpdated, EnclaveErrorCode, HeldRequestInfo, Operation,
    OversightArgs, OversightChallenge, OversightStatus, Receipted, Response, ScopeStatus,
};
use sha2::{Digest, Sha256};

use crate::decide::Decided;
use crate::enclave::{now_us, Enclave, Installed, ReceiptInput};
use crate::policy::Mode;

/// How long a resume challenge stays usable.
pub const CHALLENGE_TTL_US: u64 = 300_000_000;
/// Who automatic transitions are attributed to in status and receipts.
pub const BY_ENCLAVE: &str = "enclave";

/// What a held request needs to be finished later.
pub(crate) struct Held {
    principal: Principal,
    operation: Operation,
    body: Vec<u8>,
    /// The pending answer and its receipt, as first sent (what `approval_result` answers meanwhile).
    pending: Response,
}

/// The enclave's oversight state.
pub(crate) struct OversightState {
    pub(crate) switch: RwLock<KillSwitch>,
    trips: Mutex<Trips>,
    replay: Mutex<ReplayGuard>,
    queue: Mutex<ApprovalQueue<Held>>,
    /// Finished held requests: the final receipted answer, kept until `until_us`.
    outcomes: Mutex<BTreeMap<[u8; 16], Outcome>>,
    /// Whether any trip is configured (the signing path skips the trip lock otherwise).
    trips_enabled: std::sync::atomic::AtomicBool,
}

/// An oversight request that passed [`Enclave::accept`].
struct Accepted {
    installed: std::sync::Arc<Installed>,
    command: Command,
    signers: Vec<String>,
    now: u64,
}

struct Outcome {
    answer: Response,
    code: Option<String>,
    until_us: u64,
}

impl OversightState {
    /// Red globally since now: nothing is signed until a quorum resume.
    pub(crate) fn boot() -> OversightState {
        OversightState {
            switch: RwLock::new(KillSwitch::boot(now_us(), 0)),
            trips: Mutex::new(Trips::default()),
            replay: Mutex::new(ReplayGuard::default()),
            queue: Mutex::new(ApprovalQueue::new(sentinel_config::DEFAULT_MAX_PENDING as usize)),
            outcomes: Mutex::new(BTreeMap::new()),
            trips_enabled: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A configuration was installed: its heartbeat interval, trips and queue cap apply from now.
    pub(crate) fn reconfigure(&self, config: &Configuration) {
        let oversight = config.oversight();
        let now = now_us();
        write(&self.switch).set_heartbeat_interval(oversight.heartbeat_interval_ms, now);
        let trips = Trips::new(oversight.trip_consecutive_denials, oversight.trip_risk_score_bps);
        self.trips_enabled.store(trips.enabled(), std::sync::atomic::Ordering::Relaxed);
        *lock(&self.trips) = trips;
        lock(&self.queue).set_capacity(usize::try_from(oversight.max_pending).unwrap_or(usize::MAX));
    }

    /// Trip counts rebuilt from a resumed audit log (`src/resume.rs`), under the same thresholds.
    pub(crate) fn replace_trips(&self, trips: Trips) {
        self.trips_enabled.store(trips.enabled(), std::sync::atomic::Ordering::Relaxed);
        *lock(&self.trips) = trips;
    }

    /// The trip counts, encoded for a state snapshot (`src/snapshot.rs`).
    pub(crate) fn trips_snapshot(&self) -> Vec<u8> {
        lock(&self.trips).to_snapshot()
    }

    pub(crate) fn trips_enabled(&self) -> bool {
        self.trips_enabled.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn read(l: &RwLock<KillSwitch>) -> std::sync::RwLockReadGuard<'_, KillSwitch> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn write(l: &RwLock<KillSwitch>) -> std::sync::RwLockWriteGuard<'_, KillSwitch> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

fn oversight_refusal(e: &OversightError) -> Response {
    Response::error(e)
}

fn malformed(message: impl Into<String>) -> Response {
    Response::error(&OversightError::new(OversightErrorCode::Malformed, message))
}

/// "KILL_SWITCH_HALTED: principal:agent-7 is red (trip: 5 consecutive policy denials)".
pub(crate) fn halted_message(switch: &KillSwitch, effective: &Effective) -> String {
    let reason = switch
        .status()
        .scopes
        .into_iter()
        .chain(std::iter::once(switch.status().global))
        .find(|s| s.scope == effective.scope)
        .map(|s| s.reason)
        .unwrap_or_default();
    format!("kill switch: {} is red ({reason}); nothing is signed until a quorum resumes it", effective.scope)
}

impl Enclave {
    /// Runs the timers: trips the heartbeat and refuses expired held requests. The binary
    /// calls it every few milliseconds; requests check the heartbeat deadline themselves too.
    pub fn oversight_tick(&self) {
        let _gate = self.state_gate.read().unwrap_or_else(|p| p.into_inner());
        let now = now_us();
        let tripped = write(&self.oversight.switch).check_heartbeat(now);
        if tripped {
            self.record_oversight(RecordKind::HeartbeatTrip, BY_ENCLAVE, b"heartbeat", &Scope::Global, Level::Red);
            tracing::warn!("kill switch: heartbeat missed; halted globally");
            self.drop_held(&Scope::Global, now);
        }
        self.expire_held(now);
    }

    /// The effective kill-switch level for a request of `principal` on `key_id` (tests, metrics).
    pub fn oversight_effective(&self, key_id: Option<&str>, principal: &str) -> (String, String) {
        let e = read(&self.oversight.switch).effective(key_id, principal, now_us());
        (e.level.as_str().to_string(), e.scope.to_string())
    }

    /// `oversight`: halt, resume, heartbeat or status, signed by overseers.
    pub(crate) fn oversight_command(&self, args: &OversightArgs) -> Response {
        const ACTIONS: &[Action] = &[Action::Halt, Action::Resume, Action::Heartbeat, Action::Status];
        let Accepted { installed, command, signers, now } = match self.accept(args, "oversight", ACTIONS) {
            Ok(accepted) => accepted,
            Err(response) => return response,
        };
        match command.action {
            Action::Halt => {
                let (scope, level) = (command.scope.clone().expect("validated"), command.level.expect("validated"));
                let reason = command.reason.clone().unwrap_or_else(|| "halted by an overseer".into());
                let (level, heartbeat_tripped) = {
                    let mut switch = write(&self.oversight.switch);
                    // A missed heartbeat is recorded first, so the halt cannot loosen it.
                    let tripped = switch.check_heartbeat(now);
                    // A halt never loosens: halting a Red scope Yellow leaves it Red.
                    let level = level.max(switch.level_of(&scope));
                    switch.set(scope.clone(), level, reason.clone(), signers.clone(), now);
                    (level, tripped)
                };
                // The write guard is released: the halt is acknowledged from here on.
                self.record_oversight(RecordKind::Halt, &signers.join(","), &args.command, &scope, level);
                tracing::warn!(scope = %scope, level = %level, by = ?signers, reason = %reason, "kill switch: halt");
                if heartbeat_tripped {
                    self.record_oversight(
                        RecordKind::HeartbeatTrip,
                        BY_ENCLAVE,
                        b"heartbeat",
                        &Scope::Global,
                        Level::Red,
                    );
                    self.drop_held(&Scope::Global, now);
                }
                if level == Level::Red {
                    self.drop_held(&scope, now);
                }
            }
            Action::Resume => {
                let (scope, level) = (command.scope.clone().expect("validated"), command.level.expect("validated"));
                {
                    let mut switch = write(&self.oversight.switch);
                    if let Err(e) = switch.take_challenge(&command.challenge.expect("validated"), now) {
                        return oversight_refusal(&e);
                    }
                    switch.set(scope.clone(), level, "resumed by a quorum of overseers".into(), signers.clone(), now);
                }
                if let Scope::Principal(id) = &scope {
                    lock(&self.oversight.trips).reset(id);
                }
                self.record_oversight(RecordKind::Resume, &signers.join(","), &args.command, &scope, level);
                tracing::warn!(scope = %scope, level = %level, by = ?signers, "kill switch: resume");
            }
            Action::Heartbeat => {
                // A heartbeat after the deadline is too late: the trip stands (and is recorded now).
                let tripped = {
                    let mut switch = write(&self.oversight.switch);
                    let tripped = switch.check_heartbeat(now);
                    switch.heartbeat(now);
                    tripped
                };
                if tripped {
                    self.record_oversight(
                        RecordKind::HeartbeatTrip,
                        BY_ENCLAVE,
                        b"heartbeat",
                        &Scope::Global,
                        Level::Red,
                    );
                    tracing::warn!("kill switch: heartbeat missed; halted globally");
                    self.drop_held(&Scope::Global, now);
                }
            }
            _ => {}
        }
        Response::OversightStatus(Box::new(self.status(&installed, signers)))
    }

    /// `oversight_challenge`: a fresh one-use challenge for the next resume.
    pub(crate) fn oversight_challenge(&self) -> Response {
        if self.installed().is_none() {
            return crate::enclave::not_configured();
        }
        let challenge = crate::random_bytes::<32>();
        let expires_at_us = now_us().saturating_add(CHALLENGE_TTL_US);
        write(&self.oversight.switch).new_challenge(challenge, expires_at_us);
        Response::OversightChallenge(OversightChallenge { challenge: challenge.to_vec(), expires_at_us })
    }

    /// `approval`: an approve or reject command for a held request, signed by approvers.
    pub(crate) fn approval_command(&self, args: &OversightArgs) -> Response {
        let Accepted { installed, command, signers, now } =
            match self.accept(args, "approval", &[Action::Approve, Action::Reject]) {
                Ok(accepted) => accepted,
                Err(response) => return response,
            };
        self.expire_held(now);
        let (request_id, digest) = (command.request_id.expect("validated"), command.request_digest.expect("validated"));
        let oversight = installed.config.oversight();
        let threshold = oversight.approval_threshold;
        let result = if command.action == Action::Approve {
            lock(&self.oversight.queue).approve(&request_id, &digest, &signers, threshold, now).map(|a| match a {
                Approval::Pending { approvals } => (None, approvals),
                Approval::Approved(held) => {
                    let approvals = held.approvals.clone();
                    (Some((held, true)), approvals)
                }
            })
        } else {
            lock(&self.oversight.queue).reject(&request_id, &digest, now).map(|held| {
                let approvals = held.approvals.clone();
                (Some((held, false)), approvals)
            })
        };
        let (finished, approvals) = match result {
            Ok(v) => v,
            Err((e, expired)) => {
                if let Some(held) = expired {
                    self.refuse_held(&installed, held, Some(&e), now);
                }
                return self.known_outcome(&request_id).unwrap_or_else(|| oversight_refusal(&e));
            }
        };
        let updated = |state: &str, code: Option<String>| {
            Response::ApprovalUpdated(ApprovalUpdated {
                request_id: request_id.to_vec(),
                state: state.into(),
                code,
                approvals: approvals.clone(),
                approvals_needed: threshold,
            })
        };
        match finished {
            None => updated("pending", None),
            Some((held, true)) => {
                let code = self.release_held(&installed, held, now);
                match code {
                    None => updated("released", None),
                    Some(code) => updated("refused", Some(code)),
                }
            }
            Some((held, false)) => {
                let e = OversightError::new(
                    OversightErrorCode::ApprovalRejected,
                    format!("approval: rejected by {}", signers.join(", ")),
                );
                self.refuse_held(&installed, held, Some(&e), now);
                updated("rejected", Some(OversightErrorCode::ApprovalRejected.as_str().into()))
            }
        }
    }

    /// An approve or reject for a request that already finished: its outcome's code.
    fn known_outcome(&self, request_id: &[u8; 16]) -> Option<Response> {
        let outcomes = lock(&self.oversight.outcomes);
        let outcome = outcomes.get(request_id)?;
        let code = outcome.code.clone().unwrap_or_else(|| "released".into());
        let error_code = match code.as_str() {
            "APPROVAL_EXPIRED" => OversightErrorCode::ApprovalExpired,
            "APPROVAL_REJECTED" => OversightErrorCode::ApprovalRejected,
            _ => OversightErrorCode::ApprovalUnknown,
        };
        Some(oversight_refusal(&OversightError::new(
            error_code,
            format!("request_id: 0x{} is no longer held (outcome: {code})", hex::encode(request_id)),
        )))
    }

    /// `list_approvals`: the held requests, for overseers and approvers.
    pub(crate) fn list_approvals(&self, args: &OversightArgs) -> Response {
        let Accepted { installed, now, .. } = match self.accept(args, "list_approvals", &[Action::ListApprovals]) {
            Ok(accepted) => accepted,
            Err(response) => return response,
        };
        self.expire_held(now);
        let needed = installed.config.oversight().approval_threshold;
        let entries = lock(&self.oversight.queue)
            .iter()
            .map(|h| HeldRequestInfo {
                request_id: h.request_id.to_vec(),
                request_digest: h.request_digest.to_vec(),
                principal: h.principal.clone(),
                key_id: h.key_id.clone(),
                op: h.op.clone(),
                reason: h.reason.as_str().into(),
                body: h.payload.body.clone(),
                held_at_us: h.held_at_us,
                expires_at_us: h.expires_at_us,
                approvals: h.approvals.clone(),
                approvals_needed: needed,
            })
            .collect();
        Response::ApprovalList(ApprovalList { entries })
    }

    /// `approval_result`: the final answer of a held request, or its pending answer.
    pub(crate) fn approval_result(&self, args: &ApprovalResultArgs) -> Response {
        let Ok(request_id) = <[u8; 16]>::try_from(args.request_id.as_slice()) else {
            return malformed(format!("request_id: 16 bytes, found {}", args.request_id.len()));
        };
        self.expire_held(now_us());
        if let Some(held) = lock(&self.oversight.queue).iter().find(|h| h.request_id == request_id) {
            return held.payload.pending.clone();
        }
        if let Some(outcome) = lock(&self.oversight.outcomes).get(&request_id) {
            return outcome.answer.clone();
        }
        oversight_refusal(&OversightError::new(
            OversightErrorCode::ApprovalUnknown,
            format!("request_id: no held or recently finished request 0x{}", hex::encode(request_id)),
        ))
    }

    /// The checks every oversight request passes first: a configuration is installed, the
    /// command decodes, its action belongs to the request it came as (`op`), and its
    /// signatures authorize it (roles, quorum, window, replay).
    fn accept(&self, args: &OversightArgs, op: &str, actions: &[Action]) -> Result<Accepted, Response> {
        let Some(installed) = self.installed() else { return Err(crate::enclave::not_configured()) };
        let now = now_us();
        let command = Command::from_cbor(&args.command).map_err(|e| oversight_refusal(&e))?;
        if !actions.contains(&command.action) {
            let expected: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
            return Err(malformed(format!(
                "command.action: `{}` is not sent as `{op}` (it takes {})",
                command.action.as_str(),
                expected.join(", ")
            )));
        }
        let signers = self.authorize(&installed, &command, &args.signatures, now)?;
        Ok(Accepted { installed, command, signers, now })
    }

    /// Verifies signers, roles, quorum, window and replay; the accepted signers.
    fn authorize(
        &self,
        installed: &Installed,
        command: &Command,
        signatures: &[sentinel_protocol::OversightSignature],
        now: u64,
    ) -> Result<Vec<String>, Response> {
        if signatures.len() > sentinel_oversight::MAX_COMMAND_SIGNATURES {
            return Err(malformed(format!(
                "signatures: at most {} entries, found {}",
                sentinel_oversight::MAX_COMMAND_SIGNATURES,
                signatures.len()
            )));
        }
        let entries: Vec<SignatureEntry> = signatures
            .iter()
            .map(|s| SignatureEntry { signer: s.signer.clone(), signature: s.signature.clone() })
            .collect();
        let window_us = installed.config.stamp_window_ms.saturating_mul(1000);
        let oversight = installed.config.oversight();
        let mut replay = lock(&self.oversight.replay);
        authorize(command, &entries, &oversight, now, window_us, &mut replay)
            .map(|a| a.signers)
            .map_err(|e| oversight_refusal(&e))
    }

    fn status(&self, installed: &Installed, signers: Vec<String>) -> OversightStatus {
        let status = read(&self.oversight.switch).status();
        let to_wire = |s: ScopeState| ScopeStatus {
            scope: s.scope.to_string(),
            level: s.level.as_str().into(),
            reason: s.reason,
            since_us: s.since_us,
            by: s.by,
        };
        let queue = lock(&self.oversight.queue);
        OversightStatus {
            global: to_wire(status.global),
            scopes: status.scopes.into_iter().map(to_wire).collect(),
            heartbeat_interval_ms: installed.config.oversight().heartbeat_interval_ms,
            heartbeat_deadline_us: status.heartbeat_deadline_us,
            pending_approvals: queue.len() as u64,
            max_pending: queue.capacity() as u64,
            signers,
        }
    }

    /// Holds a decided request for approval; the pending answer with its receipt, or a refusal
    /// (`APPROVAL_QUEUE_FULL`) with its receipt.
    pub(crate) fn hold(
        &self,
        installed: &Installed,
        input: &ReceiptInput<'_>,
        decided: Decided,
        reason: HoldReason,
        (principal, operation): (&Principal, Operation),
    ) -> Response {
        let oversight = installed.config.oversight();
        let now = input.now;
        self.expire_held(now);
        let expires_at_us = now.saturating_add(oversight.approval_ttl_s.saturating_mul(1_000_000));
        let request_digest: [u8; 32] = Sha256::digest(input.body).into();
        let pending_answer = Response::ApprovalPending(ApprovalPending {
            request_id: input.request_id.to_vec(),
            request_digest: request_digest.to_vec(),
            reason: reason.as_str().into(),
            expires_at_us,
            approvals: Vec::new(),
            approvals_needed: oversight.approval_threshold,
        });
        let mut queue = lock(&self.oversight.queue);
        if queue.len() >= queue.capacity() {
            drop(queue);
            let e = OversightError::new(
                OversightErrorCode::ApprovalQueueFull,
                format!(
                    "approval queue: {} requests already held (max_pending); this one needs approval ({})",
                    oversight.max_pending,
                    reason.as_str()
                ),
            );
            let refused = Decided { response: Response::error(&e), result_hash: None, ..decided };
            return self.receipted(installed, input, refused);
        }
        let pending = Decided {
            response: Response::error(&sentinel_protocol::EnclaveError::new(
                EnclaveErrorCode::ApprovalPending,
                "held for approval",
            )),
            result_hash: None,
            ..decided
        };
        let (receipt, audit) = self.record_and_receipt(installed, input, &pending);
        let answer = Response::Receipted(Receipted { answer: Box::new(pending_answer), receipt, audit, sealed: None });
        let held = HeldRequest {
            request_id: input.request_id,
            request_digest,
            principal: principal.id.clone(),
            key_id: pending.key_id.clone(),
            op: input.op.clone(),
            reason,
            held_at_us: now,
            expires_at_us,
            approvals: Vec::new(),
            payload: Held {
                principal: principal.clone(),
                operation,
                body: input.body.to_vec(),
                pending: answer.clone(),
            },
        };
        if let Err(e) = queue.hold(held) {
            drop(queue);
            let refused = Decided { response: Response::error(&e), ..pending };
            return self.receipted(installed, input, refused);
        }
        tracing::info!(request_id = %hex::encode(input.request_id), reason = reason.as_str(), "held for approval");
        answer
    }

    /// Decides a held request again with its approvals and stores the outcome; the refusal code, if any.
    fn release_held(&self, installed: &Installed, held: HeldRequest<Held>, now: u64) -> Option<String> {
        let input = ReceiptInput {
            request_id: held.request_id,
            principal: held.principal.clone(),
            op: held.op.clone(),
            body: &held.payload.body,
            now,
            stamp: None,
        };
        let mut decided = self.decide_in(&held.payload.principal, held.payload.operation.clone(), Mode::Approved);
        decided.approvals = held.approvals.clone();
        let code = match &decided.response {
            Response::Error(e) => Some(e.code.clone()),
            _ => None,
        };
        let answer = self.receipted(installed, &input, decided);
        self.store_outcome(held.request_id, answer, code.clone(), installed, now);
        tracing::info!(request_id = %hex::encode(held.request_id), approvals = ?held.approvals, code = ?code, "held request released");
        code
    }

    /// Refuses a held request (rejected, expired, dropped by a halt) with a receipt.
    fn refuse_held(&self, installed: &Installed, held: HeldRequest<Held>, error: Option<&OversightError>, now: u64) {
        let input = ReceiptInput {
            request_id: held.request_id,
            principal: held.principal.clone(),
            op: held.op.clone(),
            body: &held.payload.body,
            now,
            stamp: None,
        };
        let response = match error {
            Some(e) => Response::error(e),
            None => Response::error(&sentinel_protocol::EnclaveError::new(
                EnclaveErrorCode::KillSwitchHalted,
                "kill switch: a halt dropped this held request",
            )),
        };
        let mut decided = Decided::answer(response);
        decided.key_id = held.key_id.clone();
        decided.approvals = held.approvals.clone();
        let code = match &decided.response {
            Response::Error(e) => Some(e.code.clone()),
            _ => None,
        };
        let answer = self.receipted(installed, &input, decided);
        self.store_outcome(held.request_id, answer, code, installed, now);
    }

    fn store_outcome(
        &self,
        request_id: [u8; 16],
        answer: Response,
        code: Option<String>,
        installed: &Installed,
        now: u64,
    ) {
        let oversight = installed.config.oversight();
        let until_us = now.saturating_add(oversight.approval_ttl_s.saturating_mul(1_000_000));
        let cap = usize::try_from(oversight.max_pending).unwrap_or(usize::MAX).saturating_mul(4).max(64);
        let mut outcomes = lock(&self.oversight.outcomes);
        outcomes.retain(|_, o| o.until_us >= now);
        while outcomes.len() >= cap {
            // The one that will be forgotten first anyway.
            let Some(oldest) = outcomes.iter().min_by_key(|(_, o)| o.until_us).map(|(k, _)| *k) else { break };
            outcomes.remove(&oldest);
        }
        outcomes.insert(request_id, Outcome { answer, code, until_us });
    }

    /// Refuses every held request whose approvals ran out.
    fn expire_held(&self, now: u64) {
        let expired = lock(&self.oversight.queue).expire(now);
        if expired.is_empty() {
            return;
        }
        let Some(installed) = self.installed() else { return };
        for held in expired {
            let e = OversightError::new(
                OversightErrorCode::ApprovalExpired,
                format!(
                    "approval: expired at {} µs with {} of {} approvals",
                    held.expires_at_us,
                    held.approvals.len(),
                    installed.config.oversight().approval_threshold
                ),
            );
            self.refuse_held(&installed, held, Some(&e), now);
        }
    }

    /// A Red halt of `scope` refuses the held requests it covers.
    fn drop_held(&self, scope: &Scope, now: u64) {
        let dropped = lock(&self.oversight.queue).drain_scope(scope);
        if dropped.is_empty() {
            return;
        }
        let Some(installed) = self.installed() else { return };
        for held in dropped {
            self.refuse_held(&installed, held, None, now);
        }
    }

    /// Records a kill-switch change: `request` is what caused it (the signed command, or the
    /// trip's reason), the result digest is SHA-256 of `"<scope>=<level>"`, the state now in force.
    fn record_oversight(&self, kind: RecordKind, by: &str, request: &[u8], scope: &Scope, level: Level) {
        let state: [u8; 32] = Sha256::digest(format!("{scope}={level}").as_bytes()).into();
        self.record_admin(kind, by, request, state, vec![crate::audit::level_effect(scope, level)]);
    }

    /// Records a policy decision for the automatic trips and applies a trip (Red, by `enclave`).
    pub(crate) fn record_for_trips(&self, principal: &str, policy_denied: bool, risk_score_bps: Option<u32>) {
        let trip = lock(&self.oversight.trips).record(principal, policy_denied, risk_score_bps);
        if let Some(trip) = trip {
            let now = now_us();
            {
                let mut switch = write(&self.oversight.switch);
                switch.set(trip.scope.clone(), Level::Red, trip.reason.clone(), vec![BY_ENCLAVE.into()], now);
            }
            self.record_oversight(RecordKind::Halt, BY_ENCLAVE, trip.reason.as_bytes(), &trip.scope, Level::Red);
            tracing::warn!(scope = %trip.scope, reason = %trip.reason, "kill switch: automatic trip");
            self.drop_held(&trip.scope, now);
        }
    }
}

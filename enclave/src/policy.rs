//! The policy stage of the one decision point, and the policy's lifecycle.
//!
//! The enclave holds at most one active policy (`sentinel_policy::Engine`:
//! the verified policy, its loaded models, its counters and the latest signed
//! price table) behind one mutex. A signing request is evaluated and, when
//! allowed, counted in one critical section, so concurrent requests can never
//! jointly exceed a cap or a rate; signing happens after the lock is released.
//! A policy arrives signed by the configuration's admin quorum (`update_policy`
//! or `--policy` at boot) with a strictly higher version; its hash goes into
//! `user_data` (a new boot attestation document) and into every receipt.
//! Without a policy nothing is signed (`POLICY_NOT_INSTALLED`): default deny
//! starts before the first rule.
//!
//! What the enclave decodes is what the policy reads: transactions are decoded
//! from the exact bytes that will be signed, typed data from the exact JSON
//! that will be hashed, and the key's label and the principal come from the
//! enclave's own key store and the authenticated stamp or session.
use std::sync::Arc;

use sentinel_policy::{
    ActivePolicy, Caller, Engine, Evaluation, OpKind, PolicyRequest, RuleRecord, SignedPolicy, SignedPrices, Verdict,
};
use sentinel_protocol::{EnclaveError, EnclaveErrorCode, Response, RuleEvaluated};

/// The policy part of `Installed`: what evidence and receipts say about it.
#[derive(Clone, Debug)]
pub(crate) struct PolicyInfo {
    pub(crate) signed: Vec<u8>,
    pub(crate) hash: [u8; 32],
    pub(crate) version: u64,
}

/// The result of the policy stage for one request.
pub(crate) struct PolicyStage {
    /// `None`: allowed; `Some`: the refusal.
    pub(crate) refusal: Option<EnclaveError>,
    pub(crate) verdict: &'static str,
    pub(crate) rules: Vec<RuleEvaluated>,
    /// The highest risk score a model gave, in basis points (automatic trips read it).
    pub(crate) risk_score_bps: Option<u32>,
    /// The counter changes the stage committed (none in a dry run).
    pub(crate) effects: Vec<sentinel_policy::Effect>,
}

impl PolicyStage {
    fn refused(code: EnclaveErrorCode, message: impl Into<String>) -> PolicyStage {
        PolicyStage {
            refusal: Some(EnclaveError::new(code, message)),
            verdict: "denied",
            rules: Vec::new(),
            risk_score_bps: None,
            effects: Vec::new(),
        }
    }

    /// Whether the policy refused the request (denied, no match, evaluation error): what the
    /// consecutive-denials trip counts. Approval verdicts and a missing policy do not count.
    pub(crate) fn policy_denied(&self) -> bool {
        self.refusal.as_ref().is_some_and(|e| {
            matches!(
                e.code,
                EnclaveErrorCode::PolicyDenied | EnclaveErrorCode::PolicyNoMatch | EnclaveErrorCode::PolicyError
            )
        })
    }
}

/// Whether the policy stage counts the request (a real decision), only reports (a dry run),
/// or decides a held request whose approvals are complete (`approval_required` then counts
/// as allowed: the approvers are the humans the verdict asked for; a deny still denies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Decide,
    DryRun,
    Approved,
}

/// The decoded request the policy reads, from the operation's own arguments
/// (a decoding failure is the refusal the signer would have given).
pub(crate) fn policy_request(
    operation: &sentinel_protocol::Operation,
    caller: Caller<'_>,
) -> Result<PolicyRequest, Response> {
    use sentinel_protocol::Operation as Op;
    match operation {
        Op::SignEthereumTransaction(args) => {
            let tx = sentinel_eth::decode_transaction(&args.unsigned_tx).map_err(|e| Response::error(&e))?;
            PolicyRequest::from_transaction(caller, &tx).map_err(|e| Response::error(&e))
        }
        Op::SignTypedData(args) => {
            PolicyRequest::from_typed_data(caller, &args.typed_data).map_err(|e| Response::error(&e))
        }
        Op::SignPersonalMessage(_) => Ok(PolicyRequest::personal_message(caller)),
        Op::SignDigest(_) => Ok(PolicyRequest::bare(OpKind::Digest, caller)),
        Op::SignEd25519(_) => Ok(PolicyRequest::bare(OpKind::Ed25519Message, caller)),
        Op::GenerateKey(_) | Op::ImportKey(_) | Op::ListKeys(_) | Op::DeleteKey(_) => {
            Err(Response::error(&EnclaveError::new(EnclaveErrorCode::Internal, "policy: not a signing operation")))
        }
    }
}

/// Runs the policy stage: evaluate (and, in `Mode::Decide`, count) under the engine lock.
pub(crate) fn evaluate(
    engine: &std::sync::Mutex<Option<Engine>>,
    request: &PolicyRequest,
    now_us: u64,
    mode: Mode,
) -> PolicyStage {
    let mut evaluation = Evaluation::default();
    let records = {
        let mut guard = engine.lock().unwrap_or_else(|p| p.into_inner());
        let Some(engine) = guard.as_mut() else {
            return PolicyStage::refused(
                EnclaveErrorCode::PolicyNotInstalled,
                "policy: no policy is installed; nothing is signed until one is (`update_policy`)",
            );
        };
        match mode {
            Mode::Decide => engine.decide(request, now_us, &mut evaluation),
            Mode::DryRun | Mode::Approved => {
                sentinel_policy::evaluate(
                    &engine.active,
                    request,
                    &engine.state,
                    engine.prices.as_ref(),
                    now_us,
                    &mut evaluation,
                );
                if mode == Mode::Approved {
                    if evaluation.verdict == Verdict::ApprovalRequired {
                        evaluation.verdict = Verdict::Allow;
                        evaluation.code = None;
                    }
                    sentinel_policy::commit(&engine.active, request, &mut engine.state, &mut evaluation, now_us);
                }
            }
        }
        engine.active.records(&evaluation)
    };
    let rules: Vec<RuleEvaluated> = records.into_iter().map(to_wire).collect();
    let refusal = match evaluation.verdict {
        Verdict::Allow => None,
        Verdict::Deny | Verdict::ApprovalRequired => {
            let code = match evaluation.code {
                Some(sentinel_policy::verdict_codes::NO_MATCH) => EnclaveErrorCode::PolicyNoMatch,
                Some(sentinel_policy::verdict_codes::ERROR) => EnclaveErrorCode::PolicyError,
                Some(sentinel_policy::verdict_codes::APPROVAL_REQUIRED) => EnclaveErrorCode::PolicyApprovalRequired,
                _ => EnclaveErrorCode::PolicyDenied,
            };
            Some(EnclaveError::new(code, refusal_message(code, &rules)))
        }
    };
    PolicyStage {
        refusal,
        verdict: evaluation.verdict.as_str(),
        rules,
        risk_score_bps: evaluation.score_bps.map(u32::from),
        effects: std::mem::take(&mut evaluation.effects),
    }
}

/// "policy: denied by rule `usdc-cap` (notional_limit: value 1000001, limit 1000000, window 1d)".
fn refusal_message(code: EnclaveErrorCode, rules: &[RuleEvaluated]) -> String {
    if code == EnclaveErrorCode::PolicyNoMatch {
        return "policy: no rule in scope applies to this request (default deny)".into();
    }
    let wanted = match code {
        EnclaveErrorCode::PolicyError => "error",
        EnclaveErrorCode::PolicyApprovalRequired => "approval_required",
        _ => "deny",
    };
    let named: Vec<String> = rules
        .iter()
        .filter(|r| r.result == wanted)
        .map(|r| {
            let mut parts = Vec::new();
            if let Some(v) = &r.value {
                parts.push(format!("value {v}"));
            }
            if let Some(l) = &r.limit {
                parts.push(format!("limit {l}"));
            }
            if let Some(w) = &r.window {
                parts.push(format!("window {w}"));
            }
            if let Some(d) = &r.detail {
                parts.push(d.clone());
            }
            format!("`{}` ({}: {})", r.rule, r.rule_type, parts.join(", "))
        })
        .collect();
    let verb = match code {
        EnclaveErrorCode::PolicyError => "could not evaluate",
        EnclaveErrorCode::PolicyApprovalRequired => "needs human approval by",
        _ => "denied by",
    };
    format!("policy: {verb} rule {}", named.join("; "))
}

fn to_wire(r: RuleRecord) -> RuleEvaluated {
    let cap = |t: String| bounded(t, sentinel_evidence::MAX_RULE_TEXT_LEN);
    RuleEvaluated {
        rule: cap(r.rule),
        rule_type: cap(r.rule_type),
        result: cap(r.result),
        value: r.value.map(cap),
        limit: r.limit.map(cap),
        window: r.window.map(cap),
        detail: r.detail.map(cap),
    }
}

/// Receipt verifiers refuse longer texts; a long detail is cut (with `…`) rather than
/// making a receipt nobody can verify. Ids, types and numbers are far below the cap.
fn bounded(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
}

/// Verifies a signed policy against the configuration's admins and the active version, and loads its models.
pub(crate) fn verify_policy(
    signed_bytes: &[u8],
    models: &[Vec<u8>],
    admins: &sentinel_config::Admins,
    active_version: Option<u64>,
) -> Result<(Arc<ActivePolicy>, PolicyInfo), Response> {
    let signed = SignedPolicy::from_json(signed_bytes).map_err(|e| Response::error(&e))?;
    signed.verify(admins, active_version).map_err(|e| Response::error(&e))?;
    let info =
        PolicyInfo { signed: signed_bytes.to_vec(), hash: signed.parsed.hash, version: signed.parsed.policy.version };
    let active = ActivePolicy::new(signed.parsed, models).map_err(|e| Response::error(&e))?;
    Ok((Arc::new(active), info))
}

/// Verifies a signed price table against the active policy's feed key; it must be newer than the one in force.
pub(crate) fn install_prices(engine: &std::sync::Mutex<Option<Engine>>, bytes: &[u8]) -> Response {
    let signed = match SignedPrices::from_json(bytes) {
        Ok(s) => s,
        Err(e) => return Response::error(&e),
    };
    let mut guard = engine.lock().unwrap_or_else(|p| p.into_inner());
    let Some(engine) = guard.as_mut() else {
        return Response::error(&EnclaveError::new(
            EnclaveErrorCode::PolicyNotInstalled,
            "policy: no policy is installed, so no price feed key is known",
        ));
    };
    let table = match signed.verified_for(&engine.active.parsed.policy) {
        Ok(table) => table,
        Err(e) => return Response::error(&e),
    };
    if let Some(current) = &engine.prices {
        if table.timestamp_s <= current.timestamp_s {
            return Response::error(&sentinel_policy::PolicyError::new(
                sentinel_policy::PolicyErrorCode::PricesRollback,
                format!(
                    "table.timestamp_s: {} is not after the table in force ({})",
                    table.timestamp_s, current.timestamp_s
                ),
            ));
        }
    }
    let answer =
        sentinel_protocol::PricesUpdated { timestamp_s: table.timestamp_s, entries: table.entries.len() as u64 };
    engine.prices = Some(table);
    Response::PricesUpdated(answer)
}

//! Generates `bindings/node/protocol.d.ts`, the TypeScript view of this crate's
//! messages, codes and limits, and fails when the committed file is stale.
//!
//! Run `UPDATE_GENERATED=1 cargo test -p sentinel-protocol typescript` after
//! changing a message; the host's `tsc` then type-checks every call site.
use std::fmt::Write;

use ts_rs::{Config, TS};

use crate::*;

const GENERATED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bindings/node/protocol.d.ts");

fn render() -> String {
    let cfg = Config::new();
    let mut out = String::new();
    out.push_str(
        "/* Generated from crates/protocol by `UPDATE_GENERATED=1 cargo test -p sentinel-protocol typescript`.\n   \
         Do not edit: a test fails when this file and the Rust definitions differ. */\n\n",
    );
    let decls = [
        Curve::decl(&cfg),
        KeyPurpose::decl(&cfg),
        Stamp::decl(&cfg),
        PingArgs::decl(&cfg),
        DescribeArgs::decl(&cfg),
        AttestArgs::decl(&cfg),
        EvidenceArgs::decl(&cfg),
        UpdateConfigArgs::decl(&cfg),
        PolicyModel::decl(&cfg),
        UpdatePolicyArgs::decl(&cfg),
        UpdatePricesArgs::decl(&cfg),
        StampedArgs::decl(&cfg),
        SessionOpenArgs::decl(&cfg),
        SessionFrameArgs::decl(&cfg),
        SessionCloseArgs::decl(&cfg),
        OversightSignature::decl(&cfg),
        OversightArgs::decl(&cfg),
        OversightChallengeArgs::decl(&cfg),
        ApprovalResultArgs::decl(&cfg),
        AuditReadArgs::decl(&cfg),
        AuditWaitArgs::decl(&cfg),
        AuditAckArgs::decl(&cfg),
        AuditCheckpointArgs::decl(&cfg),
        AuditResumeBeginArgs::decl(&cfg),
        AuditResumeRecordsArgs::decl(&cfg),
        AuditResumeSnapshotArgs::decl(&cfg),
        AuditResumeFinishArgs::decl(&cfg),
        AuditStartArgs::decl(&cfg),
        SealedLoadArgs::decl(&cfg),
        SealedStateArgs::decl(&cfg),
        SealedSnapshotArgs::decl(&cfg),
        ForwardSendArgs::decl(&cfg),
        ForwardAcceptArgs::decl(&cfg),
        SealingUnlockArgs::decl(&cfg),
        AdminDeleteKeyArgs::decl(&cfg),
        Request::decl(&cfg),
        GenerateKeyArgs::decl(&cfg),
        ImportKeyArgs::decl(&cfg),
        ListKeysArgs::decl(&cfg),
        DeleteKeyArgs::decl(&cfg),
        SignDigestArgs::decl(&cfg),
        SignEthereumTransactionArgs::decl(&cfg),
        SignPersonalMessageArgs::decl(&cfg),
        SignTypedDataArgs::decl(&cfg),
        SignEd25519Args::decl(&cfg),
        Operation::decl(&cfg),
        SessionRequest::decl(&cfg),
        SessionAnswer::decl(&cfg),
        Pong::decl(&cfg),
        Description::decl(&cfg),
        Attestation::decl(&cfg),
        Evidence::decl(&cfg),
        ConfigUpdated::decl(&cfg),
        PolicyUpdated::decl(&cfg),
        PricesUpdated::decl(&cfg),
        RuleEvaluated::decl(&cfg),
        PolicyEvaluation::decl(&cfg),
        Receipted::decl(&cfg),
        AuditEntry::decl(&cfg),
        AuditRecords::decl(&cfg),
        AuditAcked::decl(&cfg),
        AuditResumeProgress::decl(&cfg),
        AuditResumed::decl(&cfg),
        SealedRecord::decl(&cfg),
        SealedLoaded::decl(&cfg),
        SealedRefusal::decl(&cfg),
        SealedStateAnswer::decl(&cfg),
        SealedSnapshotAnswer::decl(&cfg),
        ForwardSent::decl(&cfg),
        ForwardAccepted::decl(&cfg),
        SealingUnlocked::decl(&cfg),
        SessionOpened::decl(&cfg),
        SessionFrameAnswer::decl(&cfg),
        SessionClosed::decl(&cfg),
        Authenticated::decl(&cfg),
        KeyInfo::decl(&cfg),
        KeyList::decl(&cfg),
        KeyDeleted::decl(&cfg),
        KeyGenerated::decl(&cfg),
        Signature::decl(&cfg),
        SignedTransaction::decl(&cfg),
        ScopeStatus::decl(&cfg),
        OversightStatus::decl(&cfg),
        OversightChallenge::decl(&cfg),
        ApprovalPending::decl(&cfg),
        ApprovalUpdated::decl(&cfg),
        HeldRequestInfo::decl(&cfg),
        ApprovalList::decl(&cfg),
        ErrorAnswer::decl(&cfg),
        Response::decl(&cfg),
    ];
    for decl in decls {
        writeln!(out, "export {decl}\n").unwrap();
    }

    out.push_str("/** The frame operation names (`op`). */\nexport type FrameOp = Request['op'];\n\n");
    out.push_str("/** The body operation names (`op` of a stamped or session body). */\nexport type OperationName = Operation['op'];\n\n");
    out.push_str(
        "/** The answer type each body operation gets when it succeeds. */\nexport type OperationAnswerTypes = {\n",
    );
    for (op, answer) in Operation::ANSWERS {
        writeln!(out, "  {op}: '{answer}';").unwrap();
    }
    out.push_str("};\n\n");
    out.push_str("/** The successful answer to body operation `O`. */\nexport type OperationAnswerOf<O extends OperationName> = Extract<Response, { type: OperationAnswerTypes[O] }>;\n\n");
    out.push_str("/** The answer type each operation gets when it succeeds. */\nexport type AnswerTypes = {\n");
    for (op, answer) in Request::ANSWERS {
        writeln!(out, "  {op}: '{answer}';").unwrap();
    }
    out.push_str("};\n\n");
    out.push_str("/** The request of operation `O`. */\nexport type RequestOf<O extends FrameOp> = Extract<Request, { op: O }>;\n\n");
    out.push_str(
        "/** The successful answer to operation `O`. */\nexport type AnswerOf<O extends FrameOp> = Extract<Response, { type: AnswerTypes[O] }>;\n\n",
    );

    let union = |codes: Vec<&str>| codes.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(" | ");
    writeln!(
        out,
        "/** Codes the enclave program answers with (docs/protocol.md). */\nexport type EnclaveErrorCode = {};\n",
        union(EnclaveErrorCode::ALL.iter().map(|c| c.as_str()).collect())
    )
    .unwrap();
    writeln!(
        out,
        "/** Codes of frames the enclave could not decode (docs/protocol.md). */\nexport type ProtocolErrorCode = {};",
        union(ProtocolErrorCode::ALL.iter().map(|c| c.as_str()).collect())
    )
    .unwrap();
    out
}

#[test]
fn typescript_bindings_are_current() {
    let fresh = render();
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(GENERATED, &fresh).expect("write protocol.d.ts");
        return;
    }
    let committed = std::fs::read_to_string(GENERATED).unwrap_or_default();
    assert!(
        committed == fresh,
        "bindings/node/protocol.d.ts is stale: run `UPDATE_GENERATED=1 cargo test -p sentinel-protocol typescript`"
    );
}

#[test]
fn every_operation_declares_its_answer() {
    assert_eq!(Request::ANSWERS.len(), Request::NAMES.len());
    assert_eq!(Operation::ANSWERS.len(), Operation::NAMES.len());
    for (op, answer) in Operation::ANSWERS {
        assert!(Response::NAMES.contains(answer), "{op} answers unknown type {answer}");
    }
    for (op, answer) in Request::ANSWERS {
        assert!(Request::NAMES.contains(op));
        assert!(Response::NAMES.contains(answer), "{op} answers unknown type {answer}");
    }
}

#[test]
fn docs_list_every_operation_and_code() {
    let docs = include_str!("../../../docs/protocol.md");
    let codes =
        EnclaveErrorCode::ALL.iter().map(|c| c.as_str()).chain(ProtocolErrorCode::ALL.iter().map(|c| c.as_str()));
    for name in Request::NAMES.iter().chain(Operation::NAMES).chain(Response::NAMES).copied().chain(codes) {
        assert!(docs.contains(&format!("`{name}`")), "docs/protocol.md does not list `{name}`");
    }
}

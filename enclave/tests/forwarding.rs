//! Attested key forwarding between two local enclaves (docs/sealed-state.md): a replica of the
//! same image joins and opens the sealed keys; another image is refused unless an upgrade approval
//! signed by the admin quorum names both images; a forged approval, another configuration, a key
//! sealed to another enclave or a modified one are refused with their codes.
mod common;

use std::sync::Arc;

use common::*;
use sentinel_config::{Alg, Credential, CredentialKind, SignedUpgradeApproval, UpgradeApproval};
use sentinel_enclave::master_key::DevelopmentKeyFile;
use sentinel_enclave::sealing::Sealing;
use sentinel_enclave::{Enclave, EnclaveConfig};
use sentinel_nsm::simulator::SimulatedNsm;
use sentinel_protocol::*;
use sentinel_seal::SealingKind;

const IMAGE: &[u8] = b"forwarding test image v1";
const UPGRADED: &[u8] = b"forwarding test image v2";

/// An enclave of `image` (its dev CA in `ca_dir`, shared so both sides trust one root), configured
/// with `config` and the dev policy; sealing from `key_file`, or awaiting its key from a peer.
fn enclave(
    ca_dir: &std::path::Path,
    image: &[u8],
    key_file: Option<&std::path::Path>,
    config: Vec<u8>,
) -> Arc<Enclave> {
    let nsm = SimulatedNsm::open(ca_dir, sentinel_nsm::pcr::pcrs_from_artifact(image), Arc::new(now_ms)).unwrap();
    let root = nsm.root_der().to_vec();
    let sealing = match key_file {
        Some(path) => Sealing::from_provider(&DevelopmentKeyFile { path: path.to_path_buf() }).unwrap(),
        None => Sealing::awaiting_key(SealingKind::Development),
    };
    let config_flags = EnclaveConfig { attestation_root: Some(root), ..EnclaveConfig::default() };
    let enclave = Arc::new(Enclave::with_sealing(Arc::new(nsm), "i-fwd".into(), &config_flags, sealing).unwrap());
    let r = enclave.handle(Request::UpdateConfig(UpdateConfigArgs { signed_config: config }));
    assert!(matches!(r, Response::ConfigUpdated(_)), "{r:?}");
    // The development policy is signed by the development admin: only under its configuration.
    if enclave.handle(install_dev_policy_request()).wire_name() == "policy_updated" {
        resume(&enclave);
    }
    enclave
}

fn document(enclave: &Enclave) -> Vec<u8> {
    boot_document(enclave)
}

fn send(from: &Enclave, to: &Enclave, approval: Option<Vec<u8>>) -> Response {
    from.handle(Request::ForwardSend(ForwardSendArgs { peer_attestation: document(to), upgrade_approval: approval }))
}

fn accept(to: &Enclave, sent: &ForwardSent, approval: Option<Vec<u8>>) -> Response {
    to.handle(Request::ForwardAccept(ForwardAcceptArgs {
        sender_attestation: sent.attestation.clone(),
        enc: sent.enc.clone(),
        ciphertext: sent.ciphertext.clone(),
        upgrade_approval: approval,
    }))
}

fn sent(response: Response) -> ForwardSent {
    match response {
        Response::ForwardSent(s) => s,
        other => panic!("{other:?}"),
    }
}

fn generate(enclave: &Enclave) -> Response {
    let op = Operation::GenerateKey(GenerateKeyArgs {
        curve: Curve::Secp256k1,
        purpose: KeyPurpose::Raw,
        label: "fwd".into(),
    });
    enclave.handle(stamped(&op))
}

fn sign(enclave: &Enclave, key_id: &str) -> Response {
    let op = Operation::SignDigest(SignDigestArgs { key_id: key_id.into(), digest: vec![0x42; 32] });
    receipted(enclave.handle(stamped(&op))).0
}

fn sealed_state(enclave: &Enclave) -> SealedStateAnswer {
    match enclave.handle(Request::SealedState(SealedStateArgs {})) {
        Response::SealedState(s) => s,
        other => panic!("{other:?}"),
    }
}

fn approval(from: &Enclave, to_image: &[u8], signer: &Credential) -> Vec<u8> {
    let to_pcr0: [u8; 48] = sentinel_nsm::pcr::pcrs_from_artifact(to_image)[0];
    let config_hash = from.config_hash().unwrap();
    let mut signed = SignedUpgradeApproval::new(&UpgradeApproval {
        from_pcr0: from.pcrs()[0],
        to_pcr0,
        config_hash,
        expires_at_us: now_us() + 3_600_000_000,
    });
    signed.sign(signer).unwrap();
    signed.encode()
}

/// A running enclave with one sealed key: (enclave, key id, its sealed record, the configuration record).
fn running(ca: &std::path::Path, key_file: &std::path::Path) -> (Arc<Enclave>, String, Vec<u8>, Vec<u8>) {
    let a = enclave(ca, IMAGE, Some(key_file), dev_signed_config());
    let Response::Receipted(r) = generate(&a) else { panic!("generate") };
    let Response::KeyGenerated(k) = *r.answer else { panic!("{:?}", r.answer) };
    let record = r.sealed.unwrap().record;
    let configuration = sealed_state(&a).configuration.unwrap().record;
    (a, k.key_id, record, configuration)
}

#[test]
fn a_replica_of_the_same_image_joins_and_opens_the_sealed_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (a, key_id, record, configuration) = running(dir.path(), &dir.path().join("master.key"));
    let b = enclave(dir.path(), IMAGE, None, dev_signed_config());
    // Until the key arrives, the replica loads nothing (nor creates anything: the last test).
    let loaded = b.handle(Request::SealedLoad(SealedLoadArgs { records: vec![configuration.clone()] }));
    assert_eq!(error_code(&loaded), "SEALING_KEY_ABSENT");

    let forwarded = sent(send(&a, &b, None));
    let Response::ForwardAccepted(accepted) = accept(&b, &forwarded, None) else { panic!("accept") };
    assert_eq!(Some(accepted.lineage.clone()), sealed_state(&a).lineage);
    assert_eq!(accepted.sender_pcr0, hex::encode(a.pcrs()[0]));
    // A second key is refused: the replica holds one now.
    assert_eq!(error_code(&accept(&b, &forwarded, None)), "FORWARD_STATE");

    let Response::SealedLoaded(loaded) =
        b.handle(Request::SealedLoad(SealedLoadArgs { records: vec![configuration, record] }))
    else {
        panic!("sealed_load")
    };
    assert_eq!((loaded.loaded, loaded.keys), (2, 1), "{loaded:?}");
    assert_eq!(sign(&b, &key_id), sign(&a, &key_id), "the same key signs identically in both");
    // Both logs record the exchange.
    for (enclave, kind) in
        [(&a, sentinel_audit::RecordKind::KeyForwarded), (&b, sentinel_audit::RecordKind::KeyReceived)]
    {
        let log = audit_records(enclave, false);
        assert!(log.records.iter().any(|r| sentinel_audit::AuditRecord::decode(r).unwrap().kind == kind), "{kind:?}");
    }
}

#[test]
fn another_image_needs_an_upgrade_approval_from_the_admin_quorum() {
    let dir = tempfile::tempdir().unwrap();
    let (a, key_id, record, configuration) = running(dir.path(), &dir.path().join("master.key"));
    let upgraded = enclave(dir.path(), UPGRADED, None, dev_signed_config());
    assert_ne!(upgraded.pcrs()[0], a.pcrs()[0]);
    // Without an approval, neither side moves the key.
    assert_eq!(error_code(&send(&a, &upgraded, None)), "FORWARD_PEER_NOT_APPROVED");
    // A forged approval (signed by a key that is no admin of the configuration) is refused.
    let forger = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0x99; 32]).unwrap();
    let forged = approval(&a, UPGRADED, &forger);
    let refused = send(&a, &upgraded, Some(forged));
    assert_eq!(error_code(&refused), "FORWARD_APPROVAL_INVALID");
    let Response::Error(e) = &refused else { unreachable!() };
    assert!(e.message.contains("CONFIG_QUORUM_NOT_MET"), "{}", e.message);
    // An approval for another target image does not cover this one.
    let elsewhere = approval(&a, b"some other image", &admin());
    assert_eq!(error_code(&send(&a, &upgraded, Some(elsewhere))), "FORWARD_APPROVAL_INVALID");

    // The quorum's approval: the old image sends, the new one accepts (it checks the same approval).
    let approved = approval(&a, UPGRADED, &admin());
    let forwarded = sent(send(&a, &upgraded, Some(approved.clone())));
    assert_eq!(error_code(&accept(&upgraded, &forwarded, None)), "FORWARD_PEER_NOT_APPROVED");
    assert!(matches!(accept(&upgraded, &forwarded, Some(approved)), Response::ForwardAccepted(_)));
    let Response::SealedLoaded(loaded) =
        upgraded.handle(Request::SealedLoad(SealedLoadArgs { records: vec![configuration, record] }))
    else {
        panic!("sealed_load")
    };
    assert_eq!(loaded.keys, 1);
    assert_eq!(sign(&upgraded, &key_id), sign(&a, &key_id));
}

#[test]
fn a_key_opens_only_in_the_enclave_and_configuration_it_was_sealed_for() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _, _, _) = running(dir.path(), &dir.path().join("master.key"));
    let b = enclave(dir.path(), IMAGE, None, dev_signed_config());
    let c = enclave(dir.path(), IMAGE, None, dev_signed_config());
    let for_b = sent(send(&a, &b, None));
    // Another enclave of the same image cannot open what was sealed to b's attested key.
    assert_eq!(error_code(&accept(&c, &for_b, None)), "FORWARD_DECRYPTION_FAILED");
    let mut modified = for_b.clone();
    modified.ciphertext[0] ^= 1;
    assert_eq!(error_code(&accept(&b, &modified, None)), "FORWARD_DECRYPTION_FAILED");
    // A sender document that is not an attestation document at all.
    let mut bogus = for_b.clone();
    bogus.attestation = vec![0xd2, 0x84];
    assert_eq!(error_code(&accept(&b, &bogus, None)), "FORWARD_ATTESTATION_INVALID");
    // A peer under another configuration (its own admins) gets nothing.
    let host_admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0x77; 32]).unwrap();
    let other = sentinel_config::development_signed_configuration(&host_admin, &client()).unwrap().encode();
    let d = enclave(dir.path(), IMAGE, None, other);
    assert_eq!(error_code(&send(&a, &d, None)), "FORWARD_CONFIG_MISMATCH");
    // A sender without a master key has nothing to forward, nor does it create keys it could not seal.
    assert_eq!(error_code(&send(&c, &b, None)), "FORWARD_STATE");
    assert_eq!(error_code(&receipted(generate(&c)).0), "SEALING_KEY_ABSENT");
    // b still takes its own key afterwards.
    assert!(matches!(accept(&b, &for_b, None), Response::ForwardAccepted(_)));
}

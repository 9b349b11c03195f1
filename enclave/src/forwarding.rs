//! Attested key forwarding: a running enclave hands its sealing master key to a new one through
//! the untrusted host, after each side verified the other's attestation document.
//!
//! The receiver (started with `--sealing-from-peer`, so it has a configuration but no master key)
//! shows its boot document; the sender checks it (chain to the trusted root, valid now, not debug
//! mode, the same configuration hash, and the same PCR0 unless an upgrade approval signed by the
//! configuration's admin quorum names the sender's and the receiver's images) and seals
//! `master key ‖ lineage` with HPKE to the receiver's attested import key, with both documents'
//! hashes in the HPKE `info`. The receiver checks the sender's document the same way (the same
//! approval covers the other direction) and opens the key; only an enclave holding the private half
//! of the attested import key can. The host sees documents and ciphertext only. Both sides record
//! the exchange in their audit logs. Trusts: the attestation root the enclave was launched with,
//! `sentinel-import` (HPKE) and `sentinel-config` (the approval's quorum rule).
use sentinel_attestation::{verify_with, UnixTime, VerifyOptions};
use sentinel_protocol::{
    EnclaveError, EnclaveErrorCode, ForwardAcceptArgs, ForwardAccepted, ForwardSendArgs, ForwardSent, Response,
};
use sentinel_seal::{Lineage, MasterKey};
use sha2::{Digest, Sha256};

use crate::enclave::{now_us, Enclave, Installed};

fn refuse(code: EnclaveErrorCode, message: impl Into<String>) -> Response {
    Response::error(&EnclaveError::new(code, message))
}

/// What this enclave learned from a peer's verified document.
struct Peer {
    pcr0: Vec<u8>,
    import_key: [u8; 32],
    document_hash: [u8; 32],
}

impl Enclave {
    /// Checks a peer's document against this enclave's root, configuration and image (or the
    /// approval): `sending` says which way the key would move, for the approval's direction.
    fn verify_peer(
        &self,
        document: &[u8],
        installed: &Installed,
        approval: Option<&[u8]>,
        sending: bool,
    ) -> Result<Peer, Response> {
        let invalid = |why: String| refuse(EnclaveErrorCode::ForwardAttestationInvalid, why);
        let Some(root) = &self.attestation_root else {
            return Err(invalid("this enclave has no trusted root to check a peer's document".into()));
        };
        let now = now_us();
        let verified = verify_with(document, root, UnixTime::from_millis(now / 1000), &VerifyOptions::default())
            .map_err(|e| invalid(format!("peer attestation: {}: {}", e.code(), e.message())))?;
        if verified.is_debug_mode() {
            return Err(invalid("peer attestation: a debug-mode enclave (its memory is readable by the host)".into()));
        }
        let (config_hash, _) = verified
            .user_data()
            .and_then(sentinel_attestation::report::sentinel_user_data)
            .ok_or_else(|| invalid("peer attestation: no Sentinel configuration hash in user_data".into()))?;
        if config_hash != installed.config_hash {
            return Err(refuse(
                EnclaveErrorCode::ForwardConfigMismatch,
                format!(
                    "the peer runs configuration {}, this enclave {}",
                    hex::encode(config_hash),
                    hex::encode(installed.config_hash)
                ),
            ));
        }
        let keys =
            verified.public_key().ok_or_else(|| invalid("peer attestation: no key bundle".into())).and_then(|b| {
                sentinel_evidence::AttestedKeys::from_bytes(b)
                    .map_err(|e| invalid(format!("peer attestation: key bundle: {}", e.message())))
            })?;
        let pcr0 = verified.pcr(0).ok_or_else(|| invalid("peer attestation: no PCR0".into()))?.to_vec();
        let own = &self.pcrs()[0][..];
        if pcr0 != own {
            let Some(approval) = approval else {
                return Err(refuse(
                    EnclaveErrorCode::ForwardPeerNotApproved,
                    format!(
                        "the peer's image (PCR0 {}) is not this enclave's ({}) and no upgrade approval was given",
                        hex::encode(&pcr0),
                        hex::encode(own)
                    ),
                ));
            };
            let approved = sentinel_config::SignedUpgradeApproval::verify(approval, &installed.config.admins, now)
                .map_err(|e| {
                    refuse(
                        EnclaveErrorCode::ForwardApprovalInvalid,
                        format!("upgrade approval: {}: {}", e.code(), e.message()),
                    )
                })?;
            let (from, to) = if sending { (own, &pcr0[..]) } else { (&pcr0[..], own) };
            if approved.from_pcr0[..] != *from || approved.to_pcr0[..] != *to || approved.config_hash != config_hash {
                return Err(refuse(
                    EnclaveErrorCode::ForwardApprovalInvalid,
                    "upgrade approval: it names other images or another configuration than this exchange's",
                ));
            }
        }
        Ok(Peer { pcr0, import_key: keys.import, document_hash: Sha256::digest(document).into() })
    }

    /// `forward_send`: seals this enclave's master key and lineage to a verified peer.
    pub(crate) fn forward_send(&self, args: &ForwardSendArgs) -> Response {
        let Some(installed) = self.installed() else { return crate::enclave::not_configured() };
        let (Some(master), Some(lineage)) = (self.sealing.master(), self.sealing.lineage()) else {
            return refuse(EnclaveErrorCode::ForwardState, "this enclave holds no master key to forward");
        };
        let peer = match self.verify_peer(&args.peer_attestation, &installed, args.upgrade_approval.as_deref(), true) {
            Ok(peer) => peer,
            Err(refusal) => return refusal,
        };
        let info = sentinel_import::forward_info(&installed.attestation_hash, &peer.document_hash);
        let mut payload = zeroize::Zeroizing::new([0u8; sentinel_import::FORWARD_PAYLOAD_LEN]);
        payload[..32].copy_from_slice(master.hazmat_bytes());
        payload[32..].copy_from_slice(&lineage.0);
        let mut rng = crate::Entropy;
        let (enc, ciphertext) = match sentinel_import::seal_forward(&peer.import_key, &info, &payload, &mut rng) {
            Ok(sealed) => sealed,
            Err(e) => return Response::error(&e),
        };
        let effects = vec![forward_effect(&peer.pcr0, "sent")];
        self.record_admin(
            sentinel_audit::RecordKind::KeyForwarded,
            "host",
            &args.peer_attestation,
            peer.document_hash,
            effects,
        );
        tracing::warn!(peer_pcr0 = %hex::encode(&peer.pcr0), "sealing master key forwarded to a verified peer enclave");
        Response::ForwardSent(ForwardSent {
            attestation: installed.attestation.clone(),
            enc: enc.to_vec(),
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// `forward_accept`: verifies the sender and takes the master key sealed to this enclave.
    pub(crate) fn forward_accept(&self, args: &ForwardAcceptArgs) -> Response {
        let Some(installed) = self.installed() else { return crate::enclave::not_configured() };
        if self.sealing.master().is_some() || !self.keys.is_empty() {
            return refuse(EnclaveErrorCode::ForwardState, "this enclave already holds a master key or keys");
        }
        let sender =
            match self.verify_peer(&args.sender_attestation, &installed, args.upgrade_approval.as_deref(), false) {
                Ok(peer) => peer,
                Err(refusal) => return refusal,
            };
        // Sealed to the document the sender saw: the current one, or the one a refresh replaced.
        let mine = std::iter::once(installed.attestation_hash).chain(installed.previous_attestation_hash);
        let opened = mine.into_iter().find_map(|hash| {
            let info = sentinel_import::forward_info(&sender.document_hash, &hash);
            self.open_forwarded(&info, &args.enc, &args.ciphertext).ok()
        });
        let Some(payload) = opened else {
            return refuse(
                EnclaveErrorCode::ForwardDecryptionFailed,
                "the forwarded key does not open here (sealed to another enclave or exchange, or modified)",
            );
        };
        let master = MasterKey::from_bytes(payload[..32].try_into().expect("32 bytes"));
        let lineage = Lineage(payload[32..].try_into().expect("32 bytes"));
        let _one = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        if !self.sealing.receive(master, lineage) {
            return refuse(EnclaveErrorCode::ForwardState, "this enclave already holds a master key");
        }
        let effects = vec![forward_effect(&sender.pcr0, "received")];
        self.record_admin(
            sentinel_audit::RecordKind::KeyReceived,
            "host",
            &args.sender_attestation,
            sender.document_hash,
            effects,
        );
        tracing::warn!(sender_pcr0 = %hex::encode(&sender.pcr0), "sealing master key received from a verified peer enclave");
        Response::ForwardAccepted(ForwardAccepted { lineage: lineage.to_hex(), sender_pcr0: hex::encode(&sender.pcr0) })
    }
}

fn forward_effect(pcr0: &[u8], direction: &str) -> sentinel_audit::record::Effect {
    sentinel_audit::record::Effect {
        op: "forward".into(),
        target: format!("pcr0:{}", hex::encode(pcr0)),
        subject: None,
        value: Some(direction.into()),
    }
}

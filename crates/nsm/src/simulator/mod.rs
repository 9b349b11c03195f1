//! The development NSM: AWS-format attestation documents signed under a
//! local dev CA. Never enabled in production builds (feature `simulator`).
//!
//! Per document it generates a fresh P-384 leaf key, issues a leaf
//! certificate for it (valid 3 hours from the document's second, like AWS's),
//! signed by the dev intermediate, and signs the `COSE_Sign1` with the leaf
//! key (ES384, raw `r || s`). The document's `cabundle` is
//! `[dev root, dev intermediate]`, in AWS's `[root, intermediates...]` order.
//! A verifier accepts these documents only if it is given the dev root
//! ([`SimulatedNsm::root_der`]) instead of the AWS Nitro root.
use std::path::Path;
use std::sync::Arc;

use rcgen::{CertificateParams, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P384_SHA384};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
use zeroize::Zeroizing;

use crate::{AttestationRequest, Error, NsmProvider, Pcr, PCR_COUNT};

mod ca;
mod document;

pub use ca::{DEV_CA_DIR, DEV_INTERMEDIATE_CN, DEV_ORGANIZATION, DEV_ORGANIZATIONAL_UNIT, DEV_ROOT_CN};
pub use document::PROTECTED_HEADER;

/// The time source the simulator is handed: milliseconds since the Unix epoch.
/// The library never reads a clock itself.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// `module_id` of simulated documents (AWS's look like `i-0…-enc0…`).
pub const DEFAULT_MODULE_ID: &str = "sentinel-dev-simulator";

/// Validity of a leaf certificate, from the document's second (AWS: ~3 hours).
pub const LEAF_VALIDITY_SECS: i64 = 3 * 3600;

/// The simulator. Cheap to share: `&self` methods only, `Send + Sync`.
pub struct SimulatedNsm {
    ca: ca::DevCa,
    pcrs: [Pcr; PCR_COUNT],
    module_id: String,
    clock: Clock,
}

impl core::fmt::Debug for SimulatedNsm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimulatedNsm")
            .field("ca_dir", &self.ca.dir)
            .field("module_id", &self.module_id)
            .field("intermediate_key", &self.ca.intermediate_key)
            .finish_non_exhaustive()
    }
}

impl SimulatedNsm {
    /// Opens the simulator on `data_dir`: loads the dev CA from
    /// `<data_dir>/nsm-dev-ca-v1/`, or creates it there (valid from `clock()`
    /// minus one hour) on first use. `pcrs` are reported in every document
    /// (see [`crate::pcr::pcrs_from_artifact`]).
    ///
    /// Errors: `SIMULATOR_STORAGE`, `SIMULATOR_CA_INVALID` (a stored CA that
    /// is incomplete or inconsistent is never silently replaced),
    /// `SIMULATOR_CRYPTO`, `INVALID_TIMESTAMP`.
    pub fn open(data_dir: &Path, pcrs: [Pcr; PCR_COUNT], clock: Clock) -> Result<Self, Error> {
        let ca = ca::open_or_create(data_dir, clock())?;
        Ok(SimulatedNsm { ca, pcrs, module_id: DEFAULT_MODULE_ID.to_string(), clock })
    }

    /// Replaces the `module_id` written into documents.
    pub fn with_module_id(mut self, module_id: impl Into<String>) -> Self {
        self.module_id = module_id.into();
        self
    }

    /// The dev root certificate (DER): the trust anchor for simulated documents.
    pub fn root_der(&self) -> &[u8] {
        &self.ca.root_der
    }

    /// The dev intermediate certificate (DER).
    pub fn intermediate_der(&self) -> &[u8] {
        &self.ca.intermediate_der
    }

    /// Where the dev CA is kept.
    pub fn ca_dir(&self) -> &Path {
        &self.ca.dir
    }

    /// The `module_id` written into documents.
    pub fn module_id(&self) -> &str {
        &self.module_id
    }

    /// An attestation document issued at `now_ms` (ms since the Unix epoch),
    /// ignoring the clock. [`NsmProvider::attestation`] is this at `clock()`.
    pub fn attestation_at(&self, request: &AttestationRequest, now_ms: u64) -> Result<Vec<u8>, Error> {
        request.validate()?;
        if now_ms == 0 {
            return Err(Error::InvalidTimestamp { unix_ms: now_ms });
        }
        let now_secs = i64::try_from(now_ms / 1000).map_err(|_| Error::InvalidTimestamp { unix_ms: now_ms })?;

        let crypto =
            |what: &'static str| move |e: rcgen::Error| Error::SimulatorCrypto { detail: format!("{what}: {e}") };
        let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(crypto("leaf key"))?;
        let leaf_pkcs8 = Zeroizing::new(leaf_key.serialize_der());
        drop(leaf_key);

        let mut params = CertificateParams::default();
        params.distinguished_name = ca::dev_name(&format!("{}.sentinel-dev", self.module_id));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.not_before = ca::unix_time(now_secs, now_ms)?;
        params.not_after = ca::unix_time(now_secs.saturating_add(LEAF_VALIDITY_SECS), now_ms)?;
        let leaf_public = KeyPair::from_pkcs8_der_and_sign_algo(&leaf_pkcs8.as_slice().into(), &PKCS_ECDSA_P384_SHA384)
            .map_err(crypto("leaf key"))?;
        let leaf_cert = params.signed_by(&leaf_public, &self.ca.issuer()).map_err(crypto("leaf certificate"))?;
        drop(leaf_public);

        let payload = document::Payload {
            module_id: &self.module_id,
            timestamp_ms: now_ms,
            pcrs: &self.pcrs,
            certificate: leaf_cert.der(),
            cabundle: [&self.ca.root_der, &self.ca.intermediate_der],
            public_key: request.public_key.as_deref(),
            user_data: request.user_data.as_deref(),
            nonce: request.nonce.as_deref(),
        }
        .to_cbor()?;

        let rng = SystemRandom::new();
        let signer = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &leaf_pkcs8, &rng)
            .map_err(|_| Error::SimulatorCrypto { detail: "leaf key: ring rejected the PKCS#8 key".to_string() })?;
        document::cose_sign1(payload, |sig_structure| {
            signer
                .sign(&rng, sig_structure)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| Error::SimulatorCrypto { detail: "ES384 signing failed".to_string() })
        })
    }
}

impl NsmProvider for SimulatedNsm {
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, Error> {
        self.attestation_at(request, (self.clock)())
    }

    fn describe_pcrs(&self) -> Result<[Pcr; PCR_COUNT], Error> {
        Ok(self.pcrs)
    }
}

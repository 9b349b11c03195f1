//! The development CA: a P-384 root and one P-384 intermediate, created on
//! first use and kept under `<data_dir>/nsm-dev-ca-v1/`.
//!
//! | file | content | mode |
//! |---|---|---|
//! | `root.der` | dev root certificate (DER) | 0644 |
//! | `root.key` | dev root private key (PKCS#8 DER) | 0600 |
//! | `intermediate.der` | intermediate certificate (DER), signed by the root | 0644 |
//! | `intermediate.key` | intermediate private key (PKCS#8 DER) | 0600 |
//!
//! The directory (mode 0700) is built under a temporary name and renamed into
//! place, so a concurrent first open by two processes leaves exactly one CA.
//! The subject names below are part of the on-disk format (leaf certificates
//! name the stored intermediate as issuer), so changing them means a new
//! directory version.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P384_SHA384,
};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;
use zeroize::{Zeroize, Zeroizing};

use crate::Error;

/// Directory under the data directory that holds the dev CA.
pub const DEV_CA_DIR: &str = "nsm-dev-ca-v1";
/// Organization of every simulator certificate: unmistakably not Amazon.
pub const DEV_ORGANIZATION: &str = "ZeroCopy Systems (development)";
/// Organizational unit of every simulator certificate.
pub const DEV_ORGANIZATIONAL_UNIT: &str = "Sentinel NSM simulator";
/// Common name of the dev root.
pub const DEV_ROOT_CN: &str = "sentinel-dev-root";
/// Common name of the dev intermediate.
pub const DEV_INTERMEDIATE_CN: &str = "sentinel-dev-intermediate";

const ROOT_CERT: &str = "root.der";
const ROOT_KEY: &str = "root.key";
const INTERMEDIATE_CERT: &str = "intermediate.der";
const INTERMEDIATE_KEY: &str = "intermediate.key";

/// Validity of the dev root (AWS's root: 30 years).
const ROOT_VALIDITY_SECS: i64 = 30 * 365 * 24 * 3600;
/// Validity of the dev intermediate.
const INTERMEDIATE_VALIDITY_SECS: i64 = 20 * 365 * 24 * 3600;
/// CA certificates start this long before their creation time (clock skew).
const CA_BACKDATE_SECS: i64 = 3600;

/// A CA private key: `Debug` prints `[REDACTED]`, the PKCS#8 bytes are wiped on
/// drop. (ring's expanded key inside `KeyPair` cannot be wiped; ring does not
/// offer that.)
pub(crate) struct CaKey(KeyPair);

impl CaKey {
    pub(crate) fn key_pair(&self) -> &KeyPair {
        &self.0
    }
}

impl core::fmt::Debug for CaKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CaKey([REDACTED])")
    }
}

impl Drop for CaKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The dev CA as the simulator uses it: both certificates and the
/// intermediate's key (the root key stays on disk).
#[derive(Debug)]
pub(crate) struct DevCa {
    pub dir: PathBuf,
    pub root_der: Vec<u8>,
    pub intermediate_der: Vec<u8>,
    pub intermediate_params: CertificateParams,
    pub intermediate_key: CaKey,
}

impl DevCa {
    /// An [`Issuer`] for leaf certificates, named exactly as the stored
    /// intermediate's subject.
    pub(crate) fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.intermediate_params, self.intermediate_key.key_pair())
    }
}

pub(crate) fn unix_time(unix_secs: i64, unix_ms: u64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(unix_secs).map_err(|_| Error::InvalidTimestamp { unix_ms })
}

pub(crate) fn dev_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, DEV_ORGANIZATION);
    name.push(DnType::OrganizationalUnitName, DEV_ORGANIZATIONAL_UNIT);
    name
}

fn crypto(what: &str) -> impl FnOnce(rcgen::Error) -> Error + '_ {
    move |e| Error::SimulatorCrypto { detail: format!("{what}: {e}") }
}

fn storage(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::SimulatorStorage { detail: format!("{}: {e}", path.display()) }
}

fn ca_params(common_name: &str, path_len: BasicConstraints) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dev_name(common_name);
    params.is_ca = IsCa::Ca(path_len);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// The intermediate's parameters as leaf issuance needs them (subject name,
/// key identifier method, key usages); validity does not matter there.
fn intermediate_params() -> CertificateParams {
    let mut params = ca_params(DEV_INTERMEDIATE_CN, BasicConstraints::Constrained(0));
    params.use_authority_key_identifier_extension = true;
    params
}

/// Opens the dev CA in `data_dir`, creating it (valid from `now_ms`) if absent.
pub(crate) fn open_or_create(data_dir: &Path, now_ms: u64) -> Result<DevCa, Error> {
    let dir = data_dir.join(DEV_CA_DIR);
    if !dir.exists() {
        create(data_dir, &dir, now_ms)?;
    }
    load(&dir)
}

fn create(data_dir: &Path, dir: &Path, now_ms: u64) -> Result<(), Error> {
    if now_ms == 0 {
        return Err(Error::InvalidTimestamp { unix_ms: now_ms });
    }
    let start =
        i64::try_from(now_ms / 1000).map_err(|_| Error::InvalidTimestamp { unix_ms: now_ms })? - CA_BACKDATE_SECS;
    let at = |secs: i64| unix_time(start.saturating_add(secs), now_ms);

    let root_key = CaKey(KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(crypto("root key"))?);
    let mut root_params = ca_params(DEV_ROOT_CN, BasicConstraints::Unconstrained);
    root_params.not_before = at(0)?;
    root_params.not_after = at(ROOT_VALIDITY_SECS)?;
    let root_cert = root_params.self_signed(root_key.key_pair()).map_err(crypto("root certificate"))?;

    let intermediate_key = CaKey(KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).map_err(crypto("intermediate key"))?);
    let mut params = intermediate_params();
    params.not_before = at(0)?;
    params.not_after = at(INTERMEDIATE_VALIDITY_SECS)?;
    let root_issuer = Issuer::from_params(&root_params, root_key.key_pair());
    let intermediate_cert =
        params.signed_by(intermediate_key.key_pair(), &root_issuer).map_err(crypto("intermediate certificate"))?;

    fs::create_dir_all(data_dir).map_err(storage(data_dir))?;
    let mut suffix = [0u8; 8];
    SystemRandom::new()
        .fill(&mut suffix)
        .map_err(|_| Error::SimulatorCrypto { detail: "OS random source failed".to_string() })?;
    let staging = data_dir.join(format!(".{DEV_CA_DIR}.tmp-{}", hex(&suffix)));
    let result = (|| {
        make_private_dir(&staging)?;
        write_file(&staging.join(ROOT_CERT), root_cert.der(), false)?;
        write_file(&staging.join(ROOT_KEY), &Zeroizing::new(root_key.key_pair().serialize_der()), true)?;
        write_file(&staging.join(INTERMEDIATE_CERT), intermediate_cert.der(), false)?;
        write_file(
            &staging.join(INTERMEDIATE_KEY),
            &Zeroizing::new(intermediate_key.key_pair().serialize_der()),
            true,
        )?;
        match fs::rename(&staging, dir) {
            Ok(()) => Ok(()),
            // Another process created the CA first: keep theirs.
            Err(_) if dir.join(INTERMEDIATE_KEY).exists() => Ok(()),
            Err(e) => Err(storage(dir)(e)),
        }
    })();
    if staging.exists() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn load(dir: &Path) -> Result<DevCa, Error> {
    let root_der = read_file(&dir.join(ROOT_CERT))?.to_vec();
    let root_key = load_key(&dir.join(ROOT_KEY))?;
    let intermediate_der = read_file(&dir.join(INTERMEDIATE_CERT))?.to_vec();
    let intermediate_key = load_key(&dir.join(INTERMEDIATE_KEY))?;
    check_pair(&root_der, &root_key, ROOT_CERT)?;
    check_pair(&intermediate_der, &intermediate_key, INTERMEDIATE_CERT)?;
    Ok(DevCa {
        dir: dir.to_path_buf(),
        root_der,
        intermediate_der,
        intermediate_params: intermediate_params(),
        intermediate_key,
    })
}

/// A consistency check, not a security check: the certificate must carry the
/// key's SubjectPublicKeyInfo.
fn check_pair(cert_der: &[u8], key: &CaKey, name: &str) -> Result<(), Error> {
    let spki = rcgen::PublicKeyData::subject_public_key_info(key.key_pair());
    if !spki.is_empty() && cert_der.windows(spki.len()).any(|w| w == spki.as_slice()) {
        Ok(())
    } else {
        Err(Error::SimulatorCaInvalid { detail: format!("{name} does not match its private key") })
    }
}

fn load_key(path: &Path) -> Result<CaKey, Error> {
    let der = read_file(path)?;
    KeyPair::from_pkcs8_der_and_sign_algo(&der.as_slice().into(), &PKCS_ECDSA_P384_SHA384)
        .map(CaKey)
        .map_err(|e| Error::SimulatorCaInvalid { detail: format!("{}: not a P-384 PKCS#8 key: {e}", path.display()) })
}

fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Zeroizing::new(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::SimulatorCaInvalid { detail: format!("{} is missing", path.display()) })
        }
        Err(e) => Err(storage(path)(e)),
    }
}

fn make_private_dir(path: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(storage(path))
}

fn write_file(path: &Path, bytes: &[u8], secret: bool) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if secret { 0o600 } else { 0o644 });
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(storage(path))?;
    file.write_all(bytes).map_err(storage(path))?;
    file.sync_all().map_err(storage(path))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! The X.509 path from the caller's pinned root to the leaf that signed the
//! document. Trust comes only from the root the caller passes in: the root
//! shipped in `cabundle[0]` must be byte-for-byte that certificate (a document
//! that ships a different root, even one with the same key, is rejected, since
//! real documents always carry the exact AWS certificate and any difference is
//! a sign of tampering or of a different PKI). The trust anchor is not checked
//! for a self-signature (RFC 5280 treats it as configured input) but must be a
//! P-384 CA valid at `now`. Intermediates from `cabundle[1..]` and the leaf are
//! each checked by their issuer: ECDSA P-384/SHA-384 only, names chained, CA
//! basic constraints and path length on every issuer, validity at `now`.
//!
//! Extension rules follow AWS's validation guide (aws-nitro-enclaves-nsm-api,
//! `docs/attestation_process.md` §3.2.3) and RFC 5280: every CA certificate
//! (the root included) has a *critical* basicConstraints with cA=true and a
//! keyUsage with keyCertSign; the leaf has a keyUsage with digitalSignature
//! and is not a CA (no cA=true, no pathLenConstraint, no keyCertSign); no
//! extension appears twice.

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use p384::ecdsa::signature::Verifier;
use p384::ecdsa::{Signature, VerifyingKey};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::Certificate;

use crate::error::{err, Error, ErrorCode};
use crate::time::UnixTime;

const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// One parsed certificate of the path, with the name used in error messages.
pub(crate) struct Link {
    label: String,
    cert: Certificate,
    tbs_der: Vec<u8>,
    key: VerifyingKey,
    /// basicConstraints and whether it is marked critical.
    basic_constraints: Option<(BasicConstraints, bool)>,
    key_usage: Option<KeyUsage>,
}

/// The path root → intermediates → leaf, parsed but not yet verified.
pub(crate) struct Chain {
    links: Vec<Link>,
}

impl Chain {
    /// The leaf's P-384 key, which signs the COSE envelope.
    pub(crate) fn leaf_key(&self) -> &VerifyingKey {
        // `build` always pushes the root and the leaf.
        &self.links[self.links.len() - 1].key
    }
}

/// Parses the trusted root, `cabundle[1..]` and the leaf, after checking that
/// `cabundle[0]` is the trusted root. Structural checks only (algorithms, names,
/// CA constraints); signatures and time are [`verify_signatures`]' and
/// [`verify_validity`]'s job.
pub(crate) fn build(trusted_root_der: &[u8], cabundle: &[Vec<u8>], leaf_der: &[u8]) -> Result<Chain, Error> {
    let root = parse(trusted_root_der, "trusted root".into())
        .map_err(|e| Error::new(ErrorCode::InvalidTrustedRoot, e.message().to_string()))?;
    if cabundle.first().map(Vec::as_slice) != Some(trusted_root_der) {
        return err(ErrorCode::RootMismatch, "cabundle[0] is not the trusted root certificate");
    }
    let mut links = vec![root];
    for (i, der) in cabundle.iter().enumerate().skip(1) {
        links.push(parse(der, format!("cabundle[{i}]"))?);
    }
    links.push(parse(leaf_der, "certificate".into())?);

    let count = links.len();
    for (i, pair) in links.windows(2).enumerate() {
        let (issuer, subject) = (&pair[0], &pair[1]);
        if name_der(&subject.cert.tbs_certificate.issuer)? != name_der(&issuer.cert.tbs_certificate.subject)? {
            return err(
                ErrorCode::ChainNameMismatch,
                format!("{}: issuer name does not match the subject of {}", subject.label, issuer.label),
            );
        }
        // Intermediates below this issuer, not counting the leaf.
        check_ca(issuer, count - i - 2)?;
    }
    check_leaf(&links[count - 1])?;
    Ok(Chain { links })
}

/// Checks every certificate's signature by its issuer (part of the `chain`
/// step of a report; `verify_with` runs it right after [`build`]).
pub(crate) fn verify_signatures(chain: &Chain) -> Result<(), Error> {
    for pair in chain.links.windows(2) {
        let (issuer, subject) = (&pair[0], &pair[1]);
        let signature = subject.cert.signature.as_bytes().and_then(|der| Signature::from_der(der).ok());
        let valid = signature.is_some_and(|sig| issuer.key.verify(&subject.tbs_der, &sig).is_ok());
        if !valid {
            return err(
                ErrorCode::CertificateSignatureInvalid,
                format!("{}: signature does not verify with the key of {}", subject.label, issuer.label),
            );
        }
    }
    Ok(())
}

/// Checks every certificate's validity window (the root included) at `now`:
/// the `validity` step, run after [`verify_signatures`].
pub(crate) fn verify_validity(chain: &Chain, now: UnixTime) -> Result<(), Error> {
    chain.links.iter().try_for_each(|link| check_validity(link, now))
}

/// Strict DER parse, round-trip check (so the signed TBS bytes are exactly the
/// input's), ECDSA-with-SHA384 signature algorithm and a P-384 subject key.
fn parse(der: &[u8], label: String) -> Result<Link, Error> {
    let invalid = |what: &str| Error::new(ErrorCode::InvalidCertificate, format!("{label}: {what}"));
    let cert = Certificate::from_der(der).map_err(|e| invalid(&format!("not a DER X.509 certificate ({e})")))?;
    if cert.to_der().ok().as_deref() != Some(der) {
        return Err(invalid("does not re-encode to the same DER"));
    }
    let tbs = &cert.tbs_certificate;
    let tbs_der = tbs.to_der().map_err(|_| invalid("TBSCertificate does not encode"))?;
    if cert.signature_algorithm.oid != ECDSA_WITH_SHA384
        || cert.signature_algorithm.parameters.is_some()
        || tbs.signature != cert.signature_algorithm
    {
        return err(
            ErrorCode::UnsupportedCertificateAlgorithm,
            format!("{label}: signature algorithm {} is not ecdsa-with-SHA384", cert.signature_algorithm.oid),
        );
    }
    let spki = &tbs.subject_public_key_info;
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let key = (spki.algorithm.oid == ID_EC_PUBLIC_KEY && curve == Some(SECP384R1))
        .then(|| spki.subject_public_key.as_bytes())
        .flatten()
        .and_then(|point| VerifyingKey::from_sec1_bytes(point).ok())
        .ok_or_else(|| Error::new(ErrorCode::UnsupportedPublicKey, format!("{label}: key is not an EC P-384 key")))?;
    let extensions = tbs.extensions.as_deref().unwrap_or_default();
    let mut basic_constraints = None;
    let mut key_usage = None;
    for (i, ext) in extensions.iter().enumerate() {
        if extensions[..i].iter().any(|e| e.extn_id == ext.extn_id) {
            return Err(invalid(&format!("extension {} appears twice", ext.extn_id)));
        }
        if ext.extn_id == BASIC_CONSTRAINTS {
            let value = BasicConstraints::from_der(ext.extn_value.as_bytes())
                .map_err(|_| invalid("malformed basicConstraints"))?;
            basic_constraints = Some((value, ext.critical));
        } else if ext.extn_id == KEY_USAGE {
            key_usage = Some(KeyUsage::from_der(ext.extn_value.as_bytes()).map_err(|_| invalid("malformed keyUsage"))?);
        } else if ext.critical {
            return err(
                ErrorCode::UnsupportedCriticalExtension,
                format!("{label}: unsupported critical extension {}", ext.extn_id),
            );
        }
    }
    Ok(Link { label, cert, tbs_der, key, basic_constraints, key_usage })
}

/// An issuer (the root included) must be a CA: a critical basicConstraints
/// with cA=true (`NOT_A_CA`, `BASIC_CONSTRAINTS_NOT_CRITICAL`), a keyUsage
/// with keyCertSign (`CA_KEY_USAGE_INVALID`), and a pathLenConstraint, when
/// present, that allows the `below` intermediates under it.
fn check_ca(issuer: &Link, below: usize) -> Result<(), Error> {
    let fail = |code, what: &str| Error::new(code, format!("{}: {what}", issuer.label));
    let Some((constraints, critical)) = &issuer.basic_constraints else {
        return Err(fail(ErrorCode::NotACa, "has no basicConstraints"));
    };
    if !constraints.ca {
        return Err(fail(ErrorCode::NotACa, "basicConstraints cA is false"));
    }
    if !critical {
        return Err(fail(ErrorCode::BasicConstraintsNotCritical, "basicConstraints of a CA must be critical"));
    }
    match &issuer.key_usage {
        None => return Err(fail(ErrorCode::CaKeyUsageInvalid, "CA certificate has no keyUsage")),
        Some(usage) if !usage.key_cert_sign() => {
            return Err(fail(ErrorCode::CaKeyUsageInvalid, "keyUsage lacks keyCertSign"))
        }
        Some(_) => {}
    }
    if let Some(limit) = constraints.path_len_constraint {
        if below > usize::from(limit) {
            return err(
                ErrorCode::PathLengthExceeded,
                format!("{}: pathLenConstraint {limit} but {below} intermediate(s) follow", issuer.label),
            );
        }
    }
    Ok(())
}

/// The leaf signs documents, nothing else: keyUsage with digitalSignature
/// (`LEAF_KEY_USAGE_INVALID`); not a CA, i.e. basicConstraints absent or cA
/// false without pathLenConstraint, and no keyCertSign (`LEAF_IS_CA`).
fn check_leaf(leaf: &Link) -> Result<(), Error> {
    let fail = |code, what: &str| Error::new(code, format!("{}: {what}", leaf.label));
    if let Some((constraints, _)) = &leaf.basic_constraints {
        if constraints.ca {
            return Err(fail(ErrorCode::LeafIsCa, "basicConstraints cA is true"));
        }
        if constraints.path_len_constraint.is_some() {
            return Err(fail(ErrorCode::LeafIsCa, "has a pathLenConstraint"));
        }
    }
    let Some(usage) = &leaf.key_usage else {
        return Err(fail(ErrorCode::LeafKeyUsageInvalid, "has no keyUsage"));
    };
    if usage.key_cert_sign() {
        return Err(fail(ErrorCode::LeafIsCa, "keyUsage has keyCertSign"));
    }
    if !usage.digital_signature() {
        return Err(fail(ErrorCode::LeafKeyUsageInvalid, "keyUsage lacks digitalSignature"));
    }
    Ok(())
}

/// notBefore <= now <= notAfter.
fn check_validity(link: &Link, now: UnixTime) -> Result<(), Error> {
    let validity = &link.cert.tbs_certificate.validity;
    let millis = |t: x509_cert::time::Time| u64::try_from(t.to_unix_duration().as_millis()).unwrap_or(u64::MAX);
    let (not_before, not_after) = (millis(validity.not_before), millis(validity.not_after));
    let now = now.as_millis();
    if now < not_before {
        return err(
            ErrorCode::CertificateNotValidAtTime,
            format!("{}: not yet valid (notBefore {not_before} ms > now {now} ms)", link.label),
        );
    }
    if now > not_after {
        return err(
            ErrorCode::CertificateNotValidAtTime,
            format!("{}: expired (notAfter {not_after} ms < now {now} ms)", link.label),
        );
    }
    Ok(())
}

fn name_der(name: &x509_cert::name::Name) -> Result<Vec<u8>, Error> {
    name.to_der().map_err(|_| Error::new(ErrorCode::InvalidCertificate, "name does not encode"))
}

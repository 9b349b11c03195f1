//! The certificate rules of AWS's validation guide (aws-nitro-enclaves-nsm-api,
//! `docs/attestation_process.md` §3.2.2–3.2.3), one test per rule: a small
//! P-384 PKI (root → intermediate → leaf) is built with `rcgen` so that it
//! violates exactly that rule, wrapped into a correctly signed document, and
//! the verifier must answer with the rule's code. The unmodified PKI verifies,
//! so each rejection is caused by the one change.

use ciborium::Value;
use coset::{iana, CborSerializable, CoseSign1Builder, HeaderBuilder};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SigningKey, PKCS_ECDSA_P384_SHA384,
};
use sentinel_attestation::{verify, ErrorCode, UnixTime, MAX_CERTIFICATE};

/// 2025-06-01T00:00:00Z: inside every test certificate's validity.
const NOW_SECS: u64 = 1_748_736_000;
const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const KEY_USAGE: &[u64] = &[2, 5, 29, 15];

fn params(common_name: &str, is_ca: IsCa, usages: &[KeyUsagePurpose]) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    params.distinguished_name = name;
    params.is_ca = is_ca;
    params.key_usages = usages.to_vec();
    // Also makes rcgen write the extensions block when `is_ca` is `NoCa`
    // (it would otherwise drop keyUsage too).
    params.use_authority_key_identifier_extension = true;
    params.not_before = rcgen::date_time_ymd(2025, 5, 31);
    params.not_after = rcgen::date_time_ymd(2025, 6, 2);
    params
}

/// basicConstraints content (DER) as a custom extension with the given criticality.
fn basic_constraints_extension(der: &[u8], critical: bool) -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(BASIC_CONSTRAINTS, der.to_vec());
    ext.set_criticality(critical);
    ext
}

/// The three certificates' parameters; each test changes one of them.
struct Pki {
    root: CertificateParams,
    intermediate: CertificateParams,
    leaf: CertificateParams,
    timestamp_ms: u64,
    public_key: Option<Vec<u8>>,
}

impl Pki {
    /// Like AWS's: CA certificates with critical basicConstraints (cA, pathLen
    /// on the intermediate) and keyUsage keyCertSign; leaf CA:FALSE with
    /// keyUsage digitalSignature.
    fn valid() -> Self {
        use KeyUsagePurpose::*;
        let ca_usages = [DigitalSignature, KeyCertSign, CrlSign];
        Pki {
            root: params("test root", IsCa::Ca(BasicConstraints::Unconstrained), &ca_usages),
            intermediate: params("test intermediate", IsCa::Ca(BasicConstraints::Constrained(0)), &ca_usages),
            leaf: params("test leaf", IsCa::ExplicitNoCa, &[DigitalSignature]),
            timestamp_ms: NOW_SECS * 1000,
            public_key: None,
        }
    }

    /// (trusted root DER, document) signed by the leaf.
    fn issue(&self) -> (Vec<u8>, Vec<u8>) {
        let key = || KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
        let (root_key, intermediate_key, leaf_key) = (key(), key(), key());
        let root = self.root.self_signed(&root_key).unwrap();
        let intermediate =
            self.intermediate.signed_by(&intermediate_key, &Issuer::from_params(&self.root, &root_key)).unwrap();
        let leaf = self.leaf.signed_by(&leaf_key, &Issuer::from_params(&self.intermediate, &intermediate_key)).unwrap();

        let text = |s: &str| Value::Text(s.into());
        let bytes = |b: &[u8]| Value::Bytes(b.to_vec());
        let payload = Value::Map(vec![
            (text("module_id"), text("i-0test-enc0test")),
            (text("digest"), text("SHA384")),
            (text("timestamp"), Value::from(self.timestamp_ms)),
            (text("pcrs"), Value::Map(vec![(Value::from(0), bytes(&[7; 48]))])),
            (text("certificate"), bytes(leaf.der())),
            (text("cabundle"), Value::Array(vec![bytes(root.der()), bytes(intermediate.der())])),
            (text("public_key"), self.public_key.as_deref().map_or(Value::Null, bytes)),
            (text("user_data"), Value::Null),
            (text("nonce"), Value::Null),
        ]);
        let mut payload_bytes = Vec::new();
        ciborium::into_writer(&payload, &mut payload_bytes).unwrap();
        let document = CoseSign1Builder::new()
            .protected(HeaderBuilder::new().algorithm(iana::Algorithm::ES384).build())
            .payload(payload_bytes)
            .create_signature(b"", |tbs| {
                // ring signs ASN.1 DER; COSE wants raw r || s.
                let der = leaf_key.sign(tbs).unwrap();
                p384::ecdsa::Signature::from_der(&der).unwrap().to_bytes().to_vec()
            })
            .build()
            .to_vec()
            .unwrap();
        (root.der().to_vec(), document)
    }

    fn verify(&self) -> Result<(), ErrorCode> {
        let (root, document) = self.issue();
        verify(&document, &root, UnixTime::from_secs(NOW_SECS)).map(|_| ()).map_err(|e| e.kind())
    }
}

/// DER length of the leaf certificate `pki` issues.
fn leaf_len(pki: &Pki) -> usize {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
    let issuer_key = KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap();
    pki.leaf.signed_by(&key, &Issuer::from_params(&pki.intermediate, &issuer_key)).unwrap().der().len()
}

fn rejected(pki: Pki) -> ErrorCode {
    pki.verify().expect_err("should be rejected")
}

#[test]
fn the_unmodified_pki_verifies() {
    Pki::valid().verify().unwrap();
    // basicConstraints is only recommended ("should") on the leaf.
    let mut pki = Pki::valid();
    pki.leaf.is_ca = IsCa::NoCa;
    pki.verify().unwrap();
    // Extra leaf key usages besides digitalSignature are fine (AWS's leaf has nonRepudiation).
    let mut pki = Pki::valid();
    pki.leaf.key_usages.push(KeyUsagePurpose::ContentCommitment);
    pki.verify().unwrap();
    // A CA whose keyUsage is keyCertSign alone (AWS's instance CA).
    let mut pki = Pki::valid();
    pki.intermediate.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    pki.verify().unwrap();
}

#[test]
fn leaf_key_usage_must_include_digital_signature() {
    let mut pki = Pki::valid();
    pki.leaf.key_usages = vec![];
    assert_eq!(rejected(pki), ErrorCode::LeafKeyUsageInvalid);
    let mut pki = Pki::valid();
    pki.leaf.key_usages = vec![KeyUsagePurpose::ContentCommitment, KeyUsagePurpose::KeyAgreement];
    assert_eq!(rejected(pki), ErrorCode::LeafKeyUsageInvalid);
}

#[test]
fn leaf_must_not_be_a_ca() {
    let mut pki = Pki::valid();
    pki.leaf.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    assert_eq!(rejected(pki), ErrorCode::LeafIsCa);
    // cA=false but a pathLenConstraint (AWS: "must be undefined").
    let mut pki = Pki::valid();
    pki.leaf.is_ca = IsCa::NoCa;
    pki.leaf.custom_extensions.push(basic_constraints_extension(&[0x30, 0x03, 0x02, 0x01, 0x00], true));
    assert_eq!(rejected(pki), ErrorCode::LeafIsCa);
    // keyCertSign "may only be asserted in CA certificates".
    let mut pki = Pki::valid();
    pki.leaf.key_usages.push(KeyUsagePurpose::KeyCertSign);
    assert_eq!(rejected(pki), ErrorCode::LeafIsCa);
}

#[test]
fn ca_basic_constraints_must_be_critical() {
    // SEQUENCE { BOOLEAN TRUE, INTEGER 0 }, not critical.
    let mut pki = Pki::valid();
    pki.intermediate.is_ca = IsCa::NoCa;
    pki.intermediate
        .custom_extensions
        .push(basic_constraints_extension(&[0x30, 0x06, 0x01, 0x01, 0xff, 0x02, 0x01, 0x00], false));
    assert_eq!(rejected(pki), ErrorCode::BasicConstraintsNotCritical);
    // The root too. SEQUENCE { BOOLEAN TRUE }.
    let mut pki = Pki::valid();
    pki.root.is_ca = IsCa::NoCa;
    pki.root.custom_extensions.push(basic_constraints_extension(&[0x30, 0x03, 0x01, 0x01, 0xff], false));
    assert_eq!(rejected(pki), ErrorCode::BasicConstraintsNotCritical);
    // The same extension marked critical is accepted (the custom encoding is right).
    let mut pki = Pki::valid();
    pki.root.is_ca = IsCa::NoCa;
    pki.root.custom_extensions.push(basic_constraints_extension(&[0x30, 0x03, 0x01, 0x01, 0xff], true));
    pki.verify().unwrap();
}

#[test]
fn ca_must_have_basic_constraints_ca_true() {
    let mut pki = Pki::valid();
    pki.intermediate.is_ca = IsCa::ExplicitNoCa;
    assert_eq!(rejected(pki), ErrorCode::NotACa);
    let mut pki = Pki::valid();
    pki.intermediate.is_ca = IsCa::NoCa;
    assert_eq!(rejected(pki), ErrorCode::NotACa);
    let mut pki = Pki::valid();
    pki.root.is_ca = IsCa::ExplicitNoCa;
    assert_eq!(rejected(pki), ErrorCode::NotACa);
}

#[test]
fn ca_key_usage_must_include_key_cert_sign() {
    let mut pki = Pki::valid();
    pki.intermediate.key_usages = vec![];
    assert_eq!(rejected(pki), ErrorCode::CaKeyUsageInvalid);
    let mut pki = Pki::valid();
    pki.intermediate.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
    assert_eq!(rejected(pki), ErrorCode::CaKeyUsageInvalid);
    let mut pki = Pki::valid();
    pki.root.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    assert_eq!(rejected(pki), ErrorCode::CaKeyUsageInvalid);
}

#[test]
fn path_length_is_respected() {
    // The root allows no intermediate below it; the intermediate is one.
    let mut pki = Pki::valid();
    pki.root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    assert_eq!(rejected(pki), ErrorCode::PathLengthExceeded);
    let mut pki = Pki::valid();
    pki.root.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    pki.verify().unwrap();
}

#[test]
fn an_extension_must_not_appear_twice() {
    // A second keyUsage (non-critical, keyCertSign) after rcgen's own.
    let mut pki = Pki::valid();
    pki.leaf.custom_extensions.push(CustomExtension::from_oid_content(KEY_USAGE, vec![0x03, 0x02, 0x02, 0x04]));
    assert_eq!(rejected(pki), ErrorCode::InvalidCertificate);
}

#[test]
fn timestamp_must_be_positive() {
    let mut pki = Pki::valid();
    pki.timestamp_ms = 0;
    assert_eq!(rejected(pki), ErrorCode::TimestampZero);
    let mut pki = Pki::valid();
    pki.timestamp_ms = 1;
    pki.verify().unwrap();
}

#[test]
fn certificates_are_at_most_1024_bytes() {
    // A non-critical filler extension (an OCTET STRING under a private OID) grows one certificate.
    let filler = |len: usize| {
        let mut content = vec![0x04, 0x82];
        content.extend(u16::try_from(len).unwrap().to_be_bytes());
        content.extend(vec![0xab; len]);
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], content)
    };
    let mut pki = Pki::valid();
    pki.leaf.custom_extensions.push(filler(700));
    assert_eq!(rejected(pki), ErrorCode::CertificateTooLarge);
    let mut pki = Pki::valid();
    pki.intermediate.custom_extensions.push(filler(700));
    assert_eq!(rejected(pki), ErrorCode::CertificateTooLarge);
    // Up to the limit is fine.
    let mut pki = Pki::valid();
    pki.leaf.custom_extensions.push(filler(300));
    assert!((MAX_CERTIFICATE - 300..=MAX_CERTIFICATE).contains(&leaf_len(&pki)), "{}", leaf_len(&pki));
    pki.verify().unwrap();
}

#[test]
fn public_key_must_not_be_empty() {
    let mut pki = Pki::valid();
    pki.public_key = Some(vec![]);
    assert_eq!(rejected(pki), ErrorCode::InvalidField);
    let mut pki = Pki::valid();
    pki.public_key = Some(vec![1; 1024]);
    pki.verify().unwrap();
}

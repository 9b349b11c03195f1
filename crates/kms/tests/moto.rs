//! The non-recipient calls against a real KMS-compatible server: moto (PyPI `moto[server]`,
//! installed by scripts/install-moto.sh) started here on a free loopback port, reached over this
//! crate's HTTP/1.1 transport with SigV4-signed requests (moto accepts any credentials but parses
//! the AWS JSON protocol as KMS does). moto ignores `Recipient` (it has no attestation support and
//! answers with `Plaintext`), so the attested path is checked in provider.rs and envelope.rs; here
//! the provider is shown to refuse moto's clear-text answer. Skipped with a notice when moto_server
//! is missing, unless SENTINEL_REQUIRE_MOTO is set (CI), which makes a missing server a failure.
mod common;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::rng;
use sentinel_kms::{
    create_key_body, decrypt_body, generate_data_key_body, obtain_master_key, parse_create_key, parse_decrypt,
    parse_generate_data_key, signed_request, Credentials, HttpTransport, KmsConfig, KmsErrorCode, KmsOperation,
    KmsTransport,
};

struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_server() -> Option<PathBuf> {
    let venv = std::env::var_os("SENTINEL_MOTO_VENV")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/sentinel/moto-venv")))?;
    let server = venv.join("bin/moto_server");
    server.exists().then_some(server)
}

fn start() -> Option<(Moto, String)> {
    let Some(server) = moto_server() else {
        let required = std::env::var("SENTINEL_REQUIRE_MOTO").is_ok_and(|v| !v.is_empty());
        assert!(!required, "moto_server missing and SENTINEL_REQUIRE_MOTO is set (run: bash scripts/install-moto.sh)");
        eprintln!("SKIPPED: moto_server missing (run: bash scripts/install-moto.sh)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut moto = Moto(child);
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&addr).is_err() {
        assert!(moto.0.try_wait().unwrap().is_none(), "moto_server exited");
        assert!(Instant::now() < deadline, "moto_server did not listen on {addr} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((moto, addr))
}

#[test]
fn create_generate_and_decrypt_against_moto() {
    let Some((_moto, addr)) = start() else { return };
    let creds = Credentials::new("AKIASENTINELTEST0001", "moto-accepts-any-secret", None).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_637_600);
    let mut transport = HttpTransport::new(|| TcpStream::connect(&addr));
    let endpoint = KmsConfig::with_endpoint("eu-west-1", &addr, "unused").unwrap();
    let mut call = |op, body| {
        let request = signed_request(op, body, &endpoint, &creds, now).unwrap();
        transport.send(&request).unwrap()
    };

    let key_id = parse_create_key(&call(KmsOperation::CreateKey, create_key_body("sentinel-kms test"))).unwrap();
    let generated =
        parse_generate_data_key(&call(KmsOperation::GenerateDataKey, generate_data_key_body(&key_id, None).unwrap()))
            .unwrap();
    let plaintext = generated.plaintext.clone().unwrap();
    assert_eq!(plaintext.len(), 32);
    let blob = generated.ciphertext_blob.clone().unwrap();
    assert!(generated.key_id.as_deref().unwrap().ends_with(&key_id));

    let decrypted =
        parse_decrypt(&call(KmsOperation::Decrypt, decrypt_body(&blob, Some(&key_id), None).unwrap())).unwrap();
    assert_eq!(decrypted.plaintext.unwrap().as_slice(), plaintext.as_slice());
    let decrypted = parse_decrypt(&call(KmsOperation::Decrypt, decrypt_body(&blob, None, None).unwrap())).unwrap();
    assert_eq!(decrypted.plaintext.unwrap().as_slice(), plaintext.as_slice());

    // A modified blob: KMS's InvalidCiphertextException.
    let mut tampered = blob.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let e =
        parse_decrypt(&call(KmsOperation::Decrypt, decrypt_body(&tampered, Some(&key_id), None).unwrap())).unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::CiphertextInvalid, "{}", e.message());

    // An unknown key: NotFoundException.
    let missing = "11111111-2222-3333-4444-555555555555";
    let e =
        parse_generate_data_key(&call(KmsOperation::GenerateDataKey, generate_data_key_body(missing, None).unwrap()))
            .unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::RequestFailed, "{}", e.message());
    assert!(e.message().contains("NotFoundException"), "{}", e.message());

    // The provider sends Recipient; moto ignores it and answers in clear: refused, never used.
    let cfg = KmsConfig::with_endpoint("eu-west-1", &addr, &key_id).unwrap();
    let attest = |public_key: &[u8]| -> Result<Vec<u8>, String> { Ok(public_key.to_vec()) };
    let mut transport = HttpTransport::new(|| TcpStream::connect(&addr));
    let e = obtain_master_key(&mut transport, &creds, &cfg, None, attest, &mut rng(1), now).unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::ResponseMalformed, "{}", e.message());
    assert!(e.message().contains("Plaintext present"), "{}", e.message());
}

//! obtain_master_key end to end against a fake KMS that behaves as KMS documents Recipient: it
//! reads the attested public key from the request and answers with an envelope for it. First boot,
//! later boot, and every way the answer can be wrong. Also the HTTP/1.1 transport against a local
//! server (content-length and chunked bodies, KMS error bodies).
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, UNIX_EPOCH};

use common::{b64, body_json, envelope_for, response, rng, unb64, Scripted};
use sentinel_kms::{
    obtain_master_key, send_http1, Credentials, HttpRequest, HttpResponse, HttpTransport, KmsConfig, KmsErrorCode,
    RecipientKey,
};
use serde_json::json;

const DATA_KEY: [u8; 32] = [0xa5; 32];
const BLOB: &[u8] = b"kms-ciphertext-blob: opaque to the enclave";

fn cfg() -> KmsConfig {
    KmsConfig::aws("eu-west-1", "alias/sentinel").unwrap()
}

fn creds() -> Credentials {
    Credentials::new("AKIATEST", "secret", None).unwrap()
}

/// The test's "NSM": the document is a marker plus the public key it attests.
fn attest(public_key: &[u8]) -> Result<Vec<u8>, String> {
    Ok([b"DOC:".as_slice(), public_key].concat())
}

/// A KMS that honours Recipient: the envelope is for the key in the attestation document.
fn kms(content: Vec<u8>) -> impl FnMut(&HttpRequest) -> HttpResponse {
    move |request| {
        let body = body_json(request);
        let doc = unb64(body["Recipient"]["AttestationDocument"].as_str().unwrap());
        let envelope = envelope_for(&doc[4..], &content, 11);
        let mut answer = json!({"KeyId": "arn:aws:kms:eu-west-1:1:key/k", "CiphertextForRecipient": b64(&envelope)});
        if request.header("x-amz-target") == Some("TrentService.GenerateDataKey") {
            answer["CiphertextBlob"] = json!(b64(BLOB));
        }
        response(200, answer)
    }
}

#[test]
fn first_boot_generates_and_later_boots_decrypt_to_the_same_key() {
    let now = UNIX_EPOCH + Duration::from_secs(1_796_637_600);
    let mut first = Scripted { requests: vec![], answer: kms(DATA_KEY.to_vec()) };
    let (key, blob) = obtain_master_key(&mut first, &creds(), &cfg(), None, attest, &mut rng(1), now).unwrap();
    assert_eq!(key.hazmat_bytes(), &DATA_KEY);
    assert_eq!(blob, BLOB);
    assert_eq!(format!("{key:?}"), "MasterKeyBytes(<redacted>)");
    let request = &first.requests[0];
    assert_eq!(request.header("x-amz-target"), Some("TrentService.GenerateDataKey"));
    assert_eq!(request.header("x-amz-date"), Some("20261207T100000Z"));
    let body = body_json(request);
    assert_eq!(body["KeyId"], "alias/sentinel");
    assert_eq!(body["KeySpec"], "AES_256");
    assert_eq!(body["Recipient"]["KeyEncryptionAlgorithm"], "RSAES_OAEP_SHA_256");

    let mut later = Scripted { requests: vec![], answer: kms(DATA_KEY.to_vec()) };
    let (again, same_blob) =
        obtain_master_key(&mut later, &creds(), &cfg(), Some(&blob), attest, &mut rng(2), now).unwrap();
    assert_eq!(again.hazmat_bytes(), &DATA_KEY);
    assert_eq!(same_blob, BLOB);
    let body = body_json(&later.requests[0]);
    assert_eq!(later.requests[0].header("x-amz-target"), Some("TrentService.Decrypt"));
    assert_eq!(unb64(body["CiphertextBlob"].as_str().unwrap()), BLOB);
    assert_eq!(body["KeyId"], "alias/sentinel");
    // A fresh ephemeral key per call: the two attested keys differ.
    assert_ne!(body["Recipient"], body_json(&first.requests[0])["Recipient"]);
}

fn failure(answer: impl FnMut(&HttpRequest) -> HttpResponse, stored: Option<&[u8]>) -> sentinel_kms::KmsError {
    let mut t = Scripted { requests: vec![], answer };
    obtain_master_key(&mut t, &creds(), &cfg(), stored, attest, &mut rng(3), UNIX_EPOCH).unwrap_err()
}

#[test]
fn wrong_answers_are_refused_with_stable_codes() {
    // KMS's own refusals.
    let denied = failure(
        |_| response(400, json!({"__type": "AccessDeniedException", "message": "attestation does not match"})),
        None,
    );
    assert_eq!(denied.kind(), KmsErrorCode::AccessDenied);
    assert!(denied.message().contains("attestation does not match"));
    let bad_blob =
        failure(|_| response(400, json!({"__type": "com.amazonaws.kms#InvalidCiphertextException"})), Some(BLOB));
    assert_eq!(bad_blob.kind(), KmsErrorCode::CiphertextInvalid);
    let throttled = failure(|_| response(400, json!({"__type": "ThrottlingException", "Message": "slow down"})), None);
    assert_eq!(throttled.kind(), KmsErrorCode::RequestFailed);
    assert!(throttled.message().contains("ThrottlingException") && throttled.message().contains("slow down"));
    let gateway = failure(|_| HttpResponse { status: 502, body: b"<html>bad gateway</html>".to_vec() }, None);
    assert_eq!(gateway.kind(), KmsErrorCode::RequestFailed);

    // A KMS look-alike that ignores Recipient and sends the key in clear: refused, not used.
    let clear = failure(|_| response(200, json!({"CiphertextBlob": b64(BLOB), "Plaintext": b64(&DATA_KEY)})), None);
    assert_eq!(clear.kind(), KmsErrorCode::ResponseMalformed);
    assert!(clear.message().contains("Plaintext"));
    // Malformed bodies.
    for body in [
        json!({"CiphertextForRecipient": b64(b"x")}),
        json!({"CiphertextBlob": "not base64!", "CiphertextForRecipient": "AA=="}),
        json!([1, 2]),
    ] {
        assert_eq!(failure(move |_| response(200, body.clone()), None).kind(), KmsErrorCode::ResponseMalformed);
    }
    // An envelope for another key, and one holding 16 bytes instead of 32.
    let other = RecipientKey::generate(&mut rng(4)).unwrap();
    let foreign = envelope_for(other.public_key_der(), &DATA_KEY, 5);
    let e = failure(move |_| response(200, json!({"CiphertextForRecipient": b64(&foreign)})), Some(BLOB));
    assert_eq!(e.kind(), KmsErrorCode::RecipientInvalid);
    let mut short = Scripted { requests: vec![], answer: kms(vec![1; 16]) };
    let e = obtain_master_key(&mut short, &creds(), &cfg(), None, attest, &mut rng(6), UNIX_EPOCH).unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::RecipientInvalid);
    assert!(e.message().contains("16 bytes"));

    // The attestation callback failing, and a bad stored blob: nothing is sent.
    let mut t = Scripted { requests: vec![], answer: kms(DATA_KEY.to_vec()) };
    let e =
        obtain_master_key(&mut t, &creds(), &cfg(), None, |_| Err("NSM busy"), &mut rng(7), UNIX_EPOCH).unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::AttestationFailed);
    let e = obtain_master_key(&mut t, &creds(), &cfg(), Some(&[]), attest, &mut rng(7), UNIX_EPOCH).unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::ArgumentInvalid);
    assert!(t.requests.is_empty());
}

/// A one-shot local HTTP server: returns what it read and writes `answer`.
fn serve_once(answer: Vec<u8>) -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.extend_from_slice(line.as_bytes());
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        head.extend_from_slice(&body);
        let mut stream = reader.into_inner();
        stream.write_all(&answer).unwrap();
        head
    });
    (addr, handle)
}

fn request() -> HttpRequest {
    HttpRequest {
        method: "POST",
        path: "/",
        headers: vec![("host".into(), "kms.test".into()), ("x-amz-target".into(), "TrentService.Decrypt".into())],
        body: br#"{"CiphertextBlob":"AA=="}"#.to_vec(),
    }
}

#[test]
fn http_transport_writes_the_request_and_reads_length_and_chunked_bodies() {
    let (addr, server) = serve_once(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 11\r\n\r\n{\"a\":\"b\"}\r\n"
            .to_vec(),
    );
    let mut transport = HttpTransport::new(|| TcpStream::connect(&addr));
    let r = sentinel_kms::KmsTransport::send(&mut transport, &request()).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, b"{\"a\":\"b\"}\r\n".as_slice()));
    let sent = String::from_utf8(server.join().unwrap()).unwrap();
    assert_eq!(
        sent,
        "POST / HTTP/1.1\r\nhost: kms.test\r\nx-amz-target: TrentService.Decrypt\r\ncontent-length: 25\r\nconnection: close\r\n\r\n{\"CiphertextBlob\":\"AA==\"}"
    );

    let chunked = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n1c\r\n{\"__type\":\"NotFoundException\r\n8\r\n\",\"x\":1}\r\n0\r\n\r\n".to_vec();
    let (addr, server) = serve_once(chunked);
    let mut stream = TcpStream::connect(&addr).unwrap();
    let r = send_http1(&mut stream, &request()).unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(r.body, br#"{"__type":"NotFoundException","x":1}"#);
    server.join().unwrap();
    let e = sentinel_kms::parse_decrypt(&r).unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::RequestFailed);
    assert!(e.message().contains("NotFoundException"));
}

#[test]
fn http_transport_refuses_short_oversized_and_garbled_answers() {
    let cases: Vec<(&[u8], KmsErrorCode)> = vec![
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}", KmsErrorCode::ResponseMalformed),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", KmsErrorCode::ResponseMalformed),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", KmsErrorCode::ResponseMalformed),
        (b"SMTP ready\r\n\r\n", KmsErrorCode::ResponseMalformed),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", KmsErrorCode::ResponseMalformed),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", KmsErrorCode::ResponseMalformed),
        (b"HTTP/1.1 200 OK\r\nContent-", KmsErrorCode::TransportFailed),
    ];
    for (answer, code) in cases {
        let (addr, server) = serve_once(answer.to_vec());
        let mut stream = TcpStream::connect(&addr).unwrap();
        let e = send_http1(&mut stream, &request()).unwrap_err();
        assert_eq!(e.kind(), code, "{:?}: {}", String::from_utf8_lossy(answer), e.message());
        server.join().unwrap();
    }
    // A header value with CR/LF is refused before anything is written.
    let mut bad = request();
    bad.headers.push(("x-evil".into(), "a\r\nx-injected: 1".into()));
    let mut sink: Vec<u8> = Vec::new();
    let mut io = std::io::Cursor::new(&mut sink);
    assert_eq!(send_http1(&mut io, &bad).unwrap_err().kind(), KmsErrorCode::ArgumentInvalid);
    assert!(sink.is_empty());
}

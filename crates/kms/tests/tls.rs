//! TLS inside the enclave (feature `tls`, which `cargo test -p sentinel-kms` turns on through the
//! crate's dev-dependency on itself): a local rustls server with a test CA's certificate
//! (test/vectors/kms, made by generate.sh) answers one request through `TlsConnector` +
//! `HttpTransport`; an expired or not-yet-valid certificate at the caller's time, another server
//! name, or Mozilla's roots (which do not hold the test CA) fail as KMS_TRANSPORT_FAILED.
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::vector;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use sentinel_kms::tls::TlsConnector;
use sentinel_kms::{HttpRequest, HttpTransport, KmsErrorCode, KmsTransport};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}
/// 2027-06-01: inside the test certificate's ten years (from 2026-12-07).
const VALID: u64 = 1_811_808_000;

/// Serves one TLS connection: reads a request, answers 200 with a small JSON body. Handshake
/// failures end the thread quietly (the client's error is what the tests check).
fn tls_server() -> (String, std::thread::JoinHandle<Option<String>>) {
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(vector("tls-server-cert.der"))],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(vector("tls-server-key.pk8.der"))),
        )
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (socket, _) = listener.accept().ok()?;
        let conn = ServerConnection::new(Arc::new(config)).ok()?;
        let mut reader = BufReader::new(StreamOwned::new(conn, socket));
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().ok()?;
            }
            head.push_str(&line);
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        let mut stream = reader.into_inner();
        stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\n{\"KeyId\":\"k\"}\n").ok()?;
        stream.conn.send_close_notify();
        stream.flush().ok()?;
        Some(head)
    });
    (addr, handle)
}

fn request() -> HttpRequest {
    HttpRequest { method: "POST", path: "/", headers: vec![("host".into(), "localhost".into())], body: b"{}".to_vec() }
}

fn send(server_name: &str, now: u64, test_ca: bool) -> Result<sentinel_kms::HttpResponse, sentinel_kms::KmsError> {
    let (addr, server) = tls_server();
    let connect = move || TcpStream::connect(&addr);
    let ca = vector("tls-ca.der");
    let connector = if test_ca {
        TlsConnector::with_roots(connect, server_name, &[ca.as_slice()], at(now)).unwrap()
    } else {
        TlsConnector::new(connect, server_name, at(now)).unwrap()
    };
    let result = HttpTransport::new(connector).send(&request());
    let head = server.join().unwrap();
    if result.is_ok() {
        assert!(head.unwrap().starts_with("POST / HTTP/1.1\r\nhost: localhost\r\n"));
    }
    result
}

#[test]
fn a_request_goes_through_tls_to_a_trusted_server() {
    let response = send("localhost", VALID, true).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"{\"KeyId\":\"k\"}\n");
}

#[test]
fn certificates_are_checked_at_the_callers_time_name_and_roots() {
    for (name, now, test_ca, why) in [
        ("localhost", 2_114_380_800, true, "expired at the time passed in"),
        ("localhost", 1_767_225_600, true, "not yet valid at the time passed in"),
        ("kms.eu-west-1.amazonaws.com", VALID, true, "another server name"),
        ("localhost", VALID, false, "Mozilla's roots do not hold the test CA"),
    ] {
        let e = send(name, now, test_ca).unwrap_err();
        assert_eq!(e.kind(), KmsErrorCode::TransportFailed, "{why}: {}", e.message());
        // The handshake failed on the certificate, not on the connection.
        assert!(e.message().contains("certificate"), "{why}: {}", e.message());
    }
}

#[test]
fn bad_tls_arguments_name_the_field() {
    let connect = || TcpStream::connect("127.0.0.1:9");
    let e = TlsConnector::new(connect, "not a name!", at(VALID)).err().unwrap();
    assert!(e.message().starts_with("server_name"), "{}", e.message());
    let e =
        TlsConnector::with_roots(connect, "localhost", &[b"not a certificate".as_slice()], at(VALID)).err().unwrap();
    assert!(e.message().starts_with("roots[0]"), "{}", e.message());
}

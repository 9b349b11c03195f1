//! The production master-key provider, wired: `sealing_unlock` asks AWS KMS for this enclave's
//! master key with its attestation document as `Recipient` (crates/kms).
//!
//! An enclave launched with `--sealing aws-kms` boots without a master key and seals nothing until
//! the host sends `sealing_unlock` with the parent's AWS credentials and the stored `CiphertextBlob`
//! (none on the very first boot). The enclave draws an ephemeral RSA-2048 key, has its NSM attest
//! the public half (with the configuration in `user_data`), and calls KMS through a
//! [`KmsConnector`]: in production a vsock connection to the parent's relay, wrapped in TLS that
//! ends here, so the parent carries only ciphertext. KMS releases the data key only if its key
//! policy admits this PCR0 (docs/kms-key-policy.json), and only as an envelope for the attested RSA
//! key. The host receives the `CiphertextBlob` to store; it is useless to anything but an enclave
//! KMS admits. Trusts: KMS and its key policy, the TLS roots, and `sentinel-kms`.
use std::time::SystemTime;

use sentinel_kms::{obtain_master_key, Credentials, KmsConfig, KmsError, KmsTransport};
use sentinel_nsm::AttestationRequest;
use sentinel_protocol::{EnclaveError, EnclaveErrorCode, Response, SealingUnlockArgs, SealingUnlocked};
use sentinel_seal::{MasterKey, SealingKind};

use crate::enclave::Enclave;

/// How the enclave reaches KMS: one fresh transport per unlock.
pub trait KmsConnector: Send + Sync {
    /// A transport to `server_name` (the endpoint's DNS name, for TLS), certificates judged at `now`.
    fn transport(&self, server_name: &str, now: SystemTime) -> Result<Box<dyn KmsTransport>, KmsError>;
}

fn refuse(code: EnclaveErrorCode, message: impl Into<String>) -> Response {
    Response::error(&EnclaveError::new(code, message))
}

fn failed(e: &KmsError) -> Response {
    refuse(EnclaveErrorCode::KmsUnlockFailed, format!("{}: {}", e.code(), e.message()))
}

impl Enclave {
    /// `sealing_unlock`: see the module doc.
    pub(crate) fn sealing_unlock(&self, args: &SealingUnlockArgs) -> Response {
        if self.sealing.kind() != SealingKind::AwsKms || self.sealing.master().is_some() {
            return refuse(
                EnclaveErrorCode::SealingUnlockState,
                format!(
                    "sealing_unlock: this enclave seals with `{}`{}",
                    self.sealing.kind().as_str(),
                    if self.sealing.master().is_some() { " and already holds its master key" } else { "" }
                ),
            );
        }
        let Some(connector) = self.kms.get() else {
            return refuse(
                EnclaveErrorCode::KmsUnlockFailed,
                "this enclave was started without a KMS relay (--kms-relay)",
            );
        };
        let credentials = match Credentials::new(
            &args.access_key_id,
            args.secret_access_key.expose(),
            args.session_token.as_ref().map(|t| t.expose()),
        ) {
            Ok(c) => c,
            Err(e) => return failed(&e),
        };
        let config = match &args.endpoint {
            Some(host) => KmsConfig::with_endpoint(&args.region, host, &args.key_id),
            None => KmsConfig::aws(&args.region, &args.key_id),
        };
        let config = match config {
            Ok(c) => c,
            Err(e) => return failed(&e),
        };
        let now = SystemTime::now();
        let mut transport = match connector.transport(config.host(), now) {
            Ok(t) => t,
            Err(e) => return failed(&e),
        };
        let user_data = self.installed().map(|i| {
            sentinel_evidence::UserData { config_hash: i.config_hash, policy_hash: i.policy.as_ref().map(|p| p.hash) }
                .to_bytes()
                .to_vec()
        });
        let attest = |spki: &[u8]| {
            self.nsm.attestation(&AttestationRequest { user_data, nonce: None, public_key: Some(spki.to_vec()) })
        };
        let (key, blob) = match obtain_master_key(
            &mut *transport,
            &credentials,
            &config,
            args.ciphertext_blob.as_deref(),
            attest,
            &mut crate::Entropy,
            now,
        ) {
            Ok(v) => v,
            Err(e) => return failed(&e),
        };
        if !self.sealing.unlock(MasterKey::from_bytes(*key.hazmat_bytes())) {
            return refuse(EnclaveErrorCode::SealingUnlockState, "sealing_unlock: a master key arrived meanwhile");
        }
        tracing::info!(key_id = %args.key_id, first_boot = args.ciphertext_blob.is_none(), "master key obtained from AWS KMS");
        Response::SealingUnlocked(SealingUnlocked {
            ciphertext_blob: blob,
            sealing: SealingKind::AwsKms.as_str().into(),
        })
    }
}

/// The production way to KMS: a TCP-like stream the parent relays to the KMS endpoint (vsock to the
/// parent, or TCP where the relay listens on one), wrapped in TLS to the endpoint's name with
/// Mozilla's roots, one connection per request. The relay sees only TLS records.
pub struct RelayConnector {
    relay: Relay,
}

/// Where the parent's relay to KMS listens.
#[derive(Clone, Debug)]
pub enum Relay {
    /// vsock port on the parent (CID 3): production.
    Vsock(u32),
    /// A TCP address (a relay outside an enclave, e.g. in front of a VPC endpoint).
    Tcp(String),
}

impl Relay {
    /// `vsock:PORT` or `tcp:HOST:PORT`.
    pub fn parse(text: &str) -> Result<Relay, String> {
        if let Some(port) = text.strip_prefix("vsock:") {
            return port
                .parse()
                .map(Relay::Vsock)
                .map_err(|_| format!("--kms-relay {text}: vsock:PORT needs a port number"));
        }
        if let Some(addr) = text.strip_prefix("tcp:") {
            if addr.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok()) {
                return Ok(Relay::Tcp(addr.to_string()));
            }
        }
        Err(format!("--kms-relay {text}: expected vsock:PORT or tcp:HOST:PORT"))
    }
}

impl RelayConnector {
    pub fn new(relay: Relay) -> Self {
        RelayConnector { relay }
    }
}

/// Connections to the relay are bounded in time: a relay that never answers fails the unlock.
const RELAY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A connected relay stream of either kind.
enum RelayStream {
    Tcp(std::net::TcpStream),
    #[cfg(feature = "hardware")]
    Vsock(vsock::VsockStream),
}

impl std::io::Read for RelayStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            RelayStream::Tcp(s) => s.read(buf),
            #[cfg(feature = "hardware")]
            RelayStream::Vsock(s) => s.read(buf),
        }
    }
}

impl std::io::Write for RelayStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            RelayStream::Tcp(s) => s.write(buf),
            #[cfg(feature = "hardware")]
            RelayStream::Vsock(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            RelayStream::Tcp(s) => s.flush(),
            #[cfg(feature = "hardware")]
            RelayStream::Vsock(s) => s.flush(),
        }
    }
}

fn connect(relay: &Relay) -> std::io::Result<RelayStream> {
    match relay {
        Relay::Tcp(addr) => {
            let stream = std::net::TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(RELAY_TIMEOUT))?;
            stream.set_write_timeout(Some(RELAY_TIMEOUT))?;
            Ok(RelayStream::Tcp(stream))
        }
        #[cfg(feature = "hardware")]
        Relay::Vsock(port) => {
            // CID 3: the parent instance, where the relay to the KMS endpoint listens.
            let stream = vsock::VsockStream::connect_with_cid_port(3, *port)?;
            stream.set_read_timeout(Some(RELAY_TIMEOUT))?;
            stream.set_write_timeout(Some(RELAY_TIMEOUT))?;
            Ok(RelayStream::Vsock(stream))
        }
        #[cfg(not(feature = "hardware"))]
        Relay::Vsock(_) => Err(std::io::Error::other("this build has no vsock transport (feature `hardware`)")),
    }
}

impl KmsConnector for RelayConnector {
    fn transport(&self, server_name: &str, now: SystemTime) -> Result<Box<dyn KmsTransport>, KmsError> {
        let relay = self.relay.clone();
        let tls = sentinel_kms::tls::TlsConnector::new(move || connect(&relay), server_name, now)?;
        Ok(Box::new(sentinel_kms::HttpTransport::new(tls)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_parse_and_bad_ones_are_named() {
        assert!(matches!(Relay::parse("vsock:8000"), Ok(Relay::Vsock(8000))));
        assert!(matches!(Relay::parse("tcp:127.0.0.1:8443"), Ok(Relay::Tcp(a)) if a == "127.0.0.1:8443"));
        for bad in ["vsock:x", "tcp:nohost", "tcp::1", "http://kms", ""] {
            assert!(Relay::parse(bad).unwrap_err().contains("--kms-relay"), "{bad}");
        }
    }

    #[test]
    fn a_relay_that_is_not_there_fails_the_transport_not_the_enclave() {
        // Port 1 on loopback: nothing listens; the error is a KMS transport failure with a code.
        let connector = RelayConnector::new(Relay::Tcp("127.0.0.1:1".into()));
        let mut transport = connector.transport("kms.eu-west-1.amazonaws.com", SystemTime::now()).unwrap();
        let request = sentinel_kms::signed_request(
            sentinel_kms::KmsOperation::Decrypt,
            b"{}".to_vec(),
            &KmsConfig::aws("eu-west-1", "alias/k").unwrap(),
            &Credentials::new("AKIA", "secret", None).unwrap(),
            SystemTime::now(),
        )
        .unwrap();
        let e = transport.send(&request).unwrap_err();
        assert_eq!(e.code(), "KMS_TRANSPORT_FAILED");
    }
}

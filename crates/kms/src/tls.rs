//! TLS that ends inside the enclave (feature `tls`): rustls over any stream a [`Connect`] opens,
//! normally the vsock relay the parent runs to the KMS endpoint, so the parent carries only
//! ciphertext. Decides the TLS configuration: rustls's safe defaults (TLS 1.3 and 1.2, the `ring`
//! provider), Mozilla's roots from `webpki-roots` unless the caller names others, the server name
//! checked against the certificate, and certificate validity judged at the time the caller passes
//! in (no clock read). Trusts rustls, ring and the roots. The one hidden input in this crate is
//! here: the TLS handshake draws its randomness from ring's system RNG (`getrandom`), which inside a
//! Nitro Enclave is the kernel's, seeded from the NSM.
use std::io;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::error::{err, KmsError, KmsErrorCode};
use crate::http::Connect;

/// Certificate validity is judged at this instant, the caller's time (the enclave's clock read
/// once for the KMS call, as it is for SigV4).
#[derive(Debug)]
struct FixedTime(UnixTime);

impl TimeProvider for FixedTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(self.0)
    }
}

/// A [`Connect`] that wraps every stream `inner` opens in a TLS client session to `server_name`.
pub struct TlsConnector<C> {
    inner: C,
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl<C: Connect> TlsConnector<C> {
    /// TLS to `server_name` (the KMS endpoint's DNS name, e.g. `kms.eu-west-1.amazonaws.com`)
    /// with Mozilla's roots (`webpki-roots`), certificates checked at `now`.
    pub fn new(inner: C, server_name: &str, now: SystemTime) -> Result<Self, KmsError> {
        let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        Self::build(inner, server_name, roots, now)
    }

    /// The same with the caller's roots (DER certificates) instead: a private CA in front of a VPC
    /// endpoint, or a test CA.
    pub fn with_roots(inner: C, server_name: &str, roots_der: &[&[u8]], now: SystemTime) -> Result<Self, KmsError> {
        let mut roots = RootCertStore::empty();
        for (i, der) in roots_der.iter().enumerate() {
            roots
                .add(CertificateDer::from(der.to_vec()))
                .map_err(|e| err(KmsErrorCode::ArgumentInvalid, format!("roots[{i}]: {e}")))?;
        }
        Self::build(inner, server_name, roots, now)
    }

    fn build(inner: C, server_name: &str, roots: RootCertStore, now: SystemTime) -> Result<Self, KmsError> {
        let since_epoch =
            now.duration_since(UNIX_EPOCH).map_err(|_| err(KmsErrorCode::ArgumentInvalid, "now: before 1970"))?;
        let server_name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| err(KmsErrorCode::ArgumentInvalid, "server_name: not a DNS name or IP address"))?;
        // ring, not aws-lc-rs: ring is already in the workspace and builds for static musl without a
        // C/CMake toolchain. rustls deprecates its ring provider only for lacking post-quantum key
        // exchange (X25519MLKEM768); classical ECDHE is what KMS endpoints negotiate with it.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let config = ClientConfig::builder_with_details(
            Arc::new(provider),
            Arc::new(FixedTime(UnixTime::since_unix_epoch(since_epoch))),
        )
        .with_safe_default_protocol_versions()
        .map_err(|e| err(KmsErrorCode::ArgumentInvalid, format!("TLS configuration: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(TlsConnector { inner, config: Arc::new(config), server_name })
    }
}

impl<C: Connect> Connect for TlsConnector<C> {
    type Stream = StreamOwned<ClientConnection, C::Stream>;

    /// Opens the inner stream and starts a TLS session on it; the handshake runs on first use, and
    /// its failures (an untrusted or expired certificate, another name) surface as I/O errors,
    /// which the HTTP layer reports as `KMS_TRANSPORT_FAILED`.
    fn connect(&mut self) -> io::Result<Self::Stream> {
        let stream = self.inner.connect()?;
        let session = ClientConnection::new(self.config.clone(), self.server_name.clone()).map_err(io::Error::other)?;
        Ok(StreamOwned::new(session, stream))
    }
}

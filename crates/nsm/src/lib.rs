//! Sentinel's Nitro Security Module (NSM) layer.
//!
//! The enclave asks its NSM for attestation documents through one trait,
//! [`NsmProvider`], with two implementations:
//!
//! - `hardware::NitroNsm` (feature `hardware`, Linux only): the real module
//!   behind `/dev/nsm`, through AWS's `aws-nitro-enclaves-nsm-api` crate. The
//!   enclave binary enables this feature and no other.
//! - `simulator::SimulatedNsm` (feature `simulator`, never in production):
//!   issues documents byte-compatible with AWS's (untagged `COSE_Sign1`,
//!   ES384, same payload map and key order), signed under a development root
//!   CA that it creates on first use and keeps in its data directory.
//!
//! [`pcr`] computes PCR values with nitro-cli's formula.
//!
//! # `user_data` is never chosen by a client
//!
//! Letting a remote party choose `user_data` turns the enclave into a signing
//! oracle for arbitrary statements under its attestation (a known attack on
//! enclave services). Sentinel's clients supply only a nonce; the enclave
//! program fills [`AttestationRequest::user_data`] itself with a digest
//! binding its own state. This crate passes the value through unchanged: the
//! rule is enforced by its callers, which must never copy client bytes there.
//!
//! # No hidden inputs
//!
//! Nothing here reads a clock or the environment: the simulator is handed a
//! [`simulator::Clock`]. The simulator reads and writes only the data
//! directory it is given, and draws key material from the OS random source.
#![forbid(unsafe_code)]

mod error;
pub mod pcr;

#[cfg(any(all(feature = "hardware", target_os = "linux"), test))]
#[cfg_attr(not(all(feature = "hardware", target_os = "linux")), allow(dead_code))]
mod protocol;

#[cfg(all(feature = "hardware", target_os = "linux"))]
pub mod hardware;

#[cfg(feature = "simulator")]
pub mod simulator;

pub use error::{Error, NsmErrorCode};
pub use pcr::{Pcr, PCR_COUNT, PCR_LEN};

/// Largest `user_data` AWS accepts (bytes).
pub const MAX_USER_DATA_LEN: usize = 512;
/// Largest `nonce` AWS accepts (bytes).
pub const MAX_NONCE_LEN: usize = 512;
/// Largest `public_key` AWS accepts (bytes).
pub const MAX_PUBLIC_KEY_LEN: usize = 1024;

/// The fields an attestation document binds besides the enclave's PCRs.
///
/// Limits are AWS's (`aws-nitro-enclaves-nsm-api`, "Attestation document
/// validation"): `user_data` and `nonce` at most 512 bytes, `public_key`
/// 1 to 1024 bytes. [`AttestationRequest::validate`] checks them, and both
/// providers call it before doing anything else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttestationRequest {
    /// Chosen by the enclave program, never by a client: a digest binding the
    /// enclave's own state (see the crate documentation).
    pub user_data: Option<Vec<u8>>,
    /// The client's challenge, copied verbatim.
    pub nonce: Option<Vec<u8>>,
    /// A DER-encoded public key of the enclave that the document vouches for.
    pub public_key: Option<Vec<u8>>,
}

impl AttestationRequest {
    /// Checks AWS's size limits. Errors: `USER_DATA_TOO_LARGE`,
    /// `NONCE_TOO_LARGE`, `PUBLIC_KEY_TOO_LARGE`, `PUBLIC_KEY_EMPTY`.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(user_data) = &self.user_data {
            if user_data.len() > MAX_USER_DATA_LEN {
                return Err(Error::UserDataTooLarge { len: user_data.len() });
            }
        }
        if let Some(nonce) = &self.nonce {
            if nonce.len() > MAX_NONCE_LEN {
                return Err(Error::NonceTooLarge { len: nonce.len() });
            }
        }
        if let Some(public_key) = &self.public_key {
            if public_key.is_empty() {
                return Err(Error::PublicKeyEmpty);
            }
            if public_key.len() > MAX_PUBLIC_KEY_LEN {
                return Err(Error::PublicKeyTooLarge { len: public_key.len() });
            }
        }
        Ok(())
    }
}

/// A Nitro Security Module: the real one or the simulator.
pub trait NsmProvider: Send + Sync {
    /// An attestation document (untagged `COSE_Sign1` bytes, exactly as the
    /// NSM returns them) binding the request's fields and the current PCRs.
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, Error>;

    /// The current values of PCR0..=PCR15.
    fn describe_pcrs(&self) -> Result<[Pcr; PCR_COUNT], Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(user_data: Option<usize>, nonce: Option<usize>, public_key: Option<usize>) -> AttestationRequest {
        AttestationRequest {
            user_data: user_data.map(|n| vec![1; n]),
            nonce: nonce.map(|n| vec![2; n]),
            public_key: public_key.map(|n| vec![3; n]),
        }
    }

    #[test]
    fn limits_are_aws_limits() {
        assert_eq!(request(None, None, None).validate(), Ok(()));
        assert_eq!(request(Some(512), Some(512), Some(1024)).validate(), Ok(()));
        assert_eq!(request(Some(0), Some(0), Some(1)).validate(), Ok(()));
        let cases = [
            (request(Some(513), None, None), "USER_DATA_TOO_LARGE"),
            (request(None, Some(513), None), "NONCE_TOO_LARGE"),
            (request(None, None, Some(1025)), "PUBLIC_KEY_TOO_LARGE"),
            (request(None, None, Some(0)), "PUBLIC_KEY_EMPTY"),
        ];
        for (req, code) in cases {
            let err = req.validate().unwrap_err();
            assert_eq!(err.code(), code);
            assert!(err.to_string().starts_with(code));
        }
    }

    #[test]
    fn messages_name_the_field() {
        assert_eq!(Error::NonceTooLarge { len: 600 }.message(), "nonce: 600 bytes, at most 512 allowed");
        assert_eq!(Error::Nsm(NsmErrorCode::InputTooLarge).code(), "NSM_INPUT_TOO_LARGE");
        assert_eq!(Error::NsmUnavailable.code(), "NSM_UNAVAILABLE");
    }
}

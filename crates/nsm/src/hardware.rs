//! The real provider: the Nitro Security Module behind `/dev/nsm`.
//!
//! Only the enclave binary enables the `hardware` feature; it builds on Linux
//! only. Outside a Nitro Enclave there is no `/dev/nsm`, and
//! [`NitroNsm::open`] fails with `NSM_UNAVAILABLE`.
use aws_nitro_enclaves_nsm_api::driver;

use crate::protocol;
use crate::{AttestationRequest, Error, NsmProvider, Pcr, PCR_COUNT};

/// An open `/dev/nsm`. The descriptor is closed on drop.
#[derive(Debug)]
pub struct NitroNsm {
    fd: i32,
}

impl NitroNsm {
    /// Opens `/dev/nsm`. Error: `NSM_UNAVAILABLE` when it cannot be opened.
    pub fn open() -> Result<Self, Error> {
        let fd = driver::nsm_init();
        if fd < 0 {
            return Err(Error::NsmUnavailable);
        }
        Ok(NitroNsm { fd })
    }
}

impl Drop for NitroNsm {
    fn drop(&mut self) {
        driver::nsm_exit(self.fd);
    }
}

impl NsmProvider for NitroNsm {
    fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, Error> {
        let request = protocol::attestation_request(request)?;
        protocol::attestation_response(driver::nsm_process_request(self.fd, request))
    }

    fn describe_pcrs(&self) -> Result<[Pcr; PCR_COUNT], Error> {
        let mut pcrs = [[0u8; 48]; PCR_COUNT];
        for (index, pcr) in (0u16..).zip(pcrs.iter_mut()) {
            let response = driver::nsm_process_request(self.fd, protocol::describe_pcr_request(index));
            *pcr = protocol::describe_pcr_response(response)?;
        }
        Ok(pcrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_without_a_device_is_nsm_unavailable() {
        if std::path::Path::new("/dev/nsm").exists() {
            return; // inside a real enclave: nothing to check here
        }
        assert_eq!(NitroNsm::open().unwrap_err().code(), "NSM_UNAVAILABLE");
    }

    #[test]
    fn provider_is_send_and_sync() {
        fn assert_provider<T: NsmProvider>() {}
        assert_provider::<NitroNsm>();
    }
}

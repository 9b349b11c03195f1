//! PCR values the way nitro-cli computes them.
//!
//! # The formula
//!
//! A Nitro Enclave has 16 (of up to 32) SHA-384 Platform Configuration
//! Registers. Each starts as 48 zero bytes. `nitro-cli build-enclave` (the
//! `aws-nitro-enclaves-image-format` EIF builder) predicts the boot
//! measurements by feeding the bytes of selected EIF sections, concatenated,
//! into SHA-384 and extending a zeroed register once with that digest:
//!
//! ```text
//! PCR = SHA384( 0x00 * 48 || SHA384(section_1 || section_2 || ...) )
//! ```
//!
//! [`pcr_from_measurement`] is exactly that, for one byte string.
//!
//! # What nitro-cli feeds it
//!
//! | PCR | name | bytes measured |
//! |---|---|---|
//! | 0 | enclave image | the whole boot image: kernel, kernel command line and every ramdisk |
//! | 1 | Linux kernel and bootstrap | kernel, command line and the first (bootstrap) ramdisk: init and the NSM driver |
//! | 2 | application | the remaining (user) ramdisks: the container file system with the enclave program |
//! | 3 | parent IAM role | set at launch from the parent instance's role ARN (zero if none) |
//! | 4 | parent instance ID | set at launch from the parent instance ID |
//! | 8 | EIF signing certificate | set only for signed EIFs |
//!
//! In a debug-mode enclave AWS reports PCR0, PCR1 and PCR2 as all zeros.
//!
//! # What local (simulator) mode feeds it
//!
//! Locally there is no EIF: the enclave program is an ordinary executable, so
//! [`pcrs_from_artifact`] is a **local approximation**, not a prediction of
//! the PCRs of any real enclave:
//!
//! - PCR0 = `pcr_from_measurement(artifact)`: the artifact is the whole image;
//! - PCR1 = `pcr_from_measurement(b"")`: no kernel or bootstrap ramdisk is
//!   measured, so PCR1 is the fixed value of an empty measurement
//!   ([`LOCAL_PCR1`]), which can never collide with a real kernel's PCR1;
//! - PCR2 = `pcr_from_measurement(artifact)`: the artifact is also the whole
//!   application, so PCR2 equals PCR0;
//! - PCR3..PCR15 = 48 zero bytes (no parent role, no instance, unsigned image).
//!
//! The artifact is the enclave program's file bytes, read by the caller (this
//! crate reads no files on its own apart from the simulator's data directory).
//! A verifier pinned to the local PCR0 therefore notices any change to the
//! enclave binary, which is the property local tests need.
use sha2::{Digest, Sha384};

/// Length of one PCR (SHA-384).
pub const PCR_LEN: usize = 48;
/// Number of PCRs in an attestation document (indices 0..=15, as AWS ships them).
pub const PCR_COUNT: usize = 16;
/// One PCR value.
pub type Pcr = [u8; PCR_LEN];

/// PCR1 in local mode: `pcr_from_measurement(b"")`.
pub const LOCAL_PCR1: Pcr = [
    0x21, 0xb9, 0xef, 0xbc, 0x18, 0x48, 0x07, 0x66, 0x2e, 0x96, 0x6d, 0x34, 0xf3, 0x90, 0x82, 0x13, 0x09, 0xee, 0xac,
    0x68, 0x02, 0x30, 0x97, 0x98, 0x82, 0x62, 0x96, 0xbf, 0x3e, 0x8b, 0xec, 0x7c, 0x10, 0xed, 0xb3, 0x09, 0x48, 0xc9,
    0x0b, 0xa6, 0x73, 0x10, 0xf7, 0xb9, 0x64, 0xfc, 0x50, 0x0a,
];

/// `SHA384([0u8; 48] || SHA384(section))`: one extension of a zeroed register
/// with the digest of `section`, nitro-cli's formula for PCR0/1/2.
pub fn pcr_from_measurement(section: &[u8]) -> Pcr {
    let inner = Sha384::digest(section);
    let mut outer = Sha384::new();
    outer.update([0u8; PCR_LEN]);
    outer.update(inner);
    outer.finalize().into()
}

/// The 16 PCRs local mode reports for an enclave program whose file bytes
/// are `artifact`. See the module documentation for what each one means.
pub fn pcrs_from_artifact(artifact: &[u8]) -> [Pcr; PCR_COUNT] {
    let mut pcrs = [[0u8; PCR_LEN]; PCR_COUNT];
    let image = pcr_from_measurement(artifact);
    pcrs[0] = image;
    pcrs[1] = pcr_from_measurement(&[]);
    pcrs[2] = image;
    pcrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_matches_an_independent_computation() {
        let section = b"sentinel enclave image bytes";
        let inner = Sha384::digest(section);
        let mut buf = vec![0u8; 48];
        buf.extend_from_slice(&inner);
        let expected: [u8; 48] = Sha384::digest(&buf).into();
        assert_eq!(pcr_from_measurement(section), expected);
        assert_ne!(pcr_from_measurement(section), [0u8; 48]);
    }

    #[test]
    fn local_pcr1_is_the_empty_measurement() {
        assert_eq!(pcr_from_measurement(b""), LOCAL_PCR1);
    }

    #[test]
    fn artifact_pcrs_layout() {
        let pcrs = pcrs_from_artifact(b"binary");
        assert_eq!(pcrs[0], pcr_from_measurement(b"binary"));
        assert_eq!(pcrs[1], LOCAL_PCR1);
        assert_eq!(pcrs[2], pcrs[0]);
        assert!(pcrs[3..].iter().all(|p| p == &[0u8; 48]));
        assert_ne!(pcrs_from_artifact(b"binary2")[0], pcrs[0]);
    }
}

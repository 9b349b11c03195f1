//! Errors of the NSM layer.
//!
//! Codes are part of the public contract (they cross FFI and the vsock
//! protocol as `{code, message}`), so they are never renamed. Messages name
//! the offending field; they never carry key material or document bytes.
use core::fmt;

/// The error codes the Nitro Security Module itself returns
/// (`aws_nitro_enclaves_nsm_api::api::ErrorCode`), mirrored here so that the
/// type exists in every build, not only in builds with the `hardware` feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NsmErrorCode {
    /// `ErrorCode::InvalidArgument`
    InvalidArgument,
    /// `ErrorCode::InvalidIndex`
    InvalidIndex,
    /// `ErrorCode::InvalidResponse`
    InvalidResponse,
    /// `ErrorCode::ReadOnlyIndex`
    ReadOnlyIndex,
    /// `ErrorCode::InvalidOperation`
    InvalidOperation,
    /// `ErrorCode::BufferTooSmall`
    BufferTooSmall,
    /// `ErrorCode::InputTooLarge`
    InputTooLarge,
    /// `ErrorCode::InternalError`
    InternalError,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `user_data` longer than [`crate::MAX_USER_DATA_LEN`] (512, AWS's limit).
    UserDataTooLarge { len: usize },
    /// `nonce` longer than [`crate::MAX_NONCE_LEN`] (512, AWS's limit).
    NonceTooLarge { len: usize },
    /// `public_key` longer than [`crate::MAX_PUBLIC_KEY_LEN`] (1024, AWS's limit).
    PublicKeyTooLarge { len: usize },
    /// `public_key` present but empty (AWS requires 1..=1024 bytes; omit it instead).
    PublicKeyEmpty,
    /// `/dev/nsm` could not be opened (not inside a Nitro Enclave, or no permission).
    NsmUnavailable,
    /// The NSM answered with an error code.
    Nsm(NsmErrorCode),
    /// The NSM answered with `ErrorCode::Success` as an error, a response of
    /// another request type, or a malformed value (e.g. a PCR not 48 bytes).
    NsmUnexpectedResponse { detail: &'static str },
    /// The simulator could not read or write its data directory.
    SimulatorStorage { detail: String },
    /// The simulator's stored dev CA is incomplete or inconsistent
    /// (a file missing, a key that does not match its certificate).
    SimulatorCaInvalid { detail: String },
    /// Key generation, certificate issuance or signing failed in the simulator.
    SimulatorCrypto { detail: String },
    /// A time outside what certificates can encode (before 1970, after 9999),
    /// or zero (AWS documents have `timestamp > 0`).
    InvalidTimestamp { unix_ms: u64 },
}

impl Error {
    pub const fn code(&self) -> &'static str {
        match self {
            Error::UserDataTooLarge { .. } => "USER_DATA_TOO_LARGE",
            Error::NonceTooLarge { .. } => "NONCE_TOO_LARGE",
            Error::PublicKeyTooLarge { .. } => "PUBLIC_KEY_TOO_LARGE",
            Error::PublicKeyEmpty => "PUBLIC_KEY_EMPTY",
            Error::NsmUnavailable => "NSM_UNAVAILABLE",
            Error::Nsm(code) => match code {
                NsmErrorCode::InvalidArgument => "NSM_INVALID_ARGUMENT",
                NsmErrorCode::InvalidIndex => "NSM_INVALID_INDEX",
                NsmErrorCode::InvalidResponse => "NSM_INVALID_RESPONSE",
                NsmErrorCode::ReadOnlyIndex => "NSM_READ_ONLY_INDEX",
                NsmErrorCode::InvalidOperation => "NSM_INVALID_OPERATION",
                NsmErrorCode::BufferTooSmall => "NSM_BUFFER_TOO_SMALL",
                NsmErrorCode::InputTooLarge => "NSM_INPUT_TOO_LARGE",
                NsmErrorCode::InternalError => "NSM_INTERNAL_ERROR",
            },
            Error::NsmUnexpectedResponse { .. } => "NSM_UNEXPECTED_RESPONSE",
            Error::SimulatorStorage { .. } => "SIMULATOR_STORAGE",
            Error::SimulatorCaInvalid { .. } => "SIMULATOR_CA_INVALID",
            Error::SimulatorCrypto { .. } => "SIMULATOR_CRYPTO",
            Error::InvalidTimestamp { .. } => "INVALID_TIMESTAMP",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Error::UserDataTooLarge { len } => {
                format!("user_data: {len} bytes, at most {} allowed", crate::MAX_USER_DATA_LEN)
            }
            Error::NonceTooLarge { len } => format!("nonce: {len} bytes, at most {} allowed", crate::MAX_NONCE_LEN),
            Error::PublicKeyTooLarge { len } => {
                format!("public_key: {len} bytes, at most {} allowed", crate::MAX_PUBLIC_KEY_LEN)
            }
            Error::PublicKeyEmpty => "public_key: must not be empty (omit it instead)".to_string(),
            Error::NsmUnavailable => {
                "nsm: /dev/nsm could not be opened (not running inside a Nitro Enclave?)".to_string()
            }
            Error::Nsm(code) => format!("nsm: the Nitro Security Module returned {code:?}"),
            Error::NsmUnexpectedResponse { detail } => format!("nsm: unexpected response: {detail}"),
            Error::SimulatorStorage { detail } => format!("simulator: data directory: {detail}"),
            Error::SimulatorCaInvalid { detail } => format!("simulator: stored dev CA: {detail}"),
            Error::SimulatorCrypto { detail } => format!("simulator: {detail}"),
            Error::InvalidTimestamp { unix_ms } => {
                format!("timestamp: {unix_ms} ms since the Unix epoch is zero or not encodable in a certificate")
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for Error {}

impl sentinel_error::CodedError for Error {
    fn code(&self) -> &'static str {
        Error::code(self)
    }
    fn message(&self) -> String {
        Error::message(self)
    }
}

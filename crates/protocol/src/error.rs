//! Protocol errors: what goes back to the host in an error frame.
//!
//! Codes are stable strings because the host maps them to API errors and
//! metrics; messages name the field but never echo request payloads (they can
//! hold digests of what a client is about to sign).
use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolErrorCode {
    /// The length prefix announces more than [`crate::MAX_FRAME_BYTES`]; the connection must close.
    FrameTooLarge,
    /// A zero-length frame.
    EmptyFrame,
    /// The frame body is not a well-formed message (CBOR, shape, trailing bytes).
    MalformedFrame,
    /// The frame's `v` is not a version this side speaks.
    UnsupportedVersion,
    /// The `op` (request) or `type` (response) is unknown.
    UnknownOperation,
    /// A known operation with a missing or ill-typed argument.
    InvalidArgument,
}

impl ProtocolErrorCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [ProtocolErrorCode] = &[
        ProtocolErrorCode::FrameTooLarge,
        ProtocolErrorCode::EmptyFrame,
        ProtocolErrorCode::MalformedFrame,
        ProtocolErrorCode::UnsupportedVersion,
        ProtocolErrorCode::UnknownOperation,
        ProtocolErrorCode::InvalidArgument,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolErrorCode::FrameTooLarge => "FRAME_TOO_LARGE",
            ProtocolErrorCode::EmptyFrame => "EMPTY_FRAME",
            ProtocolErrorCode::MalformedFrame => "MALFORMED_FRAME",
            ProtocolErrorCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ProtocolErrorCode::UnknownOperation => "UNKNOWN_OPERATION",
            ProtocolErrorCode::InvalidArgument => "INVALID_ARGUMENT",
        }
    }
}

/// A decoding failure; `request_id` is set when the id could be read, so the
/// error frame can be matched to the request that caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: ProtocolErrorCode,
    pub message: String,
    pub request_id: Option<u64>,
}

impl ProtocolError {
    pub(crate) fn new(code: ProtocolErrorCode, message: impl Into<String>) -> Self {
        ProtocolError { code, message: message.into(), request_id: None }
    }

    pub(crate) fn with_id(mut self, id: u64) -> Self {
        self.request_id = Some(id);
        self
    }

    pub fn code(&self) -> &'static str {
        self.code.as_str()
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ProtocolError {}

impl sentinel_error::CodedError for ProtocolError {
    fn code(&self) -> &'static str {
        self.code.as_str()
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}

//! The one error contract of the Sentinel core.
//!
//! Every error type in `crates/` implements [`CodedError`]: a stable
//! SCREAMING_SNAKE `code` (never renamed, because hosts, metrics and clients
//! match on it) and a human message that names the offending field but never
//! echoes secret or client-chosen payloads. Bindings convert through this
//! trait only, so a new error type reaches JavaScript, WASM and the wire with
//! one `impl` and no binding change.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;

/// A failure with a stable code and a message.
pub trait CodedError {
    /// Stable SCREAMING_SNAKE identifier, e.g. `INVALID_DIGEST_LENGTH`.
    fn code(&self) -> &'static str;
    /// Human-readable explanation naming the field; never contains secrets.
    fn message(&self) -> String;
}

impl<E: CodedError + ?Sized> CodedError for &E {
    fn code(&self) -> &'static str {
        (**self).code()
    }
    fn message(&self) -> String {
        (**self).message()
    }
}

/// The code of a JS argument or option of the wrong type or shape (a string
/// where a boolean belongs, a missing required field, an unknown key). Every
/// binding throws it for the same inputs; a value of the right type that the
/// core then rejects carries the core's own code instead.
pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";

/// An argument or option a binding could not convert: [`INVALID_ARGUMENT`]
/// with a message that starts with the argument's JS name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidArgument(String);

impl InvalidArgument {
    /// `name`: the JS name of the argument or option (`options.lowS`);
    /// `problem`: what is wrong with it.
    pub fn new(name: &str, problem: impl core::fmt::Display) -> Self {
        InvalidArgument(alloc::format!("{name}: {problem}"))
    }
}

impl CodedError for InvalidArgument {
    fn code(&self) -> &'static str {
        INVALID_ARGUMENT
    }
    fn message(&self) -> String {
        self.0.clone()
    }
}

impl core::fmt::Display for InvalidArgument {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{INVALID_ARGUMENT}: {}", self.0)
    }
}

/// A failure that is no caller's fault (e.g. a result that could not be
/// converted to a JS value): code `INTERNAL`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Internal(pub String);

impl CodedError for Internal {
    fn code(&self) -> &'static str {
        "INTERNAL"
    }
    fn message(&self) -> String {
        self.0.clone()
    }
}

/// Whether `code` has the shape every code must have (`[A-Z][A-Z0-9_]*`);
/// used by tests that walk a crate's whole code list.
pub fn is_well_formed_code(code: &str) -> bool {
    let mut chars = code.chars();
    matches!(chars.next(), Some('A'..='Z')) && chars.all(|c| matches!(c, 'A'..='Z' | '0'..='9' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_shape() {
        assert!(is_well_formed_code("UNKNOWN_KEY"));
        assert!(is_well_formed_code("EIP712_ENCODING"));
        assert!(!is_well_formed_code("unknown_key"));
        assert!(!is_well_formed_code("_X"));
        assert!(!is_well_formed_code(""));
        assert!(is_well_formed_code(INVALID_ARGUMENT));
    }

    #[test]
    fn invalid_argument_names_the_argument() {
        let e = InvalidArgument::new("options.lowS", "expected a boolean");
        assert_eq!(e.code(), "INVALID_ARGUMENT");
        assert_eq!(e.message(), "options.lowS: expected a boolean");
    }
}

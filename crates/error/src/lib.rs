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

/// A stable error code: a fieldless (or passthrough) enum whose every value
/// has a SCREAMING_SNAKE string form. [`error_codes!`] declares one; an enum
/// that wraps another crate's codes may implement it by hand.
pub trait Code: Copy + core::fmt::Debug + Eq + 'static {
    /// The stable string form, e.g. `"SESSION_BROKEN"`.
    fn as_str(self) -> &'static str;
}

/// A refusal: a stable [`Code`] plus a human-readable message naming what was
/// wrong. Crates name it through an alias
/// (`pub type Error = sentinel_error::Coded<ErrorCode>;`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coded<K: Code> {
    kind: K,
    message: String,
}

impl<K: Code> Coded<K> {
    /// A refusal with code `kind` and `message` (which names the field at
    /// fault and never echoes secrets or client-chosen bytes).
    pub fn new(kind: K, message: impl Into<String>) -> Self {
        Coded { kind, message: message.into() }
    }

    /// The stable code, e.g. `"SESSION_BROKEN"`.
    pub fn code(&self) -> &'static str {
        self.kind.as_str()
    }

    /// The code as an enum, for exhaustive matching in Rust.
    pub fn kind(&self) -> K {
        self.kind
    }

    /// What was wrong, naming the field. Not stable.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl<K: Code> core::fmt::Display for Coded<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl<K: Code> core::error::Error for Coded<K> {}

impl<K: Code> CodedError for Coded<K> {
    fn code(&self) -> &'static str {
        Coded::code(self)
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}

/// Declares a code enum: the enum (deriving `Clone, Copy, Debug, PartialEq,
/// Eq, Hash`, plus the attributes given, e.g. `#[non_exhaustive]`), its
/// `const fn as_str`, an `ALL` list in declaration order, `Display` (the
/// string form) and [`Code`].
///
/// ```
/// sentinel_error::error_codes! {
///     /// Why a widget was refused.
///     #[non_exhaustive]
///     pub enum WidgetErrorCode {
///         /// The widget is too large.
///         TooLarge = "WIDGET_TOO_LARGE",
///         /// The widget is upside down.
///         Inverted = "WIDGET_INVERTED",
///     }
/// }
///
/// assert_eq!(WidgetErrorCode::TooLarge.as_str(), "WIDGET_TOO_LARGE");
/// assert_eq!(WidgetErrorCode::ALL, &[WidgetErrorCode::TooLarge, WidgetErrorCode::Inverted]);
/// assert_eq!(WidgetErrorCode::Inverted.to_string(), "WIDGET_INVERTED");
///
/// pub type WidgetError = sentinel_error::Coded<WidgetErrorCode>;
/// let e = WidgetError::new(WidgetErrorCode::TooLarge, "width: over 10");
/// assert_eq!(e.to_string(), "WIDGET_TOO_LARGE: width: over 10");
/// ```
#[macro_export]
macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable string form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )*
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::Code for $name {
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }
    };
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

    error_codes! {
        /// Test codes.
        #[non_exhaustive]
        pub enum TestCode {
            /// First.
            First = "TEST_FIRST",
            /// Second.
            Second = "TEST_SECOND",
        }
    }

    type TestError = Coded<TestCode>;

    #[test]
    fn error_codes_declares_the_enum() {
        assert_eq!(TestCode::ALL, &[TestCode::First, TestCode::Second]);
        assert_eq!(TestCode::Second.as_str(), "TEST_SECOND");
        assert_eq!(Code::as_str(TestCode::First), "TEST_FIRST");
        assert_eq!(alloc::format!("{}", TestCode::First), "TEST_FIRST");
        assert!(TestCode::ALL.iter().all(|c| is_well_formed_code(c.as_str())));
    }

    #[test]
    fn coded_carries_code_kind_and_message() {
        let e = TestError::new(TestCode::Second, "field: wrong");
        assert_eq!(e.code(), "TEST_SECOND");
        assert_eq!(e.kind(), TestCode::Second);
        assert_eq!(e.message(), "field: wrong");
        assert_eq!(alloc::format!("{e}"), "TEST_SECOND: field: wrong");
        assert_eq!(CodedError::code(&e), "TEST_SECOND");
        assert_eq!(CodedError::message(&e), "field: wrong");
        let _: &dyn core::error::Error = &e;
    }

    #[test]
    fn invalid_argument_names_the_argument() {
        let e = InvalidArgument::new("options.lowS", "expected a boolean");
        assert_eq!(e.code(), "INVALID_ARGUMENT");
        assert_eq!(e.message(), "options.lowS: expected a boolean");
    }
}

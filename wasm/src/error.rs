//! [`BindError`]: every error that crosses into JavaScript, as an `Error`
//! object carrying the stable `code` of the core error it came from.

use std::fmt;

use wasm_bindgen::JsValue;

/// Code of an argument the binding could not read (bad JSON shape, a number
/// that is not a safe integer, an unknown enum name). Core's own codes cover
/// every other failure.
pub const BAD_ARGUMENT: &str = "wasm.bad_argument";

/// An error on its way to JavaScript: a stable code and a message.
///
/// On the JS side it becomes `Error` with `name` `"VelocitySyncError"`, the
/// message, and a `code` property equal to core's
/// [`Error::code`](velocity_sync::Error::code) (or [`BAD_ARGUMENT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError {
    code: &'static str,
    message: String,
}

impl BindError {
    /// An argument the binding could not read.
    pub fn bad_argument(what: &str, detail: impl fmt::Display) -> Self {
        Self {
            code: BAD_ARGUMENT,
            message: format!("{what}: {detail}"),
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl From<velocity_sync::Error> for BindError {
    fn from(error: velocity_sync::Error) -> Self {
        Self {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

/// Every core error type keeps the code and message core gives it (the same
/// as through [`velocity_sync::Error`], whose variants are transparent).
/// Converting each type directly, rather than through that enum, links only
/// the messages of the errors a build can meet: the browser build carries no
/// row or server error text.
macro_rules! from_core {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for BindError {
            fn from(error: $ty) -> Self {
                Self {
                    code: error.code(),
                    message: error.to_string(),
                }
            }
        }
    )*};
}

from_core!(
    velocity_sync::ChangesetError,
    velocity_sync::ClientError,
    velocity_sync::EntryError,
    velocity_sync::HashError,
    velocity_sync::hydrate::HydrateError,
    velocity_sync::ManifestError,
    velocity_sync::OtError,
    velocity_sync::PathError,
    velocity_sync::protocol::ProtocolError,
    velocity_sync::rows::RowError,
    velocity_sync::BlobError,
    velocity_sync::SyncError,
);

impl From<BindError> for JsValue {
    fn from(error: BindError) -> Self {
        let js = js_sys::Error::new(&error.message);
        js.set_name("VelocitySyncError");
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&js, &Self::from_str("code"), &Self::from_str(error.code));
        js.into()
    }
}

/// Shorthand for results that cross into JavaScript.
pub type BindResult<T> = Result<T, BindError>;

/// Parses a JSON argument into a core type, naming the argument on failure.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> BindResult<T> {
    serde_json::from_str(json).map_err(|e| BindError::bad_argument(what, e))
}

/// Serialises a core value to JSON (plain data: cannot fail in practice, but
/// a failure is still an error, never a panic).
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> BindResult<String> {
    serde_json::to_string(value).map_err(|e| BindError::bad_argument("result", e))
}

/// A JS number that must be a non-negative safe integer (ids, positions).
pub(crate) fn integer(what: &str, value: f64) -> BindResult<u64> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if (0.0..=MAX_SAFE).contains(&value) && value.fract() == 0.0 {
        // Checked above: a whole number in 0..=2^53-1 converts exactly.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(value as u64)
    } else {
        Err(BindError::bad_argument(
            what,
            format!("{value} is not a non-negative safe integer"),
        ))
    }
}

/// [`integer`] as a `usize` (positions, lengths).
pub(crate) fn index(what: &str, value: f64) -> BindResult<usize> {
    let n = integer(what, value)?;
    usize::try_from(n).map_err(|_| BindError::bad_argument(what, format!("{n} is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_code_and_message() {
        let err = velocity_sync::FilePath::parse("../etc").map_err(BindError::from);
        let err = err.err().map(|e| (e.code(), e.message().to_owned()));
        let (code, message) = err.unwrap_or_default();
        assert_eq!(code, "path.parent_segment");
        assert!(message.contains("../etc"), "{message}");
    }

    #[test]
    fn each_error_type_converts_as_core_error_does() {
        let ot = velocity_sync::TextOp::from_json("[1.5]").err();
        let protocol = velocity_sync::protocol::decode_server(b"{", &Default::default()).err();
        let path = velocity_sync::FilePath::parse("a//b").err();
        let (Some(ot), Some(protocol), Some(path)) = (ot, protocol, path) else {
            panic!("the inputs above are all invalid");
        };
        let through_core = |e: velocity_sync::Error| BindError::from(e);
        assert_eq!(BindError::from(ot.clone()), through_core(ot.into()));
        assert_eq!(
            BindError::from(protocol.clone()),
            through_core(protocol.into())
        );
        assert_eq!(BindError::from(path.clone()), through_core(path.into()));
    }

    #[test]
    fn integers_must_be_safe_and_whole() {
        assert_eq!(integer("n", 42.0), Ok(42));
        for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 9_007_199_254_740_992.0] {
            let err = integer("n", bad).err().map(|e| e.code());
            assert_eq!(err, Some(BAD_ARGUMENT), "{bad}");
        }
    }
}

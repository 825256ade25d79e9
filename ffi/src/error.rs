//! Status codes, the error object C callers read, and the guard that keeps
//! panics on the Rust side of every entry point.

use std::borrow::Cow;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

/// What every fallible `vs_*` function returns. Anything but `VS_STATUS_OK`
/// comes with a [`VsError`] (when the caller passed somewhere to put it)
/// whose code names the exact reason.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsStatus {
    /// Success; every output was written.
    Ok = 0,
    /// The engine refused the input; the error's code is the engine's stable
    /// code, e.g. `"path.parent_segment"` or `"ot.length_mismatch"`.
    Refused = 1,
    /// A required pointer was NULL (code `"ffi.null_pointer"`).
    NullPointer = 2,
    /// Text that must be UTF-8 is not (code `"ffi.invalid_utf8"`).
    InvalidUtf8 = 3,
    /// A JSON argument is not JSON or not of the expected shape (code
    /// `"ffi.invalid_json"`).
    InvalidJson = 4,
    /// A numeric argument is out of its range, e.g. an unknown role (code
    /// `"ffi.invalid_argument"`).
    InvalidArgument = 5,
    /// The library panicked; this is a bug, and the handle passed in (if any)
    /// may be in any state (code `"ffi.panic"`).
    Panic = 6,
}

/// An error: a stable code and a message for people. Owned by the caller,
/// released with [`vs_error_free`]. Not thread-safe, but may move between
/// threads.
#[derive(Debug)]
pub struct VsError {
    code: CString,
    message: CString,
}

/// Why a call failed, before it reaches C.
#[derive(Debug)]
pub(crate) struct Failure {
    status: VsStatus,
    code: Cow<'static, str>,
    message: String,
}

impl Failure {
    pub(crate) fn new(status: VsStatus, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Self {
        Self::new(
            VsStatus::NullPointer,
            "ffi.null_pointer",
            format!("{what} is NULL"),
        )
    }

    pub(crate) fn json(what: &str, error: &serde_json::Error) -> Self {
        Self::new(
            VsStatus::InvalidJson,
            "ffi.invalid_json",
            format!("{what} is not valid JSON of the expected shape: {error}"),
        )
    }

    pub(crate) fn argument(message: impl Into<String>) -> Self {
        Self::new(VsStatus::InvalidArgument, "ffi.invalid_argument", message)
    }
}

/// Turns any engine error into a failure carrying its stable code.
pub(crate) fn refused(error: impl Into<velocity_sync::Error>) -> Failure {
    let error = error.into();
    Failure::new(VsStatus::Refused, error.code(), error.to_string())
}

/// Result of the body of an entry point.
pub(crate) type Outcome = Result<(), Failure>;

/// Runs `body`, catching panics, and reports its failure through `error`.
///
/// `error` may be NULL (the caller ignores details); otherwise `*error` is
/// set to NULL on success and to a new [`VsError`] on failure.
pub(crate) fn guard(error: *mut *mut VsError, body: impl FnOnce() -> Outcome) -> VsStatus {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(Failure::new(VsStatus::Panic, "ffi.panic", message))
    });
    let (status, report) = match outcome {
        Ok(()) => (VsStatus::Ok, ptr::null_mut()),
        Err(failure) => (
            failure.status,
            Box::into_raw(Box::new(failure.into_error())),
        ),
    };
    if error.is_null() {
        if !report.is_null() {
            // SAFETY: `report` came from Box::into_raw just above and was not shared.
            drop(unsafe { Box::from_raw(report) });
        }
    } else {
        // SAFETY: the caller promises `error` is NULL or points to writable
        // storage for one pointer (see each function's contract).
        unsafe { error.write(report) };
    }
    status
}

impl Failure {
    fn into_error(self) -> VsError {
        VsError {
            code: c_string(self.code.into_owned()),
            message: c_string(self.message),
        }
    }
}

/// A C string of `text`, with interior NULs (never in codes, possible in
/// messages quoting input) replaced.
fn c_string(text: String) -> CString {
    CString::new(text).unwrap_or_else(|e| {
        CString::new(
            e.into_vec()
                .into_iter()
                .map(|b| if b == 0 { b'?' } else { b })
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    })
}

/// The error's stable code, e.g. `"path.parent_segment"` or
/// `"ffi.null_pointer"`: NUL-terminated ASCII, valid until the error is
/// freed. NULL when `error` is NULL. Thread-safe for distinct errors.
///
/// # Safety
/// `error` is NULL or a live error from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_error_code(error: *const VsError) -> *const c_char {
    // SAFETY: the caller passes NULL or a live VsError.
    match unsafe { error.as_ref() } {
        Some(error) => error.code.as_ptr(),
        None => ptr::null(),
    }
}

/// The error's message for people (UTF-8, NUL-terminated), valid until the
/// error is freed. NULL when `error` is NULL.
///
/// # Safety
/// `error` is NULL or a live error from this library.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_error_message(error: *const VsError) -> *const c_char {
    // SAFETY: the caller passes NULL or a live VsError.
    match unsafe { error.as_ref() } {
        Some(error) => error.message.as_ptr(),
        None => ptr::null(),
    }
}

/// Releases an error. NULL is fine.
///
/// # Safety
/// `error` is NULL or an error from this library not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_error_free(error: *mut VsError) {
    if !error.is_null() {
        // SAFETY: the caller hands back ownership of a VsError this library boxed.
        drop(unsafe { Box::from_raw(error) });
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;

    fn read(error: *mut VsError) -> (String, String) {
        // SAFETY: `error` is a live error from `guard`, freed right after.
        unsafe {
            let code = CStr::from_ptr(vs_error_code(error))
                .to_string_lossy()
                .into_owned();
            let message = CStr::from_ptr(vs_error_message(error))
                .to_string_lossy()
                .into_owned();
            vs_error_free(error);
            (code, message)
        }
    }

    #[test]
    fn a_panic_comes_back_as_a_status_not_an_unwind() {
        let mut error = ptr::null_mut();
        let status = guard(&mut error, || panic!("boom {}", 7));
        assert_eq!(status, VsStatus::Panic);
        assert_eq!(read(error), ("ffi.panic".to_owned(), "boom 7".to_owned()));
    }

    #[test]
    fn engine_errors_keep_their_stable_code() {
        let mut error = ptr::null_mut();
        let status = guard(&mut error, || {
            velocity_sync::FilePath::parse("../x")
                .map(drop)
                .map_err(refused)
        });
        assert_eq!(status, VsStatus::Refused);
        let (code, message) = read(error);
        assert_eq!(code, "path.parent_segment");
        assert!(message.contains("../x"), "{message}");
    }

    #[test]
    fn success_clears_the_error_pointer_and_null_error_is_allowed() {
        let mut error = Box::into_raw(Box::new(Failure::null("x").into_error()));
        let stale = error;
        assert_eq!(guard(&mut error, || Ok(())), VsStatus::Ok);
        assert!(error.is_null());
        // SAFETY: `stale` is the box made above; guard does not free it.
        unsafe { vs_error_free(stale) };
        assert_eq!(
            guard(ptr::null_mut(), || Err(Failure::argument("no"))),
            VsStatus::InvalidArgument
        );
    }

    #[test]
    fn messages_with_nul_bytes_stay_readable() {
        let failure = Failure::new(VsStatus::Refused, "x.y", "a\0b");
        let error = Box::into_raw(Box::new(failure.into_error()));
        assert_eq!(read(error).1, "a?b");
    }
}

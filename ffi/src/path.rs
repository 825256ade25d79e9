//! Project paths: the guard between hostile input and a disk. Thread-safe.

use velocity_sync::FilePath;

use crate::buf::{self, VsBuf};
use crate::error::{VsError, VsStatus, guard, refused};

/// Parses a path in canonical form (`src/app.ts`: relative, `/`-separated,
/// no `.`/`..`/empty segments, no control characters, no drive prefix);
/// `*out` receives it (the same bytes).
///
/// Errors: `VS_STATUS_REFUSED` with a `path.*` code naming the broken rule
/// (`path.invalid_utf8` for bytes that are not UTF-8), `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `path` points to `path_len` readable bytes (or is NULL with length 0);
/// `out` is writable; `error` is NULL or writable. The caller owns `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_path_parse(
    path: *const u8,
    path_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let raw = unsafe { buf::bytes(path, path_len, "path") }?;
        let path = FilePath::from_bytes(raw).map_err(refused)?;
        // SAFETY: as above.
        unsafe {
            buf::put(
                out,
                VsBuf::from_vec(path.as_str().as_bytes().to_vec()),
                "out",
            )
        }
    })
}

/// Parses what today's callers send (leading `/` or `./`, doubled slashes,
/// `.` segments, a trailing `/` are normalised away; `..` is still refused);
/// `*out` receives the canonical path.
///
/// Errors: as [`vs_path_parse`], plus `VS_STATUS_INVALID_UTF8`.
///
/// # Safety
/// As [`vs_path_parse`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_path_parse_lenient(
    path: *const u8,
    path_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let text = unsafe { buf::text(path, path_len, "path") }?;
        let path = FilePath::parse_lenient(text).map_err(refused)?;
        // SAFETY: as above.
        unsafe {
            buf::put(
                out,
                VsBuf::from_vec(path.as_str().as_bytes().to_vec()),
                "out",
            )
        }
    })
}

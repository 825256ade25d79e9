//! Byte buffers the library hands out, and reading the caller's arguments.

use std::ptr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Failure, VsStatus};

/// Bytes the library allocated and the caller owns: `len` bytes at `data`,
/// followed by one NUL byte not counted in `len` (so text can be printed as
/// a C string). Release with [`vs_buf_free`], never with `free()`.
///
/// A buffer with `data == NULL` and `len == 0` is the empty answer of the
/// `poll` functions ("nothing"); freeing it is a no-op.
#[repr(C)]
#[derive(Debug)]
pub struct VsBuf {
    /// The bytes (NUL-terminated), or NULL for "nothing".
    pub data: *mut u8,
    /// Number of bytes, not counting the terminating NUL.
    pub len: usize,
}

impl VsBuf {
    /// The "nothing" buffer.
    pub(crate) fn none() -> Self {
        Self {
            data: ptr::null_mut(),
            len: 0,
        }
    }

    /// Hands `bytes` to the caller, NUL-terminated.
    pub(crate) fn from_vec(mut bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        bytes.push(0);
        let data = Box::into_raw(bytes.into_boxed_slice()).cast::<u8>();
        Self { data, len }
    }
}

/// Releases a buffer this library returned. A buffer with NULL `data` is
/// ignored. Thread-safe.
///
/// # Safety
/// `buf` is a buffer from this library, unchanged and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_buf_free(buf: VsBuf) {
    drop(buf);
}

impl Drop for VsBuf {
    /// Frees the bytes. A buffer handed to C is moved out with `ptr::write`
    /// and never dropped on this side until it comes back to [`vs_buf_free`];
    /// one that never reached C (its out-pointer was NULL) is freed here.
    fn drop(&mut self) {
        if self.data.is_null() {
            return;
        }
        let whole = ptr::slice_from_raw_parts_mut(self.data, self.len + 1);
        // SAFETY: `data` came from a `Box<[u8]>` of `len + 1` bytes in
        // `VsBuf::from_vec`, and ownership is given up exactly once (by C via
        // `vs_buf_free`, or here when it never left Rust).
        drop(unsafe { Box::from_raw(whole) });
    }
}

/// Borrows `len` bytes at `data`; NULL is allowed for `len == 0`.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that outlive the call.
pub(crate) unsafe fn bytes<'a>(
    data: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if data.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Failure::null(what))
        };
    }
    // SAFETY: non-null, and the caller promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// Borrows `len` bytes at `data` as UTF-8 text.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(data: *const u8, len: usize, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: forwarded contract.
    let raw = unsafe { bytes(data, len, what) }?;
    std::str::from_utf8(raw).map_err(|e| {
        Failure::new(
            VsStatus::InvalidUtf8,
            "ffi.invalid_utf8",
            format!("{what} is not UTF-8 (invalid byte at {})", e.valid_up_to()),
        )
    })
}

/// Reads a JSON argument into `T`.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn json<T: DeserializeOwned>(
    data: *const u8,
    len: usize,
    what: &str,
) -> Result<T, Failure> {
    // SAFETY: forwarded contract.
    let raw = unsafe { bytes(data, len, what) }?;
    serde_json::from_slice(raw).map_err(|e| Failure::json(what, &e))
}

/// Writes `value` through the out-pointer `out`.
///
/// # Safety
/// `out` is NULL (a failure) or points to writable storage for a `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-null and writable by the caller's contract; the previous
    // value is plain data or a pointer the caller owns, so it is not dropped.
    unsafe { out.write(value) };
    Ok(())
}

/// Checks an out-pointer before work is done, so a NULL one fails before any
/// state changes.
pub(crate) fn need<T>(out: *mut T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        Err(Failure::null(what))
    } else {
        Ok(())
    }
}

/// Serialises `value` as compact JSON bytes.
pub(crate) fn to_json(value: &impl Serialize) -> Vec<u8> {
    // Serialising the engine's plain data types into memory cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Borrows a handle immutably.
///
/// # Safety
/// `handle` is NULL or a live handle of type `T` from this library, not used
/// by another thread during the call.
pub(crate) unsafe fn handle<'a, T>(handle: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: forwarded contract.
    unsafe { handle.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// Borrows a handle mutably.
///
/// # Safety
/// As [`handle`], and no other reference to it is live.
pub(crate) unsafe fn handle_mut<'a, T>(handle: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: forwarded contract.
    unsafe { handle.as_mut() }.ok_or_else(|| Failure::null(what))
}

/// Gives a new handle to the caller through `out`; nothing is allocated
/// when `out` is NULL.
///
/// # Safety
/// `out` is NULL (a failure) or points to writable storage for a pointer.
pub(crate) unsafe fn put_handle<T>(out: *mut *mut T, value: T, what: &str) -> Result<(), Failure> {
    need(out, what)?;
    // SAFETY: checked non-null; writable by the caller's contract.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
    Ok(())
}

/// Takes a handle back and drops it; NULL is fine.
///
/// # Safety
/// `handle` is NULL or a handle of type `T` given out by [`put_handle`], not yet freed.
pub(crate) unsafe fn free_handle<T>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: ownership returns to Rust exactly once (caller's contract).
        drop(unsafe { Box::from_raw(handle) });
    }
}

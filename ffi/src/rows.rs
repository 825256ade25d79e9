//! `project_files` rows (the platform's three table shapes) to entries and
//! back. Rows are JSON objects. Thread-safe.

use velocity_sync::FileEntry;
use velocity_sync::rows::{MismatchPolicy, Row, RowContext, RowShape, decode_row, encode_row};

use crate::buf::{self, VsBuf};
use crate::error::{Failure, VsError, VsStatus, guard, refused};

/// What decoding does with a size or hash column that disagrees with the
/// content.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum VsMismatchPolicy {
    /// Fail with `row.size_mismatch` / `row.hash_mismatch` / `row.bad_hash`.
    Reject = 0,
    /// Decode anyway; the disagreement is listed in `issues`.
    Report = 1,
}

/// A row shape.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum VsRowShape {
    /// The editor's `{path, type, content}`.
    Editor = 0,
    /// `core_database_schema.sql` (`file_path`, `file_size`, `content_hash`, …).
    Rich = 1,
    /// `database_schema_with_rls.sql` (`file_path`, `size_bytes`, `checksum`, …).
    Simple = 2,
}

/// Decodes a row of any shape (a JSON object); `policy` is a
/// [`VsMismatchPolicy`] value. `*out` receives the decoded row as JSON:
/// `{"shape","entry","content": {"text"}|{"base64"},"sha256","file_type",
/// "context","issues": [{"code", …}]}`.
///
/// Errors: `row.*` codes (e.g. `row.unknown_shape`, `row.bad_path`,
/// `row.size_mismatch`), `VS_STATUS_INVALID_JSON` (not an object),
/// `VS_STATUS_INVALID_ARGUMENT` (unknown policy), `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `row` points to `row_len` readable bytes; `out` is writable; `error`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_row_decode(
    row: *const u8,
    row_len: usize,
    policy: u32,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let row: Row = unsafe { buf::json(row, row_len, "row") }?;
        let policy = match policy {
            0 => MismatchPolicy::Reject,
            1 => MismatchPolicy::Report,
            other => {
                return Err(Failure::argument(format!(
                    "policy {other} is not 0 (reject) or 1 (report)"
                )));
            }
        };
        let decoded = decode_row(&row, policy).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(buf::to_json(&decoded)), "out") }
    })
}

/// Encodes `entry` (JSON) with `content` (raw bytes) as a row of `shape` (a
/// [`VsRowShape`] value); `context` is JSON `{"project_id", "created_by",
/// …, "passthrough": {…}}` (NULL for none). `*out` receives the row.
///
/// Errors: `row.entry_mismatch`, `row.missing_value`, `row.out_of_range`,
/// `row.passthrough_conflict`, `VS_STATUS_INVALID_JSON`,
/// `VS_STATUS_INVALID_ARGUMENT` (unknown shape), `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `entry`, `content`, `context` point to their lengths of readable bytes
/// (`content`/`context` may be NULL with length 0); `out` is writable;
/// `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_row_encode(
    shape: u32,
    entry: *const u8,
    entry_len: usize,
    content: *const u8,
    content_len: usize,
    context: *const u8,
    context_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        let shape = match shape {
            0 => RowShape::Editor,
            1 => RowShape::Rich,
            2 => RowShape::Simple,
            other => {
                return Err(Failure::argument(format!(
                    "shape {other} is not 0 (editor), 1 (rich) or 2 (simple)"
                )));
            }
        };
        // SAFETY: the caller's contract covers every pointer argument.
        let entry: FileEntry = unsafe { buf::json(entry, entry_len, "entry") }?;
        // SAFETY: as above.
        let content = unsafe { buf::bytes(content, content_len, "content") }?;
        let context: RowContext = if context.is_null() {
            RowContext::default()
        } else {
            // SAFETY: as above.
            unsafe { buf::json(context, context_len, "context") }?
        };
        let row = encode_row(shape, &entry, content, &context).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(buf::to_json(&row)), "out") }
    })
}

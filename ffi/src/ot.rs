//! Text operations: ot.js JSON arrays in, the engine's results out.
//!
//! Every op travels as its ot.js JSON text (`[5,"ab",-1,3]`: retain 5,
//! insert "ab", delete 1, retain 3); lengths and positions count Unicode
//! scalar values, except in the UTF-16 functions, which take and give
//! editor (UTF-16) offsets. All functions here are thread-safe.

use velocity_sync::TextOp;
use velocity_sync::ot::{Bias, Side, Utf16Change};

use crate::buf::{self, VsBuf};
use crate::error::{Failure, VsError, VsStatus, guard, refused};

/// Which op's insert goes first when both insert at one spot
/// ([`vs_op_transform`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum VsSide {
    /// The first op's insert goes first.
    Left = 0,
    /// The second op's insert goes first.
    Right = 1,
}

/// Where a position lands when text is inserted exactly at it
/// ([`vs_op_transform_position`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum VsBias {
    /// After the inserted text.
    After = 0,
    /// Before the inserted text.
    Before = 1,
}

/// Reads an op argument.
///
/// # Safety
/// As [`buf::bytes`].
unsafe fn op_arg(data: *const u8, len: usize, what: &str) -> Result<TextOp, Failure> {
    // SAFETY: forwarded contract.
    let json = unsafe { buf::text(data, len, what) }?;
    TextOp::from_json(json).map_err(refused)
}

fn op_out(out: *mut VsBuf, op: &TextOp) -> Result<(), Failure> {
    // SAFETY: callers pass the out-pointer their caller promised is writable.
    unsafe { buf::put(out, VsBuf::from_vec(op.to_json().into_bytes()), "out") }
}

/// Parses an op from ot.js JSON; `*out` receives it normalised (neighbours
/// of one kind merged, a delete before an insert at one spot reordered).
///
/// Errors: `ot.invalid_json` (not an array of non-zero integers and
/// strings), pointer/UTF-8 statuses.
///
/// # Safety
/// `op` points to `op_len` readable bytes; `out` is writable; `error` NULL
/// or writable. The caller owns `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_from_json(
    op: *const u8,
    op_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let op = unsafe { op_arg(op, op_len, "op") }?;
        op_out(out, &op)
    })
}

/// Applies `op` to `text` (UTF-8); `*out` receives the new text.
///
/// Errors: `VS_STATUS_REFUSED` with `ot.invalid_json` (not an op) or
/// `ot.length_mismatch` (the op's base length is not the text's);
/// `VS_STATUS_INVALID_UTF8`; `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `op`/`text` point to `op_len`/`text_len` readable bytes (or are NULL with
/// length 0); `out` is writable; `error` is NULL or writable. On success the
/// caller owns `*out` (free with `vs_buf_free`) and, on failure, `*error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_apply(
    op: *const u8,
    op_len: usize,
    text: *const u8,
    text_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (op, text) = unsafe {
            (
                op_arg(op, op_len, "op")?,
                buf::text(text, text_len, "text")?,
            )
        };
        let result = op.apply(text).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(result.into_bytes()), "out") }
    })
}

/// Composes `a` then `b` into one op; `*out` receives it.
///
/// Errors: `ot.invalid_json`, `ot.length_mismatch` (b's base length is not
/// a's target length), and the pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_op_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_compose(
    a: *const u8,
    a_len: usize,
    b: *const u8,
    b_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (a, b) = unsafe { (op_arg(a, a_len, "a")?, op_arg(b, b_len, "b")?) };
        op_out(out, &a.compose(&b).map_err(refused)?)
    })
}

/// Transforms concurrent ops `a` and `b` (same base): `*out_a` receives a′
/// (to apply after b) and `*out_b` b′ (to apply after a). `side` is a
/// [`VsSide`] value.
///
/// Errors: `ot.invalid_json`, `ot.length_mismatch` (different base lengths),
/// `VS_STATUS_INVALID_ARGUMENT` for an unknown side, pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_op_apply`]; both outputs are written only on success.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_transform(
    a: *const u8,
    a_len: usize,
    b: *const u8,
    b_len: usize,
    side: u32,
    out_a: *mut VsBuf,
    out_b: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (a, b) = unsafe { (op_arg(a, a_len, "a")?, op_arg(b, b_len, "b")?) };
        let side = match side {
            0 => Side::Left,
            1 => Side::Right,
            other => {
                return Err(Failure::argument(format!(
                    "side {other} is not 0 (left) or 1 (right)"
                )));
            }
        };
        buf::need(out_a, "out_a")?;
        buf::need(out_b, "out_b")?;
        let (a2, b2) = TextOp::transform(&a, &b, side).map_err(refused)?;
        op_out(out_a, &a2)?;
        op_out(out_b, &b2)
    })
}

/// The op undoing `op` on `base` (the text `op` applies to); `*out`
/// receives it.
///
/// Errors: `ot.invalid_json`, `ot.length_mismatch`, pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_op_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_invert(
    op: *const u8,
    op_len: usize,
    base: *const u8,
    base_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (op, base) = unsafe {
            (
                op_arg(op, op_len, "op")?,
                buf::text(base, base_len, "base")?,
            )
        };
        op_out(out, &op.invert(base).map_err(refused)?)
    })
}

/// Where position `pos` (characters) of the op's base text is after `op`;
/// `bias` is a [`VsBias`] value. `*out` receives the position.
///
/// Errors: `ot.invalid_json`, `VS_STATUS_INVALID_ARGUMENT` for an unknown
/// bias, pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_op_apply`]; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_transform_position(
    op: *const u8,
    op_len: usize,
    pos: usize,
    bias: u32,
    out: *mut usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let op = unsafe { op_arg(op, op_len, "op") }?;
        let bias = match bias {
            0 => Bias::After,
            1 => Bias::Before,
            other => {
                return Err(Failure::argument(format!(
                    "bias {other} is not 0 (after) or 1 (before)"
                )));
            }
        };
        // SAFETY: as above.
        unsafe { buf::put(out, op.transform_position(pos, bias), "out") }
    })
}

/// The op that, on a text of `base_len` characters, deletes `deleted`
/// characters at `pos` and inserts `text` (UTF-8) there.
///
/// Errors: `ot.out_of_range`, pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_op_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_from_splice(
    base_len: usize,
    pos: usize,
    deleted: usize,
    text: *const u8,
    text_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let text = unsafe { buf::text(text, text_len, "text") }?;
        op_out(
            out,
            &TextOp::from_splice(base_len, pos, deleted, text).map_err(refused)?,
        )
    })
}

/// The op for editor changes with UTF-16 offsets into `base`: `changes` is
/// a JSON array of `{"offset": n, "deleted": n, "text": "…"}` (Monaco's
/// `rangeOffset`, `rangeLength`, `text`), all relative to `base`.
///
/// Errors: `ot.split_surrogate`, `ot.out_of_range`,
/// `ot.overlapping_changes`, `VS_STATUS_INVALID_JSON` for a malformed list,
/// pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_op_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_from_utf16(
    base: *const u8,
    base_len: usize,
    changes: *const u8,
    changes_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let base = unsafe { buf::text(base, base_len, "base") }?;
        // SAFETY: as above.
        let changes: Vec<Utf16Change> = unsafe { buf::json(changes, changes_len, "changes") }?;
        op_out(
            out,
            &TextOp::from_utf16_changes(base, &changes).map_err(refused)?,
        )
    })
}

/// `op` as editor changes with UTF-16 offsets into `base`, last change
/// first: `*out` receives a JSON array of `{"offset","deleted","text"}`.
///
/// Errors: `ot.invalid_json`, `ot.length_mismatch`, pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_op_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_to_utf16(
    op: *const u8,
    op_len: usize,
    base: *const u8,
    base_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (op, base) = unsafe {
            (
                op_arg(op, op_len, "op")?,
                buf::text(base, base_len, "base")?,
            )
        };
        let changes = op.to_utf16_changes(base).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(buf::to_json(&changes)), "out") }
    })
}

/// The op taking `old` to `new` (both UTF-8), as small as a line-then-
/// character diff finds.
///
/// Errors: pointer/UTF-8 statuses only.
///
/// # Safety
/// As [`vs_op_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_op_diff(
    old: *const u8,
    old_len: usize,
    new: *const u8,
    new_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (old, new) = unsafe {
            (
                buf::text(old, old_len, "old")?,
                buf::text(new, new_len, "new")?,
            )
        };
        op_out(out, &TextOp::diff(old, new))
    })
}

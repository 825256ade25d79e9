//! JSON helpers for callers without a JSON library (C test programs, small
//! tools): canonical form, member access, string and number reading. They
//! know nothing of the engine. Thread-safe.

use serde_json::Value;

use crate::buf::{self, VsBuf};
use crate::error::{Failure, VsError, VsStatus, guard};

/// Writes `value` with object keys sorted (recursively) and no whitespace.
fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(buf::to_json(key));
                out.push(b':');
                if let Some(item) = map.get(key) {
                    canonical(item, out);
                }
            }
            out.push(b'}');
        }
        scalar => out.extend(buf::to_json(scalar)),
    }
}

/// Canonical bytes of a JSON value.
pub(crate) fn canonical_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    canonical(value, &mut out);
    out
}

/// Rewrites `json` canonically: object keys sorted, no whitespace, numbers
/// and strings as serde_json writes them. Two documents are equal as JSON
/// exactly when their canonical forms are equal bytes.
///
/// Errors: `VS_STATUS_INVALID_JSON`, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `json` points to `json_len` readable bytes (or is NULL with length 0);
/// `out` is writable; `error` is NULL or writable. The caller owns `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_json_canonical(
    json: *const u8,
    json_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let value: Value = unsafe { buf::json(json, json_len, "json") }?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(canonical_bytes(&value)), "out") }
    })
}

/// The member `key` (UTF-8) of a JSON object, or element `key` (decimal
/// index) of a JSON array, canonically written; `*out` is the "nothing"
/// buffer (`data == NULL`) when there is no such member.
///
/// Errors: `VS_STATUS_INVALID_JSON` (including `json` being neither object
/// nor array), pointer/UTF-8 statuses.
///
/// # Safety
/// As [`vs_json_canonical`]; `key` points to `key_len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_json_get(
    json: *const u8,
    json_len: usize,
    key: *const u8,
    key_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let value: Value = unsafe { buf::json(json, json_len, "json") }?;
        // SAFETY: as above.
        let key = unsafe { buf::text(key, key_len, "key") }?;
        let found = match &value {
            Value::Object(map) => map.get(key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => return Err(not_container()),
        };
        let answer = found.map_or_else(VsBuf::none, |v| VsBuf::from_vec(canonical_bytes(v)));
        // SAFETY: as above.
        unsafe { buf::put(out, answer, "out") }
    })
}

fn not_container() -> Failure {
    Failure::new(
        VsStatus::InvalidJson,
        "ffi.invalid_json",
        "expected a JSON object or array",
    )
}

/// The number of members of a JSON object or elements of an array.
///
/// Errors: `VS_STATUS_INVALID_JSON`, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// As [`vs_json_canonical`]; `out` points to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_json_len(
    json: *const u8,
    json_len: usize,
    out: *mut usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let value: Value = unsafe { buf::json(json, json_len, "json") }?;
        let len = match &value {
            Value::Object(map) => map.len(),
            Value::Array(items) => items.len(),
            _ => return Err(not_container()),
        };
        // SAFETY: as above.
        unsafe { buf::put(out, len, "out") }
    })
}

/// The keys of a JSON object, sorted, as a JSON array of strings.
///
/// Errors: `VS_STATUS_INVALID_JSON` (also when `json` is not an object),
/// `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// As [`vs_json_canonical`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_json_keys(
    json: *const u8,
    json_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let value: Value = unsafe { buf::json(json, json_len, "json") }?;
        let Value::Object(map) = value else {
            return Err(not_container());
        };
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(buf::to_json(&keys)), "out") }
    })
}

/// The text of a JSON string, unescaped (UTF-8, NUL-terminated; it may
/// contain NUL itself, so use `len`).
///
/// Errors: `VS_STATUS_INVALID_JSON` (also when `json` is not a string),
/// `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// As [`vs_json_canonical`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_json_string(
    json: *const u8,
    json_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let text: String = unsafe { buf::json(json, json_len, "json") }?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(text.into_bytes()), "out") }
    })
}

/// The value of a JSON non-negative integer.
///
/// Errors: `VS_STATUS_INVALID_JSON` (also for anything but an integer in
/// `0..=2^64-1`), `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// As [`vs_json_canonical`]; `out` points to a writable `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_json_u64(
    json: *const u8,
    json_len: usize,
    out: *mut u64,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let value: u64 = unsafe { buf::json(json, json_len, "json") }?;
        // SAFETY: as above.
        unsafe { buf::put(out, value, "out") }
    })
}

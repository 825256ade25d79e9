//! Wire messages: decode and validate what a peer sent, re-encoded in the
//! engine's canonical form. Thread-safe.

use serde_json::Value;
use velocity_sync::protocol::{ProtocolLimits, decode_client, decode_server};

use crate::buf::{self, VsBuf};
use crate::error::{Failure, VsError, VsStatus, guard, refused};

/// The default limits with the members of `limits` (a JSON object such as
/// `{"max_message_bytes": 1024}`) replacing theirs; NULL keeps the defaults.
///
/// # Safety
/// As [`buf::bytes`].
unsafe fn limits_arg(limits: *const u8, limits_len: usize) -> Result<ProtocolLimits, Failure> {
    let defaults = ProtocolLimits::default();
    if limits.is_null() {
        return Ok(defaults);
    }
    // SAFETY: forwarded contract.
    let given: serde_json::Map<String, Value> = unsafe { buf::json(limits, limits_len, "limits") }?;
    let mut merged = serde_json::to_value(defaults).map_err(|e| Failure::json("limits", &e))?;
    for (key, value) in given {
        match merged.get_mut(&key) {
            Some(slot) => *slot = value,
            None => {
                return Err(Failure::new(
                    VsStatus::InvalidJson,
                    "ffi.invalid_json",
                    format!("limits has no member {key:?}"),
                ));
            }
        }
    }
    serde_json::from_value(merged).map_err(|e| Failure::json("limits", &e))
}

/// Decodes a message a client sent (the JSON envelope
/// `{"v":1,"event":…,"payload":…}`, or today's legacy `file:update`) under
/// `limits` (a JSON object overriding some of `max_message_bytes`,
/// `max_file_bytes`, `max_batch_bytes`, `max_binary_batch_bytes`,
/// `max_op_components`, `max_have`; NULL for the defaults); `*out`
/// receives its canonical encoding.
///
/// Errors: `VS_STATUS_REFUSED` with a `protocol.*` code
/// (`protocol.bad_json`, `protocol.unknown_event`, `protocol.bad_payload`,
/// `protocol.unsupported_version`, a limit), `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `message` points to `message_len` readable bytes, `limits` to
/// `limits_len` (or is NULL); `out` is writable;
/// `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_protocol_decode_client(
    message: *const u8,
    message_len: usize,
    limits: *const u8,
    limits_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let raw = unsafe { buf::bytes(message, message_len, "message") }?;
        // SAFETY: as above.
        let limits = unsafe { limits_arg(limits, limits_len) }?;
        let decoded = decode_client(raw, &limits).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(decoded.to_json().into_bytes()), "out") }
    })
}

/// Decodes a message a server sent under `limits` (as in
/// [`vs_protocol_decode_client`]); `*out` receives its canonical encoding.
///
/// Errors: as [`vs_protocol_decode_client`].
///
/// # Safety
/// As [`vs_protocol_decode_client`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_protocol_decode_server(
    message: *const u8,
    message_len: usize,
    limits: *const u8,
    limits_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let raw = unsafe { buf::bytes(message, message_len, "message") }?;
        // SAFETY: as above.
        let limits = unsafe { limits_arg(limits, limits_len) }?;
        let decoded = decode_server(raw, &limits).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(decoded.to_json().into_bytes()), "out") }
    })
}

//! Wire messages: decode and validate what a peer sent, re-encoded in the
//! engine's canonical form. Thread-safe.

use velocity_sync::protocol::{ProtocolLimits, decode_client, decode_server};

use crate::buf::{self, VsBuf};
use crate::error::{VsError, VsStatus, guard, refused};

/// Decodes a message a client sent (the JSON envelope
/// `{"v":1,"event":…,"payload":…}`, or today's legacy `file:update`) under
/// the default limits; `*out` receives its canonical encoding.
///
/// Errors: `VS_STATUS_REFUSED` with a `protocol.*` code
/// (`protocol.bad_json`, `protocol.unknown_event`, `protocol.bad_payload`,
/// `protocol.unsupported_version`, a limit), `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `message` points to `message_len` readable bytes; `out` is writable;
/// `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_protocol_decode_client(
    message: *const u8,
    message_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let raw = unsafe { buf::bytes(message, message_len, "message") }?;
        let decoded = decode_client(raw, &ProtocolLimits::default()).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(decoded.to_json().into_bytes()), "out") }
    })
}

/// Decodes a message a server sent under the default limits; `*out`
/// receives its canonical encoding.
///
/// Errors: as [`vs_protocol_decode_client`].
///
/// # Safety
/// As [`vs_protocol_decode_client`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_protocol_decode_server(
    message: *const u8,
    message_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let raw = unsafe { buf::bytes(message, message_len, "message") }?;
        let decoded = decode_server(raw, &ProtocolLimits::default()).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(decoded.to_json().into_bytes()), "out") }
    })
}

//! File contents, hashes and entries: the small conversions a caller needs
//! to build entries and manifests itself. Thread-safe.

use velocity_sync::protocol::Bytes;
use velocity_sync::{FileEntry, FileId, FilePath, hash_both};

use crate::buf::{self, VsBuf};
use crate::error::{VsError, VsStatus, guard, refused};

/// The hashes of `bytes`: `*out` receives `{"blake3": hex, "sha256": hex}`
/// (BLAKE3 is the engine's content address; SHA-256 what the database's
/// `content_hash` / `checksum` columns hold).
///
/// # Safety
/// `bytes` points to `bytes_len` readable bytes (or is NULL with length 0);
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_hash_of(
    bytes: *const u8,
    bytes_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let bytes = unsafe { buf::bytes(bytes, bytes_len, "bytes") }?;
        let (blake3, sha256) = hash_both(bytes);
        let json = buf::to_json(&serde_json::json!({ "blake3": blake3, "sha256": sha256 }));
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(json), "out") }
    })
}

/// Content in the protocol's JSON form: `{"text": …}` for text,
/// `{"base64": …}` for anything else.
///
/// # Safety
/// As [`vs_hash_of`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_content_to_json(
    bytes: *const u8,
    bytes_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let bytes = unsafe { buf::bytes(bytes, bytes_len, "bytes") }?;
        let json = buf::to_json(&Bytes::new(bytes.to_vec()));
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(json), "out") }
    })
}

/// The bytes of content in the protocol's JSON form (`{"text": …}` or
/// `{"base64": …}`).
///
/// Errors: `VS_STATUS_INVALID_JSON` (also for bad base64),
/// `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `json` points to `json_len` readable bytes; `out` is writable; `error`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_content_from_json(
    json: *const u8,
    json_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let content: Bytes = unsafe { buf::json(json, json_len, "content") }?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(content.as_slice().to_vec()), "out") }
    })
}

/// The entry of a file at `path` (canonical) holding `content`: kind
/// classified from the bytes, size, BLAKE3 hash, revision 0, and the id
/// `id` (a UUID) or none when `id` is NULL. `*out` receives its JSON.
///
/// Errors: `path.*`, `entry.*` for a malformed id, pointer/UTF-8 statuses.
///
/// # Safety
/// `path`, `content` and `id` point to their lengths of readable bytes
/// (`content` and `id` may be NULL with length 0; `id` NULL means no id);
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_entry_from_content(
    path: *const u8,
    path_len: usize,
    content: *const u8,
    content_len: usize,
    id: *const u8,
    id_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (path, content) = unsafe {
            (
                buf::bytes(path, path_len, "path")?,
                buf::bytes(content, content_len, "content")?,
            )
        };
        let id = if id.is_null() {
            None
        } else {
            // SAFETY: as above.
            let text = unsafe { buf::text(id, id_len, "id") }?;
            Some(FileId::parse(text).map_err(refused)?)
        };
        let path = FilePath::from_bytes(path).map_err(refused)?;
        let mut entry = FileEntry::from_content(path, content);
        entry.id = id;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(buf::to_json(&entry)), "out") }
    })
}

/// A deterministic file id (a UUID) derived from `material` under
/// `context` (BLAKE3 key derivation): the same inputs give the same id
/// everywhere.
///
/// # Safety
/// `context` and `material` point to their lengths of readable bytes;
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_file_id_derive(
    context: *const u8,
    context_len: usize,
    material: *const u8,
    material_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (context, material) = unsafe {
            (
                buf::text(context, context_len, "context")?,
                buf::bytes(material, material_len, "material")?,
            )
        };
        let id = FileId::derive(context, material).to_string();
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(id.into_bytes()), "out") }
    })
}

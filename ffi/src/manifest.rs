//! Manifests, diffs, blob stores and changesets.
//!
//! A [`VsManifest`] and a [`VsStore`] are handles: create, use, free. A
//! handle is not synchronised: it may be used from any thread, but from one
//! at a time. Entries, diffs and changesets travel as the engine's JSON
//! forms (`FileEntry`: `{"id","path","kind","size","hash","revision"}`).

use velocity_sync::{
    BlobStore, Changeset, ContentHash, Diff, FileEntry, Manifest, MemoryBlobStore,
};

use crate::buf::{self, VsBuf};
use crate::error::{VsError, VsStatus, guard, refused};

/// A versioned Merkle manifest of file entries (opaque).
#[derive(Debug)]
pub struct VsManifest(pub(crate) Manifest);

/// An in-memory content-addressed blob store (opaque).
#[derive(Debug, Default)]
pub struct VsStore(pub(crate) MemoryBlobStore);

/// Builds a manifest (version 0, no parent) from a JSON array of entries;
/// `*out` receives a new handle the caller frees with [`vs_manifest_free`].
///
/// Errors: `VS_STATUS_REFUSED` with a `manifest.*` code (a duplicate path, a
/// file under a file, a limit), `VS_STATUS_INVALID_JSON`,
/// `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `entries` points to `entries_len` readable bytes; `out` is writable;
/// `error` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_from_entries(
    entries: *const u8,
    entries_len: usize,
    out: *mut *mut VsManifest,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let entries: Vec<FileEntry> = unsafe { buf::json(entries, entries_len, "entries") }?;
        let manifest = Manifest::from_entries(entries).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put_handle(out, VsManifest(manifest), "out") }
    })
}

/// Reads a manifest from its JSON form `{"version", "parent"?, "entries":
/// [entries]}`; `*out` receives a new handle.
///
/// Errors: `VS_STATUS_INVALID_JSON` (including entries that break a
/// manifest rule), `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// As [`vs_manifest_from_entries`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_from_json(
    json: *const u8,
    json_len: usize,
    out: *mut *mut VsManifest,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let manifest: Manifest = unsafe { buf::json(json, json_len, "manifest") }?;
        // SAFETY: as above.
        unsafe { buf::put_handle(out, VsManifest(manifest), "out") }
    })
}

/// The manifest's JSON form `{"version", "parent"?, "entries"}`.
///
/// # Safety
/// `manifest` is a live manifest; `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_to_json(
    manifest: *const VsManifest,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let manifest = unsafe { buf::handle(manifest, "manifest") }?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(buf::to_json(&manifest.0)), "out") }
    })
}

/// Releases a manifest. NULL is fine.
///
/// # Safety
/// `manifest` is NULL or a manifest from this library not yet freed and not
/// in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_free(manifest: *mut VsManifest) {
    // SAFETY: forwarded contract.
    unsafe { buf::free_handle(manifest) }
}

/// The manifest's id (64 hex digits: BLAKE3 of its tree and header).
///
/// # Safety
/// `manifest` is a live manifest; `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_id(
    manifest: *const VsManifest,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let manifest = unsafe { buf::handle(manifest, "manifest") }?;
        let id = manifest.0.id().to_string();
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(id.into_bytes()), "out") }
    })
}

/// The manifest's entries as a JSON array, in path order.
///
/// # Safety
/// As [`vs_manifest_id`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_entries(
    manifest: *const VsManifest,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let manifest = unsafe { buf::handle(manifest, "manifest") }?;
        let json = buf::to_json(&manifest.0.entries());
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(json), "out") }
    })
}

/// The diff taking `base` to `target`, as the engine's JSON `Diff`
/// (`{"base","target","target_version","target_parent","changes"}`).
///
/// # Safety
/// `base` and `target` are live manifests; `out` is writable; `error` NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_diff(
    base: *const VsManifest,
    target: *const VsManifest,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (base, target) =
            unsafe { (buf::handle(base, "base")?, buf::handle(target, "target")?) };
        let json = buf::to_json(&base.0.diff(&target.0));
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(json), "out") }
    })
}

/// Applies a JSON `Diff` to `base`; `*out` receives the new manifest.
///
/// Errors: `manifest.base_mismatch`, `manifest.target_mismatch` and other
/// `manifest.*` codes, `VS_STATUS_INVALID_JSON`, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `base` is a live manifest; `diff` points to `diff_len` readable bytes;
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_manifest_apply(
    base: *const VsManifest,
    diff: *const u8,
    diff_len: usize,
    out: *mut *mut VsManifest,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let base = unsafe { buf::handle(base, "base") }?;
        // SAFETY: as above.
        let diff: Diff = unsafe { buf::json(diff, diff_len, "diff") }?;
        let next = base.0.apply(&diff).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put_handle(out, VsManifest(next), "out") }
    })
}

/// A new, empty blob store; `*out` receives the handle (free with
/// [`vs_store_free`]).
///
/// # Safety
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_store_new(
    out: *mut *mut VsStore,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        unsafe { buf::put_handle(out, VsStore::default(), "out") }
    })
}

/// Releases a store. NULL is fine.
///
/// # Safety
/// `store` is NULL or a store from this library not yet freed and not in use
/// by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_store_free(store: *mut VsStore) {
    // SAFETY: forwarded contract.
    unsafe { buf::free_handle(store) }
}

/// Stores `bytes`; `*out` receives their content hash (64 hex digits).
///
/// # Safety
/// `store` is a live store; `bytes` points to `bytes_len` readable bytes;
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_store_insert(
    store: *mut VsStore,
    bytes: *const u8,
    bytes_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (store, bytes) = unsafe {
            (
                buf::handle_mut(store, "store")?,
                buf::bytes(bytes, bytes_len, "bytes")?,
            )
        };
        buf::need(out, "out")?;
        let hash = store.0.insert(bytes.to_vec()).to_string();
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(hash.into_bytes()), "out") }
    })
}

/// The bytes stored under `hash` (hex); `*out` is the "nothing" buffer when
/// the store lacks them.
///
/// Errors: `hash.*` codes for a malformed hash, pointer/UTF-8 statuses.
///
/// # Safety
/// `store` is a live store; `hash` points to `hash_len` readable bytes; `out`
/// is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_store_get(
    store: *const VsStore,
    hash: *const u8,
    hash_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (store, hash) = unsafe {
            (
                buf::handle(store, "store")?,
                buf::text(hash, hash_len, "hash")?,
            )
        };
        let hash = ContentHash::from_hex(hash).map_err(refused)?;
        let answer = store
            .0
            .get(&hash)
            .map_or_else(VsBuf::none, |blob| VsBuf::from_vec(blob.to_vec()));
        // SAFETY: as above.
        unsafe { buf::put(out, answer, "out") }
    })
}

/// The changeset taking `base` to `target`: the diff plus every content
/// `store` holds that a receiver of `base` lacks (whole, or as a delta
/// against content it has). `*out` receives its JSON form (format 1).
///
/// Errors: `changeset.*` / `store.missing` when `store` lacks a new
/// content, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `base`, `target`, `store` are live handles; `out` is writable; `error`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_changeset_between(
    base: *const VsManifest,
    target: *const VsManifest,
    store: *const VsStore,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (base, target, store) = unsafe {
            (
                buf::handle(base, "base")?,
                buf::handle(target, "target")?,
                buf::handle(store, "store")?,
            )
        };
        let changeset = Changeset::between(&base.0, &target.0, &store.0).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(changeset.to_json()), "out") }
    })
}

/// Decodes a changeset (JSON bytes from anywhere) and re-encodes it in the
/// engine's canonical form; use it to validate before storing.
///
/// Errors: `changeset.bad_json`, `changeset.unsupported_format`,
/// `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `changeset` points to `changeset_len` readable bytes; `out` is writable;
/// `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_changeset_decode(
    changeset: *const u8,
    changeset_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let raw = unsafe { buf::bytes(changeset, changeset_len, "changeset") }?;
        let changeset = Changeset::from_json(raw).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(changeset.to_json()), "out") }
    })
}

/// Applies a changeset (JSON bytes) to `base`: checks the base id, every
/// content's hash and size and the target id, then stores the new contents
/// in `store`. `*out` receives the target manifest. Nothing changes on
/// failure.
///
/// Errors: `changeset.*` codes (e.g. `changeset.base_mismatch`,
/// `changeset.hash_mismatch`), `manifest.*` codes, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `base` and `store` are live handles; `changeset` points to
/// `changeset_len` readable bytes; `out` is writable; `error` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_changeset_apply(
    changeset: *const u8,
    changeset_len: usize,
    base: *const VsManifest,
    store: *mut VsStore,
    out: *mut *mut VsManifest,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let raw = unsafe { buf::bytes(changeset, changeset_len, "changeset") }?;
        // SAFETY: as above.
        let (base, store) =
            unsafe { (buf::handle(base, "base")?, buf::handle_mut(store, "store")?) };
        buf::need(out, "out")?;
        let changeset = Changeset::from_json(raw).map_err(refused)?;
        let target = changeset.apply(&base.0, &mut store.0).map_err(refused)?;
        // SAFETY: as above.
        unsafe { buf::put_handle(out, VsManifest(target), "out") }
    })
}

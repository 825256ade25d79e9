//! Hydration plans: what a participant that has some files (or none) must
//! receive to hold the server's project, in batches. Thread-safe apart
//! from the manifest handle rule (one thread at a time).

use std::collections::HashSet;

use velocity_sync::hydrate::{HydrationOptions, plan};
use velocity_sync::{ContentHash, FileEntry};

use crate::buf::{self, VsBuf};
use crate::error::{VsError, VsStatus, guard};
use crate::manifest::VsManifest;

/// Plans the hydration of `manifest` for a participant that holds the
/// entries `have_entries` (JSON array of entries, skipped when equal) and
/// the contents `have_blobs` (JSON array of hex hashes, announced but not
/// sent); `options` is JSON `{"max_batch_bytes": n}`. Any of the three may
/// be NULL (nothing held; default options). `*out` receives the JSON plan
/// (`{"target","files","batches","content_bytes"}`).
///
/// Errors: `VS_STATUS_INVALID_JSON`, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `manifest` is a live manifest; each of `have_entries`, `have_blobs`,
/// `options` is NULL or points to its length of readable bytes; `out` is
/// writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_hydrate_plan(
    manifest: *const VsManifest,
    have_entries: *const u8,
    have_entries_len: usize,
    have_blobs: *const u8,
    have_blobs_len: usize,
    options: *const u8,
    options_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let manifest = unsafe { buf::handle(manifest, "manifest") }?;
        let entries: Vec<FileEntry> = if have_entries.is_null() {
            Vec::new()
        } else {
            // SAFETY: as above.
            unsafe { buf::json(have_entries, have_entries_len, "have_entries") }?
        };
        let blobs: HashSet<ContentHash> = if have_blobs.is_null() {
            HashSet::new()
        } else {
            // SAFETY: as above.
            unsafe { buf::json(have_blobs, have_blobs_len, "have_blobs") }?
        };
        let options: HydrationOptions = if options.is_null() {
            HydrationOptions::default()
        } else {
            // SAFETY: as above.
            unsafe { buf::json(options, options_len, "options") }?
        };
        let entries: HashSet<FileEntry> = entries.into_iter().collect();
        let planned = plan(
            &manifest.0,
            |e| entries.contains(e),
            |h| blobs.contains(h),
            &options,
        );
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(buf::to_json(&planned)), "out") }
    })
}

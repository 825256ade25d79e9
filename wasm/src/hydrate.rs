//! Hydration: plans (what a joining client is sent, critical files first, in
//! batches sized for the transport) and progress (the client reports it as
//! `hydrating` events; these read it the way core does).

use velocity_sync::hydrate::Progress;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindResult, from_json};

/// Done, as a fraction of the bytes (or files when there are no bytes),
/// for a progress JSON `{"files_done","files_total","bytes_done","bytes_total"}`.
///
/// # Errors
/// `wasm.bad_argument`.
#[wasm_bindgen(js_name = hydrationFraction)]
pub fn hydration_fraction(progress_json: &str) -> BindResult<f64> {
    let progress: Progress = from_json("progress", progress_json)?;
    Ok(progress.fraction())
}

/// Whether every file of a progress JSON is done.
///
/// # Errors
/// `wasm.bad_argument`.
#[wasm_bindgen(js_name = hydrationComplete)]
pub fn hydration_complete(progress_json: &str) -> BindResult<bool> {
    let progress: Progress = from_json("progress", progress_json)?;
    Ok(progress.is_complete())
}

/// The hydration plan of `manifest` for a client holding `have_entries`
/// exactly and the contents `have_blobs` (hashes), cut in batches of at most
/// `max_batch_bytes` of JSON.
///
/// # Errors
/// `manifest.*`, `wasm.bad_argument`.
///
/// Server work: in the full build only (feature `server`).
#[cfg(feature = "server")]
#[wasm_bindgen(js_name = hydratePlan)]
pub fn hydrate_plan(
    manifest: &str,
    have_entries: &str,
    have_blobs: &str,
    max_batch_bytes: f64,
) -> BindResult<String> {
    use velocity_sync::hydrate::{HydrationOptions, plan};
    use velocity_sync::{ContentHash, FileEntry};

    use crate::error::{index, to_json};

    let manifest = crate::manifest::manifest(manifest)?;
    let entries: Vec<FileEntry> = from_json("haveEntries", have_entries)?;
    let blobs: Vec<ContentHash> = from_json("haveBlobs", have_blobs)?;
    let options = HydrationOptions {
        max_batch_bytes: index("maxBatchBytes", max_batch_bytes)?,
    };
    let plan = plan(
        &manifest,
        |e| entries.contains(e),
        |h| blobs.contains(h),
        &options,
    );
    to_json(&plan)
}

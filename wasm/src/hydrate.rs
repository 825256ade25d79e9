//! Hydration progress helpers (the client reports progress as `hydrating`
//! events; these read a progress value the way core does).

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

//! WebAssembly bindings for `velocity-sync`.
//!
//! This crate is a thin shell for now: the editor-package issue fills it with
//! wasm-bindgen wrappers that only convert values and call `velocity_sync`.

/// The version of the core engine these bindings wrap.
pub fn core_version() -> &'static str {
    velocity_sync::VERSION
}

//! C ABI for `velocity-sync`.
//!
//! A thin shell for now: the C API issue adds opaque handles, a cbindgen
//! header and the conformance tests. Every function will only convert and
//! call `velocity_sync`.

/// The version of the core engine this library wraps.
pub fn core_version() -> &'static str {
    velocity_sync::VERSION
}

//! C ABI for `velocity-sync`.
//!
//! Every function only converts: C arguments (byte ranges, JSON text,
//! opaque handles) into the engine's types, a call into `velocity_sync`,
//! and the result back into a [`VsBuf`], a handle or a [`VsStatus`]. No
//! sync logic lives here, so a fix in the engine reaches C unchanged.
//!
//! # Conventions (repeated in the generated header)
//! - Every fallible function returns a [`VsStatus`] and takes a last
//!   argument `VsError **error`: NULL to ignore details, otherwise it is set
//!   to NULL on success and to an owned [`VsError`] on failure, whose
//!   [`vs_error_code`] is the engine's stable code (`"path.parent_segment"`)
//!   or an `ffi.*` code, and whose [`vs_error_message`] is for people.
//! - Inputs are `(pointer, length)` pairs; text must be UTF-8. A NULL
//!   pointer is allowed when the length is 0.
//! - Outputs are written only on success. Buffers ([`VsBuf`]) belong to the
//!   caller and are released with [`vs_buf_free`]; handles with their
//!   `vs_*_free`. Free functions accept NULL.
//! - Structured values (entries, diffs, events, plans) are JSON.
//! - Threads: functions without a handle are thread-safe. A handle may move
//!   between threads but must not be used by two threads at once.
//! - No panic crosses the boundary: one would come back as
//!   `VS_STATUS_PANIC`.
#![allow(unsafe_code)] // A C ABI is raw pointers; every unsafe block says why it holds.
#![warn(missing_docs)]

mod buf;
mod client;
mod content;
mod error;
mod hydrate;
mod json;
mod manifest;
mod ot;
mod path;
mod protocol;
mod rows;

mod server;

pub use buf::{VsBuf, vs_buf_free};
pub use client::*;
pub use content::*;
pub use error::{VsError, VsStatus, vs_error_code, vs_error_free, vs_error_message};
pub use hydrate::*;
pub use json::*;
pub use manifest::*;
pub use ot::*;
pub use path::*;
pub use protocol::*;
pub use rows::*;

pub use server::*;

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

/// The engine's version (`velocity_sync::VERSION`, e.g. `"0.1.0"`): a static
/// NUL-terminated string, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn vs_version() -> *const c_char {
    static VERSION: OnceLock<CString> = OnceLock::new();
    VERSION
        .get_or_init(|| CString::new(velocity_sync::VERSION).unwrap_or_default())
        .as_ptr()
}

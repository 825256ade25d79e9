//! WebAssembly bindings for `velocity-sync`: the editor's npm package.
//!
//! Thin by design: every export converts its arguments, calls
//! [`velocity_sync`], and converts the result back. Structured values cross
//! as JSON strings (core's serde forms, ops as ot.js compact JSON), which the
//! package's JavaScript wrapper (`wasm/js/`) parses and types. Every error
//! reaches JavaScript as an `Error` with the stable `code` of the core error
//! ([`BindError`]).
//!
//! | module | exports |
//! |---|---|
//! | [`client`] | `ProjectClient` |
//! | [`server`] | `ProjectServer` |
//! | [`ops`] | `opApply`, `opCompose`, `opTransform`, `opInvert`, `opTransformPosition`, `opFromSplice`, `opFromUtf16`, `opToUtf16`, `opDiff`, … |
//! | [`undo`] | `UndoManager` |
//! | [`document`] | `TextDocument` |
//! | [`manifest`] | `pathParse`, `entryFromContent`, `manifestId`, `manifestDiff`, `manifestApply`, … |
//! | [`rows`] | `rowsDecode`, `rowsEncode` |
//! | [`content`] | `hashOf`, `fileIdDerive`, `changesetBetween`, `changesetApply` |
//! | [`hydrate`] | `hydratePlan`, `hydrationFraction`, `hydrationComplete` |
//! | [`protocol`] | `protocolDecodeClient`, `protocolDecodeServer` |
//!
//! Feature `server` (default on) adds [`server`], [`rows`] and [`document`]; the package's
//! browser build turns it off to stay small (`scripts/wasm-pkg.sh`).

#![warn(missing_docs)]

pub mod client;
pub mod content;
#[cfg(feature = "server")]
pub mod document;
pub mod error;
mod events;
pub mod hydrate;
pub mod manifest;
pub mod ops;
pub mod panic;
pub mod protocol;
#[cfg(feature = "server")]
pub mod rows;
#[cfg(feature = "server")]
pub mod server;
pub mod undo;

pub use error::BindError;
use wasm_bindgen::prelude::wasm_bindgen;

/// The version of the core engine these bindings wrap.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    velocity_sync::VERSION.to_owned()
}

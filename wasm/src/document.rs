//! [`TextDocument`]: core's server-side text file (a rope with a compact
//! history) for JavaScript: order concurrent ops of one file without the
//! whole project protocol. Ops are ot.js JSON strings.

use velocity_sync::Document;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindResult, integer};
use crate::ops::op;

/// One text file as the server holds it: submit ops made on any kept
/// revision, get them back transformed to broadcast.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TextDocument {
    inner: Document,
}

#[wasm_bindgen]
impl TextDocument {
    /// A document holding `text` at revision 0.
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str) -> Self {
        Self {
            inner: Document::from_text(text),
        }
    }

    /// Orders an op `client` made on revision `base_rev` (its `seq`-th):
    /// returns `{"rev", "op", "duplicate"}` with the op as applied. A
    /// repeated `(client, seq)` returns the first result again.
    ///
    /// # Errors
    /// `ot.invalid_json`, `ot.resync_required`, `ot.future_revision`,
    /// `ot.length_mismatch`, `ot.stale_seq`, `ot.duplicate_forgotten`,
    /// `wasm.bad_argument`; the document is unchanged then.
    pub fn submit(
        &mut self,
        client: f64,
        seq: f64,
        base_rev: f64,
        op_json: &str,
    ) -> BindResult<String> {
        let submitted = self.inner.submit(
            integer("client", client)?,
            integer("seq", seq)?,
            integer("baseRev", base_rev)?,
            op(op_json)?,
        )?;
        Ok(format!(
            "{{\"rev\":{},\"op\":{},\"duplicate\":{}}}",
            submitted.rev,
            submitted.op.to_json(),
            submitted.duplicate
        ))
    }

    /// The current revision.
    #[wasm_bindgen(getter)]
    pub fn rev(&self) -> f64 {
        self.inner.rev() as f64
    }

    /// The current length in characters.
    #[wasm_bindgen(getter, js_name = lenChars)]
    pub fn len_chars(&self) -> f64 {
        self.inner.len_chars() as f64
    }

    /// The current text.
    pub fn text(&self) -> String {
        self.inner.text()
    }

    /// Where position `pos` at revision `rev` is now.
    ///
    /// # Errors
    /// `ot.revision_unavailable`, `ot.future_revision`, `wasm.bad_argument`.
    #[wasm_bindgen(js_name = transformPositionSince)]
    pub fn transform_position_since(&self, rev: f64, pos: f64) -> BindResult<f64> {
        let moved = self
            .inner
            .transform_position_since(integer("rev", rev)?, integer("pos", pos)?)?;
        Ok(moved as f64)
    }
}

//! [`UndoManager`]: core's per-user undo (only this user's own edits, kept
//! applicable through remote ones) for the editor.

use velocity_sync::ot::UndoManager as CoreUndo;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindResult, index};
use crate::ops::op;

/// Undo and redo of one user's edits in one file. Ops are JSON strings.
#[wasm_bindgen]
#[derive(Debug)]
pub struct UndoManager {
    pub(crate) inner: CoreUndo,
}

#[wasm_bindgen]
impl UndoManager {
    /// A manager remembering at most `limit` edits.
    ///
    /// # Errors
    /// `wasm.bad_argument` when `limit` is not a safe integer.
    #[wasm_bindgen(constructor)]
    pub fn new(limit: f64) -> BindResult<Self> {
        Ok(Self {
            inner: CoreUndo::new(index("limit", limit)?),
        })
    }

    /// Records a local edit made on `base_text`; clears the redo stack.
    ///
    /// # Errors
    /// `ot.invalid_json`, `ot.length_mismatch`.
    pub fn record(&mut self, op_json: &str, base_text: &str) -> BindResult<()> {
        Ok(self.inner.record(&op(op_json)?, base_text)?)
    }

    /// A remote op was applied to the text.
    ///
    /// # Errors
    /// `ot.invalid_json`, `ot.transform_mismatch` (the manager is unchanged).
    pub fn remote(&mut self, op_json: &str) -> BindResult<()> {
        Ok(self.inner.remote(&op(op_json)?)?)
    }

    /// The op undoing the last local edit on `current_text`, or `undefined`.
    /// Apply it as a local edit (do not `record` it).
    ///
    /// # Errors
    /// `ot.length_mismatch` when `current_text` is not the text the manager
    /// tracked.
    pub fn undo(&mut self, current_text: &str) -> BindResult<Option<String>> {
        Ok(self.inner.undo(current_text)?.map(|op| op.to_json()))
    }

    /// The op redoing the last undone edit, or `undefined`.
    ///
    /// # Errors
    /// As [`undo`](Self::undo).
    pub fn redo(&mut self, current_text: &str) -> BindResult<Option<String>> {
        Ok(self.inner.redo(current_text)?.map(|op| op.to_json()))
    }

    /// Whether there is an edit to undo.
    #[wasm_bindgen(js_name = canUndo)]
    pub fn can_undo(&self) -> bool {
        self.inner.can_undo()
    }

    /// Whether there is an edit to redo.
    #[wasm_bindgen(js_name = canRedo)]
    pub fn can_redo(&self) -> bool {
        self.inner.can_redo()
    }
}

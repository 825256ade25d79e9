//! [`TextDocument`]: core's server-side text file (a rope with a compact
//! history) for JavaScript: order concurrent ops of one file without the
//! whole project protocol. Ops are ot.js JSON strings, or splices given as
//! numbers ([`submit_splice`](TextDocument::submit_splice),
//! [`submit_code_point`](TextDocument::submit_code_point)) so a keystroke
//! crosses the boundary without a string to encode, parse or return.

use velocity_sync::TextOp;
use velocity_sync::ot::Submitted;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindError, BindResult, index, integer};
use crate::ops::op;

/// One text file as the server holds it: submit ops made on any kept
/// revision, get them back transformed to broadcast.
#[wasm_bindgen]
#[derive(Debug)]
pub struct TextDocument {
    inner: velocity_sync::TextDocument,
    /// The last submission's result, for [`last_op`](Self::last_op).
    last: Option<Submitted>,
    /// Why the last splice returned -1, for [`take_error`](Self::take_error).
    error: Option<BindError>,
}

#[wasm_bindgen]
impl TextDocument {
    /// A document holding `text` at revision 0.
    #[wasm_bindgen(constructor)]
    pub fn new(text: &str) -> Self {
        Self {
            inner: velocity_sync::TextDocument::from_text(text),
            last: None,
            error: None,
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
        let json = format!(
            "{{\"rev\":{},\"op\":{},\"duplicate\":{}}}",
            submitted.rev,
            submitted.op.to_json(),
            submitted.duplicate
        );
        self.last = Some(submitted);
        Ok(json)
    }

    /// [`submit`](Self::submit) for one splice given as numbers: at
    /// character `pos` of the text at `base_rev`, `deleted` characters
    /// replaced by `inserted`. Returns the new revision; the op as applied
    /// is [`last_op`](Self::last_op), read only when it is wanted.
    ///
    /// Returns `-1` on failure, the document unchanged; the error
    /// ([`take_error`](Self::take_error)) is one of [`submit`](Self::submit)'s
    /// or `ot.out_of_range` when the splice does not fit the text at
    /// `base_rev`.
    #[wasm_bindgen(js_name = submitSplice)]
    pub fn submit_splice(
        &mut self,
        client: f64,
        seq: f64,
        base_rev: f64,
        pos: f64,
        deleted: f64,
        inserted: &str,
    ) -> f64 {
        let result = self.splice(client, seq, base_rev, pos, deleted, inserted);
        self.settle(result)
    }

    /// [`submit_splice`](Self::submit_splice) with at most one inserted
    /// character, given as its code point (`-1` for none): the typing and
    /// deleting path, with no string crossing at all.
    ///
    /// Fails as [`submit_splice`](Self::submit_splice) does, or with
    /// `wasm.bad_argument` when `code_point` is not `-1` or a Unicode scalar
    /// value.
    #[wasm_bindgen(js_name = submitCodePoint)]
    pub fn submit_code_point(
        &mut self,
        client: f64,
        seq: f64,
        base_rev: f64,
        pos: f64,
        deleted: f64,
        code_point: f64,
    ) -> f64 {
        let mut buffer = [0u8; 4];
        let result = code_point_text(code_point, &mut buffer)
            .and_then(|inserted| self.splice(client, seq, base_rev, pos, deleted, inserted));
        self.settle(result)
    }

    /// Throws the error that made the last splice return `-1` (and forgets
    /// it); does nothing when there is none. Splices report failure this way
    /// so their success path returns a bare number.
    ///
    /// # Errors
    /// The error of the last failed splice.
    #[wasm_bindgen(js_name = takeError)]
    pub fn take_error(&mut self) -> BindResult<()> {
        self.error.take().map_or(Ok(()), Err)
    }

    /// The op the last submission applied (ot.js JSON), to broadcast; or
    /// `undefined` before the first.
    #[wasm_bindgen(js_name = lastOp)]
    pub fn last_op(&self) -> Option<String> {
        self.last.as_ref().map(|submitted| submitted.op.to_json())
    }

    /// Whether the last submission repeated an earlier `(client, seq)`
    /// (nothing changed; [`last_op`](Self::last_op) is the first result).
    #[wasm_bindgen(getter, js_name = lastDuplicate)]
    pub fn last_duplicate(&self) -> bool {
        self.last
            .as_ref()
            .is_some_and(|submitted| submitted.duplicate)
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

impl TextDocument {
    /// The revision, or -1 with the error kept for [`take_error`](Self::take_error).
    fn settle(&mut self, result: BindResult<f64>) -> f64 {
        match result {
            Ok(rev) => rev,
            Err(error) => {
                self.error = Some(error);
                -1.0
            }
        }
    }

    /// Builds the splice's op on the text at `base_rev` and submits it.
    fn splice(
        &mut self,
        client: f64,
        seq: f64,
        base_rev: f64,
        pos: f64,
        deleted: f64,
        inserted: &str,
    ) -> BindResult<f64> {
        let client = integer("client", client)?;
        let seq = integer("seq", seq)?;
        let base_rev = integer("baseRev", base_rev)?;
        let (pos, deleted) = (index("pos", pos)?, index("deleted", deleted)?);
        // A base the document cannot place is refused, and a repeated
        // (client, seq) answered from the history: `submit` decides both
        // without looking at the op, so a splice that does not fit matters
        // only when the submission is new.
        let op = match self.base_len(base_rev) {
            None => TextOp::new(),
            Some(base_len) => match TextOp::from_splice(base_len, pos, deleted, inserted) {
                Ok(op) => op,
                Err(_) if matches!(self.inner.last_seq(client), Some(last) if seq <= last) => {
                    TextOp::new()
                }
                Err(error) => return Err(error.into()),
            },
        };
        let submitted = self.inner.submit(client, seq, base_rev, op)?;
        let rev = submitted.rev as f64;
        self.last = Some(submitted);
        Ok(rev)
    }

    /// The length in characters of the text at `base_rev`, when the
    /// document still holds that revision.
    fn base_len(&self, base_rev: u64) -> Option<usize> {
        if base_rev == self.inner.rev() {
            return Some(self.inner.len_chars());
        }
        let since = self.inner.ops_since(base_rev).ok()?;
        since.first().map(TextOp::base_len)
    }
}

/// A JS number that is `-1` (no character: the empty string) or a Unicode
/// scalar value, as the text it stands for (encoded into `buffer`).
fn code_point_text(value: f64, buffer: &mut [u8; 4]) -> BindResult<&str> {
    if value == -1.0 {
        return Ok("");
    }
    let code = integer("codePoint", value)?;
    let character = u32::try_from(code).ok().and_then(char::from_u32);
    match character {
        Some(character) => Ok(character.encode_utf8(buffer)),
        None => Err(BindError::bad_argument(
            "codePoint",
            format!("{code} is not a Unicode scalar value"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BAD_ARGUMENT;

    #[test]
    fn code_points_are_characters_or_none() {
        let mut buffer = [0u8; 4];
        assert_eq!(code_point_text(-1.0, &mut buffer), Ok(""));
        assert_eq!(code_point_text(128_512.0, &mut buffer), Ok("😀"));
        for bad in [-2.0, 55_296.0, 1_114_112.0, 0.5] {
            let err = code_point_text(bad, &mut buffer).err().map(|e| e.code());
            assert_eq!(err, Some(BAD_ARGUMENT), "{bad}");
        }
    }
}

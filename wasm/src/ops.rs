//! Text operation helpers: ops travel as ot.js compact JSON strings
//! (`[3, "hi", -2]`), texts as JS strings, positions in Unicode scalar values
//! unless a name says UTF-16. Each function converts, calls
//! [`TextOp`], and converts back.

use velocity_sync::TextOp;
use velocity_sync::ot::{Bias, Side, Utf16Change, Utf16Index};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindError, BindResult, from_json, index, to_json};

/// Reads an op (core's [`TextOp::from_json`], with its `ot.invalid_json`).
pub(crate) fn op(json: &str) -> BindResult<TextOp> {
    Ok(TextOp::from_json(json)?)
}

fn side(name: &str) -> BindResult<Side> {
    match name {
        "left" => Ok(Side::Left),
        "right" => Ok(Side::Right),
        other => Err(BindError::bad_argument(
            "side",
            format!("{other:?} is not \"left\" or \"right\""),
        )),
    }
}

fn bias(name: &str) -> BindResult<Bias> {
    match name {
        "after" => Ok(Bias::After),
        "before" => Ok(Bias::Before),
        other => Err(BindError::bad_argument(
            "bias",
            format!("{other:?} is not \"after\" or \"before\""),
        )),
    }
}

/// Applies `op` to `text`.
///
/// # Errors
/// `ot.invalid_json`, or `ot.length_mismatch` when `op` does not fit `text`.
#[wasm_bindgen(js_name = opApply)]
pub fn op_apply(op_json: &str, text: &str) -> BindResult<String> {
    Ok(op(op_json)?.apply(text)?)
}

/// `a` then `b` as one op.
///
/// # Errors
/// `ot.invalid_json`, `ot.compose_mismatch`.
#[wasm_bindgen(js_name = opCompose)]
pub fn op_compose(a: &str, b: &str) -> BindResult<String> {
    Ok(op(a)?.compose(&op(b)?)?.to_json())
}

/// Transforms two concurrent ops on one base: returns `[a', b']` as JSON,
/// with `apply(apply(base, a), b') == apply(apply(base, b), a')`. `side`
/// (`"left"` or `"right"`) says whose insert goes first at a tie.
///
/// # Errors
/// `ot.invalid_json`, `ot.transform_mismatch`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = opTransform)]
pub fn op_transform(a: &str, b: &str, tie: &str) -> BindResult<String> {
    let (a, b) = TextOp::transform(&op(a)?, &op(b)?, side(tie)?)?;
    Ok(format!("[{},{}]", a.to_json(), b.to_json()))
}

/// The op that undoes `op` on the text it was made for.
///
/// # Errors
/// `ot.invalid_json`, `ot.length_mismatch`.
#[wasm_bindgen(js_name = opInvert)]
pub fn op_invert(op_json: &str, base: &str) -> BindResult<String> {
    Ok(op(op_json)?.invert(base)?.to_json())
}

/// Where a cursor at `pos` ends up after `op`; `bias` is `"after"` (pushed
/// along by an insert at the cursor) or `"before"`.
///
/// # Errors
/// `ot.invalid_json`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = opTransformPosition)]
pub fn op_transform_position(op_json: &str, pos: f64, how: &str) -> BindResult<f64> {
    let moved = op(op_json)?.transform_position(index("pos", pos)?, bias(how)?);
    Ok(moved as f64)
}

/// The op that, on a text of `base_len` characters, deletes `deleted` at
/// `pos` and inserts `inserted`.
///
/// # Errors
/// `ot.out_of_range`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = opFromSplice)]
pub fn op_from_splice(base_len: f64, pos: f64, deleted: f64, inserted: &str) -> BindResult<String> {
    let op = TextOp::from_splice(
        index("baseLen", base_len)?,
        index("pos", pos)?,
        index("deleted", deleted)?,
        inserted,
    )?;
    Ok(op.to_json())
}

/// The op for Monaco-style changes (`[{offset, deleted, text}]`, UTF-16
/// offsets into `base`, all against `base`).
///
/// # Errors
/// `ot.out_of_range`, `ot.overlapping_changes`, `ot.split_surrogate`,
/// `wasm.bad_argument`.
#[wasm_bindgen(js_name = opFromUtf16)]
pub fn op_from_utf16(base: &str, changes_json: &str) -> BindResult<String> {
    let changes: Vec<Utf16Change> = from_json("changes", changes_json)?;
    Ok(TextOp::from_utf16_changes(base, &changes)?.to_json())
}

/// `op` as changes with UTF-16 offsets into `base`, last change first (apply
/// them in order with `applyEdits`).
///
/// # Errors
/// `ot.invalid_json`, `ot.length_mismatch`.
#[wasm_bindgen(js_name = opToUtf16)]
pub fn op_to_utf16(op_json: &str, base: &str) -> BindResult<String> {
    to_json(&op(op_json)?.to_utf16_changes(base)?)
}

/// The op turning `old` into `new` (line diff first, then characters).
#[wasm_bindgen(js_name = opDiff)]
pub fn op_diff(old: &str, new: &str) -> String {
    TextOp::diff(old, new).to_json()
}

/// Normalises `op` (core's canonical form) and returns it with its lengths:
/// `{"op":…, "baseLen":n, "targetLen":n}`.
///
/// # Errors
/// `ot.invalid_json`.
#[wasm_bindgen(js_name = opInfo)]
pub fn op_info(op_json: &str) -> BindResult<String> {
    let op = op(op_json)?;
    Ok(format!(
        "{{\"op\":{},\"baseLen\":{},\"targetLen\":{}}}",
        op.to_json(),
        op.base_len(),
        op.target_len()
    ))
}

/// The UTF-16 offset of the character at `chars` in `text` (past the end is
/// clamped to the end).
///
/// # Errors
/// `wasm.bad_argument`.
#[wasm_bindgen(js_name = utf16OfChar)]
pub fn utf16_of_char(text: &str, chars: f64) -> BindResult<f64> {
    let chars = index("chars", chars)?.min(text.len_chars());
    Ok(text.utf16_of_char(chars) as f64)
}

/// The character index at UTF-16 offset `units` of `text`.
///
/// # Errors
/// `ot.out_of_range` past the end, `ot.split_surrogate` inside a pair,
/// `wasm.bad_argument`.
#[wasm_bindgen(js_name = charOfUtf16)]
pub fn char_of_utf16(text: &str, units: f64) -> BindResult<f64> {
    Ok(text.char_of_utf16(index("units", units)?)? as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_round_trip_through_json() -> BindResult<()> {
        let base = "a😀b";
        let op = op_from_utf16(base, r#"[{"offset":3,"deleted":1,"text":"\r\n"}]"#)?;
        assert_eq!(op_apply(&op, base)?, "a😀\r\n");
        assert_eq!(
            op_to_utf16(&op, base)?,
            r#"[{"offset":3,"deleted":1,"text":"\r\n"}]"#
        );
        Ok(())
    }

    #[test]
    fn bad_arguments_are_typed_errors() {
        let code = |r: BindResult<String>| r.err().map(|e| e.code());
        assert_eq!(code(op_apply("[", "x")), Some("ot.invalid_json"));
        assert_eq!(code(op_apply("[2]", "x")), Some("ot.length_mismatch"));
        assert_eq!(
            code(op_transform("[1]", "[1]", "up")),
            Some("wasm.bad_argument")
        );
        assert_eq!(
            code(op_from_utf16(
                "😀",
                r#"[{"offset":1,"deleted":0,"text":""}]"#
            )),
            Some("ot.split_surrogate")
        );
        assert_eq!(
            code(op_from_splice(1.0, 2.0, 0.0, "")),
            Some("ot.out_of_range")
        );
    }
}

//! The `project_files` row codecs in core's serde forms: a row is a JSON
//! object as the database or the editor holds it; a decoded row is
//! `{"shape","entry","content":{"text"|"base64"},"sha256","file_type","context","issues"}`;
//! encoding takes an entry, a content and that `context` back.

use velocity_sync::FileEntry;
use velocity_sync::protocol::Bytes;
use velocity_sync::rows::Row;
use velocity_sync::rows::{MismatchPolicy, RowContext, RowShape, decode_row, encode_row};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindError, BindResult, from_json, to_json};

fn policy(name: &str) -> BindResult<MismatchPolicy> {
    match name {
        "reject" => Ok(MismatchPolicy::Reject),
        "report" => Ok(MismatchPolicy::Report),
        other => Err(BindError::bad_argument(
            "policy",
            format!("{other:?} is not \"reject\" or \"report\""),
        )),
    }
}

/// Decodes a row of any shape. `policy_name` is `"reject"` (a size or hash
/// that disagrees with the content is an error) or `"report"` (listed in
/// `issues`).
///
/// # Errors
/// `row.*` naming the column, `wasm.bad_argument`.
#[wasm_bindgen(js_name = rowsDecode)]
pub fn rows_decode(row_json: &str, policy_name: &str) -> BindResult<String> {
    let row: Row = from_json("row", row_json)?;
    to_json(&decode_row(&row, policy(policy_name)?)?)
}

/// Encodes `entry` with `content` (`{"text"}` or `{"base64"}`) as a row of
/// `shape` (`"editor"`, `"rich"`, `"simple"`); `context_json` is a decoded
/// row's `context` or a new one (`{"project_id", "created_by", …}`).
///
/// # Errors
/// `row.*` (entry does not describe the content, a required value is
/// missing, …), `wasm.bad_argument`.
#[wasm_bindgen(js_name = rowsEncode)]
pub fn rows_encode(
    shape: &str,
    entry_json: &str,
    content_json: &str,
    context_json: &str,
) -> BindResult<String> {
    let shape: RowShape = from_json("shape", &format!("{shape:?}"))?;
    let entry: FileEntry = from_json("entry", entry_json)?;
    let content: Bytes = from_json("content", content_json)?;
    let context: RowContext = from_json("context", context_json)?;
    to_json(&encode_row(shape, &entry, content.as_slice(), &context)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_editor_row_round_trips() -> BindResult<()> {
        let row = r#"{"path":"src/a.ts","type":"file","content":"x\r\n"}"#;
        let decoded: serde_json::Value = from_json("decoded", &rows_decode(row, "reject")?)?;
        assert_eq!(decoded["content"]["text"], "x\r\n");
        let encoded = rows_encode(
            "editor",
            &decoded["entry"].to_string(),
            &decoded["content"].to_string(),
            &decoded["context"].to_string(),
        )?;
        let again: serde_json::Value = from_json("again", &rows_decode(&encoded, "reject")?)?;
        assert_eq!(again["entry"], decoded["entry"]);
        Ok(())
    }

    #[test]
    fn a_row_without_a_path_is_a_row_error() {
        let code = rows_decode(r#"{"type":"file"}"#, "reject")
            .err()
            .map(|e| e.code());
        assert!(code.is_some_and(|c| c.starts_with("row.")), "{code:?}");
    }
}

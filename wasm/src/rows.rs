//! The `project_files` row codecs: a row is a JSON object as the database
//! or the editor holds it. Decoding gives
//! `{"shape","entry","content"|"contentBase64","sha256","fileType"?,"context","issues"}`;
//! encoding takes an entry, the bytes and that `context` back.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use velocity_sync::rows::Row;
use velocity_sync::{
    FileEntry, FileKind, MismatchPolicy, RowContext, RowShape, decode_row, encode_row,
};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindError, BindResult, from_json, to_json};

/// [`RowContext`] as JSON (camelCase keys, all optional).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
struct ContextJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified_by: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_version_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_current_version: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
    passthrough: Row,
}

impl From<RowContext> for ContextJson {
    fn from(c: RowContext) -> Self {
        Self {
            project_id: c.project_id,
            created_by: c.created_by,
            last_modified_by: c.last_modified_by,
            parent_version_id: c.parent_version_id,
            is_current_version: c.is_current_version,
            created_at: c.created_at,
            updated_at: c.updated_at,
            passthrough: c.passthrough,
        }
    }
}

impl From<ContextJson> for RowContext {
    fn from(c: ContextJson) -> Self {
        Self {
            project_id: c.project_id,
            created_by: c.created_by,
            last_modified_by: c.last_modified_by,
            parent_version_id: c.parent_version_id,
            is_current_version: c.is_current_version,
            created_at: c.created_at,
            updated_at: c.updated_at,
            passthrough: c.passthrough,
        }
    }
}

/// An issue a decoded row reported.
#[derive(Serialize)]
struct IssueJson {
    code: &'static str,
    message: String,
}

/// A decoded row.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DecodedJson {
    shape: RowShape,
    entry: FileEntry,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_base64: Option<String>,
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_type: Option<String>,
    context: ContextJson,
    issues: Vec<IssueJson>,
}

fn shape(name: &str) -> BindResult<RowShape> {
    match name {
        "editor" => Ok(RowShape::Editor),
        "rich" => Ok(RowShape::Rich),
        "simple" => Ok(RowShape::Simple),
        other => Err(BindError::bad_argument(
            "shape",
            format!("{other:?} is not \"editor\", \"rich\" or \"simple\""),
        )),
    }
}

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
/// `issues`). Text content comes back as `content`, binary as
/// `contentBase64`.
///
/// # Errors
/// `row.*` naming the column, `wasm.bad_argument`.
#[wasm_bindgen(js_name = rowsDecode)]
pub fn rows_decode(row_json: &str, policy_name: &str) -> BindResult<String> {
    let row: Row = from_json("row", row_json)?;
    let decoded = decode_row(&row, policy(policy_name)?)?;
    let (content, content_base64) = if decoded.entry.kind == FileKind::Text {
        (
            Some(String::from_utf8_lossy(&decoded.content).into_owned()),
            None,
        )
    } else {
        (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(&decoded.content)),
        )
    };
    let issues = decoded
        .issues
        .iter()
        .map(|issue| IssueJson {
            code: issue.code(),
            message: issue.to_string(),
        })
        .collect();
    to_json(&DecodedJson {
        shape: decoded.shape,
        entry: decoded.entry,
        content,
        content_base64,
        sha256: decoded.sha256.to_string(),
        file_type: decoded.file_type,
        context: decoded.context.into(),
        issues,
    })
}

/// Encodes `entry` (JSON) with `content` as a row of `shape_name`
/// (`"editor"`, `"rich"`, `"simple"`); `context_json` is a decoded row's
/// `context` or a new one (`{"projectId", "createdBy", …}`).
///
/// # Errors
/// `row.*` (entry does not describe the content, a required value is
/// missing, …), `wasm.bad_argument`.
#[wasm_bindgen(js_name = rowsEncode)]
pub fn rows_encode(
    shape_name: &str,
    entry_json: &str,
    content: &[u8],
    context_json: &str,
) -> BindResult<String> {
    let entry: FileEntry = from_json("entry", entry_json)?;
    let context: ContextJson = from_json("context", context_json)?;
    let row = encode_row(shape(shape_name)?, &entry, content, &context.into())?;
    to_json(&row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_editor_row_round_trips() -> BindResult<()> {
        let row = r#"{"path":"src/a.ts","type":"file","content":"x\r\n"}"#;
        let decoded: serde_json::Value = from_json("decoded", &rows_decode(row, "reject")?)?;
        assert_eq!(decoded["content"], "x\r\n");
        let encoded = rows_encode(
            "editor",
            &decoded["entry"].to_string(),
            b"x\r\n",
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

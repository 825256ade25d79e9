//! Entries to rows.

use base64::Engine as _;
use serde_json::Value;

use super::decode::BASE64;
use super::{Row, RowContext, RowError, RowShape, directory_of, file_type_for};
use crate::entry::{FileEntry, FileKind};
use crate::hash::{Sha256Digest, hash_both};

/// Largest value of a PostgreSQL `integer` column.
const INTEGER_MAX: u64 = i32::MAX as u64;
/// Largest value of a PostgreSQL `bigint` column.
const BIGINT_MAX: u64 = i64::MAX as u64;

pub(super) fn encode(
    shape: RowShape,
    entry: &FileEntry,
    content: &[u8],
    context: &RowContext,
) -> Result<Row, RowError> {
    let sha256 = check_entry(entry, content)?;
    let directory = entry.kind == FileKind::Directory;
    let size = content.len() as u64;

    let interpreted = shape.columns();
    if let Some(column) = context
        .passthrough
        .keys()
        .find(|column| interpreted.contains(&column.as_str()))
    {
        return Err(RowError::PassthroughConflict {
            column: column.clone(),
            shape,
        });
    }
    let database = shape != RowShape::Editor;
    let rich = shape == RowShape::Rich;
    if database && context.project_id.is_none() {
        return Err(RowError::MissingValue {
            column: "project_id",
        });
    }
    if rich && context.created_by.is_none() {
        return Err(RowError::MissingValue {
            column: "created_by",
        });
    }

    // Text travels as is, everything else as base64.
    let text = match std::str::from_utf8(content) {
        Ok(text) if entry.kind != FileKind::Binary => Some(text),
        _ => None,
    };
    let binary = !directory && text.is_none();
    let content_value = if directory {
        Value::Null
    } else {
        Value::String(text.map_or_else(|| BASE64.encode(content), str::to_owned))
    };
    let hash_value = if directory {
        Value::Null
    } else {
        Value::String(sha256.to_string())
    };

    let mut row = Row::new();
    let mut put = |column: &str, value: Value| {
        row.insert(column.to_owned(), value);
    };
    if let Some(id) = entry.id {
        put("id", Value::String(id.to_string()));
    }
    if let Some(project_id) = context.project_id {
        put("project_id", Value::String(project_id.to_string()));
    }
    let file_type = Value::from(file_type_for(&entry.path, entry.kind));
    let path = Value::from(entry.path.as_str());
    match shape {
        RowShape::Editor => {
            put("path", path);
            put("type", file_type);
            put("content", content_value);
        }
        RowShape::Rich => {
            put("file_path", path);
            put("file_name", Value::from(entry.path.file_name()));
            put("directory_path", Value::from(directory_of(&entry.path)));
            put("file_type", file_type);
            put(
                "file_size",
                Value::from(in_range("file_size", size, BIGINT_MAX)?),
            );
            put("content", content_value);
            put("content_hash", hash_value);
            put(
                "encoding",
                Value::from(if binary { "base64" } else { "utf-8" }),
            );
            put("is_binary", Value::Bool(binary));
            put("is_directory", Value::Bool(directory));
            if let Some(current) = context.is_current_version {
                put("is_current_version", Value::Bool(current));
            }
            for (column, user) in [
                ("created_by", context.created_by),
                ("last_modified_by", context.last_modified_by),
            ] {
                if let Some(user) = user {
                    put(column, Value::String(user.to_string()));
                }
            }
        }
        RowShape::Simple => {
            put("file_path", path);
            put("file_type", file_type);
            put(
                "size_bytes",
                Value::from(in_range("size_bytes", size, INTEGER_MAX)?),
            );
            put("content", content_value);
            put("checksum", hash_value);
            if let Some(metadata) = metadata(context, binary)? {
                put("metadata", metadata);
            }
        }
    }
    if database {
        if entry.revision > 0 {
            put(
                "version",
                Value::from(in_range("version", entry.revision, INTEGER_MAX)?),
            );
        }
        if let Some(parent) = context.parent_version_id {
            put("parent_version_id", Value::String(parent.to_string()));
        }
        for (column, at) in [
            ("created_at", &context.created_at),
            ("updated_at", &context.updated_at),
        ] {
            if let Some(at) = at {
                put(column, Value::String(at.clone()));
            }
        }
    }
    for (column, value) in &context.passthrough {
        if !(shape == RowShape::Simple && column == "metadata") {
            put(column, value.clone());
        }
    }
    Ok(row)
}

/// Checks that `entry` describes `content` (size, BLAKE3, kind; empty for a
/// directory) and returns the content's SHA-256, both hashes in one pass.
fn check_entry(entry: &FileEntry, content: &[u8]) -> Result<Sha256Digest, RowError> {
    let (blake, sha256) = hash_both(content);
    let mismatch = |field: &'static str, stated: String, actual: String| {
        Err(RowError::EntryMismatch {
            path: entry.path.as_str().to_owned(),
            field,
            entry: stated,
            content: actual,
        })
    };
    let directory = entry.kind == FileKind::Directory;
    let size = content.len() as u64;
    if entry.size != size || (directory && size != 0) {
        return mismatch("size", entry.size.to_string(), size.to_string());
    }
    if entry.hash != blake {
        return mismatch("hash", entry.hash.to_string(), blake.to_string());
    }
    let classified = FileKind::classify(content);
    if !directory && entry.kind != classified {
        return mismatch(
            "kind",
            entry.kind.as_str().into(),
            classified.as_str().into(),
        );
    }
    Ok(sha256)
}

/// The simple shape's `metadata`: the pass-through value, as an object with
/// its `encoding` key set to `base64` for binary content and removed for
/// text; `None` (not written) for text without pass-through metadata.
fn metadata(context: &RowContext, binary: bool) -> Result<Option<Value>, RowError> {
    let stated = context.passthrough.get("metadata");
    let mut object = match stated {
        None | Some(Value::Null) => None,
        Some(Value::Object(object)) => Some(object.clone()),
        Some(other) => {
            return Err(RowError::BadType {
                column: "metadata",
                expected: "an object or null",
                found: super::cut(&other.to_string()),
            });
        }
    };
    if binary {
        object
            .get_or_insert_with(Row::new)
            .insert("encoding".to_owned(), Value::from("base64"));
    } else if let Some(object) = &mut object {
        object.remove("encoding");
    }
    Ok(object.map(Value::Object).or_else(|| stated.cloned()))
}

pub(super) fn in_range(column: &'static str, value: u64, max: u64) -> Result<u64, RowError> {
    if value > max {
        Err(RowError::OutOfRange { column, value, max })
    } else {
        Ok(value)
    }
}

//! Rows to entries: one decoder, parameterised by the shape's column names.

use base64::Engine as _;
use serde_json::Value;
use uuid::Uuid;

use super::file_type::TypeClaim;
use super::{
    DecodedRow, MismatchPolicy, Row, RowContext, RowError, RowIssue, RowShape, cut, directory_of,
    empty_hash,
};
use crate::entry::{FileEntry, FileId, FileKind};
use crate::hash::{Sha256Digest, hash_both};
use crate::path::FilePath;

/// Standard base64, padding optional: what PostgreSQL, Node's `Buffer` and
/// browsers' `btoa` write.
pub(super) const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// How the `content` column carries the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Base64,
    Text,
}

/// The columns that differ between shapes.
struct Columns {
    path: &'static str,
    file_type: &'static str,
    size: Option<&'static str>,
    hash: Option<&'static str>,
}

impl Columns {
    fn of(shape: RowShape) -> Self {
        match shape {
            RowShape::Editor => Self {
                path: "path",
                file_type: "type",
                size: None,
                hash: None,
            },
            RowShape::Rich => Self {
                path: "file_path",
                file_type: "file_type",
                size: Some("file_size"),
                hash: Some("content_hash"),
            },
            RowShape::Simple => Self {
                path: "file_path",
                file_type: "file_type",
                size: Some("size_bytes"),
                hash: Some("checksum"),
            },
        }
    }
}

pub(super) fn decode(
    shape: RowShape,
    row: &Row,
    policy: MismatchPolicy,
) -> Result<DecodedRow, RowError> {
    let columns = Columns::of(shape);
    let rich = shape == RowShape::Rich;
    let mut issues = Vec::new();

    let path = read_path(row, columns.path, &mut issues)?;
    let id = uuid(row, "id")?.map(|id| FileId::from_bytes(id.into_bytes()));
    let file_type = string(row, columns.file_type)?.map(str::to_owned);
    let type_claim = file_type.as_deref().and_then(TypeClaim::of);
    let is_binary = if rich {
        boolean(row, "is_binary")?
    } else {
        None
    };
    let is_directory = if rich {
        boolean(row, "is_directory")?
    } else {
        None
    };

    // How the content travels: the stated encoding, else the binary claim.
    let mut passthrough = passthrough(shape, row);
    let says_binary = is_binary == Some(true) || type_claim == Some(TypeClaim::Binary);
    let transport = read_encoding(shape, row, &mut passthrough)?.unwrap_or(if says_binary {
        Transport::Base64
    } else {
        Transport::Text
    });
    let text = string(row, "content")?.unwrap_or("");
    let mut content = match transport {
        Transport::Text => text.as_bytes().to_vec(),
        Transport::Base64 => decode_base64(text)?,
    };

    // One pass for both hashes; the stated size and hash are checked.
    let (blake, sha256) = hash_both(&content);
    check_integrity(row, &columns, content.len() as u64, sha256, &mut issues)?;

    // Kind: `is_directory` decides where present, else a directory claim;
    // files are classified by their bytes.
    let directory = is_directory.unwrap_or(false)
        || (is_directory.is_none() && type_claim == Some(TypeClaim::Directory));
    let kind = if directory {
        FileKind::Directory
    } else {
        FileKind::classify(&content)
    };
    let empty = content.is_empty();
    if let Some(stated) = is_binary {
        let contradicted = if stated {
            TypeClaim::Binary.contradicted_by(kind, empty)
        } else {
            kind == FileKind::Binary
        };
        if contradicted {
            issues.push(RowIssue::KindMismatch {
                column: "is_binary",
                stated: stated.to_string(),
                actual: kind,
            });
        }
    }
    if let (Some(claim), Some(stated)) = (type_claim, &file_type) {
        if claim.contradicted_by(kind, empty) {
            issues.push(RowIssue::KindMismatch {
                column: columns.file_type,
                stated: Value::from(stated.as_str()).to_string(),
                actual: kind,
            });
        }
    }
    if rich {
        check_derived(row, &path, &mut issues)?;
    }

    if policy == MismatchPolicy::Reject {
        if let Some(error) = issues.iter().find_map(RowIssue::to_error) {
            return Err(error);
        }
    }

    let revision = if shape == RowShape::Editor {
        0
    } else {
        unsigned(row, "version")?.unwrap_or(0)
    };
    let (entry, sha256) = if directory {
        if !empty {
            issues.push(RowIssue::DirectoryContent {
                len: content.len() as u64,
            });
            content.clear();
        }
        (FileEntry::directory(path), Sha256Digest::of(b""))
    } else {
        let entry = FileEntry {
            id: None,
            path,
            kind,
            size: content.len() as u64,
            hash: blake,
            executable: false,
            revision: 0,
        };
        (entry, sha256)
    };
    let entry = FileEntry {
        id,
        revision,
        ..entry
    };
    debug_assert!(entry.kind != FileKind::Directory || entry.hash == empty_hash());

    Ok(DecodedRow {
        shape,
        entry,
        content,
        sha256,
        file_type,
        context: read_context(shape, row, passthrough)?,
        issues,
    })
}

/// The path column, parsed leniently; a path that had to be normalised is
/// reported.
fn read_path(
    row: &Row,
    column: &'static str,
    issues: &mut Vec<RowIssue>,
) -> Result<FilePath, RowError> {
    let stated = string(row, column)?.ok_or(RowError::MissingColumn { column })?;
    let path =
        FilePath::parse_lenient(stated).map_err(|source| RowError::BadPath { column, source })?;
    if path.as_str() != stated {
        issues.push(RowIssue::PathNormalised {
            column,
            stated: stated.to_owned(),
        });
    }
    Ok(path)
}

/// The stated encoding: the `encoding` column, or for the simple shape the
/// `metadata.encoding` key, which is taken out of the pass-through metadata
/// (dropping metadata that held nothing else).
fn read_encoding(
    shape: RowShape,
    row: &Row,
    passthrough: &mut Row,
) -> Result<Option<Transport>, RowError> {
    if shape != RowShape::Simple {
        return encoding(row.get("encoding"), "encoding");
    }
    let (stated, only_encoding) = match passthrough.get_mut("metadata") {
        None | Some(Value::Null) => (None, false),
        Some(Value::Object(metadata)) => {
            let stated = encoding(metadata.get("encoding"), "metadata.encoding")?;
            let removed = metadata.remove("encoding").is_some();
            (stated, removed && metadata.is_empty())
        }
        Some(other) => return Err(bad_type("metadata", "an object or null", other)),
    };
    if only_encoding {
        passthrough.remove("metadata");
    }
    Ok(stated)
}

/// Compares the size and hash columns with the content, as issues.
fn check_integrity(
    row: &Row,
    columns: &Columns,
    actual_size: u64,
    sha256: Sha256Digest,
    issues: &mut Vec<RowIssue>,
) -> Result<(), RowError> {
    if let Some(column) = columns.size {
        if let Some(stated) = unsigned(row, column)? {
            if stated != actual_size {
                issues.push(RowIssue::SizeMismatch {
                    column,
                    stated,
                    actual: actual_size,
                });
            }
        }
    }
    if let Some(column) = columns.hash {
        if let Some(stated) = string(row, column)? {
            match Sha256Digest::from_hex(&stated.trim().to_ascii_lowercase()) {
                Ok(digest) if digest == sha256 => {}
                Ok(digest) => issues.push(RowIssue::HashMismatch {
                    column,
                    stated: digest,
                    actual: sha256,
                }),
                Err(_) => issues.push(RowIssue::UnreadableHash {
                    column,
                    stated: cut(stated),
                }),
            }
        }
    }
    Ok(())
}

/// Compares the rich schema's `file_name` and `directory_path` with the path.
fn check_derived(row: &Row, path: &FilePath, issues: &mut Vec<RowIssue>) -> Result<(), RowError> {
    if let Some(stated) = string(row, "file_name")? {
        if stated != path.file_name() {
            issues.push(RowIssue::DerivedMismatch {
                column: "file_name",
                stated: stated.to_owned(),
                expected: path.file_name().to_owned(),
            });
        }
    }
    if let Some(stated) = string(row, "directory_path")? {
        let expected = directory_of(path);
        if !same_directory(stated, &expected) {
            issues.push(RowIssue::DerivedMismatch {
                column: "directory_path",
                stated: stated.to_owned(),
                expected,
            });
        }
    }
    Ok(())
}

/// The context columns the shape has.
fn read_context(shape: RowShape, row: &Row, passthrough: Row) -> Result<RowContext, RowError> {
    let rich = shape == RowShape::Rich;
    let database = shape != RowShape::Editor;
    let uuid_if = |present: bool, column| if present { uuid(row, column) } else { Ok(None) };
    Ok(RowContext {
        project_id: uuid(row, "project_id")?,
        created_by: uuid_if(rich, "created_by")?,
        last_modified_by: uuid_if(rich, "last_modified_by")?,
        parent_version_id: uuid_if(database, "parent_version_id")?,
        is_current_version: if rich {
            boolean(row, "is_current_version")?
        } else {
            None
        },
        created_at: timestamp(row, database, "created_at")?,
        updated_at: timestamp(row, database, "updated_at")?,
        passthrough,
    })
}

/// The columns `shape` does not interpret, cloned untouched.
fn passthrough(shape: RowShape, row: &Row) -> Row {
    let interpreted = shape.columns();
    row.iter()
        .filter(|(column, _)| !interpreted.contains(&column.as_str()))
        .map(|(column, value)| (column.clone(), value.clone()))
        .collect()
}

/// Whether a stated `directory_path` names `expected` (`""` for the top
/// level), allowing the forms rows use: leading `/` or `./`, a trailing `/`,
/// and `.` or `/` for the top level.
fn same_directory(stated: &str, expected: &str) -> bool {
    let top_level = stated
        .split('/')
        .all(|segment| segment.is_empty() || segment == ".");
    if top_level {
        return expected.is_empty();
    }
    FilePath::parse_lenient(stated).is_ok_and(|parsed| parsed.as_str() == expected)
}

fn decode_base64(text: &str) -> Result<Vec<u8>, RowError> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    BASE64.decode(compact).map_err(|e| RowError::BadBase64 {
        column: "content",
        detail: e.to_string(),
    })
}

/// An encoding value: `None` when absent or null.
fn encoding(value: Option<&Value>, column: &'static str) -> Result<Option<Transport>, RowError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.trim(),
        Some(other) => return Err(bad_type(column, "a string or null", other)),
    };
    let is = |name: &str| text.eq_ignore_ascii_case(name);
    if is("base64") {
        Ok(Some(Transport::Base64))
    } else if is("utf-8") || is("utf8") || is("ascii") || is("us-ascii") {
        Ok(Some(Transport::Text))
    } else {
        Err(RowError::BadEncoding {
            column,
            value: cut(text),
        })
    }
}

/// A column's value, `None` when absent or null.
fn present<'a>(row: &'a Row, column: &str) -> Option<&'a Value> {
    row.get(column).filter(|value| !value.is_null())
}

fn bad_type(column: &'static str, expected: &'static str, found: &Value) -> RowError {
    RowError::BadType {
        column,
        expected,
        found: cut(&found.to_string()),
    }
}

fn string<'a>(row: &'a Row, column: &'static str) -> Result<Option<&'a str>, RowError> {
    match present(row, column) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(bad_type(column, "a string", other)),
    }
}

fn boolean(row: &Row, column: &'static str) -> Result<Option<bool>, RowError> {
    match present(row, column) {
        None => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(other) => Err(bad_type(column, "a boolean", other)),
    }
}

/// A non-negative integer, as a JSON number or a decimal string (drivers
/// that print `bigint` as text).
fn unsigned(row: &Row, column: &'static str) -> Result<Option<u64>, RowError> {
    const EXPECTED: &str = "a non-negative integer";
    match present(row, column) {
        None => Ok(None),
        Some(Value::Number(number)) => number
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad_type(column, EXPECTED, &Value::Number(number.clone()))),
        Some(Value::String(text))
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) =>
        {
            text.parse()
                .map(Some)
                .map_err(|_| bad_type(column, EXPECTED, &Value::String(text.clone())))
        }
        Some(other) => Err(bad_type(column, EXPECTED, other)),
    }
}

fn uuid(row: &Row, column: &'static str) -> Result<Option<Uuid>, RowError> {
    match present(row, column) {
        None => Ok(None),
        Some(Value::String(text)) => Uuid::try_parse(text)
            .map(Some)
            .map_err(|_| RowError::BadId {
                column,
                value: cut(text),
            }),
        Some(other) => Err(bad_type(column, "a UUID string", other)),
    }
}

/// A timestamp column of a database shape, kept as text.
fn timestamp(row: &Row, database: bool, column: &'static str) -> Result<Option<String>, RowError> {
    if !database {
        return Ok(None);
    }
    match present(row, column) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(bad_type(column, "a timestamp string", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_directory_forms() {
        for stated in ["", ".", "/", "./", "//"] {
            assert!(same_directory(stated, ""), "{stated:?}");
            assert!(!same_directory(stated, "src"), "{stated:?}");
        }
        for stated in ["src/lib", "/src/lib", "./src/lib/", "src//lib"] {
            assert!(same_directory(stated, "src/lib"), "{stated:?}");
        }
        assert!(!same_directory("src", "src/lib"));
        assert!(!same_directory("../src", "src"));
    }

    #[test]
    fn base64_ignores_whitespace_and_padding() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert_eq!(decode_base64("aG\nk=\r\n").unwrap(), b"hi");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("a-b_").unwrap_err().code(), "row.bad_base64");
    }

    #[test]
    fn integers_accept_bigint_text() {
        let row: Row = serde_json::from_str(
            r#"{"a": 7, "b": "12", "c": -1, "d": 1.5, "e": "1e3", "f": "", "g": null, "h": "99999999999999999999"}"#,
        )
        .unwrap();
        assert_eq!(unsigned(&row, "a").unwrap(), Some(7));
        assert_eq!(unsigned(&row, "b").unwrap(), Some(12));
        assert_eq!(unsigned(&row, "g").unwrap(), None);
        assert_eq!(unsigned(&row, "missing").unwrap(), None);
        for column in ["c", "d", "e", "f", "h"] {
            assert_eq!(
                unsigned(&row, column).unwrap_err().code(),
                "row.bad_type",
                "{column}"
            );
        }
    }

    #[test]
    fn encodings() {
        let v = |s: &str| Value::from(s);
        assert_eq!(encoding(None, "encoding").unwrap(), None);
        assert_eq!(encoding(Some(&Value::Null), "encoding").unwrap(), None);
        assert_eq!(
            encoding(Some(&v("BASE64")), "encoding").unwrap(),
            Some(Transport::Base64)
        );
        for text in ["utf-8", "UTF8", "ascii", "us-ascii"] {
            assert_eq!(
                encoding(Some(&v(text)), "encoding").unwrap(),
                Some(Transport::Text)
            );
        }
        assert_eq!(
            encoding(Some(&v("latin1")), "encoding").unwrap_err(),
            RowError::BadEncoding {
                column: "encoding",
                value: "latin1".into()
            }
        );
        assert_eq!(
            encoding(Some(&Value::from(1)), "encoding")
                .unwrap_err()
                .code(),
            "row.bad_type"
        );
    }
}

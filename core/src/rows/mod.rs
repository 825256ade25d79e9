//! Codecs for the platform's `project_files` rows.
//!
//! Three row shapes are in use today (see `PLATFORM.md`), all seen by
//! callers as JSON objects ([`Row`]): the **rich** schema
//! (`core_database_schema.sql`), the **simple** schema
//! (`database_schema_with_rls.sql`) and the **editor**'s `{path, type,
//! content}`. [`decode_row`] turns any of them into a [`FileEntry`] plus the
//! content bytes ([`DecodedRow`]); [`encode_row`] writes an entry back in any
//! shape. [`RowShape::columns`] lists the columns each codec reads and writes.
//!
//! ```
//! use serde_json::json;
//! use velocity_sync::rows::{decode_row, encode_row, MismatchPolicy, RowShape};
//! use velocity_sync::FileKind;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let row = json!({
//!     "id": "0b6f9c1e-3c5a-4a7e-9a55-1f0e2d3c4b5a",
//!     "project_id": "9a7c1a52-8d0e-4c55-b4b4-5c0f3f2f7f10",
//!     "file_path": "/src/App.tsx",
//!     "file_type": "tsx",
//!     "size_bytes": 21,
//!     "content": "export default App;\r\n",
//!     "checksum": null,
//!     "metadata": {"author": "ai"},
//! });
//! let decoded = decode_row(row.as_object().ok_or("not an object")?, MismatchPolicy::Reject)?;
//! assert_eq!(decoded.shape, RowShape::Simple);
//! assert_eq!(decoded.entry.path.as_str(), "src/App.tsx"); // leading '/' normalised
//! assert_eq!(decoded.entry.kind, FileKind::Text);
//! assert_eq!(decoded.content, b"export default App;\r\n"); // byte-exact
//!
//! // Columns the codec does not interpret pass through untouched.
//! assert_eq!(decoded.context.passthrough["metadata"]["author"], "ai");
//!
//! // Write it in the rich schema, which needs `created_by` and has no
//! // `metadata` column (pass-through columns are written as given).
//! let mut context = decoded.context.clone();
//! context.created_by = Some("5b0c8f9e-1d2a-4b3c-8e7f-6a5b4c3d2e1f".parse()?);
//! context.passthrough.remove("metadata");
//! let rich = encode_row(RowShape::Rich, &decoded.entry, &decoded.content, &context)?;
//! assert_eq!(rich["file_path"], "src/App.tsx");
//! assert_eq!(rich["file_name"], "App.tsx");
//! assert_eq!(rich["file_type"], "typescript");
//! assert_eq!(rich["file_size"], 21);
//! assert_eq!(rich["encoding"], "utf-8");
//! assert_eq!(decode_row(&rich, MismatchPolicy::Reject)?.entry, decoded.entry);
//! # Ok(())
//! # }
//! ```
//!
//! # Decisions
//!
//! **Shape detection** ([`RowShape::detect`]): a row with `file_path` is a
//! database row: rich if it has any rich-only column, simple if it has any
//! simple-only column (`size_bytes`, `checksum`, `metadata`), simple if it
//! has neither (the common columns decode the same way in both), and an
//! [`RowError::AmbiguousShape`] if it has both. Otherwise a row with `path`
//! is the editor's. Use [`RowShape::decode`] to skip detection.
//!
//! **Paths** are decoded with [`FilePath::parse_lenient`], because stored
//! rows carry leading `/`, `./` and doubled slashes; a path that had to be
//! normalised is reported as [`RowIssue::PathNormalised`] (writing it back
//! changes the column, so an upsert keyed on `file_path` would not match the
//! old row). Encoding always writes the canonical form.
//!
//! **`file_type` / `type`** hold either a language or extension name
//! (`"typescript"`, `"tsx"`, `"json"`, `"png"`) or a content class
//! (`"text"`, `"plaintext"`, `"binary"`, `"directory"`, `"folder"`). Both are
//! accepted and the raw value is kept in [`DecodedRow::file_type`]; only the
//! content classes claim anything. The entry's kind always follows the
//! crate's classification of the decoded bytes ([`FileKind::classify`]);
//! a claim the bytes contradict is a [`RowIssue::KindMismatch`]. On encode
//! the column gets [`file_type_for`]: the language from the extension,
//! `"binary"`, `"directory"`, or `"text"`.
//!
//! **Binary content** travels as standard base64 (padding optional on
//! decode, ASCII whitespace ignored, so PostgreSQL's 76-column
//! `encode(…, 'base64')` output is read as is). The content is base64 when
//! the row's encoding says `base64` — the rich `encoding` column, the
//! simple schema's `metadata.encoding` key (it has no encoding column), the
//! editor's `encoding` key — or, when there is no encoding, when the row
//! says binary (`is_binary: true`, or a `file_type` / `type` of `"binary"`).
//! `utf-8`, `utf8`, `ascii` and `us-ascii` mean text; any other encoding is
//! a [`RowError::BadEncoding`]. Text is taken byte-exact (CRLF and a BOM
//! stay). A null or absent `content` is an empty file. On encode, content
//! that is not [`FileKind::Text`] is written base64 with `encoding: "base64"`
//! and `is_binary: true` (rich), `metadata.encoding = "base64"` (simple;
//! decoding takes the key out of the pass-through `metadata`, dropping a
//! `metadata` left empty, and encoding text removes it), or `type: "binary"`
//! alone (editor, whose table may lack an encoding column).
//!
//! **Sizes and hashes** describe the decoded bytes: `file_size` /
//! `size_bytes` count bytes (not base64 characters, not JavaScript's
//! UTF-16 `length`), and `content_hash` / `checksum` hold the SHA-256 of the
//! bytes as hex (`encode(sha256(bytes), 'hex')`; upper-case hex is
//! accepted). One that disagrees with the content is never trusted: under
//! [`MismatchPolicy::Reject`] (the default) it is a
//! [`RowError::SizeMismatch`] / [`RowError::HashMismatch`] /
//! [`RowError::BadHash`]; under [`MismatchPolicy::Report`] the content wins
//! and the disagreement is listed in [`DecodedRow::issues`]. Encoding
//! computes both from the content, BLAKE3 and SHA-256 in one pass.
//!
//! **Derived columns** `file_name` and `directory_path` (rich) are checked
//! against the path on decode (`directory_path` of a top-level entry may be
//! null, `""`, `"."` or `"/"`) and reported as [`RowIssue::DerivedMismatch`];
//! `file_path` wins. On encode they are derived: `directory_path` is `""` at
//! the top level.
//!
//! **Directories**: `is_directory: true` (rich), or a `file_type` / `type`
//! of `"directory"` / `"folder"` / `"dir"` when `is_directory` is absent,
//! gives a [`FileKind::Directory`] entry. They are encoded with null content
//! and hash, size 0 and `file_type: "directory"`.
//!
//! **Other columns**: `version` is the entry's
//! [`revision`](FileEntry::revision) (absent or null reads as 0; 0 is not
//! written, so the table's default applies; the editor's shape has no
//! version, so its rows decode with revision 0). UUID columns must hold UUIDs;
//! integer columns accept numbers and decimal strings (bigint as text).
//! Everything a shape does not interpret — `embedding`, `ai_analysis`,
//! `metadata`, unknown columns, the editor's extra keys — lands untouched in
//! [`RowContext::passthrough`] and is written back as given. Rows have no
//! executable bit: it decodes as false and is not written.
//!
//! **Encoding requirements**: both database shapes need `project_id`; the
//! rich schema also needs `created_by` (NOT NULL). A missing one is a
//! [`RowError::MissingValue`] naming the column. Timestamps are written as
//! the caller gives them; the core has no clock.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entry::{FileEntry, FileKind};
use crate::hash::{ContentHash, Sha256Digest};
use crate::path::{FilePath, PathError};

mod checkpoint;
mod decode;
mod encode;
mod file_type;

pub use checkpoint::{
    CheckpointError, CheckpointHeader, LoadedCheckpoint, load_checkpoint, written_entries,
};
pub use file_type::file_type_for;

/// A `project_files` row as callers see it: a JSON object (Supabase,
/// tokio-postgres with `row_to_json`, the editor's payloads).
pub type Row = serde_json::Map<String, serde_json::Value>;

/// The three row shapes in use today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowShape {
    /// The editor's `{path, type, content}` (and whatever else it sends).
    Editor,
    /// `core_database_schema.sql`: `file_path`, `file_size`, `content_hash`,
    /// `encoding`, `is_binary`, `created_by` (NOT NULL), embeddings, …
    Rich,
    /// `database_schema_with_rls.sql`: `file_path`, `size_bytes`, `checksum`,
    /// `metadata`, …
    Simple,
}

/// Columns only the rich schema has.
const RICH_ONLY: &[&str] = &[
    "ai_analysis",
    "content_hash",
    "created_by",
    "directory_path",
    "embedding",
    "encoding",
    "file_name",
    "file_size",
    "is_binary",
    "is_current_version",
    "is_directory",
    "last_modified_by",
];

/// Columns only the simple schema has.
const SIMPLE_ONLY: &[&str] = &["checksum", "metadata", "size_bytes"];

impl RowShape {
    /// Which shape `row` has, by the columns present (null or not); see the
    /// module docs for the rules.
    ///
    /// # Errors
    /// [`RowError::AmbiguousShape`] when a `file_path` row has columns of
    /// both database schemas; [`RowError::UnknownShape`] when the row has
    /// neither `file_path` nor `path`.
    pub fn detect(row: &Row) -> Result<Self, RowError> {
        if row.contains_key("file_path") {
            let rich = RICH_ONLY.iter().find(|c| row.contains_key(**c));
            let simple = SIMPLE_ONLY.iter().find(|c| row.contains_key(**c));
            return match (rich, simple) {
                (Some(rich_column), Some(simple_column)) => Err(RowError::AmbiguousShape {
                    rich_column,
                    simple_column,
                }),
                (Some(_), None) => Ok(Self::Rich),
                (None, _) => Ok(Self::Simple),
            };
        }
        if row.contains_key("path") {
            return Ok(Self::Editor);
        }
        let mut columns: Vec<String> = row.keys().take(16).cloned().collect();
        if row.len() > columns.len() {
            columns.push("…".to_owned());
        }
        Err(RowError::UnknownShape { columns })
    }

    /// The columns this shape's codec reads and writes. Everything else is
    /// pass-through (for the simple shape that includes `metadata`, whose
    /// `encoding` key alone the codec owns).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Editor => &["content", "encoding", "id", "path", "project_id", "type"],
            Self::Rich => &[
                "content",
                "content_hash",
                "created_at",
                "created_by",
                "directory_path",
                "encoding",
                "file_name",
                "file_path",
                "file_size",
                "file_type",
                "id",
                "is_binary",
                "is_current_version",
                "is_directory",
                "last_modified_by",
                "parent_version_id",
                "project_id",
                "updated_at",
                "version",
            ],
            Self::Simple => &[
                "checksum",
                "content",
                "created_at",
                "file_path",
                "file_type",
                "id",
                "parent_version_id",
                "project_id",
                "size_bytes",
                "updated_at",
                "version",
            ],
        }
    }

    /// `"editor"`, `"rich"` or `"simple"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Editor => "editor",
            Self::Rich => "rich",
            Self::Simple => "simple",
        }
    }

    /// Decodes `row` as this shape, without detection.
    ///
    /// # Errors
    /// Any [`RowError`] of decoding (not `AmbiguousShape` / `UnknownShape`):
    /// a missing path column, a column of the wrong type, a bad UUID, path,
    /// encoding or base64, and under [`MismatchPolicy::Reject`] a size or
    /// hash that disagrees with the content.
    pub fn decode(self, row: &Row, policy: MismatchPolicy) -> Result<DecodedRow, RowError> {
        decode::decode(self, row, policy)
    }
}

impl std::fmt::Display for RowShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What decoding does with a size or hash column that disagrees with the
/// content (or a hash column it cannot read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MismatchPolicy {
    /// Decode anyway: the content wins and the disagreement is listed in
    /// [`DecodedRow::issues`]. For repair tools and migrations.
    Report,
    /// Fail with [`RowError::SizeMismatch`], [`RowError::HashMismatch`] or
    /// [`RowError::BadHash`]. The default.
    #[default]
    Reject,
}

/// Everything about a row besides the entry and its content: the values a
/// codec needs to write a full row, and the columns it passes through.
///
/// Decoding fills it ([`DecodedRow::context`]) so that encoding the same
/// entry with it writes the same row back; callers building new rows set
/// what the target needs (`project_id`; `created_by` for the rich schema).
/// Fields the target shape has no column for are not written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RowContext {
    /// `project_id`; required by both database shapes.
    pub project_id: Option<Uuid>,
    /// `created_by` (rich only, NOT NULL there).
    pub created_by: Option<Uuid>,
    /// `last_modified_by` (rich only).
    pub last_modified_by: Option<Uuid>,
    /// `parent_version_id`: the row of the previous version (database shapes).
    pub parent_version_id: Option<Uuid>,
    /// `is_current_version` (rich only).
    pub is_current_version: Option<bool>,
    /// `created_at`, written as given (database shapes).
    pub created_at: Option<String>,
    /// `updated_at`, written as given (database shapes).
    pub updated_at: Option<String>,
    /// Columns the shape does not interpret, written back untouched. A key
    /// the target shape writes itself is a [`RowError::PassthroughConflict`].
    pub passthrough: Row,
}

/// A decoded row: the entry, its content, and the rest of the row.
///
/// Serialises (for the bindings) with `content` in the protocol's byte form,
/// `{"text": …}` or `{"base64": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodedRow {
    /// The shape the row was decoded as.
    pub shape: RowShape,
    /// The file: id from `id`, path, kind classified from the content (or
    /// directory), size and BLAKE3 of the content, revision from `version`.
    pub entry: FileEntry,
    /// The file's bytes, base64 decoded where the row says so; empty for
    /// directories.
    #[serde(serialize_with = "content_as_wire_bytes")]
    pub content: Vec<u8>,
    /// SHA-256 of `content`, as the database's hash columns hold it.
    pub sha256: Sha256Digest,
    /// The raw `file_type` / `type` value, e.g. `"tsx"` or `"text"`.
    pub file_type: Option<String>,
    /// Everything else, ready to be passed back to [`encode_row`].
    pub context: RowContext,
    /// What the row said that the decoder did not believe; empty for a
    /// consistent row.
    pub issues: Vec<RowIssue>,
}

/// Something a row said that disagrees with what was decoded. Decoding goes
/// on; the decoded values are the ones described as actual / expected here.
///
/// Serialises as an object whose `code` is [`RowIssue::code`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code")]
#[non_exhaustive]
pub enum RowIssue {
    /// A derived column (`file_name`, `directory_path`) does not match the
    /// path.
    #[serde(rename = "row.derived_mismatch")]
    DerivedMismatch {
        /// The column.
        column: &'static str,
        /// Its value.
        stated: String,
        /// What the path gives.
        expected: String,
    },
    /// A directory row carried content, which was dropped.
    #[serde(rename = "row.directory_content")]
    DirectoryContent {
        /// How many bytes were dropped.
        len: u64,
    },
    /// The hash column disagrees with the content ([`MismatchPolicy::Report`]).
    #[serde(rename = "row.hash_mismatch")]
    HashMismatch {
        /// `content_hash` or `checksum`.
        column: &'static str,
        /// Its value.
        stated: Sha256Digest,
        /// The SHA-256 of the content.
        actual: Sha256Digest,
    },
    /// A column claims a kind the content contradicts (`is_binary: true` on
    /// text, `file_type: "text"` on binary bytes, …).
    #[serde(rename = "row.kind_mismatch")]
    KindMismatch {
        /// `is_binary`, `file_type` or `type`.
        column: &'static str,
        /// Its value as JSON text.
        stated: String,
        /// The kind decoded.
        actual: FileKind,
    },
    /// The path was not canonical and was normalised.
    #[serde(rename = "row.path_normalised")]
    PathNormalised {
        /// `file_path` or `path`.
        column: &'static str,
        /// The path as stored.
        stated: String,
    },
    /// The size column disagrees with the content ([`MismatchPolicy::Report`]).
    #[serde(rename = "row.size_mismatch")]
    SizeMismatch {
        /// `file_size` or `size_bytes`.
        column: &'static str,
        /// Its value.
        stated: u64,
        /// The content's length in bytes.
        actual: u64,
    },
    /// The hash column is not a SHA-256 hex digest ([`MismatchPolicy::Report`]).
    #[serde(rename = "row.bad_hash")]
    UnreadableHash {
        /// `content_hash` or `checksum`.
        column: &'static str,
        /// Its value (cut to 80 characters).
        stated: String,
    },
}

impl RowIssue {
    /// The stable code of this issue; the three that [`MismatchPolicy::Reject`]
    /// turns into errors share the error's code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::DerivedMismatch { .. } => "row.derived_mismatch",
            Self::DirectoryContent { .. } => "row.directory_content",
            Self::HashMismatch { .. } => "row.hash_mismatch",
            Self::KindMismatch { .. } => "row.kind_mismatch",
            Self::PathNormalised { .. } => "row.path_normalised",
            Self::SizeMismatch { .. } => "row.size_mismatch",
            Self::UnreadableHash { .. } => "row.bad_hash",
        }
    }

    /// The error [`MismatchPolicy::Reject`] makes of this issue, for the
    /// integrity issues (size and hash); `None` for the others.
    pub fn to_error(&self) -> Option<RowError> {
        match self {
            Self::HashMismatch {
                column,
                stated,
                actual,
            } => Some(RowError::HashMismatch {
                column,
                stated: *stated,
                actual: *actual,
            }),
            Self::SizeMismatch {
                column,
                stated,
                actual,
            } => Some(RowError::SizeMismatch {
                column,
                stated: *stated,
                actual: *actual,
            }),
            Self::UnreadableHash { column, stated } => Some(RowError::BadHash {
                column,
                value: stated.clone(),
            }),
            _ => None,
        }
    }
}

impl std::fmt::Display for RowIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(error) = self.to_error() {
            return error.fmt(f);
        }
        match self {
            Self::DerivedMismatch {
                column,
                stated,
                expected,
            } => write!(
                f,
                "column {column:?} says {stated:?}, but the path gives {expected:?}"
            ),
            Self::DirectoryContent { len } => {
                write!(f, "directory row carries {len} bytes of content; dropped")
            }
            Self::KindMismatch {
                column,
                stated,
                actual,
            } => write!(
                f,
                "column {column:?} says {stated}, but the content is {}",
                actual.as_str()
            ),
            Self::PathNormalised { column, stated } => {
                write!(f, "column {column:?} holds non-canonical path {stated:?}")
            }
            // Worded as the errors they become, above.
            Self::HashMismatch { .. } | Self::SizeMismatch { .. } | Self::UnreadableHash { .. } => {
                Ok(())
            }
        }
    }
}

/// Why a `project_files` row could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowError {
    /// A `file_path` row has columns of both database schemas; decode it
    /// with an explicit [`RowShape::decode`].
    #[error(
        "row has rich-schema column {rich_column:?} and simple-schema column {simple_column:?}; decode it with an explicit shape"
    )]
    AmbiguousShape {
        /// The first rich-only column found.
        rich_column: &'static str,
        /// The first simple-only column found.
        simple_column: &'static str,
    },
    /// Content marked base64 that is not base64.
    #[error("column {column:?} is marked base64 but is not valid base64: {detail}")]
    BadBase64 {
        /// The column (`content`).
        column: &'static str,
        /// What the base64 decoder said.
        detail: String,
    },
    /// An encoding other than `utf-8` or `base64`.
    #[error(
        "column {column:?} has unsupported encoding {value:?}; expected \"utf-8\" or \"base64\""
    )]
    BadEncoding {
        /// `encoding` or `metadata.encoding`.
        column: &'static str,
        /// The value.
        value: String,
    },
    /// A hash column that is not a SHA-256 hex digest
    /// ([`MismatchPolicy::Reject`]).
    #[error("column {column:?} holds {value:?}, not a SHA-256 hex digest (64 hex digits)")]
    BadHash {
        /// `content_hash` or `checksum`.
        column: &'static str,
        /// The value (cut to 80 characters).
        value: String,
    },
    /// A UUID column whose text is not a UUID.
    #[error("column {column:?} holds {value:?}, not a UUID")]
    BadId {
        /// The column.
        column: &'static str,
        /// The value (cut to 80 characters).
        value: String,
    },
    /// A path column the (lenient) path parser rejects.
    #[error("column {column:?} holds a bad path: {source}")]
    BadPath {
        /// `file_path` or `path`.
        column: &'static str,
        /// Why the path was rejected.
        #[source]
        source: PathError,
    },
    /// A column holding the wrong JSON type (or a negative size).
    #[error("column {column:?} should hold {expected}, found {found}")]
    BadType {
        /// The column.
        column: &'static str,
        /// What it should hold, e.g. `"a string"`.
        expected: &'static str,
        /// What it holds, as JSON text (cut to 80 characters).
        found: String,
    },
    /// [`encode_row`] was given an entry that does not describe the content.
    #[error("entry for {path:?} has {field} {entry}, but the content has {field} {content}")]
    EntryMismatch {
        /// The entry's path.
        path: String,
        /// `size`, `hash` or `kind`.
        field: &'static str,
        /// The entry's value.
        entry: String,
        /// The content's value.
        content: String,
    },
    /// The hash column disagrees with the content ([`MismatchPolicy::Reject`]).
    #[error("column {column:?} says SHA-256 {stated}, but the content hashes to {actual}")]
    HashMismatch {
        /// `content_hash` or `checksum`.
        column: &'static str,
        /// Its value.
        stated: Sha256Digest,
        /// The SHA-256 of the content.
        actual: Sha256Digest,
    },
    /// A column decoding requires (the path) is absent or null.
    #[error("column {column:?} is required but missing or null")]
    MissingColumn {
        /// The column.
        column: &'static str,
    },
    /// A value the target shape requires is not in the [`RowContext`].
    #[error(
        "column {column:?} is required by the target schema but the row context has no value for it"
    )]
    MissingValue {
        /// The column.
        column: &'static str,
    },
    /// A number too large for the target column's integer type.
    #[error("column {column:?} cannot hold {value} (largest is {max})")]
    OutOfRange {
        /// The column.
        column: &'static str,
        /// The value.
        value: u64,
        /// The column's largest value.
        max: u64,
    },
    /// A pass-through column the target shape writes itself.
    #[error(
        "pass-through column {column:?} is written by the {shape} codec; remove it from the passthrough map"
    )]
    PassthroughConflict {
        /// The column.
        column: String,
        /// The target shape.
        shape: RowShape,
    },
    /// The size column disagrees with the content ([`MismatchPolicy::Reject`]).
    #[error("column {column:?} says {stated} bytes, but the content has {actual} bytes")]
    SizeMismatch {
        /// `file_size` or `size_bytes`.
        column: &'static str,
        /// Its value.
        stated: u64,
        /// The content's length in bytes.
        actual: u64,
    },
    /// A row with neither `file_path` nor `path`.
    #[error("row has neither \"file_path\" nor \"path\" (columns: {})", columns.join(", "))]
    UnknownShape {
        /// The row's columns (at most 16, then `…`).
        columns: Vec<String>,
    },
}

impl RowError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AmbiguousShape { .. } => "row.ambiguous_shape",
            Self::BadBase64 { .. } => "row.bad_base64",
            Self::BadEncoding { .. } => "row.bad_encoding",
            Self::BadHash { .. } => "row.bad_hash",
            Self::BadId { .. } => "row.bad_id",
            Self::BadPath { .. } => "row.bad_path",
            Self::BadType { .. } => "row.bad_type",
            Self::EntryMismatch { .. } => "row.entry_mismatch",
            Self::HashMismatch { .. } => "row.hash_mismatch",
            Self::MissingColumn { .. } => "row.missing_column",
            Self::MissingValue { .. } => "row.missing_value",
            Self::OutOfRange { .. } => "row.out_of_range",
            Self::PassthroughConflict { .. } => "row.passthrough_conflict",
            Self::SizeMismatch { .. } => "row.size_mismatch",
            Self::UnknownShape { .. } => "row.unknown_shape",
        }
    }
}

/// Decodes a row of any shape: [`RowShape::detect`], then
/// [`RowShape::decode`].
///
/// # Errors
/// Any error of [`RowShape::detect`] or [`RowShape::decode`].
pub fn decode_row(row: &Row, policy: MismatchPolicy) -> Result<DecodedRow, RowError> {
    RowShape::detect(row)?.decode(row, policy)
}

/// Encodes `entry` with `content` as a row of `shape`: canonical path,
/// derived columns, size and SHA-256 computed from the content, base64 for
/// binary content, the context's values and pass-through columns.
///
/// # Errors
/// - [`RowError::EntryMismatch`] when `entry` does not describe `content`
///   (size, BLAKE3 hash, or kind by [`FileKind::classify`]; a directory must
///   come with empty content);
/// - [`RowError::MissingValue`] for a required context value (`project_id`
///   in both database shapes, `created_by` in the rich one);
/// - [`RowError::OutOfRange`] for a size or revision the column's integer
///   type cannot hold;
/// - [`RowError::PassthroughConflict`] for a pass-through key the shape
///   writes itself; [`RowError::BadType`] for a simple-shape `metadata`
///   pass-through that is not an object.
pub fn encode_row(
    shape: RowShape,
    entry: &FileEntry,
    content: &[u8],
    context: &RowContext,
) -> Result<Row, RowError> {
    encode::encode(shape, entry, content, context)
}

/// Serialises content as the protocol does: `{"text": …}` or `{"base64": …}`.
fn content_as_wire_bytes<S: serde::Serializer>(
    content: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    crate::protocol::Bytes::new(content.to_vec()).serialize(serializer)
}

/// The first 80 characters of `text`.
fn cut(text: &str) -> String {
    text.chars().take(80).collect()
}

/// A path's `directory_path`: its parent, or `""` at the top level.
fn directory_of(path: &FilePath) -> String {
    path.parent()
        .map(|parent| parent.as_str().to_owned())
        .unwrap_or_default()
}

/// The BLAKE3 hash of an empty file, which directories carry.
fn empty_hash() -> ContentHash {
    ContentHash::of(b"")
}

#[cfg(test)]
mod tests;

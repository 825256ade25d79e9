//! Whole-codec tests: realistic rows of each shape, round trips, every error
//! and issue, strict and lenient mismatch handling.

use std::collections::BTreeSet;

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::entry::FileId;
use crate::hash::{Sha256Digest, hash_both};

const FILE_ID: &str = "0b6f9c1e-3c5a-4a7e-9a55-1f0e2d3c4b5a";
const PROJECT: &str = "9a7c1a52-8d0e-4c55-b4b4-5c0f3f2f7f10";
const USER: &str = "5b0c8f9e-1d2a-4b3c-8e7f-6a5b4c3d2e1f";
const PARENT: &str = "1e2d3c4b-5a69-4788-9aab-bccddeeff001";

fn row(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn uuid(text: &str) -> Uuid {
    text.parse().unwrap()
}

fn sha(bytes: &[u8]) -> String {
    Sha256Digest::of(bytes).to_string()
}

fn decode(value: Value) -> Result<DecodedRow, RowError> {
    decode_row(&row(value), MismatchPolicy::Reject)
}

fn lenient(value: Value) -> DecodedRow {
    decode_row(&row(value), MismatchPolicy::Report).unwrap()
}

fn path(text: &str) -> FilePath {
    FilePath::parse(text).unwrap()
}

const APP: &str = "import { useState } from 'react';\r\n\r\nexport default function App() {\r\n  return <h1>héllo 👋</h1>;\r\n}\r\n";

/// What `select * from project_files` returns for the rich schema.
fn rich_row() -> Value {
    json!({
        "id": FILE_ID,
        "project_id": PROJECT,
        "file_path": "src/components/App.tsx",
        "file_name": "App.tsx",
        "file_type": "tsx",
        "file_size": APP.len(),
        "content": APP,
        "content_hash": sha(APP.as_bytes()),
        "encoding": "utf-8",
        "version": 3,
        "parent_version_id": PARENT,
        "is_current_version": true,
        "directory_path": "src/components",
        "is_directory": false,
        "is_binary": false,
        "embedding": [0.1, -0.25, 0.0031, 0.5],
        "ai_analysis": {"complexity": 2, "summary": "root component", "tags": ["react"]},
        "created_by": USER,
        "last_modified_by": null,
        "created_at": "2026-11-20T10:00:00.123456+00:00",
        "updated_at": "2026-11-21T08:30:00+00:00"
    })
}

// ---------------------------------------------------------------------------
// Realistic rows of each shape.

#[test]
fn decodes_a_rich_row() {
    let decoded = decode(rich_row()).unwrap();
    assert_eq!(decoded.shape, RowShape::Rich);
    assert_eq!(decoded.issues, []);
    assert_eq!(decoded.content, APP.as_bytes());
    assert_eq!(decoded.sha256, Sha256Digest::of(APP.as_bytes()));
    assert_eq!(decoded.file_type.as_deref(), Some("tsx"));
    let entry = &decoded.entry;
    assert_eq!(entry.id, Some(FileId::parse(FILE_ID).unwrap()));
    assert_eq!(entry.path, path("src/components/App.tsx"));
    assert_eq!(entry.kind, FileKind::Text);
    assert_eq!(entry.size, APP.len() as u64);
    assert_eq!(entry.hash, ContentHash::of(APP.as_bytes()));
    assert_eq!(entry.revision, 3);
    assert!(!entry.executable);
    let context = &decoded.context;
    assert_eq!(context.project_id, Some(uuid(PROJECT)));
    assert_eq!(context.created_by, Some(uuid(USER)));
    assert_eq!(context.last_modified_by, None);
    assert_eq!(context.parent_version_id, Some(uuid(PARENT)));
    assert_eq!(context.is_current_version, Some(true));
    assert_eq!(
        context.created_at.as_deref(),
        Some("2026-11-20T10:00:00.123456+00:00")
    );
    assert_eq!(
        context.passthrough.keys().collect::<Vec<_>>(),
        ["ai_analysis", "embedding"]
    );
}

#[test]
fn a_consistent_rich_row_encodes_back_to_itself() {
    let original = row(rich_row());
    let decoded = decode_row(&original, MismatchPolicy::Reject).unwrap();
    let encoded = encode_row(
        RowShape::Rich,
        &decoded.entry,
        &decoded.content,
        &decoded.context,
    )
    .unwrap();
    let mut expected = original;
    // Null columns are not written; the derived and computed ones are.
    expected.remove("last_modified_by");
    expected.insert("file_type".into(), json!("typescript"));
    assert_eq!(encoded, expected);
}

#[test]
fn decodes_a_simple_row() {
    let content = "{\n  \"name\": \"demo\"\n}\n";
    let decoded = decode(json!({
        "id": FILE_ID,
        "project_id": PROJECT,
        "file_path": "package.json",
        "content": content,
        "file_type": "json",
        "size_bytes": content.len().to_string(), // bigint printed as text
        "version": 1,
        "parent_version_id": null,
        "checksum": sha(content.as_bytes()).to_uppercase(),
        "metadata": {"generated_by": "template", "encoding": "utf-8"},
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": null
    }))
    .unwrap();
    assert_eq!(decoded.shape, RowShape::Simple);
    assert_eq!(decoded.issues, []);
    assert_eq!(decoded.content, content.as_bytes());
    assert_eq!(decoded.entry.kind, FileKind::Text);
    assert_eq!(decoded.entry.revision, 1);
    assert_eq!(decoded.context.parent_version_id, None);
    assert_eq!(decoded.context.updated_at, None);
    // The codec owns metadata.encoding; the rest passes through.
    assert_eq!(
        decoded.context.passthrough,
        row(json!({"metadata": {"generated_by": "template"}}))
    );
}

#[test]
fn decodes_the_editors_shape() {
    let decoded = decode(json!({
        "path": "/src/main.ts",
        "type": "typescript",
        "content": "console.log('hi')",
        "name": "main.ts",
        "isOpen": true,
        "project_id": PROJECT
    }))
    .unwrap();
    assert_eq!(decoded.shape, RowShape::Editor);
    assert_eq!(decoded.entry.path, path("src/main.ts"));
    assert_eq!(decoded.entry.id, None);
    assert_eq!(decoded.content, b"console.log('hi')");
    assert_eq!(decoded.context.project_id, Some(uuid(PROJECT)));
    assert_eq!(
        decoded.context.passthrough,
        row(json!({"name": "main.ts", "isOpen": true}))
    );
    assert_eq!(
        decoded.issues,
        [RowIssue::PathNormalised {
            column: "path",
            stated: "/src/main.ts".into()
        }]
    );
    // Encoding writes the canonical path and keeps the extra keys.
    let encoded = encode_row(
        RowShape::Editor,
        &decoded.entry,
        &decoded.content,
        &decoded.context,
    )
    .unwrap();
    assert_eq!(
        Value::Object(encoded),
        json!({
            "path": "src/main.ts",
            "type": "typescript",
            "content": "console.log('hi')",
            "name": "main.ts",
            "isOpen": true,
            "project_id": PROJECT
        })
    );
}

#[test]
fn template_inserts_without_shape_columns_are_simple() {
    // What the orchestrator's template service inserts.
    let decoded = decode(json!({
        "project_id": PROJECT,
        "file_path": "index.html",
        "content": "<!doctype html>\n",
        "file_type": "html"
    }))
    .unwrap();
    assert_eq!(decoded.shape, RowShape::Simple);
    assert_eq!(decoded.entry.id, None);
    assert_eq!(decoded.entry.revision, 0);
}

// ---------------------------------------------------------------------------
// Shapes.

#[test]
fn shape_detection_rules() {
    let detect = |value: Value| RowShape::detect(&row(value));
    assert_eq!(
        detect(json!({"file_path": "a", "is_binary": null})),
        Ok(RowShape::Rich)
    );
    assert_eq!(
        detect(json!({"file_path": "a", "embedding": null})),
        Ok(RowShape::Rich)
    );
    assert_eq!(
        detect(json!({"file_path": "a", "metadata": {}})),
        Ok(RowShape::Simple)
    );
    assert_eq!(detect(json!({"file_path": "a"})), Ok(RowShape::Simple));
    assert_eq!(
        detect(json!({"path": "a", "type": "ts"})),
        Ok(RowShape::Editor)
    );
    // A database column wins over the editor's.
    assert_eq!(
        detect(json!({"path": "a", "file_path": "a"})),
        Ok(RowShape::Simple)
    );
    // The editor may send an encoding; that does not make it rich.
    assert_eq!(
        detect(json!({"path": "a", "encoding": "base64"})),
        Ok(RowShape::Editor)
    );
    assert_eq!(
        detect(json!({"file_path": "a", "file_size": 1, "checksum": null})),
        Err(RowError::AmbiguousShape {
            rich_column: "file_size",
            simple_column: "checksum"
        })
    );
    assert_eq!(
        detect(json!({"name": "a", "content": ""})),
        Err(RowError::UnknownShape {
            columns: vec!["content".into(), "name".into()]
        })
    );
    let many: Row = (0..20).map(|i| (format!("c{i:02}"), Value::Null)).collect();
    let Err(RowError::UnknownShape { columns }) = RowShape::detect(&many) else {
        panic!("expected unknown shape");
    };
    assert_eq!(columns.len(), 17);
    assert_eq!(columns.last().map(String::as_str), Some("…"));
}

#[test]
fn shapes_name_their_columns() {
    for shape in [RowShape::Editor, RowShape::Rich, RowShape::Simple] {
        let columns = shape.columns();
        assert!(columns.windows(2).all(|pair| pair[0] < pair[1]), "{shape}");
        assert_eq!(
            serde_json::to_value(shape).unwrap(),
            Value::from(shape.as_str())
        );
    }
    // Detection markers are the shapes' own columns (or pass-through ones).
    for column in RICH_ONLY {
        assert!(!RowShape::Simple.columns().contains(column), "{column}");
    }
    for column in SIMPLE_ONLY {
        assert!(!RowShape::Rich.columns().contains(column), "{column}");
    }
    assert_eq!(RowShape::Rich.to_string(), "rich");
}

#[test]
fn an_explicit_shape_skips_detection() {
    let value = row(json!({
        "file_path": "a.txt", "content": "x", "file_size": 1, "checksum": "not a hash"
    }));
    assert_eq!(
        decode_row(&value, MismatchPolicy::Reject)
            .unwrap_err()
            .code(),
        "row.ambiguous_shape"
    );
    // As a rich row, `checksum` is an unknown column and passes through.
    let decoded = RowShape::Rich
        .decode(&value, MismatchPolicy::Reject)
        .unwrap();
    assert_eq!(decoded.context.passthrough["checksum"], "not a hash");
}

// ---------------------------------------------------------------------------
// Content.

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

#[test]
fn binary_content_travels_base64() {
    let b64 = decode::BASE64.encode(PNG);
    // PostgreSQL's encode(..., 'base64') wraps lines at 76 characters.
    let wrapped = format!("{}\n{}", &b64[..20], &b64[20..]);
    let decoded = decode(json!({
        "file_path": "public/logo.png", "project_id": PROJECT, "created_by": USER,
        "content": wrapped, "encoding": "base64", "is_binary": true,
        "file_type": "png", "file_size": PNG.len(), "content_hash": sha(PNG)
    }))
    .unwrap();
    assert_eq!(decoded.content, PNG);
    assert_eq!(decoded.entry.kind, FileKind::Binary);
    assert_eq!(decoded.issues, []);
    let encoded = encode_row(RowShape::Rich, &decoded.entry, PNG, &decoded.context).unwrap();
    assert_eq!(encoded["content"], b64);
    assert_eq!(encoded["encoding"], "base64");
    assert_eq!(encoded["is_binary"], true);
    assert_eq!(encoded["file_type"], "binary");
    assert_eq!(encoded["file_size"], PNG.len());
}

#[test]
fn a_binary_claim_implies_base64_when_no_encoding_is_given() {
    let b64 = decode::BASE64.encode(PNG);
    for value in [
        json!({"file_path": "a.png", "is_binary": true, "content": b64, "encoding": null}),
        json!({"file_path": "a.png", "file_type": "binary", "content": b64}),
        json!({"path": "a.png", "type": "binary", "content": b64}),
        json!({"path": "a.png", "type": "png", "encoding": "base64", "content": b64}),
        json!({"file_path": "a.png", "metadata": {"encoding": "base64"}, "content": b64}),
    ] {
        let decoded = decode(value.clone()).unwrap();
        assert_eq!(decoded.content, PNG, "{value}");
        assert_eq!(decoded.entry.kind, FileKind::Binary, "{value}");
    }
    // An explicit text encoding wins over the claim, which is then reported.
    let decoded = lenient(
        json!({"file_path": "a.txt", "is_binary": true, "encoding": "utf-8", "content": "aGk="}),
    );
    assert_eq!(decoded.content, b"aGk=");
    assert_eq!(
        decoded.issues,
        [RowIssue::KindMismatch {
            column: "is_binary",
            stated: "true".into(),
            actual: FileKind::Text
        }]
    );
}

#[test]
fn binary_content_in_each_database_shape_and_the_editor() {
    let entry = FileEntry::from_content(path("img/a.png"), PNG);
    let context = RowContext {
        project_id: Some(uuid(PROJECT)),
        created_by: Some(uuid(USER)),
        ..RowContext::default()
    };
    let simple = encode_row(RowShape::Simple, &entry, PNG, &context).unwrap();
    assert_eq!(simple["metadata"], json!({"encoding": "base64"}));
    assert_eq!(simple["file_type"], "binary");
    let editor = encode_row(RowShape::Editor, &entry, PNG, &context).unwrap();
    assert_eq!(editor["type"], "binary");
    assert!(editor.get("encoding").is_none());
    for encoded in [simple, editor] {
        let decoded = decode_row(&encoded, MismatchPolicy::Reject).unwrap();
        assert_eq!(decoded.content, PNG);
        assert_eq!(decoded.entry, entry);
        assert!(!decoded.context.passthrough.contains_key("metadata"));
    }
}

#[test]
fn text_is_byte_exact() {
    for text in [
        "\u{feff}BOM first\r\nthen CRLF\r\n",
        "no final newline",
        "emoji 😀 and combining e\u{301}\n",
        "mixed\r\nendings\n\rstay\r",
        "",
    ] {
        let decoded = decode(json!({"path": "a.txt", "content": text})).unwrap();
        assert_eq!(decoded.content, text.as_bytes());
        assert_eq!(decoded.entry.kind, FileKind::Text);
    }
}

#[test]
fn null_or_absent_content_is_an_empty_file() {
    for value in [
        json!({"file_path": "empty.ts", "content": null}),
        json!({"file_path": "empty.ts"}),
        json!({"path": "empty.ts", "content": null}),
    ] {
        let decoded = decode(value).unwrap();
        assert_eq!(decoded.content, b"");
        assert_eq!(
            decoded.entry,
            FileEntry::from_content(path("empty.ts"), b"")
        );
    }
}

#[test]
fn a_nul_in_json_text_makes_a_binary_file_written_back_as_base64() {
    let decoded = decode(json!({"path": "a.bin", "content": "a\u{0}b"})).unwrap();
    assert_eq!(decoded.entry.kind, FileKind::Binary);
    let encoded = encode_row(
        RowShape::Editor,
        &decoded.entry,
        &decoded.content,
        &decoded.context,
    )
    .unwrap();
    assert_eq!(encoded["content"], "YQBi");
    assert_eq!(encoded["type"], "binary");
}

#[test]
fn directories_in_every_shape() {
    let rich = decode(json!({
        "file_path": "src/assets/", "is_directory": true, "content": null,
        "file_type": "directory", "file_size": 0, "directory_path": "src"
    }))
    .unwrap();
    assert_eq!(rich.entry, FileEntry::directory(path("src/assets")));
    for value in [
        json!({"file_path": "src/assets", "file_type": "folder", "size_bytes": 0}),
        json!({"path": "src/assets", "type": "directory"}),
    ] {
        assert_eq!(decode(value).unwrap().entry.kind, FileKind::Directory);
    }
    // `is_directory: false` outranks the type column, which is reported.
    let file = lenient(
        json!({"file_path": "src/assets", "is_directory": false, "file_type": "directory"}),
    );
    assert_eq!(file.entry.kind, FileKind::Text);
    assert_eq!(file.issues[0].code(), "row.kind_mismatch");

    let entry = FileEntry::directory(path("src/assets")).with_id(FileId::from_u128(9));
    let context = RowContext {
        project_id: Some(uuid(PROJECT)),
        created_by: Some(uuid(USER)),
        ..RowContext::default()
    };
    let encoded = encode_row(RowShape::Rich, &entry, b"", &context).unwrap();
    assert_eq!(encoded["content"], Value::Null);
    assert_eq!(encoded["content_hash"], Value::Null);
    assert_eq!(encoded["file_size"], 0);
    assert_eq!(encoded["is_directory"], true);
    assert_eq!(encoded["file_type"], "directory");
    assert_eq!(encoded["directory_path"], "src");
    assert_eq!(encoded["file_name"], "assets");
}

#[test]
fn a_directory_row_with_content_drops_it_and_says_so() {
    let decoded =
        decode(json!({"file_path": "d", "is_directory": true, "content": "junk"})).unwrap();
    assert_eq!(decoded.content, b"");
    assert_eq!(decoded.entry, FileEntry::directory(path("d")));
    assert_eq!(decoded.issues, [RowIssue::DirectoryContent { len: 4 }]);
}

// ---------------------------------------------------------------------------
// Pass-through.

#[test]
fn embedding_and_ai_analysis_pass_through_byte_for_byte() {
    // Key order and number spelling as serde_json prints them, so the text
    // comparison below is exact.
    let embedding_array = r#"[0.1,-0.25,0.0031,0.5,1.0]"#;
    let embedding_text = r#""[0.1,0.2,-0.35]""#; // pgvector's text output
    let ai =
        r#"{"complexity":2,"entities":[{"kind":"fn","name":"App"}],"summary":"héllo \"q\" 👋"}"#;
    for embedding in [embedding_array, embedding_text, "null"] {
        let text = format!(
            r#"{{"file_path":"a.ts","project_id":"{PROJECT}","created_by":"{USER}","content":"x","embedding":{embedding},"ai_analysis":{ai}}}"#
        );
        let original: Row = serde_json::from_str(&text).unwrap();
        let decoded = decode_row(&original, MismatchPolicy::Reject).unwrap();
        assert_eq!(decoded.shape, RowShape::Rich);
        let encoded = encode_row(
            RowShape::Rich,
            &decoded.entry,
            &decoded.content,
            &decoded.context,
        )
        .unwrap();
        assert_eq!(encoded["embedding"], original["embedding"]);
        assert_eq!(encoded["ai_analysis"], original["ai_analysis"]);
        assert_eq!(
            serde_json::to_string(&encoded["embedding"]).unwrap(),
            embedding
        );
        assert_eq!(serde_json::to_string(&encoded["ai_analysis"]).unwrap(), ai);
    }
}

#[test]
fn passthrough_conflicts_are_errors() {
    let entry = FileEntry::from_content(path("a.ts"), b"x");
    let mut context = RowContext {
        project_id: Some(uuid(PROJECT)),
        created_by: Some(uuid(USER)),
        ..RowContext::default()
    };
    context.passthrough.insert("file_size".into(), json!(99));
    assert_eq!(
        encode_row(RowShape::Rich, &entry, b"x", &context),
        Err(RowError::PassthroughConflict {
            column: "file_size".into(),
            shape: RowShape::Rich
        })
    );
    // Not a rich column: fine for that shape, a conflict for none.
    let mut context = RowContext {
        project_id: Some(uuid(PROJECT)),
        ..RowContext::default()
    };
    context.passthrough.insert("metadata".into(), json!([1]));
    assert_eq!(
        encode_row(RowShape::Simple, &entry, b"x", &context).unwrap_err(),
        RowError::BadType {
            column: "metadata",
            expected: "an object or null",
            found: "[1]".into()
        }
    );
}

// ---------------------------------------------------------------------------
// Mismatches: strict and lenient.

#[test]
fn a_wrong_size_is_rejected_or_reported() {
    // 7 UTF-16 units (JavaScript's `length`), 8 bytes.
    let value =
        json!({"file_path": "a.txt", "content": "héllo!!", "file_size": 7, "content_hash": null});
    assert_eq!(
        decode(value.clone()),
        Err(RowError::SizeMismatch {
            column: "file_size",
            stated: 7,
            actual: 8
        })
    );
    let decoded = lenient(value);
    assert_eq!(decoded.entry.size, 8);
    assert_eq!(
        decoded.issues,
        [RowIssue::SizeMismatch {
            column: "file_size",
            stated: 7,
            actual: 8
        }]
    );
}

#[test]
fn a_wrong_hash_is_rejected_or_reported() {
    let stated = Sha256Digest::of(b"other");
    let actual = Sha256Digest::of(b"body");
    let value = json!({"file_path": "a.txt", "content": "body", "checksum": stated.to_string()});
    assert_eq!(
        decode(value.clone()),
        Err(RowError::HashMismatch {
            column: "checksum",
            stated,
            actual
        })
    );
    let decoded = lenient(value);
    assert_eq!(decoded.content, b"body");
    assert_eq!(
        decoded.issues,
        [RowIssue::HashMismatch {
            column: "checksum",
            stated,
            actual
        }]
    );
}

#[test]
fn an_unreadable_hash_is_rejected_or_reported() {
    // An MD5, say.
    let value = json!({"file_path": "a.txt", "content": "x", "content_hash": "9dd4e461268c8034f5c8564e155c67a6"});
    assert_eq!(
        decode(value.clone()),
        Err(RowError::BadHash {
            column: "content_hash",
            value: "9dd4e461268c8034f5c8564e155c67a6".into()
        })
    );
    assert_eq!(lenient(value).issues[0].code(), "row.bad_hash");
}

#[test]
fn base64_sizes_and_hashes_describe_the_decoded_bytes() {
    let b64 = decode::BASE64.encode(PNG);
    let value = json!({
        "file_path": "a.png", "content": b64, "encoding": "base64",
        "file_size": b64.len(), "content_hash": sha(b64.as_bytes())
    });
    let decoded = lenient(value);
    let codes: Vec<_> = decoded.issues.iter().map(RowIssue::code).collect();
    assert_eq!(codes, ["row.size_mismatch", "row.hash_mismatch"]);
}

#[test]
fn derived_columns_are_checked_against_the_path() {
    let decoded = decode(json!({
        "file_path": "src/a.ts", "file_name": "b.ts", "directory_path": "lib",
        "content": "", "is_binary": null
    }))
    .unwrap();
    assert_eq!(decoded.entry.path, path("src/a.ts"));
    assert_eq!(
        decoded.issues,
        [
            RowIssue::DerivedMismatch {
                column: "file_name",
                stated: "b.ts".into(),
                expected: "a.ts".into()
            },
            RowIssue::DerivedMismatch {
                column: "directory_path",
                stated: "lib".into(),
                expected: "src".into()
            },
        ]
    );
    for (file_path, directory_path) in [
        ("a.ts", ""),
        ("a.ts", "/"),
        ("a.ts", "."),
        ("x/a.ts", "/x/"),
    ] {
        let decoded = decode(json!({
            "file_path": file_path, "directory_path": directory_path, "file_name": "a.ts"
        }))
        .unwrap();
        assert_eq!(decoded.issues, [], "{directory_path:?}");
    }
}

#[test]
fn kind_claims_the_content_contradicts_are_reported() {
    let decoded = lenient(
        json!({"file_path": "a.txt", "file_type": "text", "is_binary": false, "content": "aGkA", "encoding": "base64"}),
    );
    assert_eq!(decoded.entry.kind, FileKind::Binary);
    assert_eq!(
        decoded.issues,
        [
            RowIssue::KindMismatch {
                column: "is_binary",
                stated: "false".into(),
                actual: FileKind::Binary
            },
            RowIssue::KindMismatch {
                column: "file_type",
                stated: "\"text\"".into(),
                actual: FileKind::Binary
            },
        ]
    );
    // Language labels claim nothing; an empty "binary" file is fine.
    assert_eq!(
        lenient(json!({"path": "a.png", "type": "png", "content": "text"})).issues,
        []
    );
    assert_eq!(
        lenient(json!({"file_path": "a.bin", "is_binary": true, "content": ""})).issues,
        []
    );
}

// ---------------------------------------------------------------------------
// Encoding requirements.

#[test]
fn encoding_needs_the_target_schemas_required_values() {
    let entry = FileEntry::from_content(path("a.ts"), b"x");
    let none = RowContext::default();
    assert_eq!(
        encode_row(RowShape::Simple, &entry, b"x", &none),
        Err(RowError::MissingValue {
            column: "project_id"
        })
    );
    let project = RowContext {
        project_id: Some(uuid(PROJECT)),
        ..RowContext::default()
    };
    assert_eq!(
        encode_row(RowShape::Rich, &entry, b"x", &project),
        Err(RowError::MissingValue {
            column: "created_by"
        })
    );
    assert!(encode_row(RowShape::Simple, &entry, b"x", &project).is_ok());
    assert!(encode_row(RowShape::Editor, &entry, b"x", &none).is_ok());
}

#[test]
fn encoding_refuses_an_entry_that_does_not_describe_the_content() {
    let context = RowContext::default();
    let entry = FileEntry::from_content(path("a.ts"), b"abc");
    let error = |entry: &FileEntry, content: &[u8]| {
        encode_row(RowShape::Editor, entry, content, &context).unwrap_err()
    };
    assert_eq!(
        error(&entry, b"abcd"),
        RowError::EntryMismatch {
            path: "a.ts".into(),
            field: "size",
            entry: "3".into(),
            content: "4".into()
        }
    );
    let RowError::EntryMismatch { field, .. } = error(&entry, b"abd") else {
        panic!("expected an entry mismatch");
    };
    assert_eq!(field, "hash");
    let mut binary = entry.clone();
    binary.kind = FileKind::Binary;
    let RowError::EntryMismatch { field, .. } = error(&binary, b"abc") else {
        panic!("expected an entry mismatch");
    };
    assert_eq!(field, "kind");
    let directory = FileEntry::directory(path("d"));
    assert_eq!(error(&directory, b"x").code(), "row.entry_mismatch");
}

#[test]
fn numbers_must_fit_the_columns() {
    let entry = FileEntry::from_content(path("a.ts"), b"x").with_revision(1 << 31);
    let context = RowContext {
        project_id: Some(uuid(PROJECT)),
        created_by: Some(uuid(USER)),
        ..RowContext::default()
    };
    for shape in [RowShape::Rich, RowShape::Simple] {
        assert_eq!(
            encode_row(shape, &entry, b"x", &context),
            Err(RowError::OutOfRange {
                column: "version",
                value: 1 << 31,
                max: i32::MAX as u64
            })
        );
    }
    // The editor has no version column.
    assert!(encode_row(RowShape::Editor, &entry, b"x", &context).is_ok());
    // No test allocates 2 GiB; the check itself:
    assert_eq!(
        encode::in_range("size_bytes", 1 << 31, i32::MAX as u64)
            .unwrap_err()
            .code(),
        "row.out_of_range"
    );
}

// ---------------------------------------------------------------------------
// Every error and issue: code and message.

#[test]
fn every_error_has_its_code_and_message() {
    let stated = Sha256Digest::of(b"a");
    let actual = Sha256Digest::of(b"b");
    let cases: Vec<(RowError, &str, String)> = vec![
        (
            RowError::AmbiguousShape { rich_column: "file_size", simple_column: "checksum" },
            "row.ambiguous_shape",
            r#"row has rich-schema column "file_size" and simple-schema column "checksum"; decode it with an explicit shape"#.into(),
        ),
        (
            decode(json!({"path": "a", "type": "binary", "content": "a-b_"})).unwrap_err(),
            "row.bad_base64",
            r#"column "content" is marked base64 but is not valid base64: Invalid symbol 45, offset 1."#.into(),
        ),
        (
            decode(json!({"file_path": "a", "encoding": "latin1"})).unwrap_err(),
            "row.bad_encoding",
            r#"column "encoding" has unsupported encoding "latin1"; expected "utf-8" or "base64""#.into(),
        ),
        (
            decode(json!({"file_path": "a", "checksum": "abc"})).unwrap_err(),
            "row.bad_hash",
            r#"column "checksum" holds "abc", not a SHA-256 hex digest (64 hex digits)"#.into(),
        ),
        (
            decode(json!({"file_path": "a", "id": "nope"})).unwrap_err(),
            "row.bad_id",
            r#"column "id" holds "nope", not a UUID"#.into(),
        ),
        (
            decode(json!({"file_path": "/../x"})).unwrap_err(),
            "row.bad_path",
            r#"column "file_path" holds a bad path: path "../x" leaves the project root ('..' at byte 0)"#.into(),
        ),
        (
            decode(json!({"file_path": "a", "file_size": -3})).unwrap_err(),
            "row.bad_type",
            r#"column "file_size" should hold a non-negative integer, found -3"#.into(),
        ),
        (
            encode_row(RowShape::Editor, &FileEntry::from_content(path("a.ts"), b"abc"), b"abcd", &RowContext::default()).unwrap_err(),
            "row.entry_mismatch",
            r#"entry for "a.ts" has size 3, but the content has size 4"#.into(),
        ),
        (
            RowError::HashMismatch { column: "content_hash", stated, actual },
            "row.hash_mismatch",
            format!(r#"column "content_hash" says SHA-256 {stated}, but the content hashes to {actual}"#),
        ),
        (
            decode(json!({"file_path": null})).unwrap_err(),
            "row.missing_column",
            r#"column "file_path" is required but missing or null"#.into(),
        ),
        (
            RowError::MissingValue { column: "created_by" },
            "row.missing_value",
            r#"column "created_by" is required by the target schema but the row context has no value for it"#.into(),
        ),
        (
            RowError::OutOfRange { column: "version", value: 1 << 31, max: i32::MAX as u64 },
            "row.out_of_range",
            r#"column "version" cannot hold 2147483648 (largest is 2147483647)"#.into(),
        ),
        (
            RowError::PassthroughConflict { column: "file_size".into(), shape: RowShape::Rich },
            "row.passthrough_conflict",
            r#"pass-through column "file_size" is written by the rich codec; remove it from the passthrough map"#.into(),
        ),
        (
            RowError::SizeMismatch { column: "file_size", stated: 10, actual: 12 },
            "row.size_mismatch",
            r#"column "file_size" says 10 bytes, but the content has 12 bytes"#.into(),
        ),
        (
            decode(json!({"name": "a", "content": ""})).unwrap_err(),
            "row.unknown_shape",
            r#"row has neither "file_path" nor "path" (columns: content, name)"#.into(),
        ),
    ];
    let mut seen = BTreeSet::new();
    for (error, code, message) in &cases {
        assert_eq!(error.code(), *code, "{error:?}");
        assert_eq!(&error.to_string(), message, "{error:?}");
        assert_eq!(crate::Error::from(error.clone()).code(), *code);
        seen.insert(variant(error));
    }
    // Adding a variant breaks `variant` until it is listed here too.
    assert_eq!(seen.len(), 15);
}

/// One number per variant, exhaustively.
fn variant(error: &RowError) -> u8 {
    match error {
        RowError::AmbiguousShape { .. } => 0,
        RowError::BadBase64 { .. } => 1,
        RowError::BadEncoding { .. } => 2,
        RowError::BadHash { .. } => 3,
        RowError::BadId { .. } => 4,
        RowError::BadPath { .. } => 5,
        RowError::BadType { .. } => 6,
        RowError::EntryMismatch { .. } => 7,
        RowError::HashMismatch { .. } => 8,
        RowError::MissingColumn { .. } => 9,
        RowError::MissingValue { .. } => 10,
        RowError::OutOfRange { .. } => 11,
        RowError::PassthroughConflict { .. } => 12,
        RowError::SizeMismatch { .. } => 13,
        RowError::UnknownShape { .. } => 14,
    }
}

#[test]
fn every_issue_has_its_code_and_message() {
    let stated = Sha256Digest::of(b"a");
    let actual = Sha256Digest::of(b"b");
    let cases = [
        (
            RowIssue::DerivedMismatch {
                column: "file_name",
                stated: "b.ts".into(),
                expected: "a.ts".into(),
            },
            "row.derived_mismatch",
            r#"column "file_name" says "b.ts", but the path gives "a.ts""#.to_owned(),
        ),
        (
            RowIssue::DirectoryContent { len: 4 },
            "row.directory_content",
            "directory row carries 4 bytes of content; dropped".into(),
        ),
        (
            RowIssue::HashMismatch {
                column: "checksum",
                stated,
                actual,
            },
            "row.hash_mismatch",
            format!(
                r#"column "checksum" says SHA-256 {stated}, but the content hashes to {actual}"#
            ),
        ),
        (
            RowIssue::KindMismatch {
                column: "is_binary",
                stated: "true".into(),
                actual: FileKind::Text,
            },
            "row.kind_mismatch",
            r#"column "is_binary" says true, but the content is text"#.into(),
        ),
        (
            RowIssue::PathNormalised {
                column: "path",
                stated: "/a.ts".into(),
            },
            "row.path_normalised",
            r#"column "path" holds non-canonical path "/a.ts""#.into(),
        ),
        (
            RowIssue::SizeMismatch {
                column: "size_bytes",
                stated: 1,
                actual: 2,
            },
            "row.size_mismatch",
            r#"column "size_bytes" says 1 bytes, but the content has 2 bytes"#.into(),
        ),
        (
            RowIssue::UnreadableHash {
                column: "checksum",
                stated: "abc".into(),
            },
            "row.bad_hash",
            r#"column "checksum" holds "abc", not a SHA-256 hex digest (64 hex digits)"#.into(),
        ),
    ];
    for (issue, code, message) in &cases {
        assert_eq!(issue.code(), *code);
        assert_eq!(&issue.to_string(), message);
        // Exactly the integrity issues become errors under Reject, with the same code.
        match issue.to_error() {
            Some(error) => assert_eq!(error.code(), *code),
            None => {
                assert!(!["row.size_mismatch", "row.hash_mismatch", "row.bad_hash"].contains(code))
            }
        }
    }
}

#[test]
fn malformed_columns_are_typed_errors() {
    for (value, code) in [
        (json!({"file_path": 7}), "row.bad_type"),
        (json!({"path": ["a"]}), "row.bad_type"),
        (json!({"file_path": "a", "content": 5}), "row.bad_type"),
        (
            json!({"file_path": "a", "is_binary": "yes"}),
            "row.bad_type",
        ),
        (json!({"file_path": "a", "version": 1.5}), "row.bad_type"),
        (json!({"file_path": "a", "project_id": 12}), "row.bad_type"),
        (json!({"file_path": "a", "project_id": "x"}), "row.bad_id"),
        (json!({"file_path": "a", "created_by": "x"}), "row.bad_id"),
        (json!({"file_path": "a", "metadata": "x"}), "row.bad_type"),
        (
            json!({"file_path": "a", "metadata": {"encoding": "hex"}}),
            "row.bad_encoding",
        ),
        (
            json!({"file_path": "a", "created_at": 5, "checksum": null}),
            "row.bad_type",
        ),
        (json!({"file_path": "a\\b"}), "row.bad_path"),
        (json!({"path": ""}), "row.bad_path"),
        (json!({"path": null}), "row.missing_column"),
        (
            json!({"file_path": "a", "file_size": null, "content_hash": 3}),
            "row.bad_type",
        ),
    ] {
        assert_eq!(decode(value.clone()).unwrap_err().code(), code, "{value}");
    }
    let RowError::BadPath { source, .. } = decode(json!({"path": "CON"})).unwrap_err() else {
        panic!("expected a path error");
    };
    assert_eq!(source.code(), "path.reserved_name");
}

// ---------------------------------------------------------------------------
// Round trips.

/// What a shape keeps of a context: the fields it has columns for.
fn kept_by(shape: RowShape, context: &RowContext) -> RowContext {
    let rich = shape == RowShape::Rich;
    let database = shape != RowShape::Editor;
    RowContext {
        project_id: context.project_id,
        created_by: context.created_by.filter(|_| rich),
        last_modified_by: context.last_modified_by.filter(|_| rich),
        parent_version_id: context.parent_version_id.filter(|_| database),
        is_current_version: context.is_current_version.filter(|_| rich),
        created_at: context.created_at.clone().filter(|_| database),
        updated_at: context.updated_at.clone().filter(|_| database),
        passthrough: context.passthrough.clone(),
    }
}

fn segment() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9_é😀 -]{0,5}[a-zA-Z0-9_é😀-]",
        prop::sample::select(vec![
            "", ".ts", ".tsx", ".json", ".md", ".png", ".TXT", ".env",
        ]),
    )
        .prop_map(|(stem, extension)| format!("{stem}{extension}"))
}

fn file_path() -> impl Strategy<Value = FilePath> {
    prop::collection::vec(segment(), 1..4).prop_filter_map("not a valid path", |segments| {
        FilePath::parse(&segments.join("/")).ok()
    })
}

fn content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(
            prop::sample::select(vec![
                "\r\n", "\n", "\r", "\u{feff}", "😀", "e\u{301}", "a", " ", "\t", "\0", "\"", "\\"
            ]),
            0..24
        )
        .prop_map(|pieces| pieces.concat().into_bytes()),
        any::<String>().prop_map(String::into_bytes),
    ]
}

/// Pass-through columns the shape's table would have, so the row stays
/// detectable as that shape.
fn passthrough(shape: RowShape) -> impl Strategy<Value = Row> {
    let candidates: Vec<(&str, Value)> = match shape {
        RowShape::Editor => vec![
            ("name", json!("x")),
            ("isOpen", json!(true)),
            ("language", json!(null)),
        ],
        RowShape::Rich => vec![
            ("embedding", json!([0.1, -2.5, 3.0])),
            ("ai_analysis", json!({"summary": "s", "n": [1, 2]})),
            ("x_extra", json!(null)),
        ],
        RowShape::Simple => vec![
            ("metadata", json!({"author": "ai"})),
            ("x_extra", json!("y")),
        ],
    };
    prop::sample::subsequence(candidates.clone(), 0..=candidates.len())
        .prop_map(|picked| picked.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn context(shape: RowShape) -> impl Strategy<Value = RowContext> {
    (
        any::<u128>(),
        any::<u128>(),
        any::<Option<u128>>(),
        any::<Option<u128>>(),
        any::<Option<bool>>(),
        prop::option::of("2026-11-2[0-9]T0[0-9]:00:00Z"),
        prop::option::of("2026-11-2[0-9]T0[0-9]:00:00\\.123\\+00:00"),
        passthrough(shape),
    )
        .prop_map(
            |(project, creator, modifier, parent, current, created_at, updated_at, passthrough)| {
                RowContext {
                    project_id: Some(Uuid::from_u128(project)),
                    created_by: Some(Uuid::from_u128(creator)),
                    last_modified_by: modifier.map(Uuid::from_u128),
                    parent_version_id: parent.map(Uuid::from_u128),
                    is_current_version: current,
                    created_at,
                    updated_at,
                    passthrough,
                }
            },
        )
}

fn shape() -> impl Strategy<Value = RowShape> {
    prop::sample::select(vec![RowShape::Editor, RowShape::Rich, RowShape::Simple])
}

fn case() -> impl Strategy<Value = (RowShape, FileEntry, Vec<u8>, RowContext)> {
    shape().prop_flat_map(|shape| {
        (
            Just(shape),
            file_path(),
            content(),
            prop::bool::weighted(0.1),
            any::<Option<u128>>(),
            prop_oneof![Just(0u64), 1..10u64, Just(i32::MAX as u64)],
            context(shape),
        )
            .prop_map(|(shape, path, content, directory, id, revision, context)| {
                let (entry, content) = if directory {
                    (FileEntry::directory(path), Vec::new())
                } else {
                    (FileEntry::from_content(path, &content), content)
                };
                let mut entry = entry.with_revision(revision);
                entry.id = id.map(FileId::from_u128);
                (shape, entry, content, context)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_round_trips((shape, entry, content, context) in case()) {
        let encoded = encode_row(shape, &entry, &content, &context).unwrap();
        // Through JSON text, as the rows really travel.
        let text = serde_json::to_string(&encoded).unwrap();
        let parsed: Row = serde_json::from_str(&text).unwrap();
        let decoded = decode_row(&parsed, MismatchPolicy::Reject).unwrap();
        prop_assert_eq!(decoded.shape, shape);
        prop_assert_eq!(&decoded.issues, &Vec::<RowIssue>::new());
        prop_assert_eq!(&decoded.content, &content);
        let mut expected = entry.clone();
        if shape == RowShape::Editor {
            expected.revision = 0; // the editor has no version column
        }
        prop_assert_eq!(&decoded.entry, &expected);
        prop_assert_eq!(&decoded.context, &kept_by(shape, &context));
        prop_assert_eq!(decoded.sha256, hash_both(&content).1);
        // And a decoded row encodes back to the same row.
        let again = encode_row(shape, &decoded.entry, &decoded.content, &decoded.context).unwrap();
        prop_assert_eq!(again, parsed);
    }

    #[test]
    fn non_canonical_stored_paths_decode_to_the_canonical_entry(
        (shape, entry, content, context) in case(),
        prefix in prop::sample::select(vec!["/", "./", "//"]),
    ) {
        let mut encoded = encode_row(shape, &entry, &content, &context).unwrap();
        let column = if shape == RowShape::Editor { "path" } else { "file_path" };
        let stated = format!("{prefix}{}", entry.path);
        encoded.insert(column.into(), Value::from(stated.as_str()));
        let decoded = decode_row(&encoded, MismatchPolicy::Reject).unwrap();
        prop_assert_eq!(&decoded.entry.path, &entry.path);
        prop_assert_eq!(decoded.issues, vec![RowIssue::PathNormalised { column, stated }]);
    }

    #[test]
    fn decoding_arbitrary_rows_never_panics(
        columns in prop::collection::btree_map(
            prop::sample::select(vec![
                "path", "file_path", "content", "encoding", "is_binary", "is_directory", "type",
                "file_type", "file_size", "size_bytes", "checksum", "content_hash", "metadata",
                "id", "version", "directory_path", "file_name",
            ]),
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                "[a-zA-Z0-9+/=./ -]{0,12}".prop_map(Value::from),
                Just(json!({"encoding": "base64"})),
            ],
            0..8,
        ),
    ) {
        let row: Row = columns.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        for policy in [MismatchPolicy::Reject, MismatchPolicy::Report] {
            let _ = decode_row(&row, policy);
            for shape in [RowShape::Editor, RowShape::Rich, RowShape::Simple] {
                if let Ok(decoded) = shape.decode(&row, policy) {
                    prop_assert!(decoded.entry.matches_content(&decoded.content));
                }
            }
        }
    }
}

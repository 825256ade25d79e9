//! The shared conformance vectors (`conformance/vectors.json`): generated
//! here from core, read by the WASM package's tests and the C API's tests,
//! which must give byte-identical results (see `conformance/README.md`).
//!
//! `vectors_are_current` fails when core's behaviour and the committed file
//! disagree; after an intended change, rewrite the file with
//! `VELOCITY_SYNC_BLESS=1 cargo test -p velocity-sync --test conformance`
//! and review its diff.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};
use velocity_sync::hydrate::{self, HydrationOptions};
use velocity_sync::ot::{Bias, Side, Utf16Change};
use velocity_sync::protocol::{self, Bytes, ProtocolLimits};
use velocity_sync::rows::{self, MismatchPolicy, Row, RowContext, RowShape};
use velocity_sync::{
    BlobStore, Changeset, Diff, Error, FileEntry, FileId, FilePath, Manifest, MemoryBlobStore,
    TextOp, hash_both,
};

/// Format of the vectors file; bump when a case's shape changes meaning.
const FORMAT: u64 = 1;

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/vectors.json")
}

// ---------------------------------------------------------------------------
// The reference runner: each `fn` onto core's public API.
// ---------------------------------------------------------------------------

/// A case's outcome: its `ok` value, or its error code.
type Outcome = Result<Value, String>;

fn code(error: impl Into<Error>) -> String {
    error.into().code().to_owned()
}

fn arg<T: serde::de::DeserializeOwned>(args: &Value, name: &str) -> T {
    serde_json::from_value(args[name].clone())
        .unwrap_or_else(|e| panic!("argument {name} of {args}: {e}"))
}

fn op_arg(args: &Value, name: &str) -> TextOp {
    arg(args, name)
}

fn side(args: &Value) -> Side {
    match args["side"].as_str() {
        Some("left") => Side::Left,
        Some("right") => Side::Right,
        other => panic!("side must be left or right, not {other:?}"),
    }
}

fn bias(args: &Value) -> Bias {
    match args["bias"].as_str() {
        Some("before") => Bias::Before,
        Some("after") => Bias::After,
        other => panic!("bias must be before or after, not {other:?}"),
    }
}

/// `{"path": "text", …}` as a manifest (entries with ids derived from the
/// path) and the store holding its contents.
fn files_arg(args: &Value, name: &str) -> (Manifest, MemoryBlobStore) {
    let files: BTreeMap<String, String> = arg(args, name);
    let mut store = MemoryBlobStore::default();
    let mut entries = Vec::new();
    for (path, text) in files {
        let path = FilePath::parse(&path).unwrap();
        let mut entry = FileEntry::from_content(path.clone(), text.as_bytes());
        entry.id = Some(FileId::derive("conformance", path.as_str().as_bytes()));
        store.insert(text.into_bytes());
        entries.push(entry);
    }
    (Manifest::from_entries(entries).unwrap(), store)
}

fn to_value(value: impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap()
}

fn run(function: &str, args: &Value) -> Outcome {
    match function {
        "path.parse" => FilePath::parse(&arg::<String>(args, "path"))
            .map(to_value)
            .map_err(code),
        "path.parse_lenient" => FilePath::parse_lenient(&arg::<String>(args, "path"))
            .map(to_value)
            .map_err(code),
        "hash.of" => {
            let (blake3, sha256) = hash_both(arg::<String>(args, "text").as_bytes());
            Ok(json!({ "blake3": blake3, "sha256": sha256 }))
        }
        "op.from_json" => TextOp::from_json(&arg::<String>(args, "json"))
            .map(to_value)
            .map_err(code),
        "op.from_splice" => TextOp::from_splice(
            arg(args, "len"),
            arg(args, "pos"),
            arg(args, "deleted"),
            &arg::<String>(args, "inserted"),
        )
        .map(to_value)
        .map_err(code),
        "op.apply" => op_arg(args, "op")
            .apply(&arg::<String>(args, "text"))
            .map(to_value)
            .map_err(code),
        "op.compose" => op_arg(args, "a")
            .compose(&op_arg(args, "b"))
            .map(to_value)
            .map_err(code),
        "op.transform" => TextOp::transform(&op_arg(args, "a"), &op_arg(args, "b"), side(args))
            .map(|(a, b)| json!([a, b]))
            .map_err(code),
        "op.invert" => op_arg(args, "op")
            .invert(&arg::<String>(args, "text"))
            .map(to_value)
            .map_err(code),
        "op.transform_position" => Ok(to_value(
            op_arg(args, "op").transform_position(arg(args, "pos"), bias(args)),
        )),
        "op.from_utf16" => {
            let changes: Vec<Utf16Change> = arg(args, "changes");
            TextOp::from_utf16_changes(arg::<String>(args, "text").as_str(), &changes)
                .map(to_value)
                .map_err(code)
        }
        "op.to_utf16" => op_arg(args, "op")
            .to_utf16_changes(arg::<String>(args, "text").as_str())
            .map(to_value)
            .map_err(code),
        "op.diff" => Ok(to_value(TextOp::diff(
            &arg::<String>(args, "old"),
            &arg::<String>(args, "new"),
        ))),
        "manifest.id" => Ok(to_value(arg::<Manifest>(args, "manifest").id())),
        "manifest.diff" => Ok(to_value(
            arg::<Manifest>(args, "from").diff(&arg::<Manifest>(args, "to")),
        )),
        "manifest.apply" => arg::<Manifest>(args, "base")
            .apply(&arg::<Diff>(args, "diff"))
            .map(to_value)
            .map_err(code),
        "changeset.between" => {
            let (base, _) = files_arg(args, "base");
            let (target, store) = files_arg(args, "target");
            Changeset::between(&base, &target, &store)
                .map(|changeset| serde_json::from_slice(&changeset.to_json()).unwrap())
                .map_err(code)
        }
        "changeset.apply" => {
            let (base, mut store) = files_arg(args, "base");
            let changeset = match Changeset::from_json(arg::<String>(args, "json").as_bytes()) {
                Ok(changeset) => changeset,
                Err(e) => return Err(code(e)),
            };
            changeset
                .apply(&base, &mut store)
                .map_err(code)
                .map(|target| {
                    let files: BTreeMap<String, Bytes> = target
                        .entries()
                        .into_iter()
                        .map(|entry| {
                            let blob = store.get(&entry.hash).unwrap();
                            (entry.path.as_str().to_owned(), Bytes::new(blob))
                        })
                        .collect();
                    json!({ "manifest": target.id(), "files": files })
                })
        }
        "hydrate.plan" => {
            let manifest: Manifest = arg(args, "manifest");
            let have_entries: Vec<FileEntry> = arg(args, "have_entries");
            let have_blobs: Vec<velocity_sync::ContentHash> = arg(args, "have_blobs");
            let options = HydrationOptions {
                max_batch_bytes: arg(args, "max_batch_bytes"),
            };
            Ok(to_value(hydrate::plan(
                &manifest,
                |entry| have_entries.contains(entry),
                |hash| have_blobs.contains(hash),
                &options,
            )))
        }
        "rows.decode" => {
            let policy = match args["policy"].as_str() {
                Some("reject") => MismatchPolicy::Reject,
                Some("report") => MismatchPolicy::Report,
                other => panic!("policy must be reject or report, not {other:?}"),
            };
            rows::decode_row(&arg::<Row>(args, "row"), policy)
                .map(to_value)
                .map_err(code)
        }
        "rows.encode" => {
            let content: Bytes = arg(args, "content");
            rows::encode_row(
                arg::<RowShape>(args, "shape"),
                &arg::<FileEntry>(args, "entry"),
                content.as_slice(),
                &arg::<RowContext>(args, "context"),
            )
            .map(to_value)
            .map_err(code)
        }
        "protocol.client" => {
            protocol::decode_client(arg::<String>(args, "text").as_bytes(), &limits(args))
                .map(|message| serde_json::from_str(&message.to_json()).unwrap())
                .map_err(code)
        }
        "protocol.server" => {
            protocol::decode_server(arg::<String>(args, "text").as_bytes(), &limits(args))
                .map(|message| serde_json::from_str(&message.to_json()).unwrap())
                .map_err(code)
        }
        other => panic!("unknown conformance fn {other}"),
    }
}

/// The default limits but for `max_message_bytes`, which the protocol cases
/// set small so that they show the limit error cheaply.
fn limits(args: &Value) -> ProtocolLimits {
    ProtocolLimits {
        max_message_bytes: arg(args, "max_message_bytes"),
        ..ProtocolLimits::default()
    }
}

// ---------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------

struct Cases(Vec<(String, &'static str, Value)>);

impl Cases {
    fn add(&mut self, name: &str, function: &'static str, args: Value) {
        self.0.push((name.to_owned(), function, args));
    }
}

fn manifest_of(files: &[(&str, &str)]) -> Manifest {
    let entries = files.iter().map(|(path, text)| {
        let path = FilePath::parse(path).unwrap();
        let mut entry = FileEntry::from_content(path.clone(), text.as_bytes());
        entry.id = Some(FileId::derive("conformance", path.as_str().as_bytes()));
        entry
    });
    Manifest::from_entries(entries).unwrap()
}

fn cases() -> Cases {
    let mut c = Cases(Vec::new());
    path_cases(&mut c);
    op_cases(&mut c);
    utf16_cases(&mut c);
    manifest_cases(&mut c);
    changeset_cases(&mut c);
    hydrate_cases(&mut c);
    row_cases(&mut c);
    protocol_cases(&mut c);
    c
}

fn path_cases(c: &mut Cases) {
    for (name, path) in [
        ("plain", "src/App.tsx"),
        ("unicode nfc", "docs/caf\u{e9}.md"),
        ("unicode nfd", "docs/cafe\u{301}.md"),
        ("dot segment", "./src/a.ts"),
        ("parent segment", "../etc/passwd"),
        ("absolute", "/etc/passwd"),
        ("backslash", "src\\a.ts"),
        ("empty", ""),
        ("double slash", "src//a.ts"),
        ("trailing slash", "src/"),
        ("device name", "src/CON"),
        ("device name with extension", "nul.txt"),
        ("nul byte", "a\u{0}b"),
        ("control character", "a\u{1b}b"),
        ("trailing dot", "notes."),
        ("segment too long", &"x".repeat(300)),
        ("drive letter", "C:/Windows"),
    ] {
        c.add(
            &format!("path.parse {name}"),
            "path.parse",
            json!({ "path": path }),
        );
    }
    for (name, path) in [
        ("dot segments", "./src//a.ts"),
        ("windows separators", "src\\components\\App.tsx"),
        ("leading slash", "/src/main.ts"),
        ("escape", "src/../../x"),
    ] {
        c.add(
            &format!("path.parse_lenient {name}"),
            "path.parse_lenient",
            json!({ "path": path }),
        );
    }
    for (name, text) in [
        ("empty", ""),
        ("ascii", "hello"),
        ("crlf and astral", "h\u{e9}llo\r\n\u{1F600}"),
    ] {
        c.add(
            &format!("hash.of {name}"),
            "hash.of",
            json!({ "text": text }),
        );
    }
}

fn op_cases(c: &mut Cases) {
    for (name, text) in [
        ("canonical", r#"[5,"x",-2,3]"#),
        ("identity", "[4]"),
        ("empty list", "[]"),
        ("merges neighbours", r#"["a","b",1,1,-1,-1]"#),
        ("delete before insert is reordered", r#"[1,-2,"ab",3]"#),
        ("zero retain refused", r#"[0,"a",0]"#),
        ("fraction", "[1.5]"),
        ("not a list", "{}"),
        ("boolean", "[true]"),
        ("not json", "[5,"),
    ] {
        c.add(
            &format!("op.from_json {name}"),
            "op.from_json",
            json!({ "json": text }),
        );
    }
    for (name, len, pos, deleted, inserted) in [
        ("insert", 5, 5, 0, " world"),
        ("replace", 5, 1, 3, "ipp"),
        ("astral", 3, 1, 1, "\u{1F600}"),
        ("out of range", 3, 2, 2, ""),
        ("past the end", 3, 4, 0, "x"),
    ] {
        c.add(
            &format!("op.from_splice {name}"),
            "op.from_splice",
            json!({ "len": len, "pos": pos, "deleted": deleted, "inserted": inserted }),
        );
    }
    for (name, text, op) in [
        ("insert", "hello", json!([5, " world"])),
        ("delete crlf", "a\r\nb", json!([1, -2, 1])),
        ("astral counts one", "\u{1F600}x", json!([1, -1, "y"])),
        ("length mismatch", "abc", json!([2, "x"])),
        ("delete past end", "ab", json!([1, -2])),
    ] {
        c.add(
            &format!("op.apply {name}"),
            "op.apply",
            json!({ "text": text, "op": op }),
        );
    }
    for (name, a, b) in [
        ("sequential", json!([3, "ab"]), json!([1, -2, 2])),
        ("insert then delete it", json!([2, "xyz"]), json!([2, -3])),
        ("length mismatch", json!([3, "ab"]), json!([3])),
    ] {
        c.add(
            &format!("op.compose {name}"),
            "op.compose",
            json!({ "a": a, "b": b }),
        );
    }
    for (name, a, b, side) in [
        (
            "same spot left",
            json!([2, "a", 1]),
            json!([2, "b", 1]),
            "left",
        ),
        (
            "same spot right",
            json!([2, "a", 1]),
            json!([2, "b", 1]),
            "right",
        ),
        (
            "overlapping deletes",
            json!([1, -3, 1]),
            json!([2, -3]),
            "left",
        ),
        (
            "insert inside delete",
            json!([1, -3, 1]),
            json!([2, "zz", 3]),
            "left",
        ),
        ("base mismatch", json!([3]), json!([4]), "left"),
    ] {
        c.add(
            &format!("op.transform {name}"),
            "op.transform",
            json!({ "a": a, "b": b, "side": side }),
        );
    }
    for (name, text, op) in [
        ("insert", "hello", json!([5, "!"])),
        ("delete astral", "a\u{1F600}b", json!([1, -1, 1])),
        ("text too short", "ab", json!([3, "x"])),
    ] {
        c.add(
            &format!("op.invert {name}"),
            "op.invert",
            json!({ "text": text, "op": op }),
        );
    }
    for (name, op, pos, bias) in [
        ("insert at cursor, after", json!([2, "ab", 2]), 2, "after"),
        ("insert at cursor, before", json!([2, "ab", 2]), 2, "before"),
        ("delete around cursor", json!([1, -3, 1]), 3, "after"),
        ("past the end clamps", json!([2, "ab"]), 9, "after"),
    ] {
        c.add(
            &format!("op.transform_position {name}"),
            "op.transform_position",
            json!({ "op": op, "pos": pos, "bias": bias }),
        );
    }
    for (name, old, new) in [
        ("same", "abc", "abc"),
        ("line change", "a\nb\nc\n", "a\nB\nc\n"),
        ("crlf kept", "x\r\ny", "x\r\nz\r\ny"),
        ("astral", "\u{1F600}\u{1F601}", "\u{1F601}"),
        ("from empty", "", "new file\n"),
    ] {
        c.add(
            &format!("op.diff {name}"),
            "op.diff",
            json!({ "old": old, "new": new }),
        );
    }
}

fn utf16_cases(c: &mut Cases) {
    let emoji = "a\u{1F600}b";
    for (name, text, changes) in [
        (
            "after emoji",
            emoji,
            json!([{ "offset": 3, "deleted": 1, "text": "B" }]),
        ),
        (
            "two changes any order",
            "hello world",
            json!([
                { "offset": 6, "deleted": 5, "text": "there" },
                { "offset": 0, "deleted": 1, "text": "J" }
            ]),
        ),
        (
            "inside surrogate pair",
            emoji,
            json!([{ "offset": 2, "deleted": 0, "text": "x" }]),
        ),
        (
            "overlapping",
            "abcdef",
            json!([
                { "offset": 0, "deleted": 3, "text": "" },
                { "offset": 2, "deleted": 1, "text": "" }
            ]),
        ),
        (
            "out of range",
            "abc",
            json!([{ "offset": 2, "deleted": 5, "text": "" }]),
        ),
        (
            "crlf",
            "a\r\nb",
            json!([{ "offset": 1, "deleted": 2, "text": "\n" }]),
        ),
    ] {
        c.add(
            &format!("op.from_utf16 {name}"),
            "op.from_utf16",
            json!({ "text": text, "changes": changes }),
        );
    }
    for (name, text, op) in [
        ("replace after emoji", emoji, json!([2, -1, "B"])),
        ("two edits", "hello world", json!(["J", -1, 5, -5, "there"])),
        ("length mismatch", "abc", json!([2])),
    ] {
        c.add(
            &format!("op.to_utf16 {name}"),
            "op.to_utf16",
            json!({ "text": text, "op": op }),
        );
    }
}

fn manifest_cases(c: &mut Cases) {
    let base = manifest_of(&[
        ("package.json", "{\"name\":\"app\"}\n"),
        ("src/main.tsx", "import App from './App'\n"),
        ("src/App.tsx", "export default () => null\n"),
    ]);
    let mut exec = base.successor();
    let mut script = FileEntry::from_content(FilePath::parse("bin/run").unwrap(), b"#!/bin/sh\n");
    script.executable = true;
    exec.insert(script).unwrap();
    exec.insert(FileEntry::directory(FilePath::parse("public").unwrap()))
        .unwrap();
    c.add(
        "manifest.id empty",
        "manifest.id",
        json!({ "manifest": Manifest::new() }),
    );
    c.add(
        "manifest.id three files",
        "manifest.id",
        json!({ "manifest": base }),
    );
    c.add(
        "manifest.id executable and directory",
        "manifest.id",
        json!({ "manifest": exec }),
    );

    let mut target = base.successor();
    target
        .remove(&FilePath::parse("src/App.tsx").unwrap())
        .unwrap();
    let mut renamed = FileEntry::from_content(
        FilePath::parse("src/Root.tsx").unwrap(),
        b"export default () => null\n",
    );
    renamed.id = Some(FileId::derive("conformance", b"src/App.tsx"));
    target.insert(renamed).unwrap();
    let mut changed = FileEntry::from_content(
        FilePath::parse("package.json").unwrap(),
        b"{\"name\":\"app\",\"private\":true}\n",
    );
    changed.id = Some(FileId::derive("conformance", b"package.json"));
    changed.revision = 1;
    target.insert(changed).unwrap();
    target
        .insert(FileEntry::from_content(
            FilePath::parse("index.html").unwrap(),
            b"<div id=root></div>\n",
        ))
        .unwrap();
    let diff = base.diff(&target);
    c.add(
        "manifest.diff rename, modify, add",
        "manifest.diff",
        json!({ "from": base, "to": target }),
    );
    c.add(
        "manifest.diff nothing",
        "manifest.diff",
        json!({ "from": base, "to": base }),
    );
    c.add(
        "manifest.apply reaches the target",
        "manifest.apply",
        json!({ "base": base, "diff": diff }),
    );
    c.add(
        "manifest.apply on the wrong base",
        "manifest.apply",
        json!({ "base": target, "diff": diff }),
    );
}

fn changeset_cases(c: &mut Cases) {
    let base = json!({
        "src/a.ts": "export const a = 1\n".repeat(40),
        "README.md": "# app\n",
    });
    let target = json!({
        "src/a.ts": format!("{}export const b = 2\n", "export const a = 1\n".repeat(40)),
        "src/new.ts": "new\n",
    });
    c.add(
        "changeset.between delta, add, remove",
        "changeset.between",
        json!({ "base": base, "target": target }),
    );
    let (base_manifest, _) = files_arg(&json!({ "base": base }), "base");
    let (target_manifest, store) = files_arg(&json!({ "target": target }), "target");
    let changeset = Changeset::between(&base_manifest, &target_manifest, &store).unwrap();
    let text = String::from_utf8(changeset.to_json()).unwrap();
    c.add(
        "changeset.apply reaches the target",
        "changeset.apply",
        json!({ "base": base, "json": text }),
    );
    c.add(
        "changeset.apply on the wrong base",
        "changeset.apply",
        json!({ "base": { "other.txt": "x" }, "json": text }),
    );
    let mut damaged: Value = serde_json::from_str(&text).unwrap();
    damaged["format"] = json!(99);
    c.add(
        "changeset.apply unknown format",
        "changeset.apply",
        json!({ "base": base, "json": damaged.to_string() }),
    );
    c.add(
        "changeset.apply not json",
        "changeset.apply",
        json!({ "base": base, "json": "{\"format\":" }),
    );
    let tampered = text.replacen("export const b = 2", "export const b = 3", 1);
    c.add(
        "changeset.apply tampered content",
        "changeset.apply",
        json!({ "base": base, "json": tampered }),
    );
}

fn hydrate_cases(c: &mut Cases) {
    let big = "x".repeat(3000);
    let manifest = manifest_of(&[
        ("src/components/Button.tsx", "export const Button = 1\n"),
        ("package.json", "{}\n"),
        ("vite.config.ts", "export default {}\n"),
        ("index.html", "<div id=root></div>\n"),
        ("public/big.txt", &big),
        ("src/main.tsx", "main\n"),
    ]);
    let have = manifest
        .get(&FilePath::parse("vite.config.ts").unwrap())
        .unwrap();
    c.add(
        "hydrate.plan critical first, small batches",
        "hydrate.plan",
        json!({
            "manifest": manifest,
            "have_entries": [have],
            "have_blobs": [],
            "max_batch_bytes": 1024,
        }),
    );
    c.add(
        "hydrate.plan one batch",
        "hydrate.plan",
        json!({
            "manifest": manifest,
            "have_entries": [],
            "have_blobs": [velocity_sync::ContentHash::of(big.as_bytes())],
            "max_batch_bytes": 200 * 1024,
        }),
    );
}

fn row_cases(c: &mut Cases) {
    let project = "6f1c1a52-8f8a-4c53-9a52-2d4a8b0c9e10";
    let text = "export default function App() {}\n";
    let (_, sha) = hash_both(text.as_bytes());
    c.add(
        "rows.decode editor row",
        "rows.decode",
        json!({ "policy": "reject", "row": { "path": "src/App.tsx", "type": "tsx", "content": text } }),
    );
    let rich = json!({
        "id": "0b6f5f55-3f5c-4b59-8d5c-0d7a1c2b3e4f",
        "project_id": project,
        "file_path": "src/App.tsx",
        "file_name": "App.tsx",
        "directory_path": "src",
        "file_type": "tsx",
        "content": text,
        "file_size": text.len(),
        "content_hash": sha,
        "encoding": "utf-8",
        "is_binary": false,
        "version": 3,
        "created_by": "9a1e7a0e-0000-4000-8000-000000000001",
        "embedding": [0.25, -1.5],
    });
    c.add(
        "rows.decode rich row",
        "rows.decode",
        json!({ "policy": "reject", "row": rich }),
    );
    let mut wrong_size = rich.clone();
    wrong_size["file_size"] = json!(1);
    c.add(
        "rows.decode wrong size rejected",
        "rows.decode",
        json!({ "policy": "reject", "row": wrong_size }),
    );
    c.add(
        "rows.decode wrong size reported",
        "rows.decode",
        json!({ "policy": "report", "row": wrong_size }),
    );
    c.add(
        "rows.decode escaping path",
        "rows.decode",
        json!({ "policy": "reject", "row": { "path": "../x", "type": "text", "content": "" } }),
    );
    c.add(
        "rows.decode no path",
        "rows.decode",
        json!({ "policy": "reject", "row": { "content": "x" } }),
    );
    let entry = FileEntry::from_content(FilePath::parse("src/App.tsx").unwrap(), text.as_bytes());
    for (name, shape, context) in [
        ("editor", "editor", json!({})),
        (
            "rich",
            "rich",
            json!({ "project_id": project, "created_by": "9a1e7a0e-0000-4000-8000-000000000001" }),
        ),
        (
            "rich without created_by",
            "rich",
            json!({ "project_id": project }),
        ),
        ("simple", "simple", json!({ "project_id": project })),
    ] {
        c.add(
            &format!("rows.encode {name}"),
            "rows.encode",
            json!({ "shape": shape, "entry": entry, "content": { "text": text }, "context": context }),
        );
    }
}

fn protocol_cases(c: &mut Cases) {
    let file = FileId::derive("conformance", b"src/App.tsx");
    for (name, text) in [
        (
            "edit",
            json!({ "v": 1, "event": "file:update", "payload": { "id": file, "seq": 4, "base": 7, "op": [3, "x", 2] } })
                .to_string(),
        ),
        (
            "legacy file:update",
            json!({ "event": "file:update", "payload": { "path": "./src//App.tsx", "content": "x" } })
                .to_string(),
        ),
        ("not json", "{\"v\":1,".to_owned()),
        (
            "rename directory",
            json!({ "v": 1, "event": "file:rename", "payload": { "directory": "src/components", "to": "src/ui", "seq": 16 } })
                .to_string(),
        ),
        (
            "presence",
            json!({ "v": 1, "event": "presence", "payload": { "id": file, "rev": 10, "cursor": { "head": 42, "anchor": 37 } } })
                .to_string(),
        ),
        (
            "edit with a broken op",
            json!({ "v": 1, "event": "file:update", "payload": { "id": file, "seq": 4, "base": 7, "op": [3, 0] } })
                .to_string(),
        ),
        (
            "unknown event",
            json!({ "v": 1, "event": "file:explode", "payload": {} }).to_string(),
        ),
        (
            "future version",
            json!({ "v": 99, "event": "file:update", "payload": {} }).to_string(),
        ),
        (
            "oversized",
            json!({ "v": 1, "event": "file:update", "payload": { "pad": "x".repeat(5000) } })
                .to_string(),
        ),
        (
            "escaping path",
            json!({ "v": 1, "event": "file:create", "payload": { "seq": 1, "path": "../x", "content": { "text": "" } } })
                .to_string(),
        ),
    ] {
        c.add(
            &format!("protocol.client {name}"),
            "protocol.client",
            json!({ "text": text, "max_message_bytes": 4096 }),
        );
    }
    for (name, text) in [
        (
            "ack",
            json!({ "v": 1, "event": "ack", "payload": { "seq": 4, "rev": 8 } }).to_string(),
        ),
        (
            "missing version",
            json!({ "event": "ack", "payload": { "seq": 4 } }).to_string(),
        ),
        (
            "catch-up events",
            json!({ "v": 1, "event": "sync:catch-up", "payload": { "n": 45, "mode": "events", "events": [{ "n": 44, "kind": "text", "id": file, "rev": 10, "op": [12, "x"] }] } })
                .to_string(),
        ),
        (
            "error",
            json!({ "v": 1, "event": "error", "payload": { "code": "sync.read_only", "message": "read-only", "seq": 3 } })
                .to_string(),
        ),
    ] {
        c.add(
            &format!("protocol.server {name}"),
            "protocol.server",
            json!({ "text": text, "max_message_bytes": 4096 }),
        );
    }
}

// ---------------------------------------------------------------------------
// The file and the tests.
// ---------------------------------------------------------------------------

fn generate() -> String {
    let mut out = format!("{{\"format\":{FORMAT},\"cases\":[\n");
    let cases = cases();
    let mut names = std::collections::HashSet::new();
    for (i, (name, function, args)) in cases.0.iter().enumerate() {
        assert!(names.insert(name.clone()), "duplicate case name {name}");
        let mut case = serde_json::Map::new();
        case.insert("name".into(), json!(name));
        case.insert("fn".into(), json!(function));
        case.insert("args".into(), args.clone());
        match run(function, args) {
            Ok(value) => case.insert("ok".into(), value),
            Err(code) => case.insert("err".into(), json!(code)),
        };
        out.push_str(&Value::Object(case).to_string());
        out.push_str(if i + 1 == cases.0.len() { "\n" } else { ",\n" });
    }
    out.push_str("]}\n");
    out
}

#[test]
fn vectors_are_current() {
    let fresh = generate();
    let path = vectors_path();
    if std::env::var_os("VELOCITY_SYNC_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "conformance/vectors.json is stale: core's results changed. Review the change, then \
         rewrite it with VELOCITY_SYNC_BLESS=1 cargo test -p velocity-sync --test conformance"
    );
}

/// Reads the committed file as a binding would and replays every case
/// through core.
#[test]
fn committed_vectors_replay_through_core() {
    let text = std::fs::read_to_string(vectors_path()).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["format"], json!(FORMAT));
    let cases = file["cases"].as_array().unwrap();
    let (mut oks, mut errs) = (0, 0);
    for case in cases {
        let outcome = run(case["fn"].as_str().unwrap(), &case["args"]);
        match (&outcome, case.get("ok"), case.get("err")) {
            (Ok(value), Some(ok), None) => {
                assert_eq!(value.to_string(), ok.to_string(), "{}", case["name"]);
                oks += 1;
            }
            (Err(code), None, Some(err)) => {
                assert_eq!(json!(code), *err, "{}", case["name"]);
                errs += 1;
            }
            _ => panic!("{}: got {outcome:?}, vector says {case}", case["name"]),
        }
    }
    // The file exercises both outcomes of every area it covers.
    assert!(oks > 40 && errs > 20, "{oks} ok cases, {errs} error cases");
}

/// Every area a binding must cover has at least one success and one error
/// case, so a runner that only handles successes cannot pass.
#[test]
fn every_fn_family_has_cases_of_both_outcomes() {
    let mut seen: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for (_, function, args) in &cases().0 {
        let family = function.split('.').next().unwrap();
        let slot = seen.entry(family).or_default();
        match run(function, args) {
            Ok(_) => slot.0 = true,
            Err(_) => slot.1 = true,
        }
    }
    for family in ["path", "op", "manifest", "changeset", "rows", "protocol"] {
        assert_eq!(seen.get(family), Some(&(true, true)), "{family}");
    }
}

#[test]
fn decoded_rows_serialise_content_as_protocol_bytes() {
    let row: Row =
        serde_json::from_value(json!({ "path": "a.bin", "type": "binary", "content": "AAEC" }))
            .unwrap();
    let decoded = rows::decode_row(&row, MismatchPolicy::Reject).unwrap();
    let value = to_value(&decoded);
    assert_eq!(value["content"], json!({ "base64": "AAEC" }), "{value}");
    assert_eq!(decoded.content, vec![0, 1, 2]);
}

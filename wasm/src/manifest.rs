//! Paths, file entries, manifests and their diffs, as JSON (core's serde
//! forms: a manifest is `{"version", "parent"?, "entries": [FileEntry]}`).

use serde::Deserialize;
use velocity_sync::{Diff, FileEntry, FileId, FilePath, Manifest, ManifestId};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindResult, from_json, integer, to_json};

/// A manifest's JSON, read field by field so that a broken invariant keeps
/// core's `manifest.*` code instead of becoming a JSON error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    #[serde(default)]
    version: u64,
    #[serde(default)]
    parent: Option<ManifestId>,
    entries: Vec<FileEntry>,
}

/// Reads a manifest from its JSON.
pub(crate) fn manifest(json: &str) -> BindResult<Manifest> {
    let snapshot: Snapshot = from_json("manifest", json)?;
    Ok(Manifest::from_entries(snapshot.entries)?.with_header(snapshot.version, snapshot.parent))
}

/// Parses a project path strictly; returns its canonical form.
///
/// # Errors
/// `path.*` naming the rule and the byte offset.
#[wasm_bindgen(js_name = pathParse)]
pub fn path_parse(text: &str) -> BindResult<String> {
    Ok(FilePath::parse(text)?.as_str().to_owned())
}

/// Parses a path the way today's editor sends it (`/src//a.ts`) and returns
/// its canonical form.
///
/// # Errors
/// `path.*` for what even lenient parsing refuses.
#[wasm_bindgen(js_name = pathParseLenient)]
pub fn path_parse_lenient(text: &str) -> BindResult<String> {
    Ok(FilePath::parse_lenient(text)?.as_str().to_owned())
}

/// The entry describing `content` at `path` (kind, size, BLAKE3), with an
/// optional id and a revision, as JSON.
///
/// # Errors
/// `path.*`, `entry.bad_id`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = entryFromContent)]
pub fn entry_from_content(
    path: &str,
    content: &[u8],
    id: Option<String>,
    revision: f64,
) -> BindResult<String> {
    let mut entry = FileEntry::from_content(FilePath::parse(path)?, content)
        .with_revision(integer("revision", revision)?);
    if let Some(id) = id {
        entry = entry.with_id(FileId::parse(&id)?);
    }
    to_json(&entry)
}

/// The canonical JSON of a manifest (entries sorted, invariants checked).
///
/// # Errors
/// `manifest.*`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = manifestNormalize)]
pub fn manifest_normalize(json: &str) -> BindResult<String> {
    to_json(&manifest(json)?)
}

/// A manifest's id (BLAKE3 over its canonical encoding), lowercase hex.
///
/// # Errors
/// `manifest.*`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = manifestId)]
pub fn manifest_id(json: &str) -> BindResult<String> {
    Ok(manifest(json)?.id().to_string())
}

/// The sorted changes from manifest `a` to `b`, as a `Diff` JSON.
///
/// # Errors
/// `manifest.*`, `wasm.bad_argument`.
#[wasm_bindgen(js_name = manifestDiff)]
pub fn manifest_diff(a: &str, b: &str) -> BindResult<String> {
    to_json(&manifest(a)?.diff(&manifest(b)?))
}

/// Manifest `a` with `diff` applied, as JSON.
///
/// # Errors
/// `manifest.*` (the diff does not fit `a`), `wasm.bad_argument`.
#[wasm_bindgen(js_name = manifestApply)]
pub fn manifest_apply(a: &str, diff: &str) -> BindResult<String> {
    let diff: Diff = from_json("diff", diff)?;
    to_json(&manifest(a)?.apply(&diff)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_then_apply_gives_the_other_manifest() -> BindResult<()> {
        let a = format!(
            "{{\"entries\":[{}]}}",
            entry_from_content("a.ts", b"1", None, 0.0)?
        );
        let b = format!(
            "{{\"version\":1,\"entries\":[{},{}]}}",
            entry_from_content("a.ts", b"2", None, 1.0)?,
            entry_from_content("b.ts", b"3", None, 0.0)?
        );
        let diff = manifest_diff(&a, &b)?;
        let applied = manifest_apply(&a, &diff)?;
        let applied_entries = manifest(&applied)?.entries();
        assert_eq!(applied_entries, manifest(&b)?.entries());
        Ok(())
    }

    #[test]
    fn a_broken_invariant_keeps_its_code() -> BindResult<()> {
        let json = format!(
            "{{\"entries\":[{},{}]}}",
            entry_from_content("a", b"1", None, 0.0)?,
            entry_from_content("a/b", b"2", None, 0.0)?
        );
        let code = manifest_id(&json).err().map(|e| e.code());
        assert!(code.is_some_and(|c| c.starts_with("manifest.")), "{code:?}");
        Ok(())
    }
}

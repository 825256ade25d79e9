//! Contents, hashes, file ids and changesets. Byte contents cross as the
//! protocol's form, `{"text": …}` or `{"base64": …}` (core's `Bytes`).

use std::collections::BTreeMap;

use velocity_sync::protocol::Bytes;
use velocity_sync::{BlobStore, Changeset, FileId, MemoryBlobStore, hash_both};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindResult, from_json, to_json};
use crate::manifest::manifest;

/// BLAKE3 and SHA-256 of `content`, as `{"blake3": hex, "sha256": hex}`.
#[wasm_bindgen(js_name = hashOf)]
pub fn hash_of(content: &[u8]) -> String {
    let (blake3, sha256) = hash_both(content);
    // Both are lower-case hex, so nothing needs escaping.
    format!("{{\"blake3\":\"{blake3}\",\"sha256\":\"{sha256}\"}}")
}

/// A deterministic file id derived from `material` under `context`.
#[wasm_bindgen(js_name = fileIdDerive)]
pub fn file_id_derive(context: &str, material: &[u8]) -> String {
    FileId::derive(context, material).to_string()
}

/// A store holding `contents` (a JSON array of byte contents).
fn store(contents_json: &str) -> BindResult<MemoryBlobStore> {
    let contents: Vec<Bytes> = from_json("contents", contents_json)?;
    let mut store = MemoryBlobStore::default();
    for bytes in contents {
        store.insert(bytes.as_slice().to_vec());
    }
    Ok(store)
}

/// What a receiver holding `base` needs to reach `target` (manifests as
/// JSON); `contents` are the sender's byte contents. Returns the changeset's
/// JSON (format 1, `core/src/changeset.rs`).
///
/// # Errors
/// `changeset.sender_missing` when a content of `target` is not among
/// `contents`, `manifest.*`, `wasm.bad_argument`.
#[cfg(feature = "server")]
#[wasm_bindgen(js_name = changesetBetween)]
pub fn changeset_between(base: &str, target: &str, contents: &str) -> BindResult<String> {
    let store = store(contents)?;
    let changeset = Changeset::between(&manifest(base)?, &manifest(target)?, &store)?;
    Ok(String::from_utf8_lossy(&changeset.to_json()).into_owned())
}

/// Applies a changeset (its JSON) to `base`, whose contents the receiver
/// holds. Returns `{"manifest": Manifest, "files": {path: content}}`.
///
/// # Errors
/// `changeset.*` (wrong base, bad format, tampered content, …); nothing
/// changes then.
#[wasm_bindgen(js_name = changesetApply)]
pub fn changeset_apply(base: &str, contents: &str, changeset: &str) -> BindResult<String> {
    let base = manifest(base)?;
    let mut store = store(contents)?;
    let target = Changeset::from_json(changeset.as_bytes())?.apply(&base, &mut store)?;
    let mut files = BTreeMap::new();
    for entry in target.entries() {
        if let Some(blob) = store.get(&entry.hash) {
            files.insert(entry.path.as_str().to_owned(), Bytes::new(blob));
        }
    }
    let manifest_json = to_json(&target)?;
    Ok(format!(
        "{{\"manifest\":{manifest_json},\"files\":{}}}",
        to_json(&files)?
    ))
}

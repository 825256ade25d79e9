//! Loading the editing traces in `<repo>/../shared/traces`.
#![allow(dead_code)]

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One editing trace (see `shared/traces/README.md`).
#[derive(Debug, Deserialize)]
pub struct Trace {
    #[serde(rename = "startContent", default)]
    pub start_content: String,
    #[serde(rename = "endContent")]
    pub end_content: String,
    pub txns: Vec<Txn>,
}

/// One transaction: patches `(pos, deleted, inserted)` in code points.
#[derive(Debug, Deserialize)]
pub struct Txn {
    #[serde(default)]
    pub parents: Vec<usize>,
    #[serde(default)]
    pub agent: usize,
    pub patches: Vec<(usize, usize, String)>,
}

/// The shared traces folder, or a panic that says where it was looked for.
pub fn traces_dir() -> PathBuf {
    // `VELOCITY_SYNC_TRACES` points elsewhere when the checkout has no
    // `../shared` beside it.
    let dir = std::env::var_os("VELOCITY_SYNC_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces"));
    assert!(
        dir.join("sequential").is_dir(),
        "editing traces not found at {}: the shared/traces folder (sequential/*.json.gz, \
         concurrent/*.json.gz) must sit next to the repository checkout",
        dir.display()
    );
    dir
}

/// Every sequential trace, by name.
pub fn sequential() -> Vec<(String, Trace)> {
    let dir = traces_dir().join("sequential");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no .json.gz traces in {}", dir.display());
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().trim_end_matches(".json.gz").to_owned())
                .unwrap_or_default();
            (name, load(&p))
        })
        .collect()
}

/// The concurrent `friendsforever` trace.
pub fn concurrent() -> Trace {
    load(&traces_dir().join("concurrent/friendsforever.json.gz"))
}

pub fn load(path: &Path) -> Trace {
    let file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .unwrap_or_else(|e| panic!("cannot gunzip {}: {e}", path.display()));
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

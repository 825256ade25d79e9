//! A project as its last checkpoint left it: `project_files` rows plus the
//! header stored beside them (manifest version, parent id, executable file
//! ids), turned back into a [`Manifest`] and its contents. Every store reads
//! its rows its own way and hands them here, so each loads a project alike.
//!
//! ```
//! use velocity_sync::rows::{CheckpointHeader, load_checkpoint};
//! use velocity_sync::ManifestLimits;
//! # fn main() -> Result<(), velocity_sync::rows::CheckpointError> {
//! let header = CheckpointHeader { version: 3, parent: None, executable_ids: "[]" };
//! let loaded = load_checkpoint(ManifestLimits::default(), &header, Vec::new())?;
//! assert_eq!(loaded.manifest.version(), 3);
//! assert!(loaded.manifest.entries().is_empty());
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;

use crate::blob::{BlobStore, MemoryBlobStore};
use crate::entry::{FileEntry, FileId};
use crate::manifest::{Manifest, ManifestError, ManifestId, ManifestLimits};
use crate::path::FilePath;

use super::{DecodedRow, RowError, RowIssue};

/// What a store keeps beside a project's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointHeader<'a> {
    /// The manifest version at the checkpoint.
    pub version: u64,
    /// The manifest id it descends from, as hex; `None` for the first.
    pub parent: Option<&'a str>,
    /// The ids of executable files, as a JSON list of file ids.
    pub executable_ids: &'a str,
}

/// A checkpoint loaded back.
#[derive(Debug, Clone)]
pub struct LoadedCheckpoint {
    /// The manifest, with the header's version and parent.
    pub manifest: Manifest,
    /// Every row's content.
    pub blobs: MemoryBlobStore,
    /// What rows said that their decoder did not believe, by path (the
    /// store logs them; the decoded values are used).
    pub issues: Vec<(FilePath, RowIssue)>,
}

/// Why a checkpoint does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The executable ids are not a JSON list of file ids.
    #[error("executable ids {text:?} are not a JSON list of file ids: {reason}")]
    BadExecutableIds {
        /// What was stored.
        text: String,
        /// What the JSON decoder said.
        reason: String,
    },
    /// The parent is not a manifest id.
    #[error("manifest parent {text:?} is not a manifest id")]
    BadParent {
        /// What was stored.
        text: String,
    },
    /// The rows do not form a manifest (two rows at one path, a limit).
    #[error("rows do not form a manifest: {0}")]
    Manifest(#[from] ManifestError),
    /// A row its codec refused.
    #[error("row: {0}")]
    Row(#[from] RowError),
}

impl CheckpointError {
    /// The stable code: `checkpoint.bad_executable_ids`,
    /// `checkpoint.bad_parent`, or the manifest's or row's own code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadExecutableIds { .. } => "checkpoint.bad_executable_ids",
            Self::BadParent { .. } => "checkpoint.bad_parent",
            Self::Manifest(error) => error.code(),
            Self::Row(error) => error.code(),
        }
    }
}

/// Loads a checkpoint from `header` and its decoded `rows`.
///
/// # Errors
/// [`CheckpointError`] naming what does not read; nothing is half loaded.
pub fn load_checkpoint(
    limits: ManifestLimits,
    header: &CheckpointHeader<'_>,
    rows: impl IntoIterator<Item = Result<DecodedRow, RowError>>,
) -> Result<LoadedCheckpoint, CheckpointError> {
    let executable: Vec<FileId> = serde_json::from_str(header.executable_ids).map_err(|error| {
        CheckpointError::BadExecutableIds {
            text: header.executable_ids.to_owned(),
            reason: error.to_string(),
        }
    })?;
    let parent = header
        .parent
        .map(|text| {
            ManifestId::from_hex(text).map_err(|_| CheckpointError::BadParent {
                text: text.to_owned(),
            })
        })
        .transpose()?;
    let mut blobs = MemoryBlobStore::default();
    let mut entries = Vec::new();
    let mut issues = Vec::new();
    for decoded in rows {
        let decoded = decoded?;
        issues.extend(
            decoded
                .issues
                .into_iter()
                .map(|issue| (decoded.entry.path.clone(), issue)),
        );
        blobs.insert(decoded.content);
        let mut entry = decoded.entry;
        entry.executable = entry.id.is_some_and(|id| executable.contains(&id));
        entries.push(entry);
    }
    let mut manifest = Manifest::with_limits(limits);
    manifest.extend(entries)?;
    Ok(LoadedCheckpoint {
        manifest: manifest.with_header(header.version, parent),
        blobs,
        issues,
    })
}

/// The entries a checkpoint wrote, by file id: what the next checkpoint
/// compares against to write only the rows that changed.
#[must_use]
pub fn written_entries(manifest: &Manifest) -> HashMap<FileId, FileEntry> {
    manifest
        .entries()
        .into_iter()
        .filter_map(|entry| entry.id.map(|id| (id, entry)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::rows::{MismatchPolicy, decode_row};

    fn header(executable_ids: &str) -> CheckpointHeader<'_> {
        CheckpointHeader {
            version: 7,
            parent: None,
            executable_ids,
        }
    }

    fn row(id: u128, path: &str, content: &str) -> serde_json::Value {
        serde_json::json!({
            "id": uuid::Uuid::from_u128(id).to_string(),
            "file_path": path,
            "content": content,
        })
    }

    fn decode(value: &serde_json::Value) -> Result<DecodedRow, RowError> {
        let row = value.as_object().cloned().unwrap_or_default();
        decode_row(&row, MismatchPolicy::Report)
    }

    #[test]
    fn rows_become_the_manifest_with_the_header_and_executable_bits() {
        let id = FileId::parse(&uuid::Uuid::from_u128(1).to_string()).unwrap();
        let rows = [row(1, "run.sh", "echo"), row(2, "a.txt", "a")];
        let executable = serde_json::to_string(&[id]).unwrap();
        let loaded = load_checkpoint(
            ManifestLimits::default(),
            &header(&executable),
            rows.iter().map(decode),
        )
        .unwrap();
        assert_eq!(loaded.manifest.version(), 7);
        let entries = loaded.manifest.entries();
        assert_eq!(entries.len(), 2);
        let run = entries
            .iter()
            .find(|e| e.path.as_str() == "run.sh")
            .unwrap();
        assert!(run.executable);
        assert!(loaded.blobs.has(&run.hash));
        assert_eq!(written_entries(&loaded.manifest).len(), 2);
    }

    #[test]
    fn a_bad_header_is_refused_with_its_code() {
        let error =
            load_checkpoint(ManifestLimits::default(), &header("{"), Vec::new()).unwrap_err();
        assert_eq!(error.code(), "checkpoint.bad_executable_ids");
        let bad_parent = CheckpointHeader {
            parent: Some("zz"),
            ..header("[]")
        };
        let error =
            load_checkpoint(ManifestLimits::default(), &bad_parent, Vec::new()).unwrap_err();
        assert_eq!(error.code(), "checkpoint.bad_parent");
        assert!(error.to_string().contains("\"zz\""));
    }

    #[test]
    fn rows_past_the_manifest_limits_are_refused() {
        let rows = [row(1, "a.txt", "a"), row(2, "b.txt", "b")];
        let one_file = ManifestLimits {
            max_files: 1,
            ..ManifestLimits::default()
        };
        let error = load_checkpoint(one_file, &header("[]"), rows.iter().map(decode)).unwrap_err();
        assert!(matches!(error, CheckpointError::Manifest(_)), "{error}");
    }
}

//! The server's side: which entries and contents a client lacks, packed
//! into `file:bulk-update` batches under a byte limit.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{HydrateError, HydrationOptions, MIN_BATCH_BYTES, Progress, priority};
use crate::blob::{Blob, BlobStore};
use crate::entry::{FileEntry, FileKind};
use crate::hash::ContentHash;
use crate::manifest::{Manifest, ManifestId};
use crate::protocol::bulk::{
    BulkUpdate, ContentRef, PlannedFile, WireBlob, WireChunk, WireContent, base64_len,
};

/// What one batch carries, before content is filled in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlannedBatch {
    /// Entries announced in this batch.
    pub files: Vec<PlannedFile>,
    /// Whole contents in this batch.
    pub blobs: Vec<ContentHash>,
    /// Chunk `(hash, offset, len)` of a large content.
    pub chunks: Vec<(ContentHash, u64, u64)>,
    /// Exact JSON size of the materialised batch.
    pub wire_bytes: usize,
}

/// Everything the client lacks, in batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HydrationPlan {
    /// The manifest the client reaches when every batch is applied.
    pub target: ManifestId,
    /// The files to send, in priority order.
    pub files: Vec<FileEntry>,
    /// The batches, in sending order.
    pub batches: Vec<PlannedBatch>,
    /// Content bytes the batches carry (each content once).
    pub content_bytes: u64,
}

/// Exact JSON length of `value` (serialisation of plain data cannot fail).
fn json_len<T: Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
}

/// Plans the hydration of `manifest` for a client. `client_has_entry` says
/// whether the client already holds an entry exactly (same path, hash and
/// revision: it is skipped); `client_has_blob` whether it holds a content
/// (the entry is announced but its content not sent). The plan only uses
/// sizes and hashes; [`HydrationPlan::materialize`] reads the contents.
pub fn plan(
    manifest: &Manifest,
    client_has_entry: impl Fn(&FileEntry) -> bool,
    client_has_blob: impl Fn(&ContentHash) -> bool,
    options: &HydrationOptions,
) -> HydrationPlan {
    let limit = options.max_batch_bytes.max(MIN_BATCH_BYTES);
    let mut files: Vec<FileEntry> = manifest
        .entries()
        .into_iter()
        .filter(|entry| !client_has_entry(entry))
        .collect();
    crate::sort::sort_by(&mut files, |a, b| {
        (priority(&a.path), a.path.depth(), &a.path).cmp(&(
            priority(&b.path),
            b.path.depth(),
            &b.path,
        ))
    });

    let target = manifest.id();
    let envelope = json_len(&BulkUpdate {
        manifest: target,
        batch: u32::MAX,
        of: u32::MAX,
        files: Vec::new(),
        blobs: Vec::new(),
        chunks: Vec::new(),
    }) + json_len(&"blobs")
        + json_len(&"chunks")
        + 8;
    let mut batches: Vec<PlannedBatch> = Vec::new();
    let mut current = PlannedBatch {
        wire_bytes: envelope,
        ..PlannedBatch::default()
    };
    let mut scheduled: HashSet<ContentHash> = HashSet::new();
    let mut content_bytes = 0u64;
    // Every hash serialises to the same length.
    let hash_cost = json_len(&ContentHash::of(b""));

    for entry in &files {
        let needs_content = entry.kind.has_content()
            && !client_has_blob(&entry.hash)
            && scheduled.insert(entry.hash);
        let inline_cost = if entry.kind == FileKind::Text {
            // Text travels as a JSON string; its exact escaped size is only
            // known from the bytes, so plan with base64's bound, which is
            // never smaller than a string of printable text... except for
            // control characters. `materialize` re-checks with the bytes.
            base64_len(entry.size as usize).max(entry.size as usize + 2)
        } else {
            base64_len(entry.size as usize)
        } + hash_cost
            + 24;
        let file_cost = |content: ContentRef| {
            json_len(&PlannedFile {
                entry: entry.clone(),
                content,
            }) + 1
        };
        if needs_content {
            content_bytes += entry.size;
        }
        let inline_file_cost = file_cost(ContentRef::Inline);
        let fits_inline = envelope + inline_file_cost + inline_cost <= limit;
        if needs_content && fits_inline {
            let cost = inline_file_cost + inline_cost;
            if current.wire_bytes + cost > limit {
                batches.push(std::mem::replace(
                    &mut current,
                    PlannedBatch {
                        wire_bytes: envelope,
                        ..PlannedBatch::default()
                    },
                ));
            }
            current.files.push(PlannedFile {
                entry: entry.clone(),
                content: ContentRef::Inline,
            });
            current.blobs.push(entry.hash);
            current.wire_bytes += cost;
        } else if needs_content {
            // Announce the entry, then send its content in chunks that each
            // fill what is left of a batch.
            let cost = file_cost(ContentRef::Chunked);
            if current.wire_bytes + cost > limit {
                batches.push(std::mem::take(&mut current));
                current.wire_bytes = envelope;
            }
            current.files.push(PlannedFile {
                entry: entry.clone(),
                content: ContentRef::Chunked,
            });
            current.wire_bytes += cost;
            let chunk_overhead = json_len(&WireChunk {
                hash: entry.hash,
                size: entry.size,
                offset: entry.size,
                content: WireContent::Base64(String::new()),
            }) + 1;
            let mut offset = 0u64;
            while offset < entry.size {
                let room = limit.saturating_sub(current.wire_bytes + chunk_overhead);
                let len = ((room / 4) * 3).min((entry.size - offset) as usize) as u64;
                if len < 1024.min(entry.size - offset) {
                    batches.push(std::mem::take(&mut current));
                    current.wire_bytes = envelope;
                    continue;
                }
                current.chunks.push((entry.hash, offset, len));
                current.wire_bytes += chunk_overhead + base64_len(len as usize);
                offset += len;
            }
        } else {
            let cost = file_cost(ContentRef::Known);
            if current.wire_bytes + cost > limit {
                batches.push(std::mem::take(&mut current));
                current.wire_bytes = envelope;
            }
            current.files.push(PlannedFile {
                entry: entry.clone(),
                content: ContentRef::Known,
            });
            current.wire_bytes += cost;
        }
    }
    if !current.files.is_empty() || !current.chunks.is_empty() {
        batches.push(current);
    }
    HydrationPlan {
        target,
        files,
        batches,
        content_bytes,
    }
}

impl HydrationPlan {
    /// The totals a [`Hydrator`](super::Hydrator) counts progress against.
    pub fn progress_total(&self) -> Progress {
        Progress {
            files_done: 0,
            files_total: self.files.len() as u64,
            bytes_done: 0,
            bytes_total: self.content_bytes,
        }
    }

    /// Fills batch `index` with content from the server's `store`.
    ///
    /// # Errors
    /// [`HydrateError::NoSuchBatch`], or [`BlobError::Missing`](crate::BlobError::Missing) when the
    /// store lacks a content the plan sends.
    pub fn materialize(
        &self,
        index: usize,
        store: &impl BlobStore,
    ) -> Result<BulkUpdate, HydrateError> {
        let planned = self.batches.get(index).ok_or(HydrateError::NoSuchBatch {
            index,
            count: self.batches.len(),
        })?;
        let mut blobs = Vec::with_capacity(planned.blobs.len());
        for hash in &planned.blobs {
            // Shared, not copied: encoded when the message is serialised.
            blobs.push(WireBlob {
                hash: *hash,
                content: WireContent::Bytes(store.require(hash)?),
            });
        }
        let mut chunks = Vec::with_capacity(planned.chunks.len());
        for &(hash, offset, len) in &planned.chunks {
            let bytes = store.require(&hash)?;
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let end = usize::try_from(offset + len)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            chunks.push(WireChunk {
                hash,
                size: bytes.len() as u64,
                offset,
                // Encoded (or attached raw) when the message is serialised.
                content: WireContent::Bytes(Blob::from(&bytes[start..end])),
            });
        }
        Ok(BulkUpdate {
            manifest: self.target,
            batch: u32::try_from(index).unwrap_or(u32::MAX),
            of: u32::try_from(self.batches.len()).unwrap_or(u32::MAX),
            files: planned.files.clone(),
            blobs,
            chunks,
        })
    }
}

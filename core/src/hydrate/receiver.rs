//! The client's side: verifies and stores the contents of each batch,
//! assembles chunks, and says which files are ready to write.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;

use super::{HydrateError, Progress, priority};
use crate::blob::{Blob, BlobError, BlobStore, Verified};
use crate::entry::FileEntry;
use crate::hash::ContentHash;
use crate::path::FilePath;
use crate::protocol::bulk::{BulkUpdate, WireChunk, WireContent};

/// `bytes` checked against `hash`; a mismatch is the hydration's
/// [`HydrateError::HashMismatch`].
fn check(hash: ContentHash, bytes: Blob) -> Result<Verified, HydrateError> {
    Verified::check(hash, bytes).map_err(|error| match error {
        BlobError::HashMismatch { expected, actual } => {
            HydrateError::HashMismatch { expected, actual }
        }
        other => HydrateError::Store(other),
    })
}

/// A file whose content is now complete in the client's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The entry to write.
    pub entry: FileEntry,
}

/// The client's side of hydration: verifies and stores content, assembles
/// chunks, and says which files are ready to write. Receiving a batch twice
/// is harmless.
#[derive(Debug, Clone)]
pub struct Hydrator {
    progress: Progress,
    /// Files announced whose content is not complete yet, by content hash.
    waiting: HashMap<ContentHash, Vec<FileEntry>>,
    /// Partly received large contents.
    partial: HashMap<ContentHash, Partial>,
    /// Files already reported ready (path and hash), for idempotence.
    done: HashSet<(FilePath, ContentHash)>,
    max_content_bytes: u64,
}

#[derive(Debug, Clone)]
struct Partial {
    bytes: Vec<u8>,
    received: u64,
    seen: HashSet<u64>,
}

impl Hydrator {
    /// A hydrator expecting `total` (from [`HydrationPlan::progress_total`](super::HydrationPlan::progress_total),
    /// or announced by the server).
    pub fn new(total: Progress) -> Self {
        Self {
            progress: Progress {
                files_done: 0,
                bytes_done: 0,
                ..total
            },
            waiting: HashMap::new(),
            partial: HashMap::new(),
            done: HashSet::new(),
            max_content_bytes: crate::ManifestLimits::default().max_file_bytes,
        }
    }

    /// Sets the largest content accepted (default: the default manifest limit per file).
    #[must_use]
    pub fn with_max_content_bytes(mut self, limit: u64) -> Self {
        self.max_content_bytes = limit;
        self
    }

    /// Files and bytes done so far.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// Takes one batch: stores verified content in `store` and returns the
    /// files that became ready, in the batch's order.
    ///
    /// # Errors
    /// A [`HydrateError`] for content that does not verify; the batch's other
    /// verified content is kept (it is content-addressed, so never wrong).
    pub fn receive(
        &mut self,
        batch: &BulkUpdate,
        store: &mut impl BlobStore,
    ) -> Result<Vec<Ready>, HydrateError> {
        let engine = &base64::engine::general_purpose::STANDARD;
        for file in &batch.files {
            let key = (file.entry.path.clone(), file.entry.hash);
            if !self.done.contains(&key) {
                let list = self.waiting.entry(file.entry.hash).or_default();
                if !list.contains(&file.entry) {
                    list.push(file.entry.clone());
                }
            }
        }
        let mut first_error = None;
        for blob in &batch.blobs {
            let checked: Result<Verified, HydrateError> = match &blob.content {
                WireContent::Text(text) => check(blob.hash, Arc::from(text.as_bytes())),
                WireContent::Base64(encoded) => engine
                    .decode(encoded)
                    .map_err(|_| HydrateError::BadBase64 { hash: blob.hash })
                    .and_then(|bytes| check(blob.hash, bytes.into())),
                WireContent::Bytes(bytes) => check(blob.hash, bytes.clone()),
                WireContent::Verified(content) if content.hash() == blob.hash => {
                    Ok(content.clone())
                }
                WireContent::Verified(content) => Err(HydrateError::HashMismatch {
                    expected: blob.hash,
                    actual: content.hash(),
                }),
                WireContent::Attached(_) => Err(HydrateError::Detached { hash: blob.hash }),
            };
            let limit = self.max_content_bytes;
            let stored = checked
                .and_then(|content| {
                    let size = content.bytes().len() as u64;
                    if size > limit {
                        return Err(HydrateError::TooLarge {
                            hash: blob.hash,
                            size,
                            limit,
                        });
                    }
                    Ok(content)
                })
                .map(|content| self.store_content(content, store));
            if let Err(error) = stored {
                first_error.get_or_insert(error);
            }
        }
        for chunk in &batch.chunks {
            if let Err(error) = self.receive_chunk(chunk, store) {
                first_error.get_or_insert(error);
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        Ok(self.collect_ready(store))
    }

    fn store_content(&mut self, content: Verified, store: &mut impl BlobStore) {
        if store.has(&content.hash()) {
            return;
        }
        self.progress.bytes_done += content.bytes().len() as u64;
        store.put_verified(content);
    }

    fn receive_chunk(
        &mut self,
        chunk: &WireChunk,
        store: &mut impl BlobStore,
    ) -> Result<(), HydrateError> {
        let hash = chunk.hash;
        if store.has(&hash) {
            return Ok(());
        }
        if chunk.size > self.max_content_bytes {
            return Err(HydrateError::TooLarge {
                hash,
                size: chunk.size,
                limit: self.max_content_bytes,
            });
        }
        let decoded;
        let piece: &[u8] = match &chunk.content {
            WireContent::Base64(encoded) => {
                decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| HydrateError::BadBase64 { hash })?;
                &decoded
            }
            WireContent::Bytes(bytes) => bytes,
            WireContent::Verified(content) => content.bytes(),
            WireContent::Text(text) => text.as_bytes(),
            WireContent::Attached(_) => return Err(HydrateError::Detached { hash }),
        };
        let bad = || HydrateError::BadChunk {
            hash,
            offset: chunk.offset,
            len: piece.len() as u64,
            size: chunk.size,
        };
        let end = chunk
            .offset
            .checked_add(piece.len() as u64)
            .ok_or_else(bad)?;
        if end > chunk.size || piece.is_empty() {
            return Err(bad());
        }
        let size = usize::try_from(chunk.size).map_err(|_| bad())?;
        let partial = self.partial.entry(hash).or_insert_with(|| Partial {
            bytes: vec![0; size],
            received: 0,
            seen: HashSet::new(),
        });
        if partial.bytes.len() != size {
            return Err(bad());
        }
        if partial.seen.insert(chunk.offset) {
            let start = usize::try_from(chunk.offset).map_err(|_| bad())?;
            partial.bytes[start..start + piece.len()].copy_from_slice(piece);
            partial.received += piece.len() as u64;
        }
        if partial.received >= chunk.size {
            let complete = self
                .partial
                .remove(&hash)
                .map(|p| p.bytes)
                .unwrap_or_default();
            self.store_content(check(hash, complete.into())?, store);
        }
        Ok(())
    }

    fn collect_ready(&mut self, store: &impl BlobStore) -> Vec<Ready> {
        let complete: Vec<ContentHash> = self
            .waiting
            .keys()
            .filter(|hash| store.has(hash) || **hash == ContentHash::of(b""))
            .copied()
            .collect();
        let mut ready = Vec::new();
        for hash in complete {
            for entry in self.waiting.remove(&hash).unwrap_or_default() {
                if self.done.insert((entry.path.clone(), entry.hash)) {
                    self.progress.files_done += 1;
                    ready.push(Ready { entry });
                }
            }
        }
        crate::sort::sort_by(&mut ready, |a, b| {
            (priority(&a.entry.path), &a.entry.path).cmp(&(priority(&b.entry.path), &b.entry.path))
        });
        ready
    }
}

//! Hydration: bringing a participant from what it has (maybe nothing) to
//! the server's manifest, in `file:bulk-update` batches.
//!
//! The server plans ([`plan`]): every entry the client lacks, ordered so the
//! files a dev server needs come first ([`priority`]: `package.json` and
//! lockfiles, then `index.html` and build configs, then entry modules, then
//! the rest), packed into batches whose JSON stays under a byte limit (sized
//! for a realtime message), each content sent once however many files share
//! it, and a file larger than a batch split into chunks. The client feeds
//! the batches to a [`Hydrator`], which verifies and assembles content and
//! reports progress. After an interruption the client says what it has, and
//! a new plan sends only what is missing.
//!
//! ```
//! use velocity_sync::hydrate::{plan, HydrationOptions, Hydrator};
//! use velocity_sync::{BlobStore, FileEntry, FilePath, Manifest, MemoryBlobStore};
//! # fn main() -> Result<(), velocity_sync::Error> {
//! let mut store = MemoryBlobStore::default();
//! let mut manifest = Manifest::new();
//! for (path, text) in [("src/App.tsx", "export {}"), ("package.json", "{}"), ("README.md", "hi")] {
//!     store.insert(text.as_bytes().to_vec());
//!     manifest.insert(FileEntry::from_content(FilePath::parse(path)?, text.as_bytes()))?;
//! }
//!
//! // The server: everything, critical files first, nothing the client has.
//! let plan = plan(&manifest, |_| false, |_| false, &HydrationOptions::default());
//! assert_eq!(plan.files[0].path.as_str(), "package.json");
//!
//! // The client: apply batches as they come; progress is observable.
//! let mut hydrator = Hydrator::new(plan.progress_total());
//! let mut client_store = MemoryBlobStore::default();
//! for index in 0..plan.batches.len() {
//!     let batch = plan.materialize(index, &store)?;
//!     for ready in hydrator.receive(&batch, &mut client_store)? {
//!         // write `ready.entry` with `client_store.get(&ready.entry.hash)` to disk
//!     }
//! }
//! assert!(hydrator.progress().is_complete());
//! # Ok(())
//! # }
//! ```

mod planner;
mod priority;
mod receiver;

use serde::{Deserialize, Serialize};

use crate::blob::BlobError;
use crate::hash::ContentHash;

pub use self::planner::{HydrationPlan, PlannedBatch, plan};
pub use self::priority::{Priority, priority};
pub use self::receiver::{Hydrator, Ready};

/// Why a hydration batch could not be built or received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HydrateError {
    /// A batch index past the end of the plan.
    #[error("batch {index} does not exist (the plan has {count})")]
    NoSuchBatch {
        /// The index asked for.
        index: usize,
        /// Batches in the plan.
        count: usize,
    },
    /// Base64 content that does not decode.
    #[error("content of {hash} in the batch has invalid base64")]
    BadBase64 {
        /// The content's hash.
        hash: ContentHash,
    },
    /// A chunk that does not fit the content it belongs to.
    #[error("chunk of {hash} at {offset} ({len} bytes) does not fit its {size}-byte content")]
    BadChunk {
        /// The content's hash.
        hash: ContentHash,
        /// The chunk's offset.
        offset: u64,
        /// The chunk's length.
        len: u64,
        /// The content's size.
        size: u64,
    },
    /// Assembled content that does not hash to its address.
    #[error("content received as {expected} hashes to {actual}")]
    HashMismatch {
        /// The hash it was sent under.
        expected: ContentHash,
        /// The hash of the bytes.
        actual: ContentHash,
    },
    /// Content that names an attachment no binary frame resolved.
    #[error("content of {hash} is an attachment outside a binary frame")]
    Detached {
        /// The content's hash.
        hash: ContentHash,
    },
    /// A content larger than the hydrator accepts (whole, or as its chunks
    /// declare).
    #[error("content {hash} declares {size} bytes; the limit is {limit}")]
    TooLarge {
        /// The content's hash.
        hash: ContentHash,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The server's store lacks a blob the plan needs.
    #[error(transparent)]
    Store(#[from] BlobError),
}

impl HydrateError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchBatch { .. } => "hydrate.no_such_batch",
            Self::BadBase64 { .. } => "hydrate.bad_base64",
            Self::BadChunk { .. } => "hydrate.bad_chunk",
            Self::Detached { .. } => "hydrate.detached",
            Self::HashMismatch { .. } => "hydrate.hash_mismatch",
            Self::TooLarge { .. } => "hydrate.too_large",
            Self::Store(inner) => inner.code(),
        }
    }
}

/// How a plan is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HydrationOptions {
    /// Upper bound on one batch's JSON, in bytes. The default, 200 KiB,
    /// leaves room for the envelope under Supabase Realtime's 256 KB
    /// broadcast limit.
    pub max_batch_bytes: usize,
}

impl Default for HydrationOptions {
    fn default() -> Self {
        Self {
            max_batch_bytes: 200 * 1024,
        }
    }
}

/// Smallest `max_batch_bytes` a plan honours (room for one entry and a chunk).
pub const MIN_BATCH_BYTES: usize = 4 * 1024;

/// Files and bytes done of total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Files whose content is complete.
    pub files_done: u64,
    /// Files in the plan.
    pub files_total: u64,
    /// Content bytes received.
    pub bytes_done: u64,
    /// Content bytes the plan carries.
    pub bytes_total: u64,
}

impl Progress {
    /// Whether every file is done.
    pub fn is_complete(&self) -> bool {
        self.files_done >= self.files_total && self.bytes_done >= self.bytes_total
    }

    /// Done, as a fraction of the bytes (or files when there are no bytes).
    pub fn fraction(&self) -> f64 {
        if self.bytes_total > 0 {
            self.bytes_done as f64 / self.bytes_total as f64
        } else if self.files_total > 0 {
            self.files_done as f64 / self.files_total as f64
        } else {
            1.0
        }
    }
}

#[cfg(test)]
mod tests;

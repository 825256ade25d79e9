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

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::entry::{FileEntry, FileId, FileKind};
use crate::hash::ContentHash;
use crate::manifest::{Manifest, ManifestId};
use crate::path::FilePath;
use crate::store::{Blob, BlobStore, StoreError, Verified};

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
    Store(#[from] StoreError),
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

/// How early a file is needed: lower is earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// `package.json`, lockfiles, `.npmrc`/`.nvmrc`: what `npm install` reads.
    Install,
    /// `index.html`, bundler/framework/TypeScript/CSS configs, `.env` files:
    /// what the dev server reads at start.
    Config,
    /// Entry modules (`src/main.tsx`, `app/layout.tsx`, `pages/_app.tsx`, …).
    Entry,
    /// Sources, styles and public assets.
    Source,
    /// Everything else.
    Rest,
}

/// The [`Priority`] of a path, from its name alone (documented table in the
/// variants).
pub fn priority(path: &FilePath) -> Priority {
    let name = path.file_name();
    let depth = path.depth();
    let stem = name.split('.').next().unwrap_or(name);
    let top = depth == 1;
    if top
        && matches!(
            name,
            "package.json"
                | "package-lock.json"
                | "npm-shrinkwrap.json"
                | "yarn.lock"
                | "pnpm-lock.yaml"
                | "pnpm-workspace.yaml"
                | "bun.lockb"
                | "bun.lock"
                | ".npmrc"
                | ".nvmrc"
                | ".yarnrc.yml"
        )
    {
        return Priority::Install;
    }
    let config_stems = [
        "vite", "next", "nuxt", "svelte", "astro", "remix", "webpack", "rollup", "postcss",
        "tailwind", "babel", "vitest", "tsconfig", "jsconfig",
    ];
    if top
        && (name == "index.html"
            || name.starts_with(".env")
            || name.starts_with("tsconfig")
            || config_stems.contains(&stem) && name.contains(".config.")
            || name == "jsconfig.json"
            || name == ".babelrc")
    {
        return Priority::Config;
    }
    let parent = path.parent();
    let parent = parent.as_ref().map_or("", FilePath::as_str);
    let entry_dirs = ["src", "app", "pages", "src/app", "src/pages", "src/routes"];
    let entry_stems = [
        "main",
        "index",
        "App",
        "app",
        "layout",
        "page",
        "_app",
        "_document",
        "root",
        "+layout",
        "+page",
    ];
    let script = matches!(
        path.extension(),
        Some("ts" | "tsx" | "js" | "jsx" | "mjs" | "cjs" | "vue" | "svelte" | "astro")
    );
    if script && entry_dirs.contains(&parent) && entry_stems.contains(&stem) {
        return Priority::Entry;
    }
    let first = path.segments().next().unwrap_or("");
    if matches!(
        first,
        "src" | "app" | "pages" | "public" | "components" | "lib" | "styles" | "assets"
    ) {
        return Priority::Source;
    }
    Priority::Rest
}

/// How one file travels in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentRef {
    /// The content is in this batch's `blobs`.
    Inline,
    /// The content comes in chunks (this batch and the next ones).
    Chunked,
    /// The content was sent earlier in this plan, or the client has it.
    Known,
}

/// A file of a batch and where its content is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PlannedFileWire")]
pub struct PlannedFile {
    /// The entry as the server holds it.
    #[serde(flatten)]
    pub entry: FileEntry,
    /// Where its content comes from.
    pub content: ContentRef,
}

/// A [`PlannedFile`] as read: the entry's fields and `content`, flat (see
/// `crate::wire` for why `flatten` is not derived).
#[derive(Deserialize)]
struct PlannedFileWire {
    #[serde(default)]
    id: Option<FileId>,
    path: FilePath,
    kind: FileKind,
    size: u64,
    hash: ContentHash,
    #[serde(default)]
    executable: bool,
    #[serde(default)]
    revision: u64,
    content: ContentRef,
}

impl From<PlannedFileWire> for PlannedFile {
    fn from(wire: PlannedFileWire) -> Self {
        Self {
            entry: FileEntry {
                id: wire.id,
                path: wire.path,
                kind: wire.kind,
                size: wire.size,
                hash: wire.hash,
                executable: wire.executable,
                revision: wire.revision,
            },
            content: wire.content,
        }
    }
}

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

/// One `file:bulk-update` batch as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkUpdate {
    /// The manifest being hydrated.
    pub manifest: ManifestId,
    /// This batch's index.
    pub batch: u32,
    /// How many batches the plan has.
    pub of: u32,
    /// Entries and where their content is.
    pub files: Vec<PlannedFile>,
    /// Whole contents: text as is, binary in base64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blobs: Vec<WireBlob>,
    /// Pieces of large contents, base64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<WireChunk>,
}

impl BulkUpdate {
    /// Hashes each whole content that came raw (a binary frame's) and marks
    /// the ones that match their hash [`WireContent::Verified`], so
    /// [`Hydrator::receive`] stores them without hashing again. Call it
    /// where hashing costs least: the thread that decoded the batch, while
    /// the one that owns the store writes the previous batch. Contents that
    /// do not match stay as they were, for `receive` to refuse.
    pub fn verify_contents(&mut self) {
        for blob in &mut self.blobs {
            if let WireContent::Bytes(bytes) = &blob.content
                && let Ok(content) = Verified::check(blob.hash, bytes.clone())
            {
                blob.content = WireContent::Verified(content);
            }
        }
    }
}

/// A whole content in a batch: `{"hash", "text"}` for text (UTF-8 without
/// NUL, when that is no longer than base64), `{"hash", "base64"}` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "WireBlobIn")]
pub struct WireBlob {
    /// Its hash.
    pub hash: ContentHash,
    /// The content, as it came or as it will go.
    pub content: WireContent,
}

/// The content of a [`WireBlob`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireContent {
    /// Received as text.
    Text(String),
    /// Received in base64 (decoded, and checked, when the batch is applied).
    Base64(String),
    /// The store's own bytes, shared: a server's batches carry these, and
    /// the choice of text or base64 (and the encoding) happens only when the
    /// message is serialised, so a server can send its first batch before it
    /// has encoded the others. In a binary frame they travel raw, as
    /// attachments (see [`ServerMessage::to_binary`]).
    ///
    /// [`ServerMessage::to_binary`]: crate::protocol::ServerMessage::to_binary
    Bytes(Blob),
    /// Bytes already checked against the blob's hash
    /// ([`BulkUpdate::verify_contents`]), stored without hashing again.
    /// Never read from the wire; sent like [`Bytes`](WireContent::Bytes).
    Verified(Verified),
    /// `{"attached": len}`: the next `len` bytes of a binary frame's
    /// attachments; [`decode_server_binary`] resolves it to [`Bytes`], and
    /// anywhere else it is refused.
    ///
    /// [`decode_server_binary`]: crate::protocol::decode_server_binary
    /// [`Bytes`]: WireContent::Bytes
    Attached(u64),
}

/// A [`WireBlob`] as read: exactly one of `text`, `base64` and `attached`.
#[derive(Deserialize)]
struct WireBlobIn {
    hash: ContentHash,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    base64: Option<String>,
    #[serde(default)]
    attached: Option<u64>,
}

impl TryFrom<WireBlobIn> for WireBlob {
    type Error = &'static str;

    fn try_from(wire: WireBlobIn) -> Result<Self, Self::Error> {
        let content = match (wire.text, wire.base64, wire.attached) {
            (Some(text), None, None) => WireContent::Text(text),
            (None, Some(base64), None) => WireContent::Base64(base64),
            (None, None, Some(len)) => WireContent::Attached(len),
            _ => return Err("a blob carries exactly one of `text`, `base64` and `attached`"),
        };
        Ok(Self {
            hash: wire.hash,
            content,
        })
    }
}

impl Serialize for WireBlob {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = serializer.serialize_struct("WireBlob", 2)?;
        out.serialize_field("hash", &self.hash)?;
        match &self.content {
            WireContent::Text(text) => out.serialize_field("text", text)?,
            WireContent::Base64(base64) => out.serialize_field("base64", base64)?,
            WireContent::Bytes(bytes) => serialize_bytes(&mut out, bytes)?,
            WireContent::Verified(content) => serialize_bytes(&mut out, content.bytes())?,
            WireContent::Attached(len) => out.serialize_field("attached", len)?,
        }
        out.end()
    }
}

/// Raw bytes in a blob: attached to a binary frame being written, else as
/// text when they are (and that is no longer), else base64.
fn serialize_bytes<S: serde::ser::SerializeStruct>(
    out: &mut S,
    bytes: &Blob,
) -> Result<(), S::Error> {
    if !crate::protocol::frame::attaching()
        && let Some(text) = sendable_text(bytes)
    {
        return out.serialize_field("text", text);
    }
    serialize_piece(out, bytes)
}

/// `bytes` as the text to send, when they are text as `FileKind::classify`
/// says (UTF-8 without NUL) and the escaped JSON string is no longer than
/// base64 would be; checked in one UTF-8 pass.
fn sendable_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok().filter(|text| {
        !text.contains('\0')
            && json_string_len(text.as_bytes()) <= base64_len(bytes.len()).max(bytes.len() + 2)
    })
}

/// A piece of a large content: `{"hash", "size", "offset", "base64"}`, or
/// `"attached"` instead of `"base64"` in a binary frame.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "WireChunkIn")]
pub struct WireChunk {
    /// The whole content's hash.
    pub hash: ContentHash,
    /// The whole content's size.
    pub size: u64,
    /// Where this piece starts.
    pub offset: u64,
    /// The piece: [`WireContent::Base64`] as read from JSON,
    /// [`WireContent::Bytes`] as a server materialises it or a binary frame
    /// delivers it (never [`WireContent::Text`]: a piece may cut a
    /// character).
    pub content: WireContent,
}

/// A [`WireChunk`] as read: exactly one of `base64` and `attached`.
#[derive(Deserialize)]
struct WireChunkIn {
    hash: ContentHash,
    size: u64,
    offset: u64,
    #[serde(default)]
    base64: Option<String>,
    #[serde(default)]
    attached: Option<u64>,
}

impl TryFrom<WireChunkIn> for WireChunk {
    type Error = &'static str;

    fn try_from(wire: WireChunkIn) -> Result<Self, Self::Error> {
        let content = match (wire.base64, wire.attached) {
            (Some(base64), None) => WireContent::Base64(base64),
            (None, Some(len)) => WireContent::Attached(len),
            _ => return Err("a chunk carries exactly one of `base64` and `attached`"),
        };
        Ok(Self {
            hash: wire.hash,
            size: wire.size,
            offset: wire.offset,
            content,
        })
    }
}

impl Serialize for WireChunk {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = serializer.serialize_struct("WireChunk", 4)?;
        out.serialize_field("hash", &self.hash)?;
        out.serialize_field("size", &self.size)?;
        out.serialize_field("offset", &self.offset)?;
        match &self.content {
            WireContent::Base64(base64) => out.serialize_field("base64", base64)?,
            WireContent::Attached(len) => out.serialize_field("attached", len)?,
            WireContent::Text(text) => out.serialize_field(
                "base64",
                &base64::engine::general_purpose::STANDARD.encode(text),
            )?,
            WireContent::Bytes(bytes) => serialize_piece(&mut out, bytes)?,
            WireContent::Verified(content) => serialize_piece(&mut out, content.bytes())?,
        }
        out.end()
    }
}

/// Raw bytes in a chunk (or a blob that is not sent as text): attached to a
/// binary frame being written, else base64 (a piece may cut a character).
fn serialize_piece<S: serde::ser::SerializeStruct>(
    out: &mut S,
    bytes: &Blob,
) -> Result<(), S::Error> {
    match crate::protocol::frame::attach(bytes) {
        Some(len) => out.serialize_field("attached", &len),
        None => out.serialize_field(
            "base64",
            &base64::engine::general_purpose::STANDARD.encode(bytes),
        ),
    }
}

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

/// JSON length of `bytes` as a JSON string (quotes included), assuming text.
fn json_string_len(bytes: &[u8]) -> usize {
    2 + bytes
        .iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

fn base64_len(len: usize) -> usize {
    len.div_ceil(3) * 4
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
    /// The totals a [`Hydrator`] counts progress against.
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
    /// [`HydrateError::NoSuchBatch`], or [`StoreError::Missing`] when the
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

/// `bytes` checked against `hash`; a mismatch is the hydration's
/// [`HydrateError::HashMismatch`].
fn check(hash: ContentHash, bytes: Blob) -> Result<Verified, HydrateError> {
    Verified::check(hash, bytes).map_err(|error| match error {
        StoreError::HashMismatch { expected, actual } => {
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
    /// A hydrator expecting `total` (from [`HydrationPlan::progress_total`],
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

#[cfg(test)]
mod tests;

//! `file:bulk-update`: one hydration batch as it travels, text or binary
//! frame (see [`frame`](super::frame)). The server plans batches with
//! [`hydrate::plan`](crate::hydrate::plan); a client feeds them to a
//! [`Hydrator`](crate::hydrate::Hydrator).

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::blob::{Blob, Verified};
use crate::entry::{FileEntry, FileId, FileKind};
use crate::hash::ContentHash;
use crate::manifest::ManifestId;
use crate::path::FilePath;

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
    /// [`Hydrator::receive`](crate::hydrate::Hydrator::receive) stores them without hashing again. Call it
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

/// JSON length of `bytes` as a JSON string (quotes included), assuming text.
pub(crate) fn json_string_len(bytes: &[u8]) -> usize {
    2 + bytes
        .iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

pub(crate) fn base64_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

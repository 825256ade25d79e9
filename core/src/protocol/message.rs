//! The messages of the wire protocol, one type per event and direction.

use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::BulkUpdate;
use crate::TextOp;
use crate::blob::Blob;
use crate::changeset::Changeset;
use crate::entry::{FileId, FileKind};
use crate::hash::ContentHash;
use crate::manifest::ManifestId;
use crate::ot::ClientId;
use crate::path::FilePath;
use crate::wire::{MissingField, required};

/// File bytes on the wire: `{"text": "…"}` for text (valid UTF-8 without
/// NUL), `{"base64": "…"}` for everything else. Byte-exact either way.
#[derive(Clone, PartialEq, Eq)]
pub struct Bytes(pub Blob);

impl Bytes {
    /// Wraps bytes.
    pub fn new(bytes: impl Into<Blob>) -> Self {
        Self(bytes.into())
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBytes<'a> {
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    text: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let wire = match std::str::from_utf8(&self.0) {
            Ok(text) if FileKind::classify(&self.0) == FileKind::Text => WireBytes {
                text: Some(text.into()),
                base64: None,
            },
            _ => WireBytes {
                text: None,
                base64: Some(base64::engine::general_purpose::STANDARD.encode(&self.0)),
            },
        };
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireBytes::deserialize(deserializer)?;
        match (wire.text, wire.base64) {
            (Some(text), None) => Ok(Self(Arc::from(text.as_bytes()))),
            (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(|bytes| Self(bytes.into()))
                .map_err(|_| serde::de::Error::custom("content has invalid base64")),
            _ => Err(serde::de::Error::custom(
                "content needs exactly one of \"text\" or \"base64\"",
            )),
        }
    }
}

/// What a `file:update` changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// A text operation in ot.js's compact JSON form.
    Op(TextOp),
    /// The whole new content (binary files; or a text file replaced whole,
    /// which the server turns into an op).
    Content(Bytes),
}

/// A participant's cursor and selection in a text file, in Unicode scalar
/// values at a revision. Ephemeral: never stored, never in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Where the caret is.
    pub head: u64,
    /// The other end of the selection (equal to `head` when none).
    pub anchor: u64,
}

// ---------------------------------------------------------------- client → server

/// `sync:hello`: who I am and what I hold. Sent on every (re)connect; the
/// server answers with `sync:catch-up`. The role comes from the connection's
/// token, never from this message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// The client's id, stable across reconnects of one session (so resent
    /// edits keep their sequence numbers). At most 2^53 − 1, as JavaScript
    /// numbers are exact only that far.
    pub client: ClientId,
    /// The last event number applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    /// The manifest the client holds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ManifestId>,
    /// Contents the client holds (for a snapshot to skip), bounded by the
    /// message size limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub have: Vec<ContentHash>,
    /// Whether the client reads binary frames: a `file:bulk-update` may then
    /// come as one, its contents raw (see [`frame`](super::frame)).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
}

/// `file:update` from a client: an edit of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRequest {
    /// The file.
    pub id: FileId,
    /// The client's sequence number for this file (text) or project (content).
    pub seq: u64,
    /// The file revision the edit is based on.
    pub base: u64,
    /// The edit.
    #[serde(flatten)]
    pub edit: Edit,
}

/// Today's editor's `file:update`: `{path, content}`, accepted as a
/// whole-content update (diffed into an op against the current text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyUpdate {
    /// The path, leniently parsed (`/src/a.ts` is fine).
    pub path: FilePath,
    /// The whole new text.
    pub content: String,
}

/// `file:create` from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    /// The new file's id (chosen by the client).
    pub id: FileId,
    /// Where it goes.
    pub path: FilePath,
    /// The client's project sequence number.
    pub seq: u64,
    /// An explicit empty directory instead of a file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub directory: bool,
    /// The POSIX executable bit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub executable: bool,
    /// Its content (absent for directories).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Bytes>,
}

/// `file:delete` from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteRequest {
    /// The file.
    pub id: FileId,
    /// The client's project sequence number.
    pub seq: u64,
}

/// `file:rename` from a client: moves one entry, or with `directory` every
/// entry below a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    /// The entry to move (for a single entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FileId>,
    /// The directory to move (for a folder rename).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<FilePath>,
    /// The new path.
    pub to: FilePath,
    /// The client's project sequence number.
    pub seq: u64,
}

/// `presence` from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceRequest {
    /// The file.
    pub id: FileId,
    /// The revision the positions refer to.
    pub rev: u64,
    /// The cursor, or none to leave the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Everything a client may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `sync:hello`.
    Hello(Hello),
    /// `file:update`.
    Update(UpdateRequest),
    /// `file:update` in today's `{path, content}` shape.
    LegacyUpdate(LegacyUpdate),
    /// `file:create`.
    Create(CreateRequest),
    /// `file:delete`.
    Delete(DeleteRequest),
    /// `file:rename`.
    Rename(RenameRequest),
    /// `presence`.
    Presence(PresenceRequest),
}

// ---------------------------------------------------------------- server → client

/// A change the server applied, with its place in the project's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EventWire")]
pub struct Event {
    /// The event number: every participant applies events in this order.
    pub n: u64,
    /// The client whose request caused it (none for server-side changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientId>,
    /// That client's sequence number, so it can take this as its ack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The change.
    #[serde(flatten)]
    pub change: EventChange,
}

/// What an [`Event`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventChange {
    /// A text file's op, at a new file revision (the manifest is unchanged
    /// until the next checkpoint).
    Text {
        /// The file.
        id: FileId,
        /// Its revision after the op.
        rev: u64,
        /// The op, transformed to apply on revision `rev - 1`.
        op: TextOp,
    },
    /// A new manifest version: entries added, replaced, moved or removed.
    Tree {
        /// The manifest id after the change (every participant checks it).
        manifest: ManifestId,
        /// The changes, with whole entries.
        changes: Vec<crate::manifest::Change>,
        /// New contents the changes need, by hash.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        contents: Vec<(ContentHash, Bytes)>,
    },
    /// Text files' revisions and hashes written into a new manifest version.
    Checkpoint {
        /// The manifest id after the checkpoint.
        manifest: ManifestId,
        /// The files checkpointed.
        files: Vec<CheckpointFile>,
    },
}

/// One file of a checkpoint: its revision, size and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointFile {
    /// The file.
    pub id: FileId,
    /// The revision checkpointed.
    pub rev: u64,
    /// Content bytes at that revision.
    pub size: u64,
    /// BLAKE3 of the content at that revision.
    pub hash: ContentHash,
}

/// `ack`: the server applied (or had already applied) a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The request's sequence number.
    pub seq: u64,
    /// The file, for text edits (their sequence numbers are per file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FileId>,
    /// The event that carried the change (none when it changed nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    /// The file's revision after a text edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<u64>,
}

/// `error`: a request was refused; nothing it asked for was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// The stable code (the crate's error codes, or `sync.*`).
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The refused request's sequence number, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The file it concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FileId>,
}

/// `sync:catch-up`: how the client gets from what it said it holds to event `n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CatchUpWire")]
pub struct CatchUp {
    /// The last event the catch-up covers.
    pub n: u64,
    /// For each text file this client has edited: the last of its sequence
    /// numbers the server applied, so it can drop what is already in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<(FileId, u64)>,
    /// The rung of the ladder.
    #[serde(flatten)]
    pub rung: Rung,
}

/// The catch-up ladder, cheapest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Rung {
    /// The events the client missed, still in the server's log.
    Events {
        /// The events, in order.
        events: Vec<Event>,
    },
    /// A changeset from the client's manifest to the server's, plus every
    /// text file's revision in the new manifest.
    Changeset {
        /// The changeset.
        changeset: Box<Changeset>,
        /// Each text file's revision and size (its entry's revision).
        texts: Vec<(FileId, u64)>,
    },
    /// Start over: the manifest arrives as `file:bulk-update` batches.
    Snapshot {
        /// The manifest the batches build.
        manifest: ManifestId,
        /// Its version.
        version: u64,
        /// Its parent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<ManifestId>,
        /// How many batches follow.
        batches: u32,
        /// Files in the manifest.
        files: u64,
        /// Content bytes the batches carry.
        bytes: u64,
    },
}

// ------------------------------------------------- reading the flattened ones

/// The tag of an [`EventChange`].
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EventKind {
    Text,
    Tree,
    Checkpoint,
}

/// An [`Event`] as read: its fields and every change kind's, flat (see
/// `crate::wire` for why `flatten` is not derived).
#[derive(Deserialize)]
struct EventWire {
    n: u64,
    client: Option<ClientId>,
    seq: Option<u64>,
    kind: EventKind,
    id: Option<FileId>,
    rev: Option<u64>,
    op: Option<TextOp>,
    manifest: Option<ManifestId>,
    changes: Option<Vec<crate::manifest::Change>>,
    #[serde(default)]
    contents: Vec<(ContentHash, Bytes)>,
    files: Option<Vec<CheckpointFile>>,
}

impl TryFrom<EventWire> for Event {
    type Error = MissingField;

    fn try_from(wire: EventWire) -> Result<Self, MissingField> {
        let change = match wire.kind {
            EventKind::Text => EventChange::Text {
                id: required(wire.id, "id")?,
                rev: required(wire.rev, "rev")?,
                op: required(wire.op, "op")?,
            },
            EventKind::Tree => EventChange::Tree {
                manifest: required(wire.manifest, "manifest")?,
                changes: required(wire.changes, "changes")?,
                contents: wire.contents,
            },
            EventKind::Checkpoint => EventChange::Checkpoint {
                manifest: required(wire.manifest, "manifest")?,
                files: required(wire.files, "files")?,
            },
        };
        Ok(Self {
            n: wire.n,
            client: wire.client,
            seq: wire.seq,
            change,
        })
    }
}

/// The tag of a [`Rung`].
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RungMode {
    Events,
    Changeset,
    Snapshot,
}

/// A [`CatchUp`] as read: its fields and every rung's, flat.
#[derive(Deserialize)]
struct CatchUpWire {
    n: u64,
    #[serde(default)]
    applied: Vec<(FileId, u64)>,
    mode: RungMode,
    events: Option<Vec<Event>>,
    changeset: Option<Box<Changeset>>,
    texts: Option<Vec<(FileId, u64)>>,
    manifest: Option<ManifestId>,
    version: Option<u64>,
    parent: Option<ManifestId>,
    batches: Option<u32>,
    files: Option<u64>,
    bytes: Option<u64>,
}

impl TryFrom<CatchUpWire> for CatchUp {
    type Error = MissingField;

    fn try_from(wire: CatchUpWire) -> Result<Self, MissingField> {
        let rung = match wire.mode {
            RungMode::Events => Rung::Events {
                events: required(wire.events, "events")?,
            },
            RungMode::Changeset => Rung::Changeset {
                changeset: required(wire.changeset, "changeset")?,
                texts: required(wire.texts, "texts")?,
            },
            RungMode::Snapshot => Rung::Snapshot {
                manifest: required(wire.manifest, "manifest")?,
                version: required(wire.version, "version")?,
                parent: wire.parent,
                batches: required(wire.batches, "batches")?,
                files: required(wire.files, "files")?,
                bytes: required(wire.bytes, "bytes")?,
            },
        };
        Ok(Self {
            n: wire.n,
            applied: wire.applied,
            rung,
        })
    }
}

/// `presence` from the server: another participant's cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceEvent {
    /// Whose cursor.
    pub client: ClientId,
    /// The file.
    pub id: FileId,
    /// The revision the positions refer to.
    pub rev: u64,
    /// The cursor, or none when it left the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// `resync-required`: the server cannot place the client's state; it must
/// say `sync:hello` again without its manifest (a snapshot follows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResyncRequired {
    /// Why.
    pub reason: String,
}

/// Everything a server may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// `file:update`, `file:create`, `file:delete`, `file:rename` or
    /// `file:checkpoint`: an event of the project's log.
    Event(Event),
    /// `ack`.
    Ack(Ack),
    /// `error`.
    Error(ErrorMessage),
    /// `sync:catch-up`.
    CatchUp(CatchUp),
    /// `file:bulk-update`: a hydration batch.
    BulkUpdate(BulkUpdate),
    /// `presence`.
    Presence(PresenceEvent),
    /// `resync-required`.
    ResyncRequired(ResyncRequired),
}

impl Event {
    /// The event name it travels under.
    pub fn name(&self) -> &'static str {
        match &self.change {
            EventChange::Text { .. } => "file:update",
            EventChange::Checkpoint { .. } => "file:checkpoint",
            EventChange::Tree { changes, .. } => tree_event_name(changes),
        }
    }
}

/// The platform's event name for a tree change: the name of its first change.
fn tree_event_name(changes: &[crate::manifest::Change]) -> &'static str {
    use crate::manifest::Change;
    match changes.first() {
        Some(Change::Added { .. }) if changes.len() == 1 => "file:create",
        Some(Change::Removed { .. })
            if changes.iter().all(|c| matches!(c, Change::Removed { .. })) =>
        {
            "file:delete"
        }
        Some(Change::Renamed { .. })
            if changes.iter().all(|c| matches!(c, Change::Renamed { .. })) =>
        {
            "file:rename"
        }
        _ => "file:update",
    }
}

//! [`ProjectClient`]: a participant's side of the protocol, for the editor
//! and the container agent alike.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::blob::{BlobStore, MemoryBlobStore};
use crate::entry::{FileEntry, FileId, FileKind};
use crate::hash::ContentHash;
use crate::hydrate::{Hydrator, Progress};
use crate::manifest::{Change, Manifest, ManifestId};
use crate::ot::{Bias, ClientId, LiveText, Side, Utf16Change};
use crate::path::FilePath;
use crate::protocol::{
    Ack, Bytes, CatchUp, ClientMessage, CreateRequest, Cursor, DeleteRequest, Edit, Event,
    EventChange, Hello, PresenceEvent, PresenceRequest, RenameRequest, Rung, ServerMessage,
    UpdateRequest,
};
use crate::{TextClient, TextOp};

/// What a [`ProjectClient`] applied, for the UI or the disk writer.
///
/// Its JSON form (for the bindings) is tagged by `event`:
/// `{"event":"synced","n":3}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ClientEvent {
    /// A file appeared (read its content with [`ProjectClient::content`]).
    Created {
        /// Its entry.
        entry: FileEntry,
    },
    /// A text file changed by this op (in Unicode scalar values), applied to
    /// the local text.
    Edited {
        /// The file.
        id: FileId,
        /// Where it is.
        path: FilePath,
        /// The op.
        op: TextOp,
    },
    /// A file's whole content was replaced.
    Replaced {
        /// Its new entry.
        entry: FileEntry,
    },
    /// A file moved.
    Renamed {
        /// Its entry before.
        old: FileEntry,
        /// Its entry after.
        new: FileEntry,
    },
    /// A file is gone.
    Removed {
        /// Its last entry.
        entry: FileEntry,
    },
    /// Hydration made progress.
    Hydrating {
        /// Files and bytes done of total.
        progress: Progress,
    },
    /// The client holds the server's state up to this event.
    Synced {
        /// The event number.
        n: u64,
    },
    /// The server refused a request of this client.
    Rejected {
        /// The stable code.
        code: String,
        /// The server's message.
        message: String,
        /// The file concerned, if any.
        id: Option<FileId>,
    },
    /// Another participant's cursor moved (positions at this client's text).
    Presence {
        /// Whose.
        client: ClientId,
        /// The file.
        id: FileId,
        /// The cursor, or none when it left the file.
        cursor: Option<Cursor>,
    },
}

/// Why a local change could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The file is not (or no longer) in the project.
    #[error("file {id} is not in the project")]
    UnknownFile {
        /// The id.
        id: FileId,
    },
    /// An op for a file that is not text.
    #[error("file {id} is not text")]
    NotText {
        /// The id.
        id: FileId,
    },
    /// The op does not fit the local text.
    #[error(transparent)]
    Ot(#[from] crate::OtError),
}

impl ClientError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownFile { .. } => "client.unknown_file",
            Self::NotText { .. } => "client.not_text",
            Self::Ot(inner) => inner.code(),
        }
    }
}

/// `cursor`, given in `state`'s local text, in its confirmed text: moved back
/// through the unconfirmed edits (a position inside text this client
/// inserted lands where the insert starts).
fn confirmed_cursor(state: &TextState, cursor: Cursor) -> Result<Cursor, ClientError> {
    let unconfirmed = state
        .ot
        .pending()
        .map(|(_, op)| op.clone())
        .into_iter()
        .chain(state.ot.buffered().iter().cloned());
    let Some(mine) = TextOp::compose_all(unconfirmed)? else {
        return Ok(cursor);
    };
    let back = state.confirmed.invert(&mine)?;
    let map = |pos: u64| {
        usize::try_from(pos).map_or(pos, |pos| back.transform_position(pos, Bias::Before) as u64)
    };
    Ok(Cursor {
        head: map(cursor.head),
        anchor: map(cursor.anchor),
    })
}

/// A local edit made from an editor's change list: the op sent, and the op
/// that undoes it (see [`ProjectClient::edit_utf16`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEdit {
    /// The edit, in characters.
    pub op: TextOp,
    /// Its inverse against the text it was made on.
    pub inverse: TextOp,
}

/// Content hashes a `sync:hello` lists at most (the default protocol limit).
const MAX_HAVE: usize = 10_000;

/// One text file's live state.
#[derive(Debug, Clone)]
struct TextState {
    ot: TextClient,
    /// What the user sees: confirmed text plus unconfirmed local edits (a
    /// rope with UTF-16 metrics: a keystroke costs a rope edit, not a copy
    /// or a scan of the text).
    text: LiveText,
    /// What the server has confirmed.
    confirmed: LiveText,
}

/// Something to apply at a place in the event order.
#[derive(Debug, Clone)]
enum Ordered {
    Event(Event),
    TextAck { id: FileId, rev: u64 },
}

/// A snapshot being received in hydration batches.
#[derive(Debug)]
struct Incoming {
    manifest: ManifestId,
    version: u64,
    parent: Option<ManifestId>,
    n: u64,
    applied: Vec<(FileId, u64)>,
    batches: u32,
    received: u32,
    entries: Vec<FileEntry>,
    hydrator: Hydrator,
}

/// A participant's project state.
///
/// [`ProjectClient`]: a participant's side of the protocol, for the editor
/// and the container agent alike.
///
/// It holds the manifest the server confirmed, the content store, and for
/// every text file being edited an OT [`TextClient`] with the local and the
/// confirmed text. Local changes become messages ([`poll_outbound`]); server
/// messages are applied in event order ([`handle`]), duplicates are ignored,
/// and a gap (an event it cannot place) makes it ask for a catch-up itself.
/// What it applied comes out as [`ClientEvent`]s ([`poll_event`]) that a UI
/// or a disk writer consumes, so an agent writes only what changed.
///
/// [`poll_outbound`]: ProjectClient::poll_outbound
/// [`handle`]: ProjectClient::handle
/// [`poll_event`]: ProjectClient::poll_event
#[derive(Debug)]
pub struct ProjectClient {
    id: ClientId,
    manifest: Manifest,
    store: MemoryBlobStore,
    texts: HashMap<FileId, TextState>,
    /// Next text sequence number per file, kept when a file's live state is
    /// dropped so numbering never restarts.
    text_seqs: HashMap<FileId, u64>,
    n: u64,
    /// Whether the client has ever been caught up (it has a manifest).
    synced: bool,
    catching_up: bool,
    waiting: BTreeMap<u64, Ordered>,
    seq: u64,
    pending_tree: BTreeMap<u64, ClientMessage>,
    incoming: Option<Incoming>,
    outbox: VecDeque<ClientMessage>,
    events: VecDeque<ClientEvent>,
    /// Whether the hello offers to read binary frames.
    binary_frames: bool,
}

impl ProjectClient {
    /// A client with nothing yet. Call [`connect`](Self::connect) when the
    /// connection opens.
    pub fn new(id: ClientId) -> Self {
        Self {
            id,
            manifest: Manifest::new(),
            store: MemoryBlobStore::default(),
            texts: HashMap::new(),
            text_seqs: HashMap::new(),
            n: 0,
            synced: false,
            catching_up: false,
            waiting: BTreeMap::new(),
            seq: 0,
            pending_tree: BTreeMap::new(),
            incoming: None,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            binary_frames: false,
        }
    }

    /// A client that resumes where a previous session of the same participant
    /// stopped, without downloading what it holds: `manifest` as that session
    /// last held it after event `n`, and for each text file edited since that
    /// manifest its confirmed revision and text. Contents of the manifest's
    /// other files are added with [`preload`](Self::preload). On
    /// [`connect`](Self::connect) it says `sync:hello` with `n` and the
    /// manifest id, so the server answers from the top of the catch-up ladder
    /// (the events it missed, else a changeset).
    ///
    /// A container agent rebuilds this from its state file and the files on
    /// disk after a restart.
    ///
    /// # Errors
    /// [`ClientError::UnknownFile`] or [`ClientError::NotText`] when a text is
    /// given for a file the manifest lacks or that is not text; no client is
    /// made.
    ///
    /// # Example
    /// ```
    /// use velocity_sync::{FileEntry, FilePath, Manifest, ProjectClient};
    /// let mut manifest = Manifest::new();
    /// manifest.insert(FileEntry::from_content(FilePath::parse("a.txt")?, b"hi"))?;
    /// let mut client = ProjectClient::resume(7, manifest, 12, Vec::new())?;
    /// client.preload(b"hi".to_vec());
    /// client.connect();
    /// let hello = client.poll_outbound().expect("a hello");
    /// assert!(hello.to_json().contains(r#""n":12"#));
    /// # Ok::<(), velocity_sync::Error>(())
    /// ```
    pub fn resume(
        id: ClientId,
        manifest: Manifest,
        n: u64,
        texts: Vec<(FileId, u64, String)>,
    ) -> Result<Self, ClientError> {
        let mut client = Self::new(id);
        client.manifest = manifest;
        client.n = n;
        client.synced = true;
        for (file, rev, text) in texts {
            let entry = client
                .manifest
                .get_by_id(&file)
                .ok_or(ClientError::UnknownFile { id: file })?;
            if entry.kind != FileKind::Text {
                return Err(ClientError::NotText { id: file });
            }
            client.start_text(file, rev, text);
        }
        Ok(client)
    }

    /// Adds content this participant already holds (files on disk after a
    /// restart), so a catch-up does not send it again; returns its hash.
    pub fn preload(&mut self, bytes: Vec<u8>) -> ContentHash {
        self.store.insert(bytes)
    }

    /// A content by hash, if this client holds it: what a disk writer needs
    /// for a [`ClientEvent::Created`] or [`ClientEvent::Replaced`] that
    /// arrives while a snapshot is still being received.
    pub fn blob(&self, hash: &ContentHash) -> Option<crate::blob::Blob> {
        self.store.get(hash)
    }

    /// Text files with live state and their confirmed revision: what a
    /// participant must remember, beside the manifest and the event number,
    /// to [`resume`](Self::resume) later.
    pub fn text_revisions(&self) -> Vec<(FileId, u64)> {
        let mut revisions: Vec<(FileId, u64)> = self
            .texts
            .iter()
            .map(|(id, state)| (*id, state.ot.rev()))
            .collect();
        crate::sort::sort_by(&mut revisions, Ord::cmp);
        revisions
    }

    /// Offers, in every `sync:hello` from now on, to read binary frames:
    /// the server may then send hydration batches with their contents raw
    /// (see [`frame`](crate::protocol::frame)), which the transport decodes
    /// with [`decode_server_binary`](crate::protocol::decode_server_binary)
    /// before [`handle`](Self::handle). For transports that carry binary
    /// WebSocket frames (the container agent), not JSON-only channels.
    pub fn set_binary_frames(&mut self, accept: bool) {
        self.binary_frames = accept;
    }

    /// This client's id.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// The manifest as the server confirmed it (text files as of their last
    /// checkpoint).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The last event applied.
    pub fn event_number(&self) -> u64 {
        self.n
    }

    /// Whether the client holds the server's state (no catch-up under way).
    pub fn is_synced(&self) -> bool {
        self.synced && !self.catching_up && self.incoming.is_none()
    }

    /// Whether every local change has been confirmed by the server.
    pub fn is_idle(&self) -> bool {
        self.pending_tree.is_empty() && self.texts.values().all(|t| t.ot.pending().is_none())
    }

    /// Text files with edits the server has not confirmed yet.
    pub fn unconfirmed_files(&self) -> Vec<FileId> {
        let mut ids: Vec<FileId> = self
            .texts
            .iter()
            .filter(|(_, state)| state.ot.pending().is_some())
            .map(|(id, _)| *id)
            .collect();
        crate::sort::sort_by(&mut ids, Ord::cmp);
        ids
    }

    /// Tree requests (create, delete, rename, binary replace) not confirmed yet.
    pub fn unconfirmed_requests(&self) -> Vec<&ClientMessage> {
        self.pending_tree.values().collect()
    }

    /// The file's current content (local text for text files).
    pub fn content(&self, id: &FileId) -> Option<Vec<u8>> {
        if let Some(state) = self.texts.get(id) {
            return Some(state.text.to_text().into_bytes());
        }
        let entry = self.manifest.get_by_id(id)?;
        if !entry.kind.has_content() {
            return Some(Vec::new());
        }
        self.store.get(&entry.hash).map(|blob| blob.to_vec())
    }

    /// The file's current text, for text files (a copy: `O(n)`; an editor
    /// keeps its own and edits it with [`edit_utf16`](Self::edit_utf16)).
    pub fn text(&mut self, id: &FileId) -> Option<String> {
        self.text_state(*id).ok().map(|state| state.text.to_text())
    }

    /// The next message to send.
    #[must_use]
    pub fn poll_outbound(&mut self) -> Option<ClientMessage> {
        self.outbox.pop_front()
    }

    /// The next thing this client applied.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Call when a connection opens: says `sync:hello`. Unconfirmed local
    /// changes are sent again once the catch-up has been applied.
    pub fn connect(&mut self) {
        self.catching_up = true;
        self.waiting.clear();
        self.incoming = None;
        self.send_hello();
    }

    fn send_hello(&mut self) {
        let known = self.synced;
        // Without a place in the log, tell the server which contents are
        // here already (a hydration cut short, a restart), so a snapshot
        // sends only what is missing.
        let have = if known {
            Vec::new()
        } else {
            self.store.hashes().take(MAX_HAVE).copied().collect()
        };
        self.outbox.push_back(ClientMessage::Hello(Hello {
            client: self.id,
            n: known.then_some(self.n),
            manifest: known.then(|| self.manifest.id()),
            have,
            binary: self.binary_frames,
        }));
    }

    fn text_state(&mut self, id: FileId) -> Result<&mut TextState, ClientError> {
        if !self.texts.contains_key(&id) {
            let entry = self
                .manifest
                .get_by_id(&id)
                .ok_or(ClientError::UnknownFile { id })?;
            if entry.kind != FileKind::Text {
                return Err(ClientError::NotText { id });
            }
            let blob = self
                .store
                .get(&entry.hash)
                .ok_or(ClientError::UnknownFile { id })?;
            let text = String::from_utf8_lossy(&blob).into_owned();
            self.start_text(id, entry.revision, text);
        }
        self.texts
            .get_mut(&id)
            .ok_or(ClientError::UnknownFile { id })
    }

    /// Starts live state for a text file confirmed at `rev` with `text`.
    fn start_text(&mut self, id: FileId, rev: u64, text: String) {
        let ot = self.new_ot(id, rev);
        self.texts.insert(
            id,
            TextState {
                ot,
                confirmed: LiveText::new(&text),
                text: LiveText::new(&text),
            },
        );
    }

    /// An OT client for `id` at `rev` that continues this participant's
    /// sequence numbers for the file.
    fn new_ot(&self, id: FileId, rev: u64) -> TextClient {
        let next = self.text_seqs.get(&id).copied().unwrap_or(1);
        TextClient::new(self.id, rev).with_next_seq(next)
    }

    /// Drops a file's live state, remembering where its numbering stands.
    fn forget_text(&mut self, id: &FileId) -> Option<TextState> {
        let state = self.texts.remove(id)?;
        let next = self.text_seqs.entry(*id).or_insert(1);
        *next = (*next).max(state.ot.next_seq());
        Some(state)
    }

    // ------------------------------------------------------------ local changes

    /// Applies a local edit of a text file (already applied in the editor)
    /// and queues it for the server.
    ///
    /// # Errors
    /// [`ClientError`] when the file is unknown or not text, or the op does
    /// not fit the local text; nothing changes then.
    pub fn edit(&mut self, id: FileId, op: TextOp) -> Result<(), ClientError> {
        let state = self.text_state(id)?;
        state.text.fits(&op)?;
        let submission = state.ot.local_edit(op.clone())?;
        state.text.apply(&op)?;
        self.queue(id, submission);
        Ok(())
    }

    /// Applies an editor's change list (UTF-16 offsets into the local text,
    /// as Monaco's `onDidChangeModelContent` gives them) as one local edit
    /// and returns it with its inverse (for [`UndoManager::record_inverse`](crate::ot::UndoManager::record_inverse)).
    /// The offsets are placed with the text's own UTF-16 metrics: no scan
    /// of the text.
    ///
    /// # Errors
    /// As [`edit`](Self::edit), plus [`crate::OtError::OutOfRange`],
    /// [`crate::OtError::OverlappingChanges`] and
    /// [`crate::OtError::SplitSurrogate`] for changes that do not fit;
    /// nothing changes then.
    pub fn edit_utf16(
        &mut self,
        id: FileId,
        changes: &[Utf16Change],
    ) -> Result<LocalEdit, ClientError> {
        let state = self.text_state(id)?;
        let op = TextOp::from_utf16_changes(&state.text, changes)?;
        let inverse = state.text.invert(&op)?;
        let submission = state.ot.local_edit(op.clone())?;
        state.text.apply(&op)?;
        self.queue(id, submission);
        Ok(LocalEdit { op, inverse })
    }

    fn queue(&mut self, id: FileId, submission: Option<crate::ot::Submission>) {
        if let Some(submission) = submission {
            self.outbox.push_back(ClientMessage::Update(UpdateRequest {
                id,
                seq: submission.seq,
                base: submission.base_rev,
                edit: Edit::Op(submission.op),
            }));
        }
    }

    /// Replaces a file's whole content: for text, the difference becomes an
    /// edit; binary content is sent whole.
    ///
    /// # Errors
    /// [`ClientError::UnknownFile`].
    pub fn replace(&mut self, id: FileId, content: Vec<u8>) -> Result<(), ClientError> {
        let entry = self.manifest.get_by_id(&id);
        let is_text = self.texts.contains_key(&id)
            || entry.as_ref().is_some_and(|e| e.kind == FileKind::Text);
        if is_text && FileKind::classify(&content) == FileKind::Text {
            let state = self.text_state(id)?;
            let new = String::from_utf8_lossy(&content);
            let op = TextOp::diff(&state.text.to_text(), &new);
            if op.is_noop() {
                return Ok(());
            }
            return self.edit(id, op);
        }
        let entry = entry.ok_or(ClientError::UnknownFile { id })?;
        let seq = self.next_seq();
        let message = ClientMessage::Update(UpdateRequest {
            id,
            seq,
            base: entry.revision,
            edit: Edit::Content(Bytes::new(content)),
        });
        self.request(seq, message);
        Ok(())
    }

    /// Creates a file (or, with `content` `None`, an empty directory) and
    /// returns its new id, derived from this client's id and sequence number
    /// (callers that mint their own UUIDs use [`create_with_id`](Self::create_with_id)).
    pub fn create(&mut self, path: FilePath, content: Option<Vec<u8>>) -> FileId {
        let seq = self.seq + 1;
        let id = FileId::derive(
            "velocity-sync 2026-11 client file id",
            format!("{}\0{seq}", self.id).as_bytes(),
        );
        self.create_with_id(id, path, content);
        id
    }

    /// Creates a file with a caller-chosen id.
    pub fn create_with_id(&mut self, id: FileId, path: FilePath, content: Option<Vec<u8>>) {
        let seq = self.next_seq();
        if let Some(bytes) = &content {
            if FileKind::classify(bytes) == FileKind::Text {
                let text = String::from_utf8_lossy(bytes).into_owned();
                self.start_text(id, 0, text);
            }
        }
        let message = ClientMessage::Create(CreateRequest {
            id,
            path,
            seq,
            directory: content.is_none(),
            executable: false,
            content: content.map(Bytes::new),
        });
        self.request(seq, message);
    }

    /// Deletes a file.
    pub fn delete(&mut self, id: FileId) {
        let seq = self.next_seq();
        self.request(seq, ClientMessage::Delete(DeleteRequest { id, seq }));
    }

    /// Moves a file.
    pub fn rename(&mut self, id: FileId, to: FilePath) {
        let seq = self.next_seq();
        self.request(
            seq,
            ClientMessage::Rename(RenameRequest {
                id: Some(id),
                directory: None,
                to,
                seq,
            }),
        );
    }

    /// Moves a directory and everything below it.
    pub fn rename_directory(&mut self, from: FilePath, to: FilePath) {
        let seq = self.next_seq();
        self.request(
            seq,
            ClientMessage::Rename(RenameRequest {
                id: None,
                directory: Some(from),
                to,
                seq,
            }),
        );
    }

    /// Shares this user's cursor in a text file.
    ///
    /// # Errors
    /// [`ClientError::UnknownFile`] or [`ClientError::NotText`].
    pub fn set_cursor(&mut self, id: FileId, cursor: Option<Cursor>) -> Result<(), ClientError> {
        // Positions are sent with the last revision this client confirmed;
        // the server moves them through every op ordered since, this
        // client's own unconfirmed edits included. The caller's positions are
        // in the local text, so they are first taken back through those
        // edits (else they would count twice).
        let state = self.text_state(id)?;
        let rev = state.ot.rev();
        let cursor = match cursor {
            Some(cursor) => Some(confirmed_cursor(state, cursor)?),
            None => None,
        };
        self.outbox
            .push_back(ClientMessage::Presence(PresenceRequest { id, rev, cursor }));
        Ok(())
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn request(&mut self, seq: u64, message: ClientMessage) {
        self.pending_tree.insert(seq, message.clone());
        self.outbox.push_back(message);
    }

    // ------------------------------------------------------------ server messages

    /// Applies one message from the server.
    pub fn handle(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Event(event) => {
                let n = event.n;
                self.ordered(n, Ordered::Event(event));
            }
            ServerMessage::Ack(ack) => self.ack(ack),
            ServerMessage::Error(error) => {
                // A refused tree request is done (a refused create takes its
                // local text with it); a refused text edit puts the file back
                // to its confirmed text.
                let tree = error.seq.filter(|seq| {
                    self.pending_tree
                        .get(seq)
                        .is_some_and(|m| m.file() == error.id)
                });
                match tree {
                    Some(seq) => {
                        if let Some(ClientMessage::Create(create)) = self.pending_tree.remove(&seq)
                        {
                            self.forget_text(&create.id);
                        }
                    }
                    None => {
                        if let Some(id) = error.id {
                            self.drop_text(id);
                        }
                    }
                }
                self.events.push_back(ClientEvent::Rejected {
                    code: error.code,
                    message: error.message,
                    id: error.id,
                });
            }
            ServerMessage::CatchUp(catch_up) => self.catch_up(catch_up),
            ServerMessage::BulkUpdate(batch) => self.bulk_update(&batch),
            ServerMessage::Presence(presence) => self.presence(presence),
            ServerMessage::ResyncRequired(_) => {
                // Start over from a snapshot; unconfirmed edits are rebased.
                self.synced = false;
                self.connect();
            }
        }
    }

    fn ack(&mut self, ack: Ack) {
        match (ack.id, ack.n, ack.rev) {
            (Some(id), Some(n), Some(rev)) => self.ordered(n, Ordered::TextAck { id, rev }),
            (None, _, _) => {
                self.pending_tree.remove(&ack.seq);
            }
            // A duplicate text ack: the edit is in already, and the event
            // that carried it reaches this client by catch-up.
            _ => {}
        }
    }

    /// Applies `item` at its place `n`, after everything before it.
    fn ordered(&mut self, n: u64, item: Ordered) {
        if n <= self.n || !self.synced || self.incoming.is_some() {
            if n > self.n {
                self.waiting.insert(n, item);
            }
            return;
        }
        self.waiting.insert(n, item);
        self.drain();
        if !self.waiting.is_empty() && !self.catching_up {
            // Something is missing before the first waiting item.
            self.catching_up = true;
            self.send_hello();
        }
    }

    fn drain(&mut self) {
        while let Some(entry) = self.waiting.first_entry() {
            let n = *entry.key();
            if n <= self.n {
                entry.remove();
                continue;
            }
            if n != self.n + 1 {
                return;
            }
            let item = entry.remove();
            self.apply(n, item);
        }
    }

    fn apply(&mut self, n: u64, item: Ordered) {
        self.n = n;
        match item {
            Ordered::TextAck { id, rev } => self.text_ack(id, rev),
            Ordered::Event(event) => {
                let mine = event.client == Some(self.id);
                match event.change {
                    EventChange::Text { id, rev, op } => {
                        if mine {
                            self.text_ack(id, rev);
                        } else {
                            self.remote_text(id, rev, &op);
                        }
                    }
                    EventChange::Tree {
                        manifest,
                        changes,
                        contents,
                    } => {
                        if mine {
                            if let Some(seq) = event.seq {
                                self.pending_tree.remove(&seq);
                            }
                        }
                        self.tree(manifest, &changes, contents);
                    }
                    EventChange::Checkpoint { manifest, files } => {
                        self.checkpoint(manifest, &files);
                    }
                }
            }
        }
    }

    fn text_ack(&mut self, id: FileId, rev: u64) {
        let Some(state) = self.texts.get_mut(&id) else {
            return;
        };
        if let Some((_, op)) = state.ot.pending() {
            // An op that does not fit leaves the text as it was.
            let _ = state.confirmed.apply(op);
        }
        match state.ot.ack(rev) {
            Ok(Some(next)) => self.outbox.push_back(ClientMessage::Update(UpdateRequest {
                id,
                seq: next.seq,
                base: next.base_rev,
                edit: Edit::Op(next.op),
            })),
            Ok(None) => {}
            Err(_) => self.resync_all(),
        }
    }

    fn remote_text(&mut self, id: FileId, rev: u64, op: &TextOp) {
        let Ok(state) = self.text_state(id) else {
            // A file this client cannot place: start over.
            self.resync_all();
            return;
        };
        let result = state.confirmed.fits(op).and_then(|()| {
            let local = state.ot.remote(rev, op)?;
            state.text.fits(&local)?;
            state.confirmed.apply(op)?;
            state.text.apply(&local)?;
            Ok(local)
        });
        match result {
            Ok(local) => {
                let path = self.manifest.path_of(&id).cloned();
                if let Some(path) = path {
                    self.events.push_back(ClientEvent::Edited {
                        id,
                        path,
                        op: local,
                    });
                }
            }
            Err(_) => self.resync_all(),
        }
    }

    fn tree(
        &mut self,
        manifest: ManifestId,
        changes: &[Change],
        contents: Vec<(ContentHash, Bytes)>,
    ) {
        for (hash, bytes) in contents {
            let _ = self.store.put(hash, bytes.0);
        }
        let next = self.manifest.successor().apply_changes(changes);
        match next {
            Ok(next) if next.id() == manifest => self.manifest = next,
            _ => return self.resync_all(),
        }
        for change in changes {
            match change {
                Change::Added { entry } => {
                    // A file this client created keeps its live state.
                    self.events.push_back(ClientEvent::Created {
                        entry: entry.clone(),
                    });
                }
                Change::Removed { entry } => {
                    self.forget_text(&id_of(entry));
                    self.events.push_back(ClientEvent::Removed {
                        entry: entry.clone(),
                    });
                }
                Change::Renamed { old, new } => {
                    // Edits follow the id: the live state moves with the file.
                    self.events.push_back(ClientEvent::Renamed {
                        old: old.clone(),
                        new: new.clone(),
                    });
                }
                Change::Modified { new, .. } | Change::KindChanged { new, .. } => {
                    // Replaced whole, by server order: live state starts over.
                    self.forget_text(&id_of(new));
                    self.events
                        .push_back(ClientEvent::Replaced { entry: new.clone() });
                }
            }
        }
    }

    fn checkpoint(&mut self, manifest: ManifestId, files: &[crate::protocol::CheckpointFile]) {
        let mut changes = Vec::with_capacity(files.len());
        for file in files {
            let Some(old) = self.manifest.get_by_id(&file.id) else {
                return self.resync_all();
            };
            if let Some(state) = self.texts.get(&file.id) {
                // The confirmed text at this revision must hash the same.
                if state.ot.rev() == file.rev {
                    let bytes = state.confirmed.to_text().into_bytes();
                    if ContentHash::of(&bytes) != file.hash {
                        return self.resync_all();
                    }
                    self.store.insert(bytes);
                }
            }
            let new = FileEntry {
                size: file.size,
                hash: file.hash,
                revision: file.rev,
                ..old.clone()
            };
            changes.push(Change::Modified { old, new });
        }
        match self.manifest.successor().apply_changes(&changes) {
            Ok(next) if next.id() == manifest => self.manifest = next,
            _ => self.resync_all(),
        }
    }

    fn presence(&mut self, presence: PresenceEvent) {
        let PresenceEvent {
            client, id, cursor, ..
        } = presence;
        let cursor = match (cursor, self.texts.get(&id)) {
            (Some(cursor), Some(state)) => {
                // The server's positions are at `rev`; move them through
                // this client's unconfirmed edits.
                let through = |pos: u64| -> u64 {
                    let mut pos = usize::try_from(pos).unwrap_or(usize::MAX);
                    let unconfirmed = state
                        .ot
                        .pending()
                        .map(|(_, op)| op.clone())
                        .into_iter()
                        .chain(state.ot.buffered().iter().cloned());
                    for op in unconfirmed {
                        pos = op.transform_position(pos.min(op.base_len()), Bias::Before);
                    }
                    pos as u64
                };
                Some(Cursor {
                    head: through(cursor.head),
                    anchor: through(cursor.anchor),
                })
            }
            (other, _) => other,
        };
        self.events
            .push_back(ClientEvent::Presence { client, id, cursor });
    }

    fn drop_text(&mut self, id: FileId) {
        if let Some(state) = self.forget_text(&id) {
            if self.manifest.get_by_id(&id).is_some() {
                // Back to the confirmed text.
                let op = TextOp::diff(&state.text.to_text(), &state.confirmed.to_text());
                if let Some(path) = self.manifest.path_of(&id).cloned() {
                    self.events.push_back(ClientEvent::Edited { id, path, op });
                }
            }
        }
    }

    /// Something could not be placed: ask for a fresh snapshot.
    fn resync_all(&mut self) {
        self.synced = false;
        self.connect();
    }

    // ------------------------------------------------------------ catch-up

    fn catch_up(&mut self, catch_up: CatchUp) {
        let CatchUp { n, applied, rung } = catch_up;
        // An answer to an older hello (delayed or duplicated) must never move
        // this client backwards.
        let stale =
            n < self.n || (self.synced && n == self.n && !matches!(rung, Rung::Events { .. }));
        if stale {
            return;
        }
        match rung {
            Rung::Events { events } => {
                if !self.synced {
                    return self.resync_all();
                }
                for event in events {
                    let at = event.n;
                    self.waiting.insert(at, Ordered::Event(event));
                }
                self.drain();
                if self.n < n {
                    return self.resync_all();
                }
                self.finish_catch_up();
            }
            Rung::Changeset { changeset, texts } => {
                let base = self.manifest.clone();
                match changeset.apply(&base, &mut self.store) {
                    Ok(next) => {
                        self.manifest = next;
                        self.n = n;
                        self.synced = true;
                        self.rebase_texts(&applied, &texts);
                        self.emit_diff(&base);
                        self.finish_catch_up();
                    }
                    Err(_) => self.resync_all(),
                }
            }
            Rung::Snapshot {
                manifest,
                version,
                parent,
                batches,
                files,
                bytes,
            } => {
                let total = Progress {
                    files_done: 0,
                    files_total: files,
                    bytes_done: 0,
                    bytes_total: bytes,
                };
                self.incoming = Some(Incoming {
                    manifest,
                    version,
                    parent,
                    n,
                    applied,
                    batches,
                    received: 0,
                    entries: Vec::new(),
                    hydrator: Hydrator::new(total),
                });
                if batches == 0 {
                    self.finish_snapshot();
                }
            }
        }
    }

    fn bulk_update(&mut self, batch: &crate::protocol::BulkUpdate) {
        let Some(incoming) = self.incoming.as_mut() else {
            return;
        };
        if batch.manifest != incoming.manifest {
            return;
        }
        incoming
            .entries
            .extend(batch.files.iter().map(|file| file.entry.clone()));
        let Ok(ready) = incoming.hydrator.receive(batch, &mut self.store) else {
            return self.resync_all();
        };
        incoming.received += 1;
        let progress = incoming.hydrator.progress();
        // Report files as their content lands, in the plan's order (critical
        // first), so a disk writer can start the dev server early.
        for ready in ready {
            let entry = ready.entry;
            let old = entry.id.and_then(|id| self.manifest.get_by_id(&id));
            let event = match old {
                None => ClientEvent::Created { entry },
                Some(old) if old.path != entry.path => ClientEvent::Renamed { old, new: entry },
                Some(old) if old.hash != entry.hash || old.kind != entry.kind => {
                    ClientEvent::Replaced { entry }
                }
                Some(_) => continue,
            };
            self.events.push_back(event);
        }
        self.events.push_back(ClientEvent::Hydrating { progress });
        if incoming.received >= incoming.batches {
            self.finish_snapshot();
        }
    }

    fn finish_snapshot(&mut self) {
        let Some(incoming) = self.incoming.take() else {
            return;
        };
        let built = Manifest::from_entries(incoming.entries)
            .map(|m| m.with_header(incoming.version, incoming.parent));
        match built {
            Ok(next) if next.id() == incoming.manifest => {
                let base = std::mem::replace(&mut self.manifest, next);
                self.n = incoming.n;
                self.synced = true;
                let texts = self.manifest.text_revisions();
                self.rebase_texts(&incoming.applied, &texts);
                // Arrivals were reported batch by batch; report what is gone.
                for entry in base.entries() {
                    if entry
                        .id
                        .is_none_or(|id| self.manifest.path_of(&id).is_none())
                    {
                        self.events.push_back(ClientEvent::Removed { entry });
                    }
                }
                self.finish_catch_up();
            }
            _ => self.resync_all(),
        }
    }

    /// After a changeset or snapshot: every text file restarts from the new
    /// manifest; unconfirmed local edits the server does not have yet are
    /// rebased onto it and sent again.
    fn rebase_texts(&mut self, applied: &[(FileId, u64)], revisions: &[(FileId, u64)]) {
        let applied: HashMap<FileId, u64> = applied.iter().copied().collect();
        let revisions: HashMap<FileId, u64> = revisions.iter().copied().collect();
        let ids: Vec<FileId> = self.texts.keys().copied().collect();
        for id in ids {
            let Some(mut state) = self.forget_text(&id) else {
                continue;
            };
            let snapshot = self
                .manifest
                .get_by_id(&id)
                .and_then(|entry| self.store.get(&entry.hash).map(|blob| (entry, blob)));
            let Some((entry, snapshot)) = snapshot else {
                // Created here and not confirmed yet: its create is resent.
                if self.pending_tree.values().any(|m| m.file() == Some(id)) {
                    self.texts.insert(id, state);
                }
                continue;
            };
            let snapshot = String::from_utf8_lossy(&snapshot).into_owned();
            let rev = revisions.get(&id).copied().unwrap_or(entry.revision);
            // Which unconfirmed edits the server lacks, and the text they start from.
            let in_already = match (state.ot.pending(), applied.get(&id)) {
                (Some((seq, _)), Some(last)) => seq <= *last,
                _ => false,
            };
            let mut base = state.confirmed.to_text();
            let mut unconfirmed: Vec<TextOp> = Vec::new();
            if let Some((_, pending)) = state.ot.pending() {
                if in_already {
                    base = pending.apply(&base).unwrap_or(base);
                } else {
                    unconfirmed.push(pending.clone());
                }
            }
            unconfirmed.extend(state.ot.buffered().iter().cloned());
            let mut ot = state.ot.clone();
            let local = state.text.to_text();
            let _ = ot.resync(rev, &snapshot, &local);
            let mut text = snapshot.clone();
            if let Ok(Some(mine)) = TextOp::compose_all(unconfirmed) {
                let theirs = TextOp::diff(&base, &snapshot);
                if let Ok((rebased, _)) = TextOp::transform(&mine, &theirs, Side::Left) {
                    if let Ok(rebased_text) = rebased.apply(&snapshot) {
                        if let Ok(Some(submission)) = ot.local_edit(rebased) {
                            self.outbox.push_back(ClientMessage::Update(UpdateRequest {
                                id,
                                seq: submission.seq,
                                base: submission.base_rev,
                                edit: Edit::Op(submission.op),
                            }));
                        }
                        text = rebased_text;
                    }
                }
            }
            if text != local {
                let op = TextOp::diff(&local, &text);
                self.events.push_back(ClientEvent::Edited {
                    id,
                    path: entry.path.clone(),
                    op,
                });
            }
            state.ot = ot;
            state.text = LiveText::new(&text);
            state.confirmed = LiveText::new(&snapshot);
            if state.ot.pending().is_some() {
                self.texts.insert(id, state);
            }
        }
    }

    /// Reports what a changeset or snapshot changed, as events.
    fn emit_diff(&mut self, base: &Manifest) {
        for change in base.diff(&self.manifest).changes {
            let event = match change {
                Change::Added { entry } => ClientEvent::Created { entry },
                Change::Removed { entry } => ClientEvent::Removed { entry },
                Change::Renamed { old, new } => ClientEvent::Renamed { old, new },
                Change::Modified { old, new } | Change::KindChanged { old, new } => {
                    if old.hash == new.hash {
                        continue;
                    }
                    ClientEvent::Replaced { entry: new }
                }
            };
            self.events.push_back(event);
        }
    }

    /// Caught up: apply what waited, resend what is unconfirmed.
    fn finish_catch_up(&mut self) {
        self.catching_up = false;
        self.drain();
        for message in self.pending_tree.values() {
            self.outbox.push_back(message.clone());
        }
        let resend: Vec<ClientMessage> = self
            .texts
            .iter()
            .filter_map(|(id, state)| {
                state.ot.reconnect().map(|s| {
                    ClientMessage::Update(UpdateRequest {
                        id: *id,
                        seq: s.seq,
                        base: s.base_rev,
                        edit: Edit::Op(s.op),
                    })
                })
            })
            .collect();
        self.outbox.extend(resend);
        self.events.push_back(ClientEvent::Synced { n: self.n });
        if !self.waiting.is_empty() {
            self.catching_up = true;
            self.send_hello();
        }
    }
}

fn id_of(entry: &FileEntry) -> FileId {
    entry.id.unwrap_or(FileId::from_u128(0))
}

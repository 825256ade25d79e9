//! [`ProjectServer`]: the authority for one project.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::blob::{BlobStore, MemoryBlobStore};
use crate::changeset::Changeset;
use crate::entry::{FileEntry, FileId, FileKind};
use crate::hash::ContentHash;
use crate::hydrate::{self, HydrationOptions};
use crate::manifest::{Change, Manifest, ManifestError, ManifestLimits};
use crate::ot::ClientId;
use crate::path::FilePath;
use crate::protocol::{
    Ack, Bytes, CatchUp, CheckpointFile, ClientMessage, CreateRequest, DeleteRequest, Edit,
    ErrorMessage, Event, EventChange, Hello, LegacyUpdate, PresenceEvent, PresenceRequest,
    ProtocolLimits, RenameRequest, ResyncRequired, Rung, ServerMessage, UpdateRequest,
};
use crate::{OtError, TextDocument, TextOp};

/// What a connection may do, from its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and writes.
    Editor,
    /// Reads (a preview container).
    Agent,
    /// Reads.
    Viewer,
}

impl Role {
    /// Whether this role may change files.
    pub fn can_write(self) -> bool {
        self == Self::Editor
    }
}

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// One client.
    Client(ClientId),
    /// Every connected client but one (the one whose request it answers).
    AllExcept(ClientId),
    /// Every connected client.
    All,
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// Its recipients.
    pub to: Recipient,
    /// The message (shared: a broadcast is encoded once).
    pub message: Arc<ServerMessage>,
}

/// How much a server keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// Message limits.
    pub limits: ProtocolLimits,
    /// Manifest limits.
    pub manifest_limits: ManifestLimits,
    /// Ops of history kept per text file (older bases need a catch-up).
    pub history_ops: usize,
    /// Events kept for catch-up by replay.
    pub log_events: usize,
    /// Manifest versions kept for catch-up by changeset.
    pub kept_manifests: usize,
    /// The project this server is the authority of. Ids the server derives
    /// itself (for files a legacy `file:update` creates) include it, so two
    /// projects that receive the same legacy save never derive the same id
    /// (`project_files` rows are keyed on the id alone).
    pub project: Option<uuid::Uuid>,
    /// Whether the host sends binary frames ([`protocol::frame`]) to the
    /// clients that offer them, so their hydration batches may be
    /// [`max_binary_batch_bytes`] large. A host that sends JSON only (over
    /// Supabase Realtime, through the C API) leaves it off, and a hello
    /// offering binary frames is then answered as any other.
    ///
    /// [`protocol::frame`]: crate::protocol::frame
    /// [`max_binary_batch_bytes`]: crate::protocol::ProtocolLimits::max_binary_batch_bytes
    pub binary_frames: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: ProtocolLimits::default(),
            manifest_limits: ManifestLimits::default(),
            history_ops: 1024,
            log_events: 4096,
            kept_manifests: 64,
            project: None,
            binary_frames: false,
        }
    }
}

/// Why the server refused a request (sent to the client as `error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A manifest rule refused the change.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The op did not fit, or could not be placed.
    #[error(transparent)]
    Ot(#[from] OtError),
    /// A path below an existing file.
    #[error("{path} cannot be created: {reason}")]
    PathConflict {
        /// The path asked for.
        path: FilePath,
        /// Why.
        reason: String,
    },
    /// A write from a read-only connection.
    #[error("this connection is read-only ({role:?})")]
    ReadOnly {
        /// Its role.
        role: Role,
    },
    /// An event read back from a durable log that does not follow this
    /// project's state (see [`ProjectServer::replay`]).
    #[error("event {n} cannot be replayed: {reason}")]
    Replay {
        /// The event number.
        n: u64,
        /// Why.
        reason: String,
    },
    /// A message before `sync:hello`, or from an unknown client.
    #[error("client {client} has not said sync:hello")]
    NotConnected {
        /// The client.
        client: ClientId,
    },
    /// An op for a file that is not text.
    #[error("{path} is {kind}, not text: send its whole content")]
    NotText {
        /// The file.
        path: FilePath,
        /// Its kind.
        kind: &'static str,
    },
    /// A file id the project does not have (deleted, or never created).
    #[error("file {id} does not exist (it may have been deleted)")]
    UnknownFile {
        /// The id.
        id: FileId,
    },
}

impl SyncError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Manifest(inner) => inner.code(),
            Self::Ot(inner) => inner.code(),
            Self::PathConflict { .. } => "sync.path_conflict",
            Self::ReadOnly { .. } => "sync.read_only",
            Self::Replay { .. } => "sync.replay",
            Self::NotConnected { .. } => "sync.not_connected",
            Self::NotText { .. } => "sync.not_text",
            Self::UnknownFile { .. } => "sync.unknown_file",
        }
    }
}

/// What a tree request did: the changes of its event and the contents they
/// need, or nothing (a retry, or a no-op).
type TreeOutcome = Option<(Vec<Change>, Vec<(ContentHash, Bytes)>)>;

/// Tree requests already applied for one client, for retries.
#[derive(Debug, Clone, Default)]
struct Applied {
    /// seq → event number (none when the request changed nothing).
    recent: BTreeMap<u64, Option<u64>>,
}

const APPLIED_KEPT: usize = 256;

/// The authority for one project.
///
/// [`ProjectServer`]: the authority for one project.
///
/// It holds the manifest, one text [`TextDocument`] per text file being edited,
/// and the blob store. It handles create / update / delete / rename from any
/// client, orders every change into one numbered event log, and produces the
/// messages to send: [`ProjectServer::handle`] takes a decoded message,
/// [`ProjectServer::poll_outbound`] yields what to send to whom. No IO, no
/// clock: the caller decides when to [`checkpoint`](ProjectServer::checkpoint).
///
/// # Tree rules (also in `PROTOCOL.md`)
/// - **Edit vs delete**: server order decides. An edit ordered after the
///   delete is refused (`sync.unknown_file`); the editor drops it.
/// - **Rename vs edit**: edits address the file id, so they follow the file.
/// - **Two creates at one path**, **a rename onto an existing path**, **a
///   file where a directory is** (or the reverse), **portable-key
///   collisions**: the later request lands at the first free
///   `name (2).ext`, `name (3).ext`, … in the same directory, so nothing is
///   lost. A path below an existing *file* is refused (`sync.path_conflict`).
/// - **Case-only renames** (`App.tsx` → `app.tsx`) are allowed: the file does
///   not collide with itself.
/// - **Binary files** are replaced whole, last writer wins by server order.
/// - Text sent whole (today's `{path, content}`) is diffed into an op against
///   the revision the sender saw, so concurrent edits still merge.
pub struct ProjectServer<S: BlobStore = MemoryBlobStore> {
    config: ServerConfig,
    manifest: Manifest,
    docs: HashMap<FileId, TextDocument>,
    dirty: BTreeSet<FileId>,
    store: S,
    n: u64,
    log: VecDeque<Arc<Event>>,
    manifests: VecDeque<Manifest>,
    clients: HashMap<ClientId, Role>,
    applied: HashMap<ClientId, Applied>,
    outbox: VecDeque<Outbound>,
}

impl ProjectServer<MemoryBlobStore> {
    /// An empty project with an in-memory store.
    pub fn new(config: ServerConfig) -> Self {
        Self::with_store(
            Manifest::with_limits(config.manifest_limits),
            MemoryBlobStore::default(),
            0,
            config,
        )
    }
}

impl<S: BlobStore> ProjectServer<S> {
    /// A server for an existing project: its manifest, a store holding every
    /// content of it, and the last event number (0 for a fresh start).
    pub fn with_store(manifest: Manifest, store: S, n: u64, config: ServerConfig) -> Self {
        Self {
            config,
            manifest,
            docs: HashMap::new(),
            dirty: BTreeSet::new(),
            store,
            n,
            log: VecDeque::new(),
            manifests: VecDeque::new(),
            clients: HashMap::new(),
            applied: HashMap::new(),
            outbox: VecDeque::new(),
        }
    }

    /// The current manifest (text files as of their last checkpoint).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The blob store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The last event number.
    pub fn event_number(&self) -> u64 {
        self.n
    }

    /// The current content of a file (live text for text files).
    pub fn content(&self, id: &FileId) -> Option<Vec<u8>> {
        if let Some(doc) = self.docs.get(id) {
            return Some(doc.text().into_bytes());
        }
        let entry = self.manifest.get_by_id(id)?;
        if !entry.kind.has_content() {
            return Some(Vec::new());
        }
        self.store.get(&entry.hash).map(|blob| blob.to_vec())
    }

    /// Text files edited since their last checkpoint.
    pub fn dirty_files(&self) -> impl Iterator<Item = &FileId> {
        self.dirty.iter()
    }

    /// Registers a connection with the role its token grants. Call before
    /// handing its messages to [`handle`](Self::handle).
    pub fn connect(&mut self, client: ClientId, role: Role) {
        self.clients.insert(client, role);
    }

    /// Forgets a connection (its state for retries is kept).
    pub fn disconnect(&mut self, client: ClientId) {
        self.clients.remove(&client);
    }

    /// Connected clients.
    pub fn clients(&self) -> impl Iterator<Item = (&ClientId, &Role)> {
        self.clients.iter()
    }

    /// The next message to send, if any.
    #[must_use]
    pub fn poll_outbound(&mut self) -> Option<Outbound> {
        self.outbox.pop_front()
    }

    /// Handles one message from `client`. Refusals become `error` messages
    /// to that client; nothing a refused request asked for is applied.
    pub fn handle(&mut self, client: ClientId, message: ClientMessage) {
        let (seq, id) = (message.seq(), message.file());
        if let Err(error) = self.dispatch(client, message) {
            self.send(
                Recipient::Client(client),
                ServerMessage::Error(ErrorMessage {
                    code: error.code().to_owned(),
                    message: error.to_string(),
                    seq,
                    id,
                }),
            );
        }
    }

    fn dispatch(&mut self, client: ClientId, message: ClientMessage) -> Result<(), SyncError> {
        let role = *self
            .clients
            .get(&client)
            .ok_or(SyncError::NotConnected { client })?;
        let write = |role: Role| {
            if role.can_write() {
                Ok(())
            } else {
                Err(SyncError::ReadOnly { role })
            }
        };
        match message {
            ClientMessage::Hello(hello) => {
                self.hello(client, &hello);
                Ok(())
            }
            ClientMessage::Presence(presence) => self.presence(client, presence),
            ClientMessage::Update(update) => {
                write(role)?;
                self.update(client, update)
            }
            ClientMessage::LegacyUpdate(update) => {
                write(role)?;
                self.legacy_update(update)
            }
            ClientMessage::Create(create) => {
                write(role)?;
                self.tree_request(client, create.seq, |server| server.create(create))
            }
            ClientMessage::Delete(delete) => {
                write(role)?;
                self.tree_request(client, delete.seq, |server| server.delete(&delete))
            }
            ClientMessage::Rename(rename) => {
                write(role)?;
                self.tree_request(client, rename.seq, |server| server.rename(&rename))
            }
        }
    }

    fn send(&mut self, to: Recipient, message: ServerMessage) {
        self.outbox.push_back(Outbound {
            to,
            message: Arc::new(message),
        });
    }

    /// Numbers `change`, logs it, acks the requester and tells everyone else.
    fn publish(&mut self, origin: Option<(ClientId, u64)>, change: EventChange) -> u64 {
        self.n += 1;
        let n = self.n;
        let file = match &change {
            EventChange::Text { id, rev, .. } => Some((*id, *rev)),
            _ => None,
        };
        let event = Event {
            n,
            client: origin.map(|(client, _)| client),
            seq: origin.map(|(_, seq)| seq),
            change,
        };
        self.log.push_back(Arc::new(event.clone()));
        while self.log.len() > self.config.log_events {
            self.log.pop_front();
        }
        match (origin, file) {
            // A text edit's origin gets a short ack instead of its own op.
            (Some((client, seq)), Some((id, rev))) => {
                self.send(
                    Recipient::Client(client),
                    ServerMessage::Ack(Ack {
                        seq,
                        id: Some(id),
                        n: Some(n),
                        rev: Some(rev),
                    }),
                );
                self.send(Recipient::AllExcept(client), ServerMessage::Event(event));
            }
            // Everyone applies tree changes from the event itself (the server
            // may have moved a path); the origin takes it as its ack.
            _ => self.send(Recipient::All, ServerMessage::Event(event)),
        }
        n
    }

    // ------------------------------------------------------------ text

    fn document(&mut self, id: FileId) -> Result<&mut TextDocument, SyncError> {
        let entry = self
            .manifest
            .get_by_id(&id)
            .ok_or(SyncError::UnknownFile { id })?;
        if entry.kind != FileKind::Text {
            return Err(SyncError::NotText {
                path: entry.path,
                kind: entry.kind.as_str(),
            });
        }
        if !self.docs.contains_key(&id) {
            let blob = self
                .store
                .require(&entry.hash)
                .map_err(|_| SyncError::UnknownFile { id })?;
            let text = String::from_utf8_lossy(&blob);
            let doc = TextDocument::from_snapshot(&text, entry.revision)
                .with_history_limit(self.config.history_ops);
            self.docs.insert(id, doc);
        }
        self.docs.get_mut(&id).ok_or(SyncError::UnknownFile { id })
    }

    fn update(&mut self, client: ClientId, update: UpdateRequest) -> Result<(), SyncError> {
        let UpdateRequest {
            id,
            seq,
            base,
            edit,
        } = update;
        let entry = self
            .manifest
            .get_by_id(&id)
            .ok_or(SyncError::UnknownFile { id })?;
        let op = match edit {
            Edit::Op(op) => op,
            Edit::Content(bytes)
                if entry.kind == FileKind::Text
                    && FileKind::classify(bytes.as_slice()) == FileKind::Text =>
            {
                // Diff against what the sender saw (or, when that revision
                // is no longer kept, the current text), so edits ordered
                // since still merge.
                let doc = self.document(id)?;
                let (seen, base) = match doc.text_at(base) {
                    Ok(seen) => (seen, base),
                    Err(_) => (doc.text(), doc.rev()),
                };
                let new = String::from_utf8_lossy(bytes.as_slice());
                return self.submit(client, id, seq, base, TextOp::diff(&seen, &new));
            }
            Edit::Content(bytes) => {
                return self
                    .tree_request(client, seq, |server| server.replace_content(&entry, bytes));
            }
        };
        self.submit(client, id, seq, base, op)
    }

    fn submit(
        &mut self,
        client: ClientId,
        id: FileId,
        seq: u64,
        base: u64,
        op: TextOp,
    ) -> Result<(), SyncError> {
        let doc = self.document(id)?;
        let submitted = match doc.submit(client, seq, base, op) {
            Ok(submitted) => submitted,
            Err(OtError::StaleRevision(detail)) => {
                self.send(
                    Recipient::Client(client),
                    ServerMessage::ResyncRequired(ResyncRequired {
                        reason: format!(
                            "file {id}: revision {} is older than the kept history (oldest {})",
                            detail.base_rev, detail.oldest_rev
                        ),
                    }),
                );
                return Ok(());
            }
            Err(other) => return Err(other.into()),
        };
        if submitted.duplicate {
            self.send(
                Recipient::Client(client),
                ServerMessage::Ack(Ack {
                    seq,
                    id: Some(id),
                    n: None,
                    rev: Some(submitted.rev),
                }),
            );
            return Ok(());
        }
        self.dirty.insert(id);
        self.publish(
            Some((client, seq)),
            EventChange::Text {
                id,
                rev: submitted.rev,
                op: submitted.op,
            },
        );
        Ok(())
    }

    fn legacy_update(&mut self, update: LegacyUpdate) -> Result<(), SyncError> {
        let bytes = update.content.into_bytes();
        match self.manifest.get(&update.path) {
            Some(entry) if entry.kind == FileKind::Text => {
                let id = entry.id.ok_or(SyncError::PathConflict {
                    path: update.path.clone(),
                    reason: "the file has no id".to_owned(),
                })?;
                let doc = self.document(id)?;
                let op = TextOp::diff(&doc.text(), &String::from_utf8_lossy(&bytes));
                if op.is_noop() {
                    return Ok(());
                }
                let rev = doc.apply(&op)?;
                self.dirty.insert(id);
                self.publish(None, EventChange::Text { id, rev, op });
                Ok(())
            }
            Some(entry) => {
                self.replace_content(&entry, Bytes::new(bytes))?;
                Ok(())
            }
            None => {
                let id = legacy_id(self.config.project, &update.path, self.n);
                self.create(CreateRequest {
                    id,
                    path: update.path,
                    seq: 0,
                    directory: false,
                    executable: false,
                    content: Some(Bytes::new(bytes)),
                })?;
                Ok(())
            }
        }
    }

    fn presence(&mut self, client: ClientId, presence: PresenceRequest) -> Result<(), SyncError> {
        let PresenceRequest { id, rev, cursor } = presence;
        let doc = self.document(id)?;
        let current = doc.rev();
        let cursor = match cursor {
            Some(cursor) if rev < current => {
                let head = doc.transform_position_since(rev, cursor.head)?;
                let anchor = doc.transform_position_since(rev, cursor.anchor)?;
                Some(crate::protocol::Cursor { head, anchor })
            }
            other => other,
        };
        self.send(
            Recipient::AllExcept(client),
            ServerMessage::Presence(PresenceEvent {
                client,
                id,
                rev: current.max(rev),
                cursor,
            }),
        );
        Ok(())
    }

    // ------------------------------------------------------------ tree

    /// Runs a tree request once per `(client, seq)`: a retry is acked again.
    fn tree_request(
        &mut self,
        client: ClientId,
        seq: u64,
        apply: impl FnOnce(&mut Self) -> Result<TreeOutcome, SyncError>,
    ) -> Result<(), SyncError> {
        if let Some(done) = self
            .applied
            .get(&client)
            .and_then(|a| a.recent.get(&seq))
            .copied()
        {
            self.send(
                Recipient::Client(client),
                ServerMessage::Ack(Ack {
                    seq,
                    id: None,
                    n: done,
                    rev: None,
                }),
            );
            return Ok(());
        }
        let result = apply(self)?;
        let n = match result {
            Some((changes, contents)) => {
                let manifest = self.manifest.id();
                Some(self.publish(
                    Some((client, seq)),
                    EventChange::Tree {
                        manifest,
                        changes,
                        contents,
                    },
                ))
            }
            None => {
                self.send(
                    Recipient::Client(client),
                    ServerMessage::Ack(Ack {
                        seq,
                        id: None,
                        n: None,
                        rev: None,
                    }),
                );
                None
            }
        };
        let applied = self.applied.entry(client).or_default();
        applied.recent.insert(seq, n);
        while applied.recent.len() > APPLIED_KEPT {
            applied.recent.pop_first();
        }
        Ok(())
    }

    /// Makes `changes` the next manifest version (all or nothing).
    fn commit(&mut self, changes: &[Change]) -> Result<(), SyncError> {
        let next = self.manifest.successor().apply_changes(changes)?;
        let previous = std::mem::replace(&mut self.manifest, next);
        self.manifests.push_back(previous);
        while self.manifests.len() > self.config.kept_manifests {
            self.manifests.pop_front();
        }
        Ok(())
    }

    /// The first free path for `wanted` (itself, or `name (2).ext`, …),
    /// ignoring the entry `moving` (which is leaving its place).
    fn free_path(
        &self,
        wanted: &FilePath,
        probe: &FileEntry,
        moving: Option<&FilePath>,
    ) -> Result<FilePath, SyncError> {
        let mut base = self.manifest.clone();
        if let Some(old) = moving {
            let _ = base.remove(old);
        }
        let mut wanted = wanted.clone();
        let mut attempt = 1u32;
        while attempt <= 1000 {
            let path = if attempt == 1 {
                wanted.clone()
            } else {
                numbered(&wanted, attempt)?
            };
            let candidate = FileEntry {
                path: path.clone(),
                ..probe.clone()
            };
            let mut trial = base.clone();
            match trial.insert(candidate) {
                Ok(None) => return Ok(path),
                Err(ManifestError::ParentIsFile { parent, .. }) => {
                    return Err(SyncError::PathConflict {
                        path: wanted,
                        reason: format!("{parent} is a file"),
                    });
                }
                // A directory on the way exists under another spelling
                // (`Src` for `src`): use it, as a case-insensitive disk would.
                Err(ManifestError::PortableKeyCollision { existing, .. })
                    if existing.depth() < path.depth() && base.is_directory(&existing) =>
                {
                    let rest: Vec<&str> = path.segments().skip(existing.depth()).collect();
                    let respelled = format!("{existing}/{}", rest.join("/"));
                    wanted = FilePath::parse(&respelled).map_err(|e| SyncError::PathConflict {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                    attempt = 1;
                    continue;
                }
                Err(ManifestError::PortableKeyCollision { existing, .. })
                    if existing.depth() < path.depth() =>
                {
                    return Err(SyncError::PathConflict {
                        path: wanted,
                        reason: format!("{existing} is a file"),
                    });
                }
                Ok(Some(_))
                | Err(
                    ManifestError::KindConflict { .. }
                    | ManifestError::PortableKeyCollision { .. }
                    | ManifestError::PathTooLong { .. },
                ) => {}
                Err(other) => return Err(other.into()),
            }
            attempt += 1;
        }
        Err(SyncError::PathConflict {
            path: wanted,
            reason: "no free name after 1000 attempts".to_owned(),
        })
    }

    fn create(&mut self, create: CreateRequest) -> Result<TreeOutcome, SyncError> {
        if self.manifest.path_of(&create.id).is_some() {
            return Ok(None);
        }
        let (probe, content) = if create.directory {
            (FileEntry::directory(create.path.clone()), None)
        } else {
            let bytes = create.content.unwrap_or_else(|| Bytes::new(Vec::new()));
            (
                FileEntry::from_content(create.path.clone(), bytes.as_slice()),
                Some(bytes),
            )
        };
        let probe = probe
            .with_id(create.id)
            .with_executable(create.executable && !create.directory);
        let path = self.free_path(&create.path, &probe, None)?;
        let entry = FileEntry { path, ..probe };
        let changes = vec![Change::Added {
            entry: entry.clone(),
        }];
        self.commit(&changes)?;
        let mut contents = Vec::new();
        if let Some(bytes) = content {
            self.store
                .put(entry.hash, bytes.0.clone())
                .map_err(|_| SyncError::UnknownFile { id: create.id })?;
            contents.push((entry.hash, bytes));
        }
        Ok(Some((changes, contents)))
    }

    fn replace_content(
        &mut self,
        entry: &FileEntry,
        bytes: Bytes,
    ) -> Result<TreeOutcome, SyncError> {
        let id = entry.id.ok_or(SyncError::PathConflict {
            path: entry.path.clone(),
            reason: "the file has no id".to_owned(),
        })?;
        // A live text document is folded in first, so the old entry is current.
        self.checkpoint_files(&[id]);
        let old = self
            .manifest
            .get_by_id(&id)
            .ok_or(SyncError::UnknownFile { id })?;
        let new = FileEntry::from_content(old.path.clone(), bytes.as_slice())
            .with_id(id)
            .with_executable(old.executable)
            .with_revision(old.revision + 1);
        if new.hash == old.hash && new.kind == old.kind {
            return Ok(None);
        }
        let change = if new.kind == old.kind {
            Change::Modified {
                old,
                new: new.clone(),
            }
        } else {
            Change::KindChanged {
                old,
                new: new.clone(),
            }
        };
        let changes = vec![change];
        self.commit(&changes)?;
        self.docs.remove(&id);
        self.dirty.remove(&id);
        self.store
            .put(new.hash, bytes.0.clone())
            .map_err(|_| SyncError::UnknownFile { id })?;
        Ok(Some((changes, vec![(new.hash, bytes)])))
    }

    fn delete(&mut self, delete: &DeleteRequest) -> Result<TreeOutcome, SyncError> {
        if self.manifest.path_of(&delete.id).is_none() {
            return Ok(None);
        }
        self.checkpoint_files(&[delete.id]);
        let entry = self
            .manifest
            .get_by_id(&delete.id)
            .ok_or(SyncError::UnknownFile { id: delete.id })?;
        let changes = vec![Change::Removed { entry }];
        self.commit(&changes)?;
        self.docs.remove(&delete.id);
        self.dirty.remove(&delete.id);
        Ok(Some((changes, Vec::new())))
    }

    fn rename(&mut self, rename: &RenameRequest) -> Result<TreeOutcome, SyncError> {
        if let Some(directory) = &rename.directory {
            return self.rename_directory(directory, &rename.to);
        }
        let Some(id) = rename.id else { return Ok(None) };
        self.checkpoint_files(&[id]);
        let old = self
            .manifest
            .get_by_id(&id)
            .ok_or(SyncError::UnknownFile { id })?;
        if old.path == rename.to {
            return Ok(None);
        }
        let path = self.free_path(&rename.to, &old, Some(&old.path))?;
        let new = FileEntry {
            path,
            ..old.clone()
        };
        let changes = vec![Change::Renamed { old, new }];
        self.commit(&changes)?;
        Ok(Some((changes, Vec::new())))
    }

    /// Every entry at or below `directory`.
    fn entries_below(&self, directory: &FilePath) -> Vec<FileEntry> {
        self.manifest
            .entries()
            .into_iter()
            .filter(|entry| entry.path.starts_with(directory))
            .collect()
    }

    fn rename_directory(
        &mut self,
        from: &FilePath,
        to: &FilePath,
    ) -> Result<TreeOutcome, SyncError> {
        if to.starts_with(from) {
            return Err(SyncError::PathConflict {
                path: to.clone(),
                reason: format!("{from} cannot move inside itself"),
            });
        }
        let moving = self.entries_below(from);
        if moving.is_empty() {
            return Ok(None);
        }
        let ids: Vec<FileId> = moving.iter().filter_map(|e| e.id).collect();
        self.checkpoint_files(&ids);
        // Checkpointing changed the moving text files' entries: list them again.
        let moving = self.entries_below(from);
        let mut base = self.manifest.clone();
        for entry in &moving {
            let _ = base.remove(&entry.path);
        }
        for attempt in 1..=1000u32 {
            let target = if attempt == 1 {
                to.clone()
            } else {
                numbered(to, attempt)?
            };
            let mut changes = Vec::with_capacity(moving.len());
            for old in &moving {
                let rest = &old.path.as_str()[from.as_str().len()..];
                let path = FilePath::parse(&format!("{target}{rest}")).map_err(|e| {
                    SyncError::PathConflict {
                        path: to.clone(),
                        reason: e.to_string(),
                    }
                })?;
                changes.push(Change::Renamed {
                    old: old.clone(),
                    new: FileEntry {
                        path,
                        ..old.clone()
                    },
                });
            }
            let mut trial = base.clone();
            let fits = changes.iter().all(|c| {
                c.new_entry().is_some_and(|e| {
                    !trial.is_directory(&e.path)
                        && trial.insert(e.clone()).is_ok_and(|old| old.is_none())
                })
            });
            if fits {
                self.commit(&changes)?;
                return Ok(Some((changes, Vec::new())));
            }
        }
        Err(SyncError::PathConflict {
            path: to.clone(),
            reason: "no free name after 1000 attempts".to_owned(),
        })
    }

    // ------------------------------------------------------------ checkpoints

    /// Writes every edited text file's current revision, size and hash into
    /// a new manifest version, stores its text, compacts its document (see
    /// [`TextDocument::compact`]), and broadcasts a `file:checkpoint`. Returns the event number, or `None` when nothing
    /// was edited.
    pub fn checkpoint(&mut self) -> Option<u64> {
        let ids: Vec<FileId> = self.dirty.iter().copied().collect();
        self.checkpoint_files(&ids)
    }

    fn checkpoint_files(&mut self, ids: &[FileId]) -> Option<u64> {
        let mut files = Vec::new();
        let mut changes = Vec::new();
        for id in ids {
            if !self.dirty.remove(id) {
                continue;
            }
            let (Some(doc), Some(old)) = (self.docs.get_mut(id), self.manifest.get_by_id(id))
            else {
                continue;
            };
            // A checkpointed document holds its text flat until the next
            // edit (1.0x its size instead of the rope's 2.3-7x): most
            // documents of a server are idle most of the time.
            doc.compact();
            let text = doc.text();
            let hash = self.store.insert(text.into_bytes());
            let new = FileEntry {
                size: doc.len_bytes() as u64,
                hash,
                revision: doc.rev(),
                ..old.clone()
            };
            files.push(CheckpointFile {
                id: *id,
                rev: new.revision,
                size: new.size,
                hash,
            });
            changes.push(Change::Modified { old, new });
        }
        if changes.is_empty() {
            return None;
        }
        // Checkpoints only change sizes, hashes and revisions of existing
        // entries, which the manifest always accepts within its limits.
        if self.commit(&changes).is_err() {
            return None;
        }
        let manifest = self.manifest.id();
        Some(self.publish(None, EventChange::Checkpoint { manifest, files }))
    }

    // ------------------------------------------------------------ replay

    /// Applies an event this project already ordered, read back from a
    /// durable log after a restart (the server was rebuilt with
    /// [`with_store`](Self::with_store) from its last checkpoint). Nothing is
    /// sent; the event joins the catch-up log, text edits and tree requests
    /// are remembered for their client's retries, and the event number
    /// becomes `event.n`. Events at or below [`event_number`](Self::event_number)
    /// are skipped (returns `false`).
    ///
    /// # Errors
    /// [`SyncError::Replay`] when `event.n` leaves a gap, or the event does
    /// not reproduce its recorded revision or manifest id; other
    /// [`SyncError`]s when its change does not apply. The server may then
    /// hold part of the event: rebuild it rather than serve from it.
    pub fn replay(&mut self, event: &Event) -> Result<bool, SyncError> {
        let n = event.n;
        if n <= self.n {
            return Ok(false);
        }
        if n != self.n + 1 {
            return Err(SyncError::Replay {
                n,
                reason: format!("the project is at event {}", self.n),
            });
        }
        let outbox = self.outbox.len();
        let manifest = match &event.change {
            EventChange::Text { id, rev, op } => {
                let doc = self.document(*id)?;
                let got = match (event.client, event.seq) {
                    (Some(client), Some(seq)) => {
                        doc.submit(client, seq, rev.saturating_sub(1), op.clone())?
                            .rev
                    }
                    _ => doc.apply(op)?,
                };
                if got != *rev {
                    return Err(SyncError::Replay {
                        n,
                        reason: format!("file {id} reached revision {got}, not {rev}"),
                    });
                }
                self.dirty.insert(*id);
                None
            }
            EventChange::Tree {
                manifest,
                changes,
                contents,
            } => {
                for (hash, bytes) in contents {
                    self.store
                        .put(*hash, bytes.0.clone())
                        .map_err(|e| SyncError::Replay {
                            n,
                            reason: e.to_string(),
                        })?;
                }
                self.commit(changes)?;
                for change in changes {
                    let gone = match change {
                        Change::Removed { entry } => entry.id,
                        Change::Modified { new, .. } | Change::KindChanged { new, .. } => new.id,
                        _ => None,
                    };
                    if let Some(id) = gone {
                        self.docs.remove(&id);
                        self.dirty.remove(&id);
                    }
                }
                if let (Some(client), Some(seq)) = (event.client, event.seq) {
                    let applied = self.applied.entry(client).or_default();
                    applied.recent.insert(seq, Some(n));
                    while applied.recent.len() > APPLIED_KEPT {
                        applied.recent.pop_first();
                    }
                }
                Some(*manifest)
            }
            EventChange::Checkpoint { manifest, files } => {
                let ids: Vec<FileId> = files.iter().map(|file| file.id).collect();
                for file in files {
                    let rev = self.document(file.id)?.rev();
                    if rev != file.rev {
                        return Err(SyncError::Replay {
                            n,
                            reason: format!(
                                "file {} is at revision {rev}, not {}",
                                file.id, file.rev
                            ),
                        });
                    }
                    self.dirty.insert(file.id);
                }
                // Publishes (numbering it `n`); its message is dropped below.
                self.checkpoint_files(&ids);
                self.outbox.truncate(outbox);
                Some(*manifest)
            }
        };
        if let Some(expected) = manifest {
            if self.manifest.id() != expected {
                return Err(SyncError::Replay {
                    n,
                    reason: format!("the manifest became {}, not {expected}", self.manifest.id()),
                });
            }
        }
        if self.n < n {
            self.n = n;
            self.log.push_back(Arc::new(event.clone()));
            while self.log.len() > self.config.log_events {
                self.log.pop_front();
            }
        }
        Ok(true)
    }

    // ------------------------------------------------------------ catch-up

    fn hello(&mut self, client: ClientId, hello: &Hello) {
        let applied: Vec<(FileId, u64)> = self
            .docs
            .iter()
            .filter_map(|(id, doc)| doc.last_seq(client).map(|seq| (*id, seq)))
            .collect();
        // Rung 1: replay the events the client missed.
        if let Some(seen) = hello.n {
            let oldest = self.log.front().map_or(self.n + 1, |event| event.n);
            if seen <= self.n && seen + 1 >= oldest {
                let events: Vec<Event> = self
                    .log
                    .iter()
                    .filter(|e| e.n > seen)
                    .map(|e| (**e).clone())
                    .collect();
                let message = ServerMessage::CatchUp(CatchUp {
                    n: self.n,
                    applied: applied.clone(),
                    rung: Rung::Events { events },
                });
                if message.to_json().len() <= self.config.limits.max_message_bytes {
                    self.send(Recipient::Client(client), message);
                    return;
                }
            }
        }
        // Rung 2: a changeset from a manifest version the server still has.
        self.checkpoint();
        if let Some(base) = hello.manifest.and_then(|id| {
            self.manifests
                .iter()
                .chain([&self.manifest])
                .find(|m| m.id() == id)
                .cloned()
        }) {
            if let Ok(changeset) = Changeset::between(&base, &self.manifest, &self.store) {
                let texts = self.manifest.text_revisions();
                let message = ServerMessage::CatchUp(CatchUp {
                    n: self.n,
                    applied: applied.clone(),
                    rung: Rung::Changeset {
                        changeset: Box::new(changeset),
                        texts,
                    },
                });
                if message.to_json().len() <= self.config.limits.max_message_bytes {
                    self.send(Recipient::Client(client), message);
                    return;
                }
            }
        }
        // Rung 3: a snapshot in hydration batches, skipping what the client has.
        let have: HashSet<ContentHash> = hello.have.iter().copied().collect();
        let limits = &self.config.limits;
        let options = HydrationOptions {
            max_batch_bytes: if hello.binary && self.config.binary_frames {
                limits.max_binary_batch_bytes.max(limits.max_batch_bytes)
            } else {
                limits.max_batch_bytes
            },
        };
        let plan = hydrate::plan(
            &self.manifest,
            |_| false,
            |hash| have.contains(hash),
            &options,
        );
        let total = plan.progress_total();
        self.send(
            Recipient::Client(client),
            ServerMessage::CatchUp(CatchUp {
                n: self.n,
                applied,
                rung: Rung::Snapshot {
                    manifest: self.manifest.id(),
                    version: self.manifest.version(),
                    parent: self.manifest.parent(),
                    batches: u32::try_from(plan.batches.len()).unwrap_or(u32::MAX),
                    files: total.files_total,
                    bytes: total.bytes_total,
                },
            }),
        );
        for index in 0..plan.batches.len() {
            if let Ok(batch) = plan.materialize(index, &self.store) {
                self.send(Recipient::Client(client), ServerMessage::BulkUpdate(batch));
            }
        }
    }
}

/// `name (k).ext` beside `path`.
fn numbered(path: &FilePath, k: u32) -> Result<FilePath, SyncError> {
    let name = path.file_name();
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => (&name[..dot], &name[dot..]),
        _ => (name, ""),
    };
    let numbered = format!("{stem} ({k}){ext}");
    let joined = match path.parent() {
        Some(parent) => format!("{parent}/{numbered}"),
        None => numbered,
    };
    FilePath::parse(&joined).map_err(|e| SyncError::PathConflict {
        path: path.clone(),
        reason: e.to_string(),
    })
}

/// A deterministic id for a file created by a legacy `{path, content}` update.
fn legacy_id(project: Option<uuid::Uuid>, path: &FilePath, n: u64) -> FileId {
    let project = project.unwrap_or_default();
    FileId::derive(
        "velocity-sync 2026-11 legacy file id",
        format!("{project}\0{n}\0{path}").as_bytes(),
    )
}

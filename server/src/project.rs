//! One task per project: owns its [`ProjectServer`], applies messages in
//! batches, commits each batch's events to the ops log in one transaction
//! (group commit) before anything is sent, routes the outbound messages to
//! the connections, and writes `project_files` at checkpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use uuid::Uuid;
use velocity_sync::ot::ClientId;
use velocity_sync::protocol::{ClientMessage, Event, ServerMessage};
use velocity_sync::{FileEntry, FileId, ProjectServer, Recipient, Role, ServerConfig};

use velocity_sync::Outbound;
use velocity_sync::foreign::{self, ForeignWrite};
use velocity_sync::rows::written_entries;

use super::store::{Batch, CheckpointWrite, Job, Pending, StorageError};
use super::worker::StoreHandle;

/// Messages a project task takes.
#[derive(Debug)]
pub enum Inbound {
    /// A connection said `sync:hello` (passed on as the next message).
    Join {
        /// Its client id.
        client: ClientId,
        /// Its token's role.
        role: Role,
        /// The connection (a client id reconnecting gets a new one).
        conn: u64,
        /// Its bounded send queue.
        tx: Outbox,
    },
    /// A decoded message from a connection.
    Message {
        /// The client.
        client: ClientId,
        /// The connection.
        conn: u64,
        /// The message.
        message: ClientMessage,
    },
    /// A connection closed.
    Leave {
        /// The client.
        client: ClientId,
        /// The connection.
        conn: u64,
    },
    /// The manifest as JSON, for `GET /projects/{id}/manifest`.
    Manifest(oneshot::Sender<String>),
    /// Other writers changed the project: another instance committed up to
    /// event `Some(n)`, or a foreign `project_files` write (`None`) is
    /// queued. Take the ordering lock and catch up (a poll for an event this
    /// task already has is dropped without touching the database).
    Poll(Option<u64>),
}

/// The client id foreign `project_files` writes are applied as (an editor
/// without a connection). Tokens never grant it.
pub const DATABASE_CLIENT: ClientId = u64::MAX;

/// Direct replies (a catch-up's hydration batches) may queue this many
/// times the broadcast limit: a catch-up is a legitimate burst, bounded by
/// the project's size, while broadcasts piling up mean the client is not
/// keeping up.
pub const REPLY_FACTOR: usize = 64;

/// Encoded size from which a project task yields after routing a message.
const LARGE_MESSAGE: usize = 16 * 1024;

/// A connection's send queue, bounded by policy: a broadcast finds it full
/// at `limit` waiting messages, a direct reply at `limit * REPLY_FACTOR`.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Message>,
    queued: Arc<AtomicUsize>,
    limit: usize,
    /// Whether the client reads binary frames (it said so in its hello).
    binary: bool,
}

/// The connection's end of an [`Outbox`].
#[derive(Debug)]
pub struct OutboxReceiver {
    rx: mpsc::UnboundedReceiver<Message>,
    queued: Arc<AtomicUsize>,
}

impl Outbox {
    /// A queue holding `limit` broadcasts.
    pub fn new(limit: usize) -> (Self, OutboxReceiver) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let receiver = OutboxReceiver {
            rx,
            queued: Arc::clone(&queued),
        };
        (
            Self {
                tx,
                queued,
                limit,
                binary: false,
            },
            receiver,
        )
    }

    /// Lets the project send binary frames (see
    /// [`velocity_sync::protocol::frame`]) to this connection.
    pub fn set_binary(&mut self, binary: bool) {
        self.binary = binary;
    }

    /// Queues `frame`; false when the queue is full or closed.
    fn push(&self, frame: Message, reply: bool) -> bool {
        let cap = if reply {
            self.limit.saturating_mul(REPLY_FACTOR)
        } else {
            self.limit
        };
        if self.queued.load(AtomicOrdering::Relaxed) >= cap {
            return false;
        }
        self.queued.fetch_add(1, AtomicOrdering::Relaxed);
        self.tx.send(frame).is_ok()
    }
}

impl OutboxReceiver {
    /// The next message; `None` once the project dropped the connection
    /// and everything queued was taken.
    pub async fn recv(&mut self) -> Option<Message> {
        let frame = self.rx.recv().await?;
        self.queued.fetch_sub(1, AtomicOrdering::Relaxed);
        Some(frame)
    }
}

/// Settings of a project task.
#[derive(Debug, Clone, Copy)]
pub struct ProjectSettings {
    /// The core server's limits.
    pub config: ServerConfig,
    /// Delay after the last edit before `project_files` is written.
    pub checkpoint_after: Duration,
    /// Messages applied per batch at most.
    pub batch: usize,
}

/// Loads `project` (checkpoint + replayed ops) and serves it until its
/// inbound channel closes or storage fails.
pub async fn run(
    project: Uuid,
    store: StoreHandle,
    settings: ProjectSettings,
    mut rx: mpsc::Receiver<Inbound>,
) {
    let limits = settings.config.manifest_limits;
    let loaded = match store.call(move |s| s.load(project, limits)).await {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(%project, %error, "cannot load project");
            return;
        }
    };
    let written = written_entries(&loaded.manifest);
    let rows_n = loaded.n;
    // Ids the core server derives itself must not repeat across projects.
    let config = ServerConfig {
        project: Some(project),
        ..settings.config
    };
    let mut server = ProjectServer::with_store(loaded.manifest, loaded.blobs, loaded.n, config);
    for event in &loaded.events {
        if let Err(error) = server.replay(event) {
            tracing::error!(%project, n = event.n, %error, "cannot replay the ops log");
            return;
        }
    }
    server.connect(DATABASE_CLIENT, Role::Editor);
    tracing::info!(%project, n = server.event_number(), replayed = loaded.events.len(), "project loaded");
    let mut task = Task {
        project,
        store,
        persisted: server.event_number(),
        server,
        conns: HashMap::new(),
        written,
        rows_n,
        pending_rows: None,
        check_foreign: true,
    };
    let mut deadline: Option<Instant> = None;
    loop {
        let first = tokio::select! {
            message = rx.recv() => message,
            () = sleep_until(deadline) => {
                deadline = None;
                let Some((back, result)) = task.ordered(Vec::new(), true).await else {
                    tracing::error!(%project, "store thread gone; project stops");
                    return;
                };
                task = back;
                match result {
                    Ok(outbound) => task.route(outbound).await,
                    Err(error) => {
                        tracing::error!(%project, %error, "checkpoint failed; project stops");
                        return;
                    }
                }
                continue;
            }
        };
        let Some(first) = first else { break };
        let mut batch = vec![first];
        while batch.len() < settings.batch {
            match rx.try_recv() {
                Ok(message) => batch.push(message),
                Err(_) => break,
            }
        }
        // Our own commits come back as notices too: those cost nothing.
        let at = task.server.event_number();
        batch.retain(|m| !matches!(m, Inbound::Poll(Some(n)) if *n <= at));
        if batch.is_empty() {
            continue;
        }
        let before = task.persisted;
        let Some((back, result)) = task.ordered(batch, false).await else {
            tracing::error!(%project, "store thread gone; project stops");
            return;
        };
        task = back;
        match result {
            Ok(outbound) => {
                if task.persisted > before && deadline.is_none() {
                    deadline = Some(Instant::now() + settings.checkpoint_after);
                }
                task.route(outbound).await;
            }
            Err(error) => {
                tracing::error!(%project, %error, "ordering failed; project stops");
                return;
            }
        }
    }
    match task.ordered(Vec::new(), true).await {
        Some((_, Ok(_))) => {}
        Some((_, Err(error))) => tracing::error!(%project, %error, "final checkpoint failed"),
        None => tracing::error!(%project, "store thread gone before the final checkpoint"),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

struct Task {
    project: Uuid,
    store: StoreHandle,
    server: ProjectServer,
    conns: HashMap<ClientId, (u64, Outbox)>,
    /// The last event number in the ops log.
    persisted: u64,
    /// Rows as written at the last checkpoint, by id.
    written: HashMap<FileId, FileEntry>,
    /// The event number those rows include.
    rows_n: u64,
    /// Rows a checkpoint is writing, until its transaction commits.
    pending_rows: Option<(HashMap<FileId, FileEntry>, u64)>,
    /// Whether the next step looks for queued foreign writes: after the
    /// load, and after a notice of one (`Poll(None)`); the trigger always
    /// notifies, and a lost LISTEN connection polls every project.
    check_foreign: bool,
}

impl Task {
    fn apply(&mut self, message: Inbound) {
        match message {
            Inbound::Join {
                client,
                role,
                conn,
                tx,
            } => {
                // A reconnect replaces the older connection of this client.
                self.conns.insert(client, (conn, tx));
                self.server.connect(client, role);
            }
            Inbound::Message {
                client,
                conn,
                message,
            } => {
                if self.conns.get(&client).is_some_and(|(c, _)| *c == conn) {
                    self.server.handle(client, message);
                }
            }
            Inbound::Leave { client, conn } => {
                if self.conns.get(&client).is_some_and(|(c, _)| *c == conn) {
                    self.conns.remove(&client);
                    self.server.disconnect(client);
                }
            }
            Inbound::Poll(_) => {}
            Inbound::Manifest(reply) => {
                let manifest = self.server.manifest();
                let json = serde_json::json!({
                    "id": manifest.id().to_string(),
                    "version": manifest.version(),
                    "n": self.server.event_number(),
                    "entries": manifest.entries(),
                });
                let _ = reply.send(json.to_string());
            }
        }
    }

    /// Events among `outbound` not yet in the ops log, in order.
    fn new_events(&mut self, outbound: &[Outbound]) -> Vec<Event> {
        let mut events = Vec::new();
        for out in outbound {
            match &*out.message {
                ServerMessage::Event(event) if event.n > self.persisted => {
                    self.persisted = event.n;
                    events.push(event.clone());
                }
                _ => {}
            }
        }
        events
    }

    /// Sends each message to its recipients; drops connections whose
    /// queue is full (they catch up through the ladder on reconnect).
    ///
    /// After each large message (a hydration batch) it yields: the
    /// connection's writer, woken on this worker, would otherwise wait
    /// until every batch of a snapshot was encoded before sending the
    /// first (10,000 files: ~100 ms before the first batch left).
    async fn route(&mut self, outbound: Vec<Outbound>) {
        let mut dropped = Vec::new();
        for out in outbound {
            let recipients: Vec<ClientId> = match out.to {
                Recipient::Client(client) => vec![client],
                Recipient::AllExcept(except) => self
                    .conns
                    .keys()
                    .copied()
                    .filter(|c| *c != except)
                    .collect(),
                Recipient::All => self.conns.keys().copied().collect(),
            };
            let reply = matches!(out.to, Recipient::Client(_));
            // Each form encoded once, when a recipient first needs it.
            let mut text: Option<Utf8Bytes> = None;
            let mut binary: Option<Option<axum::body::Bytes>> = None;
            for client in recipients {
                let Some((_, tx)) = self.conns.get(&client) else {
                    continue;
                };
                let raw = if tx.binary {
                    binary
                        .get_or_insert_with(|| out.message.to_binary().map(Into::into))
                        .clone()
                } else {
                    None
                };
                let frame = match raw {
                    Some(bytes) => Message::Binary(bytes),
                    None => Message::Text(
                        text.get_or_insert_with(|| Utf8Bytes::from(out.message.to_json()))
                            .clone(),
                    ),
                };
                if !tx.push(frame, reply) {
                    dropped.push(client);
                }
            }
            let encoded = text.as_ref().map_or(0, |t| t.as_str().len()).max(
                binary
                    .as_ref()
                    .and_then(Option::as_ref)
                    .map_or(0, axum::body::Bytes::len),
            );
            if encoded >= LARGE_MESSAGE {
                tokio::task::yield_now().await;
            }
        }
        for client in dropped {
            if self.conns.remove(&client).is_some() {
                tracing::warn!(project = %self.project, client, "send queue full or closed: dropped");
                self.server.disconnect(client);
            }
        }
    }

    /// Runs one ordering step on the store's thread: catches up on what
    /// others committed, applies `batch` (and a checkpoint when asked),
    /// and commits the new events before anything is sent. Returns the
    /// task and, once committed, the messages to route; `None` when the
    /// store's thread is gone (the task went with it).
    async fn ordered(
        self,
        batch: Vec<Inbound>,
        checkpoint: bool,
    ) -> Option<(Self, Result<Vec<Outbound>, StorageError>)> {
        let (reply, answer) = oneshot::channel();
        let store = self.store.clone();
        let foreign = self.check_foreign || batch.iter().any(|m| matches!(m, Inbound::Poll(None)));
        let job = TaskJob {
            foreign,
            task: self,
            batch: Some(batch),
            checkpoint,
            outbound: Vec::new(),
            reply,
        };
        if !store.order(Box::new(job)) {
            return None;
        }
        answer.await.ok()
    }

    /// Inside the ordering transaction: everything [`Self::ordered`] does
    /// short of committing.
    fn step(
        &mut self,
        pending: Pending,
        batch: Vec<Inbound>,
        checkpoint: bool,
        outbound: &mut Vec<Outbound>,
    ) -> Result<Batch, StorageError> {
        let project = self.project;
        for event in pending.events {
            self.server
                .replay(&event)
                .map_err(|error| StorageError::Apply {
                    project,
                    reason: format!("event {} of another instance: {error}", event.n),
                })?;
            self.persisted = self.persisted.max(event.n);
            // Clients here learn it like any broadcast; its author is
            // connected elsewhere.
            outbound.push(Outbound {
                to: Recipient::All,
                message: Arc::new(ServerMessage::Event(event)),
            });
        }
        for change in pending.foreign {
            self.foreign(change);
        }
        for message in batch {
            self.apply(message);
        }
        let mut write = None;
        if checkpoint {
            let _ = self.server.checkpoint();
        }
        while let Some(out) = self.server.poll_outbound() {
            outbound.push(out);
        }
        let events = self.new_events(outbound);
        if checkpoint && (self.server.event_number() != self.rows_n || !events.is_empty()) {
            write = Some(self.checkpoint_write());
        }
        Ok(Batch {
            events,
            checkpoint: write,
        })
    }

    /// After a commit: the checkpoint's rows are now what is written, and
    /// the foreign queue was read if it was asked for.
    fn committed(&mut self, foreign_read: bool) {
        if foreign_read {
            self.check_foreign = false;
        }
        if let Some((current, n)) = self.pending_rows.take() {
            self.written = current;
            self.rows_n = n;
        }
    }

    /// A foreign write to `project_files`, applied as one more ordered
    /// event of the built-in database client (see [`super::foreign`]).
    fn foreign(&mut self, change: ForeignWrite) {
        let seq = self.server.event_number() + 1;
        for message in foreign::messages(&self.server, change, seq) {
            tracing::debug!(project = %self.project, kind = message.name(), "foreign write");
            self.server.handle(DATABASE_CLIENT, message);
        }
    }

    /// The rows that changed since the last checkpoint, remembered as
    /// pending until the transaction commits.
    fn checkpoint_write(&mut self) -> CheckpointWrite {
        let current = written_entries(self.server.manifest());
        let n = self.server.event_number();
        let mut write = CheckpointWrite {
            n,
            manifest_version: self.server.manifest().version(),
            manifest_parent: self.server.manifest().parent(),
            ..CheckpointWrite::default()
        };
        for (id, entry) in &current {
            if self.written.get(id) != Some(entry) {
                let content = self.server.content(id).unwrap_or_default();
                write.upserts.push((entry.clone(), content));
            }
        }
        write.executable = current
            .values()
            .filter(|entry| entry.executable)
            .filter_map(|entry| entry.id)
            .collect();
        write.removed = self
            .written
            .keys()
            .filter(|id| !current.contains_key(id))
            .copied()
            .collect();
        tracing::debug!(project = %self.project, n, upserts = write.upserts.len(), removed = write.removed.len(), "checkpoint");
        self.pending_rows = Some((current, n));
        write
    }
}

/// A task's ordering step, queued on its store's thread.
struct TaskJob {
    task: Task,
    /// Whether this step reads the foreign queue.
    foreign: bool,
    batch: Option<Vec<Inbound>>,
    checkpoint: bool,
    outbound: Vec<Outbound>,
    reply: oneshot::Sender<(Task, Result<Vec<Outbound>, StorageError>)>,
}

impl Job for TaskJob {
    fn project(&self) -> Uuid {
        self.task.project
    }

    fn after(&self) -> u64 {
        self.task.server.event_number()
    }

    fn foreign(&self) -> bool {
        self.foreign
    }

    fn step(&mut self, pending: Pending) -> Result<Batch, StorageError> {
        let batch = self.batch.take().unwrap_or_default();
        self.task
            .step(pending, batch, self.checkpoint, &mut self.outbound)
    }

    fn finish(self: Box<Self>, result: Result<(), StorageError>) {
        let Self {
            mut task,
            outbound,
            reply,
            foreign,
            ..
        } = *self;
        let result = result.map(|()| {
            task.committed(foreign);
            outbound
        });
        let _ = reply.send((task, result));
    }
}

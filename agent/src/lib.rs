//! The preview-container agent: keeps a directory equal to a project on the
//! sync server, for a dev server watching it.
//!
//! - [`writer`]: every write through directory handles (cap-std), atomic,
//!   never outside the root, never through a planted symlink;
//! - [`disk`]: applies what the protocol client reports, journals
//!   multi-file changes, repairs drift;
//! - [`state`]: the state file and the journal;
//! - [`ignore`]: what the agent leaves alone (`node_modules/`, `dist/`, …);
//! - [`progress`]: the hydration bar or plain lines;
//! - [`Agent`]: the connection loop (connect, hydrate, live updates,
//!   reconnect, drift timer, state saves).
//!
//! **Mode: one-way replica.** The server is the truth. A local change to a
//! synced file (an edit, a delete, a mode change) is found by drift repair
//! (at start and every [`AgentOptions::drift_every`]), reported in
//! [`AgentEvent::Drift`] and put back. Files that are not in the project and
//! not ignored are reported as untracked and kept. A two-way mode would turn
//! the same drift report into `file:update`/`file:create` requests with an
//! editor token instead of repairs; [`Mode`] leaves room for it.
//!
//! The sync logic itself (event order, catch-up, hydration batches, text
//! ops) is core's [`ProjectClient`]; this module only moves bytes between it,
//! the socket and the disk.

pub mod disk;
pub mod error;
pub mod ignore;
pub mod progress;
pub mod state;
pub mod writer;

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use velocity_sync::protocol::{
    ProtocolError, ProtocolLimits, ServerMessage, decode_server, decode_server_binary,
};
use velocity_sync::{ClientEvent, ContentHash, FileKind, ProjectClient};

pub use self::disk::{Applied, Disk, DriftReport};
pub use self::error::AgentError;
pub use self::ignore::{DEFAULT_IGNORED, Ignore};
pub use self::progress::Reporter;
pub use self::state::{State, StateDir};
pub use self::writer::{Record, RootWriter};

/// How the agent treats local changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// The server is the truth: local changes are reported and put back.
    #[default]
    Replica,
}

/// How an agent runs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The server's base URL (`http://host:port` or `ws://host:port`).
    pub server: String,
    /// The project id.
    pub project: uuid::Uuid,
    /// An access token for the project (role `agent`).
    pub token: String,
    /// The directory to keep equal to the project.
    pub root: PathBuf,
    /// Where the state file lives; `None`: `.velocity-sync/` in the root.
    pub state_dir: Option<PathBuf>,
    /// Ignore rules besides [`DEFAULT_IGNORED`].
    pub ignore: Vec<String>,
    /// How often drift repair runs after the one at start.
    pub drift_every: Duration,
    /// Flush every live change before renaming it into place, and the whole
    /// file system once at the end of a hydration.
    pub fsync: bool,
    /// Stop once the first catch-up (a hydration) is on disk.
    pub once: bool,
    /// Local changes policy.
    pub mode: Mode,
}

impl AgentOptions {
    /// Defaults: drift repair every 5 s, fsync on, keep running.
    pub fn new(server: &str, project: uuid::Uuid, token: &str, root: PathBuf) -> Self {
        Self {
            server: server.to_owned(),
            project,
            token: token.to_owned(),
            root,
            state_dir: None,
            ignore: Vec::new(),
            drift_every: Duration::from_secs(5),
            fsync: true,
            once: false,
            mode: Mode::Replica,
        }
    }

    fn url(&self) -> String {
        let base = self.server.trim_end_matches('/');
        let base = if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            base.to_owned()
        };
        format!("{base}/projects/{}/ws", self.project)
    }
}

/// What the agent did, for logs and an embedding orchestrator.
#[derive(Debug)]
#[non_exhaustive]
pub enum AgentEvent {
    /// Started from a state file: resumed at event `n` (or, when the files
    /// on disk no longer match it, from a snapshot that skips what is there).
    Started {
        /// Whether the client resumed at its event number.
        resumed: bool,
        /// Files whose content was already on disk.
        preloaded: usize,
        /// Journaled renames finished from an interrupted change.
        recovered: usize,
    },
    /// Connected to the server.
    Connected,
    /// The connection failed or closed; the agent retries.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A hydration is under way.
    Hydrating(velocity_sync::hydrate::Progress),
    /// Caught up with the server at event `n`, every file on disk.
    Synced {
        /// The event number.
        n: u64,
        /// Files written during the catch-up.
        written: usize,
    },
    /// Changes written (hydration batches and live changes), in write order.
    Applied {
        /// Paths written.
        written: Vec<String>,
        /// Paths removed.
        removed: Vec<String>,
    },
    /// A change the agent refused or failed (the rest was applied).
    Refused {
        /// The path (or what) it concerned.
        path: String,
        /// The stable code.
        code: &'static str,
        /// The message.
        message: String,
    },
    /// Paths left alone because the agent does not own them.
    Ignored {
        /// The paths.
        paths: Vec<String>,
    },
    /// A drift repair found something.
    Drift {
        /// Put back.
        repaired: Vec<String>,
        /// Removed (no longer in the project).
        removed: Vec<String>,
        /// Not in the project, kept.
        untracked: Vec<String>,
        /// Files read and hashed for the comparison.
        hashed: usize,
    },
}

type Observer = Box<dyn FnMut(&AgentEvent) + Send>;

/// A running agent. See the [module docs](self).
pub struct Agent {
    options: AgentOptions,
    disk: Disk,
    client: ProjectClient,
    reporter: Reporter,
    observer: Observer,
    /// Files written since the current catch-up began.
    catch_up_written: usize,
    dirty: bool,
    /// What `open` found, reported when `run` starts (after the observer is set).
    started: Option<AgentEvent>,
    /// Untracked files last reported.
    untracked: Vec<String>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("root", &self.options.root)
            .field("n", &self.client.event_number())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Opens the root and the state directory, finishes an interrupted
    /// multi-file change, and rebuilds the protocol client from the state
    /// file and the files on disk.
    ///
    /// # Errors
    /// [`AgentError`] when the root or state directory cannot be opened or
    /// a journal cannot be completed.
    pub fn open(options: AgentOptions) -> Result<Self, AgentError> {
        let ignore = Ignore::with_defaults(options.ignore.iter().map(String::as_str));
        let writer = RootWriter::open(&options.root, ignore)?;
        let state_dir = match &options.state_dir {
            Some(dir) => StateDir::at(dir)?,
            None => StateDir::inside(writer.root())?,
        };
        let mut disk = Disk::new(writer, state_dir, options.fsync);
        let recovered = disk.recover()?;
        let state = disk
            .state_dir()
            .load()
            .filter(|s| s.project == options.project.to_string());
        // A token bound to a client id (the sync server requires one) says
        // which id this agent is; without one, a fresh id per session.
        let client_id = velocity_sync::token::peek_client_id(&options.token);
        let (mut client, resumed, preloaded) = rebuild(&mut disk, state, client_id);
        // Hydration batches come with their contents raw: no JSON escapes
        // or base64 to undo.
        client.set_binary_frames(true);
        let agent = Self {
            options,
            disk,
            client,
            reporter: Reporter::auto(),
            observer: Box::new(|_| {}),
            catch_up_written: 0,
            dirty: false,
            started: Some(AgentEvent::Started {
                resumed,
                preloaded,
                recovered,
            }),
            untracked: Vec::new(),
        };
        Ok(agent)
    }

    /// Sends every [`AgentEvent`] to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: impl FnMut(&AgentEvent) + Send + 'static) -> Self {
        self.observer = Box::new(observer);
        self
    }

    /// Uses `reporter` for hydration progress (default: [`Reporter::auto`]).
    #[must_use]
    pub fn with_reporter(mut self, reporter: Reporter) -> Self {
        self.reporter = reporter;
        self
    }

    /// The protocol client.
    pub fn client(&self) -> &ProjectClient {
        &self.client
    }

    /// The disk.
    pub fn disk(&self) -> &Disk {
        &self.disk
    }

    fn emit(&mut self, event: &AgentEvent) {
        (self.observer)(event);
    }

    /// Runs drift repair now and reports what it found.
    pub fn repair(&mut self) -> DriftReport {
        let report = self.disk.repair(&self.client);
        // Untracked files are reported when the set changes, not every tick.
        let untracked_changed = report.untracked != self.untracked;
        if untracked_changed {
            self.untracked.clone_from(&report.untracked);
        }
        if !report.is_clean() || untracked_changed {
            self.emit(&AgentEvent::Drift {
                repaired: report.repaired.clone(),
                removed: report.removed.clone(),
                untracked: report.untracked.clone(),
                hashed: report.hashed,
            });
            self.dirty = true;
        }
        for (path, error) in &report.refused {
            self.emit(&AgentEvent::Refused {
                path: path.clone(),
                code: error.code(),
                message: error.to_string(),
            });
        }
        report
    }

    /// Saves the state file if the client is synced.
    ///
    /// # Errors
    /// [`AgentError::State`] when it cannot be written.
    pub fn save(&mut self) -> Result<(), AgentError> {
        if !self.client.is_synced() {
            return Ok(());
        }
        let state = self
            .disk
            .state_of(&self.options.project.to_string(), &self.client);
        self.disk.state_dir().save(&state)?;
        self.dirty = false;
        Ok(())
    }

    /// Connects, catches up, applies live changes and repairs drift until
    /// `shutdown` resolves (or, with [`AgentOptions::once`], until the first
    /// catch-up is on disk). Reconnects after a lost connection with a
    /// growing pause (100 ms up to 2 s).
    ///
    /// # Errors
    /// [`AgentError::Connect`] when the server refuses the token (401/403);
    /// other connection failures are retried.
    pub async fn run(
        &mut self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), AgentError> {
        if let Some(started) = self.started.take() {
            self.emit(&started);
        }
        let mut shutdown = std::pin::pin!(shutdown);
        let mut pause = Duration::from_millis(100);
        let url = self.options.url();
        let limits = ProtocolLimits {
            max_message_bytes: 64 << 20,
            ..ProtocolLimits::default()
        };
        let mut drift = tokio::time::interval(self.options.drift_every);
        drift.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut save = tokio::time::interval(Duration::from_millis(500));
        loop {
            let request = format!("{url}?token={}", self.options.token);
            let connected = tokio::select! {
                () = &mut shutdown => return self.save(),
                c = tokio_tungstenite::connect_async(request) => c,
            };
            let ws = match connected {
                Ok((ws, _)) => ws,
                Err(error) => {
                    if let tokio_tungstenite::tungstenite::Error::Http(response) = &error {
                        let status = response.status().as_u16();
                        if status == 401 || status == 403 {
                            return Err(AgentError::Connect {
                                url,
                                message: format!("refused with HTTP {status}"),
                            });
                        }
                    }
                    self.emit(&AgentEvent::Disconnected {
                        reason: error.to_string(),
                    });
                    tokio::select! {
                        () = &mut shutdown => return self.save(),
                        () = tokio::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            pause = Duration::from_millis(100);
            self.emit(&AgentEvent::Connected);
            let (mut sink, stream) = ws.split();
            let mut frames = Reader::spawn(stream, limits);
            self.client.connect();
            self.catch_up_written = 0;
            let reason = loop {
                let mut failed = None;
                while let Some(message) = self.client.poll_outbound() {
                    if let Err(error) = sink.send(Message::text(message.to_json())).await {
                        failed = Some(error.to_string());
                        break;
                    }
                }
                if let Some(reason) = failed {
                    break reason;
                }
                tokio::select! {
                    () = &mut shutdown => {
                        let _ = sink.close().await;
                        return self.save();
                    }
                    frame = frames.next() => match frame {
                        Frame::Message(message) => {
                            self.client.handle(message);
                            if self.drain() && self.options.once {
                                let _ = sink.close().await;
                                // `drain` saved already, unless that failed.
                                return if self.dirty { self.save() } else { Ok(()) };
                            }
                        }
                        Frame::Refused(error) => self.emit(&AgentEvent::Refused {
                            path: "message".into(),
                            code: error.code(),
                            message: error.to_string(),
                        }),
                        Frame::Closed(reason) => break reason,
                    },
                    _ = drift.tick() => { self.repair(); }
                    _ = save.tick() => {
                        if self.dirty && let Err(error) = self.save() {
                            self.emit(&AgentEvent::Refused {
                                path: "state".into(),
                                code: error.code(),
                                message: error.to_string(),
                            });
                        }
                    }
                }
            };
            self.emit(&AgentEvent::Disconnected { reason });
            tokio::select! {
                () = &mut shutdown => return self.save(),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Applies what the client reported; true when a catch-up finished.
    fn drain(&mut self) -> bool {
        let mut events = Vec::new();
        let mut synced = None;
        let mut progress = None;
        while let Some(event) = self.client.poll_event() {
            match &event {
                ClientEvent::Synced { n } => synced = Some(*n),
                ClientEvent::Hydrating { progress: p } => progress = Some(*p),
                ClientEvent::Rejected { code, message, .. } => {
                    let (code, message) = (code.clone(), message.clone());
                    self.emit(&AgentEvent::Refused {
                        path: "server".into(),
                        code: "agent.server_refused",
                        message: format!("{code}: {message}"),
                    });
                }
                _ => {}
            }
            events.push(event);
        }
        if let Some(p) = progress {
            self.reporter.update(p);
            self.emit(&AgentEvent::Hydrating(p));
        }
        let applied = self.disk.apply(&self.client, &events);
        let written = applied.written.len();
        self.report(applied);
        self.catch_up_written += written;
        self.dirty |= written > 0;
        let Some(n) = synced else {
            return false;
        };
        let written = std::mem::take(&mut self.catch_up_written);
        if progress.is_some() || written > 0 {
            let flushed = if self.options.fsync {
                self.disk.flush()
            } else {
                Ok(())
            };
            if let Err(error) = flushed {
                self.emit(&AgentEvent::Refused {
                    path: "flush".into(),
                    code: error.code(),
                    message: error.to_string(),
                });
            }
            let manifest = self.client.manifest();
            let (files, bytes) = (manifest.len() as u64, manifest.total_bytes());
            self.reporter.finish(files, bytes);
        }
        self.emit(&AgentEvent::Synced { n, written });
        self.repair();
        if let Err(error) = self.save() {
            self.emit(&AgentEvent::Refused {
                path: "state".into(),
                code: error.code(),
                message: error.to_string(),
            });
        }
        true
    }

    fn report(&mut self, applied: Applied) {
        if !applied.written.is_empty() || !applied.removed.is_empty() {
            self.emit(&AgentEvent::Applied {
                written: applied.written.iter().map(ToString::to_string).collect(),
                removed: applied.removed.iter().map(ToString::to_string).collect(),
            });
        }
        if !applied.ignored.is_empty() {
            self.emit(&AgentEvent::Ignored {
                paths: applied.ignored.iter().map(ToString::to_string).collect(),
            });
        }
        for (path, error) in applied.refused {
            self.emit(&AgentEvent::Refused {
                path,
                code: error.code(),
                message: error.to_string(),
            });
        }
    }
}

/// A frame the [`Reader`] decoded.
enum Frame {
    Message(ServerMessage),
    /// A frame that is not a valid server message.
    Refused(ProtocolError),
    /// The connection ended, and why.
    Closed(String),
}

/// Frames read ahead by the reader task.
const FRAMES_AHEAD: usize = 8;

/// Reads and decodes the socket's frames on a task of its own, so that
/// receiving and parsing the next hydration batch overlaps
/// with writing the current one to disk. Stops with its connection, or
/// when dropped.
struct Reader {
    frames: tokio::sync::mpsc::Receiver<Frame>,
    task: tokio::task::JoinHandle<()>,
}

impl Reader {
    fn spawn(
        mut stream: futures_util::stream::SplitStream<
            tokio_tungstenite::WebSocketStream<
                tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
            >,
        >,
        limits: ProtocolLimits,
    ) -> Self {
        let (tx, frames) = tokio::sync::mpsc::channel(FRAMES_AHEAD);
        let task = tokio::spawn(async move {
            loop {
                let frame = match stream.next().await {
                    Some(Ok(Message::Text(text))) => {
                        match decode_server(text.as_bytes(), &limits) {
                            Ok(message) => Frame::Message(message),
                            Err(error) => Frame::Refused(error),
                        }
                    }
                    Some(Ok(Message::Binary(frame))) => {
                        match decode_server_binary(&frame, &limits) {
                            Ok(ServerMessage::BulkUpdate(mut batch)) => {
                                // Hashed here, while the agent writes the
                                // batch before: not again when it is stored.
                                batch.verify_contents();
                                Frame::Message(ServerMessage::BulkUpdate(batch))
                            }
                            Ok(message) => Frame::Message(message),
                            Err(error) => Frame::Refused(error),
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        Frame::Closed("closed by the server".to_owned())
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => Frame::Closed(error.to_string()),
                };
                let last = matches!(frame, Frame::Closed(_));
                if tx.send(frame).await.is_err() || last {
                    return;
                }
            }
        });
        Self { frames, task }
    }

    /// The next frame; `Closed` once the reader stopped.
    async fn next(&mut self) -> Frame {
        self.frames
            .recv()
            .await
            .unwrap_or_else(|| Frame::Closed("the reader stopped".to_owned()))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The protocol client for what is on disk: resumed at the saved event
/// number when every file of the saved manifest is there as recorded, else a
/// fresh client whose hello lists the contents on disk, so a snapshot sends
/// only what is missing. Returns it, whether it resumed, and how many
/// contents were preloaded.
fn rebuild(
    disk: &mut Disk,
    state: Option<State>,
    client_id: Option<u64>,
) -> (ProjectClient, bool, usize) {
    let Some(state) = state else {
        // No state: what is on disk may be a hydration cut short.
        let mut client = ProjectClient::new(client_id.unwrap_or_else(session_id));
        let contents = disk.scan(SCAN_LIMIT);
        let preloaded = contents.len();
        for bytes in contents {
            client.preload(bytes);
        }
        return (client, false, preloaded);
    };
    // The agent never edits, so no sequence number of the saved id is in
    // flight: the token's id may replace it.
    let id = client_id.unwrap_or(state.client);
    let live: std::collections::HashMap<_, _> = state.texts.iter().copied().collect();
    let mut resumable = true;
    let mut texts = Vec::new();
    let mut blobs = Vec::new();
    for entry in state.manifest.entries() {
        if entry.kind == FileKind::Directory {
            continue;
        }
        let Ok(Some((bytes, _, stamp))) = disk.writer().read(&entry.path) else {
            resumable = false;
            continue;
        };
        let record = state.files.get(entry.path.as_str());
        let hash = match record {
            Some(r) if r.stamp == stamp => r.hash,
            _ => ContentHash::of(&bytes),
        };
        match entry.id.and_then(|id| live.get(&id).map(|rev| (id, *rev))) {
            Some((id, rev)) => {
                if record.is_some_and(|r| r.hash == hash) {
                    if let Ok(text) = String::from_utf8(bytes.clone()) {
                        texts.push((id, rev, text));
                    } else {
                        resumable = false;
                    }
                } else {
                    resumable = false;
                }
            }
            None => resumable &= hash == entry.hash,
        }
        blobs.push(bytes);
    }
    disk.set_records(state.files.clone());
    let preloaded = blobs.len();
    let resumed = resumable
        .then(|| ProjectClient::resume(id, state.manifest.clone(), state.n, texts).ok())
        .flatten();
    let (mut client, resumed) = match resumed {
        Some(client) => (client, true),
        None => (ProjectClient::new(id), false),
    };
    for bytes in blobs {
        client.preload(bytes);
    }
    (client, resumed, preloaded)
}

/// Files read at a start without a state file (a `sync:hello` lists at most
/// 10,000 content hashes anyway).
const SCAN_LIMIT: usize = 10_000;

/// A client id for a new agent session: time and process id, under 2^53.
fn session_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ (u64::from(std::process::id()) << 20)) & ((1 << 53) - 1)
}

//! The load tool's engine: N sessions, each a project with one editor typing
//! at human speed and one agent, over loopback WebSockets against a running
//! server; it measures how long each keystroke takes to reach the agent.
//!
//! - [`peer`]: a [`ProjectClient`](velocity_sync::ProjectClient) driven over
//!   a WebSocket;
//! - [`process`]: CPU time and memory of the server process, from `/proc`;
//! - [`report`]: latency percentiles and the printed table;
//! - `disk`: with [`LoadOptions::disk_agent`], one more project whose agent
//!   is the real one ([`velocity_sync_agent::Agent`], writing files), measured
//!   from keystroke to file changed on disk ([`Report::disk`]).
//!
//! The binary `velocity-sync-load` starts the server, runs [`run`], and
//! prints the [`Report`].

mod disk;
pub mod peer;
pub mod process;
pub mod report;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;
use velocity_sync::{FileId, FilePath, TextOp};

use self::peer::{Peer, PeerError};
pub use self::report::{Report, Summary};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The server's address.
    pub addr: SocketAddr,
    /// The HS256 secret the server verifies tokens with.
    pub secret: Vec<u8>,
    /// Concurrent sessions (projects), each with an editor and an agent.
    pub sessions: usize,
    /// Keystrokes per second per editor.
    pub keys_per_second: f64,
    /// How long the editors type.
    pub duration: Duration,
    /// How long connecting every session may take before the run fails.
    pub connect_timeout: Duration,
    /// A directory for one real agent: when set, one more project, whose
    /// editor types like the others, is written there by the library's
    /// agent (`fsync` on), and [`Report::disk`] holds keystroke → file
    /// changed on disk.
    pub disk_agent: Option<PathBuf>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A session could not connect or broke.
    #[error("session {session}: {source}")]
    Session {
        /// The session's index.
        session: usize,
        /// Why.
        source: PeerError,
    },
    /// The measured project of [`LoadOptions::disk_agent`] could not run.
    #[error("disk agent: {0}")]
    DiskAgent(PeerError),
    /// A session's task panicked or was cancelled.
    #[error("a session task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Keystrokes of one session: when each was typed, in order. The agent's
/// copy of the file holds `base + k` characters once keystroke `k` arrived.
#[derive(Debug, Default)]
struct Typed {
    sent: Vec<Instant>,
}

/// Runs the load and returns what it measured. The server is measured by
/// the caller (see [`process`]); here only latencies and counts.
///
/// # Errors
/// [`LoadError`] when a session cannot connect, or breaks during the run.
pub async fn run(options: &LoadOptions) -> Result<Report, LoadError> {
    let start_typing = Instant::now() + options.connect_timeout;
    // Client ids name one client's sequence numbers for the server's
    // duplicate check, so every run uses fresh ones (below 2^53, so that
    // JavaScript peers read them exactly).
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64 & 0xff_ffff);
    // Connecting thousands of sockets at once overflows the listen backlog
    // (the kernel then retries SYNs after seconds): connect a few at a time.
    let connecting = Arc::new(Semaphore::new(CONCURRENT_CONNECTS));
    let mut tasks = JoinSet::new();
    for session in 0..options.sessions {
        let options = options.clone();
        let connecting = connecting.clone();
        tasks.spawn(async move {
            let clients = (run_id << 20) | ((session as u64 & 0x7_ffff) << 1);
            session_run(&options, session, clients, start_typing, &connecting)
                .await
                .map_err(|source| LoadError::Session { session, source })
        });
    }
    if let Some(root) = options.disk_agent.clone() {
        let options = options.clone();
        tasks.spawn(async move {
            let keystrokes =
                (options.duration.as_secs_f64() * options.keys_per_second).round() as usize;
            let interval = Duration::from_secs_f64(1.0 / options.keys_per_second.max(0.001));
            // Client ids above every session's.
            let clients = (run_id << 20) | (0x7_ffff << 1);
            let disk = disk::session(&options, &root, clients, start_typing, interval, keystrokes)
                .await
                .map_err(LoadError::DiskAgent)?;
            Ok(Report {
                disk: Some(Box::new(disk)),
                ..Report::default()
            })
        });
    }
    let mut report = Report::default();
    while let Some(done) = tasks.join_next().await {
        report.merge(done??);
    }
    Ok(report)
}

/// Sessions connecting at the same time.
const CONCURRENT_CONNECTS: usize = 32;

/// How long after the last keystroke the agents wait for stragglers; what
/// has not arrived then counts as lost.
const GRACE: Duration = Duration::from_secs(30);

/// The project id of session `n` (fixed, so reruns against one database
/// reuse their projects).
fn project_of(session: usize) -> Uuid {
    Uuid::from_u128(0x10ad_0000_0000_4000_8000_0000_0000_0000 | session as u128)
}

async fn session_run(
    options: &LoadOptions,
    session: usize,
    clients: u64,
    start_typing: Instant,
    connecting: &Semaphore,
) -> Result<Report, PeerError> {
    let project = project_of(session);
    let permit = connecting
        .acquire()
        .await
        .map_err(|e| PeerError::Setup(e.to_string()))?;
    let path = FilePath::parse("src/App.tsx").map_err(|e| PeerError::Setup(e.to_string()))?;
    let mut editor = Peer::join(options.addr, project, &options.secret, "editor", clients).await?;
    let id = editor
        .file_or_create(&path, b"export default function App() {}\n")
        .await?;
    let mut agent =
        Peer::join(options.addr, project, &options.secret, "agent", clients + 1).await?;
    agent.until(|c| c.text(&id).is_some()).await?;
    let base = agent.client.text(&id).map_or(0, |t| t.chars().count());
    drop(permit);

    let typed = Arc::new(Mutex::new(Typed::default()));
    let keystrokes = (options.duration.as_secs_f64() * options.keys_per_second).round() as usize;
    // Spread the sessions' keystrokes over the interval so they do not all
    // type in the same millisecond.
    let interval = Duration::from_secs_f64(1.0 / options.keys_per_second.max(0.001));
    let phase = interval.mul_f64(session as f64 / options.sessions.max(1) as f64);
    let first_key = start_typing.max(Instant::now()) + phase;

    let give_up = first_key + interval.mul_f64(keystrokes as f64) + GRACE;
    let receiver = tokio::spawn(agent_run(
        agent,
        id,
        base,
        keystrokes,
        typed.clone(),
        give_up,
    ));
    editor_run(&mut editor, id, keystrokes, first_key, interval, &typed).await?;
    let latencies = receiver
        .await
        .map_err(|e| PeerError::Setup(format!("agent task: {e}")))??;
    editor.settle().await?;
    Ok(Report::of_session(keystrokes, latencies))
}

async fn editor_run(
    editor: &mut Peer,
    id: FileId,
    keystrokes: usize,
    first_key: Instant,
    interval: Duration,
    typed: &Mutex<Typed>,
) -> Result<(), PeerError> {
    let mut ticker = tokio::time::interval_at(first_key.into(), interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent = 0;
    while sent < keystrokes {
        tokio::select! {
            _ = ticker.tick() => {
                let len = editor.client.text(&id).map_or(0, |t| t.chars().count());
                let op = TextOp::from_splice(len, len, 0, "x")
                    .map_err(|e| PeerError::Setup(e.to_string()))?;
                typed
                    .lock()
                    .map_err(|_| PeerError::Setup("poisoned".into()))?
                    .sent
                    .push(Instant::now());
                editor
                    .client
                    .edit(id, op)
                    .map_err(|e| PeerError::Setup(e.to_string()))?;
                editor.flush().await?;
                sent += 1;
            }
            frame = editor.next_frame() => frame?,
        }
    }
    Ok(())
}

/// Reads the agent's frames until every keystroke arrived, or `give_up`;
/// returns the latency of each keystroke that arrived.
async fn agent_run(
    mut agent: Peer,
    id: FileId,
    base: usize,
    keystrokes: usize,
    typed: Arc<Mutex<Typed>>,
    give_up: Instant,
) -> Result<Vec<Duration>, PeerError> {
    let mut latencies = Vec::with_capacity(keystrokes);
    while latencies.len() < keystrokes {
        match tokio::time::timeout_at(give_up.into(), agent.next_frame()).await {
            Ok(frame) => frame?,
            Err(_) => break,
        }
        let now = Instant::now();
        let arrived = agent
            .client
            .text(&id)
            .map_or(0, |t| t.chars().count())
            .saturating_sub(base);
        let typed = typed
            .lock()
            .map_err(|_| PeerError::Setup("poisoned".into()))?;
        while latencies.len() < arrived.min(typed.sent.len()) {
            latencies.push(now.saturating_duration_since(typed.sent[latencies.len()]));
        }
    }
    Ok(latencies)
}

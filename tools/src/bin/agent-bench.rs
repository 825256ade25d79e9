//! `agent-bench`: the container agent's hydration against `tar -x` of the
//! same files, and keystroke-to-disk latency, in one run, printed as tables.
//!
//! ```sh
//! cargo run --release -p velocity-sync-examples --bin agent-bench -- --files 10000
//! ```
//!
//! Everything runs on this machine over 127.0.0.1: a sync server on SQLite
//! (in a temp directory), an editor client that creates the project through
//! the protocol, and the agent writing into empty directories (under
//! `TMPDIR`: `TMPDIR=/dev/shm` compares the software path on tmpfs). Each
//! `--no-fsync` hydration is also split into phases from the agent's events
//! (connect, to the first batch on disk, first to last batch, to synced),
//! with the CPU time of this process (server and agent) it took.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;
use velocity_sync::protocol::{ProtocolLimits, decode_server};
use velocity_sync::{FilePath, ProjectClient, TextOp};
use velocity_sync_agent::{Agent, AgentEvent, AgentOptions, Ignore, Reporter, RootWriter};
use velocity_sync_server::auth::{Claims, sign};
use velocity_sync_server::{Options, Server, SqliteStore};

/// Measures the agent: hydration vs `tar -x`, and keystroke-to-disk latency.
#[derive(Debug, Parser)]
#[command(name = "agent-bench")]
struct Args {
    /// Files in the generated project.
    #[arg(long, default_value_t = 10_000)]
    files: usize,
    /// Runs of each hydration measurement (the median is shown).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Keystrokes for the latency measurement.
    #[arg(long, default_value_t = 300)]
    keystrokes: usize,
    /// Seed of the generated project.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

const SECRET: &[u8] = b"agent-bench";

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let work = std::env::temp_dir().join(format!("vs-agent-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run(&args, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

async fn run(args: &Args, work: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let files = generate(args.files, args.seed);
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    println!(
        "project: {} files, {:.1} MiB (seed {})",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0),
        args.seed
    );

    // The server, and the project created through the protocol.
    let store = SqliteStore::open(&work.join("sync.db"), Uuid::nil())?;
    let mut options = Options::new(SECRET);
    options.checkpoint_after = Duration::from_millis(50);
    let server = Server::bind("127.0.0.1:0".parse()?, store, options).await?;
    let addr = server.local_addr()?;
    tokio::spawn(server.serve(std::future::pending()));
    let project = Uuid::from_u128(0xBE);
    let url = format!("http://{addr}");
    let started = Instant::now();
    let mut editor = Editor::join(&url, project, 1).await?;
    // In slices: the server drops a client that lets more than 1,024
    // broadcasts queue up unread.
    for slice in files.chunks(200) {
        for (path, content) in slice {
            editor
                .client
                .create(FilePath::parse(path)?, Some(content.clone()));
        }
        editor.settle().await?;
    }
    println!(
        "created through the protocol in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The same files in a tar archive.
    let source = work.join("source");
    for (path, content) in &files {
        let at = source.join(path);
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(at, content)?;
    }
    let archive = work.join("project.tar");
    run_ok(
        Command::new("tar")
            .arg("-cf")
            .arg(&archive)
            .arg("-C")
            .arg(&source)
            .arg("."),
    )?;

    let mut tar = Vec::new();
    let mut tar_sync = Vec::new();
    let mut agent = Vec::new();
    let mut agent_flushed = Vec::new();
    let mut writer_only = Vec::new();
    let mut phases = Vec::new();
    for run in 0..args.runs {
        // Each measurement starts with nothing dirty in the page cache, so
        // none pays for the write-back of the one before.
        let settle = || run_ok(Command::new("sync").arg("-f").arg(work));
        settle()?;
        let dest = work.join(format!("tar-{run}"));
        std::fs::create_dir_all(&dest)?;
        let t = Instant::now();
        run_ok(
            Command::new("tar")
                .arg("-xf")
                .arg(&archive)
                .arg("-C")
                .arg(&dest),
        )?;
        tar.push(t.elapsed());
        settle()?;
        let dest = work.join(format!("tar-sync-{run}"));
        std::fs::create_dir_all(&dest)?;
        let t = Instant::now();
        run_ok(
            Command::new("tar")
                .arg("-xf")
                .arg(&archive)
                .arg("-C")
                .arg(&dest),
        )?;
        run_ok(Command::new("sync").arg("-f").arg(&dest))?;
        tar_sync.push(t.elapsed());
        settle()?;
        let root = work.join(format!("agent-{run}"));
        let t = Instant::now();
        let cpu = cpu_now();
        let phase = hydrate(&url, project, &root, false).await?;
        agent.push(t.elapsed());
        phases.push((phase, cpu_now().saturating_sub(cpu)));
        check_same(&source, &root, &files)?;
        settle()?;
        let root = work.join(format!("writer-{run}"));
        let t = Instant::now();
        write_only(&root, &files)?;
        writer_only.push(t.elapsed());
        settle()?;
        let root = work.join(format!("agent-flushed-{run}"));
        let t = Instant::now();
        let _ = hydrate(&url, project, &root, true).await?;
        agent_flushed.push(t.elapsed());
        check_same(&source, &root, &files)?;
    }
    let tar_ms = median(&tar);
    let agent_ms = median(&agent);
    println!();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "machine load (1/5/15 min) at the end: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "| hydrate {} files ({:.1} MiB) to an empty directory, median of {} | time | × tar -x |",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0),
        args.runs
    );
    println!("|---|---:|---:|");
    println!("| `tar -xf` of a local archive | {tar_ms:.0} ms | 1.00 |");
    let ts = median(&tar_sync);
    println!(
        "| `tar -xf` + `sync -f` (flushed) | {ts:.0} ms | {:.2} |",
        ts / tar_ms
    );
    let mut in_place: Vec<Duration> = phases.iter().map(|(p, _)| p.in_place()).collect();
    in_place.sort();
    let in_place_ms = median(&in_place);
    println!(
        "| agent from the server over 127.0.0.1 (`--no-fsync`: not flushed, as `tar -xf`), start to exit | {agent_ms:.0} ms | {:.2} |",
        agent_ms / tar_ms
    );
    println!(
        "| of which start to every file in place (`Synced`; then the drift check and the state file) | {in_place_ms:.0} ms | {:.2} |",
        in_place_ms / tar_ms
    );
    let wo = median(&writer_only);
    println!(
        "| of which disk: the agent's writer alone, same files from memory (atomic writes, no network) | {wo:.0} ms | {:.2} |",
        wo / tar_ms
    );
    let af = median(&agent_flushed);
    println!(
        "| agent, default (flushed once with `syncfs` at the end) | {af:.0} ms | {:.2} |",
        af / tar_ms
    );
    println!();
    println!(
        "| agent `--no-fsync`, per run | connect | to first batch on disk | first → last batch | last batch → synced | CPU (server + agent) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (run, (p, cpu)) in phases.iter().enumerate() {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| run {run} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
            ms(p.connect),
            ms(p.first_batch),
            ms(p.stream),
            ms(p.finish),
            ms(*cpu)
        );
    }

    // Keystroke to disk. A fresh editor: the first one has not read its
    // socket during the hydrations, so the server's heartbeat closed it.
    drop(editor);
    let mut editor = Editor::join(&url, project, 2).await?;
    let root = work.join("live");
    let _ = hydrate(&url, project, &root, true).await?;
    let mut options = AgentOptions::new(
        &url,
        project,
        &token(project, "agent", bench_client_id()),
        root.clone(),
    );
    options.drift_every = Duration::from_secs(3600);
    let mut live = Agent::open(options)?.with_reporter(Reporter::quiet());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        live.run(async {
            let _ = stopped.await;
        })
        .await
    });
    let target = "src/App.tsx";
    let id = editor
        .client
        .manifest()
        .get(&FilePath::parse(target)?)
        .and_then(|e| e.id)
        .ok_or("no src/App.tsx")?;
    let mut latencies = Vec::new();
    for k in 0..args.keystrokes {
        let text = editor.client.text(&id).ok_or("no text")?.to_owned();
        let len = text.chars().count();
        let ch = char::from(b'a' + (k % 26) as u8).to_string();
        editor
            .client
            .edit(id, TextOp::from_splice(len, len, 0, &ch)?)?;
        let expected = format!("{text}{ch}");
        let t = Instant::now();
        editor.flush().await?;
        // Poll the file (and serve the editor's socket) until it holds the edit.
        loop {
            if std::fs::read(root.join(target)).is_ok_and(|b| b == expected.as_bytes()) {
                break;
            }
            editor.step(Duration::from_micros(200)).await?;
            if t.elapsed() > Duration::from_secs(10) {
                return Err("a keystroke never reached the disk".into());
            }
        }
        latencies.push(t.elapsed());
    }
    let _ = stop.send(());
    task.await??;
    latencies.sort();
    let pick = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[i].as_secs_f64() * 1000.0
    };
    println!();
    println!(
        "| keystroke → file changed on disk ({} keystrokes, fsync on) | p50 | p99 | max |",
        latencies.len()
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| editor → server → agent → atomic write | {:.2} ms | {:.2} ms | {:.2} ms |",
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    Ok(())
}

/// Where an agent hydration spent its time, from the agent's events.
#[derive(Debug, Clone, Copy, Default)]
struct Phases {
    /// Start to connected.
    connect: Duration,
    /// Connected to the first batch on disk (the server planning and
    /// building its answer, the first frame's trip).
    first_batch: Duration,
    /// First batch on disk to the last one.
    stream: Duration,
    /// Last batch to caught up (flush, state file).
    finish: Duration,
}

impl Phases {
    /// Start to every file in place.
    fn in_place(&self) -> Duration {
        self.connect + self.first_batch + self.stream + self.finish
    }
}

/// One agent hydration of `root`, start to files flushed, then it exits.
async fn hydrate(
    url: &str,
    project: Uuid,
    root: &Path,
    fsync: bool,
) -> Result<Phases, Box<dyn std::error::Error>> {
    let mut options = AgentOptions::new(
        url,
        project,
        &token(project, "agent", bench_client_id()),
        root.into(),
    );
    options.once = true;
    options.fsync = fsync;
    let start = Instant::now();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(&'static str, Instant)>::new()));
    let sink = seen.clone();
    let mut agent = Agent::open(options)?
        .with_reporter(Reporter::quiet())
        .with_observer(move |event| {
            let name = match event {
                AgentEvent::Connected => "connected",
                AgentEvent::Hydrating(_) => "batch",
                AgentEvent::Synced { .. } => "synced",
                _ => return,
            };
            if let Ok(mut seen) = sink.lock() {
                seen.push((name, Instant::now()));
            }
        });
    agent.run(std::future::pending()).await?;
    let seen = seen.lock().map_err(|_| "poisoned")?;
    let at = |name: &str, last: bool| {
        let mut times = seen.iter().filter(|(n, _)| *n == name).map(|(_, t)| *t);
        if last {
            times.next_back()
        } else {
            times.next()
        }
        .unwrap_or(start)
    };
    let (connected, first, last, synced) = (
        at("connected", false),
        at("batch", false),
        at("batch", true),
        at("synced", false),
    );
    Ok(Phases {
        connect: connected - start,
        first_batch: first.saturating_duration_since(connected),
        stream: last.saturating_duration_since(first),
        finish: synced.saturating_duration_since(last),
    })
}

/// The agent's writer alone: every file written atomically from memory, in
/// one batch, no flush.
fn write_only(root: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Box<dyn std::error::Error>> {
    let writer = RootWriter::open(root, Ignore::default())?;
    writer.begin_batch();
    for (path, content) in files {
        writer.write(&FilePath::parse(path)?, content, false, false)?;
    }
    writer.end_batch();
    Ok(())
}

fn check_same(
    source: &Path,
    root: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<(), Box<dyn std::error::Error>> {
    for (path, content) in files {
        let disk = std::fs::read(root.join(path))?;
        if disk != *content {
            return Err(format!("{path} differs from {}", source.display()).into());
        }
    }
    Ok(())
}

/// CPU time (user + system) of this process so far: the server's and the
/// agent's, both in here.
fn cpu_now() -> Duration {
    velocity_sync_tools::load::process::usage(std::process::id()).map_or(Duration::ZERO, |u| u.cpu)
}

fn run_ok(command: &mut Command) -> Result<(), Box<dyn std::error::Error>> {
    let status = command.status()?;
    if !status.success() {
        return Err(format!("{command:?} failed: {status}").into());
    }
    Ok(())
}

fn median(times: &[Duration]) -> f64 {
    let mut ms: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

/// A fresh protocol client id for an agent's token (the server binds each
/// token to one id); editors pick theirs below 1,000.
fn bench_client_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn token(project: Uuid, role: &str, client_id: u64) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    sign(
        &Claims {
            project_id: project.to_string(),
            role: role.to_owned(),
            exp,
            sub: None,
            sync_role: None,
            client_id: Some(client_id),
        },
        SECRET,
    )
    .unwrap_or_default()
}

/// A web project: a few config files, then sources, styles and assets of
/// realistic sizes (most a few KiB, some tens of KiB, a few images of
/// hundreds of KiB), deterministic from `seed`.
fn generate(count: usize, seed: u64) -> Vec<(String, Vec<u8>)> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below.max(1)
    };
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "package.json".into(),
            br#"{"name":"bench","type":"module"}"#.to_vec(),
        ),
        (
            "index.html".into(),
            b"<!doctype html><div id=root></div>".to_vec(),
        ),
        ("vite.config.ts".into(), b"export default {}\n".to_vec()),
        ("src/main.tsx".into(), b"import './App';\n".to_vec()),
        (
            "src/App.tsx".into(),
            b"export default function App() {}\n".to_vec(),
        ),
    ];
    let mut k = 0;
    while files.len() < count {
        let roll = next(100);
        let (dir, ext, size) = if roll < 80 {
            ("src/components", "tsx", 300 + next(6_000))
        } else if roll < 92 {
            ("src/styles", "css", 200 + next(3_000))
        } else if roll < 98 {
            ("src/data", "json", 5_000 + next(60_000))
        } else {
            ("public/assets", "png", 50_000 + next(400_000))
        };
        let path = format!("{dir}/d{}/f{k}.{ext}", k % 97);
        let size = size as usize;
        let bytes = if ext == "png" {
            (0..size).map(|_| next(256) as u8).collect()
        } else {
            let mut text = String::with_capacity(size);
            while text.len() < size {
                text.push_str(&format!(
                    "export const line{} = {};\n",
                    text.len(),
                    next(1_000_000)
                ));
            }
            text.into_bytes()
        };
        files.push((path, bytes));
        k += 1;
    }
    files.truncate(count);
    files
}

/// The editor's side over a WebSocket.
struct Editor {
    client: ProjectClient,
    ws: Ws,
}

impl Editor {
    async fn join(url: &str, project: Uuid, id: u64) -> Result<Self, Box<dyn std::error::Error>> {
        let ws_url = format!(
            "{}/projects/{project}/ws?token={}",
            url.replace("http://", "ws://"),
            token(project, "editor", id)
        );
        let (ws, _) = tokio_tungstenite::connect_async(ws_url).await?;
        let mut editor = Self {
            client: ProjectClient::new(id),
            ws,
        };
        editor.client.connect();
        while !editor.client.is_synced() {
            editor.step(Duration::from_secs(5)).await?;
        }
        Ok(editor)
    }

    async fn flush(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        while let Some(message) = self.client.poll_outbound() {
            self.ws.send(Message::text(message.to_json())).await?;
        }
        Ok(())
    }

    async fn step(&mut self, wait: Duration) -> Result<(), Box<dyn std::error::Error>> {
        self.flush().await?;
        let limits = ProtocolLimits {
            max_message_bytes: 64 << 20,
            ..ProtocolLimits::default()
        };
        match tokio::time::timeout(wait, self.ws.next()).await {
            Ok(Some(frame)) => {
                if let Message::Text(text) = frame? {
                    self.client.handle(decode_server(text.as_bytes(), &limits)?);
                    while self.client.poll_event().is_some() {}
                }
            }
            Ok(None) => return Err("the server closed the editor's connection".into()),
            Err(_) => {}
        }
        self.flush().await
    }

    async fn settle(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        while !(self.client.is_synced() && self.client.is_idle()) {
            self.step(Duration::from_millis(200)).await?;
        }
        Ok(())
    }
}

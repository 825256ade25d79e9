//! `velocity-sync-load`: drives N projects against `velocity-sync-server`
//! over loopback WebSockets, each with an editor typing at human speed and an
//! agent following, and prints the propagation latency (editor keystroke →
//! agent applied: p50/p99/max) and the server's CPU and memory per session.
//!
//! A measurement tool, not a test: nothing asserts on its numbers.
//!
//! ```sh
//! bash scripts/pg.sh start
//! cargo run --release -p velocity-sync-examples --bin velocity-sync-load -- \
//!     --database "$(cat target/pg/url)" --sessions 1000 --seconds 30
//! ```

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;
use velocity_sync::protocol::{ProtocolLimits, decode_server};
use velocity_sync::{FileId, FilePath, ProjectClient, TextOp};
use velocity_sync_examples::server::auth::{Claims, sign};
use velocity_sync_examples::server::pg::PG_RICH_SCHEMA;

const SECRET: &str = "load-secret";

/// Load generator for the sync server.
#[derive(Debug, Parser)]
#[command(name = "velocity-sync-load")]
struct Args {
    /// A PostgreSQL URL (a fresh database is created in its cluster and
    /// dropped after) or `sqlite:PATH`.
    #[arg(long, env = "VELOCITY_SYNC_PG_URL")]
    database: String,
    /// Concurrent sessions (projects), each an editor and an agent.
    #[arg(long, default_value_t = 100)]
    sessions: usize,
    /// Seconds measured after every session joined.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Keystrokes per second of each editor.
    #[arg(long, default_value_t = 5.0)]
    rate: f64,
    /// PostgreSQL connections of the server.
    #[arg(long, default_value_t = 8)]
    pg_connections: usize,
    /// The server's checkpoint delay (ms after the last edit).
    #[arg(long, default_value_t = 1000)]
    checkpoint_ms: u64,
    /// The server binary (default: next to this one).
    #[arg(long)]
    server: Option<PathBuf>,
}

/// The server child; killed when dropped.
struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// CPU seconds (user + system) and resident memory (bytes) of `pid`.
fn usage(pid: u32) -> (f64, u64) {
    let ticks = 100.0; // USER_HZ on Linux
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses.
            let rest = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .collect::<Vec<_>>();
            let utime: f64 = rest.get(11)?.parse().ok()?;
            let stime: f64 = rest.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks)
        })
        .unwrap_or(0.0);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0);
    (cpu, rss)
}

fn token(project: Uuid, role: &str, client: u64) -> Result<String, Box<dyn std::error::Error>> {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        + 3600;
    Ok(sign(
        &Claims {
            project_id: project.to_string(),
            role: role.to_owned(),
            exp,
            sub: None,
            sync_role: None,
            client_id: Some(client),
        },
        SECRET.as_bytes(),
    )?)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A protocol client over a WebSocket.
struct Peer {
    client: ProjectClient,
    ws: Ws,
}

impl Peer {
    async fn join(
        addr: SocketAddr,
        project: Uuid,
        role: &str,
        id: u64,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let token = token(project, role, id).map_err(|e| e.to_string())?;
        let url = format!("ws://{addr}/projects/{project}/ws?token={token}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        let mut client = ProjectClient::new(id);
        client.connect();
        let mut peer = Self { client, ws };
        while !peer.client.is_synced() {
            peer.step().await?;
        }
        Ok(peer)
    }

    async fn flush(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        while let Some(message) = self.client.poll_outbound() {
            self.ws.send(Message::text(message.to_json())).await?;
        }
        Ok(())
    }

    /// Sends what is queued, then applies one frame.
    async fn step(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.flush().await?;
        let frame = self.ws.next().await;
        self.apply(frame)?;
        self.flush().await
    }

    /// Applies a frame read from the socket.
    fn apply(
        &mut self,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let limits = ProtocolLimits {
            max_message_bytes: 64 << 20,
            ..ProtocolLimits::default()
        };
        match frame {
            Some(Ok(Message::Text(text))) => {
                let message = decode_server(text.as_bytes(), &limits)?;
                self.client.handle(message);
                while self.client.poll_event().is_some() {}
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => return Err("server closed the connection".into()),
        }
        Ok(())
    }
}

/// Keystroke times of one session, by text length after the keystroke.
type Sent = Arc<Mutex<Vec<Instant>>>;

async fn session(
    addr: SocketAddr,
    index: usize,
    args: Arc<Args>,
    latencies: Arc<Mutex<Vec<u32>>>,
    start: Arc<tokio::sync::Barrier>,
    measure: Duration,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let project = Uuid::from_u128(index as u128 + 1);
    let mut editor = Peer::join(addr, project, "editor", 1).await?;
    let path = FilePath::parse("src/main.ts").map_err(|e| e.to_string())?;
    let id: FileId = editor.client.create(path.clone(), Some(Vec::new()));
    while !(editor.client.is_synced() && editor.client.is_idle()) {
        editor.step().await?;
    }
    let mut agent = Peer::join(addr, project, "agent", 2).await?;
    while agent.client.manifest().get(&path).is_none() {
        agent.step().await?;
    }
    let sent: Sent = Arc::new(Mutex::new(Vec::new()));
    start.wait().await;
    let stop = Instant::now() + measure;
    let follower = {
        let sent = Arc::clone(&sent);
        tokio::spawn(async move {
            let mut seen = 0usize;
            while Instant::now() < stop {
                // Reading is cancel-safe; sending happens outside the timeout.
                if let Ok(frame) =
                    tokio::time::timeout(Duration::from_millis(500), agent.ws.next()).await
                {
                    agent.apply(frame)?;
                }
                agent.flush().await?;
                let len = agent.client.content(&id).map_or(0, |c| c.len());
                if len > seen {
                    let now = Instant::now();
                    let times = sent.lock().map_err(|e| e.to_string())?;
                    let mut out = latencies.lock().map_err(|e| e.to_string())?;
                    for at in times.iter().take(len).skip(seen) {
                        out.push(now.duration_since(*at).as_micros() as u32);
                    }
                    seen = len;
                }
            }
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        })
    };
    // Sessions start typing spread over one keystroke interval.
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let offset = interval.mul_f64(index as f64 / args.sessions.max(1) as f64);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + offset, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut len = 0usize;
    while Instant::now() < stop {
        // Only cancel-safe futures race; sends happen after.
        tokio::select! {
            _ = tick.tick() => {
                editor.client.edit(id, TextOp::from_splice(len, len, 0, "x")?)?;
                len += 1;
                sent.lock().map_err(|e| e.to_string())?.push(Instant::now());
            }
            frame = editor.ws.next() => editor.apply(frame)?,
        }
        editor.flush().await?;
    }
    follower.await??;
    Ok(())
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[rank.min(sorted.len() - 1)]) / 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Arc::new(Args::parse());
    let (database, cleanup) = if args.database.starts_with("sqlite:") {
        (args.database.clone(), None)
    } else {
        let admin = args.database.clone();
        let name = format!("vs_load_{}", std::process::id());
        let base = admin
            .rsplit_once('/')
            .ok_or("not a postgres URL")?
            .0
            .to_owned();
        let url = format!("{base}/{name}");
        let (a, n, u) = (admin.clone(), name.clone(), url.clone());
        tokio::task::spawn_blocking(move || -> Result<(), postgres::Error> {
            let mut client = postgres::Client::connect(&a, postgres::NoTls)?;
            client.batch_execute(&format!("CREATE DATABASE {n}"))?;
            postgres::Client::connect(&u, postgres::NoTls)?.batch_execute(PG_RICH_SCHEMA)
        })
        .await??;
        (url, Some((admin, name)))
    };
    let server_bin = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("velocity-sync-server"),
    };
    let mut child = Command::new(server_bin)
        .args(["--listen", "127.0.0.1:0", "--database", &database])
        .args(["--pg-connections", &args.pg_connections.to_string()])
        .args(["--checkpoint-ms", &args.checkpoint_ms.to_string()])
        .env("VELOCITY_SYNC_JWT_SECRET", SECRET)
        .env(
            "VELOCITY_SYNC_CREATED_BY",
            Uuid::from_u128(0x10AD).to_string(),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = ServerProcess(child);
    let pid = server.0.id();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("unexpected server line {line:?}"))?
        .parse()?;
    let (_, rss_idle) = usage(pid);

    let latencies = Arc::new(Mutex::new(Vec::new()));
    let start = Arc::new(tokio::sync::Barrier::new(args.sessions + 1));
    let stop_after = Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    let joined_at = Instant::now();
    for index in 0..args.sessions {
        let (args, latencies, start) = (
            Arc::clone(&args),
            Arc::clone(&latencies),
            Arc::clone(&start),
        );
        tasks.push(tokio::spawn(session(
            addr, index, args, latencies, start, stop_after,
        )));
        if index % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Every session joined (a failed join would hang here: the tool is
    // meant for a healthy server).
    start.wait().await;
    let joined = joined_at.elapsed();
    let (cpu0, _) = usage(pid);
    let measured_from = Instant::now();
    let count_at_start = latencies.lock().map_err(|e| e.to_string())?.len();
    // The sessions stop on their own after `stop_after`; the window is
    // measured a little inside it.
    tokio::time::sleep(stop_after.saturating_sub(Duration::from_millis(200))).await;
    let (cpu1, rss) = usage(pid);
    let wall = measured_from.elapsed().as_secs_f64();
    let mut sample: Vec<u32> =
        latencies.lock().map_err(|e| e.to_string())?[count_at_start..].to_vec();
    for task in &tasks {
        task.abort();
    }
    let mut failed = 0;
    for task in tasks {
        if let Ok(Err(error)) = task.await {
            failed += 1;
            eprintln!("session failed: {error}");
        }
    }
    sample.sort_unstable();
    let sessions = args.sessions as f64;
    let cpu = (cpu1 - cpu0) / wall;
    println!(
        "| sessions | keystrokes/s | p50 ms | p99 ms | max ms | server CPU (cores) | CPU ms/s per session | server RSS MiB | RSS KiB per session | failed |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.3} | {:.1} | {:.1} | {} |",
        args.sessions,
        sample.len() as f64 / wall,
        percentile(&sample, 50.0),
        percentile(&sample, 99.0),
        percentile(&sample, 100.0),
        cpu,
        cpu * 1000.0 / sessions,
        rss as f64 / (1 << 20) as f64,
        rss.saturating_sub(rss_idle) as f64 / 1024.0 / sessions,
        failed,
    );
    eprintln!(
        "joined {} sessions in {:.1} s; measured {wall:.1} s",
        args.sessions,
        joined.as_secs_f64()
    );
    drop(server);
    if let Some((admin, name)) = cleanup {
        tokio::task::spawn_blocking(move || {
            if let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ =
                    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        })
        .await?;
    }
    Ok(())
}

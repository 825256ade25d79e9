//! `velocity-sync-load`: starts a sync server, connects N sessions (an
//! editor typing at human speed and an agent per project) over loopback
//! WebSockets, and prints keystroke → agent latency percentiles with the
//! server's CPU and memory per session. A measurement tool: nothing asserts
//! on its numbers.
//!
//! ```sh
//! bash scripts/pg.sh start
//! cargo run --release -p velocity-sync-examples --bin velocity-sync-load -- \
//!     --database "$(cat target/pg/url)" --sessions 1000 --seconds 20 --disk-agent
//! ```
//!
//! With `--disk-agent`, one more project is written to disk by the real
//! agent (the library) under the same load, and keystroke → file changed on
//! disk is reported beside keystroke → agent.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use velocity_sync_server::pg::PG_RICH_SCHEMA;
use velocity_sync_tools::load::{self, LoadOptions, process};

/// Load test for the sync server. Example, 1,000 sessions for 30 s:
///
///   cargo run --release -p velocity-sync-examples --bin velocity-sync-load -- --sessions 1000
#[derive(Debug, Parser)]
#[command(name = "velocity-sync-load", version)]
struct Args {
    /// Concurrent sessions (projects), each with one editor and one agent.
    #[arg(long, default_value_t = 100)]
    sessions: usize,
    /// Keystrokes per second of each editor (human typing is 3–8).
    #[arg(long, default_value_t = 5.0)]
    keys_per_second: f64,
    /// Seconds the editors type.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Seconds allowed for connecting every session before typing starts.
    #[arg(long, default_value_t = 30)]
    connect_seconds: u64,
    /// A PostgreSQL URL (a fresh database is created in its cluster, with
    /// the rich `project_files` schema, and dropped after), or `sqlite:PATH`
    /// (default: a fresh SQLite file in a temporary directory).
    #[arg(long, env = "VELOCITY_SYNC_PG_URL")]
    database: Option<String>,
    /// PostgreSQL connections of the server.
    #[arg(long, default_value_t = 8)]
    pg_connections: usize,
    /// The server's checkpoint delay (ms after the last edit).
    #[arg(long, default_value_t = 1000)]
    checkpoint_ms: u64,
    /// The server binary (default: `velocity-sync-server` next to this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Also run one real agent (the library, writing files with `fsync`
    /// into a scratch directory) on one more project whose editor types
    /// like the others, and report keystroke → file changed on disk.
    #[arg(long)]
    disk_agent: bool,
}

/// A server child process, killed when dropped (with its scratch
/// directory and, on PostgreSQL, its database).
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
    scratch_database: Option<ScratchDatabase>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(database) = self.scratch_database.take() {
            database.drop_it();
        }
    }
}

/// A database created for one run in the cluster of an admin URL.
struct ScratchDatabase {
    admin: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates `vs_load_<pid>` beside the admin URL's database, with the
    /// rich `project_files` schema; returns it and its URL.
    fn create(admin: &str) -> Result<(Self, String), Box<dyn std::error::Error>> {
        let name = format!("vs_load_{}", std::process::id());
        let base = admin.rsplit_once('/').ok_or("not a postgres URL")?.0;
        let url = format!("{base}/{name}");
        postgres::Client::connect(admin, postgres::NoTls)?
            .batch_execute(&format!("CREATE DATABASE {name}"))?;
        let database = Self {
            admin: admin.to_owned(),
            name,
        };
        postgres::Client::connect(&url, postgres::NoTls)?.batch_execute(PG_RICH_SCHEMA)?;
        Ok((database, url))
    }

    fn drop_it(self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = client.batch_execute(&drop);
        }
    }
}

fn start_server(args: &Args, secret: &str) -> Result<ServerProcess, Box<dyn std::error::Error>> {
    let bin = match &args.server_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe()?
            .with_file_name("velocity-sync-server")
            .with_extension(std::env::consts::EXE_EXTENSION),
    };
    let dir = std::env::temp_dir().join(format!("velocity-sync-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (database, scratch_database) = match &args.database {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let (scratch, url) = ScratchDatabase::create(url)?;
            (url, Some(scratch))
        }
        Some(other) => (other.clone(), None),
        None => (format!("sqlite:{}", dir.join("load.db").display()), None),
    };
    let mut child = Command::new(&bin)
        .args(["--listen", "127.0.0.1:0", "--database", &database])
        .args(["--pg-connections", &args.pg_connections.to_string()])
        .args(["--checkpoint-ms", &args.checkpoint_ms.to_string()])
        .env("VELOCITY_SYNC_JWT_SECRET", secret)
        .env(
            "VELOCITY_SYNC_CREATED_BY",
            uuid::Uuid::from_u128(0x10AD).to_string(),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("server has no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("server said {line:?}, not `listening on ADDR`"))?
        .parse()?;
    Ok(ServerProcess {
        child,
        addr,
        dir,
        scratch_database,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.sessions == 0 || args.keys_per_second <= 0.0 || args.seconds == 0 {
        return Err("--sessions, --keys-per-second and --seconds must be positive".into());
    }
    let secret = format!("load-{}", std::process::id());
    // The server (and a scratch PostgreSQL database, through the blocking
    // client) is set up and torn down outside the async runtime.
    let server = start_server(&args, &secret)?;
    tokio::runtime::Runtime::new()?.block_on(measure(&args, &server, secret))
}

async fn measure(
    args: &Args,
    server: &ServerProcess,
    secret: String,
) -> Result<(), Box<dyn std::error::Error>> {
    let pid = server.child.id();
    let idle = process::usage(pid).unwrap_or_default();
    let options = LoadOptions {
        addr: server.addr,
        secret: secret.into_bytes(),
        sessions: args.sessions,
        keys_per_second: args.keys_per_second,
        duration: Duration::from_secs(args.seconds),
        connect_timeout: Duration::from_secs(args.connect_seconds),
        disk_agent: args.disk_agent.then(|| server.dir.join("agent-root")),
    };
    eprintln!(
        "{} sessions on {}: connecting for {} s, then typing {} keys/s each for {} s",
        args.sessions, server.addr, args.connect_seconds, args.keys_per_second, args.seconds
    );
    // Read the server's (and this process's) usage when typing starts and
    // when it ends: CPU over that window is the steady cost of the sessions.
    let typing_starts = Instant::now() + options.connect_timeout;
    let sample = |at: Instant| {
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let me = process::usage(std::process::id()).unwrap_or_default();
            (Instant::now(), process::usage(pid).unwrap_or_default(), me)
        })
    };
    let at_start = sample(typing_starts);
    let at_end = sample(typing_starts + options.duration);
    let report = load::run(&options).await?;
    let (start, end) = (at_start.await?, at_end.await?);
    let summary = report.summary().ok_or("no keystroke arrived")?;

    let wall = end
        .0
        .saturating_duration_since(start.0)
        .as_secs_f64()
        .max(1e-9);
    let cpu = end.1.cpu.saturating_sub(start.1.cpu).as_secs_f64();
    let own_cpu = end.2.cpu.saturating_sub(start.2.cpu).as_secs_f64();
    let sessions = args.sessions as f64;
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| sessions (editor + agent each) | {} |", args.sessions);
    println!(
        "| keystrokes sent / arrived | {} / {} |",
        report.sent,
        report.received()
    );
    println!(
        "| edits/s into the server | {:.0} |",
        report.sent as f64 / args.seconds as f64
    );
    println!("| latency p50 | {} |", ms(summary.p50));
    println!("| latency p99 | {} |", ms(summary.p99));
    println!("| latency max | {} |", ms(summary.max));
    println!(
        "| server CPU while typing | {:.1} % of one core |",
        100.0 * cpu / wall
    );
    println!(
        "| load tool CPU while typing (clients) | {:.1} % of one core |",
        100.0 * own_cpu / wall
    );
    println!(
        "| server CPU per session | {:.1} µs/s |",
        1e6 * cpu / wall / sessions
    );
    println!(
        "| server memory (RSS) | {:.1} MiB (idle {:.1} MiB) |",
        end.1.rss as f64 / 1048576.0,
        idle.rss as f64 / 1048576.0
    );
    println!(
        "| server memory per session | {:.1} KiB |",
        end.1.rss.saturating_sub(idle.rss) as f64 / 1024.0 / sessions
    );
    if let Some(disk) = &report.disk {
        let summary = disk.summary().ok_or("no keystroke reached the disk")?;
        println!(
            "| one real agent: keystrokes sent / on disk | {} / {} |",
            disk.sent,
            disk.received()
        );
        println!(
            "| keystroke → file changed on disk p50 (agent, fsync on) | {} |",
            ms(summary.p50)
        );
        println!(
            "| keystroke → file changed on disk p99 | {} |",
            ms(summary.p99)
        );
        println!(
            "| keystroke → file changed on disk max | {} |",
            ms(summary.max)
        );
        if disk.received() != disk.sent {
            return Err(format!(
                "{} keystrokes never reached the disk",
                disk.sent - disk.received()
            )
            .into());
        }
    }
    if report.received() != report.sent {
        return Err(format!(
            "{} keystrokes never reached their agent",
            report.sent - report.received()
        )
        .into());
    }
    Ok(())
}

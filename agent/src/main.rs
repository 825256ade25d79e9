//! `velocity-sync-agent`: keeps a directory equal to a project on the sync
//! server (the preview container's side).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use uuid::Uuid;
use velocity_sync_agent::{Agent, AgentEvent, AgentOptions};

/// Hydrates a project into DIR (critical files first), then keeps DIR equal
/// to the server's version: live changes are written atomically, local
/// changes to synced files are reported and put back (one-way replica), and
/// node_modules/, dist/, .git/ and the like are left alone.
#[derive(Debug, Parser)]
#[command(name = "velocity-sync-agent", version)]
struct Args {
    /// The sync server's base URL, e.g. http://127.0.0.1:8787.
    #[arg(long, env = "VELOCITY_SYNC_SERVER")]
    server: String,
    /// The project id (a UUID).
    #[arg(long, env = "VELOCITY_SYNC_PROJECT")]
    project: Uuid,
    /// An access token for the project with role `agent`.
    #[arg(long, env = "VELOCITY_SYNC_TOKEN", hide_env_values = true)]
    token: String,
    /// The directory to write the project to (created when missing).
    #[arg(long, env = "VELOCITY_SYNC_ROOT")]
    root: PathBuf,
    /// Where to keep the state file (default: ROOT/.velocity-sync).
    #[arg(long, env = "VELOCITY_SYNC_STATE")]
    state: Option<PathBuf>,
    /// More paths to leave alone (a top-level name, or **/name at any depth).
    #[arg(long, env = "VELOCITY_SYNC_IGNORE", value_delimiter = ',')]
    ignore: Vec<String>,
    /// Seconds between drift repairs.
    #[arg(long, env = "VELOCITY_SYNC_DRIFT_SECS", default_value_t = 5.0)]
    drift_secs: f64,
    /// Skip the fsync of each live change and the flush after a hydration
    /// (faster, not power-loss safe).
    #[arg(long, env = "VELOCITY_SYNC_NO_FSYNC")]
    no_fsync: bool,
    /// Exit once the project is on disk (a hydration) instead of following it.
    #[arg(long, env = "VELOCITY_SYNC_ONCE")]
    once: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut options = AgentOptions::new(&args.server, args.project, &args.token, args.root);
    options.state_dir = args.state;
    options.ignore = args.ignore;
    options.drift_every = Duration::from_secs_f64(args.drift_secs.max(0.05));
    options.fsync = !args.no_fsync;
    options.once = args.once;
    let mut agent = Agent::open(options)?.with_observer(print);
    agent
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// One line per event on stdout (hydration progress goes to stderr).
fn print(event: &AgentEvent) {
    match event {
        AgentEvent::Started {
            resumed,
            preloaded,
            recovered,
        } => println!(
            "started: resumed={resumed} on-disk={preloaded} journal-renames-finished={recovered}"
        ),
        AgentEvent::Connected => println!("connected"),
        AgentEvent::Disconnected { reason } => println!("disconnected: {reason}"),
        AgentEvent::Hydrating(_) => {}
        AgentEvent::Synced { n, written } => println!("synced at event {n}: {written} written"),
        AgentEvent::Applied { written, removed } => {
            for path in written {
                println!("wrote {path}");
            }
            for path in removed {
                println!("removed {path}");
            }
        }
        AgentEvent::Refused {
            path,
            code,
            message,
        } => println!("refused {path} [{code}]: {message}"),
        AgentEvent::Ignored { paths } => println!("ignored (not owned): {}", paths.join(", ")),
        AgentEvent::Drift {
            repaired,
            removed,
            untracked,
            hashed,
        } => {
            for path in repaired {
                println!("drift: put back {path}");
            }
            for path in removed {
                println!("drift: removed {path}");
            }
            if !untracked.is_empty() {
                println!("drift: untracked (kept): {}", untracked.join(", "));
            }
            println!("drift: {hashed} files hashed");
        }
        _ => println!("{event:?}"),
    }
}

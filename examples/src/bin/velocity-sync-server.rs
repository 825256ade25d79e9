//! `velocity-sync-server`: the sync server on SQLite.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use uuid::Uuid;
use velocity_sync_examples::server::{Options, Server, SqliteStore};

/// Serves velocity-sync projects over WebSockets, persisted to SQLite.
///
/// Endpoints: GET /projects/{id}/ws (the protocol; token in ?token= or
/// Authorization: Bearer), GET /projects/{id}/manifest, GET /blobs/{hash}.
#[derive(Debug, Parser)]
#[command(name = "velocity-sync-server", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// SQLite database file (created with its schema when missing).
    #[arg(long, default_value = "velocity-sync.db")]
    database: PathBuf,
    /// Secret that HS256 access tokens are signed with.
    #[arg(long, env = "VELOCITY_SYNC_JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
    /// Milliseconds after the last edit before project_files rows are written.
    #[arg(long, default_value_t = 1000)]
    checkpoint_ms: u64,
    /// `created_by` written into new project_files rows (a service user id).
    #[arg(long, default_value_t = Uuid::nil())]
    created_by: Uuid,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let store = SqliteStore::open(&args.database, args.created_by)?;
    let mut options = Options::new(args.jwt_secret.into_bytes());
    options.checkpoint_after = Duration::from_millis(args.checkpoint_ms);
    let server = Server::bind(args.listen, store, options).await?;
    let addr = server.local_addr()?;
    // Tests and scripts read this line to learn the port.
    println!("listening on {addr}");
    tracing::info!(%addr, database = %args.database.display(), "serving");
    server
        .serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

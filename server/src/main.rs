//! `velocity-sync-server`: the sync server on SQLite or PostgreSQL.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use uuid::Uuid;
use velocity_sync_server::{Options, PgStore, Server, SqliteStore};

/// Serves velocity-sync projects over WebSockets, persisted to SQLite or
/// PostgreSQL (several instances may share one PostgreSQL database).
///
/// Endpoints: GET /projects/{id}/ws (the protocol; token in ?token= or
/// Authorization: Bearer), GET /projects/{id}/manifest, GET /blobs/{hash}.
#[derive(Debug, Parser)]
#[command(name = "velocity-sync-server", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "VELOCITY_SYNC_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// `sqlite:PATH` (or a plain file path; created with its schema when
    /// missing) or `postgres://user@host:port/db` (its `project_files`
    /// table must exist, in either platform shape).
    #[arg(
        long,
        env = "VELOCITY_SYNC_DATABASE",
        default_value = "sqlite:velocity-sync.db"
    )]
    database: String,
    /// Secret that HS256 access tokens are signed with.
    #[arg(long, env = "VELOCITY_SYNC_JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
    /// Milliseconds after the last edit before project_files rows are written.
    #[arg(long, env = "VELOCITY_SYNC_CHECKPOINT_MS", default_value_t = 1000)]
    checkpoint_ms: u64,
    /// `created_by` written into new project_files rows (a service user id).
    /// Needed by the rich PostgreSQL shape (NOT NULL); SQLite uses the nil
    /// id when absent.
    #[arg(long, env = "VELOCITY_SYNC_CREATED_BY")]
    created_by: Option<Uuid>,
    /// PostgreSQL connections; projects are spread over them by id, so
    /// that many commit in parallel.
    #[arg(long, env = "VELOCITY_SYNC_PG_CONNECTIONS", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pg_connections: u16,
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
    let mut options = Options::new(args.jwt_secret.into_bytes());
    options.checkpoint_after = Duration::from_millis(args.checkpoint_ms);
    let server =
        if args.database.starts_with("postgres://") || args.database.starts_with("postgresql://") {
            let (url, created_by) = (args.database.clone(), args.created_by);
            let connections = args.pg_connections;
            // The postgres client blocks: connect off the executor. Each
            // store is one connection; projects are spread over them by id.
            let stores = tokio::task::spawn_blocking(move || {
                (0..connections)
                    .map(|_| PgStore::connect(&url, created_by))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?
            .map_err(|error| format!("{}: {error}", error.code()))?;
            tracing::info!(connections = stores.len(), "connected to PostgreSQL");
            Server::bind_stores(args.listen, stores, options).await?
        } else {
            let path = args
                .database
                .strip_prefix("sqlite:")
                .unwrap_or(&args.database);
            let store = SqliteStore::open(path.as_ref(), args.created_by.unwrap_or_default())?;
            Server::bind(args.listen, store, options).await?
        };
    let addr = server.local_addr()?;
    // Tests and scripts read this line to learn the port.
    println!("listening on {addr}");
    tracing::info!(%addr, "serving");
    server
        .serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

//! The sync server: [`ProjectServer`](velocity_sync::ProjectServer)s served
//! over WebSockets and HTTP, persisted to SQLite (see `sql/sqlite_schema.sql`)
//! or PostgreSQL (`sql/pg_sync.sql` next to the platform's `project_files`).
//!
//! - [`auth`]: HS256 tokens naming a project and a role;
//! - [`store`]: the [`Store`] trait and [`SqliteStore`];
//! - [`pg`]: [`PgStore`], several instances on one database;
//! - [`pg_table`]: which shape a database's `project_files` has;
//! - [`worker`]: a thread per store, committing many projects' steps at once;
//! - [`project`]: one task per project (batching, group commit, routing,
//!   checkpoints);
//! - [`http`]: the endpoints.

pub mod auth;
pub mod http;
pub mod pg;
pub mod pg_table;
pub mod project;
pub mod store;
pub mod worker;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use velocity_sync::ServerConfig;

pub use self::pg::PgStore;
pub use self::pg_table::TableError;
pub use self::store::{SqliteStore, StorageError, Store};

/// How a server runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The secret HS256 tokens are signed with.
    pub jwt_secret: Vec<u8>,
    /// Delay after the last edit before `project_files` rows are written.
    pub checkpoint_after: Duration,
    /// The core server's limits.
    pub config: ServerConfig,
    /// Messages queued per connection before it is dropped as too slow.
    pub send_queue: usize,
    /// WebSocket ping interval.
    pub heartbeat: Duration,
}

impl Options {
    /// Defaults around `jwt_secret`: checkpoint after 1 s, 1024 queued
    /// messages per connection, a ping every 15 s.
    pub fn new(jwt_secret: impl Into<Vec<u8>>) -> Self {
        Self {
            jwt_secret: jwt_secret.into(),
            checkpoint_after: Duration::from_secs(1),
            // This host sends binary frames to clients that offer them.
            config: ServerConfig {
                binary_frames: true,
                ..ServerConfig::default()
            },
            send_queue: 1024,
            heartbeat: Duration::from_secs(15),
        }
    }
}

/// A server bound to a socket, not yet serving.
pub struct Server {
    listener: TcpListener,
    state: Arc<http::AppState>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free one) over `store`.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn bind(
        addr: SocketAddr,
        store: impl Store,
        options: Options,
    ) -> std::io::Result<Self> {
        Self::bind_stores(addr, vec![store], options).await
    }

    /// Binds `addr` over several stores of one database (connections):
    /// each project is served by one of them, chosen by its id, so
    /// projects commit in parallel. Changes are announced by the first.
    ///
    /// # Errors
    /// When the address cannot be bound, or `stores` is empty.
    pub async fn bind_stores<S: Store>(
        addr: SocketAddr,
        stores: Vec<S>,
        options: Options,
    ) -> std::io::Result<Self> {
        if stores.is_empty() {
            return Err(std::io::Error::other("no store"));
        }
        let listener = TcpListener::bind(addr).await?;
        // A store may block while it subscribes: off the executor.
        let (stores, changes) = tokio::task::spawn_blocking(move || {
            let mut stores = stores;
            let changes = stores.first_mut().and_then(Store::changes);
            (stores, changes)
        })
        .await
        .map_err(std::io::Error::other)?;
        let stores = stores
            .into_iter()
            .enumerate()
            .map(|(i, store)| worker::StoreHandle::spawn(store, &format!("store-{i}")))
            .collect::<std::io::Result<Vec<_>>>()?;
        let state = Arc::new(http::AppState {
            secret: options.jwt_secret,
            stores,
            settings: project::ProjectSettings {
                config: options.config,
                checkpoint_after: options.checkpoint_after,
                batch: 1024,
            },
            projects: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            send_queue: options.send_queue.max(1),
            heartbeat: options.heartbeat,
        });
        if let Some(changes) = changes {
            tokio::spawn(forward_changes(Arc::downgrade(&state), changes));
        }
        Ok(Self { listener, state })
    }

    /// The address it listens on.
    ///
    /// # Errors
    /// When the socket has none.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves.
    ///
    /// # Errors
    /// When accepting fails.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, http::router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Wakes the project tasks whose projects other writers changed (a nil id:
/// every project), until the server stops.
async fn forward_changes(
    state: std::sync::Weak<http::AppState>,
    mut changes: tokio::sync::mpsc::UnboundedReceiver<store::ChangeNotice>,
) {
    while let Some((project, n)) = changes.recv().await {
        let Some(state) = state.upgrade() else { return };
        let targets: Vec<_> = match state.projects.lock() {
            Ok(projects) => projects
                .iter()
                .filter(|(id, _)| project.is_nil() || **id == project)
                .map(|(_, tx)| tx.clone())
                .collect(),
            Err(_) => return,
        };
        drop(state);
        for tx in targets {
            if n.is_some() {
                // Another instance's events: a full queue means the task
                // is busy, and its next step catches up anyway.
                let _ = tx.try_send(project::Inbound::Poll(n));
            } else {
                // A foreign write must reach the task: it is the only
                // reason the task reads the queue.
                let _ = tx.send(project::Inbound::Poll(n)).await;
            }
        }
    }
}

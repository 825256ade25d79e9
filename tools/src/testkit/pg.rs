//! A fresh PostgreSQL database per test, in the cluster `scripts/pg.sh`
//! started (its URL in `VELOCITY_SYNC_PG_URL`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use postgres::{Client, NoTls, SimpleQueryMessage};
use uuid::Uuid;
use velocity_sync_server::pg::{PG_RICH_SCHEMA, PG_SIMPLE_SCHEMA};
use velocity_sync_server::{Options, PgStore};

use super::InProcess;

/// The cluster's URL. Without one, the test is skipped with a printed
/// reason, except under `CI=true`, where PostgreSQL tests must run: there
/// it fails.
pub fn url() -> Option<String> {
    match std::env::var("VELOCITY_SYNC_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |ci| ci != "true"),
                "CI=true but VELOCITY_SYNC_PG_URL is not set: run the tests through `bash scripts/pg.sh run cargo test ...`"
            );
            eprintln!(
                "skipped: no PostgreSQL (VELOCITY_SYNC_PG_URL unset; run `bash scripts/pg.sh run cargo test ...`)"
            );
            None
        }
    }
}

/// Which platform shape of `project_files` a database gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Rich,
    Simple,
    /// No `project_files` at all.
    None,
}

/// A database of its own, dropped (forcibly) with this value.
pub struct Db {
    admin: String,
    name: String,
    pub url: String,
}

/// The service user id the tests configure.
pub const CREATED_BY: Uuid = Uuid::from_u128(0x5E_4C1CE);

/// Runs blocking `f` (the postgres client) off the executor.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

impl Db {
    /// A new database with `shape`'s `project_files`; None when skipped.
    pub async fn create(shape: Shape) -> Option<Self> {
        let admin = url()?;
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!(
            "vs_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
        );
        let base = admin.rsplit_once('/').unwrap().0.to_owned();
        let url = format!("{base}/{name}");
        let db = Self {
            admin: admin.clone(),
            name: name.clone(),
            url: url.clone(),
        };
        blocking(move || {
            let mut client = Client::connect(&admin, NoTls)
                .unwrap_or_else(|e| panic!("VELOCITY_SYNC_PG_URL={admin} is unreachable: {e}"));
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let mut client = Client::connect(&url, NoTls).unwrap();
            match shape {
                Shape::Rich => client.batch_execute(PG_RICH_SCHEMA).unwrap(),
                Shape::Simple => client.batch_execute(PG_SIMPLE_SCHEMA).unwrap(),
                Shape::None => {}
            }
        })
        .await;
        Some(db)
    }

    /// Runs `sql` (one or more statements); returns the rows of the last
    /// result as text.
    pub async fn sql(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let (url, sql) = (self.url.clone(), sql.to_owned());
        blocking(move || {
            let mut client = Client::connect(&url, NoTls).unwrap();
            let mut rows = Vec::new();
            for message in client.simple_query(&sql).unwrap() {
                match message {
                    SimpleQueryMessage::Row(row) => rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_owned))
                            .collect(),
                    ),
                    SimpleQueryMessage::CommandComplete(_) => {}
                    _ => {}
                }
            }
            rows
        })
        .await
    }

    /// The single text value `sql` selects, if any row.
    pub async fn value(&self, sql: &str) -> Option<String> {
        self.sql(sql).await.into_iter().next()?.into_iter().next()?
    }

    /// A store on this database (blocking connect done off the executor).
    pub async fn store(&self) -> PgStore {
        let url = self.url.clone();
        blocking(move || PgStore::connect(&url, Some(CREATED_BY)).unwrap()).await
    }

    /// An in-process server on this database.
    pub async fn server(&self, options: Options) -> InProcess {
        let store = self.store().await;
        InProcess::start_on(store, PathBuf::new(), options).await
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Not on the executor: the postgres client blocks.
        let _ = std::thread::spawn(move || {
            if let Ok(mut client) = Client::connect(&admin, NoTls) {
                let _ =
                    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        })
        .join();
    }
}

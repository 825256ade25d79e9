//! File ids come from clients: one that names a file of another project must
//! never overwrite that project's `project_files` row (the row id is the
//! table's primary key, shared by every project). On SQLite and on
//! PostgreSQL (the latter skipped with a printed reason without
//! `VELOCITY_SYNC_PG_URL`, except under `CI=true`, where it fails).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use std::net::SocketAddr;

use support::pg::{Db, Shape};
use support::{InProcess, Peer, options, path};
use uuid::Uuid;
use velocity_sync::FileId;

const VICTIM: Uuid = Uuid::from_u128(0xB1C7);
const ATTACKER: Uuid = Uuid::from_u128(0xA77A);

/// One row: `(project_id, path, content)`.
type RowOf = (String, String, String);

/// The victim project creates `victim.txt`; once its row is written, the
/// attacker project creates a file with the same id, and a file of its own
/// whose row shows that its checkpoint ran. Returns the shared id.
async fn collide<F, Fut>(addr: SocketAddr, row: F) -> FileId
where
    F: Fn(FileId) -> Fut,
    Fut: Future<Output = Option<RowOf>>,
{
    let mut victim = Peer::join(addr, VICTIM, "editor", 1).await;
    let id = victim
        .client
        .create(path("victim.txt"), Some(b"victim".to_vec()));
    victim.until_text("victim.txt", "victim").await;
    let mut written = None;
    for _ in 0..1000 {
        written = row(id).await;
        if written.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let written = written.expect("the victim's row is written");
    assert_eq!(written.0, VICTIM.to_string());

    let mut attacker = Peer::join(addr, ATTACKER, "editor", 1).await;
    attacker
        .client
        .create_with_id(id, path("evil.txt"), Some(b"overwritten".to_vec()));
    let own = attacker
        .client
        .create(path("own.txt"), Some(b"own".to_vec()));
    attacker.until_text("own.txt", "own").await;
    attacker.settle().await;
    let mut landed = false;
    for _ in 0..1000 {
        if row(own).await.is_some() {
            landed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(landed, "the attacker's checkpoint ran");
    id
}

/// The victim's row and a fresh view of the victim project are unchanged.
async fn victim_is_intact<F, Fut>(addr: SocketAddr, id: FileId, row: F)
where
    F: Fn(FileId) -> Fut,
    Fut: Future<Output = Option<RowOf>>,
{
    assert_eq!(
        row(id).await,
        Some((
            VICTIM.to_string(),
            "victim.txt".to_owned(),
            "victim".to_owned()
        ))
    );
    let mut viewer = Peer::join(addr, VICTIM, "viewer", 7).await;
    viewer.until_text("victim.txt", "victim").await;
    assert!(viewer.id_at("evil.txt").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colliding_id_never_overwrites_another_projects_row_on_sqlite() {
    let server = InProcess::start("server-ids", options()).await;
    let db = server.db.clone();
    let row = |id: FileId| {
        let db = db.clone();
        async move {
            let conn = rusqlite::Connection::open(&db).ok()?;
            conn.query_row(
                "SELECT project_id, file_path, content FROM project_files WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .ok()
        }
    };
    let id = collide(server.addr, row).await;
    victim_is_intact(server.addr, id, row).await;
    // Later checkpoints (every 50 ms here) do not write it either.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    victim_is_intact(server.addr, id, row).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colliding_id_never_overwrites_another_projects_row_on_postgres() {
    let Some(db) = Db::create(Shape::Rich).await else {
        return;
    };
    let server = db.server(options()).await;
    let db = std::sync::Arc::new(db);
    let row = |id: FileId| {
        let db = db.clone();
        async move {
            let rows = db
                .sql(&format!(
                    "SELECT project_id::text, file_path, content FROM project_files WHERE id = '{id}'"
                ))
                .await;
            let row = rows.into_iter().next()?;
            Some((
                row[0].clone()?,
                row[1].clone()?,
                row[2].clone().unwrap_or_default(),
            ))
        }
    };
    let id = collide(server.addr, row).await;
    victim_is_intact(server.addr, id, row).await;
}

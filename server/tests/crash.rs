//! `kill -9` and restart: every acknowledged edit survives, whether it was
//! only in the ops log or already checkpointed into `project_files`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::{Peer, SECRET, eventually, path, temp_dir};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;
use velocity_sync::TextOp;

/// A server child process, killed (SIGKILL) when dropped, so a failing
/// test leaves no server behind.
struct Killed(Option<Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill(); // SIGKILL on Unix
            let _ = child.wait();
        }
    }
}

/// The server binary on `db`; returns it with the address it printed.
fn spawn(db: &Path, checkpoint_ms: u64) -> (Killed, SocketAddr) {
    spawn_on(&format!("sqlite:{}", db.display()), checkpoint_ms)
}

/// The server binary on `database` (`sqlite:PATH` or a PostgreSQL URL).
fn spawn_on(database: &str, checkpoint_ms: u64) -> (Killed, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_velocity-sync-server"))
        .args(["--listen", "127.0.0.1:0", "--database", database])
        .args(["--checkpoint-ms", &checkpoint_ms.to_string()])
        .env(
            "VELOCITY_SYNC_CREATED_BY",
            support::pg::CREATED_BY.to_string(),
        )
        .env(
            "VELOCITY_SYNC_JWT_SECRET",
            std::str::from_utf8(SECRET).unwrap(),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Killed(Some(child));
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

fn kill9(mut child: Killed) {
    let mut child = child.0.take().unwrap();
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the server was killed, not stopped: {status}"
    );
}

/// Appends `text` at the end of the file at `name`.
fn append(peer: &mut Peer, name: &str, text: &str) {
    let id = peer.id_at(name).unwrap();
    let len = peer.text(&id).unwrap().chars().count();
    peer.client
        .edit(id, TextOp::from_splice(len, len, 0, text).unwrap())
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_restart_keeps_every_acknowledged_edit() {
    let db = temp_dir("crash").join("sync.db");
    let project = Uuid::from_u128(0xC1);

    // 1. Edits acknowledged but never checkpointed (checkpoint far away).
    let (child, addr) = spawn(&db, 600_000);
    let mut editor = Peer::join(addr, project, "editor", 1).await;
    editor.client.create(path("src/a.ts"), Some(b"a".to_vec()));
    editor.client.create(path("b.md"), Some(b"b".to_vec()));
    editor.client.create(path("gone.ts"), Some(b"g".to_vec()));
    editor.settle().await;
    for i in 0..20 {
        append(&mut editor, "src/a.ts", &i.to_string());
        editor.flush().await;
    }
    let b = editor.id_at("b.md").unwrap();
    editor.client.rename(b, path("docs/b.md"));
    editor.client.delete(editor.id_at("gone.ts").unwrap());
    editor.settle().await;
    let a_text = editor.text(&editor.id_at("src/a.ts").unwrap()).unwrap();
    assert_eq!(a_text, "a012345678910111213141516171819");
    let n = editor.client.event_number();
    let client = editor.client;
    kill9(child);

    // 2. Restart on the same database: a new participant sees it all, and
    // the old one catches up from where it was.
    let (child, addr) = spawn(&db, 50);
    let mut fresh = Peer::join(addr, project, "viewer", 2).await;
    fresh.until_text("src/a.ts", &a_text).await;
    fresh.until_text("docs/b.md", "b").await;
    assert!(fresh.id_at("gone.ts").is_none());
    assert!(fresh.client.event_number() >= n);
    let mut editor = Peer::rejoin(addr, project, "editor", client).await;
    editor.until_text("src/a.ts", &a_text).await;

    // 3. Now with checkpoints: wait for the row, edit more, kill again.
    append(&mut editor, "src/a.ts", "!");
    editor.settle().await;
    let checkpointed = format!("{a_text}!");
    let conn = rusqlite::Connection::open(&db).unwrap();
    eventually("checkpointed row", || {
        conn.query_row(
            "SELECT content FROM project_files WHERE file_path = 'src/a.ts'",
            [],
            |r| r.get::<_, String>(0),
        )
        .ok()
        .filter(|content| *content == checkpointed)
    })
    .await;
    drop(conn);
    // An executable file (rows have no such bit) created after the
    // checkpoint, by another editor speaking raw frames.
    let mut raw = support::open(addr, project, &support::client_token(project, "editor", 77))
        .await
        .unwrap();
    let hello = r#"{"v":1,"event":"sync:hello","payload":{"client":77}}"#;
    let create = format!(
        r#"{{"v":1,"event":"file:create","payload":{{"id":"{}","path":"run.sh","seq":1,"executable":true,"content":{{"text":"echo hi\n"}}}}}}"#,
        Uuid::from_u128(0xE1)
    );
    for frame in [hello.to_owned(), create] {
        futures_util::SinkExt::send(&mut raw, Message::text(frame))
            .await
            .unwrap();
    }
    editor.until_text("run.sh", "echo hi\n").await;
    assert!(
        editor
            .client
            .manifest()
            .get(&path("run.sh"))
            .unwrap()
            .executable
    );
    append(&mut editor, "src/a.ts", "?");
    editor
        .client
        .create(path("late.ts"), Some(b"late".to_vec()));
    editor.settle().await;
    let final_text = format!("{checkpointed}?");
    let client = editor.client;
    kill9(child);

    let (child, addr) = spawn(&db, 50);
    let mut fresh = Peer::join(addr, project, "agent", 3).await;
    fresh.until_text("src/a.ts", &final_text).await;
    fresh.until_text("late.ts", "late").await;
    fresh.until_text("docs/b.md", "b").await;
    fresh.until_text("run.sh", "echo hi\n").await;
    assert!(
        fresh
            .client
            .manifest()
            .get(&path("run.sh"))
            .unwrap()
            .executable
    );
    let mut editor = Peer::rejoin(addr, project, "editor", client).await;
    editor.until_text("src/a.ts", &final_text).await;
    editor.settle().await;

    // Once more after a checkpoint of it all: the executable bit, kept
    // beside the rows, survives too.
    let conn = rusqlite::Connection::open(&db).unwrap();
    eventually("checkpointed run.sh", || {
        conn.query_row(
            "SELECT count(*) FROM project_files WHERE file_path = 'run.sh'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .ok()
        .filter(|count| *count == 1)
    })
    .await;
    drop(conn);
    append(&mut editor, "src/a.ts", "#");
    editor
        .client
        .create(path("later.ts"), Some(b"later".to_vec()));
    editor.settle().await;
    kill9(child);
    let (child, addr) = spawn(&db, 50);
    let mut fresh = Peer::join(addr, project, "viewer", 4).await;
    fresh
        .until_text("src/a.ts", &format!("{final_text}#"))
        .await;
    fresh.until_text("later.ts", "later").await;
    assert!(
        fresh
            .client
            .manifest()
            .get(&path("run.sh"))
            .unwrap()
            .executable
    );
    kill9(child);
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

/// Two instances on one PostgreSQL database: the one an editor works on is
/// killed (`kill -9`) with acknowledged edits only in the ops log; the other
/// carries the project on, the editor reconnects there and loses nothing,
/// and a restart after killing that one too still has every edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_instance_on_postgres_loses_no_acknowledged_edit() {
    let Some(db) = support::pg::Db::create(support::pg::Shape::Rich).await else {
        return;
    };
    let project = Uuid::from_u128(0xC2);
    // `one` never checkpoints by itself; `two` does quickly.
    let (one, one_addr) = spawn_on(&db.url, 600_000);
    let (two, two_addr) = spawn_on(&db.url, 50);
    let mut editor = Peer::join(one_addr, project, "editor", 1).await;
    let mut watcher = Peer::join(two_addr, project, "viewer", 2).await;
    editor.client.create(path("src/a.ts"), Some(b"a".to_vec()));
    editor.settle().await;
    for i in 0..30 {
        append(&mut editor, "src/a.ts", &i.to_string());
        editor.flush().await;
    }
    editor.client.create(path("b.md"), Some(b"b".to_vec()));
    editor.settle().await;
    let text = editor.text(&editor.id_at("src/a.ts").unwrap()).unwrap();
    watcher.until_text("src/a.ts", &text).await;
    let client = editor.client;
    kill9(one);

    // The editor reconnects to the surviving instance and goes on.
    let mut editor = Peer::rejoin(two_addr, project, "editor", client).await;
    editor.until_text("src/a.ts", &text).await;
    append(&mut editor, "src/a.ts", "!");
    editor.settle().await;
    let text = format!("{text}!");
    watcher.until_text("src/a.ts", &text).await;
    let client = editor.client;
    kill9(two);

    // Both gone: a fresh instance has it all, from rows plus the log.
    let (three, addr) = spawn_on(&db.url, 50);
    let mut fresh = Peer::join(addr, project, "agent", 3).await;
    fresh.until_text("src/a.ts", &text).await;
    fresh.until_text("b.md", "b").await;
    let mut editor = Peer::rejoin(addr, project, "editor", client).await;
    editor.until_text("src/a.ts", &text).await;
    let deadline = tokio::time::Instant::now() + support::WAIT;
    while db
        .value("SELECT content FROM project_files WHERE file_path = 'src/a.ts'")
        .await
        .as_deref()
        != Some(text.as_str())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "row not checkpointed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    kill9(three);
}

/// A SQL write to `project_files` is in its row the moment it commits, and
/// in the ops log once the server takes it. A `kill -9` before the next
/// checkpoint leaves both: the restarted server must apply it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_after_taking_a_sql_write_applies_it_once() {
    let Some(db) = support::pg::Db::create(support::pg::Shape::Rich).await else {
        return;
    };
    let project = Uuid::from_u128(0xC3);
    let (quick, addr) = spawn_on(&db.url, 50);
    let mut editor = Peer::join(addr, project, "editor", 1).await;
    editor
        .client
        .create(path("notes.md"), Some(b"one\n".to_vec()));
    editor.settle().await;
    let file = editor.id_at("notes.md").unwrap();
    let row = format!("SELECT content FROM project_files WHERE id = '{file}'");
    let deadline = tokio::time::Instant::now() + support::WAIT;
    while db.value(&row).await.as_deref() != Some("one\n") {
        assert!(tokio::time::Instant::now() < deadline, "row not written");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(editor);
    kill9(quick);

    // An instance that does not checkpoint takes the write, then dies.
    let (slow, addr) = spawn_on(&db.url, 600_000);
    let mut editor = Peer::join(addr, project, "editor", 2).await;
    editor.until_text("notes.md", "one\n").await;
    db.sql(&format!(
        "UPDATE project_files SET content = content || 'two\n' WHERE id = '{file}'"
    ))
    .await;
    editor.until_text("notes.md", "one\ntwo\n").await;
    append(&mut editor, "notes.md", "three\n");
    editor.settle().await;
    drop(editor);
    kill9(slow);

    let (fresh, addr) = spawn_on(&db.url, 50);
    let mut viewer = Peer::join(addr, project, "viewer", 3).await;
    viewer.until_text("notes.md", "one\ntwo\nthree\n").await;
    for _ in 0..5 {
        viewer.step(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(viewer.text(&file).as_deref(), Some("one\ntwo\nthree\n"));
    // Once a checkpoint covers the write, nothing of it is kept.
    let deadline = tokio::time::Instant::now() + support::WAIT;
    while db
        .value("SELECT count(*)::text FROM sync_foreign_taken")
        .await
        .as_deref()
        != Some("0")
        || db.value(&row).await.as_deref() != Some("one\ntwo\nthree\n")
    {
        assert!(tokio::time::Instant::now() < deadline, "not checkpointed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    kill9(fresh);
}

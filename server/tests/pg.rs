//! The server on PostgreSQL, over real sockets: both platform shapes of
//! `project_files`, start-up errors, writers we do not control (SQL on
//! `project_files`), and two instances on one database.
//!
//! Needs the cluster of `scripts/pg.sh` (`VELOCITY_SYNC_PG_URL`); skipped
//! with a printed reason without it, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use support::pg::{CREATED_BY, Db, Shape, blocking};
use support::{Peer, options, path};
use uuid::Uuid;
use velocity_sync::TextOp;
use velocity_sync::hash_both;
use velocity_sync_server::PgStore;

/// Polls `sql` until it yields `want`.
async fn until_value(db: &Db, sql: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + support::WAIT;
    loop {
        let got = db.value(sql).await;
        if got.as_deref() == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{sql}: got {got:?}, want {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn converge_on(shape: Shape) {
    let Some(db) = Db::create(shape).await else {
        return;
    };
    let project = Uuid::from_u128(0x9051);
    // A row written before the server ever ran, with columns the server
    // does not interpret: they must pass through untouched.
    let (extra_column, extra_value) = match shape {
        Shape::Rich => ("embedding", "[0.25,-1,3.5]"),
        _ => ("metadata", r#"{"author": "ai"}"#),
    };
    let insert = match shape {
        Shape::Rich => format!(
            "INSERT INTO project_files (id, project_id, file_path, file_name, content, version, created_by, embedding, ai_analysis)
             VALUES ('{}', '{project}', 'src/a.ts', 'a.ts', 'hello', 1, '{CREATED_BY}', '{extra_value}', '{{\"k\": 1}}')",
            Uuid::from_u128(0xA)
        ),
        _ => format!(
            "INSERT INTO project_files (id, project_id, file_path, content, version, metadata)
             VALUES ('{}', '{project}', 'src/a.ts', 'hello', 1, '{extra_value}')",
            Uuid::from_u128(0xA)
        ),
    };
    db.sql(&insert).await;
    let before = db
        .value(&format!("SELECT {extra_column}::text FROM project_files"))
        .await;
    let server = db.server(options()).await;
    let mut alice = Peer::join(server.addr, project, "editor", 1).await;
    let mut bob = Peer::join(server.addr, project, "editor", 2).await;
    let mut agent = Peer::join(server.addr, project, "agent", 3).await;
    alice.until_text("src/a.ts", "hello").await;
    let id = alice.id_at("src/a.ts").unwrap();
    alice
        .client
        .edit(id, TextOp::from_splice(5, 0, 0, "A").unwrap())
        .unwrap();
    bob.until_text("src/a.ts", "hello").await;
    bob.client
        .edit(id, TextOp::from_splice(5, 5, 0, "B").unwrap())
        .unwrap();
    alice.flush().await;
    bob.flush().await;
    alice
        .client
        .create(path("docs/new.md"), Some(b"# new\n".to_vec()));
    for peer in [&mut alice, &mut bob, &mut agent] {
        peer.until_text("src/a.ts", "AhelloB").await;
        peer.until_text("docs/new.md", "# new\n").await;
        peer.settle().await;
    }
    // The checkpoint brings the rows up to date in the table's own shape.
    let (hash_column, size_column) = match shape {
        Shape::Rich => ("content_hash", "file_size"),
        _ => ("checksum", "size_bytes"),
    };
    until_value(
        &db,
        &format!("SELECT content FROM project_files WHERE id = '{id}'"),
        "AhelloB",
    )
    .await;
    let row = db
        .sql(&format!(
            "SELECT {hash_column}, {size_column}::text, version::text, {extra_column}::text FROM project_files WHERE id = '{id}'"
        ))
        .await;
    let (_, sha256) = hash_both(b"AhelloB");
    assert_eq!(row[0][0].as_deref(), Some(sha256.to_string().as_str()));
    assert_eq!(row[0][1].as_deref(), Some("7"));
    assert!(row[0][2].as_deref().unwrap().parse::<u64>().unwrap() >= 3);
    assert_eq!(row[0][3], before, "{extra_column} passes through untouched");
    until_value(
        &db,
        "SELECT content FROM project_files WHERE file_path = 'docs/new.md'",
        "# new\n",
    )
    .await;
    if shape == Shape::Rich {
        assert_eq!(
            db.value("SELECT ai_analysis::text FROM project_files WHERE file_path = 'src/a.ts'")
                .await
                .as_deref(),
            Some(r#"{"k": 1}"#)
        );
        assert_eq!(
            db.value("SELECT created_by::text FROM project_files WHERE file_path = 'docs/new.md'")
                .await,
            Some(CREATED_BY.to_string())
        );
    }
    // The row inserted before the server ran was taken (once: it was
    // already loaded, so it changed nothing); the server's own writes were
    // never queued as foreign.
    assert_eq!(
        db.value("SELECT count(*)::text FROM sync_foreign").await,
        Some("0".to_owned()),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_and_an_agent_converge_on_the_rich_shape() {
    converge_on(Shape::Rich).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editors_and_an_agent_converge_on_the_simple_shape() {
    converge_on(Shape::Simple).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_names_what_is_missing() {
    let Some(none) = Db::create(Shape::None).await else {
        return;
    };
    let url = none.url.clone();
    let error = blocking(move || PgStore::connect(&url, Some(CREATED_BY)).unwrap_err()).await;
    assert_eq!(error.code(), "table.missing", "{error}");
    let rich = Db::create(Shape::Rich).await.unwrap();
    let url = rich.url.clone();
    let error = blocking(move || PgStore::connect(&url, None).unwrap_err()).await;
    assert_eq!(error.code(), "table.missing_value", "{error}");
    assert!(error.to_string().contains("created_by"), "{error}");
    rich.sql("ALTER TABLE project_files DROP COLUMN content_hash")
        .await;
    let url = rich.url.clone();
    let error = blocking(move || PgStore::connect(&url, Some(CREATED_BY)).unwrap_err()).await;
    assert_eq!(error.code(), "table.missing_column", "{error}");
    assert!(error.to_string().contains("content_hash"), "{error}");
    // The simple shape has no created_by: nothing to configure.
    let simple = Db::create(Shape::Simple).await.unwrap();
    let url = simple.url.clone();
    let store = blocking(move || PgStore::connect(&url, None))
        .await
        .unwrap();
    assert_eq!(store.table().shape, velocity_sync::rows::RowShape::Simple);
    blocking(move || drop(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_writers_reach_connected_clients_merged_with_live_edits() {
    let Some(db) = Db::create(Shape::Rich).await else {
        return;
    };
    let project = Uuid::from_u128(0x9052);
    let server = db.server(options()).await;
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    let mut agent = Peer::join(server.addr, project, "agent", 2).await;
    editor.client.create(
        path("src/app.ts"),
        Some(b"let a = 1;\nlet b = 1;\n".to_vec()),
    );
    editor.settle().await;
    let id = editor.id_at("src/app.ts").unwrap();
    until_value(
        &db,
        &format!("SELECT content FROM project_files WHERE id = '{id}'"),
        "let a = 1;\nlet b = 1;\n",
    )
    .await;

    // A template insert by the orchestrator: a new row reaches everyone,
    // with the row's own id.
    let template = Uuid::from_u128(0x7E);
    db.sql(&format!(
        "INSERT INTO project_files (id, project_id, file_path, file_name, content, created_by)
         VALUES ('{template}', '{project}', '/index.html', 'index.html', '<h1>hi</h1>', '{CREATED_BY}')"
    ))
    .await;
    for peer in [&mut editor, &mut agent] {
        peer.until_text("index.html", "<h1>hi</h1>").await;
        assert_eq!(
            peer.id_at("index.html").unwrap().to_string(),
            template.to_string()
        );
    }

    // The editor's saveFile overwrites the content while an edit of the
    // live editor is in flight: both survive (a three-way merge from the
    // content the writer replaced).
    editor
        .client
        .edit(id, TextOp::from_splice(22, 22, 0, "// live\n").unwrap())
        .unwrap();
    editor.flush().await;
    db.sql(&format!(
        "UPDATE project_files SET content = 'let a = 2;\nlet b = 1;\n' WHERE id = '{id}'"
    ))
    .await;
    for peer in [&mut editor, &mut agent] {
        peer.until_text("src/app.ts", "let a = 2;\nlet b = 1;\n// live\n")
            .await;
    }
    // And the merged text is what the row ends up with, once.
    until_value(
        &db,
        &format!("SELECT content FROM project_files WHERE id = '{id}'"),
        "let a = 2;\nlet b = 1;\n// live\n",
    )
    .await;

    // A delete from a SQL console.
    db.sql(&format!(
        "DELETE FROM project_files WHERE id = '{template}'"
    ))
    .await;
    for peer in [&mut editor, &mut agent] {
        peer.until(|c| c.manifest().get(&path("index.html")).is_none())
            .await;
    }
    editor.settle().await;
    // Everything foreign was taken exactly once; nothing of ours echoed.
    until_value(&db, "SELECT count(*)::text FROM sync_foreign", "0").await;
    let n_before = editor.client.event_number();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    editor.step(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        editor.client.event_number(),
        n_before,
        "checkpoint writes came back as events"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_renames_and_binary_rewrites_reach_connected_clients() {
    let Some(db) = Db::create(Shape::Rich).await else {
        return;
    };
    let project = Uuid::from_u128(0x9054);
    let server = db.server(options()).await;
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    let mut agent = Peer::join(server.addr, project, "agent", 2).await;
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 3];
    editor.client.create(path("img/logo.png"), Some(png));
    editor
        .client
        .create(path("src/old.ts"), Some(b"export {}\n".to_vec()));
    editor.settle().await;
    let logo = editor.id_at("img/logo.png").unwrap();
    let old = editor.id_at("src/old.ts").unwrap();
    // Both rows are written by a checkpoint before SQL touches them.
    until_value(
        &db,
        &format!("SELECT file_path FROM project_files WHERE id = '{old}'"),
        "src/old.ts",
    )
    .await;
    until_value(
        &db,
        &format!("SELECT encoding FROM project_files WHERE id = '{logo}'"),
        "base64",
    )
    .await;

    // A SQL console moves a file and rewrites a binary one (without fixing
    // its size or hash columns: the content wins).
    db.sql(&format!(
        "UPDATE project_files SET file_path = 'src/new.ts', file_name = 'new.ts' WHERE id = '{old}'"
    ))
    .await;
    db.sql(&format!(
        "UPDATE project_files SET content = 'iVBORwABAgMEBQ==' WHERE id = '{logo}'"
    ))
    .await;
    let rewritten: &[u8] = &[0x89, b'P', b'N', b'G', 0, 1, 2, 3, 4, 5];
    for peer in [&mut editor, &mut agent] {
        peer.until(|c| {
            c.manifest().get(&path("src/old.ts")).is_none()
                && c.manifest().get(&path("src/new.ts")).and_then(|e| e.id) == Some(old)
                && c.content(&logo).as_deref() == Some(rewritten)
        })
        .await;
    }
    until_value(&db, "SELECT count(*)::text FROM sync_foreign", "0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_database_converge() {
    let Some(db) = Db::create(Shape::Simple).await else {
        return;
    };
    let project = Uuid::from_u128(0x9053);
    let one = db.server(options()).await;
    let two = db.server(options()).await;
    let mut alice = Peer::join(one.addr, project, "editor", 1).await;
    let mut bob = Peer::join(two.addr, project, "editor", 2).await;
    let mut agent = Peer::join(two.addr, project, "agent", 3).await;
    alice.client.create(path("a.txt"), Some(b"0".to_vec()));
    alice.settle().await;
    bob.until_text("a.txt", "0").await;
    agent.until_text("a.txt", "0").await;
    let id = alice.id_at("a.txt").unwrap();
    // Both type at once, on different instances.
    for i in 0..20 {
        let len = alice.text(&id).unwrap().chars().count();
        alice
            .client
            .edit(id, TextOp::from_splice(len, len, 0, "a").unwrap())
            .unwrap();
        let len = bob.text(&id).unwrap().chars().count();
        bob.client
            .edit(id, TextOp::from_splice(len, 0, 0, "b").unwrap())
            .unwrap();
        if i % 5 == 0 {
            bob.client
                .create(path(&format!("b{i}.txt")), Some(b"b".to_vec()));
        }
        alice.flush().await;
        bob.flush().await;
    }
    alice.settle().await;
    bob.settle().await;
    let want = format!("{}0{}", "b".repeat(20), "a".repeat(20));
    for peer in [&mut alice, &mut bob, &mut agent] {
        peer.until_text("a.txt", &want).await;
        peer.until_text("b15.txt", "b").await;
    }
    let n = alice.client.event_number();
    bob.until(|c| c.event_number() >= n).await;
    agent.until(|c| c.event_number() >= n).await;
    assert_eq!(alice.client.manifest().id(), bob.client.manifest().id());
    assert_eq!(agent.client.manifest().id(), bob.client.manifest().id());
    // Each event was ordered once: numbers without gaps or repeats.
    let head: u64 = db
        .value(&format!(
            "SELECT head_n::text FROM sync_projects WHERE project_id = '{project}'"
        ))
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(head >= n, "head {head} < client {n}");
    until_value(
        &db,
        "SELECT content FROM project_files WHERE file_path = 'a.txt'",
        &want,
    )
    .await;
}

/// A step for `order_many` that appends one checkpoint event, or fails.
struct Append {
    project: Uuid,
    fail: bool,
    result: std::sync::Arc<std::sync::Mutex<Vec<(Uuid, bool)>>>,
}

impl velocity_sync_server::store::Job for Append {
    fn project(&self) -> Uuid {
        self.project
    }
    fn after(&self) -> u64 {
        0
    }
    fn step(
        &mut self,
        _: velocity_sync_server::store::Pending,
    ) -> Result<velocity_sync_server::store::Batch, velocity_sync_server::StorageError> {
        if self.fail {
            return Err(velocity_sync_server::StorageError::Worker(
                "refused".to_owned(),
            ));
        }
        let event = velocity_sync::protocol::Event {
            n: 1,
            client: None,
            seq: None,
            change: velocity_sync::protocol::EventChange::Checkpoint {
                manifest: velocity_sync::Manifest::new().id(),
                files: Vec::new(),
            },
        };
        Ok(velocity_sync_server::store::Batch {
            events: vec![event],
            checkpoint: None,
        })
    }
    fn finish(self: Box<Self>, result: Result<(), velocity_sync_server::StorageError>) {
        self.result
            .lock()
            .unwrap()
            .push((self.project, result.is_ok()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_undoes_a_failing_step_alone() {
    use velocity_sync_server::Store;
    let Some(db) = Db::create(Shape::Simple).await else {
        return;
    };
    let mut store = db.store().await;
    let result = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let jobs: Vec<Box<dyn velocity_sync_server::store::Job>> = (1..=3)
        .map(|i| {
            Box::new(Append {
                project: Uuid::from_u128(i),
                fail: i == 2,
                result: std::sync::Arc::clone(&result),
            }) as Box<dyn velocity_sync_server::store::Job>
        })
        .collect();
    let store = blocking(move || {
        store.order_many(jobs);
        store
    })
    .await;
    blocking(move || drop(store)).await;
    let mut finished = result.lock().unwrap().clone();
    finished.sort();
    assert_eq!(
        finished,
        [
            (Uuid::from_u128(1), true),
            (Uuid::from_u128(2), false),
            (Uuid::from_u128(3), true)
        ]
    );
    // One transaction, yet the failing step left nothing behind.
    assert_eq!(
        db.value(
            "SELECT string_agg(project_id::text || ':' || n, ',' ORDER BY project_id) FROM sync_ops"
        )
        .await
        .as_deref(),
        Some(format!("{}:1,{}:1", Uuid::from_u128(1), Uuid::from_u128(3)).as_str())
    );
}

/// Instances starting at the same instant all run the schema script (tables,
/// the trigger function, the trigger): they must not trip over each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_all_start() {
    for _ in 0..3 {
        let Some(db) = Db::create(Shape::Simple).await else {
            return;
        };
        let starts: Vec<_> = (0..6)
            .map(|_| {
                let url = db.url.clone();
                std::thread::spawn(move || {
                    PgStore::connect(&url, None)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for start in starts {
            start.join().unwrap().unwrap();
        }
    }
}

/// SQL writes to a project no instance has loaded are queued too; the first
/// load reads the rows they wrote, so the queue must not apply them again
/// (an append applied twice would double it), and must not grow forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_before_the_first_load_apply_once() {
    let Some(db) = Db::create(Shape::Rich).await else {
        return;
    };
    let project = Uuid::from_u128(0x9055);
    let id = Uuid::from_u128(0x9055_0001);
    // The server runs (its trigger is installed) but nobody opened the project.
    let server = db.server(options()).await;
    db.sql(&format!(
        "INSERT INTO project_files (id, project_id, file_path, file_name, content, created_by)
         VALUES ('{id}', '{project}', 'notes.md', 'notes.md', 'one\n', '{CREATED_BY}')"
    ))
    .await;
    db.sql(&format!(
        "UPDATE project_files SET content = content || 'two\n' WHERE id = '{id}'"
    ))
    .await;
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    editor.until_text("notes.md", "one\ntwo\n").await;
    // An edit makes the server order events (and take the queue).
    let file = editor.id_at("notes.md").unwrap();
    editor
        .client
        .edit(file, TextOp::from_splice(8, 8, 0, "three\n").unwrap())
        .unwrap();
    editor.flush().await;
    editor.settle().await;
    until_value(&db, "SELECT count(*)::text FROM sync_foreign", "0").await;
    editor.settle().await;
    assert_eq!(editor.text(&file).as_deref(), Some("one\ntwo\nthree\n"));
    until_value(
        &db,
        &format!("SELECT content FROM project_files WHERE id = '{id}'"),
        "one\ntwo\nthree\n",
    )
    .await;
}

/// A SQL write taken into the ops log is in its row too; a server stopped
/// (gracefully) and started again must not apply it twice. (A `kill -9`
/// between taking the write and the next checkpoint is not covered here.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_applies_sql_writes_once() {
    let Some(db) = Db::create(Shape::Rich).await else {
        return;
    };
    let project = Uuid::from_u128(0x9056);
    let mut slow = options();
    slow.checkpoint_after = std::time::Duration::from_millis(500);
    let server = db.server(slow.clone()).await;
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    editor
        .client
        .create(path("notes.md"), Some(b"one\n".to_vec()));
    editor.settle().await;
    let file = editor.id_at("notes.md").unwrap();
    until_value(
        &db,
        &format!("SELECT content FROM project_files WHERE id = '{file}'"),
        "one\n",
    )
    .await;
    let mut never = options();
    never.checkpoint_after = std::time::Duration::from_secs(3600);
    drop(editor);
    drop(server);
    let server = db.server(never.clone()).await;
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    editor.until_text("notes.md", "one\n").await;
    db.sql(&format!(
        "UPDATE project_files SET content = content || 'two\n' WHERE id = '{file}'"
    ))
    .await;
    editor.until_text("notes.md", "one\ntwo\n").await;
    until_value(&db, "SELECT count(*)::text FROM sync_foreign", "0").await;
    drop(editor);
    drop(server);
    let server = db.server(never).await;
    let mut editor = Peer::join(server.addr, project, "editor", 2).await;
    editor.until_text("notes.md", "one\ntwo\n").await;
    // Nothing more arrives later (a second application would).
    for _ in 0..5 {
        editor.step(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(editor.text(&file).as_deref(), Some("one\ntwo\n"));
}

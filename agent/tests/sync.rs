//! The container agent against the real server over real sockets: it
//! hydrates critical files first, follows live edits from an editor,
//! repairs local drift, resumes after a restart and after the server
//! restarts.
//!
//! Each scenario runs twice, on SQLite and on PostgreSQL (a scratch
//! database in the cluster of `scripts/pg.sh`, `VELOCITY_SYNC_PG_URL`;
//! skipped with a printed reason without it, except under `CI=true`, where
//! it fails).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

mod agent_support;
use velocity_sync_tools::testkit as support;

use std::os::unix::fs::PermissionsExt;

use agent_support::{
    Backend, Hosted, Running, ServerProcess, agent_options, project_files, until_disk,
};
use support::{Peer, path, temp_dir};
use uuid::Uuid;
use velocity_sync::TextOp;
use velocity_sync_tools::template::VITE_REACT;

/// Local-only paths the agent must leave alone.
const SKIP: &[&str] = &["node_modules/", "dist/"];

/// Inserts `text` at the start of the file `id`.
fn prepend(editor: &mut Peer, id: velocity_sync::FileId, text: &str) {
    let len = editor.text(&id).unwrap().chars().count();
    editor
        .client
        .edit(id, TextOp::from_splice(len, 0, 0, text).unwrap())
        .unwrap();
}

async fn editor_with_template(addr: std::net::SocketAddr, project: Uuid) -> Peer {
    let mut editor = Peer::join(addr, project, "editor", 1).await;
    for (name, text) in VITE_REACT {
        editor
            .client
            .create(path(name), Some(text.as_bytes().to_vec()));
    }
    editor
        .client
        .create(path("public/logo.bin"), Some(vec![0, 159, 146, 150, 255]));
    editor.settle().await;
    editor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hydrates_critical_first_then_follows_live_edits_and_repairs_drift() {
    hydrate_follow_and_repair(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hydrates_and_follows_live_edits_on_postgres() {
    hydrate_follow_and_repair(Backend::Postgres).await;
}

async fn hydrate_follow_and_repair(backend: Backend) {
    let Some(server) = Hosted::start("agent-sync", backend).await else {
        return;
    };
    let project = Uuid::from_u128(0xA1);
    let mut editor = editor_with_template(server.addr, project).await;
    let root = temp_dir("agent-root");
    // Things the agent does not own, already there.
    std::fs::create_dir_all(root.join("node_modules/react")).unwrap();
    std::fs::write(root.join("node_modules/react/index.js"), "local").unwrap();
    std::fs::create_dir_all(root.join("dist")).unwrap();
    std::fs::write(root.join("dist/app.js"), "built").unwrap();

    let agent = Running::start(agent_options(&server.url(), project, &root));
    agent.until_event("Synced").await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    // Critical files first: the first file written is an install file, and
    // every config comes before any source.
    let events = agent.events();
    let writes: Vec<String> = events
        .iter()
        .filter(|e| e.starts_with("Applied"))
        .flat_map(|e| {
            e.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        writes.first().map(String::as_str),
        Some("package.json"),
        "{events:#?}"
    );
    let index_html = writes.iter().position(|p| p == "index.html").unwrap();
    let first_source = writes.iter().position(|p| p.starts_with("src/")).unwrap();
    assert!(index_html < first_source, "{writes:?}");
    assert_eq!(
        std::fs::read(root.join("node_modules/react/index.js")).unwrap(),
        b"local"
    );
    assert_eq!(std::fs::read(root.join("dist/app.js")).unwrap(), b"built");

    // Live edits, keystroke by keystroke, reach the disk.
    let app = editor.id_at("src/App.tsx").unwrap();
    for ch in ["/", "/", " ", "h", "i"] {
        prepend(&mut editor, app, ch);
        editor.flush().await;
    }
    editor.settle().await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    assert!(
        std::fs::read_to_string(root.join("src/App.tsx"))
            .unwrap()
            .starts_with("ih //")
    );

    // Tree changes: create, a folder rename, a delete.
    editor.client.create(
        path("src/components/Button.tsx"),
        Some(b"export {}\n".to_vec()),
    );
    editor.settle().await;
    editor
        .client
        .rename_directory(path("src/components"), path("src/ui"));
    editor.client.delete(editor.id_at("README.md").unwrap());
    editor.settle().await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    assert!(
        !root.join("src/components").exists(),
        "emptied directory removed"
    );

    // One-way replica: a local edit and a local delete are put back and reported.
    std::fs::write(root.join("src/main.tsx"), "tampered").unwrap();
    std::fs::remove_file(root.join("index.html")).unwrap();
    std::fs::write(root.join("notes.txt"), "mine").unwrap();
    agent.until_event("src/main.tsx").await;
    let mut expected = project_files(&editor.client);
    expected.insert("notes.txt".into(), b"mine".to_vec());
    until_disk(&root, &expected, SKIP).await;
    let drift = agent.until_event("notes.txt").await;
    assert!(drift.starts_with("Drift"), "untracked reported: {drift}");
    // Let a few more drift ticks pass: nothing more to report.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let events = agent.stop().await;
    // Drift repair reads only what changed since the agent wrote it: never
    // more than the two files touched here, although it runs every 100 ms
    // over the whole project.
    let drifts: Vec<&String> = events.iter().filter(|e| e.starts_with("Drift")).collect();
    assert!(!drifts.is_empty());
    for drift in &drifts {
        let hashed: usize = drift
            .split("hashed: ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(hashed <= 2, "{drift}");
    }
    assert!(
        drifts.iter().any(|d| !d.contains("hashed: 0")),
        "{drifts:#?}"
    );
    assert!(
        drifts.len() <= 3,
        "untracked files are not reported every tick: {drifts:#?}"
    );
    assert!(!events.iter().any(|e| e.contains("Refused")), "{events:#?}");
    // Not executable in the manifest: no execute bit on disk.
    let mode = std::fs::metadata(root.join("package.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_catches_up_through_the_ladder_without_downloading_everything() {
    catch_up_after_a_gap(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_catches_up_after_a_gap_on_postgres() {
    catch_up_after_a_gap(Backend::Postgres).await;
}

async fn catch_up_after_a_gap(backend: Backend) {
    let Some(server) = Hosted::start("agent-restart", backend).await else {
        return;
    };
    let project = Uuid::from_u128(0xA2);
    let mut editor = editor_with_template(server.addr, project).await;
    let root = temp_dir("agent-restart-root");
    let options = agent_options(&server.url(), project, &root);
    let agent = Running::start(options.clone());
    agent.until_event("Synced").await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    // Live text beyond the last checkpoint, then the agent stops.
    let app = editor.id_at("src/App.tsx").unwrap();
    prepend(&mut editor, app, "// one\n");
    editor.settle().await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    agent.stop().await;

    // A gap: the editor keeps working while no agent runs.
    prepend(&mut editor, app, "// two\n");
    editor
        .client
        .create(path("src/new.ts"), Some(b"export const n = 1;\n".to_vec()));
    editor.settle().await;

    let agent = Running::start(options);
    let started = agent.until_event("Started").await;
    assert!(started.contains("resumed: true"), "{started}");
    let synced = agent.until_event("Synced").await;
    // Only the two changed files were written, not the whole project.
    assert!(synced.contains("written: 2"), "{synced}");
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_reconnects_after_the_server_is_killed_and_restarted() {
    reconnect_after_server_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_reconnects_after_a_server_restart_on_postgres() {
    reconnect_after_server_restart(Backend::Postgres).await;
}

async fn reconnect_after_server_restart(backend: Backend) {
    let Some(mut server) = ServerProcess::spawn("agent-server-restart", backend).await else {
        return;
    };
    let project = Uuid::from_u128(0xA3);
    let editor = editor_with_template(server.addr, project).await;
    let root = temp_dir("agent-server-restart-root");
    let agent = Running::start(agent_options(&server.url(), project, &root));
    agent.until_event("Synced").await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;

    server.kill_and_restart();
    agent.until_event("Disconnected").await;
    let mut editor = Peer::rejoin(server.addr, project, "editor", editor.client).await;
    let app = editor.id_at("src/App.tsx").unwrap();
    prepend(&mut editor, app, "// after restart\n");
    editor.settle().await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    let events = agent.stop().await;
    let connects = events.iter().filter(|e| *e == "Connected").count();
    assert!(connects >= 2, "{events:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_over_changed_files_rewrites_only_what_differs() {
    restart_over_changed_files(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_over_changed_files_rewrites_only_what_differs_on_postgres() {
    restart_over_changed_files(Backend::Postgres).await;
}

async fn restart_over_changed_files(backend: Backend) {
    let Some(server) = Hosted::start("agent-resume-snapshot", backend).await else {
        return;
    };
    let project = Uuid::from_u128(0xA4);
    let editor = editor_with_template(server.addr, project).await;
    let root = temp_dir("agent-resume-snapshot-root");
    let options = agent_options(&server.url(), project, &root);
    let agent = Running::start(options.clone());
    agent.until_event("Synced").await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    agent.stop().await;

    // While no agent runs, the disk changes: the state no longer matches,
    // so the next start cannot resume at its event number.
    std::fs::write(root.join("src/main.tsx"), "tampered").unwrap();
    std::fs::remove_file(root.join("index.html")).unwrap();

    let agent = Running::start(options);
    let started = agent.until_event("Started").await;
    assert!(started.contains("resumed: false"), "{started}");
    let synced = agent.until_event("Synced").await;
    // A snapshot, but only the two files that differ are written.
    assert!(synced.contains("written: 2"), "{synced}");
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_state_keeps_the_files_already_there() {
    start_without_state(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_state_keeps_the_files_on_postgres() {
    start_without_state(Backend::Postgres).await;
}

async fn start_without_state(backend: Backend) {
    let Some(server) = Hosted::start("agent-no-state", backend).await else {
        return;
    };
    let project = Uuid::from_u128(0xA5);
    let editor = editor_with_template(server.addr, project).await;
    let root = temp_dir("agent-no-state-root");
    let options = agent_options(&server.url(), project, &root);
    let agent = Running::start(options.clone());
    agent.until_event("Synced").await;
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    agent.stop().await;
    // As after a first hydration killed before its state file was written.
    std::fs::remove_dir_all(root.join(".velocity-sync")).unwrap();
    std::fs::write(root.join("src/main.tsx"), "tampered").unwrap();

    let agent = Running::start(options);
    let started = agent.until_event("Started").await;
    assert!(started.contains("resumed: false"), "{started}");
    assert!(!started.contains("preloaded: 0"), "{started}");
    let synced = agent.until_event("Synced").await;
    assert!(synced.contains("written: 1"), "{synced}");
    until_disk(&root, &project_files(&editor.client), SKIP).await;
    agent.stop().await;
}

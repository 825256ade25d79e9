//! `kill -9` of the agent process at random points during a hydration and
//! during bulk updates (a folder rename of every file, every file
//! rewritten), then a restart: a watcher thread reading every file the
//! whole time never sees a torn one (each is a full old or new content), and
//! the directory converges to the server's manifest (every file hashed).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

mod agent_support;
use velocity_sync_tools::testkit as support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_support::{Backend, Hosted, agent_token, disk_files, project_files, until_disk};
use support::{Peer, path, temp_dir};
use uuid::Uuid;
use velocity_sync::ContentHash;

/// A small deterministic generator (the run is reproducible from its seed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn spawn_agent(server: &str, project: Uuid, root: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_velocity-sync-agent"))
        .args(["--server", server, "--project", &project.to_string()])
        .args(["--token", &agent_token(project)])
        .arg("--root")
        .arg(root)
        .args(["--drift-secs", "0.2"])
        .stdout(Stdio::from(log))
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill9(mut child: Child) {
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not exited: {status}");
}

/// Allowed contents per file name (renames keep names).
type Allowed = Arc<Mutex<HashMap<String, HashSet<ContentHash>>>>;

/// Reads every file under `root` until stopped; returns what it saw that
/// is not a full allowed content, and how many files it read.
fn watch(
    root: PathBuf,
    allowed: Allowed,
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicU64>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut torn = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            for (rel, bytes) in disk_files(&root) {
                reads.fetch_add(1, Ordering::Relaxed);
                let name = rel.rsplit('/').next().unwrap().to_owned();
                let hash = ContentHash::of(&bytes);
                let ok = allowed
                    .lock()
                    .unwrap()
                    .get(&name)
                    .is_some_and(|set| set.contains(&hash));
                if !ok {
                    torn.push(format!("{rel}: {} bytes", bytes.len()));
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        torn
    })
}

fn content(version: &str, k: usize, size: usize) -> Vec<u8> {
    let mut text = format!("// {version} file {k}\n");
    while text.len() < size {
        text.push_str(&format!("export const v{} = \"{version}\";\n", text.len()));
    }
    text.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_hydration_and_bulk_updates_never_tears_a_file_and_converges() {
    let seed = std::env::var("AGENT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_u64);
    let mut rng = Lcg(seed);
    let Some(server) = Hosted::start("agent-crash", Backend::from_env()).await else {
        return;
    };
    let project = Uuid::from_u128(0xC7);
    let allowed: Allowed = Arc::default();

    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    let files = 150;
    let mut sizes = Vec::new();
    for k in 0..files {
        let size = 200 + rng.next(24_000) as usize;
        sizes.push(size);
        let bytes = content("v1", k, size);
        allowed
            .lock()
            .unwrap()
            .entry(format!("f{k}.ts"))
            .or_default()
            .insert(ContentHash::of(&bytes));
        editor
            .client
            .create(path(&format!("src/m{}/f{k}.ts", k % 12)), Some(bytes));
    }
    editor
        .client
        .create(path("package.json"), Some(b"{}".to_vec()));
    allowed
        .lock()
        .unwrap()
        .entry("package.json".into())
        .or_default()
        .insert(ContentHash::of(b"{}"));
    editor.settle().await;

    let root = temp_dir("agent-crash-root");
    let logs = temp_dir("agent-crash-logs");
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let watcher = watch(
        root.clone(),
        Arc::clone(&allowed),
        Arc::clone(&stop),
        Arc::clone(&reads),
    );
    let url = format!("http://{}", server.addr);
    let mut run = 0;
    let mut next_log = || {
        run += 1;
        logs.join(format!("run-{run}.log"))
    };

    // 1. Hydration, killed at random points.
    for _ in 0..4 {
        let child = spawn_agent(&url, project, &root, &next_log());
        tokio::time::sleep(Duration::from_millis(20 + rng.next(300))).await;
        kill9(child);
    }
    let mut child = spawn_agent(&url, project, &root, &next_log());
    until_disk(&root, &project_files(&editor.client), &[]).await;

    // 2. Bulk updates: a folder rename of every file plus every file
    // rewritten, the agent killed while applying them.
    for (round, (from, to)) in [("src", "lib"), ("lib", "src")].into_iter().enumerate() {
        let version = format!("v{}", round + 2);
        for (k, &size) in sizes.iter().enumerate() {
            let bytes = content(&version, k, size);
            allowed
                .lock()
                .unwrap()
                .get_mut(&format!("f{k}.ts"))
                .unwrap()
                .insert(ContentHash::of(&bytes));
        }
        editor.client.rename_directory(path(from), path(to));
        for (k, &size) in sizes.iter().enumerate() {
            let name = format!("{to}/m{}/f{k}.ts", k % 12);
            // The rename is not confirmed yet: address files by id.
            let id = editor
                .client
                .manifest()
                .get(&path(&format!("{from}/m{}/f{k}.ts", k % 12)))
                .and_then(|e| e.id)
                .unwrap_or_else(|| panic!("{name}"));
            editor
                .client
                .replace(id, content(&version, k, size))
                .unwrap();
        }
        editor.flush().await;
        tokio::time::sleep(Duration::from_millis(rng.next(250))).await;
        kill9(child);
        // Once more, during the catch-up of the restarted agent.
        let again = spawn_agent(&url, project, &root, &next_log());
        tokio::time::sleep(Duration::from_millis(30 + rng.next(200))).await;
        kill9(again);
        editor.settle().await;
        child = spawn_agent(&url, project, &root, &next_log());
        until_disk(&root, &project_files(&editor.client), &[]).await;
    }
    kill9(child);

    stop.store(true, Ordering::Relaxed);
    let torn = watcher.join().unwrap();
    assert!(torn.is_empty(), "seed {seed}: torn files seen: {torn:?}");
    assert!(reads.load(Ordering::Relaxed) > 0);
    // Every file hashed against the server's manifest.
    let disk = disk_files(&root);
    let want = project_files(&editor.client);
    assert_eq!(disk.len(), want.len());
    for (rel, bytes) in &want {
        assert_eq!(
            disk.get(rel).map(|b| ContentHash::of(b)),
            Some(ContentHash::of(bytes)),
            "{rel}"
        );
    }
    let journal_finished: usize = (1..=run)
        .filter_map(|i| std::fs::read_to_string(logs.join(format!("run-{i}.log"))).ok())
        .filter(|log| !log.contains("journal-renames-finished=0"))
        .count();
    println!(
        "seed {seed}: {run} agent runs, {} file reads by the watcher, {journal_finished} starts finished a journal",
        reads.load(Ordering::Relaxed)
    );
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&logs);
}

/// The journal's promise, step by step: a multi-file change staged and
/// recorded, then cut after its first rename (as a crash would), is
/// finished by the next start: every file new, removals done, no temp file
/// left, the journal gone.
#[test]
fn a_change_cut_after_its_journal_is_finished_on_the_next_start() {
    use velocity_sync_agent::state::Journal;
    use velocity_sync_agent::{Disk, Ignore, RootWriter, StateDir};

    let root = temp_dir("agent-journal");
    let open = || {
        let writer = RootWriter::open(&root, Ignore::default()).unwrap();
        let state = StateDir::inside(writer.root()).unwrap();
        (writer, state)
    };
    let (writer, state) = open();
    for name in ["a.ts", "b.ts", "c.ts", "old.ts"] {
        writer
            .write_str(&format!("src/{name}"), b"old", false)
            .unwrap();
    }
    let staged: Vec<_> = ["a.ts", "b.ts", "c.ts"]
        .iter()
        .map(|name| {
            writer
                .stage(&path(&format!("src/{name}")), b"new", false, true)
                .unwrap()
        })
        .collect();
    state
        .begin(&Journal {
            renames: staged
                .iter()
                .map(|s| (s.path.to_string(), s.temp.clone()))
                .collect(),
            removes: vec!["src/old.ts".into()],
            prune: Vec::new(),
        })
        .unwrap();
    writer.commit(&staged[0], true).unwrap();
    // The crash: nothing more happens. Before the next start, each file is
    // old or new.
    for name in ["a.ts", "b.ts", "c.ts"] {
        let bytes = std::fs::read(root.join("src").join(name)).unwrap();
        assert!(bytes == b"old" || bytes == b"new");
    }
    drop((writer, state));

    let (writer, state) = open();
    let mut disk = Disk::new(writer, state, true);
    assert_eq!(disk.recover().unwrap(), 3);
    let files = disk_files(&root);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(names, ["src/a.ts", "src/b.ts", "src/c.ts"]);
    assert!(files.values().all(|b| b == b"new"));
    assert!(disk.state_dir().journal().is_none());
    // No temp file is left anywhere.
    assert!(std::fs::read_dir(root.join("src")).unwrap().count() == 3);
    let _ = std::fs::remove_dir_all(&root);
}

/// The watcher can fail: a writer that rewrites a file in place, in two
/// halves, is caught showing a torn file.
#[test]
fn the_watcher_sees_a_file_written_in_place() {
    let root = temp_dir("agent-watch-control");
    let old = vec![b'o'; 64 * 1024];
    let new = vec![b'n'; 64 * 1024];
    std::fs::write(root.join("f.txt"), &old).unwrap();
    let allowed: Allowed = Arc::default();
    allowed.lock().unwrap().insert(
        "f.txt".into(),
        [ContentHash::of(&old), ContentHash::of(&new)].into(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let watcher = watch(root.clone(), allowed, Arc::clone(&stop), Arc::clone(&reads));
    for _ in 0..50 {
        use std::io::Write;
        let mut file = std::fs::File::create(root.join("f.txt")).unwrap();
        file.write_all(&new[..32 * 1024]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        file.write_all(&new[32 * 1024..]).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    let torn = watcher.join().unwrap();
    assert!(
        !torn.is_empty(),
        "{} reads, none torn",
        reads.load(Ordering::Relaxed)
    );
    let _ = std::fs::remove_dir_all(&root);
}

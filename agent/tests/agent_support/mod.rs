//! Shared by the agent tests: a sync server whose store is a parameter
//! ([`Backend`]: SQLite, or a scratch PostgreSQL database), in-process or as a child process that can be killed and
//! restarted on the same port, an in-process agent with its events, and
//! disk checks.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use uuid::Uuid;
use velocity_sync::{FileKind, ProjectClient};
use velocity_sync_agent::{Agent, AgentEvent, AgentOptions, Reporter};
use velocity_sync_server::{Options, Server, SqliteStore};

pub use velocity_sync_tools::testkit::Backend;
use velocity_sync_tools::testkit::pg::{CREATED_BY, Db, Shape};
use velocity_sync_tools::testkit::{SECRET, WAIT, client_token, temp_dir};

/// Where a server keeps its data: a SQLite file in a temp directory, or a
/// scratch PostgreSQL database of its own (dropped with this value).
struct Place {
    dir: PathBuf,
    db: Option<Db>,
}

impl Place {
    /// None when PostgreSQL is not available (the test is skipped, or
    /// fails under `CI=true`: see [`velocity_sync_tools::testkit::pg::url`]).
    async fn new(name: &str, backend: Backend) -> Option<Self> {
        let db = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(Db::create(Shape::Rich).await?),
        };
        Some(Self {
            dir: temp_dir(name),
            db,
        })
    }

    fn sqlite(&self) -> PathBuf {
        self.dir.join("sync.db")
    }

    /// Binds a server on `addr` over this store.
    async fn bind(&self, addr: SocketAddr, options: Options) -> Server {
        match &self.db {
            None => {
                let store = SqliteStore::open(&self.sqlite(), Uuid::nil()).unwrap();
                Server::bind(addr, store, options).await.unwrap()
            }
            Some(db) => Server::bind(addr, db.store().await, options).await.unwrap(),
        }
    }

    /// The server binary's arguments for this store.
    fn args(&self) -> Vec<String> {
        match &self.db {
            None => vec!["--database".into(), self.sqlite().display().to_string()],
            Some(db) => vec![
                "--database".into(),
                db.url.clone(),
                "--created-by".into(),
                CREATED_BY.to_string(),
            ],
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server in this process; stops when dropped.
pub struct Hosted {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    /// Dropped after the server is told to stop.
    _place: Place,
}

impl Hosted {
    /// None when `backend` is PostgreSQL and none is available (skipped).
    pub async fn start(name: &str, backend: Backend) -> Option<Self> {
        let place = Place::new(name, backend).await?;
        let mut options = Options::new(SECRET);
        options.checkpoint_after = std::time::Duration::from_millis(50);
        let server = place.bind("127.0.0.1:0".parse().unwrap(), options).await;
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async {
            let _ = stopped.await;
        }));
        Some(Self {
            addr,
            stop: Some(stop),
            _place: place,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Hosted {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The server binary as a child process; `kill -9` and restart keep the
/// store and the port. Killed when dropped.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Option<Child>,
    /// Dropped after the child is killed.
    place: Place,
}

impl ServerProcess {
    /// None when `backend` is PostgreSQL and none is available (skipped).
    pub async fn spawn(name: &str, backend: Backend) -> Option<Self> {
        let place = Place::new(name, backend).await?;
        let (child, addr) = spawn_server(&place, "127.0.0.1:0".parse().unwrap());
        Some(Self {
            addr,
            child: Some(child),
            place,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `kill -9`, then a new process on the same store and port.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        let (child, addr) = spawn_server(&self.place, self.addr);
        assert_eq!(addr, self.addr);
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill(); // SIGKILL on Unix
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_server(place: &Place, addr: SocketAddr) -> (Child, SocketAddr) {
    let mut child = Command::new(velocity_sync_tools::testkit::binary(
        "velocity-sync-server",
        "velocity-sync-server",
    ))
    .args(["--listen", &addr.to_string(), "--checkpoint-ms", "50"])
    .args(place.args())
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

/// Options for an agent of `project` on `server` writing to `root`, with a
/// fast drift timer.
pub fn agent_options(server: &str, project: Uuid, root: &Path) -> AgentOptions {
    let mut options = AgentOptions::new(server, project, &agent_token(project), root.into());
    options.drift_every = std::time::Duration::from_millis(100);
    options
}

/// An agent running in this process; its events are kept as text.
pub struct Running {
    pub events: Arc<Mutex<Vec<String>>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

impl Running {
    pub fn start(options: AgentOptions) -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let mut agent = Agent::open(options)
            .unwrap()
            .with_reporter(Reporter::quiet())
            .with_observer(move |event: &AgentEvent| {
                sink.lock().unwrap().push(format!("{event:?}"));
            });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            agent
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .map_err(|e| e.to_string())
        });
        Self {
            events,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the agent (it saves its state) and waits for it.
    pub async fn stop(mut self) -> Vec<String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self.events.lock().unwrap().clone()
    }

    pub fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    /// Until an event's text contains `needle`.
    pub async fn until_event(&self, needle: &str) -> String {
        velocity_sync_tools::testkit::eventually(&format!("event containing {needle:?}"), || {
            self.events().into_iter().find(|e| e.contains(needle))
        })
        .await
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Every regular file under `root` (outside the state directory and temp
/// files) with its bytes.
pub fn disk_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().unwrap();
        if name == ".velocity-sync" || name.starts_with(".vs-tmp.") {
            continue;
        }
        if kind.is_dir() {
            walk(root, &path, out);
        } else if kind.is_file()
            && let Ok(bytes) = std::fs::read(&path)
        {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, bytes);
        }
    }
}

/// Every file of `client`'s project with its current content.
pub fn project_files(client: &ProjectClient) -> BTreeMap<String, Vec<u8>> {
    client
        .manifest()
        .entries()
        .into_iter()
        .filter(|e| e.kind != FileKind::Directory)
        .map(|e| {
            let bytes = client.content(&e.id.unwrap()).unwrap();
            (e.path.to_string(), bytes)
        })
        .collect()
}

/// Whether the disk under `root` holds exactly `expected` (paths under
/// `skip` prefixes aside), comparing BLAKE3 hashes of every file.
pub fn disk_matches(root: &Path, expected: &BTreeMap<String, Vec<u8>>, skip: &[&str]) -> bool {
    let keep = |p: &String| !skip.iter().any(|s| p.starts_with(s));
    let disk: BTreeMap<String, velocity_sync::ContentHash> = disk_files(root)
        .into_iter()
        .filter(|(p, _)| keep(p))
        .map(|(p, b)| (p, velocity_sync::ContentHash::of(&b)))
        .collect();
    let want: BTreeMap<String, velocity_sync::ContentHash> = expected
        .iter()
        .filter(|(p, _)| keep(p))
        .map(|(p, b)| (p.clone(), velocity_sync::ContentHash::of(b)))
        .collect();
    disk == want
}

/// Waits until the disk under `root` matches `expected`.
pub async fn until_disk(root: &Path, expected: &BTreeMap<String, Vec<u8>>, skip: &[&str]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !disk_matches(root, expected, skip) {
        if tokio::time::Instant::now() > deadline {
            let disk: Vec<String> = disk_files(root).into_keys().collect();
            let want: Vec<&String> = expected.keys().collect();
            panic!("disk never matched the project\n disk: {disk:?}\n want: {want:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A token for an agent of `project`, bound to a client id of its own.
pub fn agent_token(project: Uuid) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(10_000);
    client_token(project, "agent", NEXT.fetch_add(1, Ordering::Relaxed))
}

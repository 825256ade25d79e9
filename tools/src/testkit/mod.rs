//! What the products' tests share: a server in-process, tokens, scratch
//! directories and PostgreSQL databases ([`pg`]), a `ProjectClient` driven
//! over a real WebSocket ([`Peer`]), raw HTTP GETs, and the path of a
//! workspace binary built beside the test ([`binary`]).
//!
//! Test code: a broken precondition panics with what went wrong.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;
use velocity_sync::protocol::{ProtocolLimits, ServerMessage, decode_server, decode_server_binary};
use velocity_sync::{ClientEvent, FileId, FilePath, ProjectClient};
use velocity_sync_server::auth::{Claims, sign};
use velocity_sync_server::{Options, Server, SqliteStore, Store};

pub mod pg;

pub const SECRET: &[u8] = b"test-secret";
/// Upper bound for any wait; conditions are polled, never slept on.
pub const WAIT: Duration = Duration::from_secs(20);

/// The path of workspace binary `name` (of package `package`), built in
/// the same target directory as the running test. `cargo test --workspace`
/// builds every package's binaries; a test run of one package builds
/// `package` here when its binary is missing.
pub fn binary(package: &str, name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = std::process::Command::new(cargo);
        build.args(["build", "--quiet", "-p", package, "--bin", name]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().unwrap();
        assert!(
            status.success(),
            "cargo build -p {package} --bin {name} failed"
        );
    }
    assert!(
        path.exists(),
        "{} is missing after the build",
        path.display()
    );
    path
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "vs-{name}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A token for `project` and `role` naming no client (HTTP only).
pub fn token(project: Uuid, role: &str) -> String {
    mint(project, role, None)
}

/// A token for `project` and `role` that may say `sync:hello` as `client`.
pub fn client_token(project: Uuid, role: &str, client: u64) -> String {
    mint(project, role, Some(client))
}

fn mint(project: Uuid, role: &str, client_id: Option<u64>) -> String {
    sign(
        &Claims {
            project_id: project.to_string(),
            role: role.to_owned(),
            exp: now_secs() + 3600,
            sub: None,
            sync_role: None,
            client_id,
        },
        SECRET,
    )
    .unwrap()
}

pub fn path(text: &str) -> FilePath {
    FilePath::parse(text).unwrap()
}

/// A server in this process on 127.0.0.1 with an OS-assigned port; stops
/// when dropped.
pub struct InProcess {
    pub addr: SocketAddr,
    pub db: PathBuf,
    stop: Option<oneshot::Sender<()>>,
}

impl InProcess {
    pub async fn start(name: &str, options: Options) -> Self {
        let db = temp_dir(name).join("sync.db");
        let store = SqliteStore::open(&db, Uuid::nil()).unwrap();
        Self::start_on(store, db, options).await
    }

    /// A server over `store`; `db` (a SQLite file, or empty) is removed
    /// with it.
    pub async fn start_on(store: impl Store, db: PathBuf, options: Options) -> Self {
        // Server logs in the test output when RUST_LOG is set.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let server = Server::bind("127.0.0.1:0".parse().unwrap(), store, options)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(server.serve(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            db,
            stop: Some(stop),
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // The database goes with the server (Unix allows removing open files).
        if let Some(dir) = self.db.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn options() -> Options {
    let mut options = Options::new(SECRET);
    options.checkpoint_after = Duration::from_millis(50);
    options
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the project's WebSocket with `token`; Err holds the HTTP status
/// and body of a refusal.
pub async fn open(addr: SocketAddr, project: Uuid, token: &str) -> Result<Ws, (u16, String)> {
    let url = format!("ws://{addr}/projects/{project}/ws?token={token}");
    match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((status, body))
        }
        Err(other) => panic!("connect failed: {other}"),
    }
}

/// A `ProjectClient` over a WebSocket.
pub struct Peer {
    pub client: ProjectClient,
    pub ws: Ws,
    pub rejections: Vec<String>,
    pub errors: Vec<String>,
    /// Binary frames received (only a client that offers them gets any).
    pub binary_frames: usize,
}

impl Peer {
    pub async fn join(addr: SocketAddr, project: Uuid, role: &str, id: u64) -> Self {
        Self::rejoin(addr, project, role, ProjectClient::new(id)).await
    }

    /// Connects an existing client (a reconnect keeps its state).
    pub async fn rejoin(
        addr: SocketAddr,
        project: Uuid,
        role: &str,
        client: ProjectClient,
    ) -> Self {
        let token = client_token(project, role, client.id());
        Self::rejoin_with(addr, project, &token, client).await
    }

    /// Connects `client` with `token`.
    pub async fn rejoin_with(
        addr: SocketAddr,
        project: Uuid,
        token: &str,
        mut client: ProjectClient,
    ) -> Self {
        let ws = open(addr, project, token).await.unwrap();
        client.connect();
        let mut peer = Self {
            client,
            ws,
            rejections: Vec::new(),
            errors: Vec::new(),
            binary_frames: 0,
        };
        peer.until(|c| c.is_synced()).await;
        peer
    }

    pub async fn flush(&mut self) {
        while let Some(message) = self.client.poll_outbound() {
            self.ws
                .send(Message::text(message.to_json()))
                .await
                .unwrap();
        }
    }

    /// Applies one frame from the server; false on timeout.
    pub async fn step(&mut self, wait: Duration) -> bool {
        self.flush().await;
        let frame = match tokio::time::timeout(wait, self.ws.next()).await {
            Ok(Some(frame)) => frame.unwrap(),
            Ok(None) => panic!("server closed the connection"),
            Err(_) => return false,
        };
        // A replay catch-up is one message of any size: the client accepts
        // up to 64 MiB, as tungstenite does.
        let limits = ProtocolLimits {
            max_message_bytes: 64 << 20,
            ..ProtocolLimits::default()
        };
        let decoded = match &frame {
            Message::Text(text) => Some(decode_server(text.as_bytes(), &limits).unwrap()),
            Message::Binary(bytes) => {
                self.binary_frames += 1;
                Some(decode_server_binary(bytes, &limits).unwrap())
            }
            _ => None,
        };
        if let Some(message) = decoded {
            if let ServerMessage::Error(error) = &message {
                self.errors.push(error.code.clone());
            }
            self.client.handle(message);
            while let Some(event) = self.client.poll_event() {
                if let ClientEvent::Rejected { code, .. } = event {
                    self.rejections.push(code);
                }
            }
        }
        self.flush().await;
        true
    }

    /// Runs until `done` holds (checked after every frame), or panics at
    /// [`WAIT`].
    pub async fn until(&mut self, mut done: impl FnMut(&mut ProjectClient) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        self.flush().await;
        while !done(&mut self.client) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "condition not reached within {WAIT:?}");
            self.step(left.min(Duration::from_millis(200))).await;
        }
    }

    /// Until every local change is confirmed.
    pub async fn settle(&mut self) {
        self.until(|c| c.is_synced() && c.is_idle()).await;
    }

    pub fn id_at(&self, name: &str) -> Option<FileId> {
        self.client.manifest().get(&path(name)).and_then(|e| e.id)
    }

    pub fn text(&self, id: &FileId) -> Option<String> {
        self.client
            .content(id)
            .map(|bytes| String::from_utf8(bytes).unwrap())
    }

    /// Until the file at `name` holds `text`.
    pub async fn until_text(&mut self, name: &str, text: &str) {
        let name = path(name);
        self.until(|c| {
            c.manifest()
                .get(&name)
                .and_then(|e| e.id)
                .and_then(|id| c.content(&id))
                .is_some_and(|bytes| bytes == text.as_bytes())
        })
        .await;
    }

    /// Sends a raw text frame and waits for the next `error` code.
    pub async fn raw_expect_error(&mut self, frame: String) -> String {
        let before = self.errors.len();
        self.ws.send(Message::text(frame)).await.unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.errors.len() == before {
            assert!(tokio::time::Instant::now() < deadline, "no error answer");
            self.step(Duration::from_millis(200)).await;
        }
        self.errors[before].clone()
    }
}

/// `GET path` over a fresh connection: status, headers (lower-case), body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line + 2..line + 2 + size]);
        raw = &raw[line + 4 + size..];
    }
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Polls `check` every 20 ms until it returns Some, or panics at [`WAIT`].
pub async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Which store a parametrized test runs its server on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// A fresh database with the rich `project_files`.
    Postgres,
}

impl Backend {
    /// The store the agent tests that are not parametrized run on:
    /// `VELOCITY_SYNC_TEST_STORE=sqlite` (the default) or `postgres`.
    pub fn from_env() -> Self {
        match std::env::var("VELOCITY_SYNC_TEST_STORE").as_deref() {
            Ok("sqlite") | Err(_) => Self::Sqlite,
            Ok("postgres") => Self::Postgres,
            Ok(other) => panic!("unknown VELOCITY_SYNC_TEST_STORE {other:?}"),
        }
    }
}

/// A server on `backend`, with the PostgreSQL database it uses (dropped
/// after the server); None when PostgreSQL is not available (skipped).
pub async fn start(
    backend: Backend,
    name: &str,
    options: Options,
) -> Option<(InProcess, Option<pg::Db>)> {
    match backend {
        Backend::Sqlite => Some((InProcess::start(name, options).await, None)),
        Backend::Postgres => {
            let db = pg::Db::create(pg::Shape::Rich).await?;
            let server = db.server(options).await;
            Some((server, Some(db)))
        }
    }
}

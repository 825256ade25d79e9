//! HTTP and WebSocket endpoints: `GET /projects/{id}/ws` (the protocol),
//! `GET /projects/{id}/manifest`, `GET /blobs/{hash}`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use velocity_sync::ContentHash;
use velocity_sync::ot::ClientId;
use velocity_sync::protocol::{
    ClientMessage, ErrorMessage, ProtocolError, ServerMessage, decode_client,
};

use super::auth::{self, AuthError, Grant};
use super::project::{self, Inbound, Outbox, ProjectSettings};
use super::worker::StoreHandle;

/// Initial read buffer and write threshold of a WebSocket, bytes.
const CONNECTION_BUFFER: usize = 8 << 10;

/// Everything the handlers share.
pub struct AppState {
    pub(crate) secret: Vec<u8>,
    /// The stores (connections), each serving the projects that hash to it.
    pub(crate) stores: Vec<StoreHandle>,
    pub(crate) settings: ProjectSettings,
    pub(crate) projects: std::sync::Mutex<HashMap<Uuid, mpsc::Sender<Inbound>>>,
    pub(crate) next_conn: AtomicU64,
    /// Messages queued per connection before it is dropped as too slow.
    pub(crate) send_queue: usize,
    /// How often a connection is pinged; two intervals without a frame
    /// from the client close it.
    pub(crate) heartbeat: Duration,
}

impl AppState {
    /// The store serving `key` (a project id, a hash).
    fn store_for(&self, key: u128) -> Option<StoreHandle> {
        let index = (key % self.stores.len().max(1) as u128) as usize;
        self.stores.get(index).cloned()
    }

    /// The task of `project`, started when needed.
    fn project(&self, project: Uuid) -> Option<mpsc::Sender<Inbound>> {
        let mut projects = self.projects.lock().ok()?;
        if let Some(tx) = projects.get(&project).filter(|tx| !tx.is_closed()) {
            return Some(tx.clone());
        }
        let store = self.store_for(project.as_u128())?;
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(project::run(project, store, self.settings, rx));
        projects.insert(project, tx.clone());
        Some(tx)
    }
}

/// The router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/projects/{id}/ws", get(ws))
        .route("/projects/{id}/manifest", get(manifest))
        .route("/blobs/{hash}", get(blob))
        .with_state(state)
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A refused request: status, stable code, message (a JSON body).
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.status, self.code, &self.message)
    }
}

fn project_id(text: &str) -> Result<Uuid, Refusal> {
    Uuid::try_parse(text).map_err(|_| Refusal {
        status: StatusCode::NOT_FOUND,
        code: "http.bad_project",
        message: format!(
            "project id {:?} is not a UUID",
            text.chars().take(80).collect::<String>()
        ),
    })
}

fn token<'a>(query: &'a HashMap<String, String>, headers: &'a HeaderMap) -> Option<&'a str> {
    if let Some(token) = query.get("token") {
        return Some(token);
    }
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn authorize(
    state: &AppState,
    project: Uuid,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Grant, Refusal> {
    let result = token(query, headers)
        .ok_or(AuthError::Missing)
        .and_then(|token| auth::verify(token, &state.secret, project));
    result.map_err(|error| {
        tracing::info!(%project, code = error.code(), "token refused");
        Refusal {
            status: StatusCode::from_u16(error.status()).unwrap_or(StatusCode::UNAUTHORIZED),
            code: error.code(),
            message: error.to_string(),
        }
    })
}

async fn manifest(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let project = match project_id(&id) {
        Ok(project) => project,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = authorize(&state, project, &query, &headers) {
        return refusal.into_response();
    }
    let (reply, answer) = oneshot::channel();
    let sent = match state.project(project) {
        Some(tx) => tx.send(Inbound::Manifest(reply)).await.is_ok(),
        None => false,
    };
    match (sent, answer.await) {
        (true, Ok(json)) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        _ => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "http.project_unavailable",
            "the project could not be loaded; see the server log",
        ),
    }
}

async fn blob(State(state): State<Arc<AppState>>, Path(hash): Path<String>) -> Response {
    let Ok(hash) = ContentHash::from_hex(&hash) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "http.bad_hash",
            "not a 64-digit hex BLAKE3 hash",
        );
    };
    let key = u128::from_le_bytes(hash.as_bytes()[..16].try_into().unwrap_or_default());
    let found = match state.store_for(key) {
        Some(store) => store.call(move |s| s.blob(&hash)).await,
        None => Ok(None),
    };
    match found {
        Ok(Some(bytes)) => (
            [
                (header::ETAG, format!("\"{hash}\"")),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".to_owned(),
                ),
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => refuse(
            StatusCode::NOT_FOUND,
            "http.no_blob",
            "no blob with this hash",
        ),
        _ => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "http.storage",
            "storage failed; see the server log",
        ),
    }
}

async fn ws(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let project = match project_id(&id) {
        Ok(project) => project,
        Err(refusal) => return refusal.into_response(),
    };
    let grant = match authorize(&state, project, &query, &headers) {
        Ok(grant) => grant,
        Err(refusal) => return refusal.into_response(),
    };
    // Frames a little over the protocol limit still arrive, so the client
    // hears why; anything larger closes the connection.
    let max = state.settings.config.limits.max_message_bytes + (64 << 10);
    // Buffers start small (tungstenite allocates its 128 KiB read buffer per
    // connection up front: 128 MiB for a thousand idle editors) and grow
    // for the rare large message.
    upgrade
        .read_buffer_size(CONNECTION_BUFFER)
        .write_buffer_size(CONNECTION_BUFFER)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| connection(state, project, grant, socket))
}

fn error_text(error: &ProtocolError) -> Utf8Bytes {
    Utf8Bytes::from(
        ServerMessage::Error(ErrorMessage {
            code: error.code().to_owned(),
            message: error.to_string(),
            seq: None,
            id: None,
        })
        .to_json(),
    )
}

/// Serves one WebSocket: the first message must be `sync:hello`.
async fn connection(state: Arc<AppState>, project: Uuid, grant: Grant, mut socket: WebSocket) {
    let role = grant.role;
    let conn = state.next_conn.fetch_add(1, Ordering::Relaxed);
    let limits = state.settings.config.limits;
    let (tx, mut rx) = Outbox::new(state.send_queue);
    // Handed to the project at join, so a dropped connection sees its
    // queue close.
    let mut tx = Some(tx);
    let mut joined: Option<(ClientId, mpsc::Sender<Inbound>, bool)> = None;
    let mut ping = tokio::time::interval(state.heartbeat);
    ping.tick().await;
    let mut missed = 0u32;
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break };
                missed = 0;
                let bytes: &[u8] = match &frame {
                    Message::Text(text) => text.as_bytes(),
                    Message::Binary(bytes) => bytes,
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                let message = match decode_client(bytes, &limits) {
                    Ok(message) => message,
                    Err(error) => {
                        tracing::debug!(%project, conn, code = error.code(), "message refused");
                        if socket.send(Message::Text(error_text(&error))).await.is_err() {
                            break;
                        }
                        continue;
                    }
                };
                match (&joined, message) {
                    (None, ClientMessage::Hello(hello)) => {
                        let client = hello.client;
                        // The token says which client id this socket is.
                        // (The database's own id, u64::MAX, is above the
                        // 2^53 - 1 any hello may name.)
                        let bound = grant.check_client(client);
                        if let Err(error) = bound {
                            tracing::info!(%project, conn, code = error.code(), "hello refused");
                            let refusal = ServerMessage::Error(ErrorMessage {
                                code: error.code().to_owned(),
                                message: error.to_string(),
                                seq: None,
                                id: None,
                            });
                            let _ = socket.send(Message::Text(Utf8Bytes::from(refusal.to_json()))).await;
                            break;
                        }
                        let Some(mut tx) = tx.take() else { break };
                        let binary = hello.binary && state.settings.config.binary_frames;
                        tx.set_binary(binary);
                        let Some(project_tx) = state.project(project) else { break };
                        let join = Inbound::Join { client, role, conn, tx };
                        let hello = Inbound::Message { client, conn, message: ClientMessage::Hello(hello) };
                        if project_tx.send(join).await.is_err() || project_tx.send(hello).await.is_err() {
                            break;
                        }
                        joined = Some((client, project_tx, binary));
                    }
                    (None, other) => {
                        let error = ServerMessage::Error(ErrorMessage {
                            code: "sync.not_connected".to_owned(),
                            message: format!("the first message must be sync:hello, not {}", other.name()),
                            seq: other.seq(),
                            id: other.file(),
                        });
                        if socket.send(Message::Text(Utf8Bytes::from(error.to_json()))).await.is_err() {
                            break;
                        }
                    }
                    (Some((client, project_tx, binary)), mut message) => {
                        // The frames this connection takes were settled by
                        // its first hello; a later one does not change them.
                        if let ClientMessage::Hello(hello) = &mut message {
                            hello.binary = *binary;
                        }
                        let inbound = Inbound::Message { client: *client, conn, message };
                        if project_tx.send(inbound).await.is_err() {
                            break;
                        }
                    }
                }
            }
            out = rx.recv() => {
                // None: the project dropped this connection (too slow) or stopped.
                let Some(frame) = out else { break };
                if socket.send(frame).await.is_err() {
                    break;
                }
            }
            _ = ping.tick() => {
                missed += 1;
                if missed > 2 {
                    tracing::info!(%project, conn, "no frame for two heartbeats: closed");
                    break;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
        }
    }
    if let Some((client, project_tx, _)) = joined {
        let _ = project_tx.send(Inbound::Leave { client, conn }).await;
    }
    let _ = socket.send(Message::Close(None)).await;
}

//! A [`ProjectClient`] driven over a WebSocket: what the load tool's editors
//! and agents are.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;
use velocity_sync::protocol::{ProtocolLimits, ServerMessage, decode_server};
use velocity_sync::{FileId, FilePath, ProjectClient};

use velocity_sync_server::auth::{Claims, sign};

/// How long a peer waits for a condition before giving up.
const WAIT: Duration = Duration::from_secs(60);

/// Why a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The WebSocket failed or closed.
    #[error("websocket: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The server sent something that does not decode.
    #[error("server message: {0}")]
    Protocol(#[from] velocity_sync::protocol::ProtocolError),
    /// The server answered with an error before the client was in sync.
    #[error("refused by the server: {code}: {message}")]
    Refused {
        /// The error's stable code.
        code: String,
        /// Its message.
        message: String,
    },
    /// A condition was not reached in time.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// Setting the session up failed.
    #[error("{0}")]
    Setup(String),
}

/// A day-long token for `project` as `role`, bound to `client_id`, signed
/// with `secret`.
///
/// # Errors
/// [`PeerError::Setup`] when it cannot be signed.
pub fn token(
    project: Uuid,
    secret: &[u8],
    role: &str,
    client_id: u64,
) -> Result<String, PeerError> {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 24 * 3600;
    let claims = Claims {
        project_id: project.to_string(),
        role: role.to_owned(),
        sync_role: None,
        client_id: Some(client_id),
        exp,
        sub: None,
    };
    sign(&claims, secret).map_err(|e| PeerError::Setup(e.to_string()))
}

/// A client and its connection.
pub struct Peer {
    /// The sans-IO client.
    pub client: ProjectClient,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Peer {
    /// Connects to `project` as `role` with a token signed by `secret`, and
    /// waits until the client is in sync.
    ///
    /// # Errors
    /// [`PeerError`] when the connection is refused or breaks.
    pub async fn join(
        addr: SocketAddr,
        project: Uuid,
        secret: &[u8],
        role: &str,
        client_id: u64,
    ) -> Result<Self, PeerError> {
        let token = token(project, secret, role, client_id)?;
        let url = format!("ws://{addr}/projects/{project}/ws?token={token}");
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        let mut client = ProjectClient::new(client_id);
        client.connect();
        let mut peer = Self { client, ws };
        peer.until(|c| c.is_synced()).await?;
        Ok(peer)
    }

    /// Sends every queued outbound message.
    ///
    /// # Errors
    /// [`PeerError::Socket`].
    pub async fn flush(&mut self) -> Result<(), PeerError> {
        while let Some(message) = self.client.poll_outbound() {
            self.ws.feed(Message::text(message.to_json())).await?;
        }
        self.ws.flush().await?;
        Ok(())
    }

    /// Waits for the next frame and hands it to the client (then sends
    /// what the client answers). Cancel-safe: a frame is either consumed
    /// whole or left in the stream.
    ///
    /// # Errors
    /// [`PeerError`] when the socket fails or a message does not decode.
    pub async fn next_frame(&mut self) -> Result<(), PeerError> {
        let frame = self.ws.next().await.ok_or(PeerError::Closed)??;
        if let Message::Text(text) = frame {
            let limits = ProtocolLimits {
                max_message_bytes: 64 << 20,
                ..ProtocolLimits::default()
            };
            let message = decode_server(text.as_bytes(), &limits)?;
            if let ServerMessage::Error(error) = &message
                && !self.client.is_synced()
            {
                return Err(PeerError::Refused {
                    code: error.code.clone(),
                    message: error.message.clone(),
                });
            }
            self.client.handle(message);
            while self.client.poll_event().is_some() {}
        }
        self.flush().await
    }

    /// Runs until `done` holds, checked after every frame.
    ///
    /// # Errors
    /// [`PeerError::Timeout`] after a minute, or what [`Peer::next_frame`]
    /// returns.
    pub async fn until(
        &mut self,
        mut done: impl FnMut(&mut ProjectClient) -> bool,
    ) -> Result<(), PeerError> {
        let deadline = tokio::time::Instant::now() + WAIT;
        self.flush().await?;
        while !done(&mut self.client) {
            match tokio::time::timeout_at(deadline, self.next_frame()).await {
                Ok(step) => step?,
                Err(_) => return Err(PeerError::Timeout("a session condition")),
            }
        }
        Ok(())
    }

    /// Until every local change is confirmed.
    ///
    /// # Errors
    /// See [`Peer::until`].
    pub async fn settle(&mut self) -> Result<(), PeerError> {
        self.until(|c| c.is_synced() && c.is_idle()).await
    }

    /// The id of the file at `path`, first created with `content` (and
    /// confirmed) when the project lacks it.
    ///
    /// # Errors
    /// See [`Peer::until`].
    pub async fn file_or_create(
        &mut self,
        path: &FilePath,
        content: &[u8],
    ) -> Result<FileId, PeerError> {
        if let Some(id) = self.client.manifest().get(path).and_then(|e| e.id) {
            return Ok(id);
        }
        let id = self.client.create(path.clone(), Some(content.to_vec()));
        self.settle().await?;
        Ok(id)
    }
}

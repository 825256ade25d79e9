//! [`ProjectServer`]: the authority in JavaScript, for Node tests and small
//! deployments. Messages cross as protocol JSON envelopes.

use velocity_sync::protocol::{self, ProtocolLimits};
use velocity_sync::{FileId, ProjectServer as CoreServer, Recipient, Role, ServerConfig};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindError, BindResult, integer, to_json};

/// One project's authority: orders every change, acks and broadcasts.
/// Connect clients, feed it their messages, and deliver what
/// [`poll_outbound`](Self::poll_outbound) returns.
#[wasm_bindgen]
pub struct ProjectServer {
    inner: CoreServer,
    limits: ProtocolLimits,
}

fn role(name: &str) -> BindResult<Role> {
    match name {
        "editor" => Ok(Role::Editor),
        "agent" => Ok(Role::Agent),
        "viewer" => Ok(Role::Viewer),
        other => Err(BindError::bad_argument(
            "role",
            format!("{other:?} is not \"editor\", \"agent\" or \"viewer\""),
        )),
    }
}

impl std::fmt::Debug for ProjectServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectServer")
            .field("event_number", &self.inner.event_number())
            .finish_non_exhaustive()
    }
}

impl Default for ProjectServer {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl ProjectServer {
    /// An empty project with core's default limits and history.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Self {
        let config = ServerConfig::default();
        Self {
            inner: CoreServer::new(config),
            limits: config.limits,
        }
    }

    /// A connection opened for `client` with a role from its token
    /// (`"editor"`, `"agent"`, `"viewer"`).
    ///
    /// # Errors
    /// `wasm.bad_argument`.
    pub fn connect(&mut self, client: f64, role_name: &str) -> BindResult<()> {
        self.inner
            .connect(integer("client", client)?, role(role_name)?);
        Ok(())
    }

    /// The connection of `client` closed.
    ///
    /// # Errors
    /// `wasm.bad_argument`.
    pub fn disconnect(&mut self, client: f64) -> BindResult<()> {
        self.inner.disconnect(integer("client", client)?);
        Ok(())
    }

    /// Handles one message `client` sent (a JSON envelope). A refused
    /// request is answered with an `error` message, not an exception.
    ///
    /// # Errors
    /// `protocol.*` when the message is malformed (nothing reaches the
    /// project), `wasm.bad_argument`.
    pub fn handle(&mut self, client: f64, envelope: &str) -> BindResult<()> {
        let client = integer("client", client)?;
        let message = protocol::decode_client(envelope.as_bytes(), &self.limits)?;
        self.inner.handle(client, message);
        Ok(())
    }

    /// The next message to deliver, as JSON
    /// `{"to":"client"|"allExcept"|"all","client"?:n,"message":envelope}`,
    /// or `undefined`.
    #[wasm_bindgen(js_name = pollOutbound)]
    pub fn poll_outbound(&mut self) -> Option<String> {
        let out = self.inner.poll_outbound()?;
        let message = out.message.to_json();
        Some(match out.to {
            Recipient::Client(c) => {
                format!("{{\"to\":\"client\",\"client\":{c},\"message\":{message}}}")
            }
            Recipient::AllExcept(c) => {
                format!("{{\"to\":\"allExcept\",\"client\":{c},\"message\":{message}}}")
            }
            Recipient::All => format!("{{\"to\":\"all\",\"message\":{message}}}"),
        })
    }

    /// Writes the edited files into the manifest (a new version); returns
    /// the event number, or `undefined` when nothing changed.
    pub fn checkpoint(&mut self) -> Option<f64> {
        self.inner.checkpoint().map(|n| n as f64)
    }

    /// The server's manifest as JSON.
    ///
    /// # Errors
    /// Only if it could not be serialised (not expected).
    pub fn manifest(&self) -> BindResult<String> {
        to_json(self.inner.manifest())
    }

    /// The manifest's id.
    #[wasm_bindgen(js_name = manifestId)]
    pub fn manifest_id(&self) -> String {
        self.inner.manifest().id().to_string()
    }

    /// The last event number.
    #[wasm_bindgen(js_name = eventNumber)]
    pub fn event_number(&self) -> f64 {
        self.inner.event_number() as f64
    }

    /// A file's current bytes (live text included), or `undefined`.
    ///
    /// # Errors
    /// `entry.bad_id`.
    pub fn content(&self, id: &str) -> BindResult<Option<Vec<u8>>> {
        Ok(self.inner.content(&FileId::parse(id)?))
    }
}

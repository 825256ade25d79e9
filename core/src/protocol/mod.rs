//! The wire protocol: JSON messages between the server and its clients.
//!
//! Every message is an envelope `{"v": 1, "event": NAME, "payload": {…}}`,
//! so it travels as is over a WebSocket or as a Supabase Realtime broadcast
//! (whose `event` and `payload` it mirrors). Event names are the platform's
//! own: `file:update`, `file:create`, `file:delete`, `file:rename`,
//! `file:bulk-update`, plus `file:checkpoint`, `sync:hello`, `sync:catch-up`,
//! `ack`, `error`, `resync-required` and `presence`. `PROTOCOL.md` at the
//! repository root documents each with an example.
//!
//! Decoding is direction-specific ([`decode_client`] for what a server
//! receives, [`decode_server`] for what a client receives) and validates
//! everything it can without the project's state: sizes against
//! [`ProtocolLimits`], paths (strict), ids, hashes, client ids, op sizes.
//! Whether an op fits its file is checked when it is applied.
//!
//! Today's editor sends `file:update` as `{path, content}` without `v`: that
//! decodes as [`ClientMessage::LegacyUpdate`], so the rollout can go one
//! participant at a time.
//!
//! ```
//! use velocity_sync::protocol::{decode_client, ClientMessage, ProtocolLimits};
//! let limits = ProtocolLimits::default();
//! let legacy = br#"{"event":"file:update","payload":{"path":"/src/App.tsx","content":"hi"}}"#;
//! match decode_client(legacy, &limits) {
//!     Ok(ClientMessage::LegacyUpdate(update)) => assert_eq!(update.path.as_str(), "src/App.tsx"),
//!     other => panic!("{other:?}"),
//! }
//! let bad = br#"{"v":1,"event":"file:delete","payload":{"id":"nope","seq":1}}"#;
//! assert_eq!(decode_client(bad, &limits).unwrap_err().code(), "protocol.bad_payload");
//! ```

pub(crate) mod bulk;
pub mod frame;
mod message;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use self::bulk::{BulkUpdate, ContentRef, PlannedFile, WireBlob, WireChunk, WireContent};
pub use self::frame::{BINARY_MAGIC, decode_server_binary};
pub use self::message::{
    Ack, Bytes, CatchUp, CheckpointFile, ClientMessage, CreateRequest, Cursor, DeleteRequest, Edit,
    ErrorMessage, Event, EventChange, Hello, LegacyUpdate, PresenceEvent, PresenceRequest,
    RenameRequest, ResyncRequired, Rung, ServerMessage, UpdateRequest,
};
use crate::path::FilePath;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Client ids must be exact JavaScript numbers.
pub const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// Why a message was refused before it reached the project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Not a JSON envelope.
    #[error("message is not a JSON envelope {{v, event, payload}}: {message}")]
    BadJson {
        /// What the parser said.
        message: String,
    },
    /// A binary frame not laid out as [`frame`] documents.
    #[error("binary frame is malformed: {message}")]
    BadFrame {
        /// What is wrong.
        message: String,
    },
    /// A payload that does not fit its event.
    #[error("payload of {event:?} is invalid: {message}")]
    BadPayload {
        /// The event.
        event: String,
        /// What is wrong.
        message: String,
    },
    /// A client id past 2^53 − 1.
    #[error("client id {client} is larger than 2^53 - 1 (JavaScript cannot represent it)")]
    ClientIdTooLarge {
        /// The id.
        client: u64,
    },
    /// File content over [`ProtocolLimits::max_file_bytes`].
    #[error("content of {bytes} bytes exceeds the limit of {limit} per file")]
    ContentTooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A message over [`ProtocolLimits::max_message_bytes`].
    #[error("message of {bytes} bytes exceeds the limit of {limit}")]
    MessageTooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// An op with more components than [`ProtocolLimits::max_op_components`].
    #[error("op has {components} components; the limit per message is {limit}")]
    OpTooLong {
        /// Its components.
        components: usize,
        /// The limit.
        limit: usize,
    },
    /// More content hashes in `have` than [`ProtocolLimits::max_have`].
    #[error("sync:hello lists {count} contents; the limit is {limit}")]
    TooManyHashes {
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An event name this direction does not know.
    #[error("unknown event {event:?}")]
    UnknownEvent {
        /// The name.
        event: String,
    },
    /// A protocol version this crate does not speak.
    #[error("protocol version {version} is not supported (this side speaks {PROTOCOL_VERSION})")]
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
}

impl ProtocolError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadJson { .. } => "protocol.bad_json",
            Self::BadFrame { .. } => "protocol.bad_frame",
            Self::BadPayload { .. } => "protocol.bad_payload",
            Self::ClientIdTooLarge { .. } => "protocol.client_id_too_large",
            Self::ContentTooLarge { .. } => "protocol.content_too_large",
            Self::MessageTooLarge { .. } => "protocol.message_too_large",
            Self::OpTooLong { .. } => "protocol.op_too_long",
            Self::TooManyHashes { .. } => "protocol.too_many_hashes",
            Self::UnknownEvent { .. } => "protocol.unknown_event",
            Self::UnsupportedVersion { .. } => "protocol.unsupported_version",
        }
    }
}

/// Limits checked on every message, each configurable. (Files per project
/// and bytes per project are the manifest's limits:
/// [`ServerConfig::manifest_limits`](crate::ServerConfig::manifest_limits).)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolLimits {
    /// Bytes of one message. Default 1 MiB.
    pub max_message_bytes: usize,
    /// Bytes of one file's content in a message. Default 768 KiB (larger
    /// files travel chunked in hydration batches).
    pub max_file_bytes: u64,
    /// Bytes of one hydration batch. Default 200 KiB (under Supabase
    /// Realtime's 256 KB broadcast limit).
    pub max_batch_bytes: usize,
    /// Bytes of one hydration batch for a client that reads binary frames
    /// (a direct WebSocket, where no broadcast limit applies): fewer and
    /// larger batches, and files up to ~750 KiB whole instead of chunked.
    /// Default 1 MiB.
    #[serde(default = "default_binary_batch_bytes")]
    pub max_binary_batch_bytes: usize,
    /// Components of one op (a keystroke has at most 3). Default 20,000.
    pub max_op_components: usize,
    /// Content hashes in one `sync:hello`. Default 10,000.
    pub max_have: usize,
}

impl Default for ProtocolLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 1 << 20,
            max_file_bytes: 768 << 10,
            max_batch_bytes: 200 << 10,
            max_binary_batch_bytes: default_binary_batch_bytes(),
            max_op_components: 20_000,
            max_have: 10_000,
        }
    }
}

fn default_binary_batch_bytes() -> usize {
    1 << 20
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    v: Option<u32>,
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

fn payload<'a, T: Deserialize<'a>>(event: &str, raw: &'a RawValue) -> Result<T, ProtocolError> {
    serde_json::from_str(raw.get()).map_err(|e| ProtocolError::BadPayload {
        event: event.to_owned(),
        message: e.to_string(),
    })
}

fn envelope<'a>(bytes: &'a [u8], limits: &ProtocolLimits) -> Result<Envelope<'a>, ProtocolError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(ProtocolError::MessageTooLarge {
            bytes: bytes.len(),
            limit: limits.max_message_bytes,
        });
    }
    serde_json::from_slice(bytes).map_err(|e| ProtocolError::BadJson {
        message: e.to_string(),
    })
}

fn check_client(client: u64) -> Result<(), ProtocolError> {
    if client > MAX_CLIENT_ID {
        return Err(ProtocolError::ClientIdTooLarge { client });
    }
    Ok(())
}

fn check_content(bytes: &Bytes, limits: &ProtocolLimits) -> Result<(), ProtocolError> {
    let len = bytes.as_slice().len() as u64;
    if len > limits.max_file_bytes {
        return Err(ProtocolError::ContentTooLarge {
            bytes: len,
            limit: limits.max_file_bytes,
        });
    }
    Ok(())
}

fn check_edit(edit: &Edit, limits: &ProtocolLimits) -> Result<(), ProtocolError> {
    match edit {
        Edit::Op(op) => {
            let components = op.components().len();
            if components > limits.max_op_components {
                return Err(ProtocolError::OpTooLong {
                    components,
                    limit: limits.max_op_components,
                });
            }
            Ok(())
        }
        Edit::Content(bytes) => check_content(bytes, limits),
    }
}

/// Decodes and validates a message a client sent.
///
/// # Errors
/// A [`ProtocolError`] naming what is wrong; nothing reaches the project.
pub fn decode_client(
    bytes: &[u8],
    limits: &ProtocolLimits,
) -> Result<ClientMessage, ProtocolError> {
    let envelope = envelope(bytes, limits)?;
    let event = envelope.event.as_ref();
    let raw = envelope.payload;
    match envelope.v {
        None if event == "file:update" => {
            #[derive(Deserialize)]
            struct Legacy {
                path: String,
                content: String,
            }
            let legacy: Legacy = payload(event, raw)?;
            let path =
                FilePath::parse_lenient(&legacy.path).map_err(|e| ProtocolError::BadPayload {
                    event: event.to_owned(),
                    message: e.to_string(),
                })?;
            let bytes = legacy.content.len() as u64;
            if bytes > limits.max_file_bytes {
                return Err(ProtocolError::ContentTooLarge {
                    bytes,
                    limit: limits.max_file_bytes,
                });
            }
            let content = legacy.content;
            return Ok(ClientMessage::LegacyUpdate(LegacyUpdate { path, content }));
        }
        None => return Err(ProtocolError::UnsupportedVersion { version: 0 }),
        Some(PROTOCOL_VERSION) => {}
        Some(version) => return Err(ProtocolError::UnsupportedVersion { version }),
    }
    let message = match event {
        "sync:hello" => {
            let hello: Hello = payload(event, raw)?;
            check_client(hello.client)?;
            if hello.have.len() > limits.max_have {
                return Err(ProtocolError::TooManyHashes {
                    count: hello.have.len(),
                    limit: limits.max_have,
                });
            }
            ClientMessage::Hello(hello)
        }
        "file:update" => {
            let update: UpdateRequest = payload(event, raw)?;
            check_edit(&update.edit, limits)?;
            ClientMessage::Update(update)
        }
        "file:create" => {
            let create: CreateRequest = payload(event, raw)?;
            if let Some(content) = &create.content {
                check_content(content, limits)?;
            }
            ClientMessage::Create(create)
        }
        "file:delete" => ClientMessage::Delete(payload(event, raw)?),
        "file:rename" => {
            let rename: RenameRequest = payload(event, raw)?;
            if rename.id.is_some() == rename.directory.is_some() {
                return Err(ProtocolError::BadPayload {
                    event: event.to_owned(),
                    message: "file:rename needs exactly one of \"id\" or \"directory\"".to_owned(),
                });
            }
            ClientMessage::Rename(rename)
        }
        "presence" => ClientMessage::Presence(payload(event, raw)?),
        _ => {
            return Err(ProtocolError::UnknownEvent {
                event: event.to_owned(),
            });
        }
    };
    Ok(message)
}

/// Decodes and validates a message a server sent as text (a binary frame
/// goes to [`decode_server_binary`]).
///
/// # Errors
/// A [`ProtocolError`] naming what is wrong.
pub fn decode_server(
    bytes: &[u8],
    limits: &ProtocolLimits,
) -> Result<ServerMessage, ProtocolError> {
    decode_server_message(bytes, limits, false)
}

/// [`decode_server`], with `"attached"` contents allowed when the envelope
/// came in a binary frame (which then resolves them).
fn decode_server_message(
    bytes: &[u8],
    limits: &ProtocolLimits,
    in_frame: bool,
) -> Result<ServerMessage, ProtocolError> {
    let envelope = envelope(bytes, limits)?;
    match envelope.v {
        Some(PROTOCOL_VERSION) => {}
        other => {
            return Err(ProtocolError::UnsupportedVersion {
                version: other.unwrap_or(0),
            });
        }
    }
    let event = envelope.event.as_ref();
    let raw = envelope.payload;
    let message = match event {
        "file:update" | "file:create" | "file:delete" | "file:rename" | "file:checkpoint" => {
            let parsed: Event = payload(event, raw)?;
            if let EventChange::Text { op, .. } = &parsed.change {
                check_edit(&Edit::Op(op.clone()), limits)?;
            }
            ServerMessage::Event(parsed)
        }
        "ack" => ServerMessage::Ack(payload(event, raw)?),
        "error" => ServerMessage::Error(payload(event, raw)?),
        "sync:catch-up" => ServerMessage::CatchUp(payload(event, raw)?),
        "file:bulk-update" => {
            let update: BulkUpdate = payload(event, raw)?;
            if !in_frame && frame::names_attachments(&update) {
                return Err(ProtocolError::BadPayload {
                    event: event.to_owned(),
                    message: "\"attached\" content outside a binary frame".to_owned(),
                });
            }
            ServerMessage::BulkUpdate(update)
        }
        "presence" => ServerMessage::Presence(payload(event, raw)?),
        "resync-required" => ServerMessage::ResyncRequired(payload(event, raw)?),
        _ => {
            return Err(ProtocolError::UnknownEvent {
                event: event.to_owned(),
            });
        }
    };
    Ok(message)
}

fn wrap(event: &str, payload: &impl Serialize) -> String {
    let body = serde_json::to_string(payload).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(body.len() + event.len() + 32);
    out.push_str("{\"v\":1,\"event\":\"");
    out.push_str(event);
    out.push_str("\",\"payload\":");
    out.push_str(&body);
    out.push('}');
    out
}

impl ClientMessage {
    /// The request's sequence number, for requests that carry one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Update(m) => Some(m.seq),
            Self::Create(m) => Some(m.seq),
            Self::Delete(m) => Some(m.seq),
            Self::Rename(m) => Some(m.seq),
            Self::Hello(_) | Self::LegacyUpdate(_) | Self::Presence(_) => None,
        }
    }

    /// The file the request is about, if it names one by id.
    pub fn file(&self) -> Option<crate::entry::FileId> {
        match self {
            Self::Update(m) => Some(m.id),
            Self::Create(m) => Some(m.id),
            Self::Delete(m) => Some(m.id),
            Self::Rename(m) => m.id,
            Self::Presence(m) => Some(m.id),
            Self::Hello(_) | Self::LegacyUpdate(_) => None,
        }
    }

    /// The event name it travels under.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hello(_) => "sync:hello",
            Self::Update(_) | Self::LegacyUpdate(_) => "file:update",
            Self::Create(_) => "file:create",
            Self::Delete(_) => "file:delete",
            Self::Rename(_) => "file:rename",
            Self::Presence(_) => "presence",
        }
    }

    /// The JSON envelope (legacy updates in today's shape, without `v`).
    pub fn to_json(&self) -> String {
        let name = self.name();
        match self {
            Self::Hello(m) => wrap(name, m),
            Self::Update(m) => wrap(name, m),
            Self::LegacyUpdate(m) => {
                let body = serde_json::to_string(m).unwrap_or_else(|_| "null".to_owned());
                format!("{{\"event\":\"file:update\",\"payload\":{body}}}")
            }
            Self::Create(m) => wrap(name, m),
            Self::Delete(m) => wrap(name, m),
            Self::Rename(m) => wrap(name, m),
            Self::Presence(m) => wrap(name, m),
        }
    }
}

impl ServerMessage {
    /// The event name it travels under.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Event(event) => event.name(),
            Self::Ack(_) => "ack",
            Self::Error(_) => "error",
            Self::CatchUp(_) => "sync:catch-up",
            Self::BulkUpdate(_) => "file:bulk-update",
            Self::Presence(_) => "presence",
            Self::ResyncRequired(_) => "resync-required",
        }
    }

    /// The JSON envelope.
    pub fn to_json(&self) -> String {
        let name = self.name();
        match self {
            Self::Event(m) => wrap(name, m),
            Self::Ack(m) => wrap(name, m),
            Self::Error(m) => wrap(name, m),
            Self::CatchUp(m) => wrap(name, m),
            Self::BulkUpdate(m) => wrap(name, m),
            Self::Presence(m) => wrap(name, m),
            Self::ResyncRequired(m) => wrap(name, m),
        }
    }
}

#[cfg(test)]
mod tests;

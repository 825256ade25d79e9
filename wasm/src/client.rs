//! [`ProjectClient`]: core's editor-side state machine for JavaScript.
//! Messages cross as protocol JSON envelopes, events as JSON arrays.

use velocity_sync::ProjectClient as CoreClient;
use velocity_sync::ot::Utf16Change;
use velocity_sync::protocol::{self, Cursor, ProtocolLimits};
use velocity_sync::{FileId, FilePath, TextOp};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::error::{BindError, BindResult, from_json, index, integer, to_json};
use crate::events::event_json;
use crate::ops::op;
use crate::undo::UndoManager;

/// One participant's project: the confirmed manifest, the contents, and the
/// local text of every file being edited. Feed it the server's messages
/// ([`handle`](Self::handle)), make local changes, then send what
/// [`poll_outbound`](Self::poll_outbound) returns and show what
/// [`poll_events`](Self::poll_events) returns.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ProjectClient {
    inner: CoreClient,
    limits: ProtocolLimits,
    /// Files by handle ([`file_handle`](Self::file_handle)), so a keystroke
    /// names its file with a number instead of a 36-character id.
    handles: Vec<FileId>,
    /// The op of the last splice, for [`last_edit`](Self::last_edit).
    last_edit: Option<TextOp>,
}

fn file_id(id: &str) -> BindResult<FileId> {
    Ok(FileId::parse(id)?)
}

#[wasm_bindgen]
impl ProjectClient {
    /// A client with nothing yet; `id` tells connections apart (a safe
    /// integer). Call [`connect`](Self::connect) when the connection opens.
    ///
    /// # Errors
    /// `wasm.bad_argument` when `id` is not a safe integer.
    #[wasm_bindgen(constructor)]
    pub fn new(id: f64) -> BindResult<Self> {
        Ok(Self {
            inner: CoreClient::new(integer("id", id)?),
            limits: ProtocolLimits::default(),
            handles: Vec::new(),
            last_edit: None,
        })
    }

    /// This client's id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> f64 {
        self.inner.id() as f64
    }

    /// A connection opened: queues `sync:hello` (unconfirmed changes are
    /// sent again after the catch-up).
    pub fn connect(&mut self) {
        self.inner.connect();
    }

    /// Applies one server message (a JSON envelope `{"v":1,"event",…}`).
    ///
    /// # Errors
    /// `protocol.*` when the message is malformed (nothing is applied).
    pub fn handle(&mut self, envelope: &str) -> BindResult<()> {
        let message = protocol::decode_server(envelope.as_bytes(), &self.limits)?;
        self.inner.handle(message);
        Ok(())
    }

    /// The next message to send, as a JSON envelope, or `undefined`.
    #[wasm_bindgen(js_name = pollOutbound)]
    pub fn poll_outbound(&mut self) -> Option<String> {
        self.inner.poll_outbound().map(|message| message.to_json())
    }

    /// Everything applied since the last call, as a JSON array of events
    /// tagged by `type` (`created`, `edited`, `replaced`, `renamed`,
    /// `removed`, `hydrating`, `synced`, `rejected`, `presence`).
    ///
    /// # Errors
    /// Only if an event could not be serialised (not expected).
    #[wasm_bindgen(js_name = pollEvents)]
    pub fn poll_events(&mut self) -> BindResult<String> {
        let mut out = String::from("[");
        while let Some(event) = self.inner.poll_event() {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&event_json(&event)?);
        }
        out.push(']');
        Ok(out)
    }

    /// Applies a local edit (ot.js JSON, in characters of the local text).
    ///
    /// # Errors
    /// `entry.bad_id`, `client.unknown_file`, `client.not_text`,
    /// `ot.invalid_json`, `ot.length_mismatch`.
    pub fn edit(&mut self, id: &str, op_json: &str) -> BindResult<()> {
        Ok(self.inner.edit(file_id(id)?, op(op_json)?)?)
    }

    /// Applies editor changes (`[{offset, deleted, text}]`, UTF-16 offsets
    /// into the current local text) and returns the op made, in characters.
    ///
    /// # Errors
    /// As [`edit`](Self::edit), plus `ot.out_of_range`,
    /// `ot.overlapping_changes`, `ot.split_surrogate`, `wasm.bad_argument`.
    #[wasm_bindgen(js_name = editUtf16)]
    pub fn edit_utf16(&mut self, id: &str, changes_json: &str) -> BindResult<String> {
        let id = file_id(id)?;
        let changes: Vec<Utf16Change> = from_json("changes", changes_json)?;
        Ok(self.inner.edit_utf16(id, &changes)?.op.to_json())
    }

    /// A number naming file `id` in [`splice_utf16`](Self::splice_utf16)
    /// (the same number for the same id, for this client's lifetime).
    ///
    /// # Errors
    /// `entry.bad_id`.
    #[wasm_bindgen(js_name = fileHandle)]
    pub fn file_handle(&mut self, id: &str) -> BindResult<f64> {
        let id = file_id(id)?;
        let at = match self.handles.iter().position(|known| *known == id) {
            Some(at) => at,
            None => {
                self.handles.push(id);
                self.handles.len() - 1
            }
        };
        Ok(at as f64)
    }

    /// The editor's one-change path: at UTF-16 offset `offset` of the local
    /// text of file `handle`, `deleted` code units replaced by `inserted`;
    /// the edit's inverse is recorded in `undo`. Only numbers and the typed
    /// text cross (no op JSON either way, no whole text); the op made is
    /// [`last_edit`](Self::last_edit), read only when wanted. Same result as
    /// [`edit_utf16`](Self::edit_utf16) with one change followed by
    /// `UndoManager.record`.
    ///
    /// # Errors
    /// As [`edit_utf16`](Self::edit_utf16); `wasm.bad_argument` for an
    /// unknown handle. Nothing changes then.
    #[wasm_bindgen(js_name = spliceUtf16)]
    pub fn splice_utf16(
        &mut self,
        handle: f64,
        offset: f64,
        deleted: f64,
        inserted: &str,
        undo: &mut UndoManager,
    ) -> BindResult<()> {
        let at = index("handle", handle)?;
        let id = *self
            .handles
            .get(at)
            .ok_or_else(|| BindError::bad_argument("handle", format!("{at} names no file")))?;
        let change = Utf16Change::new(
            index("offset", offset)?,
            index("deleted", deleted)?,
            inserted,
        );
        let edit = self.inner.edit_utf16(id, std::slice::from_ref(&change))?;
        undo.inner.record_inverse(edit.inverse);
        self.last_edit = Some(edit.op);
        Ok(())
    }

    /// The op (ot.js JSON, in characters) the last splice made, or
    /// `undefined` before the first.
    #[wasm_bindgen(js_name = lastEdit)]
    pub fn last_edit(&self) -> Option<String> {
        self.last_edit.as_ref().map(TextOp::to_json)
    }

    /// Replaces a file's whole content (a text file gets a diff op).
    ///
    /// # Errors
    /// `entry.bad_id`, `client.unknown_file`.
    pub fn replace(&mut self, id: &str, content: Vec<u8>) -> BindResult<()> {
        Ok(self.inner.replace(file_id(id)?, content)?)
    }

    /// Creates a file (`content` given) or a directory (`undefined`) and
    /// returns its new id.
    ///
    /// # Errors
    /// `path.*`.
    pub fn create(&mut self, path: &str, content: Option<Vec<u8>>) -> BindResult<String> {
        Ok(self
            .inner
            .create(FilePath::parse(path)?, content)
            .to_string())
    }

    /// Deletes a file.
    ///
    /// # Errors
    /// `entry.bad_id`.
    pub fn delete(&mut self, id: &str) -> BindResult<()> {
        self.inner.delete(file_id(id)?);
        Ok(())
    }

    /// Moves a file.
    ///
    /// # Errors
    /// `entry.bad_id`, `path.*`.
    pub fn rename(&mut self, id: &str, to: &str) -> BindResult<()> {
        self.inner.rename(file_id(id)?, FilePath::parse(to)?);
        Ok(())
    }

    /// Moves a directory and everything below it.
    ///
    /// # Errors
    /// `path.*`.
    #[wasm_bindgen(js_name = renameDirectory)]
    pub fn rename_directory(&mut self, from: &str, to: &str) -> BindResult<()> {
        self.inner
            .rename_directory(FilePath::parse(from)?, FilePath::parse(to)?);
        Ok(())
    }

    /// Shares this user's caret (`head`) and selection end (`anchor`), in
    /// characters of the local text; `undefined` for both clears it.
    ///
    /// # Errors
    /// `entry.bad_id`, `client.unknown_file`, `client.not_text`,
    /// `wasm.bad_argument`.
    #[wasm_bindgen(js_name = setCursor)]
    pub fn set_cursor(
        &mut self,
        id: &str,
        head: Option<f64>,
        anchor: Option<f64>,
    ) -> BindResult<()> {
        let cursor = match (head, anchor) {
            (Some(head), anchor) => Some(Cursor {
                head: integer("head", head)?,
                anchor: integer("anchor", anchor.unwrap_or(head))?,
            }),
            (None, _) => None,
        };
        Ok(self.inner.set_cursor(file_id(id)?, cursor)?)
    }

    /// The file's current text (with local edits), or `undefined` when it is
    /// not a text file of the project.
    ///
    /// # Errors
    /// `entry.bad_id`.
    pub fn text(&mut self, id: &str) -> BindResult<Option<String>> {
        Ok(self.inner.text(&file_id(id)?))
    }

    /// The file's current bytes, or `undefined`.
    ///
    /// # Errors
    /// `entry.bad_id`.
    pub fn content(&self, id: &str) -> BindResult<Option<Vec<u8>>> {
        Ok(self.inner.content(&file_id(id)?))
    }

    /// The confirmed manifest as JSON.
    ///
    /// # Errors
    /// Only if it could not be serialised (not expected).
    pub fn manifest(&self) -> BindResult<String> {
        to_json(self.inner.manifest())
    }

    /// The confirmed manifest's id.
    #[wasm_bindgen(js_name = manifestId)]
    pub fn manifest_id(&self) -> String {
        self.inner.manifest().id().to_string()
    }

    /// The last event number applied.
    #[wasm_bindgen(js_name = eventNumber)]
    pub fn event_number(&self) -> f64 {
        self.inner.event_number() as f64
    }

    /// Whether the client holds the server's state (no catch-up running).
    #[wasm_bindgen(js_name = isSynced)]
    pub fn is_synced(&self) -> bool {
        self.inner.is_synced()
    }

    /// Whether nothing local waits for confirmation.
    #[wasm_bindgen(js_name = isIdle)]
    pub fn is_idle(&self) -> bool {
        self.inner.is_idle()
    }

    /// Ids of the text files with unconfirmed edits, as a JSON array.
    ///
    /// # Errors
    /// Only if it could not be serialised (not expected).
    #[wasm_bindgen(js_name = unconfirmedFiles)]
    pub fn unconfirmed_files(&self) -> BindResult<String> {
        to_json(&self.inner.unconfirmed_files())
    }
}

//! The project client: a participant (editor, container agent) of a
//! project. The caller moves messages: what [`vs_client_poll_outbound`]
//! gives goes to the server; what the server sends goes to
//! [`vs_client_handle`]. A [`VsClient`] may be used from any thread, one at
//! a time.

use velocity_sync::protocol::{ProtocolLimits, decode_server};
use velocity_sync::{ClientError, FileId, FilePath, ProjectClient, TextOp};

use crate::buf::{self, VsBuf};
use crate::error::{Failure, VsError, VsStatus, guard, refused};

/// A project client (opaque).
#[derive(Debug)]
pub struct VsClient(ProjectClient);

/// Reads a file id argument (a UUID).
///
/// # Safety
/// As [`buf::bytes`].
unsafe fn id_arg(data: *const u8, len: usize) -> Result<FileId, Failure> {
    // SAFETY: forwarded contract.
    let text = unsafe { buf::text(data, len, "id") }?;
    FileId::parse(text).map_err(refused)
}

/// A new client with id `id` (unique per server, below 2^53); `*out`
/// receives the handle (free with [`vs_client_free`]). It is offline until
/// [`vs_client_connect`].
///
/// # Safety
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_new(
    id: u64,
    out: *mut *mut VsClient,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        unsafe { buf::put_handle(out, VsClient(ProjectClient::new(id)), "out") }
    })
}

/// Releases a client. NULL is fine.
///
/// # Safety
/// `client` is NULL or a client from this library not yet freed and not in
/// use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_free(client: *mut VsClient) {
    // SAFETY: forwarded contract.
    unsafe { buf::free_handle(client) }
}

/// Starts (or restarts after a lost connection) the session: queues the
/// `sync:hello` and re-sends what the server has not confirmed.
///
/// # Safety
/// `client` is a live client; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_connect(
    client: *mut VsClient,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        unsafe { buf::handle_mut(client, "client") }?.0.connect();
        Ok(())
    })
}

/// Hands the client a message from the server (JSON bytes). The message is
/// decoded and validated first; a malformed one changes nothing.
///
/// Errors: `protocol.*` codes, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `client` is a live client; `message` points to `message_len` readable
/// bytes; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_handle(
    client: *mut VsClient,
    message: *const u8,
    message_len: usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (client, raw) = unsafe {
            (
                buf::handle_mut(client, "client")?,
                buf::bytes(message, message_len, "message")?,
            )
        };
        let message = decode_server(raw, &ProtocolLimits::default()).map_err(refused)?;
        client.0.handle(message);
        Ok(())
    })
}

/// The next message to send to the server, as JSON; `*out` is the
/// "nothing" buffer (`data == NULL`) when there is none.
///
/// # Safety
/// `client` is a live client; `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_poll_outbound(
    client: *mut VsClient,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let client = unsafe { buf::handle_mut(client, "client") }?;
        buf::need(out, "out")?;
        let answer = client
            .0
            .poll_outbound()
            .map_or_else(VsBuf::none, |m| VsBuf::from_vec(m.to_json().into_bytes()));
        // SAFETY: as above.
        unsafe { buf::put(out, answer, "out") }
    })
}

/// The next thing the client applied, as JSON `{"event": "created" |
/// "edited" | "replaced" | "renamed" | "removed" | "hydrating" | "synced" |
/// "rejected" | "presence", …}`; `*out` is the "nothing" buffer when there
/// is none.
///
/// # Safety
/// As [`vs_client_poll_outbound`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_poll_event(
    client: *mut VsClient,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let client = unsafe { buf::handle_mut(client, "client") }?;
        buf::need(out, "out")?;
        let answer = client
            .0
            .poll_event()
            .map_or_else(VsBuf::none, |e| VsBuf::from_vec(buf::to_json(&e)));
        // SAFETY: as above.
        unsafe { buf::put(out, answer, "out") }
    })
}

/// Creates a file at `path` (canonical form) with `content` (or, when
/// `content` is NULL, a directory; an empty file is a non-NULL `content`
/// with length 0); `*out` receives the new file's id.
///
/// Errors: `path.*` codes, `VS_STATUS_INVALID_UTF8`, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `client` is a live client; `path`/`content` point to
/// `path_len`/`content_len` readable bytes (`content` may be NULL for a
/// directory); `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_create(
    client: *mut VsClient,
    path: *const u8,
    path_len: usize,
    content: *const u8,
    content_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (client, path) = unsafe {
            (
                buf::handle_mut(client, "client")?,
                buf::bytes(path, path_len, "path")?,
            )
        };
        let content = if content.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { buf::bytes(content, content_len, "content") }?.to_vec())
        };
        let path = FilePath::from_bytes(path).map_err(refused)?;
        buf::need(out, "out")?;
        let id = client.0.create(path, content);
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(id.to_string().into_bytes()), "out") }
    })
}

/// Applies a local text edit (`op`, ot.js JSON, on the current text of
/// file `id`) and queues it for the server.
///
/// Errors: `client.unknown_file`, `client.not_text`, `ot.*` codes (the op
/// does not fit the text), `entry.*` for a malformed id, pointer/UTF-8
/// statuses.
///
/// # Safety
/// `client` is a live client; `id`/`op` point to `id_len`/`op_len` readable
/// bytes; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_edit(
    client: *mut VsClient,
    id: *const u8,
    id_len: usize,
    op: *const u8,
    op_len: usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (client, id, op) = unsafe {
            (
                buf::handle_mut(client, "client")?,
                id_arg(id, id_len)?,
                buf::text(op, op_len, "op")?,
            )
        };
        let op = TextOp::from_json(op).map_err(refused)?;
        client.0.edit(id, op).map_err(refused)
    })
}

/// Replaces the whole content of file `id` and queues the change.
///
/// Errors: `client.unknown_file`, `entry.*`, pointer/UTF-8 statuses.
///
/// # Safety
/// `client` is a live client; `id`/`content` point to `id_len`/`content_len`
/// readable bytes; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_replace(
    client: *mut VsClient,
    id: *const u8,
    id_len: usize,
    content: *const u8,
    content_len: usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (client, id, content) = unsafe {
            (
                buf::handle_mut(client, "client")?,
                id_arg(id, id_len)?,
                buf::bytes(content, content_len, "content")?,
            )
        };
        client.0.replace(id, content.to_vec()).map_err(refused)
    })
}

/// Deletes file `id` and queues the change.
///
/// Errors: `entry.*` for a malformed id, pointer/UTF-8 statuses.
///
/// # Safety
/// `client` is a live client; `id` points to `id_len` readable bytes;
/// `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_delete(
    client: *mut VsClient,
    id: *const u8,
    id_len: usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (client, id) = unsafe { (buf::handle_mut(client, "client")?, id_arg(id, id_len)?) };
        client.0.delete(id);
        Ok(())
    })
}

/// Moves file `id` to `to` (canonical path) and queues the change.
///
/// Errors: `path.*`, `entry.*`, pointer/UTF-8 statuses.
///
/// # Safety
/// `client` is a live client; `id`/`to` point to `id_len`/`to_len` readable
/// bytes; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_rename(
    client: *mut VsClient,
    id: *const u8,
    id_len: usize,
    to: *const u8,
    to_len: usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (client, id, to) = unsafe {
            (
                buf::handle_mut(client, "client")?,
                id_arg(id, id_len)?,
                buf::bytes(to, to_len, "to")?,
            )
        };
        let to = FilePath::from_bytes(to).map_err(refused)?;
        client.0.rename(id, to);
        Ok(())
    })
}

/// The current content of file `id` as this client holds it (local edits
/// included).
///
/// Errors: `client.unknown_file`, `entry.*`, pointer/UTF-8 statuses.
///
/// # Safety
/// `client` is a live client; `id` points to `id_len` readable bytes; `out`
/// is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_content(
    client: *const VsClient,
    id: *const u8,
    id_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (client, id) = unsafe { (buf::handle(client, "client")?, id_arg(id, id_len)?) };
        let content = client
            .0
            .content(&id)
            .ok_or_else(|| refused(ClientError::UnknownFile { id }))?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(content), "out") }
    })
}

/// The client's manifest entries as a JSON array, and whether it is synced
/// (`*synced` = 1 when it holds the server's state with nothing
/// unconfirmed, else 0). Either out-pointer may be NULL to skip it.
///
/// # Safety
/// `client` is a live client; `entries`/`synced` are NULL or writable;
/// `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_client_state(
    client: *const VsClient,
    entries: *mut VsBuf,
    synced: *mut u32,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let client = unsafe { buf::handle(client, "client") }?;
        if !synced.is_null() {
            // SAFETY: as above.
            unsafe {
                buf::put(
                    synced,
                    u32::from(client.0.is_synced() && client.0.is_idle()),
                    "synced",
                )
            }?;
        }
        if !entries.is_null() {
            let json = buf::to_json(&client.0.manifest().entries());
            // SAFETY: as above.
            unsafe { buf::put(entries, VsBuf::from_vec(json), "entries") }?;
        }
        Ok(())
    })
}

//! The project server: the authority that orders every change. The caller
//! moves messages: what a client sent goes to [`vs_server_handle`]; what
//! [`vs_server_poll_outbound`] gives goes to the clients it names. A
//! [`VsServer`] may be used from any thread, one at a time.

use velocity_sync::protocol::decode_client;
use velocity_sync::{FileId, ProjectServer, Recipient, Role, ServerConfig, SyncError};

use crate::buf::{self, VsBuf};
use crate::error::{Failure, VsError, VsStatus, guard, refused};

/// A project server with an in-memory blob store (opaque).
pub struct VsServer {
    server: ProjectServer,
    config: ServerConfig,
}

/// What a connection may do.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum VsRole {
    /// Reads and writes.
    Editor = 0,
    /// Reads (a preview container).
    Agent = 1,
    /// Reads.
    Viewer = 2,
}

/// Who an outbound message is for.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub enum VsRecipient {
    /// Only the client named alongside.
    Client = 0,
    /// Every connected client except the one named alongside.
    AllExcept = 1,
    /// Every connected client.
    All = 2,
}

/// A new server for an empty project with the default limits; `*out`
/// receives the handle (free with [`vs_server_free`]).
///
/// # Safety
/// `out` is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_new(
    out: *mut *mut VsServer,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        let config = ServerConfig::default();
        let server = VsServer {
            server: ProjectServer::new(config),
            config,
        };
        // SAFETY: the caller's contract covers every pointer argument.
        unsafe { buf::put_handle(out, server, "out") }
    })
}

/// Releases a server. NULL is fine.
///
/// # Safety
/// `server` is NULL or a server from this library not yet freed and not in
/// use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_free(server: *mut VsServer) {
    // SAFETY: forwarded contract.
    unsafe { buf::free_handle(server) }
}

/// Registers connection `client` with `role` (a [`VsRole`] value), as after
/// a verified token.
///
/// Errors: `VS_STATUS_INVALID_ARGUMENT` for an unknown role,
/// `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `server` is a live server; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_connect(
    server: *mut VsServer,
    client: u64,
    role: u32,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        let role = match role {
            0 => Role::Editor,
            1 => Role::Agent,
            2 => Role::Viewer,
            other => {
                return Err(Failure::argument(format!(
                    "role {other} is not 0 (editor), 1 (agent) or 2 (viewer)"
                )));
            }
        };
        // SAFETY: the caller's contract covers every pointer argument.
        unsafe { buf::handle_mut(server, "server") }?
            .server
            .connect(client, role);
        Ok(())
    })
}

/// Forgets connection `client` (its presence is withdrawn).
///
/// # Safety
/// `server` is a live server; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_disconnect(
    server: *mut VsServer,
    client: u64,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        unsafe { buf::handle_mut(server, "server") }?
            .server
            .disconnect(client);
        Ok(())
    })
}

/// Hands the server a message connection `client` sent (JSON bytes). It is
/// decoded and validated under the server's limits first; a malformed one
/// changes nothing and comes back as the error (send the client an `error`
/// message, or close the connection). Refusals of a well-formed request
/// (read-only role, stale base, …) are not errors here: they come out of
/// [`vs_server_poll_outbound`] as `error` messages to that client.
///
/// Errors: `protocol.*` codes, `VS_STATUS_NULL_POINTER`.
///
/// # Safety
/// `server` is a live server; `message` points to `message_len` readable
/// bytes; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_handle(
    server: *mut VsServer,
    client: u64,
    message: *const u8,
    message_len: usize,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (server, raw) = unsafe {
            (
                buf::handle_mut(server, "server")?,
                buf::bytes(message, message_len, "message")?,
            )
        };
        let message = decode_client(raw, &server.config.limits).map_err(refused)?;
        server.server.handle(client, message);
        Ok(())
    })
}

/// The next message to send: `*out` receives its JSON (the "nothing"
/// buffer when there is none), `*to` a [`VsRecipient`] value and `*client`
/// the client it names (0 for `VS_RECIPIENT_ALL`).
///
/// # Safety
/// `server` is a live server; `out`, `to`, `client` are writable; `error`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_poll_outbound(
    server: *mut VsServer,
    out: *mut VsBuf,
    to: *mut u32,
    client: *mut u64,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let server = unsafe { buf::handle_mut(server, "server") }?;
        buf::need(out, "out")?;
        buf::need(to, "to")?;
        buf::need(client, "client")?;
        let (message, recipient, named) = match server.server.poll_outbound() {
            None => (VsBuf::none(), VsRecipient::All, 0),
            Some(outbound) => {
                let json = VsBuf::from_vec(outbound.message.to_json().into_bytes());
                match outbound.to {
                    Recipient::Client(c) => (json, VsRecipient::Client, c),
                    Recipient::AllExcept(c) => (json, VsRecipient::AllExcept, c),
                    Recipient::All => (json, VsRecipient::All, 0),
                }
            }
        };
        // SAFETY: as above; all three were checked non-null.
        unsafe {
            buf::put(to, recipient as u32, "to")?;
            buf::put(client, named, "client")?;
            buf::put(out, message, "out")
        }
    })
}

/// The server's content of file `id`.
///
/// Errors: `sync.unknown_file`, `entry.*` for a malformed id,
/// pointer/UTF-8 statuses.
///
/// # Safety
/// `server` is a live server; `id` points to `id_len` readable bytes; `out`
/// is writable; `error` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_content(
    server: *const VsServer,
    id: *const u8,
    id_len: usize,
    out: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let (server, id) =
            unsafe { (buf::handle(server, "server")?, buf::text(id, id_len, "id")?) };
        let id = FileId::parse(id).map_err(refused)?;
        let content = server
            .server
            .content(&id)
            .ok_or_else(|| refused(SyncError::UnknownFile { id }))?;
        // SAFETY: as above.
        unsafe { buf::put(out, VsBuf::from_vec(content), "out") }
    })
}

/// The server's manifest entries as a JSON array and its manifest id (64
/// hex digits). Either out-pointer may be NULL to skip it.
///
/// # Safety
/// `server` is a live server; `entries`/`id` are NULL or writable; `error`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vs_server_state(
    server: *const VsServer,
    entries: *mut VsBuf,
    id: *mut VsBuf,
    error: *mut *mut VsError,
) -> VsStatus {
    guard(error, || {
        // SAFETY: the caller's contract covers every pointer argument.
        let server = unsafe { buf::handle(server, "server") }?;
        let manifest = server.server.manifest();
        if !entries.is_null() {
            // SAFETY: as above.
            unsafe {
                buf::put(
                    entries,
                    VsBuf::from_vec(buf::to_json(&manifest.entries())),
                    "entries",
                )
            }?;
        }
        if !id.is_null() {
            // SAFETY: as above.
            unsafe {
                buf::put(
                    id,
                    VsBuf::from_vec(manifest.id().to_string().into_bytes()),
                    "id",
                )
            }?;
        }
        Ok(())
    })
}

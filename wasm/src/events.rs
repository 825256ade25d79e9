//! [`ClientEvent`]s as JSON objects tagged by `type`, for the store.

use serde::Serialize;
use velocity_sync::hydrate::Progress;
use velocity_sync::protocol::Cursor;
use velocity_sync::{ClientEvent, FileEntry, FileId, FilePath};

use crate::error::{BindResult, to_json};

/// The JSON shape of one [`ClientEvent`] (ops as ot.js JSON, ids as UUID
/// strings, entries as core's `FileEntry`).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum EventJson<'a> {
    Created {
        entry: &'a FileEntry,
    },
    Edited {
        id: &'a FileId,
        path: &'a FilePath,
        op: &'a velocity_sync::TextOp,
    },
    Hydrating {
        progress: &'a Progress,
    },
    Presence {
        client: u64,
        id: &'a FileId,
        cursor: &'a Option<Cursor>,
    },
    Rejected {
        code: &'a str,
        message: &'a str,
        id: &'a Option<FileId>,
    },
    Removed {
        entry: &'a FileEntry,
    },
    Renamed {
        old: &'a FileEntry,
        new: &'a FileEntry,
    },
    Replaced {
        entry: &'a FileEntry,
    },
    Synced {
        n: u64,
    },
}

/// One event as its JSON object.
pub(crate) fn event_json(event: &ClientEvent) -> BindResult<String> {
    let json = match event {
        ClientEvent::Created { entry } => EventJson::Created { entry },
        ClientEvent::Edited { id, path, op } => EventJson::Edited { id, path, op },
        ClientEvent::Hydrating { progress } => EventJson::Hydrating { progress },
        ClientEvent::Presence { client, id, cursor } => EventJson::Presence {
            client: *client,
            id,
            cursor,
        },
        ClientEvent::Rejected { code, message, id } => EventJson::Rejected { code, message, id },
        ClientEvent::Removed { entry } => EventJson::Removed { entry },
        ClientEvent::Renamed { old, new } => EventJson::Renamed { old, new },
        ClientEvent::Replaced { entry } => EventJson::Replaced { entry },
        ClientEvent::Synced { n } => EventJson::Synced { n: *n },
    };
    to_json(&json)
}

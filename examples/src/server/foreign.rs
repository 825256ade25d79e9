//! Writes to `project_files` by code other than this server (the editor's
//! `saveFile`, the orchestrator's template inserts, a SQL console), turned
//! into the protocol message an editor would have sent, so they are ordered,
//! logged and broadcast like any edit.
//!
//! - a new row is a `file:create` with the row's own id;
//! - a deleted row is a `file:delete`;
//! - an updated text row is a three-way merge: the writer's change (from
//!   the content it replaced to the content it wrote) is transformed past
//!   the live edits made since that content was written ([`merge3`]), then
//!   applied as the legacy `file:update` with the merged text. Without the
//!   replaced content (or when it is not an ancestor of the live text) it is
//!   the legacy `file:update` as is: the written text wins.

use velocity_sync::protocol::{Bytes, ClientMessage, CreateRequest, DeleteRequest, LegacyUpdate};
use velocity_sync::{FileKind, ProjectServer, Side, TextOp};

use super::store::ForeignChange;

/// The message that applies `change` to `server`, numbered `seq` (tree
/// requests); `None` when there is nothing to do (the row already matches,
/// a delete of an unknown file) or the change is not supported (a binary
/// or kind change of an existing file, logged).
pub fn message(server: &ProjectServer, change: ForeignChange, seq: u64) -> Option<ClientMessage> {
    let current = server.manifest().get_by_id(&change.file);
    match (change.row, current) {
        (None, Some(_)) => Some(ClientMessage::Delete(DeleteRequest {
            id: change.file,
            seq,
        })),
        (None, None) => None,
        (Some(row), Some(entry)) => {
            if row.entry.hash == entry.hash {
                return None;
            }
            if row.entry.path != entry.path {
                tracing::warn!(file = %change.file, "foreign rename not applied");
            }
            let written = match String::from_utf8(row.content) {
                Ok(text) if entry.kind == FileKind::Text && row.entry.kind == FileKind::Text => {
                    text
                }
                _ => {
                    tracing::warn!(file = %change.file, "foreign binary or kind change not applied");
                    return None;
                }
            };
            let live = server
                .content(&change.file)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_default();
            let content = change
                .base
                .and_then(|base| merge3(&base, &live, &written))
                .unwrap_or(written);
            Some(ClientMessage::LegacyUpdate(LegacyUpdate {
                path: entry.path,
                content,
            }))
        }
        (Some(row), None) => {
            let directory = row.entry.kind == FileKind::Directory;
            Some(ClientMessage::Create(CreateRequest {
                id: change.file,
                path: row.entry.path,
                seq,
                directory,
                executable: false,
                content: (!directory).then(|| Bytes::new(row.content)),
            }))
        }
    }
}

/// Three-way text merge: `theirs` and `ours` both started from `base`;
/// returns `ours` with `theirs`' change transformed into it (our insert
/// first where both insert at one spot). `None` when an op cannot be built.
///
/// ```
/// use velocity_sync_examples::server::foreign::merge3;
/// let merged = merge3("let a = 1;\n", "let a = 1;\n// live\n", "let a = 2;\n");
/// assert_eq!(merged.as_deref(), Some("let a = 2;\n// live\n"));
/// ```
pub fn merge3(base: &str, ours: &str, theirs: &str) -> Option<String> {
    let ours_op = TextOp::diff(base, ours);
    let theirs_op = TextOp::diff(base, theirs);
    let (theirs_after, _) = TextOp::transform(&theirs_op, &ours_op, Side::Right).ok()?;
    theirs_after.apply(ours).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_sides_survive_when_they_touch_different_places() {
        assert_eq!(
            merge3("abc\ndef\n", "abc!\ndef\n", "abc\ndeF\n").unwrap(),
            "abc!\ndeF\n"
        );
    }

    #[test]
    fn without_live_edits_the_written_text_wins() {
        assert_eq!(merge3("one", "one", "two").unwrap(), "two");
        assert_eq!(merge3("one", "one", "").unwrap(), "");
    }

    #[test]
    fn inserts_at_one_spot_keep_ours_first() {
        assert_eq!(merge3("ab", "aXb", "aYb").unwrap(), "aXYb");
    }
}

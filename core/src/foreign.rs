//! Writes to `project_files` by code other than the sync server (the editor's
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
//!   the legacy `file:update` as is: the written text wins;
//! - an updated binary row, or one whose kind changed, is a whole-content
//!   `file:update`;
//! - a row whose path changed is a `file:rename` first.

use crate::TextOp;
use crate::entry::{FileId, FileKind};
use crate::ot::Side;
use crate::protocol::{
    Bytes, ClientMessage, CreateRequest, DeleteRequest, Edit, LegacyUpdate, RenameRequest,
    UpdateRequest,
};
use crate::rows::DecodedRow;
use crate::server::ProjectServer;

/// A `project_files` row written by code other than the server (found by a
/// database trigger), as it was written.
#[derive(Debug)]
pub struct ForeignWrite {
    /// The row's id.
    pub file: FileId,
    /// The row decoded with the table's codec; `None` when it was deleted.
    pub row: Option<DecodedRow>,
    /// The `content` column the write replaced (updates only).
    pub base: Option<String>,
}

/// The messages that apply `change` to `server`, numbered from `seq` (tree
/// requests): a `file:rename` when the row moved, then the content change;
/// none when there is nothing to do (the row already matches, a delete of
/// an unknown file).
pub fn messages(server: &ProjectServer, change: ForeignWrite, seq: u64) -> Vec<ClientMessage> {
    let current = server.manifest().get_by_id(&change.file);
    match (change.row, current) {
        (None, Some(_)) => vec![ClientMessage::Delete(DeleteRequest {
            id: change.file,
            seq,
        })],
        (None, None) => Vec::new(),
        (Some(row), Some(entry)) => {
            let mut out = Vec::new();
            let mut seq = seq;
            // A row moved by SQL: the same move a participant asks for.
            if row.entry.path != entry.path {
                out.push(ClientMessage::Rename(RenameRequest {
                    id: Some(change.file),
                    directory: None,
                    to: row.entry.path.clone(),
                    seq,
                }));
                seq += 1;
            }
            if row.entry.hash == entry.hash {
                return out;
            }
            let text = match String::from_utf8(row.content) {
                Ok(text) if entry.kind == FileKind::Text && row.entry.kind == FileKind::Text => {
                    text
                }
                // Binary content, or a kind change: the whole new content,
                // as a participant replaces a binary file.
                Ok(text) => {
                    out.push(whole_content(change.file, seq, text.into_bytes()));
                    return out;
                }
                Err(not_utf8) => {
                    out.push(whole_content(change.file, seq, not_utf8.into_bytes()));
                    return out;
                }
            };
            let live = server
                .content(&change.file)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .unwrap_or_default();
            let content = change
                .base
                .and_then(|base| merge3(&base, &live, &text))
                .unwrap_or(text);
            out.push(ClientMessage::LegacyUpdate(LegacyUpdate {
                path: row.entry.path,
                content,
            }));
            out
        }
        (Some(row), None) => {
            let directory = row.entry.kind == FileKind::Directory;
            vec![ClientMessage::Create(CreateRequest {
                id: change.file,
                path: row.entry.path,
                seq,
                directory,
                executable: false,
                content: (!directory).then(|| Bytes::new(row.content)),
            })]
        }
    }
}

/// A whole-content replacement of `id` (binary files, kind changes; the
/// server ignores `base` for those).
fn whole_content(id: FileId, seq: u64, bytes: Vec<u8>) -> ClientMessage {
    ClientMessage::Update(UpdateRequest {
        id,
        seq,
        base: 0,
        edit: Edit::Content(Bytes::new(bytes)),
    })
}

/// Three-way text merge: `theirs` and `ours` both started from `base`;
/// returns `ours` with `theirs`' change transformed into it (our insert
/// first where both insert at one spot). `None` when an op cannot be built.
///
/// ```
/// use velocity_sync::foreign::merge3;
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

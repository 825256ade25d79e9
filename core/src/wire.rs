//! Helpers for the hand-shaped `Deserialize` impls of the protocol's tagged
//! and flattened types.
//!
//! serde's derive reads an internally tagged enum (`#[serde(tag = "…")]`), a
//! `#[serde(flatten)]` field or an `untagged` enum by buffering the whole
//! value into its private `Content` tree first and deserializing every
//! field type a second time from that tree. For the browser build that second
//! path costs tens of kilobytes of WebAssembly. The types that need it
//! (`Change`, `Event`, `CatchUp`, `PlannedFile`, `DeltaOp`) instead read a
//! flat private "wire" struct straight from the JSON, tag included, and build
//! the value from it (`#[serde(try_from = "…")]`). Serialization stays
//! derived, so the JSON written is unchanged.

use std::fmt;

/// A field the tag requires was absent; displays like serde's own
/// `missing field` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MissingField(pub(crate) &'static str);

impl fmt::Display for MissingField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing field `{}`", self.0)
    }
}

/// The value of a field the tag requires, or [`MissingField`].
pub(crate) fn required<T>(value: Option<T>, name: &'static str) -> Result<T, MissingField> {
    value.ok_or(MissingField(name))
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use super::*;
    use crate::blob::{BlobStore, MemoryBlobStore};
    use crate::changeset::{Changeset, DeltaOp};
    use crate::entry::FileEntry;
    use crate::manifest::{Change, Manifest};
    use crate::path::FilePath;
    use crate::protocol::PlannedFile;
    use crate::protocol::{CatchUp, Event, EventChange, Rung};

    const H: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    /// Reads `json`, checks it writes back byte for byte, returns the value.
    fn same<T: Serialize + DeserializeOwned + PartialEq + Debug>(json: &str) -> T {
        let value: T = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(serde_json::to_string(&value).ok().as_deref(), Some(json));
        value
    }

    fn error<T: DeserializeOwned + Debug>(json: &str) -> String {
        let err = serde_json::from_str::<T>(json).err();
        err.map(|e| e.to_string()).unwrap_or_default()
    }

    fn entry(name: &str) -> String {
        format!(
            r#"{{"id":"00000000-0000-0000-0000-000000000001","path":"{name}","kind":"text","size":1,"hash":"{H}","revision":2}}"#
        )
    }

    #[test]
    fn missing_field_reads_like_serde() {
        let err = required::<u8>(None, "entry").err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("missing field `entry`"));
        assert_eq!(required(Some(3), "entry"), Ok(3));
    }

    #[test]
    fn every_change_round_trips_with_its_tag_anywhere() {
        let (a, b) = (entry("a.txt"), entry("b.txt"));
        for op in ["added", "removed"] {
            let change: Change = same(&format!(r#"{{"op":"{op}","entry":{a}}}"#));
            let tag_last: Change = same_order(&format!(r#"{{"entry":{a},"op":"{op}"}}"#));
            assert_eq!(change, tag_last);
        }
        for op in ["kind_changed", "modified", "renamed"] {
            let change: Change = same(&format!(r#"{{"op":"{op}","old":{a},"new":{b}}}"#));
            assert_eq!(change.path().as_str(), "b.txt");
        }
        let missing = error::<Change>(&format!(r#"{{"op":"modified","old":{a}}}"#));
        assert!(missing.starts_with("missing field `new`"), "{missing}");
        assert!(error::<Change>(r#"{"op":"moved"}"#).starts_with("unknown variant `moved`"));
        assert!(error::<Change>(&format!(r#"{{"entry":{a}}}"#)).starts_with("missing field `op`"));
    }

    /// Reads a value written with its fields in another order.
    fn same_order<T: DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn every_event_kind_round_trips() {
        let text: Event = same(
            r#"{"n":4,"client":2,"seq":1,"kind":"text","id":"00000000-0000-0000-0000-000000000001","rev":3,"op":[1,"x"]}"#,
        );
        assert!(matches!(text.change, EventChange::Text { rev: 3, .. }));
        let tree: Event = same(&format!(
            r#"{{"n":5,"kind":"tree","manifest":"{H}","changes":[{{"op":"added","entry":{}}}],"contents":[["{H}",{{"text":"x"}}]]}}"#,
            entry("a.txt")
        ));
        assert!(matches!(&tree.change, EventChange::Tree { contents, .. } if contents.len() == 1));
        let checkpoint: Event = same(&format!(
            r#"{{"n":6,"kind":"checkpoint","manifest":"{H}","files":[{{"id":"00000000-0000-0000-0000-000000000001","rev":3,"size":1,"hash":"{H}"}}]}}"#
        ));
        assert!(matches!(checkpoint.change, EventChange::Checkpoint { .. }));
        let reordered: Event = same_order(
            r#"{"op":[1,"x"],"kind":"text","rev":3,"id":"00000000-0000-0000-0000-000000000001","seq":1,"client":2,"n":4}"#,
        );
        assert_eq!(reordered, text);
        assert!(
            error::<Event>(r#"{"n":1,"kind":"text","rev":1,"op":[]}"#)
                .starts_with("missing field `id`")
        );
        assert!(
            error::<Event>(r#"{"n":1,"kind":"tree","changes":[]}"#)
                .starts_with("missing field `manifest`")
        );
        assert!(error::<Event>(r#"{"n":1,"kind":"bulk"}"#).starts_with("unknown variant `bulk`"));
        assert!(error::<Event>(r#"{"kind":"text"}"#).starts_with("missing field `n`"));
    }

    #[test]
    fn every_rung_round_trips() {
        let events: CatchUp = same(
            r#"{"n":45,"mode":"events","events":[{"n":44,"kind":"text","id":"00000000-0000-0000-0000-000000000001","rev":10,"op":[12,"x"]}]}"#,
        );
        assert!(matches!(&events.rung, Rung::Events { events } if events.len() == 1));
        let snapshot: CatchUp = same(&format!(
            r#"{{"n":9,"applied":[["00000000-0000-0000-0000-000000000001",3]],"mode":"snapshot","manifest":"{H}","version":2,"batches":1,"files":3,"bytes":40}}"#
        ));
        assert!(matches!(snapshot.rung, Rung::Snapshot { parent: None, .. }));
        let base = Manifest::new();
        let mut target = base.successor();
        target
            .insert(FileEntry::from_content(
                FilePath::parse("a.txt").unwrap(),
                b"hi",
            ))
            .unwrap();
        let mut store = MemoryBlobStore::default();
        store.insert(b"hi".to_vec());
        let changeset = Changeset::between(&base, &target, &store).unwrap();
        let changeset = String::from_utf8(changeset.to_json()).unwrap();
        let json = format!(r#"{{"n":7,"mode":"changeset","changeset":{changeset},"texts":[]}}"#);
        let rung: CatchUp = same(&json);
        assert!(matches!(rung.rung, Rung::Changeset { .. }));
        assert!(
            error::<CatchUp>(r#"{"n":7,"mode":"changeset","texts":[]}"#)
                .starts_with("missing field `changeset`")
        );
        assert!(
            error::<CatchUp>(r#"{"n":7,"mode":"ladder"}"#).starts_with("unknown variant `ladder`")
        );
    }

    #[test]
    fn planned_files_keep_the_entry_flat() {
        let file: PlannedFile = same(&format!(
            r#"{{"path":"a.txt","kind":"text","size":1,"hash":"{H}","executable":true,"revision":0,"content":"inline"}}"#
        ));
        assert!(file.entry.executable && file.entry.id.is_none());
        assert!(
            error::<PlannedFile>(&format!(
                r#"{{"path":"a.txt","kind":"text","size":1,"hash":"{H}"}}"#
            ))
            .starts_with("missing field `content`")
        );
    }

    #[test]
    fn delta_ops_are_copies_or_inserts() {
        let ops: Vec<DeltaOp> = same(r#"[[0,5],"abc",[7,1]]"#);
        assert_eq!(
            ops,
            vec![
                DeltaOp::Copy(0, 5),
                DeltaOp::Insert("abc".into()),
                DeltaOp::Copy(7, 1)
            ]
        );
        for bad in [
            "[[0]]",
            "[[0,1,2]]",
            "[[-1,2]]",
            "[[0.5,1]]",
            "[5]",
            "[{}]",
            "[null]",
        ] {
            assert!(
                error::<Vec<DeltaOp>>(bad)
                    .starts_with("data did not match any variant of untagged enum DeltaOp"),
                "{bad}: {}",
                error::<Vec<DeltaOp>>(bad)
            );
        }
    }
}

//! The JSON form of `ClientEvent` that the C and WASM bindings hand out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use velocity_sync::{ClientEvent, FileEntry, FileId, FilePath, TextOp};

#[test]
fn client_events_are_tagged_by_event_with_snake_case_names() {
    let id = FileId::parse("0b6f9c1e-3c5a-4a7e-9a55-1f0e2d3c4b5a").unwrap();
    let synced = serde_json::to_value(ClientEvent::Synced { n: 3 }).unwrap();
    assert_eq!(synced, serde_json::json!({"event": "synced", "n": 3}));

    let edited = ClientEvent::Edited {
        id,
        path: FilePath::parse("a.txt").unwrap(),
        op: TextOp::from_splice(2, 1, 0, "x").unwrap(),
    };
    assert_eq!(
        serde_json::to_value(edited).unwrap(),
        serde_json::json!({"event": "edited", "id": id.to_string(), "path": "a.txt", "op": [1, "x", 1]})
    );

    let entry = FileEntry::from_content(FilePath::parse("b.txt").unwrap(), b"hi");
    let created = serde_json::to_value(ClientEvent::Created {
        entry: entry.clone(),
    })
    .unwrap();
    assert_eq!(created["event"], "created");
    assert_eq!(created["entry"], serde_json::to_value(&entry).unwrap());

    let rejected = ClientEvent::Rejected {
        code: "sync.read_only".into(),
        message: "read-only".into(),
        id: None,
    };
    assert_eq!(
        serde_json::to_value(rejected).unwrap(),
        serde_json::json!({"event": "rejected", "code": "sync.read_only", "message": "read-only", "id": null})
    );
}

//! `ProjectClient::edit_utf16`: an editor's change list (UTF-16 offsets, as
//! Monaco gives them) placed in the client's own text, with its inverse for
//! undo; every bad list is a typed error that changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

mod harness;

use harness::net::Net;
use velocity_sync::ot::{UndoManager, Utf16Change};
use velocity_sync::{FilePath, Role, TextOp};

fn path(text: &str) -> FilePath {
    FilePath::parse(text).unwrap()
}

#[test]
fn changes_in_utf16_become_ops_with_their_inverse() {
    let mut net = Net::new(&[Role::Editor, Role::Editor]);
    // UTF-16 units: a=0, 😀=1..3, b=3, \r=4, \n=5, c=6.
    let id = net.clients[0].create(path("a.txt"), Some("a😀b\r\nc".as_bytes().to_vec()));
    net.settle();
    let before = net.clients[1].text(&id).unwrap();
    assert_eq!(before, "a😀b\r\nc");

    // Two changes of one event, given in any order: a prefix and a
    // replacement of `b`.
    let edit = net.clients[1]
        .edit_utf16(
            id,
            &[Utf16Change::new(3, 1, "B"), Utf16Change::new(0, 0, ">")],
        )
        .unwrap();
    let after = net.clients[1].text(&id).unwrap();
    assert_eq!(after, ">a😀B\r\nc");
    assert_eq!(edit.op.apply(&before).unwrap(), after);
    assert_eq!(edit.inverse.apply(&after).unwrap(), before);
    net.settle();
    assert_eq!(net.clients[0].text(&id).unwrap(), after);

    // The inverse serves undo: recorded, undone after a remote edit.
    let mut undo = UndoManager::new(10);
    let edit = net.clients[1]
        .edit_utf16(id, &[Utf16Change::new(8, 0, "!")])
        .unwrap();
    undo.record_inverse(edit.inverse);
    net.settle();
    let len = net.clients[0].text(&id).unwrap().chars().count();
    let remote = TextOp::from_splice(len, 0, 0, "#").unwrap();
    net.clients[0].edit(id, remote.clone()).unwrap();
    net.settle();
    // Client 1 saw that op as it was (nothing of its own was in flight).
    undo.remote(&remote).unwrap();
    let current = net.clients[1].text(&id).unwrap();
    let op = undo.undo(&current).unwrap().unwrap();
    net.clients[1].edit(id, op).unwrap();
    net.settle();
    assert_eq!(net.clients[1].text(&id).unwrap(), "#>a😀B\r\nc");
    net.assert_converged();
}

#[test]
fn a_bad_change_list_is_refused_and_changes_nothing() {
    let mut net = Net::new(&[Role::Editor]);
    let id = net.clients[0].create(path("a.txt"), Some("a😀b".as_bytes().to_vec()));
    let png = net.clients[0].create(path("p.png"), Some(vec![0x89, b'P', b'N', b'G', 0, 1]));
    net.settle();
    let cases = [
        (vec![Utf16Change::new(2, 0, "x")], "ot.split_surrogate"),
        (vec![Utf16Change::new(1, 1, "")], "ot.split_surrogate"),
        (vec![Utf16Change::new(5, 0, "x")], "ot.out_of_range"),
        (vec![Utf16Change::new(3, 2, "")], "ot.out_of_range"),
        (
            vec![Utf16Change::new(0, 1, "x"), Utf16Change::new(0, 1, "y")],
            "ot.overlapping_changes",
        ),
    ];
    for (changes, code) in cases {
        let err = net.clients[0].edit_utf16(id, &changes).unwrap_err();
        assert_eq!(err.code(), code, "{changes:?}");
        assert_eq!(net.clients[0].text(&id).unwrap(), "a😀b");
    }
    assert_eq!(
        net.clients[0]
            .edit_utf16(png, &[Utf16Change::new(0, 0, "x")])
            .unwrap_err()
            .code(),
        "client.not_text"
    );
    // Nothing was sent for any of them.
    assert!(net.clients[0].is_synced());
    assert!(net.clients[0].unconfirmed_requests().is_empty());
}

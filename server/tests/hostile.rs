//! Malformed and oversized messages are answered with `error`, nothing is
//! applied, and the connection keeps working.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use futures_util::{SinkExt, StreamExt};
use support::{Backend, Peer, client_token, open, options, path};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;
use velocity_sync::protocol::{ProtocolLimits, ServerMessage, decode_server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_messages_get_an_error_and_change_nothing() {
    hostile(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_messages_change_nothing_on_postgres() {
    hostile(Backend::Postgres).await;
}

async fn hostile(backend: Backend) {
    let Some((server, _db)) = support::start(backend, "hostile", options()).await else {
        return;
    };
    let project = Uuid::from_u128(0xB1);
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    editor.client.create(path("a.ts"), Some(b"ok".to_vec()));
    editor.settle().await;
    let n = editor.client.event_number();

    let limit = ProtocolLimits::default().max_message_bytes;
    let big = format!(
        r#"{{"v":1,"event":"file:create","payload":{{"id":"{}","path":"big.ts","seq":99,"content":{{"text":"{}"}}}}}}"#,
        Uuid::from_u128(7),
        "x".repeat(limit)
    );
    let cases = [
        ("not json at all".to_owned(), "protocol.bad_json"),
        (
            r#"{"v":1,"event":"file:delete","payload":{"id":"nope","seq":1}}"#.to_owned(),
            "protocol.bad_payload",
        ),
        (
            r#"{"v":1,"event":"file:explode","payload":{}}"#.to_owned(),
            "protocol.unknown_event",
        ),
        (
            r#"{"v":9,"event":"file:delete","payload":{}}"#.to_owned(),
            "protocol.unsupported_version",
        ),
        (big, "protocol.message_too_large"),
    ];
    for (frame, code) in cases {
        assert_eq!(editor.raw_expect_error(frame).await, code);
    }
    // Still connected and working; nothing above took an event number.
    editor.client.create(path("b.ts"), Some(b"fine".to_vec()));
    editor.settle().await;
    assert_eq!(editor.client.event_number(), n + 1);
    assert_eq!(editor.client.manifest().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_message_must_be_hello() {
    hello_first(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_message_must_be_hello_on_postgres() {
    hello_first(Backend::Postgres).await;
}

async fn hello_first(backend: Backend) {
    let Some((server, _db)) = support::start(backend, "hello-first", options()).await else {
        return;
    };
    let project = Uuid::from_u128(0xB2);
    let mut ws = open(server.addr, project, &client_token(project, "editor", 1))
        .await
        .unwrap();
    let create = format!(
        r#"{{"v":1,"event":"file:create","payload":{{"id":"{}","path":"x.ts","seq":1,"content":{{"text":"x"}}}}}}"#,
        Uuid::from_u128(8)
    );
    ws.send(Message::text(create)).await.unwrap();
    let frame = tokio::time::timeout(support::WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Message::Text(text) = frame else {
        panic!("{frame:?}")
    };
    match decode_server(text.as_bytes(), &ProtocolLimits::default()).unwrap() {
        ServerMessage::Error(error) => assert_eq!(error.code, "sync.not_connected"),
        other => panic!("{other:?}"),
    }
    let viewer = Peer::join(server.addr, project, "viewer", 2).await;
    assert!(viewer.client.manifest().is_empty());
}
